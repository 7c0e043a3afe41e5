/**
 * Fuzzy snapshots (book chapter 9, notes §9 "服务器的构成"): the server keeps serving while the tree is written
 * out, so the snapshot is not the tree at any one moment. It is still useful because
 *   - it is named after TS, the zxid of the last txn applied when it *started*, and
 *   - every txn after TS is in the log, and txns are idempotent: replaying them over the snapshot, in order,
 *     rebuilds the exact tree (a create that finds its node, a delete that does not, is simply skipped).
 *
 * Nodes are written parents first, as a reader needs them (Apache's DataTree.deserialize looks up each node's
 * parent). Apache walks the tree depth first; we walk it in creation order, which also puts every parent before
 * its children and needs no lookup by path per node — on a tree of 100,000s of nodes, those lookups were most of
 * the cost of a snapshot, and a snapshot runs on the event loop every snapCount/2..snapCount txns. Every
 * `nodesPerTurn` nodes the walk yields to the event loop.
 */
import type { DataTree } from "../tree/data-tree.ts";
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
  let sinceYield = 0;
  for (const [path, node] of tree.nodesInCreationOrder()) {
    // A node created after TS is left out: its create is in the log after TS, and replay makes it. (So a node
    // deleted and created again while the walk runs is not written twice, and no child comes without its parent.)
    if (node.stat.czxid > zxid) continue;
    encoder.addNode(path, node.data, node.acl, node.stat);
    if (++sinceYield >= nodesPerTurn) {
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
