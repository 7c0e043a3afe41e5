/**
 * Crash testing with real processes: the server (`src/cli/server.ts`) runs as a child on a dataDir; a writer
 * pipelines creates, sets and multis and records every reply; at a seeded random moment the server gets SIGKILL;
 * it restarts on the same dataDir and a checker reads everything back. Checked after every restart:
 *
 *   - every write the server acknowledged is there (creates exist, a key's version is at least the acked one);
 *   - nothing is half-applied: a key holds exactly the data sent for its version; a multi's ops are all there or
 *     none; and the writes that survived are a *prefix* of what the writer sent (the log is applied in order, so
 *     a later write can never survive an earlier one);
 *   - nothing appears that was never sent; earlier iterations' nodes are all still there, and nothing else;
 *   - the killed writer's session is back with its ephemeral node; at the end, once no client returns, every such
 *     session expires and its ephemerals go;
 *   - the server's own recovery never reports a digest mismatch.
 *
 * Snapshots and log rolls happen constantly (small snapCount, small preAllocSize), so kills land in the middle of
 * fuzzy snapshots, preallocation and group commits. The seed decides the whole schedule and is printed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig } from "../../../src/config/index.ts";
import type { RunningServer } from "../../../src/server/index.ts";
import { MemoryDisk, type CrashMode } from "../../../src/storage/disk.ts";
import { DurableStore } from "../../../src/storage/durable-store.ts";
import { startTestServer } from "../../support/zk-server.ts";
import { mulberry32 } from "./random-txns.ts";
import { RawClient } from "./raw-client.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface CrashRunOptions {
  readonly seed: number;
  readonly kills: number;
  /** Keys updated with setData (versions checked). */
  readonly keys?: number;
  /** How long the writer runs before the kill: a seeded value in [min, max] ms. */
  readonly writeMsMin?: number;
  readonly writeMsMax?: number;
  readonly windowOps?: number;
  readonly snapCount?: number;
  readonly preAllocSizeKb?: number;
  /** The writers' session timeout (ms); the server's tickTime is a sixth of it. */
  readonly sessionTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Keep the dataDir (for a failure's post-mortem). */
  readonly keepDataDir?: boolean;
}

export interface CrashRunReport {
  readonly seed: number;
  readonly kills: number;
  readonly acked: number;
  readonly sent: number;
  /** Writes sent but not acknowledged that survived anyway (allowed: they were durable, the ack was lost). */
  readonly unackedSurvived: number;
  readonly tornTails: number;
  readonly snapshots: number;
  readonly elapsedMs: number;
  readonly dataDir: string;
}

type Op =
  | { readonly kind: "set"; readonly key: number; readonly version: number }
  | { readonly kind: "create"; readonly path: string }
  | { readonly kind: "multi"; readonly a: string; readonly b: string; readonly key: number; readonly version: number };

interface SentOp {
  readonly op: Op;
  acked: boolean;
}

export class CrashCheckError extends Error {
  override readonly name = "CrashCheckError";
}

function keyPath(key: number): string {
  return `/crash/keys/k${key}`;
}

/** The data of a key at a version: anything else there means a torn or misapplied write. */
function keyData(key: number, version: number): Buffer {
  return Buffer.from(`k${key} v${version} `.padEnd(64 + ((key * 31 + version * 17) % 200), "#"));
}

