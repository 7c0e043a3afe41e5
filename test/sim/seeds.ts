/**
 * Running many seeds of the simulation from a test file. Each file takes its own slice of seeds so that vitest's
 * workers share the work. The base seed is random per run (printed) so coverage grows over time; `SEED=n` replays
 * exactly one run; `SIM_BASE_SEED=n` fixes the base. A failure prints its seed and writes its timeline (text and
 * an HTML/SVG sequence diagram) under os.tmpdir().
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFailure, runSimulation, writeTimeline } from "../../src/sim/index.ts";

export interface SeedBatch {
  readonly first: number;
  readonly count: number;
  readonly failures: string[];
  readonly elapsedMs: number;
}

/** Reads the environment (test files are entry points). */
export function seedPlan(env: NodeJS.ProcessEnv = process.env): { replay: number | null; base: number } {
  const parse = (name: string): number | null => {
    const raw = env[name];
    if (raw === undefined || raw === "") return null;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  return { replay: parse("SEED"), base: parse("SIM_BASE_SEED") ?? Math.floor(Math.random() * 2 ** 30) };
}

export function runSeeds(first: number, count: number, testFile: string): SeedBatch {
  const started = performance.now();
  const failures: string[] = [];
  const dir = join(tmpdir(), "zkbook-sim");
  for (let seed = first; seed < first + count; seed++) {
    const result = runSimulation(seed);
    if (result.ok) continue;
    const written = writeTimeline(result, dir);
    const message =
      `${describeFailure(result)}\n  replay: SEED=${seed} npx vitest run ${testFile}\n` +
      `  timeline: ${written.textPath}\n            ${written.htmlPath}`;
    console.error(message);
    failures.push(message);
  }
  return { first, count, failures, elapsedMs: performance.now() - started };
}
