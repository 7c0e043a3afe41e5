import { describe, expect, it } from "vitest";
import { readJavaProperties } from "../../src/config/properties.ts";

describe("readJavaProperties (the zoo.cfg line format)", () => {
  it("skips # and ! comments and blank lines, and numbers the entries' lines", () => {
    const entries = readJavaProperties("# comment\n\n! also a comment\ntickTime=2000\n   \nclientPort=2181\n");
    expect(entries).toEqual([
      { key: "tickTime", value: "2000", line: 4 },
      { key: "clientPort", value: "2181", line: 6 },
    ]);
  });

  it("trims whitespace around keys and values", () => {
    expect(readJavaProperties("  tickTime   =   2000   \t")).toEqual([{ key: "tickTime", value: "2000", line: 1 }]);
  });

  it("accepts '=', ':' and whitespace as the separator, as java.util.Properties does", () => {
    const entries = readJavaProperties("a=1\nb:2\nc 3\nd = 4\ne\t:\t5");
    expect(entries.map((entry) => [entry.key, entry.value])).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
      ["d", "4"],
      ["e", "5"],
    ]);
  });

  it("splits at the first separator only, so server lines keep their colons", () => {
    expect(readJavaProperties("server.1=zk1:2888:3888;2181")[0]).toMatchObject({
      key: "server.1",
      value: "zk1:2888:3888;2181",
    });
  });

  it("joins lines that end with a backslash", () => {
    const entries = readJavaProperties("4lw.commands.whitelist=srvr,\\\n    stat,\\\n    ruok\nnext=1");
    expect(entries).toEqual([
      { key: "4lw.commands.whitelist", value: "srvr,stat,ruok", line: 1 },
      { key: "next", value: "1", line: 4 },
    ]);
  });

  it("unescapes like Java: \\\\ is a backslash, \\uXXXX a character, \\z just z", () => {
    const entries = readJavaProperties("a=C:\\\\zk\\\\data\nb=caf\\u00e9\nc=C:\\zk");
    expect(entries.map((entry) => entry.value)).toEqual(["C:\\zk\\data", "café", "C:zk"]);
  });

  it("keeps an escaped separator in the key", () => {
    expect(readJavaProperties("a\\=b=c")[0]).toMatchObject({ key: "a=b", value: "c" });
  });

  it("keeps repeated keys, in order, so the caller can report them", () => {
    expect(readJavaProperties("a=1\na=2").map((entry) => entry.value)).toEqual(["1", "2"]);
  });

  it("handles Windows line endings", () => {
    expect(readJavaProperties("a=1\r\nb=2\r\n")).toEqual([
      { key: "a", value: "1", line: 1 },
      { key: "b", value: "2", line: 2 },
    ]);
  });

  it("gives an empty value to a key alone on its line", () => {
    expect(readJavaProperties("lonely")).toEqual([{ key: "lonely", value: "", line: 1 }]);
  });
});
