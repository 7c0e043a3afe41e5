/**
 * The learner's progress, kept in .zkbook/progress.json so that it survives restarts: which exercises of each
 * lab passed the last time they were run.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

const progressSchema = z.object({
  version: z.literal(1),
  labs: z.record(z.object({ passed: z.array(z.string()), lastRunAt: z.string() })),
});
export type Progress = z.infer<typeof progressSchema>;

export const emptyProgress = (): Progress => ({ version: 1, labs: {} });

export function progressFile(projectRoot: string): string {
  return path.join(projectRoot, ".zkbook", "progress.json");
}

/** Reads the progress file; a missing or unreadable one starts fresh (and is not overwritten until a run). */
export async function loadProgress(file: string): Promise<Progress> {
  try {
    const parsed = progressSchema.safeParse(JSON.parse(await readFile(file, "utf8")));
    return parsed.success ? parsed.data : emptyProgress();
  } catch {
    return emptyProgress();
  }
}

/** Writes atomically (temp file + rename), so a killed runner never leaves half a file. */
export async function saveProgress(file: string, progress: Progress): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(progress, null, 2) + "\n");
  await rename(temp, file);
}

export function recordRun(progress: Progress, lab: number, passed: readonly string[], now: Date): Progress {
  return { ...progress, labs: { ...progress.labs, [String(lab)]: { passed: [...passed], lastRunAt: now.toISOString() } } };
}

export function passedIn(progress: Progress, lab: number): ReadonlySet<string> {
  return new Set(progress.labs[String(lab)]?.passed ?? []);
}
