/**
 * The child process that runs one lab's checks (spawned by run-lab.ts): a learner's infinite loop or crash
 * kills only this process, and each run imports the learner's files fresh.
 *
 *   node --import tsx src/workbook/check-process.ts <lab> <treeRoot> <seed> <limitMs> [exercise ...]
 *
 * Writes one JSON line per event on stdout: {"event":"start","id"} before an exercise, {"event":"outcome",...}
 * after it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { labByNumber } from "./catalog.ts";
import { loadChecks, makeContext } from "./checks.ts";
import { runExercise } from "./outcome.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

async function main(): Promise<void> {
  const [labArg, treeRoot, seedArg, limitArg, ...only] = process.argv.slice(2);
  const lab = labByNumber(Number(labArg));
  if (lab === undefined || treeRoot === undefined || seedArg === undefined || limitArg === undefined) {
    throw new Error("usage: check-process.ts <lab> <treeRoot> <seed> <limitMs> [exercise ...]");
  }
  const seed = Number(seedArg);
  const { checks } = await loadChecks(projectRoot, lab);
  for (const exercise of lab.exercises) {
    if (only.length > 0 && !only.includes(exercise.id)) continue;
    process.stdout.write(JSON.stringify({ event: "start", id: exercise.id }) + "\n");
    const cleanups: Array<() => unknown> = [];
    const context = makeContext(lab, { root: treeRoot }, seed, cleanups);
    const outcome = await runExercise(exercise.id, checks[exercise.id]!, context, cleanups, { projectRoot, treeRoot, seed, timeLimitMs: Number(limitArg) });
    process.stdout.write(JSON.stringify({ event: "outcome", outcome }) + "\n");
  }
}

// A learner's code may leave an unhandled rejection behind; report it on stderr, never crash the report.
process.on("unhandledRejection", (reason) => process.stderr.write(`unhandled rejection: ${String(reason)}\n`));

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(2);
  },
);
