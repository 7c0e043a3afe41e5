/**
 * Lab regions: the reference *is* the solution. An exercise is a marked region of a reference module:
 *
 *   // lab 4.2: a child watch fires once, on create and on delete of a child
 *   //   (more lines of instructions, each starting with "//")
 *   ...reference code...
 *   // end lab 4.2
 *
 * From one source we derive the learner's stub (each region's code replaced by `throw new LabTodo("4.2")`, the
 * instructions kept) and the solution (the module whole). Both get their imports rewritten so that they resolve
 * against `src/` from wherever they are written. Pure text in, text out: no file system here.
 */

export interface Region {
  readonly exercise: string;
  readonly lab: number;
  readonly title: string;
  /** Comment lines after the marker that explain the exercise (without the leading "//"). */
  readonly instructions: readonly string[];
  /** 1-based line numbers of the marker and the end marker in the source. */
  readonly startLine: number;
  readonly endLine: number;
  readonly indent: string;
}

const startPattern = /^(\s*)\/\/ lab (\d+)\.(\d+): (.+?)\s*$/;
const endPattern = /^\s*\/\/ end lab (\d+\.\d+)\s*$/;
const commentPattern = /^\s*\/\/(.*)$/;

export class RegionError extends Error {
  override readonly name = "RegionError";
}

/** Finds the lab regions of a module; throws RegionError (naming file and line) for a malformed marker. */
export function findRegions(source: string, file: string): Region[] {
  const lines = source.split("\n");
  const regions: Region[] = [];
  let open: { exercise: string; lab: number; title: string; startLine: number; indent: string } | null = null;
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    const start = startPattern.exec(line);
    if (start !== null) {
      if (open !== null) throw new RegionError(`${file}:${lineNo}: lab ${start[2]}.${start[3]} starts inside lab ${open.exercise}`);
      open = { exercise: `${start[2]}.${start[3]}`, lab: Number(start[2]), title: start[4]!, startLine: lineNo, indent: start[1]! };
      return;
    }
    const end = endPattern.exec(line);
    if (end !== null) {
      if (open === null || open.exercise !== end[1]) {
        throw new RegionError(`${file}:${lineNo}: "end lab ${end[1]}" without a matching "// lab ${end[1]}: ..." marker`);
      }
      const instructions: string[] = [];
      for (let i = open.startLine; i < index; i++) {
        const comment = commentPattern.exec(lines[i]!);
        if (comment === null) break;
        instructions.push(comment[1]!.replace(/^ {1,3}/, ""));
      }
      regions.push({ ...open, instructions, endLine: lineNo });
      open = null;
    }
  });
  if (open !== null) {
    const o = open as { exercise: string; startLine: number };
    throw new RegionError(`${file}:${o.startLine}: lab ${o.exercise} is never closed with "// end lab ${o.exercise}"`);
  }
  const seen = new Set<string>();
  for (const region of regions) {
    if (seen.has(region.exercise)) throw new RegionError(`${file}:${region.startLine}: lab ${region.exercise} is marked twice`);
    seen.add(region.exercise);
  }
  return regions;
}

/**
 * The module with the given exercises' code replaced by a `throw` (their marker, instructions and end marker
 * kept), and every other region left solved. `stubbed` = all exercises gives the learner's file.
 */
export function stubRegions(source: string, regions: readonly Region[], stubbed: ReadonlySet<string>): string {
  const lines = source.split("\n");
  const out: string[] = [];
  let skipUntil = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    if (lineNo <= skipUntil) continue;
    const region = regions.find((r) => r.startLine === lineNo);
    if (region !== undefined && stubbed.has(region.exercise)) {
      out.push(lines[i]!);
      for (let k = 0; k < region.instructions.length; k++) out.push(lines[i + 1 + k]!);
      out.push(`${region.indent}throw new LabTodo("${region.exercise}");`);
      out.push(lines[region.endLine - 1]!);
      skipUntil = region.endLine;
      continue;
    }
    out.push(lines[i]!);
  }
  return out.join("\n");
}

const importPattern = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\2/g;

/**
 * Rewrites relative imports of a module that lived at `src/<fromDir>/…` so they resolve from a generated copy:
 * modules of the same lab stay relative (`./watches.ts`, the learner's own), everything else becomes `#src/…`
 * (package.json "imports"), which resolves to the reference from any folder inside the project.
 */
export function rewriteImports(source: string, fromDir: string, sameLab: ReadonlyMap<string, string>): string {
  return source.replace(importPattern, (_match, lead: string, quote: string, spec: string) => {
    const target = joinPosix(fromDir, spec);
    const local = sameLab.get(target);
    return `${lead}${quote}${local !== undefined ? `./${local}` : `#src/${target}`}${quote}`;
  });
}

/** Normalises "a/b" + "../c/d.ts" → "a/c/d.ts" (POSIX, no leading slash). */
export function joinPosix(dir: string, spec: string): string {
  const parts = dir === "" ? [] : dir.split("/");
  for (const piece of spec.split("/")) {
    if (piece === "." || piece === "") continue;
    if (piece === "..") parts.pop();
    else parts.push(piece);
  }
  return parts.join("/");
}

/** The header every generated file starts with. */
export function generatedHeader(kind: "stub" | "solution", sourcePath: string, lab: number): string {
  const what =
    kind === "stub"
      ? `Lab ${lab}: edit this file. Each "throw new LabTodo" marks an exercise to write; \`npm run lab ${lab}\` checks it.`
      : `Lab ${lab}: the solution, identical to the reference in ${sourcePath}.`;
  return `// Generated by \`npm run labs:build\` from ${sourcePath}. ${what}\n`;
}
