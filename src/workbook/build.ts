/**
 * `npm run labs:build` / `npm run labs:check`: generate labs/NN-topic/ (stubs) and solutions/NN-topic/ (solved)
 * from the marked regions in src/, and check that what is committed is what would be generated.
 */
import { readdir, readFile, writeFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { labs, type LabInfo } from "./catalog.ts";
import { findRegions, generatedHeader, rewriteImports, stubRegions, RegionError, type Region } from "./regions.ts";

export interface LabSource {
  /** Path relative to the project root, e.g. "src/server/watches.ts". */
  readonly sourcePath: string;
  readonly source: string;
  readonly regions: readonly Region[];
}

export interface GeneratedFile {
  /** Path relative to the project root. */
  readonly path: string;
  readonly content: string;
}

async function listTs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listTs(full)));
    else if (entry.name.endsWith(".ts")) files.push(full);
  }
  return files.sort();
}

/** Every module under src/ that holds lab regions, grouped by lab number. */
export async function collectLabSources(root: string): Promise<Map<number, LabSource[]>> {
  const byLab = new Map<number, LabSource[]>();
  for (const file of await listTs(path.join(root, "src"))) {
    const source = await readFile(file, "utf8");
    if (!source.includes("// lab ")) continue;
    const sourcePath = path.relative(root, file).split(path.sep).join("/");
    const regions = findRegions(source, sourcePath);
    const labsHere = new Set(regions.map((r) => r.lab));
    for (const lab of labsHere) {
      const list = byLab.get(lab) ?? [];
      list.push({ sourcePath, source, regions: regions.filter((r) => r.lab === lab) });
      byLab.set(lab, list);
    }
  }
  return byLab;
}

/** Checks regions against the catalog: every exercise has exactly one region with the same title. */
export function checkAgainstCatalog(byLab: ReadonlyMap<number, readonly LabSource[]>): string[] {
  const problems: string[] = [];
  const regionsById = new Map<string, { region: Region; sourcePath: string }>();
  for (const sources of byLab.values()) {
    for (const s of sources) for (const region of s.regions) {
      const previous = regionsById.get(region.exercise);
      if (previous !== undefined) problems.push(`exercise ${region.exercise} is marked in both ${previous.sourcePath} and ${s.sourcePath}`);
      regionsById.set(region.exercise, { region, sourcePath: s.sourcePath });
    }
  }
  for (const lab of labs) {
    for (const exercise of lab.exercises) {
      const found = regionsById.get(exercise.id);
      if (found === undefined) problems.push(`exercise ${exercise.id} ("${exercise.title}") has no "// lab ${exercise.id}: ..." region in src/`);
      else if (found.region.title !== exercise.title) {
        problems.push(`${found.sourcePath}:${found.region.startLine}: the marker says "${found.region.title}" but the catalog says "${exercise.title}"`);
      }
    }
  }
  for (const [id, { sourcePath, region }] of regionsById) {
    const lab = labs.find((l) => l.number === region.lab);
    if (lab === undefined || !lab.exercises.some((e) => e.id === id)) {
      problems.push(`${sourcePath}:${region.startLine}: region ${id} is not in the catalog (src/workbook/catalog.ts)`);
    }
  }
  return problems;
}

const labTodoImport = `import { LabTodo } from "#src/workbook/lab-todo.ts";\n`;

/**
 * The files of one lab. `stubbed` chooses which exercises are stubs: all of them for labs/, none for solutions/,
 * one for the honesty check ("this exercise's tests fail when only it is missing").
 */
