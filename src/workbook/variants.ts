/**
 * Trees for proving the lab tests honest: for each exercise, a copy of its lab with only that exercise stubbed
 * and every other one solved. Its check must fail there — otherwise the check does not test the exercise.
 * Written under .zkbook/ inside the project, so that their `#src/…` imports resolve.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LabInfo } from "./catalog.ts";
import { collectLabSources, generateLabFiles } from "./build.ts";

export const scratchDir = ".zkbook";

/** Writes `<root>/.zkbook/variants/<exercise>/<slug>/…` and returns that tree root. */
export async function writeSingleStubVariant(projectRoot: string, lab: LabInfo, exercise: string): Promise<string> {
  const sources = (await collectLabSources(projectRoot)).get(lab.number) ?? [];
  const treeRoot = path.join(projectRoot, scratchDir, "variants", exercise);
  await rm(treeRoot, { recursive: true, force: true });
  await mkdir(path.join(treeRoot, lab.slug), { recursive: true });
  for (const file of generateLabFiles(lab, sources, "stub", new Set([exercise]))) {
    await writeFile(path.join(treeRoot, lab.slug, file.name), file.content);
  }
  return treeRoot;
}
