/**
 * What the learner reads: a lab's header, one line per exercise, the first failure as expected vs actual with the
 * `file:line` to open, a progress bar. Pure functions from outcomes to lines; colour only when asked for.
 */
import type { LabInfo } from "./catalog.ts";
import type { ExerciseOutcome } from "./outcome.ts";

export interface Style {
  readonly color: boolean;
}

const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
type Paint = keyof typeof codes;

export function paint(style: Style, how: Paint, text: string): string {
  if (!style.color) return text;
  const [on, off] = codes[how];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

export function labHeader(lab: LabInfo, files: readonly string[], style: Style): string[] {
  return [
    paint(style, "bold", `Lab ${lab.number}: ${lab.title}`),
    "",
    "Read first:",
    ...lab.read.map((r) => `  - ${r}`),
    "Edit:",
    ...files.map((f) => `  - ${f}`),
    "",
  ];
}

const marks: Record<ExerciseOutcome["status"], { symbol: string; plain: string; color: Paint }> = {
  pass: { symbol: "✓", plain: "PASS", color: "green" },
  todo: { symbol: "○", plain: "TODO", color: "yellow" },
  fail: { symbol: "✗", plain: "FAIL", color: "red" },
  timeout: { symbol: "✗", plain: "TIME", color: "red" },
  notRun: { symbol: "·", plain: "SKIP", color: "dim" },
};

export function exerciseLine(lab: LabInfo, outcome: ExerciseOutcome, style: Style): string {
  const title = lab.exercises.find((e) => e.id === outcome.id)?.title ?? "";
  const mark = marks[outcome.status];
  const label = style.color ? paint(style, mark.color, mark.symbol) : mark.plain;
  const note = outcome.status === "todo" ? " (not written yet)" : outcome.status === "timeout" ? ` (timed out after ${outcome.limitMs} ms)` : "";
  return `${label} ${outcome.id} ${title}${note}`;
}

/** The first exercise that is not passing, explained. */
export function firstFailure(lab: LabInfo, outcomes: readonly ExerciseOutcome[], style: Style): string[] {
  const outcome = outcomes.find((o) => o.status !== "pass");
  if (outcome === undefined) return [];
  const lines: string[] = [""];
  switch (outcome.status) {
    case "todo":
      lines.push(`${paint(style, "bold", `Next: exercise ${outcome.id}.`)} Write it where the stub throws LabTodo:`);
      if (outcome.location) lines.push(`  ${paint(style, "cyan", outcome.location)}`);
      break;
    case "fail":
      lines.push(paint(style, "bold", `Exercise ${outcome.id} fails: ${outcome.message}`));
      if (outcome.expected !== undefined) lines.push(`  expected: ${paint(style, "green", indentMore(outcome.expected))}`);
      if (outcome.actual !== undefined) lines.push(`  actual:   ${paint(style, "red", indentMore(outcome.actual))}`);
      if (outcome.location) lines.push(`  at ${paint(style, "cyan", outcome.location)}`);
      // The check's line says what was tested; the learner's fix goes in their own file, at the exercise's marker.
      if (outcome.region && fileOf(outcome.region) !== fileOf(outcome.location)) lines.push(`  your code: ${paint(style, "cyan", outcome.region)}`);
      lines.push(`  seed ${outcome.seed} (replay with --seed ${outcome.seed})`);
      break;
    case "timeout":
      lines.push(paint(style, "bold", `Exercise ${outcome.id} did not finish within ${outcome.limitMs} ms`));
      lines.push("  A promise that never settles, a watch that is never set again, or a loop that never ends?");
      if (outcome.region) lines.push(`  your code: ${paint(style, "cyan", outcome.region)}`);
      lines.push(`  seed ${outcome.seed} (replay with --seed ${outcome.seed})`);
      break;
    case "notRun":
      lines.push(paint(style, "bold", `Exercise ${outcome.id} could not run: ${outcome.reason}`));
      break;
  }
  return lines;
}

function fileOf(location: string | undefined): string | undefined {
  return location?.replace(/(:\d+)+$/, "");
}

function indentMore(text: string): string {
  return text.split("\n").join("\n            ");
}

export function progressBar(done: number, total: number, style: Style, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const bar = "█".repeat(filled) + "░".repeat(width - filled);
  return `${style.color ? paint(style, done === total ? "green" : "cyan", bar) : `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`} ${done}/${total} exercises`;
}

/**
 * Every run names its seed, a passing one too: a randomized check that passed by luck can be replayed as it ran
 * (a failure repeats it with the replay command).
 */
export function seedLine(seed: number, style: Style): string {
  return paint(style, "dim", `seed ${seed}`);
}

export function labListLine(lab: LabInfo, passed: number, style: Style): string {
  const total = lab.exercises.length;
  const status = passed === total ? paint(style, "green", style.color ? "✓ done" : "done") : passed > 0 ? `${passed}/${total}` : paint(style, "dim", "not started");
  return `${String(lab.number).padStart(2)}  ${lab.title.padEnd(58)} ${status}`;
}