export function generateLabFiles(lab: LabInfo, sources: readonly LabSource[], kind: "stub" | "solution", stubbed: ReadonlySet<string>): Array<{ name: string; content: string }> {
  const sameLab = new Map<string, string>();
  for (const s of sources) sameLab.set(s.sourcePath.replace(/^src\//, ""), path.posix.basename(s.sourcePath));
  const names = new Set<string>();
  return sources.map((s) => {
    const name = path.posix.basename(s.sourcePath);
    if (names.has(name)) throw new RegionError(`lab ${lab.number} has two files named ${name}; rename one`);
    names.add(name);
    const fromDir = path.posix.dirname(s.sourcePath.replace(/^src\//, ""));
    const stubbedHere = new Set(s.regions.map((r) => r.exercise).filter((id) => stubbed.has(id)));
    let body = stubbedHere.size > 0 ? stubRegions(s.source, s.regions, stubbedHere) : s.source;
    body = rewriteImports(body, fromDir, sameLab);
    const header = generatedHeader(kind, s.sourcePath, lab.number) + (stubbedHere.size > 0 ? labTodoImport : "");
    return { name, content: header + body };
  });
}

export async function generateAll(root: string): Promise<GeneratedFile[]> {
  const byLab = await collectLabSources(root);
  const problems = checkAgainstCatalog(byLab);
  if (problems.length > 0) throw new RegionError(`lab regions and the catalog disagree:\n  ${problems.join("\n  ")}`);
  const files: GeneratedFile[] = [];
  for (const lab of labs) {
    const sources = byLab.get(lab.number) ?? [];
    const all = new Set(lab.exercises.map((e) => e.id));
    for (const f of generateLabFiles(lab, sources, "stub", all)) files.push({ path: `labs/${lab.slug}/${f.name}`, content: f.content });
    for (const f of generateLabFiles(lab, sources, "solution", new Set())) files.push({ path: `solutions/${lab.slug}/${f.name}`, content: f.content });
    files.push({ path: `labs/${lab.slug}/README.md`, content: labReadme(lab, sources) });
  }
  return files;
}

function labReadme(lab: LabInfo, sources: readonly LabSource[]): string {
  const lines = [
    `# Lab ${lab.number}: ${lab.title}`,
    "",
    "Generated by `npm run labs:build`; do not edit (your work goes in the .ts files beside it).",
    "",
    "## Read first",
    ...lab.read.map((r) => `- ${r}`),
    "",
    "## Files to edit",
    ...sources.map((s) => `- \`${path.posix.basename(s.sourcePath)}\` (the reference is \`${s.sourcePath}\`; the solution is in \`solutions/${lab.slug}/\`)`),
    "",
    "## Exercises",
    ...lab.exercises.map((e) => `- **${e.id}** ${e.title}`),
    "",
    `Run \`npm run lab ${lab.number}\`: it checks your code every time you save.`,
    "",
  ];
  return lines.join("\n");
}

/** Writes every generated file and removes files in labs/ and solutions/ that are no longer generated. */
export async function writeAll(root: string, files: readonly GeneratedFile[]): Promise<void> {
  const expected = new Set(files.map((f) => f.path));
  for (const dir of ["labs", "solutions"]) {
    for (const full of await listAll(path.join(root, dir)).catch(() => [] as string[])) {
      const rel = path.relative(root, full).split(path.sep).join("/");
      if (!expected.has(rel)) await rm(full);
    }
  }
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file.path)), { recursive: true });
    await writeFile(path.join(root, file.path), file.content);
  }
}

/** The generated files that differ from (or are missing in) the working tree. */
export async function outOfDate(root: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const stale: string[] = [];
  for (const file of files) {
    const current = await readFile(path.join(root, file.path), "utf8").catch(() => null);
    if (current !== file.content) stale.push(file.path);
  }
  const expected = new Set(files.map((f) => f.path));
  for (const dir of ["labs", "solutions"]) {
    const present = await listAll(path.join(root, dir)).catch(() => [] as string[]);
    for (const full of present) {
      const rel = path.relative(root, full).split(path.sep).join("/");
      if (!expected.has(rel)) stale.push(`${rel} (should not exist)`);
    }
  }
  return stale;
}

async function listAll(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listAll(full)));
    else out.push(full);
  }
  return out;
}
