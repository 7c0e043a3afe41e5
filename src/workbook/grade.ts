/**
 * Grading (`npm run grade`): only a submission's labs/ is taken; it is copied into the project (so its imports
 * resolve to this project's reference, not the submission's), and this project's own checks run against it,
 * each lab in its own child process with time limits. One point per passing exercise.
 */
import { cp, mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { labs, type LabInfo } from "./catalog.ts";
import type { ExerciseOutcome } from "./outcome.ts";
import { runLab } from "./run-lab.ts";
import { scratchDir } from "./variants.ts";

export interface LabGrade {
  readonly lab: number;
  readonly title: string;
  readonly points: number;
  readonly max: number;
  readonly exercises: readonly ExerciseOutcome[];
}

export interface SubmissionGrade {
  readonly name: string;
  readonly path: string;
  readonly points: number;
  readonly max: number;
  readonly labs: readonly LabGrade[];
  /** Why the submission could not be graded at all (no labs/ folder), if so. */
  readonly problem?: string;
}

export interface GradeOptions {
  readonly seed: number;
  readonly labs?: readonly number[];
  readonly exerciseTimeLimitMs?: number;
  readonly onLab?: (submission: string, grade: LabGrade) => void;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

/** Copies the submission's lab .ts files (and nothing else) into the project's scratch area. */
async function stageSubmission(projectRoot: string, submission: string, slot: string): Promise<string> {
  const treeRoot = path.join(projectRoot, scratchDir, "grade", slot, "labs");
  await rm(path.dirname(treeRoot), { recursive: true, force: true });
  for (const lab of labs) {
    const from = path.join(submission, "labs", lab.slug);
    if (!(await isDirectory(from))) continue;
    const to = path.join(treeRoot, lab.slug);
    await mkdir(to, { recursive: true });
    for (const name of await readdir(from)) {
      if (name.endsWith(".ts")) await cp(path.join(from, name), path.join(to, name));
    }
  }
  return treeRoot;
}

export async function gradeSubmission(projectRoot: string, submission: string, slot: string, options: GradeOptions): Promise<SubmissionGrade> {
  const name = path.basename(path.resolve(submission));
  const chosen = labs.filter((l) => options.labs === undefined || options.labs.includes(l.number));
  const max = chosen.reduce((sum, l) => sum + l.exercises.length, 0);
  if (!(await isDirectory(path.join(submission, "labs")))) {
    return { name, path: submission, points: 0, max, labs: chosen.map((l) => emptyGrade(l, "the submission has no labs/ folder")), problem: `${submission} has no labs/ folder` };
  }
  const treeRoot = await stageSubmission(projectRoot, submission, slot);
  const grades: LabGrade[] = [];
  for (const lab of chosen) {
    const run = await runLab(lab, { treeRoot, seed: options.seed, timeLimitMs: options.exerciseTimeLimitMs });
    const grade: LabGrade = {
      lab: lab.number,
      title: lab.title,
      points: run.outcomes.filter((o) => o.status === "pass").length,
      max: lab.exercises.length,
      exercises: run.outcomes,
    };
    grades.push(grade);
    options.onLab?.(name, grade);
  }
  await rm(path.dirname(treeRoot), { recursive: true, force: true });
  return { name, path: submission, points: grades.reduce((s, g) => s + g.points, 0), max, labs: grades };
}

function emptyGrade(lab: LabInfo, reason: string): LabGrade {
  return {
    lab: lab.number,
    title: lab.title,
    points: 0,
    max: lab.exercises.length,
    exercises: lab.exercises.map((e) => ({ status: "notRun", id: e.id, reason })),
  };
}

/** The table: one row per submission, a column per lab. */
export function gradeTable(grades: readonly SubmissionGrade[]): string {
  if (grades.length === 0) return "";
  const labNumbers = grades[0]!.labs.map((g) => g.lab);
  const header = ["submission", ...labNumbers.map((n) => `lab ${n}`), "total"];
  const rows = grades.map((g) => [g.name, ...g.labs.map((l) => `${l.points}/${l.max}`), `${g.points}/${g.max}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Per exercise, for one submission: what passed and why the rest did not. */
export function exerciseReport(grade: SubmissionGrade): string {
  const lines: string[] = [`${grade.name}: ${grade.points}/${grade.max}`];
  for (const lab of grade.labs) {
    lines.push(`  lab ${lab.lab} ${lab.title}: ${lab.points}/${lab.max}`);
    for (const o of lab.exercises) lines.push(`    ${o.status === "pass" ? "PASS" : o.status.toUpperCase().padEnd(4)} ${o.id}${o.status === "pass" ? "" : `  ${explain(o)}`}`);
  }
  return lines.join("\n");
}

export function explain(o: ExerciseOutcome): string {
  switch (o.status) {
    case "pass":
      return "";
    case "todo":
      return "not written (the stub still throws LabTodo)";
    case "fail":
      return `${o.message}${o.expected !== undefined ? ` — expected ${o.expected}, actual ${o.actual}` : ""}${o.location ? ` (${o.location})` : ""}`;
    case "timeout":
      return `did not finish within ${o.limitMs} ms`;
    case "notRun":
      return o.reason;
  }
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JUnit XML: a testsuite per submission and lab, a testcase per exercise. */
export function junitReport(grades: readonly SubmissionGrade[]): string {
  const suites = grades.flatMap((g) =>
    g.labs.map((lab) => {
      const failures = lab.exercises.filter((o) => o.status !== "pass").length;
      const cases = lab.exercises
        .map((o) => {
          const open = `    <testcase classname="${xml(`${g.name}.lab${lab.lab}`)}" name="${xml(o.id)}"`;
          return o.status === "pass" ? `${open}/>` : `${open}>\n      <failure type="${o.status}" message="${xml(explain(o))}"/>\n    </testcase>`;
        })
        .join("\n");
      return `  <testsuite name="${xml(`${g.name} lab ${lab.lab}: ${lab.title}`)}" tests="${lab.exercises.length}" failures="${failures}">\n${cases}\n  </testsuite>`;
    }),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join("\n")}\n</testsuites>\n`;
}
