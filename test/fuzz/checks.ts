/**
 * What must still hold after a fuzz campaign: the tree's structural invariants, and a normal client (one this
 * project did not write) doing ordinary work correctly.
 */
import type { ZooKeeperServer } from "../../src/server/server.ts";
import { childPath, parentOf } from "../../src/tree/paths.ts";
import { connect, type Event } from "../integration/support/nzk.ts";

/** Every broken invariant of the tree, as text; empty when the tree is sound. */
export function treeProblems(zk: ZooKeeperServer): string[] {
  const problems: string[] = [];
  const tree = zk.tree;
  const seen = new Set<string>();
  for (const path of tree.paths()) {
    seen.add(path);
    const node = tree.getNode(path)!;
    const stat = tree.statOf(node);
    if (path !== "/") {
      const parent = tree.getNode(parentOf(path));
      if (parent === undefined || !parent.children.has(path.slice(path.lastIndexOf("/") + 1))) problems.push(`${path}: not a child of its parent`);
    }
    for (const name of node.children) if (tree.getNode(childPath(path, name)) === undefined) problems.push(`${path}: child ${name} missing`);
    if (stat.numChildren !== node.children.size) problems.push(`${path}: numChildren ${stat.numChildren}`);
    if (stat.dataLength !== (node.data?.length ?? 0)) problems.push(`${path}: dataLength ${stat.dataLength}`);
    if (stat.mzxid < stat.czxid || stat.pzxid < stat.czxid) problems.push(`${path}: zxids czxid ${stat.czxid} mzxid ${stat.mzxid} pzxid ${stat.pzxid}`);
    if (stat.mzxid > tree.lastProcessedZxid || stat.pzxid > tree.lastProcessedZxid) problems.push(`${path}: zxid from the future`);
    // (The initial nodes got their children without a create: Apache's DataTree constructor.)
    if (node.stat.czxid !== 0n && node.stat.cversion < node.children.size) problems.push(`${path}: stored cversion ${node.stat.cversion} < ${node.children.size} children`);
    if (stat.version < 0 || stat.aversion < -1) problems.push(`${path}: negative version`);
    const kind = tree.ownerKindOf(node);
    if (kind === "ephemeral") {
      if (node.children.size > 0) problems.push(`${path}: an ephemeral with children`);
      if (!tree.ephemeralsOf(node.stat.ephemeralOwner).has(path)) problems.push(`${path}: ephemeral not indexed under its session`);
    }
    if (kind === "container" && !tree.containerPaths().has(path)) problems.push(`${path}: container not indexed`);
    if (kind === "ttl" && !tree.ttlPaths().has(path)) problems.push(`${path}: ttl node not indexed`);
  }
  if (seen.size !== tree.nodeCount) problems.push(`${tree.nodeCount} nodes but ${seen.size} reachable from /`);
  for (const [session, paths] of tree.ephemeralsBySession()) {
    for (const path of paths) if (tree.getNode(path)?.stat.ephemeralOwner !== session) problems.push(`session ${session} lists ${path}, not its own`);
  }
  for (const path of tree.containerPaths()) if (tree.getNode(path) === undefined) problems.push(`container index lists missing ${path}`);
  for (const path of tree.ttlPaths()) if (tree.getNode(path) === undefined) problems.push(`ttl index lists missing ${path}`);
  return problems;
}

/** Ephemerals whose session the server no longer tracks (they should have gone with it). */
export function orphanedEphemerals(zk: ZooKeeperServer): string[] {
  const orphans: string[] = [];
  for (const [session, paths] of zk.tree.ephemeralsBySession()) if (zk.sessions.get(session) === undefined) orphans.push(...paths);
  return orphans;
}

/**
 * A normal client doing normal work: create, read, write with versions, children, a watch that fires once and
 * before the data, a multi, an ephemeral, delete. Throws on the first thing that is wrong.
 */
export async function exerciseNormalClient(connectString: string, root: string): Promise<void> {
  const a = await connect(connectString);
  const b = await connect(connectString);
  try {
    const fail = (what: string) => {
      throw new Error(`normal client after fuzzing: ${what}`);
    };
    if ((await a.create(root, "r")) !== root) fail("create");
    await a.create(`${root}/e`, "eph", 1);
    const seq = await a.create(`${root}/s-`, null, 2);
    if (!/-\d{10}$/.test(seq)) fail(`sequential name ${seq}`);
    const events: Event[] = [];
    const first = await b.getData(root, (e) => events.push(e));
    if (first.data?.toString() !== "r" || first.stat.version !== 0) fail("getData");
    const set = await a.setData(root, "r2", 0);
    if (set.version !== 1) fail("setData version");
    const after = await b.getData(root);
    if (events.length !== 1 || events[0]!.name !== "NODE_DATA_CHANGED") fail(`watch events ${events.map((e) => e.name)}`);
    if (after.data?.toString() !== "r2") fail("read after write");
    await a.setData(root, "r3");
    await b.exists("/");
    if (events.length !== 1) fail("a one-time watch fired twice");
    const children = (await b.getChildren(root)).children.sort();
    if (children.join() !== ["e", seq.slice(root.length + 1)].sort().join()) fail(`children ${children}`);
    const results = await new Promise<unknown[]>((resolve, reject) =>
      a.client
        .transaction()
        .create(`${root}/t`)
        .setData(root, Buffer.from("r4"), 2)
        .commit((e, r) => (e ? reject(e) : resolve(r))),
    );
    if (results.length !== 2) fail("multi");
    await a.remove(`${root}/t`);
    await a.remove(seq);
    let badVersion = false;
    await a.remove(root, 0).catch(() => (badVersion = true));
    if (!badVersion) fail("delete with a stale version succeeded");
  } finally {
    a.close();
    b.close();
  }
}
