/**
 * `npm run lab [N] [--once] [--solution] [--seed S] [--stress K] [--hint]`: the learner's loop (DESIGN.md "The learner's
 * loop"). Without N: the list of labs with progress, then (on a terminal) the first unfinished lab. With N: run
 * lab N's checks against labs/NN-topic, show the verdict, and re-run whenever a file there is saved.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { labByNumber, labs, type LabInfo } from "../workbook/catalog.ts";
import { exerciseLine, firstFailure, labHeader, labListLine, paint, progressBar, seedLine, type Style } from "../workbook/report.ts";
import { loadProgress, passedIn, progressFile, recordRun, saveProgress } from "../workbook/progress.ts";
import { projectRoot, runLab, WarmChecker, type LabRun } from "../workbook/run-lab.ts";
import type { ChildProcess } from "node:child_process";
import { debounce } from "../workbook/debounce.ts";

/** File events closer together than this are one save (see debounce.ts). */
const saveBurstMs = 100;

interface Args {
  lab?: number;
  once: boolean;
  solution: boolean;
  seed?: number;
  stress?: number;
  hint: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): Args {
  const args: Args = { once: false, solution: false, hint: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${arg} needs a whole number, e.g. ${arg} 42`);
      return Number(v);
    };
    if (arg === "--once") args.once = true;
    else if (arg === "--solution") args.solution = true;
    else if (arg === "--seed") args.seed = value();
    else if (arg === "--stress") args.stress = value();
    else if (arg === "--hint") args.hint = true;
    else if (/^\d+$/.test(arg)) args.lab = Number(arg);
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (args.hint && args.lab === undefined) throw new UsageError("--hint needs a lab, e.g. npm run lab 4 -- --hint");
  if (args.lab !== undefined && labByNumber(args.lab) === undefined) {
    throw new UsageError(`there is no lab ${args.lab}; the labs are ${labs.map((l) => l.number).join(", ")}`);
  }
  return args;
}

/** Tests point these elsewhere so that they never touch a learner's progress or labs/. */
const progressPath = process.env.ZKBOOK_PROGRESS ?? progressFile(projectRoot);
const labsTree = process.env.ZKBOOK_LABS_TREE ?? "labs";

const interactive = () => process.stdout.isTTY === true && process.stdin.isTTY === true && !process.env.CI;
const style: Style = { color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined };
const say = (...lines: string[]) => process.stdout.write(lines.join("\n") + "\n");

async function labFiles(lab: LabInfo, tree: string): Promise<string[]> {
  const dir = path.join(projectRoot, tree, lab.slug);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(".ts")).sort().map((n) => `${tree}/${lab.slug}/${n}`);
}

async function printList(): Promise<void> {
  const progress = await loadProgress(progressPath);
  say(paint(style, "bold", "zkbook labs"), "");
  for (const lab of labs) say(labListLine(lab, passedIn(progress, lab.number).size, style));
  say("", "Open one with `npm run lab N`.");
}

async function firstUnfinished(): Promise<LabInfo> {
  const progress = await loadProgress(progressPath);
  return labs.find((lab) => passedIn(progress, lab.number).size < lab.exercises.length) ?? labs[0]!;
}

function seedFor(args: Args): number {
  return args.seed ?? Math.floor(Math.random() * 2 ** 31);
}

/** One run of a lab's checks, printed; returns the run. `watching`: the keys are live (watch mode). */
async function runAndReport(lab: LabInfo, args: Args, tree: string, watching: boolean, warm?: ChildProcess): Promise<LabRun> {
  const started = performance.now();
  const run = await runLab(lab, { treeRoot: path.join(projectRoot, tree), seed: seedFor(args), warm });
  for (const outcome of run.outcomes) say(exerciseLine(lab, outcome, style));
  say(...firstFailure(lab, run.outcomes, style));
  const passed = run.outcomes.filter((o) => o.status === "pass").map((o) => o.id);
  say("", `${progressBar(passed.length, lab.exercises.length, style)}  ${seedLine(run.seed, style)}`);
  if (!watching && passed.length < lab.exercises.length) say(`Stuck? \`npm run lab ${lab.number} -- --hint\` shows a hint.`);
  if (style.color) say(paint(style, "dim", `verdict in ${((performance.now() - started) / 1000).toFixed(1)} s`));
  if (!args.solution) await saveProgress(progressPath, recordRun(await loadProgress(progressPath), lab.number, passed, new Date()));
  if (passed.length === lab.exercises.length) {
    const next = labByNumber(lab.number + 1);
    const how = watching ? `press n, or \`npm run lab ${next?.number}\`` : `\`npm run lab ${next?.number}\``;
    say("", paint(style, "green", `Lab ${lab.number} is done.`) + (next ? ` Next: lab ${next.number}, ${next.title} (${how}).` : " That was the last lab."));
  }
  return run;
}

/**
 * --hint: the `h` key for scripts and non-TTY terminals: the hint of the first exercise that did not pass in the
 * last run (the state file), or of the first one if the lab was never run.
 */
async function printHint(lab: LabInfo): Promise<void> {
  const passed = passedIn(await loadProgress(progressPath), lab.number);
  const exercise = lab.exercises.find((e) => !passed.has(e.id));
  say(exercise ? `Hint for ${exercise.id} (${exercise.title}): ${exercise.hint}` : `Every exercise of lab ${lab.number} passed in its last run: no hint needed.`);
}

