/**
 * `npm run crash [-- --kills N] [--seed S] [--keep] [--memory]`: the long crash test. The server runs as a child
 * process; a writer pipelines writes; the server is SIGKILLed at seeded random moments and restarted on the same
 * dataDir; after every restart every acknowledged write must be there and nothing half-applied (see
 * test/storage/support/crash-run.ts). With --memory the server runs in this process on the in-memory disk and
 * crashes are power losses and torn writes instead. Prints the seed first: the same seed replays the same schedule.
 */
import { crashRun, CrashCheckError, memoryDriver } from "../test/storage/support/crash-run.ts";

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<number> {
  const seed = Number(option("seed") ?? Math.floor(Math.random() * 2 ** 31));
  const kills = Number(option("kills") ?? 200);
  const keep = process.argv.includes("--keep");
  const memory = process.argv.includes("--memory");
  console.log(`seed ${seed} (replay: npm run crash -- --seed ${seed} --kills ${kills}${memory ? " --memory" : ""})`);
  try {
    const driver = memory ? memoryDriver({ sessionTimeoutMs: 3000, snapCount: 60, preAllocSizeKb: 8 }, seed) : undefined;
    const report = await crashRun({ seed, kills, keepDataDir: keep, log: (line) => console.log(line), ...(memory ? { writeMsMin: 20, writeMsMax: 150, windowOps: 100 } : {}) }, driver);
    console.log(
      `OK: ${report.kills} kills in ${(report.elapsedMs / 1000).toFixed(1)} s; ${report.acked} acknowledged writes all present; ` +
        `${report.sent - report.acked} unacknowledged (${report.unackedSurvived} of them survived whole, the rest left no trace); ` +
        `${report.tornTails} torn tails; ${report.snapshots} snapshots written.${keep ? ` dataDir kept: ${report.dataDir}` : ""}`,
    );
    return 0;
  } catch (error) {
    console.error(error instanceof CrashCheckError ? `FAILED: ${error.message}` : error);
    console.error(`seed ${seed}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
