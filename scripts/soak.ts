/**
 * npm run soak — many more simulation seeds than `npm test` runs, spread over worker processes.
 *
 *   npm run soak                      20,000 seeds from a random base, one worker per CPU
 *   npm run soak -- --seeds 100000 --from 7 --workers 2
 *   npm run soak -- --minutes 30      keep going for 30 minutes
 *   SEED=n npm run soak               replay one seed and write its timeline
 *
 * Prints progress, seeds per second, the failure rate and how often each path was exercised (elections, TRUNC,
 * SNAP, torn writes…); every failing seed is printed with its replay command and its timeline is written under
 * os.tmpdir()/zkbook-sim. Exits 1 if any seed failed.
 */
import { fork } from "node:child_process";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeFailure, livenessBudgetMsDefault, runSimulation, writeTimeline, type SimulationResult } from "../src/sim/index.ts";

interface Options {
  readonly seeds: number;
  readonly from: number;
  readonly workers: number;
  readonly minutes: number | null;
}

/** Counters summed over runs. */
type Tally = Record<string, number>;

type FromWorker = { kind: "done"; seed: number; ok: boolean; tally: Tally; recoveryMs: number | null; failure?: string } | { kind: "idle" };
type ToWorker = { kind: "run"; seed: number } | { kind: "stop" };

const timelineDir = join(tmpdir(), "zkbook-sim");

function tallyOf(r: SimulationResult): Tally {
  const s = r.stats;
  return {
    runs: 1,
    events: s.events,
    virtualMs: r.endMs,
    commits: s.commits,
    elections: s.elections,
    established: s.established,
    crashes: s.crashes,
    DIFF: s.syncs.DIFF,
    TRUNC: s.syncs.TRUNC,
    SNAP: s.syncs.SNAP,
    "runs with TRUNC": s.syncs.TRUNC > 0 ? 1 : 0,
    "runs with SNAP": s.syncs.SNAP > 0 ? 1 : 0,
    "torn tails recovered": s.tornRecovered,
    "client syncs": s.clientSyncs.done,
    "stale syncs": s.clientSyncs.stale,
    "recovery ms (sum)": r.liveness.progressAtMs === null ? 0 : r.liveness.progressAtMs - r.liveness.healedAtMs,
  };
}

/** Each worker writes timelines for its first few failures only (a replay with recording on, and large). */
const timelinesPerWorkerMax = 10;
let timelinesWritten = 0;

function runOne(seed: number): FromWorker {
  const r = runSimulation(seed);
  const recoveryMs = r.liveness.progressAtMs === null ? null : r.liveness.progressAtMs - r.liveness.healedAtMs;
  if (r.ok) return { kind: "done", seed, ok: true, tally: tallyOf(r), recoveryMs };
  let failure = `${describeFailure(r)}\n  replay: SEED=${seed} npm run soak`;
  if (timelinesWritten++ < timelinesPerWorkerMax) {
    const written = writeTimeline(r, timelineDir);
    failure += `\n  timeline: ${written.textPath}\n            ${written.htmlPath}`;
  }
  return { kind: "done", seed, ok: false, tally: tallyOf(r), recoveryMs, failure };
}

function worker(): void {
  process.on("message", (m: ToWorker) => {
    if (m.kind === "stop") process.exit(0);
    process.send!(runOne(m.seed));
  });
  process.send!({ kind: "idle" } satisfies FromWorker);
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  const minutes = get("minutes");
  return {
    seeds: int("seeds", get("seeds"), minutes === undefined ? 20_000 : Number.MAX_SAFE_INTEGER),
    from: int("from", get("from") ?? env.SIM_BASE_SEED, Math.floor(Math.random() * 2 ** 30)),
    workers: Math.max(1, int("workers", get("workers"), availableParallelism())),
    minutes: minutes === undefined ? null : Number(minutes),
  };
}

