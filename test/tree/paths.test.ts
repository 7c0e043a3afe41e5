/**
 * Znode path validation against Apache 3.8 `PathUtils.validatePath` (the cases of Apache's PathUtilsTest, and the
 * exact messages, which clients print).
 */
import { describe, expect, it } from "vitest";
import { childPath, nameOf, parentOf, pathProblem } from "../../src/tree/paths.ts";

describe("pathProblem = PathUtils.validatePath", () => {
  const valid = [
    "/",
    "/this is / a valid/path",
    "/name/with.period.",
    "/.hidden",
    "/a/..b",
    "/a/b..",
    "/a/...",
    "/test\u0020",
    "/test\u007e",
    "/test\u00a0",
    "/test\uf900",
    "/test\uffef",
    "/中文/ü",
  ];
  for (const path of valid) {
    it(`accepts ${JSON.stringify(path)}`, () => expect(pathProblem(path)).toBeNull());
  }

  const invalid: Array<[string | null, string]> = [
    [null, "Path cannot be null"],
    ["", "Path length must be > 0"],
    ["not/valid", "Path must start with / character"],
    ["/ends/with/slash/", "Path must not end with / character"],
    ["/test\u0000", 'Invalid path string "/test\u0000" caused by null character not allowed @5'],
    ["/double//slash", 'Invalid path string "/double//slash" caused by empty node name specified @8'],
    ["/single/./period", 'Invalid path string "/single/./period" caused by relative paths not allowed @8'],
    ["/double/../period", 'Invalid path string "/double/../period" caused by relative paths not allowed @9'],
    ["/.", 'Invalid path string "/." caused by relative paths not allowed @1'],
    ["/..", 'Invalid path string "/.." caused by relative paths not allowed @2'],
    ["/a/..", 'Invalid path string "/a/.." caused by relative paths not allowed @4'],
    ["/test\u0001", 'Invalid path string "/test\u0001" caused by invalid character @5'],
    ["/test\u001f", 'Invalid path string "/test\u001f" caused by invalid character @5'],
    ["/test\u007f", 'Invalid path string "/test\u007f" caused by invalid character @5'],
    ["/test\u009f", 'Invalid path string "/test\u009f" caused by invalid character @5'],
    ["/test\ud800", 'Invalid path string "/test\ud800" caused by invalid character @5'],
    ["/test\uf8ff", 'Invalid path string "/test\uf8ff" caused by invalid character @5'],
    ["/test\ufff0", 'Invalid path string "/test\ufff0" caused by invalid character @5'],
    ["/test\uffff", 'Invalid path string "/test\uffff" caused by invalid character @5'],
    // A supplementary character is a surrogate pair in Java's UTF-16 chars: refused.
    ["/smile\u{1F600}", 'Invalid path string "/smile\u{1F600}" caused by invalid character @6'],
  ];
  for (const [path, message] of invalid) {
    it(`refuses ${JSON.stringify(path)}`, () => expect(pathProblem(path)).toBe(message));
  }

  it("reports the first problem only, at its index", () => {
    expect(pathProblem("/a//b/\u0001")).toContain("empty node name specified @3");
  });
});

describe("pathProblem(path, isSequential) = PathUtils.validatePath(path + \"1\")", () => {
  // A sequential create may end in '/' (the counter is appended), and is validated as if a digit followed.
  it.each([
    ["/", null],
    ["/a/", null],
    ["/a/b", null],
    ["/a/.", null],
    ["/a/..", null],
    ["/a//", 'Invalid path string "/a//1" caused by empty node name specified @3'],
    ["a/", "Path must start with / character"],
    ["", "Path must start with / character"],
  ] as Array<[string, string | null]>)("%j", (path, expected) => {
    expect(pathProblem(path, true)).toBe(expected);
  });
});

describe("path helpers", () => {
  it("parentOf / nameOf / childPath", () => {
    expect(parentOf("/a")).toBe("/");
    expect(parentOf("/a/b/c")).toBe("/a/b");
    expect(nameOf("/a/b")).toBe("b");
    expect(childPath("/", "a")).toBe("/a");
    expect(childPath("/a", "b")).toBe("/a/b");
  });
});
