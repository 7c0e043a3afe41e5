/**
 * Ensemble benchmark: a 3-server ensemble of ours and one of Apache ZooKeeper 3.8, in the same configuration
 * (the zoo.cfg `npm run cluster` writes: tickTime 2000, initLimit 10, syncLimit 5, fsync on) on this machine.
 *
 *   npm run bench:ensemble                       both ensembles (ours reported "not available" until it runs)
 *   npm run bench:ensemble -- --only apache      one side only (or --only ours)
 *   npm run bench:ensemble -- --quick            shorter runs, fewer failovers
 *   npm run bench:ensemble -- --connections 6 --depth 32 --seconds 3 --failovers 5
 *
 * Measured:
 * - write throughput: create and setData, pipelined — `--connections` sessions spread round-robin over the three
 *   servers, `--depth` requests in flight on each; a follower forwards each write to the leader, which commits it
 *   on a quorum (Zab: propose, log and fsync, ack, commit);
 * - read throughput: getData the same way (each server answers reads from its own copy);
 * - failover: with a client connected to the whole ensemble (all three addresses), kill -9 the leader and time
 *   until the first write succeeds — election, the new leader syncing a quorum, the client reconnecting. The
 *   median of `--failovers` runs; the killed server is restarted (and waited for) between runs.
 * Loads come from the raw-protocol generator (bench/load.ts); the failover client is this project's client
 * library with its reconnect delays lowered (100 ms), so that the figure is the ensemble's, not the client's
 * back-off.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { apacheJvmFlagsDefault, apacheMissing, MemberModeUnavailableError, startEnsemble, type Ensemble } from "../src/cluster/index.ts";
import { createClient } from "../src/client/index.ts";
import { percentile, requests, runSpread as runSpreadOver, Session, type RunOptions, type Template, type Workload } from "./load.ts";

type Side = "ours" | "apache";
const sides: readonly Side[] = ["ours", "apache"];
const implOf = { ours: "zkbook", apache: "apache" } as const;

interface Args {
  only: Side | undefined;
  quick: boolean;
  connections: number;
  depth: number;
  seconds: number;
  failovers: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: undefined, quick: false, connections: 6, depth: 32, seconds: 3, failovers: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--only") {
      const v = value();
      if (v !== "ours" && v !== "apache") throw new Error("--only ours|apache");
      args.only = v;
    } else if (a === "--quick") args.quick = true;
    else if (a === "--connections") args.connections = positive(a, value());
    else if (a === "--depth") args.depth = positive(a, value());
    else if (a === "--seconds") args.seconds = positive(a, value());
    else if (a === "--failovers") args.failovers = Math.floor(positive(a, value()));
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench:ensemble -- [--only ours|apache] [--quick] [--connections N] [--depth N] [--seconds S] [--failovers N]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (args.quick) {
    args.seconds = Math.min(args.seconds, 1);
    args.failovers = Math.min(args.failovers, 3);
  }
  return args;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} wants a positive number, got ${v}`);
  return n;
}

const servers = 3;
/** Nodes the reads and setData spread over, and their size (as in bench/server-bench.ts). */
const readNodes = 1000;
const dataBytes = 100;
const payload = Buffer.alloc(dataBytes, "z");
/** How long the failover client may wait for one write before it tries again. */
const failoverRequestTimeoutMs = 2_000;
/** A failover that has not produced a write after this long counts as failed. */
const failoverGiveUpMs = 60_000;
const clientReconnectDelayMs = 100;

interface Figures {
  readonly opsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly errors: number;
  readonly firstError?: string;
}

/** The workload with session i on server i mod 3 (load.ts's runSpread), as throughput and latency figures. */
async function runSpread(ensemble: Ensemble, workload: Workload, options: RunOptions): Promise<Figures> {
  const servers = ensemble.members.map((m) => ({ host: "127.0.0.1", port: m.clientPort }));
  const result = await runSpreadOver(servers, workload, options);
  return {
    opsPerSec: result.ops / (result.elapsedMs / 1000),
    p50Us: percentile(result.latenciesUs, 0.5),
    p99Us: percentile(result.latenciesUs, 0.99),
    errors: result.errors,
    firstError: result.firstError,
  };
}

interface Plan {
  readonly workload: "create" | "setData" | "getData";
  readonly make: (root: string, runId: number) => Workload;
}

const plans: readonly Plan[] = (() => {
  const nodes = (root: string, make: (path: string) => Template) => Array.from({ length: readNodes }, (_, i) => make(`${root}/r/n${i}`));
  const pick = (templates: Template[]) => (conn: number, seq: number) => templates[(seq * 7 + conn * 131) % templates.length]!;
  return [
    { workload: "create", make: (root, runId) => (conn, seq) => requests.create(`${root}/c${runId}/s${conn}-${seq}`, payload) },
    { workload: "setData", make: (root) => pick(nodes(root, (p) => requests.setData(p, payload))) },
    { workload: "getData", make: (root) => pick(nodes(root, (p) => requests.getData(p))) },
  ];
})();

