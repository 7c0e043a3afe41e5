/**
 * Seeded simulations of the ensemble, part 3 of 4 (each part runs its own slice of seeds in its own worker).
 * Under partitions, crashes, restarts, torn writes and message loss, the checkers of src/sim/checkers.ts hold:
 * one leader per epoch, a zxid names one txn, committed logs are prefixes of one another and in zxid order,
 * committed txns are on a quorum (Zab paper §3 "Properties": integrity, total order, agreement, primary order);
 * and once the faults stop, a quorum commits again (liveness).
 */
import { describe, expect, it } from "vitest";
import { failureSummary, runSeeds, seedPlan } from "./seeds.ts";

const part: number = 3;
const seedsPerPart = 250;
const plan = seedPlan();

describe(`simulation part ${part}`, () => {
  if (plan.replay !== null) {
    it.runIf(part === 0)(`replays seed ${plan.replay}`, () => {
      const batch = runSeeds(plan.replay!, 1, "test/sim/simulation-0.test.ts");
      expect(batch.failures.length, failureSummary(batch)).toBe(0);
    });
    return;
  }
  const first = plan.base + part * seedsPerPart;
  it(`${seedsPerPart} seeds from ${first} (SIM_BASE_SEED=${plan.base})`, () => {
    const batch = runSeeds(first, seedsPerPart, "test/sim/simulation-3.test.ts");
    console.log(`simulation part ${part}: seeds ${first}..${first + seedsPerPart - 1}, ${batch.failures.length} failed, ${(batch.count / (batch.elapsedMs / 1000)).toFixed(0)} seeds/s`);
    expect(batch.failures.length, failureSummary(batch)).toBe(0);
  }, 120_000);
});
