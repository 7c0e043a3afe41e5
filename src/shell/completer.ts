/**
 * Tab completion, after zkCli's `JLineZNodeCompleter`: the word under the cursor is completed as a znode path when
 * it starts with "/" (asking the server for the children of the directory part), else as a command name when it is
 * the first word. The result has the shape Node's readline completer wants: [candidates, the text they replace].
 */
import { commandNames } from "./parser.ts";

/** Lists a node's children; anything it throws (no such node, not connected) means "no candidates". */
export type ListChildren = (path: string) => Promise<readonly string[]>;

export async function complete(line: string, listChildren: ListChildren): Promise<[string[], string]> {
  const word = /(\S*)$/.exec(line)![1]!;
  if (word.startsWith("/")) {
    const slash = word.lastIndexOf("/");
    const directory = slash === 0 ? "/" : word.slice(0, slash);
    const prefix = word.slice(slash + 1);
    let children: readonly string[];
    try {
      children = await listChildren(directory);
    } catch {
      return [[], word];
    }
    const base = word.slice(0, slash + 1);
    const candidates = children.filter((child) => child.startsWith(prefix)).sort().map((child) => base + child);
    return [candidates, word];
  }
  if (line.trimStart() === word) {
    return [commandNames.filter((name) => name.startsWith(word)), word];
  }
  return [[], word];
}
