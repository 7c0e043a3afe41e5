// Crashes a real process cannot stage: power loss (unsynced writes gone) and torn writes (a random prefix of
// them kept), on the in-memory disk, against the same checks as the SIGKILL test (crash.test.ts): every
// acknowledged write survives, nothing is half-applied, torn tails end the log cleanly. Seeded; seed printed.
import { expect, it } from "vitest";
import { crashRun, memoryDriver } from "./support/crash-run.ts";

const seed = process.env.ZKBOOK_CRASH_SEED !== undefined ? Number(process.env.ZKBOOK_CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);

it(`survives power losses, torn writes and process crashes of an in-memory disk (seed ${seed})`, async () => {
  const driver = memoryDriver({ sessionTimeoutMs: 3000, snapCount: 60, preAllocSizeKb: 8 }, seed);
  const report = await crashRun({ seed, kills: 25, writeMsMin: 20, writeMsMax: 150, windowOps: 100 }, driver);
  console.log(
    `memory crash test: ${report.kills} crashes in ${(report.elapsedMs / 1000).toFixed(1)} s (${driver.description}); ` +
      `${report.acked} acknowledged writes found, ${report.tornTails} torn tails recovered`,
  );
  expect(report.acked).toBeGreaterThan(0);
}, 240_000);
