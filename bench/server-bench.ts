/**
 * `npm run bench`: throughput and latency of this server and of Apache ZooKeeper 3.8, side by side.
 *
 *   npm run bench                           both servers, started here on loopback (ours in a child process)
 *   npm run bench -- --target host:port     one running server (repeatable: --target a --target b)
 *   npm run bench -- --only ours            skip Apache (or --only apache)
 *   npm run bench -- --quick                shorter runs
 *   npm run bench -- --cpu-prof DIR         write a V8 CPU profile of our server into DIR
 *   npm run bench -- --apache-harness       Apache with the interop harness's JVM (C1 only, 256 MB)
 *   npm run bench -- --workload get         only the workloads named so (repeatable; also --connections,
 *                                           --depth, --seconds)
 *   npm run bench -- --repeat 3             run each measurement 3 times, report the best (a busy machine)
 *
 * Workloads: create, setData, getData, exists, and a 90/10 getData/setData mix, each run
 * - pipelined: several sessions, many requests outstanding on each (throughput), and
 * - one at a time: a single session with one request outstanding (round-trip latency).
 * Reads go to pre-created nodes. Every run is bounded in requests and in seconds. The load comes from a raw
 * protocol generator (bench/load.ts), not a client library, so the client is not what limits the numbers.
 */
import os from "node:os";
import { apacheAvailable } from "../test/interop/harness/index.ts";
import { percentile, requests, run, Session, type RunOptions, type RunResult, type Template, type Workload } from "./load.ts";
import { external, startApache, startOurs, type Target } from "./targets.ts";

