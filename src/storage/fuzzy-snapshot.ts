/**
 * Fuzzy snapshots (book chapter 9, notes §9 "服务器的构成"): the server keeps serving while the tree is written
 * out, so the snapshot is not the tree at any one moment. It is still useful because
 *   - it is named after TS, the zxid of the last txn applied when it *started*, and
 *   - every txn after TS is in the log, and txns are idempotent: replaying them over the snapshot, in order,
 *     rebuilds the exact tree (a create that finds its node, a delete that does not, is simply skipped).
 *
 * The tree is walked in pre-order, parents first, as Apache's DataTree.serializeNode does: a node's children are
 * listed when the node itself is written, so a child always follows its parent in the file (Apache's
 * DataTree.deserialize looks up each node's parent). Every `nodesPerTurn` nodes the walk yields to the event loop.
 */
import type { DataTree } from "../tree/data-tree.ts";
import { childPath } from "../tree/paths.ts";
import { fuzzySnapshotNodesPerTurn } from "./limits.ts";
import { SnapshotEncoder, type SessionEntry, type ZxidDigest } from "./snapshot-format.ts";

export interface SerializedSnapshot {
  /** TS: the last zxid applied when serialization started; the snapshot's name. */
  readonly zxid: bigint;
  /** The file, in order. */
  readonly pieces: Buffer[];
  readonly nodeCount: number;
  readonly bytes: number;
  /** The zxid the tree had reached when serialization ended (> zxid when the snapshot is fuzzy). */
  readonly endZxid: bigint;
}

export interface SerializeOptions {
  /** Nodes per event-loop turn; Infinity serializes in one go (a snapshot at startup, when nothing else runs). */
  readonly nodesPerTurn?: number;
  /** How to yield a turn (tests may step it by hand). */
  readonly yieldTurn?: () => Promise<void>;
  /** Checksum the file's chunks in libuv's thread pool, off the event loop (the server's fuzzy snapshots). */
  readonly checksumInThreadPool?: boolean;
}

const setImmediateTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Serializes `tree` and `sessions`. `digestAtEnd` is asked, the moment the last node is written, for the zxid and
 * digest of the tree at that moment (Apache's DataTree.serializeZxidDigest).
 */
export async function serializeTree(
  tree: DataTree,
  sessions: readonly SessionEntry[],
  digestAtEnd: () => ZxidDigest | null,
  options: SerializeOptions = {},
): Promise<SerializedSnapshot> {
  const nodesPerTurn = options.nodesPerTurn ?? fuzzySnapshotNodesPerTurn;
  const yieldTurn = options.yieldTurn ?? setImmediateTurn;
  const zxid = tree.lastProcessedZxid;
  const encoder = new SnapshotEncoder(sessions, { checksumInThreadPool: options.checksumInThreadPool });
  const stack: string[] = ["/"];
  let sinceYield = 0;
  while (stack.length > 0) {
    const path = stack.pop()!;
    // A node deleted since its parent listed it is simply not in the snapshot; replay deletes it anyway.
    const node = tree.getNode(path);
    if (node === undefined) continue;
    encoder.addNode(path, node.data, node.acl, node.stat);
    // Most nodes are leaves: no copy of an empty child set. (Children go on the stack last first, so they come
    // off it in the set's order.)
    if (node.children.size > 0) {
      const names = [...node.children];
      for (let i = names.length - 1; i >= 0; i--) stack.push(childPath(path, names[i]!));
    }
    if (++sinceYield >= nodesPerTurn && stack.length > 0) {
      sinceYield = 0;
      await yieldTurn();
    }
  }
  const endZxid = tree.lastProcessedZxid;
  const digest = digestAtEnd();
  await encoder.checksummed();
  const pieces = encoder.finish(digest);
  return { zxid, pieces, nodeCount: encoder.nodeCount, bytes: pieces.reduce((n, p) => n + p.length, 0), endZxid };
}
