/**
 * `zk-repair`: what to do when recovery refuses a damaged log. ZooKeeper has no repair tool (an operator deletes
 * files by hand, or Apache truncates a follower's log when the leader says TRUNC); this one does what a careful
 * operator would, after saying exactly what it will drop:
 *
 *   - scan the logs recovery would read (from the newest valid snapshot on), with recovery's own rules;
 *   - at the first damage — a CRC mismatch, garbage after the end, an undecodable entry, a hole in the zxids —
 *     truncate that file there (FileTxnLog.truncate: RandomAccessFile.setLength), and delete every later log;
 *   - list every txn that goes with them, as far as the damaged bytes can still be parsed.
 *
 * Planning reads only; `applyRepair` writes.
 */
import type { Disk } from "./disk.ts";
import { logsFrom, sortByZxid, type NamedZxid } from "./files.ts";
import { fileHeaderBytes, logEntryBytesMax, logEntryOverheadBytes, logFilePrefix, snapshotFilePrefix } from "./limits.ts";
import { scanLogFile } from "./log-format.ts";
import { snapshotLooksValid } from "./purge.ts";
import { adler32 } from "./adler32.ts";
import { decodeTxnEntry, hex, type TxnEntry } from "./txn-codec.ts";
import { zxidCounter, zxidEpoch } from "../tree/txn.ts";

/** A txn found in bytes that will be dropped. `damaged`: its checksum fails (or it is the entry after a hole). */
export interface DroppedTxn {
  readonly file: string;
  readonly offset: number;
  readonly entry: TxnEntry | null;
  readonly damaged: boolean;
}

export interface DroppedFile {
  readonly name: string;
  readonly txns: readonly DroppedTxn[];
  /** Bytes that could not be parsed as entries (besides preallocated zeros). */
  readonly unparsedBytes: number;
}

export interface RepairPlan {
  readonly logLocation: string;
  /** The snapshot recovery would start from (null: none valid). */
  readonly snapshot: NamedZxid | null;
  /** The logs recovery would read. */
  readonly files: readonly string[];
  /** The first damage, or null when recovery can read everything. */
  readonly problem: { readonly file: string; readonly offset: number; readonly reason: string } | null;
  /** The last txn that stays (null: none in the logs read). */
  readonly lastGood: { readonly zxid: bigint; readonly file: string } | null;
  /** Cut `file` to `offset` bytes (`offset` ≤ the header: the file goes entirely). */
  readonly truncate: { readonly file: string; readonly offset: number; readonly sizeBefore: number; readonly dropped: DroppedFile } | null;
  readonly remove: readonly DroppedFile[];
}

export async function planRepair(logDisk: Disk, snapDisk: Disk): Promise<RepairPlan> {
  const snapshots = sortByZxid(await snapDisk.list(), snapshotFilePrefix).reverse();
  let snapshot: NamedZxid | null = null;
  for (const candidate of snapshots) {
    if (await snapshotLooksValid(snapDisk, candidate.name)) {
      snapshot = candidate;
      break;
    }
  }
  const from = snapshot?.zxid ?? 0n;
  const allLogs = sortByZxid(await logDisk.list(), logFilePrefix);
  const files = logsFrom(allLogs, from + 1n);
  let lastGood: RepairPlan["lastGood"] = null;
  let lastZxid = from;
  for (let i = 0; i < files.length; i++) {
    const { name } = files[i]!;
    const problem = await firstProblem(logDisk, name, () => lastZxid, (zxid) => {
      if (zxid > lastZxid) {
        lastZxid = zxid;
        lastGood = { zxid, file: name };
      }
    });
    if (problem === null) continue;
    const source = await logDisk.open(name);
    const sizeBefore = source.size;
    await source.close();
    const later: DroppedFile[] = [];
    for (const { name: laterName } of files.slice(i + 1)) later.push(await salvage(logDisk, laterName, fileHeaderBytes));
    return {
      logLocation: logDisk.location,
      snapshot,
      files: files.map((f) => f.name),
      problem: { file: name, ...problem },
      lastGood,
      truncate: { file: name, offset: problem.offset, sizeBefore, dropped: await salvage(logDisk, name, problem.offset, problem.offset) },
      remove: later,
    };
  }
  return { logLocation: logDisk.location, snapshot, files: files.map((f) => f.name), problem: null, lastGood, truncate: null, remove: [] };
}

/** Recovery's reading of one file: the first damage (offset + reason), or null. */
async function firstProblem(
  disk: Disk,
  name: string,
  lastZxid: () => bigint,
  onGood: (zxid: bigint) => void,
): Promise<{ offset: number; reason: string } | null> {
  const source = await disk.open(name);
  try {
    const scan = scanLogFile(source);
    for (;;) {
      const step = await scan.next();
      if (step.done) return step.value.kind === "corrupt" ? { offset: step.value.offset, reason: step.value.reason } : null;
      for (const { offset, body } of step.value) {
        let entry: TxnEntry;
        try {
          entry = decodeTxnEntry(body);
        } catch (error) {
          return { offset, reason: `undecodable txn: ${(error as Error).message}` };
        }
        const zxid = entry.header.zxid;
        const last = lastZxid();
        if (zxid <= last) continue;
        if (zxidEpoch(zxid) === zxidEpoch(last) && zxidCounter(zxid) !== zxidCounter(last) + 1) {
          return { offset, reason: `zxid 0x${hex(zxid)} follows 0x${hex(last)}: the txns between them are missing` };
        }
        onGood(zxid);
      }
    }
  } finally {
    await source.close();
  }
}

/**
 * Everything that can still be read as entries from `start` on, ignoring checksums (to say what is dropped).
 * The entry at `damagedAt` is the damaged one.
 */
async function salvage(disk: Disk, name: string, start: number, damagedAt = -1): Promise<DroppedFile> {
  const bytes = await disk.readAll(name);
  const txns: DroppedTxn[] = [];
  let offset = Math.max(start, fileHeaderBytes);
  let unparsed = 0;
  while (offset + logEntryOverheadBytes <= bytes.length) {
    const length = bytes.readInt32BE(offset + 8);
    if (length === 0 && bytes.readBigInt64BE(offset) === 0n) break;
    const end = offset + logEntryOverheadBytes + length;
    if (length <= 0 || length > logEntryBytesMax || end > bytes.length) break;
    const body = bytes.subarray(offset + 12, offset + 12 + length);
    let entry: TxnEntry | null = null;
    try {
      entry = decodeTxnEntry(body);
    } catch {
      entry = null;
    }
    const crcOk = BigInt(adler32(body)) === bytes.readBigInt64BE(offset);
    txns.push({ file: name, offset, entry, damaged: offset === damagedAt || !crcOk || entry === null });
    offset = end;
  }
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) unparsed++;
  return { name, txns, unparsedBytes: unparsed };
}

/** Carries out a plan made by `planRepair` on the same, unchanged, directory. */
export async function applyRepair(logDisk: Disk, plan: RepairPlan): Promise<void> {
  if (plan.truncate !== null) {
    // A file with nothing left but (part of) its header goes entirely: Apache cannot read an empty log that is
    // not the last one.
    if (plan.truncate.offset <= fileHeaderBytes) await logDisk.remove(plan.truncate.file);
    else await logDisk.truncate(plan.truncate.file, plan.truncate.offset);
  }
  for (const file of plan.remove) await logDisk.remove(file.name);
  await logDisk.syncDir();
}
