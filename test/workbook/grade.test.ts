// The grader (issue 6, "npm run grade"): only labs/ of a submission counts, each lab runs in its own process with
// time limits, a learner's infinite loop costs that exercise only, and the reports say per exercise what happened.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exerciseReport, explain, gradeSubmission, gradeTable, junitReport } from "../../src/workbook/grade.ts";
import { runLab } from "../../src/workbook/run-lab.ts";
import { collectLabSources, generateLabFiles } from "../../src/workbook/build.ts";
import { labs } from "../../src/workbook/catalog.ts";
import { projectRoot } from "../../src/workbook/run-lab.ts";

const scratch = path.join(projectRoot, ".zkbook", "test-grade");
const lab1 = labs.find((l) => l.number === 1)!;

async function submission(name: string, from: "labs" | "solutions"): Promise<string> {
  const dir = path.join(scratch, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await cp(path.join(projectRoot, from), path.join(dir, "labs"), { recursive: true });
  return dir;
}

describe("npm run grade", () => {
  let stubs: string;
  let solved: string;
  let looping: string;
  let partial: string;
  let crashing: string;

  beforeAll(async () => {
    stubs = await submission("all-stubs", "labs");
    solved = await submission("all-solutions", "solutions");
    // An infinite loop in exercise 1.1 (a synchronous one: it blocks even the check's own timer).
    looping = await submission("infinite-loop", "solutions");
    const file = path.join(looping, "labs", lab1.slug, "election.ts");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace('    await client.create(masterPath, Buffer.from(id), { mode: "ephemeral" });', "    for (;;) {}"));
    // A crash in exercise 1.2: the learner's code ends the process (as a native crash or an uncaught throw in a
    // callback would).
    crashing = await submission("crash", "solutions");
    const crashFile = path.join(crashing, "labs", lab1.slug, "election.ts");
    const solved12 = await readFile(crashFile, "utf8");
    await writeFile(crashFile, solved12.replace('      if (error instanceof NoNodeError) return "noMaster";', "      if (error instanceof NoNodeError) process.exit(3);"));
    // Half done: lab 1 from the solutions, the rest stubs; also a test file that tries to replace our checks.
    partial = await submission("partial", "labs");
    await cp(path.join(projectRoot, "solutions", lab1.slug), path.join(partial, "labs", lab1.slug), { recursive: true });
    await mkdir(path.join(partial, "test", "labs"), { recursive: true });
    await writeFile(path.join(partial, "test", "labs", "02-znodes.checks.ts"), "export default { lab: 2, checks: {} };\n");
  });

  it("gives full marks to the solutions and none to the stubs", async () => {
    const full = await gradeSubmission(projectRoot, solved, "t1", { seed: 1, labs: [1, 2] });
    const none = await gradeSubmission(projectRoot, stubs, "t2", { seed: 1, labs: [1, 2] });
    expect([full.points, full.max]).toEqual([7, 7]);
    expect([none.points, none.max]).toEqual([0, 7]);
    expect(none.labs[0]!.exercises.map((o) => o.status)).toEqual(["todo", "todo", "todo"]);
    expect(gradeTable([full, none])).toMatch(/all-solutions\s+3\/3\s+4\/4\s+7\/7\n\s*all-stubs\s+0\/3\s+0\/4\s+0\/7/);
  }, 120_000);

  it("an infinite loop costs only the exercise it is in", async () => {
    const grade = await gradeSubmission(projectRoot, looping, "t3", { seed: 1, labs: [1], exerciseTimeLimitMs: 2_000 });
    expect(grade.labs[0]!.exercises.map((o) => `${o.id} ${o.status}`)).toEqual(["1.1 timeout", "1.2 pass", "1.3 pass"]);
    expect(junitReport([grade])).toMatch(/<testcase classname="infinite-loop.lab1" name="1.1">\s*<failure type="timeout" message="did not finish within 2000 ms"\/>/);
  }, 120_000);

  it("a crash costs only the exercise it is in, and the report says how the process ended", async () => {
    const grade = await gradeSubmission(projectRoot, crashing, "t7", { seed: 1, labs: [1] });
    expect(grade.labs[0]!.exercises.map((o) => `${o.id} ${o.status}`)).toEqual(["1.1 pass", "1.2 notRun", "1.3 pass"]);
    expect(explain(grade.labs[0]!.exercises[1]!)).toBe("the check process died during 1.2 (exit code 3)");
  }, 120_000);

  it("grades partial work per exercise and ignores anything but labs/", async () => {
    const grade = await gradeSubmission(projectRoot, partial, "t4", { seed: 1, labs: [1, 2] });
    expect(grade.labs.map((l) => `${l.lab}:${l.points}/${l.max}`)).toEqual(["1:3/3", "2:0/4"]);
  }, 120_000);

  it("npm run grade: one row per submission, and the same grades in --json and --junit", () => {
    const json = path.join(scratch, "grades.json");
    const junit = path.join(scratch, "grades.xml");
    const tsx = path.join(projectRoot, "node_modules", ".bin", "tsx");
    const run = spawnSync(tsx, ["src/cli/grade.ts", solved, stubs, "--labs", "1", "--json", json, "--junit", junit], { cwd: projectRoot, encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^submission\s+lab 1\s+total\n-+\s+-+\s+-+\nall-solutions\s+3\/3\s+3\/3\nall-stubs\s+0\/3\s+0\/3\n/);
    const report = JSON.parse(readFileSync(json, "utf8")) as { seed: number; submissions: Array<{ name: string; points: number; labs: Array<{ exercises: Array<{ id: string; status: string }> }> }> };
    expect(report.submissions.map((s) => `${s.name} ${s.points}`)).toEqual(["all-solutions 3", "all-stubs 0"]);
    expect(report.submissions[1]!.labs[0]!.exercises.map((e) => `${e.id} ${e.status}`)).toEqual(["1.1 todo", "1.2 todo", "1.3 todo"]);
    const xml = readFileSync(junit, "utf8");
    expect(xml.match(/<testcase /g)?.length).toBe(6);
    expect(xml).toContain('<testcase classname="all-stubs.lab1" name="1.1">\n      <failure type="todo" message="not written (the stub still throws LabTodo)"/>');
  }, 120_000);

  it("says so when a submission has no labs/ folder", async () => {
    const empty = path.join(scratch, "empty");
    await mkdir(empty, { recursive: true });
    const grade = await gradeSubmission(projectRoot, empty, "t5", { seed: 1, labs: [1] });
    expect(grade.problem).toMatch(/has no labs\/ folder/);
    expect(grade.points).toBe(0);
  });
});

describe("npm run grade, labs 5–10", () => {
  // For each of labs 5–10 a submission that solves some exercises and leaves the others as stubs, generated from
  // the regions like labs/ itself. The stubs are chosen so that what other exercises build on is solved (5.1–5.3:
  // connect, reconnect and SetWatches of lab 5's client core; 6.3: the lock under 6.4's read–write rule; 8.4: the
  // retry policy under the recipes); the next test shows what the report says when it is not.
  const stubs: Record<number, readonly string[]> = {
    5: ["5.4", "5.5"],
    6: ["6.2", "6.4", "6.6"],
    7: ["7.1", "7.3", "7.5"],
    8: ["8.1", "8.3"],
    9: ["9.1", "9.3", "9.5"],
    10: ["10.2", "10.4"],
  };
  const later = labs.filter((l) => l.number >= 5 && l.number <= 10);
  const stubbedIn = (lab: (typeof labs)[number]) => new Set(stubs[lab.number]);

  it("gives a point for each solved exercise and none for a stub, lab by lab, with a per-exercise report", async () => {
    const dir = path.join(scratch, "partial-5-10");
    await rm(dir, { recursive: true, force: true });
    const sources = await collectLabSources(projectRoot);
    for (const lab of later) {
      await mkdir(path.join(dir, "labs", lab.slug), { recursive: true });
      for (const file of generateLabFiles(lab, sources.get(lab.number) ?? [], "stub", stubbedIn(lab))) {
        await writeFile(path.join(dir, "labs", lab.slug, file.name), file.content);
      }
    }
    const grade = await gradeSubmission(projectRoot, dir, "t6", { seed: 1, labs: later.map((l) => l.number) });

    const expected = later.map((lab) => lab.exercises.map((e) => `${e.id} ${stubbedIn(lab).has(e.id) ? "todo" : "pass"}`));
    expect(grade.labs.map((l) => l.exercises.map((o) => `${o.id} ${o.status}${o.status === "fail" ? `: ${o.message}` : ""}`))).toEqual(expected);
    const points = later.map((lab) => lab.exercises.length - stubbedIn(lab).size);
    expect(grade.labs.map((l) => `${l.lab}:${l.points}/${l.max}`)).toEqual(later.map((lab, i) => `${lab.number}:${points[i]}/${lab.exercises.length}`));
    const total = points.reduce((a, b) => a + b, 0);
    expect([grade.points, grade.max]).toEqual([total, later.reduce((sum, l) => sum + l.exercises.length, 0)]);

    expect(gradeTable([grade])).toMatch(new RegExp(`partial-5-10\\s+${later.map((lab, i) => `${points[i]}/${lab.exercises.length}`).join("\\s+")}\\s+${total}/${grade.max}`));
    const report = exerciseReport(grade);
    for (const lab of later) {
      for (const e of lab.exercises) {
        expect(report).toMatch(stubbedIn(lab).has(e.id) ? new RegExp(`TODO ${e.id.replace(".", "\\.")}  not written \\(the stub still throws LabTodo\\)`) : new RegExp(`PASS ${e.id.replace(".", "\\.")}(\\n|$)`));
      }
    }
    expect(junitReport([grade])).toContain('<testcase classname="partial-5-10.lab9" name="9.2"');
  }, 600_000);

  it("says which exercise a solved one needs first when that one is still a stub", async () => {
    // 5.1 runs the learner's whole client core, which cannot reconnect without 5.2; 6.4's rule needs 6.3's lock; the
    // leader latch of 8.1 retries with 8.4's policy.
    const cases: Array<[number, string, string]> = [
      [5, "5.1", "5.2"],
      [6, "6.4", "6.3"],
      [8, "8.1", "8.4"],
    ];
    const sources = await collectLabSources(projectRoot);
    for (const [number, solved, stub] of cases) {
      const lab = labs.find((l) => l.number === number)!;
      const root = path.join(scratch, `needs-${stub}`);
      await rm(root, { recursive: true, force: true });
      await mkdir(path.join(root, lab.slug), { recursive: true });
      for (const file of generateLabFiles(lab, sources.get(number) ?? [], "stub", new Set([stub]))) await writeFile(path.join(root, lab.slug, file.name), file.content);
      const run = await runLab(lab, { treeRoot: root, seed: 1, exercises: [solved] });
      const outcome = run.outcomes[0]!;
      expect(`${outcome.id} ${outcome.status}: ${explain(outcome)}`).toMatch(new RegExp(`^${solved.replace(".", "\\.")} fail: this needs exercise ${stub.replace(".", "\\.")} first \\(it is not written yet\\)`));
    }
  }, 120_000);
});