function createData(path: string): Buffer {
  return Buffer.from(`${path} `.padEnd(40 + (path.length % 60), "*"));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** How to run the server: a one-file bundle (fast to start, built once per run), or tsx if esbuild is missing. */
async function serverCommand(workDir: string): Promise<string[]> {
  try {
    const esbuild = (await import("esbuild")) as typeof import("esbuild");
    const outfile = join(workDir, "server.mjs");
    await esbuild.build({
      entryPoints: [join(repoRoot, "src/cli/server.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile,
      logLevel: "warning",
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    return [process.execPath, outfile];
  } catch {
    return [process.execPath, "--import", "tsx", join(repoRoot, "src/cli/server.ts")];
  }
}

interface ServerProcess {
  readonly child: ChildProcess;
  output: string;
}

async function startServer(command: string[], cfg: string): Promise<ServerProcess> {
  const child = spawn(command[0]!, [...command.slice(1), cfg], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  const proc: ServerProcess = { child, output: "" };
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (proc.output += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (proc.output += s));
  const deadline = Date.now() + 60_000;
  while (!proc.output.includes("serving clients at")) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new CrashCheckError(`the server did not start (exit ${child.exitCode ?? child.signalCode}):\n${proc.output.slice(-3000)}`);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new CrashCheckError(`the server did not start within 60 s:\n${proc.output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return proc;
}

async function kill(proc: ServerProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.child.once("exit", resolve));
  proc.child.kill("SIGKILL");
  await exited;
}

/** A server the crash test can start, crash, and start again on the same data. */
export interface ServerDriver {
  readonly description: string;
  /** Starts the server (again, on the same data); resolves with its port once it serves. */
  start(): Promise<number>;
  /** Crashes it at once. */
  crash(): Promise<void>;
  /** What the server printed since the last call. */
  takeOutput(): string;
  /** Stops it and removes its data (unless kept). */
  cleanup(keep: boolean): Promise<void>;
  readonly dataLocation: string;
}

export interface ServerSettings {
  readonly sessionTimeoutMs: number;
  readonly snapCount: number;
  readonly preAllocSizeKb: number;
}

/** The real thing: `src/cli/server.ts` as a child process, SIGKILLed. */
export async function processDriver(settings: ServerSettings): Promise<ServerDriver> {
  const workDir = mkdtempSync(join(tmpdir(), "zkbook-crash-"));
  const dataDir = join(workDir, "data");
  mkdirSync(dataDir);
  const port = await freePort();
  const cfg = join(workDir, "zoo.cfg");
  writeFileSync(
    cfg,
    [
      `tickTime=${Math.floor(settings.sessionTimeoutMs / 6)}`,
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      `snapCount=${settings.snapCount}`,
      `preAllocSize=${settings.preAllocSizeKb}`,
      "",
    ].join("\n"),
  );
  const command = await serverCommand(workDir);
  let proc: ServerProcess | null = null;
  let seen = 0;
  return {
    description: `${command.slice(1).join(" ")} ${cfg} (SIGKILL)`,
    dataLocation: dataDir,
    async start() {
      proc = await startServer(command, cfg);
      seen = 0;
      return port;
    },
    async crash() {
      if (proc !== null) await kill(proc);
    },
    takeOutput() {
      if (proc === null) return "";
      const fresh = proc.output.slice(seen);
      seen = proc.output.length;
      return fresh;
    },
    async cleanup(keep) {
      if (proc !== null) await kill(proc);
      if (!keep) rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * The server in this process on a MemoryDisk whose fsyncs take a little time, crashed the ways a machine can
 * crash: power loss (unsynced writes gone), a torn write (a random prefix of them kept), or a process crash (all
 * kept). Deterministic storage faults that SIGKILL cannot produce, fast enough for many rounds.
 */
export function memoryDriver(settings: ServerSettings, seed: number): ServerDriver {
  const rand = mulberry32(seed ^ 0x5eed1e55);
  let disk = new MemoryDisk("memory:crash/", undefined, { syncDelay: () => new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 4))) });
  let running: { server: RunningServer; store: DurableStore } | null = null;
  let output = "";
  const logger = { info: (m: string) => void (output += `INFO ${m}\n`), warn: (m: string) => void (output += `WARN ${m}\n`) };
  const tickTimeMs = Math.floor(settings.sessionTimeoutMs / 6);
  const crashes = { powerLoss: 0, tornWrite: 0, processCrash: 0 };
  return {
    get description() {
      return `in-process server on a MemoryDisk (crashes so far: ${JSON.stringify(crashes)})`;
    },
    dataLocation: "memory",
    async start() {
      const config = defaultConfig({ tickTimeMs, snapCount: settings.snapCount, preAllocSizeKb: settings.preAllocSizeKb });
      // A crashed instance's storage fails from then on; that must not stop the test process.
      const store = new DurableStore(config, { logger, snapDisk: disk, logDisk: disk, random: rand, onFatal: () => {} });
      const server = await startTestServer(
        { tickTimeMs, minSessionTimeoutMs: 2 * tickTimeMs, maxSessionTimeoutMs: 20 * tickTimeMs },
        { logger, txnSink: store, beforeListen: async (zk) => void (await store.recoverInto(zk)) },
      );
      running = { server, store };
      output += "serving clients at\n";
      return server.port;
    },
    async crash() {
      const roll = rand();
      const mode: CrashMode =
        roll < 0.4 ? { kind: "powerLoss" } : roll < 0.8 ? { kind: "tornWrite", keepBytes: (_name, unsynced) => Math.floor(rand() * (unsynced + 1)) } : { kind: "processCrash" };
      crashes[mode.kind]++;
      disk = disk.crash(mode);
      if (running !== null) await running.server.close();
      running = null;
    },
    takeOutput() {
      const fresh = output;
      output = "";
      return fresh;
    },
    async cleanup() {
      if (running !== null) await running.server.close();
      running = null;
    },
  };
}

export async function crashRun(options: CrashRunOptions, driver?: ServerDriver): Promise<CrashRunReport> {
  const log = options.log ?? (() => {});
  const rand = mulberry32(options.seed);
  const keys = options.keys ?? 40;
  const windowOps = options.windowOps ?? 250;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 3000;
  const started = Date.now();
  const server = driver ?? (await processDriver({ sessionTimeoutMs, snapCount: options.snapCount ?? 120, preAllocSizeKb: options.preAllocSizeKb ?? 32 }));
  log(`crash run: seed ${options.seed}, ${options.kills} crashes, data in ${server.dataLocation}, server: ${server.description}`);

  // What the checker knows: per key the version the last check found; per iteration the creates that exist.
  const keyVersion = new Array<number>(keys).fill(0);
  const iterationNodes = new Map<number, Set<string>>();
  const ephemerals: string[] = [];
  let acked = 0;
  let sent = 0;
  let unackedSurvived = 0;
  let tornTails = 0;
  let snapshots = 0;
  let port = await server.start();

  // The ops the killed iteration sent, in order; set just before each restart.
  let pendingOps: SentOp[] = [];
  // ---------------------------------------------------------------- the checker
  /** Checks what the killed iteration left; returns how many unacknowledged writes survived. */
  const check = async (client: RawClient, iteration: number): Promise<number> => {
    const ops = pendingOps;
    const fail = (what: string): never => {
      throw new CrashCheckError(`after kill ${iteration + 1}: ${what}`);
    };
    // Keys: exactly the data of their version.
    const versions: number[] = [];
    await Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        const r = await client.getData(keyPath(k));
        if (r.err !== "ok") fail(`${keyPath(k)}: ${r.err}`);
        const version = r.stat!.version;
        if (!r.data!.equals(keyData(k, version))) fail(`${keyPath(k)} at version ${version} holds data that was never sent for that version (torn or misapplied write)`);
        versions[k] = version;
      }),
    );
    // Nodes of this iteration, and of every earlier one (nothing lost, nothing extra).
    const children = new Map<number, Set<string>>();
    for (const [it] of iterationNodes) {
      const r = await client.getChildren(`/crash/it/${it}`);
      if (r.err !== "ok") fail(`/crash/it/${it}: ${r.err}`);
      children.set(it, new Set(r.children));
    }
    const here = children.get(iteration)!;
    const applied = (op: Op): boolean => {
      switch (op.kind) {
        case "set":
          return versions[op.key]! >= op.version;
        case "create":
          return here.has(op.path.substring(op.path.lastIndexOf("/") + 1));
        case "multi": {
          const a = here.has(op.a.substring(op.a.lastIndexOf("/") + 1));
          const b = here.has(op.b.substring(op.b.lastIndexOf("/") + 1));
          const v = versions[op.key]! >= op.version;
          if (a !== b || a !== v) fail(`multi ${op.a}/${op.b}/k${op.key}@${op.version} is half-applied (a ${a}, b ${b}, set ${v})`);
          return a;
        }
      }
    };
    let lastApplied = -1;
    let unackedSurvivors = 0;
    ops.forEach((sentOp, i) => {
      const isApplied = applied(sentOp.op);
      if (sentOp.acked && !isApplied) fail(`acknowledged write #${i} ${JSON.stringify(sentOp.op)} is missing`);
      if (isApplied) {
        if (lastApplied !== i - 1) fail(`write #${i} survived but write #${lastApplied + 1} before it did not: not a prefix`);
        lastApplied = i;
        if (!sentOp.acked) unackedSurvivors++;
      }
    });
    for (let k = 0; k < keys; k++) {
      const sentMax = Math.max(keyVersion[k]!, ...ops.flatMap((o) => ("key" in o.op && o.op.key === k ? [o.op.version] : [])));
      if (versions[k]! > sentMax) fail(`${keyPath(k)} is at version ${versions[k]}, beyond any write sent`);
    }
    // Exactly the surviving creates are there.
    const expected = new Set<string>();
    for (const { op } of ops.slice(0, lastApplied + 1)) {
      if (op.kind === "create") expected.add(op.path.substring(op.path.lastIndexOf("/") + 1));
      if (op.kind === "multi") {
        expected.add(op.a.substring(op.a.lastIndexOf("/") + 1));
        expected.add(op.b.substring(op.b.lastIndexOf("/") + 1));
      }
    }
    for (const name of here) if (!expected.has(name)) fail(`${name} appeared under /crash/it/${iteration} though it was never (or not yet) written`);
    iterationNodes.set(iteration, expected);
    for (const [it, names] of iterationNodes) {
      const now = children.get(it)!;
      if (now.size !== names.size || [...names].some((n) => !now.has(n))) fail(`/crash/it/${it} changed after it was checked`);
    }
    // The killed writer's session is back, with its ephemeral.
    if ((await client.getData(`/crash/eph-${iteration}`)).err !== "ok") fail(`the ephemeral of the killed writer's session is gone right after the restart`);
    for (let k = 0; k < keys; k++) keyVersion[k] = versions[k]!;
    return unackedSurvivors;
  };

  const checkOutput = () => {
    const fresh = server.takeOutput();
    if (/Digests are not matching/.test(fresh)) throw new CrashCheckError(`recovery found a digest mismatch:\n${fresh.slice(-3000)}`);
    tornTails += (fresh.match(/the log ends at offset \d+ with/g) ?? []).length;
    snapshots += (fresh.match(/Snapshot snapshot\.[0-9a-f]+ taken/g) ?? []).length;
  };

  try {
    const setup = await RawClient.connect("127.0.0.1", port);
    for (const path of ["/crash", "/crash/keys", "/crash/it"]) await setup.create(path, null);
    for (let k = 0; k < keys; k++) {
      const r = await setup.create(keyPath(k), keyData(k, 0));
      if (r.err !== "ok") throw new CrashCheckError(`setup: create ${keyPath(k)}: ${r.err}`);
    }
    await setup.close();

    for (let iteration = 0; iteration <= options.kills; iteration++) {
      // ---- check what the previous iteration left (after its kill and this restart)
      const checker = await RawClient.connect("127.0.0.1", port, { timeoutMs: 30_000 });
      checkOutput();
      if (iteration > 0) {
        const outcome = await check(checker, iteration - 1);
        unackedSurvived += outcome;
      }
      if (iteration === options.kills) {
        // No more kills: no client returns, so every writer session must expire and take its ephemerals.
        const deadline = Date.now() + sessionTimeoutMs * 3 + 5000;
        for (;;) {
          const left = [];
          for (const path of ephemerals) if ((await checker.getData(path)).err === "ok") left.push(path);
          if (left.length === 0) break;
          if (Date.now() > deadline) throw new CrashCheckError(`sessions did not expire: ephemerals still there: ${left.join(", ")}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        await checker.close();
        break;
      }
      await checker.close();

      // ---- write until the kill
      const writer = await RawClient.connect("127.0.0.1", port, { timeoutMs: sessionTimeoutMs });
      const eph = `/crash/eph-${iteration}`;
      if ((await writer.create(eph, Buffer.from(`${iteration}`), 1)).err !== "ok") throw new CrashCheckError(`could not create ${eph}`);
      ephemerals.push(eph);
      const iterDir = `/crash/it/${iteration}`;
      if ((await writer.create(iterDir, null)).err !== "ok") throw new CrashCheckError(`could not create ${iterDir}`);
      iterationNodes.set(iteration, new Set());
      const ops: SentOp[] = [];
      const nextVersion = keyVersion.map((v) => v + 1);
      let stop = false;
      let failure: string | null = null;
      const sendOne = (index: number): Promise<void> => {
        const roll = rand();
        let op: Op;
        let reply: Promise<{ err: string; results?: string[] }>;
        if (roll < 0.55) {
          const key = Math.floor(rand() * keys);
          const version = nextVersion[key]!++;
          op = { kind: "set", key, version };
          reply = writer.setData(keyPath(key), keyData(key, version), version - 1);
        } else if (roll < 0.85) {
          const path = `${iterDir}/n${index}`;
          op = { kind: "create", path };
          reply = writer.create(path, createData(path));
        } else {
          const key = Math.floor(rand() * keys);
          const version = nextVersion[key]!++;
          const a = `${iterDir}/m${index}a`;
          const b = `${iterDir}/m${index}b`;
          op = { kind: "multi", a, b, key, version };
          reply = writer.multi([
            { op: "create", path: a, data: createData(a) },
            { op: "setData", path: keyPath(key), data: keyData(key, version), version: version - 1 },
            { op: "create", path: b, data: createData(b) },
          ]);
        }
        const record: SentOp = { op, acked: false };
        ops.push(record);
        sent++;
        return reply.then((r) => {
          if (r.err === "ok") {
            record.acked = true;
            acked++;
          } else if (r.err !== "connectionLoss") {
            failure ??= `op ${index} (${JSON.stringify(op)}) failed with ${r.err}`;
          }
        });
      };
      const writing = (async () => {
        let index = 0;
        const inFlight = new Set<Promise<void>>();
        // Stop when told to, or when the connection is gone (the kill): sends then fail at once, and looping on
        // them would starve the event loop.
        while (!stop && !writer.isClosed) {
          while (inFlight.size < windowOps && !stop && !writer.isClosed) {
            const p = sendOne(index++).finally(() => inFlight.delete(p));
            inFlight.add(p);
          }
          if (inFlight.size > 0) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      })();
      const min = options.writeMsMin ?? 50;
      const max = options.writeMsMax ?? 600;
      await new Promise((resolve) => setTimeout(resolve, min + Math.floor(rand() * (max - min))));
      await server.crash();
      stop = true;
      await writing;
      writer.destroy();
      if (failure !== null) throw new CrashCheckError(`iteration ${iteration}: ${failure}`);
      log(`  kill ${iteration + 1}/${options.kills}: ${ops.length} sent, ${ops.filter((o) => o.acked).length} acked`);
      pendingOps = ops;
      checkOutput(); // what the crashed server said (its fuzzy snapshots)
      port = await server.start();
    }
  } catch (error) {
    const tail = server.takeOutput().slice(-4000);
    if (error instanceof CrashCheckError) error.message += `\n(seed ${options.seed}; data kept in ${server.dataLocation}; server output tail:)\n${tail}`;
    await server.cleanup(true).catch(() => {});
    throw error;
  }
  await server.cleanup(options.keepDataDir ?? false);
  return { seed: options.seed, kills: options.kills, acked, sent, unackedSurvived, tornTails, snapshots, elapsedMs: Date.now() - started, dataDir: server.dataLocation };

}