/** The benchmark's tree: a root, `r` with the read nodes, a parent for create runs. Through server 1. */
async function prepare(ensemble: Ensemble, root: string): Promise<void> {
  const session = await Session.open("127.0.0.1", ensemble.members[0]!.clientPort);
  try {
    for (const path of [root, `${root}/r`, `${root}/c0`, `${root}/c1`]) {
      if ((await session.call(requests.create(path, Buffer.alloc(0)))) > 0) throw new Error(`could not create ${path}`);
    }
  } finally {
    session.close();
  }
  const made = await runSpread(ensemble, (_conn, seq) => requests.create(`${root}/r/n${seq}`, payload), { connections: 1, depth: 64, maxOps: readNodes, seconds: 60 });
  if (made.errors > 0) throw new Error(`creating the read nodes failed (${made.firstError})`);
}

/** JIT warm-up, not measured: a short mixed run over all servers. */
async function warmUp(ensemble: Ensemble, root: string, args: Args): Promise<void> {
  const get = requests.getData(`${root}/r/n0`);
  const set = requests.setData(`${root}/r/n1`, payload);
  await runSpread(ensemble, (_c, seq) => (seq % 2 === 0 ? get : set), { connections: args.connections, depth: args.depth, maxOps: args.quick ? 30_000 : 150_000, seconds: args.quick ? 1 : 3 });
}

/**
 * kill -9 the leader, then write through a client of the whole ensemble until a write succeeds: the time from
 * the kill to that success. The client is connected (and has written) before the kill.
 */