interface Args {
  targets: string[];
  only: "ours" | "apache" | undefined;
  quick: boolean;
  cpuProfDir: string | undefined;
  apacheHarness: boolean;
  connections: number;
  depth: number;
  seconds: number;
  /** Only the workloads whose names start with one of these (e.g. "get", "mix"). */
  workloads: string[];
  /** Runs per target and plan; the one with the most ops/s is reported (the least disturbed by other load). */
  repeat: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { targets: [], only: undefined, quick: false, cpuProfDir: undefined, apacheHarness: false, connections: 4, depth: 32, seconds: 3, workloads: [], repeat: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--target") args.targets.push(value());
    else if (a === "--only") {
      const v = value();
      if (v !== "ours" && v !== "apache") throw new Error("--only ours|apache");
      args.only = v;
    } else if (a === "--quick") args.quick = true;
    else if (a === "--cpu-prof") args.cpuProfDir = value();
    else if (a === "--apache-harness") args.apacheHarness = true;
    else if (a === "--connections") args.connections = positive(a, value());
    else if (a === "--depth") args.depth = positive(a, value());
    else if (a === "--seconds") args.seconds = positive(a, value());
    else if (a === "--workload") args.workloads.push(value());
    else if (a === "--repeat") args.repeat = Math.floor(positive(a, value()));
    else if (a === "--help" || a === "-h") {
      console.log(helpText());
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (args.quick) args.seconds = Math.min(args.seconds, 1);
  return args;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} wants a positive number, got ${v}`);
  return n;
}

function helpText(): string {
  return "usage: npm run bench -- [--target host:port]... [--only ours|apache] [--quick] [--cpu-prof DIR] [--apache-harness] [--connections N] [--depth N] [--seconds S] [--workload NAME]... [--repeat N]";
}

/** How many nodes the reads and setData spread over, and their size. */
const readNodes = 1000;
const dataBytes = 100;
const payload = Buffer.alloc(dataBytes, "z");

interface Plan {
  readonly workload: string;
  readonly mode: "pipelined" | "one at a time";
  readonly options: RunOptions;
  readonly make: (root: string, runId: number) => Workload;
}

function plans(args: Args): Plan[] {
  const pipelined: RunOptions = { connections: args.connections, depth: args.depth, maxOps: args.quick ? 100_000 : 400_000, seconds: args.seconds };
  const single: RunOptions = { connections: 1, depth: 1, maxOps: args.quick ? 5_000 : 30_000, seconds: Math.max(1, args.seconds * 0.66) };
  const nodeTemplates = (root: string, make: (path: string) => Template) => Array.from({ length: readNodes }, (_, i) => make(`${root}/r/n${i}`));
  // Spread each session over the nodes with a stride, so that sessions touch different nodes at a time.
  const pick = (templates: Template[]) => (conn: number, seq: number) => templates[(seq * 7 + conn * 131) % templates.length]!;
  const workloads: Array<[string, (root: string, runId: number) => Workload]> = [
    ["create", (root, runId) => (conn, seq) => requests.create(`${root}/c${runId}/s${conn}-${seq}`, payload)],
    ["setData", (root) => pick(nodeTemplates(root, (p) => requests.setData(p, payload)))],
    ["getData", (root) => pick(nodeTemplates(root, (p) => requests.getData(p)))],
    ["exists", (root) => pick(nodeTemplates(root, (p) => requests.exists(p)))],
    [
      "mix 90/10",
      (root) => {
        const reads = pick(nodeTemplates(root, (p) => requests.getData(p)));
        const writes = pick(nodeTemplates(root, (p) => requests.setData(p, payload)));
        return (conn, seq) => (seq % 10 === 9 ? writes(conn, seq) : reads(conn, seq));
      },
    ],
  ];
  const out: Plan[] = [];
  for (const [workload, make] of workloads) {
    if (args.workloads.length > 0 && !args.workloads.some((w) => workload.startsWith(w))) continue;
    out.push({ workload, mode: "pipelined", options: pipelined, make });
    out.push({ workload, mode: "one at a time", options: single, make });
  }
  return out;
}

interface Figures {
  readonly opsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly errors: number;
  readonly firstError?: string;
}

function figures(r: RunResult): Figures {
  return {
    opsPerSec: r.ops / (r.elapsedMs / 1000),
    p50Us: percentile(r.latenciesUs, 0.5),
    p99Us: percentile(r.latenciesUs, 0.99),
    errors: r.errors,
    firstError: r.firstError,
  };
}

/** Creates the benchmark's tree on `target`: a root, `r` with the read nodes, and a parent per create run. */
async function prepare(target: Target, root: string, createRuns: number): Promise<void> {
  const session = await Session.open(target.host, target.port);
  try {
    const must = async (t: Template, what: string) => {
      const errors = await session.call(t);
      if (errors > 0) throw new Error(`${target.name}: could not create ${what}`);
    };
    await must(requests.create(root, Buffer.alloc(0)), root);
    await must(requests.create(`${root}/r`, Buffer.alloc(0)), `${root}/r`);
    for (let i = 0; i < createRuns; i++) await must(requests.create(`${root}/c${i}`, Buffer.alloc(0)), `${root}/c${i}`);
  } finally {
    session.close();
  }
  // The read nodes, pipelined.
  const result = await run(target.host, target.port, (_conn, seq) => requests.create(`${root}/r/n${seq}`, payload), {
    connections: 1,
    depth: 64,
    maxOps: readNodes,
    seconds: 60,
  });
  if (result.errors > 0 || result.ops !== readNodes) throw new Error(`${target.name}: creating the read nodes failed (${result.firstError})`);
}

/** JIT warm-up (both V8 and HotSpot compile hot code after a while): a short mixed run, not measured. */
async function warmUp(target: Target, root: string, args: Args): Promise<void> {
  const reads = requests.getData(`${root}/r/n0`);
  const exists = requests.exists(`${root}/r/n1`);
  const writes = requests.setData(`${root}/r/n2`, payload);
  const workload: Workload = (_conn, seq) => (seq % 3 === 0 ? reads : seq % 3 === 1 ? exists : writes);
  await run(target.host, target.port, workload, { connections: args.connections, depth: args.depth, maxOps: args.quick ? 50_000 : 300_000, seconds: args.quick ? 1 : 4 });
  await run(target.host, target.port, workload, { connections: 1, depth: 1, maxOps: 3_000, seconds: 1 });
}

/**
 * Measures every plan on every target. The targets take turns plan by plan (not one whole target after the
 * other), so that whatever else the machine is doing weighs on both alike.
 */
async function benchTargets(targets: Target[], args: Args): Promise<Map<string, Map<string, Figures>>> {
  const root = `/zkbench-${process.pid}-${Date.now().toString(36)}`;
  const all = plans(args);
  const createRuns = all.filter((p) => p.workload === "create").length * args.repeat;
  for (const target of targets) {
    process.stderr.write(`${target.name}: preparing ${readNodes} nodes, warming up\n`);
    await prepare(target, root, createRuns);
    await warmUp(target, root, args);
  }
  const results = new Map<string, Map<string, Figures>>(targets.map((t) => [t.name, new Map()]));
  let createRun = 0;
  for (const [index, plan] of all.entries()) {
    const runId = plan.workload === "create" ? createRun++ : 0;
    // Alternate who goes first.
    const order = index % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      // A create run makes new nodes: each attempt gets a parent of its own.
      const attempt = async (n: number) =>
        figures(await run(target.host, target.port, plan.make(root, plan.workload === "create" ? runId * args.repeat + n : runId), plan.options));
      let result = await attempt(0);
      for (let n = 1; n < args.repeat; n++) {
        const r = await attempt(n);
        if (r.opsPerSec > result.opsPerSec) result = r;
      }
      results.get(target.name)!.set(`${plan.workload}|${plan.mode}`, result);
      process.stderr.write(
        `  ${target.name.padEnd(6)} ${plan.workload.padEnd(10)} ${plan.mode.padEnd(13)} ${fmtOps(result.opsPerSec).padStart(9)} ops/s` +
          `  p50 ${fmtUs(result.p50Us)}  p99 ${fmtUs(result.p99Us)}${result.errors ? `  ${result.errors} errors (${result.firstError})` : ""}\n`,
      );
    }
  }
  return results;
}

const fmtOps = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const fmtUs = (us: number) => (Number.isFinite(us) ? (us >= 10_000 ? `${(us / 1000).toFixed(1)}ms` : `${Math.round(us)}µs`) : "-");

function table(names: string[], results: Map<string, Map<string, Figures>>, args: Args): string {
  const headers = ["workload", "mode", ...names.flatMap((n) => [`${n} ops/s`, `${n} p50`, `${n} p99`])];
  const twoWay = names.length === 2;
  if (twoWay) headers.push(`${names[0]}/${names[1]} ops/s`, `${names[0]}/${names[1]} p50`);
  const rows: string[][] = [];
  for (const plan of plans(args)) {
    const key = `${plan.workload}|${plan.mode}`;
    const row = [plan.workload, plan.mode];
    for (const name of names) {
      const f = results.get(name)?.get(key);
      row.push(f ? fmtOps(f.opsPerSec) : "-", f ? fmtUs(f.p50Us) : "-", f ? fmtUs(f.p99Us) : "-");
    }
    if (twoWay) {
      const [a, b] = names.map((n) => results.get(n)?.get(key));
      row.push(a && b ? `${(a.opsPerSec / b.opsPerSec).toFixed(2)}x` : "-", a && b ? `${(a.p50Us / b.p50Us).toFixed(2)}x` : "-");
    }
    rows.push(row);
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(headers), `|${widths.map((w, i) => (i < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()} ${os.arch()}`);
  console.log(`load generator: node ${process.version}, raw protocol, this process`);
  const p = plans(args);
  const pipe = p.find((x) => x.mode === "pipelined")!.options;
  const one = p.find((x) => x.mode !== "pipelined")!.options;
  console.log(
    `runs: pipelined = ${pipe.connections} sessions x ${pipe.depth} outstanding, up to ${pipe.maxOps.toLocaleString("en-US")} requests or ${pipe.seconds} s; ` +
      `one at a time = 1 session x 1 outstanding, up to ${one.maxOps.toLocaleString("en-US")} requests or ${one.seconds.toFixed(1)} s; ` +
      `${readNodes} nodes of ${dataBytes} bytes for reads and setData` +
      (args.repeat > 1 ? `; best of ${args.repeat} runs each` : ""),
  );

  const targets: Target[] = [];
  const stopAll = async () => {
    await Promise.allSettled(targets.map((t) => t.stop()));
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    if (args.targets.length > 0) {
      for (const t of args.targets) targets.push(external(t));
    } else {
      const starting: Array<Promise<Target>> = [];
      if (args.only !== "apache") {
        const nodeFlags = args.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${args.cpuProfDir}`] : [];
        starting.push(startOurs({ nodeFlags }));
      }
      if (args.only !== "ours") {
        const available = apacheAvailable();
        if (available.has.java && available.has.zookeeperJars) starting.push(startApache({ harness: args.apacheHarness }));
        else console.log(`Apache ZooKeeper not installed (${available.missing.join("; ")}): benchmarking ours only`);
      }
      const started = await Promise.allSettled(starting);
      for (const s of started) if (s.status === "fulfilled") targets.push(s.value);
      const failed = started.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    const loadBefore = os.loadavg()[0]!;
    // One server at a time: while one is measured the other sits idle.
    const results = await benchTargets(targets, args);
    // Described after the runs: whether a server wrote a txn log shows only once it has taken writes.
    for (const t of targets) console.log(`${t.name}: ${await t.describe()} at ${t.host}:${t.port}`);
    console.log(`load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)} on ${cpus.length} cores`);
    console.log("");
    console.log(table(targets.map((t) => t.name), results, args));
    console.log("");
    console.log("ops/s: requests completed per second; p50/p99: latency of one request, sent to reply received.");
    if (targets.length === 2) console.log(`ratios: ${targets[0]!.name} / ${targets[1]!.name} (ops/s above 1 = ${targets[0]!.name} faster; p50 below 1 = ${targets[0]!.name} faster).`);
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
