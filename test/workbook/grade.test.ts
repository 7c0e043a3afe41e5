// The grader (issue 6, "npm run grade"): only labs/ of a submission counts, each lab runs in its own process with
// time limits, a learner's infinite loop costs that exercise only, and the reports say per exercise what happened.
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { gradeSubmission, gradeTable, junitReport } from "../../src/workbook/grade.ts";
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

  beforeAll(async () => {
    stubs = await submission("all-stubs", "labs");
    solved = await submission("all-solutions", "solutions");
    // An infinite loop in exercise 1.1 (a synchronous one: it blocks even the check's own timer).
    looping = await submission("infinite-loop", "solutions");
    const file = path.join(looping, "labs", lab1.slug, "election.ts");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace('    await client.create(masterPath, Buffer.from(id), { mode: "ephemeral" });', "    for (;;) {}"));
    // Half done: lab 1 from the solutions, the rest stubs; also a test file that tries to replace our checks.
    partial = await submission("partial", "labs");
    await cp(path.join(projectRoot, "solutions", lab1.slug), path.join(partial, "labs", lab1.slug), { recursive: true });
    await mkdir(path.join(partial, "test", "labs"), { recursive: true });
    await writeFile(path.join(partial, "test", "labs", "02-znodes.checks.ts"), "export default { lab: 2, checks: {} };\n");
  });

  it("gives full marks to the solutions and none to the stubs", async () => {
    const full = await gradeSubmission(projectRoot, solved, "t1", { seed: 1, labs: [1, 2] });
    const none = await gradeSubmission(projectRoot, stubs, "t2", { seed: 1, labs: [1, 2] });
    expect([full.points, full.max]).toEqual([6, 6]);
    expect([none.points, none.max]).toEqual([0, 6]);
    expect(none.labs[0]!.exercises.map((o) => o.status)).toEqual(["todo", "todo", "todo"]);
    expect(gradeTable([full, none])).toMatch(/all-solutions\s+3\/3\s+3\/3\s+6\/6\n\s*all-stubs\s+0\/3\s+0\/3\s+0\/6/);
  }, 120_000);

  it("an infinite loop costs only the exercise it is in", async () => {
    const grade = await gradeSubmission(projectRoot, looping, "t3", { seed: 1, labs: [1], exerciseTimeLimitMs: 2_000 });
    expect(grade.labs[0]!.exercises.map((o) => `${o.id} ${o.status}`)).toEqual(["1.1 timeout", "1.2 pass", "1.3 pass"]);
    expect(junitReport([grade])).toMatch(/<testcase classname="infinite-loop.lab1" name="1.1">\s*<failure type="timeout" message="did not finish within 2000 ms"\/>/);
  }, 120_000);

  it("grades partial work per exercise and ignores anything but labs/", async () => {
    const grade = await gradeSubmission(projectRoot, partial, "t4", { seed: 1, labs: [1, 2] });
    expect(grade.labs.map((l) => `${l.lab}:${l.points}/${l.max}`)).toEqual(["1:3/3", "2:0/3"]);
  }, 120_000);

  it("says so when a submission has no labs/ folder", async () => {
    const empty = path.join(scratch, "empty");
    await mkdir(empty, { recursive: true });
    const grade = await gradeSubmission(projectRoot, empty, "t5", { seed: 1, labs: [1] });
    expect(grade.problem).toMatch(/has no labs\/ folder/);
    expect(grade.points).toBe(0);
  });
});
