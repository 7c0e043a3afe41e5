// What the learner reads after a run (DESIGN.md "The learner's loop"): a failure as expected vs actual, said once,
// with the check's file:line and the place in the learner's own file where the exercise is written.
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { labByNumber } from "../../src/workbook/catalog.ts";
import { regionLocation, runExercise, withoutNodeDiff, type ExerciseOutcome } from "../../src/workbook/outcome.ts";
import { firstFailure, progressBar, seedLine } from "../../src/workbook/report.ts";
import { projectRoot } from "../../src/workbook/run-lab.ts";

const plain = { color: false };
const lab4 = labByNumber(4)!;
const scratch = path.join(projectRoot, ".zkbook", "test-report");

function thrown(f: () => void): Error {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error("did not throw");
}

describe("a failed check's message", () => {
  it("keeps the check's words and drops node:assert's own rendering of the values", () => {
    // node:assert appends a diff (deepEqual) or "a !== b" (equal) to a custom message; the report shows both values.
    expect(withoutNodeDiff(thrown(() => assert.deepEqual([1, 2], [1, 3], "lists differ")).message)).toBe("lists differ");
    expect(withoutNodeDiff(thrown(() => assert.equal(1, 2, "numbers differ")).message)).toBe("numbers differ");
    expect(withoutNodeDiff(thrown(() => assert.equal("a\nb", "a\nc", "line one\nline two")).message)).toBe("line one\nline two");
    expect(withoutNodeDiff("a message of its own\nover two lines")).toBe("a message of its own\nover two lines");
  });

  it("is shown once, as expected vs actual, through runExercise", async () => {
    const tree = path.join(scratch, "tree");
    await rm(tree, { recursive: true, force: true });
    const outcome = await runExercise(
      "4.1",
      async () => assert.deepEqual(["a"], ["b"], "the table fired the wrong watcher"),
      { lab: lab4, load: async () => ({}) as never, random: null as never, cleanup: () => {} },
      [],
      { projectRoot, treeRoot: tree, seed: 9 },
    );
    expect(outcome).toMatchObject({ status: "fail", message: "the table fired the wrong watcher", expected: "[ 'b' ]", actual: "[ 'a' ]" });
  });
});

describe("where to look", () => {
  it("finds an exercise's marker in the tree under test", async () => {
    const dir = path.join(scratch, "labs", lab4.slug);
    await rm(path.join(scratch, "labs"), { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "a.ts"), "// nothing here\n");
    await writeFile(path.join(dir, "watches.ts"), "line 1\nline 2\n    // lab 4.1: a watch table\n    throw new LabTodo(\"4.1\");\n");
    const treeRoot = path.join(scratch, "labs");
    expect(regionLocation(projectRoot, treeRoot, lab4.slug, "4.1")).toBe(".zkbook/test-report/labs/04-watches/watches.ts:3");
    expect(regionLocation(projectRoot, treeRoot, lab4.slug, "4.2")).toBeUndefined();
    expect(regionLocation(projectRoot, path.join(scratch, "missing"), lab4.slug, "4.1")).toBeUndefined();
  });

  it("names the learner's file beside the check's line, unless the failure is already in it", () => {
    const fail = (location: string): ExerciseOutcome => ({
      status: "fail",
      id: "4.1",
      message: "fired twice",
      expected: "1",
      actual: "2",
      location,
      region: "labs/04-watches/watches.ts:85",
      seed: 3,
      durationMs: 1,
    });
    const inChecks = firstFailure(lab4, [fail("test/labs/04-watches.checks.ts:89:12")], plain).join("\n");
    expect(inChecks).toContain("  at test/labs/04-watches.checks.ts:89:12\n  your code: labs/04-watches/watches.ts:85\n  seed 3 (replay with --seed 3)");
    const inOwnCode = firstFailure(lab4, [fail("labs/04-watches/watches.ts:97:5")], plain).join("\n");
    expect(inOwnCode).not.toContain("your code");
    const timeout = firstFailure(lab4, [{ status: "timeout", id: "4.4", limitMs: 100, seed: 4, region: "labs/04-watches/master.ts:29" }], plain).join("\n");
    expect(timeout).toContain("your code: labs/04-watches/master.ts:29");
  });

  it("names the seed of every run, a passing one too", () => {
    expect(`${progressBar(4, 4, plain)}  ${seedLine(77, plain)}`).toBe("[####################] 4/4 exercises  seed 77");
  });
});