async function failoverOnce(ensemble: Ensemble, path: string): Promise<{ ms: number; killed: number }> {
  const client = createClient(ensemble.connectString, {
    sessionTimeoutMs: 20_000,
    requestTimeoutMs: failoverRequestTimeoutMs,
    reconnectDelayMsMax: clientReconnectDelayMs,
    hostCycleDelayMs: clientReconnectDelayMs,
  });
  try {
    await client.connect({ timeoutMs: 30_000 });
    await client.setData(path, payload);
    const leader = await ensemble.leader();
    const killedAt = performance.now();
    await ensemble.kill(leader.member.id);
    for (;;) {
      try {
        await client.setData(path, payload);
        return { ms: performance.now() - killedAt, killed: leader.member.id };
      } catch (error) {
        if (performance.now() - killedAt > failoverGiveUpMs) throw new Error(`no write succeeded within ${failoverGiveUpMs} ms of killing the leader: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } finally {
    await client.close().catch(() => {});
  }
}

interface SideResult {
  readonly unavailable?: string;
  readonly describe?: string;
  readonly throughput: Map<string, Figures>;
  readonly failoverMs: number[];
  readonly failoverError?: string;
}

async function startSide(side: Side): Promise<Ensemble | string> {
  if (side === "apache") {
    const missing = apacheMissing();
    if (missing) return missing;
  }
  try {
    return await startEnsemble({ impl: implOf[side], servers, jvmFlags: apacheJvmFlagsDefault });
  } catch (error) {
    if (error instanceof MemberModeUnavailableError) return error.message;
    return `did not start: ${(error as Error).message.split("\n")[0]}`;
  }
}

const fmtOps = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const fmtUs = (us: number) => (Number.isFinite(us) ? (us >= 10_000 ? `${(us / 1000).toFixed(1)}ms` : `${Math.round(us)}µs`) : "-");
const fmtMs = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : "-");
const median = (xs: readonly number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function markdownTable(headers: string[], rows: string[][], leftColumns: number): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i < leftColumns ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()} ${os.arch()}`);
  console.log(
    `ensembles: ${servers} servers on 127.0.0.1 each, zoo.cfg of npm run cluster (tickTime 2000, initLimit 10, syncLimit 5), Apache JVM ${apacheJvmFlagsDefault.join(" ")}`,
  );
  const options: RunOptions = { connections: args.connections, depth: args.depth, maxOps: args.quick ? 100_000 : 400_000, seconds: args.seconds };
  console.log(
    `throughput runs: ${options.connections} sessions round-robin over the ${servers} servers x ${options.depth} outstanding, up to ` +
      `${options.maxOps.toLocaleString("en-US")} requests or ${options.seconds} s; ${readNodes} nodes of ${dataBytes} bytes for getData and setData`,
  );
  console.log(`failover: median of ${args.failovers} runs of kill -9 leader → first successful setData, client of all ${servers} servers (reconnect delay ${clientReconnectDelayMs} ms)`);

  const chosen = sides.filter((s) => args.only === undefined || args.only === s);
  const ensembles = new Map<Side, Ensemble>();
  const results = new Map<Side, SideResult>();
  const stopAll = () => Promise.allSettled([...ensembles.values()].map((e) => e.stop()));
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    // One ensemble at a time: starting three JVMs and three Node processes at once on a small machine only
    // makes both start slower.
    for (const side of chosen) {
      process.stderr.write(`${side}: starting a ${servers}-server ensemble\n`);
      const started = await startSide(side);
      if (typeof started === "string") {
        results.set(side, { unavailable: started, throughput: new Map(), failoverMs: [] });
        process.stderr.write(`${side}: not available: ${started}\n`);
        continue;
      }
      ensembles.set(side, started);
      const version = (await started.statuses()).map((s) => (s.probe.kind === "serving" ? s.probe.version : undefined)).find(Boolean);
      results.set(side, { describe: `${version ?? "?"} at ${started.connectString}`, throughput: new Map(), failoverMs: [] });
    }
    const running = [...ensembles.keys()];
    const root = `/zkbench-ensemble-${process.pid}-${Date.now().toString(36)}`;
    for (const side of running) {
      process.stderr.write(`${side}: preparing ${readNodes} nodes, warming up\n`);
      await prepare(ensembles.get(side)!, root);
      await warmUp(ensembles.get(side)!, root, args);
    }
    // Throughput: the ensembles take turns workload by workload, so that the machine's other load weighs on both.
    for (const [index, plan] of plans.entries()) {
      const order = index % 2 === 0 ? running : [...running].reverse();
      for (const side of order) {
        const f = await runSpread(ensembles.get(side)!, plan.make(root, 0), options);
        results.get(side)!.throughput.set(plan.workload, f);
        process.stderr.write(
          `  ${side.padEnd(6)} ${plan.workload.padEnd(8)} ${fmtOps(f.opsPerSec).padStart(9)} ops/s  p50 ${fmtUs(f.p50Us)}  p99 ${fmtUs(f.p99Us)}` +
            `${f.errors ? `  ${f.errors} errors (${f.firstError})` : ""}\n`,
        );
      }
    }
    // Failover, alternating sides run by run.
    for (let run = 0; run < args.failovers; run++) {
      for (const side of running) {
        const ensemble = ensembles.get(side)!;
        const result = results.get(side)!;
        if (result.failoverError) continue;
        try {
          const { ms, killed } = await failoverOnce(ensemble, `${root}/r/n0`);
          result.failoverMs.push(ms);
          process.stderr.write(`  ${side.padEnd(6)} failover ${run + 1}: killed leader ${killed}, first write after ${fmtMs(ms)}\n`);
          await ensemble.restart(killed);
          await ensemble.local.waitForAll(30_000);
        } catch (error) {
          (result as { failoverError?: string }).failoverError = (error as Error).message.split("\n")[0];
          process.stderr.write(`  ${side.padEnd(6)} failover ${run + 1} failed: ${(error as Error).message}\n`);
        }
      }
    }

    console.log("");
    for (const side of chosen) {
      const r = results.get(side)!;
      console.log(`${side}: ${r.unavailable ? `not available: ${r.unavailable}` : r.describe}`);
    }
    console.log("");
    const [a, b] = chosen;
    const twoWay = chosen.length === 2;
    const ratio = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? `${(x / y).toFixed(2)}x` : "-");
    const headers = ["workload", ...chosen.flatMap((s) => [`${s} ops/s`, `${s} p50`, `${s} p99`])];
    if (twoWay) headers.push(`${a}/${b} ops/s`);
    const rows = plans.map((plan) => {
      const cells = [`${plan.workload} (${plan.workload === "getData" ? "read" : "write"})`];
      for (const s of chosen) {
        const f = results.get(s)!.throughput.get(plan.workload);
        cells.push(f ? fmtOps(f.opsPerSec) : "-", f ? fmtUs(f.p50Us) : "-", f ? fmtUs(f.p99Us) : "-");
      }
      if (twoWay) cells.push(ratio(results.get(a!)!.throughput.get(plan.workload)?.opsPerSec ?? NaN, results.get(b!)!.throughput.get(plan.workload)?.opsPerSec ?? NaN));
      return cells;
    });
    console.log(markdownTable(headers, rows, 1));
    console.log("");
    const fHeaders = ["failover", ...chosen.flatMap((s) => [`${s} median`, `${s} min–max`])];
    if (twoWay) fHeaders.push(`${a}/${b}`);
    const fCells = ["kill -9 leader → first write"];
    for (const s of chosen) {
      const r = results.get(s)!;
      const xs = r.failoverMs;
      fCells.push(xs.length ? `${fmtMs(median(xs))} (${xs.length} runs)` : r.failoverError ? "failed" : "-", xs.length ? `${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}` : "-");
    }
    if (twoWay) fCells.push(ratio(median(results.get(a!)!.failoverMs), median(results.get(b!)!.failoverMs)));
    console.log(markdownTable(fHeaders, [fCells], 1));
    console.log("");
    console.log("ops/s: requests completed per second over all sessions; p50/p99: latency of one request, sent to reply received.");
    if (twoWay) console.log(`ratios: ${a} / ${b} (ops/s above 1 = ${a} faster; failover below 1 = ${a} faster).`);
    for (const s of chosen) {
      const r = results.get(s)!;
      if (r.failoverError) console.log(`${s} failover failed: ${r.failoverError}`);
    }
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
