// Tab completion as a pure unit (zkCli's JLineZNodeCompleter): command names for the first word, znode paths
// (children of the directory part, asked of the server) for words starting with "/".
import { describe, expect, it } from "vitest";
import { complete } from "../../src/shell/completer.ts";
import { NoNodeError } from "../../src/client/index.ts";

const tree: Record<string, string[]> = {
  "/": ["zookeeper", "workers", "tasks", "assign"],
  "/tasks": ["task-0000000001", "task-0000000000"],
  "/workers": [],
};

async function listChildren(path: string): Promise<string[]> {
  const children = tree[path];
  if (children === undefined) throw new NoNodeError(path);
  return children;
}

describe("complete", () => {
  it("completes command names in the first word", async () => {
    expect(await complete("ge", listChildren)).toEqual([["get", "getAcl", "getAllChildrenNumber", "getEphemerals"], "ge"]);
    expect(await complete("dele", listChildren)).toEqual([["delete", "deleteall"], "dele"]);
    expect(await complete("", listChildren)).toEqual([expect.arrayContaining(["ls", "create", "quit"]), ""]);
    expect(await complete("nosuch", listChildren)).toEqual([[], "nosuch"]);
  });

  it("completes paths from the children of the directory part, sorted", async () => {
    expect(await complete("ls /", listChildren)).toEqual([["/assign", "/tasks", "/workers", "/zookeeper"], "/"]);
    expect(await complete("get -s /ta", listChildren)).toEqual([["/tasks"], "/ta"]);
    expect(await complete("get /tasks/task-", listChildren)).toEqual([
      ["/tasks/task-0000000000", "/tasks/task-0000000001"],
      "/tasks/task-",
    ]);
  });

  it("offers nothing for a missing directory, an option or a data word", async () => {
    expect(await complete("ls /nope/x", listChildren)).toEqual([[], "/nope/x"]);
    expect(await complete("ls -", listChildren)).toEqual([[], "-"]);
    expect(await complete("set /tasks da", listChildren)).toEqual([[], "da"]);
  });
});
