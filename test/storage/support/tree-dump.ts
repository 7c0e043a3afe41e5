/**
 * One JSON shape for "the whole tree as a client sees it", produced from three places so they can be compared:
 * a live server through kazoo (Apache's or ours), and a DataTree in memory (after recovery in a unit test).
 *
 *   { "/a": { data: base64 | null, stat: { czxid: "2", ... }, acl: ["31:world:anyone"] }, ... }
 *
 * Numbers that may exceed 2^53 (zxids, times, owners) are decimal strings.
 */
import type { DataTree } from "../../../src/tree/data-tree.ts";
import { childPath } from "../../../src/tree/paths.ts";

export interface DumpedNode {
  readonly data: string | null;
  readonly stat: Record<string, string>;
  readonly acl: string[];
}
export type TreeDump = Record<string, DumpedNode>;

const statFields = ["czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid"] as const;

/** The tree held by a DataTree, as clients would see it. `skip` leaves out subtrees (e.g. "/zookeeper"). */
export function dumpDataTree(tree: DataTree, skip: readonly string[] = ["/zookeeper"]): TreeDump {
  const out: TreeDump = {};
  const visit = (path: string) => {
    if (skip.includes(path)) return;
    const node = tree.getNode(path);
    if (node === undefined) return;
    const stat = tree.statOf(node) as unknown as Record<string, bigint | number>;
    out[path] = {
      data: node.data === null ? null : node.data.toString("base64"),
      stat: Object.fromEntries(statFields.map((f) => [f, BigInt.asIntN(64, BigInt(stat[f]!)).toString()])),
      acl: node.acl.map((a) => `${a.perms}:${a.id.scheme}:${a.id.id}`),
    };
    for (const name of [...node.children].sort()) visit(childPath(path, name));
  };
  visit("/");
  return out;
}

/**
 * A kazoo script (for runKazoo) that prints the tree as JSON on its last line. `auth` lines are
 * `scheme:credential` pairs added first, so nodes with digest ACLs can be read.
 */
export function kazooDumpScript(auth: ReadonlyArray<readonly [string, string]> = [], skip: readonly string[] = ["/zookeeper"]): string {
  return `
import json, base64
from kazoo.client import KazooClient
zk = KazooClient(hosts=HOSTS, timeout=20)
zk.start(timeout=20)
for scheme, cred in ${JSON.stringify(auth)}:
    zk.add_auth(scheme, cred)
skip = set(${JSON.stringify(skip)})
out = {}
def visit(path):
    if path in skip:
        return
    data, stat = zk.get(path)
    acls, _ = zk.get_acls(path)
    out[path] = {
        "data": None if data is None else base64.b64encode(data).decode(),
        "stat": {f: str(getattr(stat, f)) for f in ${JSON.stringify(statFields)}},
        "acl": ["%d:%s:%s" % (a.perms, a.id.scheme, a.id.id) for a in acls],
    }
    for name in sorted(zk.get_children(path)):
        visit(("" if path == "/" else path) + "/" + name)
visit("/")
zk.stop()
print(json.dumps(out, sort_keys=True))
`;
}

/** Parses the last line of a kazooDumpScript run. */
export function parseKazooDump(stdout: string): TreeDump {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as TreeDump;
}
