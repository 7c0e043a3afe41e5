/**
 * Storage benchmark: durable write throughput of this server and of Apache ZooKeeper 3.8 on the same machine in
 * the same run, and recovery time from a log of 1,000,000 transactions.
 *
 *   npx tsx bench/storage-bench.ts                        both, default sizes
 *   npx tsx bench/storage-bench.ts --only ours            skip Apache
 *   npx tsx bench/storage-bench.ts --seconds 5 --repeat 3 longer runs, best of 3 (a busy machine)
 *   npx tsx bench/storage-bench.ts --recovery-txns 200000 a smaller recovery run (0: none)
 *
 * Writes: create and setData, pipelined (`--connections` sessions × `--depth` requests in flight), 100-byte data,
 * fsync on for both servers (Apache's default forceSync=yes; ours always) — every acknowledged write is on disk.
 * Each workload alternates between the servers; the ratio ours/Apache is printed per workload.
 *
 * Recovery: a dataDir with snapshot.0 and one log of N txns (half creates, half setData, 100-byte data, with
 * digests) is written here, then recovered as the server does at startup (load + replay + digest checks), timed.
 * When Apache is available it loads the same dataDir too, and its own "Snapshot loaded in" time is printed.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DataTree } from "../src/tree/data-tree.ts";
import type { Txn, TxnHeader } from "../src/tree/txn.ts";
import { PendingDigests } from "../src/storage/digest.ts";
import { FileDisk } from "../src/storage/disk.ts";
import { serializeTree } from "../src/storage/fuzzy-snapshot.ts";
import { recover } from "../src/storage/recovery.ts";
import { DiskSnapshotStore } from "../src/storage/snapshot-store.ts";
import { DiskTxnLog } from "../src/storage/txn-log.ts";
import { apacheAvailable, startApacheZooKeeper } from "../test/interop/harness/index.ts";
import { requests, run, type RunResult, type Workload } from "./load.ts";
import { startApache, startOurs, type Target } from "./targets.ts";

interface Args {
  only: "ours" | "apache" | undefined;
  connections: number;
  depth: number;
  seconds: number;
  repeat: number;
  recoveryTxns: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: undefined, connections: 8, depth: 128, seconds: 4, repeat: 1, recoveryTxns: 1_000_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--only") args.only = value() as "ours" | "apache";
    else if (a === "--connections") args.connections = Number(value());
    else if (a === "--depth") args.depth = Number(value());
    else if (a === "--seconds") args.seconds = Number(value());
    else if (a === "--repeat") args.repeat = Number(value());
    else if (a === "--recovery-txns") args.recoveryTxns = Number(value());
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

const payload = Buffer.alloc(100, 0x61);
const quiet = { info: () => {}, warn: () => {} };

function opsPerSecond(r: RunResult): number {
  return r.ops / (r.elapsedMs / 1000);
}

async function mustAll(target: Target, paths: string[]): Promise<void> {
  for (const path of paths) {
    const r = await run(target.host, target.port, () => requests.create(path, Buffer.alloc(0)), { connections: 1, depth: 1, maxOps: 1, seconds: 10 });
    if (r.errors > 0) throw new Error(`${target.name}: could not create ${path}: ${r.firstError}`);
  }
}

/** Pipelined creates then setData on what was created; best of `repeat`, servers alternating. */
async function writeThroughput(targets: Target[], args: Args): Promise<void> {
  const root = `/storagebench${Date.now().toString(36)}`;
  for (const t of targets) await mustAll(t, [root, `${root}/warm`, ...Array.from({ length: args.repeat }, (_, i) => `${root}/c${i}`)]);
  const options = { connections: args.connections, depth: args.depth, maxOps: 5_000_000, seconds: args.seconds };
  // Warm-up (the JVM's JIT, V8's): a short create run each.
  for (const t of targets) await run(t.host, t.port, (c, s) => requests.create(`${root}/warm/w${c}-${s}`, payload), { ...options, seconds: Math.min(2, args.seconds) });

  const best = new Map<string, number>();
  const created = new Map<string, number>();
  for (let n = 0; n < args.repeat; n++) {
    for (const t of targets) {
      const r = await run(t.host, t.port, (c, s) => requests.create(`${root}/c${n}/n${c}-${s}`, payload), options);
      if (r.errors > 0) throw new Error(`${t.name} create: ${r.errors} errors, first ${r.firstError}`);
      best.set(`create ${t.name}`, Math.max(best.get(`create ${t.name}`) ?? 0, opsPerSecond(r)));
      created.set(`${t.name}/${n}`, r.ops);
    }
  }
  for (let n = 0; n < args.repeat; n++) {
    for (const t of targets) {
      // setData on the nodes the create runs made, round robin.
      // Sessions share the create budget unevenly: stay within what every one of them surely made.
      const count = Math.max(1, Math.floor((created.get(`${t.name}/0`) ?? 1) / args.connections / 2));
      const workload: Workload = (c, s) => requests.setData(`${root}/c0/n${c}-${s % count}`, payload);
      const r = await run(t.host, t.port, workload, options);
      if (r.errors > 0) throw new Error(`${t.name} setData: ${r.errors} errors, first ${r.firstError}`);
      best.set(`setData ${t.name}`, Math.max(best.get(`setData ${t.name}`) ?? 0, opsPerSecond(r)));
    }
  }
  console.log(`\nDurable write throughput (${args.connections} sessions × ${args.depth} in flight, 100-byte data, fsync on, best of ${args.repeat} × ${args.seconds} s):`);
  for (const workload of ["create", "setData"]) {
    const ours = best.get(`${workload} ours`);
    const apache = best.get(`${workload} apache`);
    const parts = [ours !== undefined ? `ours ${Math.round(ours)} ops/s` : null, apache !== undefined ? `Apache ${Math.round(apache)} ops/s` : null].filter(Boolean);
    const ratio = ours !== undefined && apache !== undefined ? `  ratio ours/Apache ${(ours / apache).toFixed(2)}×` : "";
    console.log(`  ${workload.padEnd(8)} ${parts.join(", ")}${ratio}`);
  }
}

