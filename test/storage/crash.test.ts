// kill -9 at random moments (seeded; the seed is printed): every acknowledged write survives, nothing is
// half-applied, sessions come back and then expire (book chapter 9: log before ack; chapter 10: torn tails).
// A longer run: `npm run crash -- --kills 200 [--seed N]`.
import { expect, it } from "vitest";
import { crashRun } from "./support/crash-run.ts";

const seed = process.env.ZKBOOK_CRASH_SEED !== undefined ? Number(process.env.ZKBOOK_CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
const kills = Number(process.env.ZKBOOK_CRASH_KILLS ?? 20);

it(`survives ${kills} SIGKILLs of the server process (seed ${seed}; rerun with ZKBOOK_CRASH_SEED=${seed})`, async () => {
  console.log(`crash test seed ${seed} (ZKBOOK_CRASH_SEED=${seed} npx vitest run test/storage/crash.test.ts)`);
  const report = await crashRun({ seed, kills, writeMsMin: 40, writeMsMax: 400 });
  console.log(
    `crash test: ${report.kills} kills in ${(report.elapsedMs / 1000).toFixed(1)} s; ${report.acked} writes acknowledged and found, ` +
      `${report.unackedSurvived} unacknowledged but durable ones survived whole, ${report.tornTails} torn tails, ${report.snapshots} snapshots`,
  );
  expect(report.kills).toBeGreaterThanOrEqual(20);
  expect(report.acked).toBeGreaterThan(0);
}, 240_000);

