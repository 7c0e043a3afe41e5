/**
 * Runs a lab's checks against a source tree in a child process with a time limit (check-process.ts), and turns
 * its event lines into one outcome per exercise. Used by `npm run lab`, `npm run grade` and the honesty test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import type { LabInfo } from "./catalog.ts";
import { exerciseTimeLimitMsDefault, regionLocation, type ExerciseOutcome } from "./outcome.ts";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const checkProcess = path.join(projectRoot, "src", "workbook", "check-process.ts");

export interface LabRun {
  readonly lab: number;
  readonly seed: number;
  readonly outcomes: readonly ExerciseOutcome[];
  readonly durationMs: number;
  /** What the child printed on stderr (a crash, an unhandled rejection), last lines only. */
  readonly stderrTail: string;
}

export interface RunLabOptions {
  /** The folder holding `<slug>/` folders: labs/, solutions/, or a grading copy inside the project. */
  readonly treeRoot: string;
  readonly seed: number;
  readonly exercises?: readonly string[];
  /** Per exercise, in ms (default exerciseTimeLimitMsDefault). */
  readonly timeLimitMs?: number;
  readonly onEvent?: (event: { event: "start"; id: string } | { event: "outcome"; outcome: ExerciseOutcome }) => void;
  /** A warm check process for this lab (WarmChecker) to use for the first pass instead of starting one. */
  readonly warm?: ChildProcess;
}

/**
 * Keeps one check process for a lab started and waiting, so that the next run skips start-up (watch mode:
 * the verdict after a save). Each process serves one run, then a new one is started.
 */
export class WarmChecker {
  private child: ChildProcess | undefined;

  constructor(private readonly lab: LabInfo) {
    this.child = startCheckProcess(lab, ["--wait"]);
  }

  /** The waiting process (a new one starts in the background for next time). */
  take(): ChildProcess {
    const child = this.child ?? startCheckProcess(this.lab, ["--wait"]);
    this.child = startCheckProcess(this.lab, ["--wait"]);
    return child;
  }

  close(): void {
    this.child?.kill("SIGKILL");
    this.child = undefined;
  }
}

function startCheckProcess(lab: LabInfo, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", checkProcess, String(lab.number), ...args], {
    cwd: projectRoot,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
}

const stderrTailBytes = 4_000;
/** Time for the child to start (tsx, imports) before its first exercise begins. */
const startupLimitMs = 20_000;
/** A check's own timer fires at the per-exercise limit; this is for code that blocks the event loop. */
const hardLimitGraceMs = 2_000;

/**
 * Runs the wanted exercises in one child; if an exercise hangs (an infinite loop blocks even its own timer), the
 * child is killed, that exercise times out, and a fresh child runs the rest; if the learner's code kills the child
 * (process.exit, a native crash), the same: a hang or a crash costs one exercise only.
 */
export async function runLab(lab: LabInfo, options: RunLabOptions): Promise<LabRun> {
  const started = performance.now();
  const wanted = lab.exercises.map((e) => e.id).filter((id) => options.exercises === undefined || options.exercises.includes(id));
  const outcomes = new Map<string, ExerciseOutcome>();
  let stderrTail = "";
  let remaining = wanted;
  let warm = options.warm;
  while (remaining.length > 0) {
    const pass = await runChild(lab, options, remaining, warm);
    warm = undefined;
    for (const outcome of pass.outcomes) outcomes.set(outcome.id, outcome);
    stderrTail = (stderrTail + pass.stderr).slice(-stderrTailBytes);
    const stoppedAt = pass.hung ?? pass.died;
    if (stoppedAt === undefined) break;
    remaining = remaining.slice(remaining.indexOf(stoppedAt) + 1);
  }
  const list = wanted.map(
    (id): ExerciseOutcome => outcomes.get(id) ?? { status: "notRun", id, reason: `the check process stopped: ${lastLine(stderrTail)}` },
  );
  return { lab: lab.number, seed: options.seed, outcomes: list, durationMs: Math.round(performance.now() - started), stderrTail };
}

interface ChildPass {
  readonly outcomes: ExerciseOutcome[];
  readonly stderr: string;
  /** The exercise that blocked and was killed, if any. */
  readonly hung?: string;
  /** The exercise during which the child exited on its own (the learner's process.exit, a crash), if any. */
  readonly died?: string;
}

function runChild(lab: LabInfo, options: RunLabOptions, exercises: readonly string[], warm?: ChildProcess): Promise<ChildPass> {
  const exerciseLimitMs = options.timeLimitMs ?? exerciseTimeLimitMsDefault;
  return new Promise((resolve) => {
    let child: ChildProcess;
    if (warm !== undefined) {
      child = warm;
      child.stdin!.write(JSON.stringify({ treeRoot: options.treeRoot, seed: options.seed, limitMs: exerciseLimitMs, exercises }) + "\n");
    } else {
      child = startCheckProcess(lab, [options.treeRoot, String(options.seed), String(exerciseLimitMs), ...exercises]);
    }
    child.stdin!.end();
    const outcomes: ExerciseOutcome[] = [];
    let running: string | undefined;
    let hung: string | undefined;
    let stderr = "";
    let timer = setTimeout(() => child.kill("SIGKILL"), startupLimitMs);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-stderrTailBytes);
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let event: { event: "start"; id: string } | { event: "outcome"; outcome: ExerciseOutcome };
      try {
        event = JSON.parse(line);
      } catch {
        return; // a learner's console.log: not ours
      }
      clearTimeout(timer);
      if (event.event === "start") {
        running = event.id;
        const id = event.id;
        timer = setTimeout(() => {
          hung = id;
          child.kill("SIGKILL");
        }, exerciseLimitMs + hardLimitGraceMs);
      } else {
        outcomes.push(event.outcome);
        running = undefined;
      }
      options.onEvent?.(event);
    });
    let died: string | undefined;
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (hung !== undefined) {
        const region = regionLocation(projectRoot, options.treeRoot, lab.slug, hung);
        const outcome: ExerciseOutcome = { status: "timeout", id: hung, limitMs: exerciseLimitMs, seed: options.seed, region };
        outcomes.push(outcome);
        options.onEvent?.({ event: "outcome", outcome });
      } else if (running !== undefined) {
        died = running;
        const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
        const said = stderr.trim() === "" ? "" : `: ${lastLine(stderr)}`;
        const outcome: ExerciseOutcome = { status: "notRun", id: running, reason: `the check process died during ${running} (${how})${said}` };
        outcomes.push(outcome);
        options.onEvent?.({ event: "outcome", outcome });
      }
      resolve({ outcomes, stderr, hung, died });
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] || "no message";
}
