/**
 * How a lab's tests are written. A lab's checks live in `test/labs/NN-topic.checks.ts` (the project's own pinned
 * tests; a submission cannot change them) and look like:
 *
 *   export default defineChecks(4, {
 *     "4.1": async (lab) => {
 *       const { WatchManager } = await lab.load<typeof import("#src/server/watches.ts")>("watches.ts");
 *       ...assert.deepEqual(actual, expected, "what this checks")...
 *     },
 *   });
 *
 * `lab.load` imports the module under test from whichever tree is being checked (the learner's labs/, the
 * solutions/, a submission being graded), so the same checks serve the runner, the grader and the honesty test.
 * Checks use node:assert, whose errors carry `expected` and `actual` for the runner to show.
 */
import { pathToFileURL } from "node:url";
import path from "node:path";
import { seededRandom, type Random } from "../sim/random.ts";
import { labByNumber, type LabInfo } from "./catalog.ts";

export interface CheckContext {
  readonly lab: LabInfo;
  /** Imports `file` of this lab from the tree under test. */
  load<T = Record<string, unknown>>(file: string): Promise<T>;
  /** Seeded randomness: print nothing yourself, the runner reports the seed of a failing run. */
  readonly random: Random;
  /** Runs after the exercise, pass or fail (close clients, stop servers). */
  cleanup(task: () => unknown): void;
}

export type Check = (lab: CheckContext) => Promise<void>;

export interface LabChecks {
  readonly lab: number;
  readonly checks: Readonly<Record<string, Check>>;
}

export function defineChecks(lab: number, checks: Record<string, Check>): LabChecks {
  const info = labByNumber(lab);
  if (info === undefined) throw new Error(`defineChecks: there is no lab ${lab} in the catalog`);
  for (const id of Object.keys(checks)) {
    if (!info.exercises.some((e) => e.id === id)) throw new Error(`defineChecks(${lab}): ${id} is not an exercise of lab ${lab}`);
  }
  for (const e of info.exercises) {
    if (!(e.id in checks)) throw new Error(`defineChecks(${lab}): exercise ${e.id} has no check`);
  }
  return { lab, checks };
}

/** Where the code under test lives: a folder holding `<slug>/<file>.ts` (labs/, solutions/, a grading copy). */
export interface SourceTree {
  readonly root: string;
}

export function makeContext(lab: LabInfo, tree: SourceTree, seed: number, cleanups: Array<() => unknown>): CheckContext {
  return {
    lab,
    random: seededRandom(seed),
    load: async <T>(file: string) => (await import(pathToFileURL(path.join(tree.root, lab.slug, file)).href)) as T,
    cleanup: (task) => void cleanups.push(task),
  };
}

/** The check file of a lab: test/labs/NN-topic.checks.ts. */
export function checksFile(projectRoot: string, lab: LabInfo): string {
  return path.join(projectRoot, "test", "labs", `${lab.slug}.checks.ts`);
}

export async function loadChecks(projectRoot: string, lab: LabInfo): Promise<LabChecks> {
  const module = (await import(pathToFileURL(checksFile(projectRoot, lab)).href)) as { default: LabChecks };
  return module.default;
}
