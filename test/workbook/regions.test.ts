// Lab regions (DESIGN.md "Labs: one source of truth"): parsing markers, stubbing, rewriting imports.
import { describe, expect, it } from "vitest";
import { findRegions, joinPosix, rewriteImports, stubRegions, RegionError } from "../../src/workbook/regions.ts";

const source = [
  'import { a } from "./a.ts";',
  'import type { B } from "../tree/b.ts";',
  "export function f(x: number): number {",
  "  // lab 9.1: double it",
  "  //   Return twice x.",
  "  return x * 2;",
  "  // end lab 9.1",
  "}",
  "export function g(): string {",
  "  // lab 9.2: say hi",
  '  return "hi";',
  "  // end lab 9.2",
  "}",
].join("\n");

describe("findRegions", () => {
  it("finds each region with its title, instructions and lines", () => {
    const regions = findRegions(source, "src/x/m.ts");
    expect(regions.map((r) => [r.exercise, r.title, r.instructions, r.startLine, r.endLine])).toEqual([
      ["9.1", "double it", ["Return twice x."], 4, 7],
      ["9.2", "say hi", [], 10, 12],
    ]);
  });

  it("names the file and line of an unclosed, crossed or duplicated region", () => {
    expect(() => findRegions("// lab 1.1: a\nx", "m.ts")).toThrow(/m.ts:1: lab 1.1 is never closed/);
    expect(() => findRegions("// lab 1.1: a\n// lab 1.2: b\n", "m.ts")).toThrow(/m.ts:2: lab 1.2 starts inside lab 1.1/);
    expect(() => findRegions("// end lab 1.1\n", "m.ts")).toThrow(RegionError);
    expect(() => findRegions("// lab 1.1: a\n// end lab 1.1\n// lab 1.1: a\n// end lab 1.1\n", "m.ts")).toThrow(/marked twice/);
  });
});

describe("stubRegions", () => {
  it("replaces only the chosen exercises' code with a LabTodo throw, keeping marker and instructions", () => {
    const regions = findRegions(source, "m.ts");
    const stub = stubRegions(source, regions, new Set(["9.1"]));
    expect(stub).toContain('  // lab 9.1: double it\n  //   Return twice x.\n  throw new LabTodo("9.1");\n  // end lab 9.1');
    expect(stub).not.toContain("return x * 2");
    expect(stub).toContain('return "hi"');
    expect(stubRegions(source, regions, new Set())).toBe(source);
  });
});

describe("rewriteImports", () => {
  it("points reference imports at #src and keeps imports of the same lab's files relative", () => {
    const out = rewriteImports(source, "server", new Map([["server/a.ts", "a.ts"]]));
    expect(out).toContain('import { a } from "./a.ts";');
    expect(out).toContain('import type { B } from "#src/tree/b.ts";');
  });

  it("joins POSIX paths", () => {
    expect(joinPosix("apps/master-worker", "../../client/index.ts")).toBe("client/index.ts");
    expect(joinPosix("server", "./watches.ts")).toBe("server/watches.ts");
  });
});
