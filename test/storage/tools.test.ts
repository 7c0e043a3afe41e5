// The operator's tools: zk-repair (truncate a damaged log at the last good txn, after saying what goes), purge
// (Apache's zkCleanup.sh / PurgeTxnLog), logdump (TxnLogToolkit / SnapshotFormatter) — and the server refusing to
// start on a damaged log.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataTree } from "../../src/tree/data-tree.ts";
import { FileDisk, MemoryDisk } from "../../src/storage/disk.ts";
import { planPurge } from "../../src/storage/purge.ts";
import { applyRepair, planRepair } from "../../src/storage/repair.ts";
import { recover } from "../../src/storage/recovery.ts";
import { DiskSnapshotStore } from "../../src/storage/snapshot-store.ts";
import { DiskTxnLog } from "../../src/storage/txn-log.ts";
import { recordingLogger } from "./support/harnesses.ts";

const fixture = join(import.meta.dirname, "fixtures", "apache-3.8.0", "version-2");
const root = join(import.meta.dirname, "..", "..");

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkbook-tools-"));
  temps.push(dir);
  cpSync(fixture, join(dir, "version-2"), { recursive: true });
  return dir;
}

function run(script: string, args: string[], input = ""): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, script), ...args], { cwd: root, input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

async function recoverDir(dir: string) {
  const disk = new FileDisk(join(dir, "version-2"));
  const logger = recordingLogger();
  const tree = new DataTree({ extendedTypesEnabled: true });
  return recover(tree, new DiskSnapshotStore(disk), new DiskTxnLog(disk, { preAllocSizeBytes: 0, fsyncWarningThresholdMs: 1000, logger }), { logger });
}

/** Flips a byte inside the body of the `index`-th entry of a log file. */
function damageEntry(file: string, index: number): number {
  const bytes = readFileSync(file);
  let offset = 16;
  for (let i = 0; i < index; i++) offset += 13 + bytes.readInt32BE(offset + 8);
  bytes[offset + 20] ^= 0x5a;
  writeFileSync(file, bytes);
  return offset;
}

describe("zk-repair", () => {
  it("plans the cut at the first damage, drops the rest of that log and every later one, and lists what goes", async () => {
    const dir = copyOfFixture();
    rmSync(join(dir, "version-2", "snapshot.53"));
    rmSync(join(dir, "version-2", "snapshot.41"));
    // Recovery now starts from snapshot.34 and reads log.24 onwards; damage the 3rd entry of log.36.
    const offset = damageEntry(join(dir, "version-2", "log.36"), 2);
    await expect(recoverDir(dir)).rejects.toThrow(new RegExp(`log\\.36 is damaged at offset ${offset}: CRC mismatch`));
    const disk = new FileDisk(join(dir, "version-2"));
    const plan = await planRepair(disk, disk);
    expect(plan.snapshot?.name).toBe("snapshot.34");
    expect(plan.problem).toEqual({ file: "log.36", offset, reason: expect.stringMatching(/CRC mismatch/) });
    expect(plan.lastGood).toEqual({ zxid: 0x37n, file: "log.36" });
    expect(plan.truncate).toMatchObject({ file: "log.36", offset });
    expect(plan.truncate!.dropped.txns[0]).toMatchObject({ offset, damaged: true });
    expect(plan.truncate!.dropped.txns.slice(1).every((t) => !t.damaged)).toBe(true);
    expect(plan.remove.map((f) => f.name)).toEqual(["log.43", "log.55"]);
    await applyRepair(disk, plan);
    const result = await recoverDir(dir);
    expect(result.lastZxid).toBe(0x37n);
    expect(statSync(join(dir, "version-2", "log.36")).size).toBe(offset);
    expect((await planRepair(disk, disk)).problem).toBeNull();
  });

  it("the command says exactly what it will drop, changes nothing without --yes, and repairs with it", () => {
    const dir = copyOfFixture();
    const offset = damageEntry(join(dir, "version-2", "log.55"), 3);
    const dry = run("src/cli/zk-repair.ts", [dir, "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.out).toContain("Recovery starts from snapshot.53 (zxid 0x53) and reads log.43, log.55.");
    expect(dry.out).toContain(`Damage: log.55 at offset ${offset}: CRC mismatch`);
    expect(dry.out).toContain("The last good transaction is zxid 0x57 (in log.55).");
    expect(dry.out).toMatch(new RegExp(`truncate log\\.55 from 16400 to ${offset} bytes, dropping:`));
    expect(dry.out).toMatch(/offset \d+: zxid 0x58 .* createTTL \/ttl-node .*<- damaged/);
    expect(dry.out).toMatch(/zxid 0x5c .* closeSession/);
    expect(dry.out).toContain("5 transactions after the last good one are lost (zxid 0x58 to 0x5c)");
    expect(dry.out).toContain("Dry run: nothing changed.");
    expect(statSync(join(dir, "version-2", "log.55")).size).toBe(16400);
    // No terminal, no --yes: nothing is done.
    expect(run("src/cli/zk-repair.ts", [dir]).out).toContain("Nothing changed: run again with --yes");
    const fixed = run("src/cli/zk-repair.ts", [join(dir, "version-2"), "--yes"]);
    expect(fixed.code).toBe(0);
    expect(fixed.out).toContain("Repaired: the log now ends at zxid 0x57.");
    expect(statSync(join(dir, "version-2", "log.55")).size).toBe(offset);
    expect(run("src/cli/zk-repair.ts", [dir]).out).toContain("nothing to repair");
  });

  it("the server refuses a damaged log, naming the file and offset and the repair command", () => {
    const dir = copyOfFixture();
    const offset = damageEntry(join(dir, "version-2", "log.55"), 1);
    // Recovery happens before the port is bound, so any port will do.
    writeFileSync(join(dir, "zoo.cfg"), `tickTime=500\ndataDir=${dir}\nclientPort=61999\n`);
    const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/server.ts"), join(dir, "zoo.cfg")], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`log.55 is damaged at offset ${offset}: CRC mismatch`);
    expect(r.stderr).toContain(`npm run zk-repair -- ${join(dir, "version-2")}`);
  });
});

describe("purge (PurgeTxnLog)", () => {
  it("keeps the newest n snapshots and every log from the one that covers the oldest kept", async () => {
    const disk = new FileDisk(join(copyOfFixture(), "version-2"));
    const plan = await planPurge(disk, disk, 3);
    expect(plan.retained.map((s) => s.name)).toEqual(["snapshot.53", "snapshot.41", "snapshot.34"]);
    expect(plan.removeSnapshots.map((s) => s.name)).toEqual(["snapshot.0", "snapshot.13", "snapshot.22"]);
    // log.24 holds the txns right after 0x34 (log.36 starts after it): it stays.
    expect(plan.removeLogs.map((l) => l.name)).toEqual(["log.1", "log.15"]);
  });

  it("ignores an incomplete snapshot when counting, and purges nothing without a valid one", async () => {
    const disk = new MemoryDisk();
    const a = disk.create("snapshot.5");
    a.write(0, Buffer.from("not a snapshot at all"));
    await a.datasync();
    disk.create("log.1").close();
    expect(await planPurge(disk, disk, 3)).toMatchObject({ leastZxid: null, removeLogs: [], removeSnapshots: [] });
    await expect(planPurge(disk, disk, 2)).rejects.toThrow(/greater than or equal to 3/);
  });

  it("the command removes the files, like zkCleanup.sh, and recovery still works", async () => {
    const dir = copyOfFixture();
    const r = run("src/cli/purge.ts", [dir, "-n", "3"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Removing file: ${join(dir, "version-2")}/log.1`);
    expect(readdirSync(join(dir, "version-2")).sort()).toEqual(["log.24", "log.36", "log.43", "log.55", "snapshot.34", "snapshot.41", "snapshot.53"]);
    expect((await recoverDir(dir)).lastZxid).toBe(0x5cn);
    expect(run("src/cli/purge.ts", [dir, "-n", "2"]).code).toBe(2);
  });
});

describe("logdump", () => {
  it("prints a log a txn per line, and how it ends", () => {
    const r = run("src/cli/logdump.ts", [join(fixture, "log.1")]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toBe("ZooKeeper Transactional Log File with dbid 0 txnlog format version 2");
    expect(lines[1]).toMatch(/^zxid 0x1  \d{4}-\d\d-\d\dT.*Z  session 0x100001e13a30000  cxid 0x0  createSession timeout=10000ms  digest=\d+$/);
    expect(r.out).toMatch(/zxid 0x3  .* create \/app data="application root" \(16 bytes\) acl=\[world:anyone:cdrwa\] parentCVersion=1/);
    expect(lines[lines.length - 1]).toMatch(/^EOF reached after 20 txns \(offset \d+; \d+ preallocated zero bytes follow\)\.$/);
  });

  it("reports damage with its offset (exit code 1)", () => {
    const dir = copyOfFixture();
    const offset = damageEntry(join(dir, "version-2", "log.1"), 4);
    const r = run("src/cli/logdump.ts", [join(dir, "version-2", "log.1")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`DAMAGED after 4 txns, at offset ${offset}: CRC mismatch`);
  });

  it("prints a snapshot: sessions, ACLs, nodes with their stats, the digest", () => {
    const r = run("src/cli/logdump.ts", [join(fixture, "snapshot.53")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("snapshot.53: ZooKeeper snapshot, format version 2, dbid -1, 4003 bytes");
    expect(r.out).toContain("Last zxid when it started: 0x53");
    expect(r.out).toMatch(/Sessions \(2\)[^\n]*\n  0x100001e13a30000  10000 ms  1  \/app\/lock/);
    expect(r.out).toMatch(/\n  \/app  czxid 0x3  mzxid 0x3 .* data "application root" \(16 bytes\)/);
    expect(existsSync(join(fixture, "snapshot.53"))).toBe(true);
  });
});