/** A dataDir holding snapshot.0 and one log of `count` txns; returns its version-2 directory. */
async function writeBigLog(dir: string, count: number): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  const disk = new FileDisk(join(dir, "version-2"));
  await disk.ensure();
  const tree = new DataTree({ extendedTypesEnabled: false });
  const snaps = new DiskSnapshotStore(disk);
  await snaps.save(0n, (await serializeTree(tree, [], () => ({ zxid: 0n, version: 2, digest: 0n }))).pieces);
  const log = new DiskTxnLog(disk, { preAllocSizeBytes: 64 * 1024 * 1024, fsyncWarningThresholdMs: 60_000, logger: quiet });
  const digests = new PendingDigests(tree);
  const session = 0x1000000000001n;
  const creates = Math.ceil(count / 2);
  const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
  const append = (header: TxnHeader, txn: Txn) => {
    const digest = digests.afterTxn(header, txn);
    log.append({ header, txn, digest: { version: 2, treeDigest: digest } }, () => {});
    tree.processTxn(header, txn);
    digests.markApplied(header.zxid);
  };
  append({ sessionId: session, cxid: 0, zxid: 1n, timeMs: BigInt(Date.now()), type: "createSession" }, { kind: "createSession", timeOutMs: 30_000 });
  append({ sessionId: session, cxid: 1, zxid: 2n, timeMs: BigInt(Date.now()), type: "create" }, { kind: "create", path: "/r", data: null, acl, ephemeral: false, parentCVersion: 1 });
  for (let i = 2; i < count; i++) {
    const zxid = BigInt(i + 1);
    const timeMs = BigInt(Date.now());
    if (i < creates) {
      append({ sessionId: session, cxid: i, zxid, timeMs, type: "create" }, { kind: "create", path: `/r/n${i}`, data: payload, acl, ephemeral: false, parentCVersion: i - 1 });
    } else {
      const target = 2 + ((i - creates) % (creates - 2));
      const node = tree.getNode(`/r/n${target}`)!;
      append({ sessionId: session, cxid: i, zxid, timeMs, type: "setData" }, { kind: "setData", path: `/r/n${target}`, data: payload, version: node.stat.version + 1 });
    }
    if (i % 50_000 === 0) await log.flush();
  }
  await log.close();
  const info = await disk.info("log.1");
  return { bytes: info.size, ms: performance.now() - started };
}

async function recoveryTime(args: Args): Promise<void> {
  const count = args.recoveryTxns;
  const dir = mkdtempSync(join(tmpdir(), "zkbook-bench-recovery-"));
  try {
    const written = await writeBigLog(dir, count);
    const disk = new FileDisk(join(dir, "version-2"));
    const tree = new DataTree({ extendedTypesEnabled: false });
    const log = new DiskTxnLog(disk, { preAllocSizeBytes: 0, fsyncWarningThresholdMs: 60_000, logger: quiet });
    const started = performance.now();
    const result = await recover(tree, new DiskSnapshotStore(disk), log, { logger: quiet });
    const ms = performance.now() - started;
    console.log(`\nRecovery from a log of ${count.toLocaleString("en")} txns (${(written.bytes / 1048576).toFixed(0)} MiB log, written in ${(written.ms / 1000).toFixed(1)} s):`);
    console.log(
      `  ours    ${(ms / 1000).toFixed(2)} s  (${Math.round(result.txnsReplayed / (ms / 1000)).toLocaleString("en")} txns/s; ${tree.nodeCount.toLocaleString("en")} nodes; ` +
        `${result.digestsChecked.toLocaleString("en")} digests checked${result.firstDigestMismatch === null ? "" : `, MISMATCH: ${result.firstDigestMismatch}`})`,
    );
    if (args.only !== "ours" && apacheAvailable().ok) {
      // Apache loads the same dataDir; its log says how long the load took.
      const started = performance.now();
      const zk = await startApacheZooKeeper({ dataDir: dir, startTimeoutMs: 600_000 });
      const serving = performance.now() - started;
      const log = readFileSync(zk.logFile, "utf8");
      await zk.stop();
      const loaded = /Snapshot loaded in (\d+) ms, highest zxid is 0x([0-9a-f]+)/.exec(log);
      console.log(
        `  Apache  ${loaded === null ? "?" : (Number(loaded[1]) / 1000).toFixed(2)} s  ("Snapshot loaded in", up to zxid 0x${loaded?.[2] ?? "?"}; ` +
          `${(serving / 1000).toFixed(1)} s until it served, JVM start included; interop-harness JVM: -XX:TieredStopAtLevel=1)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(`storage benchmark on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; data in ${tmpdir()}`);
  const targets: Target[] = [];
  try {
    if (args.only !== "apache") targets.push(await startOurs());
    if (args.only !== "ours") {
      if (apacheAvailable().ok) targets.push(await startApache());
      else console.log("Apache ZooKeeper 3.8 is not installed: measuring ours only.");
    }
    await writeThroughput(targets, args);
    for (const t of targets) console.log(`  ${t.name}: ${await t.describe()}`);
  } finally {
    for (const t of targets) await t.stop();
  }
  if (args.recoveryTxns > 0) await recoveryTime(args);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
