/**
 * Running many seeds of the simulation from a test file. Each file takes its own slice of seeds so that vitest's
 * workers share the work. The base seed is random per run (printed) so coverage grows over time — fixed under CI
 * (`ciBaseSeed`). `SEED=n` replays exactly one run; `SIM_BASE_SEED=n` fixes the base. A failure prints its seed and
 * writes its timeline (text and an HTML/SVG sequence diagram) under os.tmpdir().
 */
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { describeFailure, runSimulation, writeTimeline } from "../../src/sim/index.ts";

export interface SeedBatch {
  readonly first: number;
  readonly count: number;
  readonly failures: string[];
  readonly elapsedMs: number;
}

/**
 * The seeds CI runs: fixed, so a rare failure cannot block an unrelated submission at random. Local runs take a
 * random base and so explore new seeds every time; `npm run soak` explores many more.
 */
export const ciBaseSeed = 1_000_000;

/** Reads the environment (test files are entry points). */
export function seedPlan(env: NodeJS.ProcessEnv = process.env): { replay: number | null; base: number } {
  const parse = (name: string): number | null => {
    const raw = env[name];
    if (raw === undefined || raw === "") return null;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false";
  return { replay: parse("SEED"), base: parse("SIM_BASE_SEED") ?? (ci ? ciBaseSeed : Math.floor(Math.random() * 2 ** 30)) };
}

/** Timelines are written for the first few failures only (each is a replay with recording on, and large). */
const timelinesPerBatchMax = 3;

export function runSeeds(first: number, count: number, testFile: string): SeedBatch {
  const started = performance.now();
  const failures: string[] = [];
  const dir = join(tmpdir(), "zkbook-sim");
  for (let seed = first; seed < first + count; seed++) {
    const result = runSimulation(seed);
    if (result.ok) continue;
    let message = `${describeFailure(result)}\n  replay: SEED=${seed} npx vitest run ${testFile}`;
    if (failures.length < timelinesPerBatchMax) {
      const written = writeTimeline(result, dir);
      message += `\n  timeline: ${written.textPath}\n            ${written.htmlPath}`;
    }
    console.error(message);
    failures.push(message);
  }
  return { first, count, failures, elapsedMs: performance.now() - started };
}

/** The assertion message of a batch: the first failures in full, then a count. */
export function failureSummary(batch: SeedBatch, shown = 5): string {
  const more = batch.failures.length - shown;
  return `${batch.failures.length} of ${batch.count} seeds failed\n\n${batch.failures.slice(0, shown).join("\n\n")}${more > 0 ? `\n\n… and ${more} more` : ""}`;
}

/** Seeds per part: four parts of 250 make the 1,000 seeds per `npm test` run. */
const seedsPerPart = 250;

/**
 * The body of test/sim/simulation-N.test.ts: part `part` runs its own slice of seeds (one file per part so that
 * vitest's workers share them). Under partitions, crashes, restarts, torn writes and message loss, the checkers of
 * src/sim/checkers.ts hold: one leader per epoch, a zxid names one txn, committed logs are prefixes of one another
 * and in zxid order, committed txns are on a quorum (Zab paper §3 "Properties": integrity, total order, agreement,
 * primary order); and once the faults stop, a quorum commits again (liveness). `SEED=n` replays one run, in part 0.
 */
export function simulationPart(part: number): void {
  const plan = seedPlan();
  const testFile = `test/sim/simulation-${part}.test.ts`;
  describe(`simulation part ${part}`, () => {
    if (plan.replay !== null) {
      it.runIf(part === 0)(`replays seed ${plan.replay}`, () => {
        const batch = runSeeds(plan.replay!, 1, testFile);
        expect(batch.failures.length, failureSummary(batch)).toBe(0);
      });
      return;
    }
    const first = plan.base + part * seedsPerPart;
    it(`${seedsPerPart} seeds from ${first} (SIM_BASE_SEED=${plan.base})`, () => {
      const batch = runSeeds(first, seedsPerPart, testFile);
      console.log(`simulation part ${part}: seeds ${first}..${first + seedsPerPart - 1}, ${batch.failures.length} failed, ${(batch.count / (batch.elapsedMs / 1000)).toFixed(0)} seeds/s`);
      expect(batch.failures.length, failureSummary(batch)).toBe(0);
    }, 120_000);
  });
}