/** --stress K: K runs with seeds S, S+1, ...; the failure rate per exercise and the failing seeds. */
async function stress(lab: LabInfo, args: Args, tree: string, count: number): Promise<number> {
  const first = seedFor(args);
  const failures = new Map<string, number[]>(lab.exercises.map((e) => [e.id, []]));
  for (let i = 0; i < count; i++) {
    const seed = first + i;
    const run = await runLab(lab, { treeRoot: path.join(projectRoot, tree), seed });
    for (const o of run.outcomes) if (o.status !== "pass") failures.get(o.id)!.push(seed);
    process.stdout.write(style.color ? `\r${i + 1}/${count} runs` : "");
  }
  say(style.color ? "" : "", `Stress: ${count} runs of lab ${lab.number}, seeds ${first}..${first + count - 1}`);
  let failed = 0;
  for (const exercise of lab.exercises) {
    const seeds = failures.get(exercise.id)!;
    failed += seeds.length;
    const rate = ((seeds.length / count) * 100).toFixed(1);
    say(`  ${exercise.id} failed ${seeds.length}/${count} (${rate}%)${seeds.length > 0 ? `: seeds ${seeds.slice(0, 10).join(", ")}${seeds.length > 10 ? ", ..." : ""}` : ""}`);
  }
  return failed === 0 ? 0 : 1;
}

/** The watch mode: re-run on save, keys for hint/re-run/list/next/chapter/quit. */
async function watchLab(start: LabInfo, args: Args, tree: string): Promise<void> {
  let lab = start;
  let last: LabRun | undefined;
  let running = false;
  let rerun = false;
  // Loaded here, not at the top: the --once path (scripts, CI, grading) should not pay for them.
  const { watch } = await import("chokidar");
  const { renderChapterForTerminal } = await import("../workbook/chapters.ts");
  let watcher: ReturnType<typeof watch> | undefined;
  let warm: WarmChecker | undefined;

  const open = async (next: LabInfo) => {
    lab = next;
    await watcher?.close();
    warm?.close();
    warm = new WarmChecker(lab);
    say("", ...labHeader(lab, await labFiles(lab, tree), style));
    watcher = watch(path.join(projectRoot, tree, lab.slug), { ignoreInitial: true, awaitWriteFinish: false });
    watcher.on("all", debounce(() => void trigger(), saveBurstMs));
    await trigger();
  };
  const trigger = async (): Promise<void> => {
    if (running) {
      rerun = true;
      return;
    }
    running = true;
    say(paint(style, "dim", `— running lab ${lab.number} —`));
    last = await runAndReport(lab, args, tree, true, warm?.take());
    say(paint(style, "dim", "h hint · r re-run · l labs · n next lab · c chapter · q quit"));
    running = false;
    if (rerun) {
      rerun = false;
      await trigger();
    }
  };

  readline.emitKeypressEvents(process.stdin);
  process.stdin.setRawMode(true);
  process.stdin.on("keypress", (_text: string, key: { name?: string; ctrl?: boolean }) => {
    if (key.ctrl && key.name === "c") key.name = "q";
    switch (key.name) {
      case "q":
        warm?.close();
        void watcher?.close().then(() => process.exit(0));
        return;
      case "r":
        void trigger();
        return;
      case "h": {
        const open = last?.outcomes.find((o) => o.status !== "pass");
        const exercise = lab.exercises.find((e) => e.id === open?.id);
        say("", exercise ? `${paint(style, "bold", `Hint for ${exercise.id}:`)} ${exercise.hint}` : "Everything passes: no hint needed.", "");
        return;
      }
      case "l":
        void printList();
        return;
      case "c":
        void renderChapterForTerminal(projectRoot, lab.chapter, style.color).then((text) => say(text));
        return;
      case "n": {
        const next = labByNumber(lab.number + 1);
        const done = last !== undefined && last.outcomes.every((o) => o.status === "pass");
        if (!done) say("Finish this lab first (every exercise ✓), then n opens the next one.");
        else if (next === undefined) say("This was the last lab.");
        else void open(next);
        return;
      }
    }
  });
  await open(lab);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tree = args.solution ? "solutions" : labsTree;
  if (args.lab === undefined && (args.once || !interactive())) {
    await printList();
    return;
  }
  const lab = args.lab !== undefined ? labByNumber(args.lab)! : await firstUnfinished();
  if (args.hint) {
    await printHint(lab);
    return;
  }
  if (args.stress !== undefined) {
    process.exitCode = await stress(lab, args, tree, args.stress);
    return;
  }
  if (args.once || !interactive()) {
    say(...labHeader(lab, await labFiles(lab, tree), style));
    const run = await runAndReport(lab, args, tree, false);
    process.exitCode = run.outcomes.every((o) => o.status === "pass") ? 0 : 1;
    return;
  }
  if (args.lab === undefined) await printList();
  await watchLab(lab, args, tree);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`npm run lab: ${error.message}\nusage: npm run lab [N] [-- --once] [--solution] [--seed S] [--stress K] [--hint]`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
