/**
 * The child process that runs one lab's checks (spawned by run-lab.ts): a learner's infinite loop or crash
 * kills only this process, and each run imports the learner's files fresh.
 *
 *   node --import tsx src/workbook/check-process.ts <lab> <treeRoot> <seed> <limitMs> [exercise ...]
 *   node --import tsx src/workbook/check-process.ts <lab> --wait
 *
 * With --wait the process loads the checks (and with them the reference modules) and then waits for one line on
 * stdin, `{"treeRoot","seed","limitMs","exercises"}`: a warm process, started before the learner saves, so the
 * verdict after a save costs only the checks themselves.
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

interface RunRequest {
  readonly treeRoot: string;
  readonly seed: number;
  readonly limitMs: number;
  readonly exercises: readonly string[];
}

/** The one line a warm process waits for. */
function readRequest(): Promise<RunRequest> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    process.stdin.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        process.stdin.pause();
        resolve(JSON.parse(buffered.slice(0, newline)) as RunRequest);
      }
    });
    process.stdin.on("end", () => reject(new Error("stdin closed before a run was requested")));
  });
}

async function main(): Promise<void> {
  const [labArg, ...rest] = process.argv.slice(2);
  const lab = labByNumber(Number(labArg));
  if (lab === undefined || rest.length === 0) {
    throw new Error("usage: check-process.ts <lab> <treeRoot> <seed> <limitMs> [exercise ...] | <lab> --wait");
  }
  const { checks } = await loadChecks(projectRoot, lab);
  let request: RunRequest;
  if (rest[0] === "--wait") request = await readRequest();
  else {
    const [treeRoot, seedArg, limitArg, ...exercises] = rest;
    request = { treeRoot: treeRoot!, seed: Number(seedArg), limitMs: Number(limitArg), exercises };
  }
  const { treeRoot, seed, limitMs, exercises: only } = request;
  for (const exercise of lab.exercises) {
    if (only.length > 0 && !only.includes(exercise.id)) continue;
    process.stdout.write(JSON.stringify({ event: "start", id: exercise.id }) + "\n");
    const cleanups: Array<() => unknown> = [];
    const context = makeContext(lab, { root: treeRoot }, seed, cleanups);
    const outcome = await runExercise(exercise.id, checks[exercise.id]!, context, cleanups, { projectRoot, treeRoot, seed, timeLimitMs: limitMs });
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
