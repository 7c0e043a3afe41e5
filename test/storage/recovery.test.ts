// Recovery (Apache FileTxnSnapLog.restore; reference §5; book chapter 9): the newest valid snapshot, then every
// logged txn after it; fuzzy snapshots are made whole by idempotent replay; damage stops start-up loudly.
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataTree } from "../../src/tree/data-tree.ts";
import { FileDisk, MemoryDisk, type Disk } from "../../src/storage/disk.ts";
import { recover, RecoveryError } from "../../src/storage/recovery.ts";
import { DiskSnapshotStore } from "../../src/storage/snapshot-store.ts";
import { DiskTxnLog, TxnLogCorruptError, type LogEntry } from "../../src/storage/txn-log.ts";
import { PendingDigests, treeDigest } from "../../src/storage/digest.ts";
import { serializeTree } from "../../src/storage/fuzzy-snapshot.ts";
import { applyAll, TxnStream, type GeneratedTxn } from "./support/random-txns.ts";
import { dumpDataTree, type TreeDump } from "./support/tree-dump.ts";
import { recordingLogger } from "./support/harnesses.ts";

const fixture = join(import.meta.dirname, "fixtures", "apache-3.8.0");
const expectedTree = JSON.parse(readFileSync(join(fixture, "expected-tree.json"), "utf8")) as TreeDump;

/** Key order does not matter when comparing dumps. */
function canonical(dump: TreeDump): TreeDump {
  return Object.fromEntries(
    Object.keys(dump)
      .sort()
      .map((p) => [p, { data: dump[p]!.data, acl: dump[p]!.acl, stat: Object.fromEntries(Object.entries(dump[p]!.stat).sort()) }]),
  ) as TreeDump;
}

async function recoverFrom(disk: Disk, logger = recordingLogger()) {
  const tree = new DataTree({ extendedTypesEnabled: true });
  const log = new DiskTxnLog(disk, { preAllocSizeBytes: 0, fsyncWarningThresholdMs: 1000, logger });
  const result = await recover(tree, new DiskSnapshotStore(disk), log, { logger });
  return { tree, result, logger };
}

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkbook-recovery-"));
  temps.push(dir);
  cpSync(join(fixture, "version-2"), join(dir, "version-2"), { recursive: true });
  return join(dir, "version-2");
}

describe("a dataDir Apache ZooKeeper 3.8.0 wrote (then was killed with SIGKILL)", () => {
  it("recovers the very tree Apache served, with its live sessions, checking every digest Apache logged", async () => {
    const { tree, result, logger } = await recoverFrom(new FileDisk(copyOfFixture()));
    expect(canonical(dumpDataTree(tree))).toEqual(canonical(expectedTree));
    expect(result.snapshot?.name).toBe("snapshot.53");
    expect(result.lastZxid).toBe(0x5cn);
    expect(result.firstDigestMismatch).toBeNull();
    expect(result.digestsChecked).toBeGreaterThan(5);
    expect([...result.sessions.values()]).toEqual([10_000, 10_000]);
    // The session that was still alive keeps its ephemeral node.
    expect(tree.getNode("/app/alive")?.stat.ephemeralOwner).toBe([...result.sessions.keys()][1]);
    expect(logger.warnings).toEqual([]);
  });

  it("recovers the same tree from every older snapshot — fuzzy ones included — replaying more of the log", async () => {
    const dir = copyOfFixture();
    const snapshots = readdirSync(dir).filter((n) => n.startsWith("snapshot.")).sort((a, b) => parseInt(b.split(".")[1]!, 16) - parseInt(a.split(".")[1]!, 16));
    let replayedBefore = -1;
    for (const newest of snapshots) {
      const { tree, result } = await recoverFrom(new FileDisk(dir));
      expect(result.snapshot?.name).toBe(newest);
      expect(canonical(dumpDataTree(tree))).toEqual(canonical(expectedTree));
      expect(result.firstDigestMismatch).toBeNull();
      expect(result.txnsReplayed).toBeGreaterThan(replayedBefore);
      replayedBefore = result.txnsReplayed;
      unlinkSync(join(dir, newest));
    }
  });

  it("falls back to an older snapshot when the newest is damaged", async () => {
    const dir = copyOfFixture();
    const bytes = readFileSync(join(dir, "snapshot.53"));
    bytes[200] ^= 0xff;
    await new FileDisk(dir).remove("snapshot.53");
    const file = new FileDisk(dir).create("snapshot.53");
    file.write(0, bytes);
    file.close();
    const { tree, result, logger } = await recoverFrom(new FileDisk(dir));
    expect(result.snapshot?.name).toBe("snapshot.41");
    expect(canonical(dumpDataTree(tree))).toEqual(canonical(expectedTree));
    expect(logger.warnings.join("\n")).toMatch(/problem reading snap file .*snapshot\.53: CRC corruption/);
  });
});