async function main(): Promise<void> {
  const env = process.env;
  if (env.SEED !== undefined && env.SEED !== "") {
    const seed = Number(env.SEED);
    const r = runSimulation(seed);
    const written = writeTimeline(r, timelineDir);
    console.log(r.ok ? `seed ${seed}: ok — ${r.setup}` : describeFailure(r));
    console.log(`timeline: ${written.textPath}\n          ${written.htmlPath}`);
    process.exitCode = r.ok ? 0 : 1;
    return;
  }
  const opts = parseArgs(process.argv.slice(2), env);
  const deadline = opts.minutes === null ? Number.POSITIVE_INFINITY : Date.now() + opts.minutes * 60_000;
  console.log(`soak: ${opts.minutes === null ? `${opts.seeds} seeds` : `${opts.minutes} minutes`} from seed ${opts.from}, ${opts.workers} workers`);
  const started = Date.now();
  const total: Tally = {};
  const failures: string[] = [];
  let slowest = { ms: 0, seed: -1 };
  let next = opts.from;
  const end = opts.from + opts.seeds;
  let done = 0;
  let lastReport = started;

  const report = (final: boolean): void => {
    const secs = (Date.now() - started) / 1000;
    const line = `${done} seeds, ${failures.length} failed (${((100 * failures.length) / Math.max(1, done)).toFixed(3)}%), ${(done / secs).toFixed(0)} seeds/s`;
    if (!final) {
      console.log(`  … ${line}`);
      return;
    }
    console.log(`\nsoak finished: ${line}, ${secs.toFixed(1)} s, seeds ${opts.from}..${next - 1}`);
    const runs = Math.max(1, total.runs ?? 0);
    const avg = (k: string) => ((total[k] ?? 0) / runs).toFixed(2);
    console.log(`per run: ${avg("elections")} elections, ${avg("established")} established epochs, ${avg("commits")} txns applied, ${avg("crashes")} crashes, ${avg("events")} events, ${avg("virtualMs")} virtual ms`);
    console.log(`syncs: DIFF ${total.DIFF ?? 0}, TRUNC ${total.TRUNC ?? 0} (in ${total["runs with TRUNC"] ?? 0} runs), SNAP ${total.SNAP ?? 0} (in ${total["runs with SNAP"] ?? 0} runs); torn log tails recovered: ${total["torn tails recovered"] ?? 0}`);
    console.log(`client syncs answered: ${total["client syncs"] ?? 0}, stale (missed a write committed before them — the notes' caveat on leader change): ${total["stale syncs"] ?? 0}`);
    console.log(
      `time from heal to a quorum commit: mean ${avg("recovery ms (sum)")} virtual ms, worst ${slowest.ms.toFixed(0)} ms (seed ${slowest.seed}; the budget is ${livenessBudgetMsDefault} ms)`,
    );
  };

  const script = fileURLToPath(import.meta.url);
  await new Promise<void>((resolve) => {
    let live = 0;
    for (let w = 0; w < opts.workers; w++) {
      const child = fork(script, ["--worker"], { execArgv: process.execArgv });
      live++;
      const feed = (): void => {
        if (next < end && Date.now() < deadline) child.send({ kind: "run", seed: next++ } satisfies ToWorker);
        else child.send({ kind: "stop" } satisfies ToWorker);
      };
      child.on("message", (m: FromWorker) => {
        if (m.kind === "done") {
          done++;
          for (const [k, v] of Object.entries(m.tally)) total[k] = (total[k] ?? 0) + v;
          if (m.recoveryMs !== null && m.recoveryMs > slowest.ms) slowest = { ms: m.recoveryMs, seed: m.seed };
          if (!m.ok) {
            failures.push(m.failure!);
            console.error(`\nFAILED ${m.failure}\n`);
          }
          if (Date.now() - lastReport > 10_000) {
            lastReport = Date.now();
            report(false);
          }
        }
        feed();
      });
      child.on("exit", () => {
        if (--live === 0) resolve();
      });
    }
  });
  report(true);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

if (process.argv.includes("--worker")) worker();
else await main();
