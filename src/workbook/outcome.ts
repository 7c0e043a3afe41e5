/**
 * Running one exercise's check and describing what happened in a way the runner, the grader and CI can all show:
 * pass, not written yet (the stub's LabTodo), or a failure as expected vs actual with the `file:line` to open.
 */
import { AssertionError } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { LabTodo } from "./lab-todo.ts";
import type { Check, CheckContext } from "./checks.ts";

export type ExerciseOutcome =
  | { readonly status: "pass"; readonly id: string; readonly durationMs: number }
  | { readonly status: "todo"; readonly id: string; readonly location?: string }
  | {
      readonly status: "fail";
      readonly id: string;
      readonly message: string;
      readonly expected?: string;
      readonly actual?: string;
      readonly location?: string;
      /** Where the exercise is written in the tree under test (its `// lab N.M:` marker), e.g. to open next to a check's line. */
      readonly region?: string;
      readonly seed: number;
      readonly durationMs: number;
    }
  | { readonly status: "timeout"; readonly id: string; readonly limitMs: number; readonly seed: number; readonly region?: string }
  | { readonly status: "notRun"; readonly id: string; readonly reason: string };

export type ExerciseStatus = ExerciseOutcome["status"];

/** Per exercise, in ms: a check that takes longer has a bug (often a missing resolve or a lost watch). */
export const exerciseTimeLimitMsDefault = 15_000;
const cleanupTimeLimitMs = 3_000;

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : inspect(value, { depth: 4, breakLength: 100 });
}

/**
 * The most useful `file:line` in a stack: the first frame in the code under test (what the learner wrote),
 * else the first frame in the checks.
 */
export function locate(stack: string | undefined, projectRoot: string, treeRoot: string): string | undefined {
  if (stack === undefined) return undefined;
  const frames = [...stack.matchAll(/\(?((?:file:\/\/)?\/[^():\s]+\.ts):(\d+):(\d+)\)?/g)].map((m) => ({
    file: m[1]!.replace(/^file:\/\//, ""),
    line: m[2]!,
    column: m[3]!,
  }));
  const pick = frames.find((f) => f.file.startsWith(treeRoot + path.sep)) ?? frames.find((f) => f.file.includes(`${path.sep}test${path.sep}labs${path.sep}`));
  if (pick === undefined) return undefined;
  return `${path.relative(projectRoot, pick.file)}:${pick.line}:${pick.column}`;
}

/**
 * The `file:line` of exercise `id`'s marker in the tree under test. A failed assertion points into the checks; the
 * learner also needs the place in their own code where the exercise is written.
 */
export function regionLocation(projectRoot: string, treeRoot: string, slug: string, id: string): string | undefined {
  const dir = path.join(treeRoot, slug);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".ts")).sort();
  } catch {
    return undefined;
  }
  const marker = `// lab ${id}:`;
  for (const name of names) {
    const lines = readFileSync(path.join(dir, name), "utf8").split("\n");
    const index = lines.findIndex((line) => line.trimStart().startsWith(marker));
    if (index >= 0) return `${path.relative(projectRoot, path.join(dir, name))}:${index + 1}`;
  }
  return undefined;
}

/**
 * node:assert appends its own rendering of the two values to a check's message ("\n+ actual - expected\n…" or
 * "\n\n1 !== 2\n"). The outcome shows expected and actual itself, so that part would only say it twice.
 */
export function withoutNodeDiff(message: string): string {
  const diff = message.indexOf("\n+ actual - expected");
  if (diff >= 0) return message.slice(0, diff);
  return message.replace(/\n\n[^\n]* !== [^\n]*\n?$/, "");
}

export async function runExercise(
  id: string,
  check: Check,
  context: CheckContext,
  cleanups: Array<() => unknown>,
  options: { projectRoot: string; treeRoot: string; seed: number; timeLimitMs?: number },
): Promise<ExerciseOutcome> {
  const started = performance.now();
  const limitMs = options.timeLimitMs ?? exerciseTimeLimitMsDefault;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), limitMs);
    });
    const result = await Promise.race([check(context).then(() => "done" as const), timedOut]);
    if (result === "timeout") return { status: "timeout", id, limitMs, seed: options.seed, region: regionLocation(options.projectRoot, options.treeRoot, context.lab.slug, id) };
    return { status: "pass", id, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    const location = locate((error as Error)?.stack, options.projectRoot, options.treeRoot);
    if (error instanceof LabTodo) {
      if (error.exercise === id) return { status: "todo", id, location };
      return { status: "fail", id, message: `this needs exercise ${error.exercise} first (it is not written yet)`, location, seed: options.seed, durationMs };
    }
    if (error instanceof AssertionError) {
      // The whole message: a check's explanation may take several lines (a simulated run's broken property, its
      // seed, the timeline file and how to replay it). assert.fail() has no expected/actual to show.
      const compared = error.operator !== "fail";
      return {
        status: "fail",
        id,
        message: error.generatedMessage ? `assertion failed (${error.operator})` : compared ? withoutNodeDiff(error.message) : error.message,
        ...(compared ? { expected: show(error.expected), actual: show(error.actual) } : {}),
        location,
        region: regionLocation(options.projectRoot, options.treeRoot, context.lab.slug, id),
        seed: options.seed,
        durationMs,
      };
    }
    const err = error as Error;
    const region = regionLocation(options.projectRoot, options.treeRoot, context.lab.slug, id);
    return { status: "fail", id, message: `${err?.name ?? "Error"}: ${err?.message ?? String(error)}`, location, region, seed: options.seed, durationMs };
  } finally {
    clearTimeout(timer);
    await runCleanups(cleanups.splice(0));
  }
}

async function runCleanups(tasks: Array<() => unknown>): Promise<void> {
  for (const task of tasks.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.resolve()
        .then(task)
        .catch(() => {}),
      new Promise((resolve) => (timer = setTimeout(resolve, cleanupTimeLimitMs))),
    ]);
    clearTimeout(timer);
  }
}
