// The lab tests are honest (DESIGN.md "Labs: one source of truth"): every exercise's check passes on the solution,
// fails on the learner's stub, and fails when only that exercise is missing — so each check tests its exercise.
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { labs } from "../../../src/workbook/catalog.ts";
import { checksFile } from "../../../src/workbook/checks.ts";
import { projectRoot, runLab } from "../../../src/workbook/run-lab.ts";
import { writeSingleStubVariant } from "../../../src/workbook/variants.ts";
import type { ExerciseOutcome } from "../../../src/workbook/outcome.ts";

const seed = 1;
const describeOutcome = (o: ExerciseOutcome) =>
  o.status === "fail" ? `${o.id} fail: ${o.message}${o.expected ? ` (expected ${o.expected}, actual ${o.actual})` : ""} at ${o.location}` : `${o.id} ${o.status}${o.status === "notRun" ? `: ${o.reason}` : ""}`;

/** The honesty tests of one lab (one file per lab, so that vitest spreads the labs over its workers). */
export function honestySuite(labNumber: number): void {
  const lab = labs.find((l) => l.number === labNumber);
  if (lab === undefined || !existsSync(checksFile(projectRoot, lab))) throw new Error(`lab ${labNumber} has no checks file`);
  describe.concurrent(`lab ${lab.number}: ${lab.title}`, () => {
    it("every exercise passes on the solution", async () => {
      const run = await runLab(lab, { treeRoot: path.join(projectRoot, "solutions"), seed });
      expect(run.outcomes.map(describeOutcome)).toEqual(lab.exercises.map((e) => `${e.id} pass`));
    }, 120_000);

    it("every exercise fails on the stubs in labs/", async () => {
      const run = await runLab(lab, { treeRoot: path.join(projectRoot, "labs"), seed });
      for (const outcome of run.outcomes) expect(outcome.status, describeOutcome(outcome)).not.toBe("pass");
    }, 120_000);

    for (const exercise of lab.exercises) {
      it(`${exercise.id} fails when only it is missing`, async () => {
        const treeRoot = await writeSingleStubVariant(projectRoot, lab, exercise.id);
        const run = await runLab(lab, { treeRoot, seed, exercises: [exercise.id] });
        const outcome = run.outcomes[0]!;
        expect(outcome.status, describeOutcome(outcome)).toBe("todo");
      }, 60_000);
    }
  });
}