describe("recovery of our own data", () => {
  const logger = recordingLogger();

  /** Logs `txns` with their digests (as the server does), snapshotting after `snapshotAfter` of them. */
  async function populate(disk: Disk, txns: readonly GeneratedTxn[], snapshotAt: readonly number[] = [], rollAt: readonly number[] = []): Promise<DataTree> {
    const tree = new DataTree({ extendedTypesEnabled: true });
    const snaps = new DiskSnapshotStore(disk);
    await snaps.save(0n, (await serializeTree(tree, [], () => ({ zxid: 0n, version: 2, digest: 0n }))).pieces);
    const log = new DiskTxnLog(disk, { preAllocSizeBytes: 4096, fsyncWarningThresholdMs: 1000, logger });
    const digests = new PendingDigests(tree);
    for (let i = 0; i < txns.length; i++) {
      const { header, txn } = txns[i]!;
      if (rollAt.includes(i)) log.roll();
      const entry: LogEntry = { header, txn, digest: header.type === "error" ? null : { version: 2, treeDigest: digests.afterTxn(header, txn) } };
      if (header.type === "error") digests.afterTxn(header, txn);
      log.append(entry, () => {});
      tree.processTxn(header, txn);
      digests.markApplied(header.zxid);
      if (snapshotAt.includes(i)) {
        const s = await serializeTree(tree, [], () => ({ zxid: tree.lastProcessedZxid, version: 2, digest: treeDigest(tree) }));
        await snaps.save(s.zxid, s.pieces);
      }
    }
    await log.close();
    return tree;
  }

  const stream = (seed: number, count: number) => {
    const gen = new TxnStream(seed);
    return Array.from({ length: count }, () => gen.next());
  };

  it("rebuilds the tree from snapshot + log, across log rolls, and checks every digest", async () => {
    const disk = new MemoryDisk();
    const txns = stream(21, 400);
    const live = await populate(disk, txns, [150, 300], [100, 151, 301]);
    const { tree, result } = await recoverFrom(disk);
    expect(dumpDataTree(tree, [])).toEqual(dumpDataTree(live, []));
    expect(result.snapshot?.zxid).toBe(txns[300]!.header.zxid);
    expect(result.txnsReplayed).toBe(99);
    expect(result.digestsChecked).toBeGreaterThan(80);
    expect(result.firstDigestMismatch).toBeNull();
    expect(result.digest).toBe(treeDigest(live));
  });

  it("a torn tail ends the log at the last whole txn, and says so", async () => {
    const disk = new MemoryDisk();
    const txns = stream(22, 60);
    await populate(disk, txns);
    const bytes = await disk.readAll("log.1");
    // Find the last entry: scan from the header.
    let offset = 16;
    let last = 16;
    while (bytes.readInt32BE(offset + 8) > 0) {
      last = offset;
      offset += 13 + bytes.readInt32BE(offset + 8);
    }
    disk.damage("log.1", offset - 1, Buffer.from([0])); // its 0x42
    const local = recordingLogger();
    const { tree, result } = await recoverFrom(disk, local);
    expect(result.lastZxid).toBe(txns[58]!.header.zxid);
    expect(result.tornTails).toEqual([{ file: "log.1", offset: last, reason: expect.stringMatching(/0x42/) }]);
    expect(dumpDataTree(tree, [])).toEqual(dumpDataTree(applyAll(txns.slice(0, 59)), []));
    expect(local.warnings.join("\n")).toMatch(/log\.1: the log ends at offset \d+ with a half-written entry/);
  });

  it("a CRC mismatch before the tail stops recovery with the file and offset", async () => {
    const disk = new MemoryDisk();
    await populate(disk, stream(23, 50));
    disk.damage("log.1", 300, Buffer.from("garbage"));
    await expect(recoverFrom(disk)).rejects.toThrow(TxnLogCorruptError);
    await expect(recoverFrom(disk)).rejects.toThrow(/log\.1 is damaged at offset \d+: CRC mismatch/);
  });

  it("a lost log file is a hole in the zxids: refused, not skipped", async () => {
    const disk = new MemoryDisk();
    const txns = stream(24, 90);
    await populate(disk, txns, [], [30, 60]);
    await disk.remove(`log.${txns[30]!.header.zxid.toString(16)}`);
    await expect(recoverFrom(disk)).rejects.toThrow(RecoveryError);
    await expect(recoverFrom(disk)).rejects.toThrow(/the txns between them are missing/);
  });

  it("logs without any snapshot are refused, as Apache does", async () => {
    const disk = new MemoryDisk();
    await populate(disk, stream(25, 10));
    await disk.remove("snapshot.0");
    await expect(recoverFrom(disk)).rejects.toThrow(/No snapshot found, but there are log entries/);
  });

  it("no valid snapshot at all is refused", async () => {
    const disk = new MemoryDisk();
    await populate(disk, stream(26, 10));
    disk.damage("snapshot.0", 20, Buffer.from([9, 9, 9]));
    await expect(recoverFrom(disk)).rejects.toThrow(/Not able to find valid snapshots/);
  });

  it("an empty directory is an empty database", async () => {
    const { tree, result } = await recoverFrom(new MemoryDisk());
    expect(result).toMatchObject({ snapshot: null, lastZxid: 0n, txnsReplayed: 0 });
    expect(tree.nodeCount).toBe(4);
  });
});
