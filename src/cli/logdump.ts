/**
 * `npm run logdump -- <file>`: prints a transaction log or a snapshot readably — like Apache's zkTxnLogToolkit.sh
 * (TxnLogToolkit) and zkSnapShotToolkit.sh (SnapshotFormatter) — whether this server or Apache wrote it.
 *
 *   log:       zxid, time, session, cxid, type, path and what the txn does; then how the log ends (end of the
 *              preallocated zeros, a torn tail, or damage with its offset — exit code 1)
 *   snapshot:  sessions, ACL table, every node with its stat, and the digest it is sealed with
 */
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { bufferSource, decodeFileHeader, scanLogFile } from "../storage/log-format.ts";
import { decodeSnapshot, SnapshotFormatError } from "../storage/snapshot-format.ts";
import { decodeTxnEntry } from "../storage/txn-codec.ts";
import { formatEntry, formatSnapshot } from "../storage/inspect.ts";
import { snapshotMagic, txnLogMagic, snapshotFilePrefix } from "../storage/limits.ts";
import { zxidFromName } from "../storage/files.ts";

const usage = "usage: npm run logdump -- <log.N or snapshot.N file>";

async function dumpLog(name: string, bytes: Buffer): Promise<number> {
  const header = decodeFileHeader(bytes);
  console.log(`ZooKeeper Transactional Log File with dbid ${header.dbid} txnlog format version ${header.version}`);
  let count = 0;
  const scan = scanLogFile(bufferSource(name, bytes));
  for (;;) {
    const step = await scan.next();
    if (step.done) {
      const end = step.value;
      switch (end.kind) {
        case "clean":
          console.log(`EOF reached after ${count} txns (offset ${end.offset}${end.offset < bytes.length ? `; ${bytes.length - end.offset} preallocated zero bytes follow` : ""}).`);
          return 0;
        case "torn":
          console.log(`Torn tail after ${count} txns: ${end.reason} at offset ${end.offset}; recovery ends the log here.`);
          return 0;
        case "corrupt":
          console.log(`DAMAGED after ${count} txns, at offset ${end.offset}: ${end.reason}. Recovery stops here; see npm run zk-repair.`);
          return 1;
      }
    }
    for (const { offset, body } of step.value) {
      try {
        const { header: h, txn, digest } = decodeTxnEntry(body);
        console.log(formatEntry(h, txn, digest));
      } catch (error) {
        console.log(`DAMAGED at offset ${offset}: undecodable txn: ${(error as Error).message}`);
        return 1;
      }
      count++;
    }
  }
}

function dumpSnapshot(name: string, bytes: Buffer): number {
  try {
    const snapshot = decodeSnapshot(bytes);
    for (const line of formatSnapshot(name, zxidFromName(name, snapshotFilePrefix), bytes.length, snapshot)) console.log(line);
    return 0;
  } catch (error) {
    if (!(error instanceof SnapshotFormatError)) throw error;
    console.log(`${name}: not a valid snapshot: ${error.message}`);
    return 1;
  }
}

async function main(): Promise<number> {
  const file = process.argv[2];
  if (file === undefined || file === "-h" || file === "--help") {
    console.error(usage);
    return 2;
  }
  if (statSync(file).isDirectory()) {
    console.error(`${file} is a directory; name one log.* or snapshot.* file in it. ${usage}`);
    return 2;
  }
  const bytes = readFileSync(file);
  const magic = bytes.length >= 4 ? bytes.readInt32BE(0) : 0;
  if (magic === txnLogMagic) return dumpLog(basename(file), bytes);
  if (magic === snapshotMagic) return dumpSnapshot(basename(file), bytes);
  console.error(`${file}: neither a transaction log ("ZKLG") nor a snapshot ("ZKSN")`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
