/**
 * The tree digest of ZooKeeper 3.6+ (zookeeper.digest.enabled, on by default in 3.8): a checksum of the whole
 * data tree that Apache writes after every txn in the log (TxnDigest) and at the end of every snapshot, and checks
 * while it replays them ("Digests are not matching"). Writing the same digests is what makes our files
 * indistinguishable from Apache's, and checking Apache's digests while we replay proves our tree is Apache's tree.
 *
 * Apache (DigestCalculator version 2, NodeHashMapImpl, AdHash): a node's digest is
 *   CRC32(path bytes, data, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner)
 * with the root's path written as "" and nodes under "/zookeeper/" counted as 0; the tree's digest is the sum of
 * its nodes' digests, wrapping at 64 bits.
 *
 * The digest in a log entry is the digest *after* that txn is applied, but a txn is logged before it is applied
 * (and many may be logged ahead of the tree with group commit). `PendingDigests` therefore computes each txn's
 * effect on the digest from the tree plus an overlay of what the logged-but-unapplied txns will change —
 * the same idea as the Preparer's change records. Its rules mirror DataTree.processTxn exactly.
 */
import { crc32 } from "node:zlib";
import type { StatPersisted } from "../proto/records.ts";
import type { DataTree, ZNode } from "../tree/data-tree.ts";
import { childPath, parentOf } from "../tree/paths.ts";
import { containerOwner, newStat, ownerKind, ttlOwner } from "../tree/stat.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";

const zookeeperSubtree = "/zookeeper/";
const statDigestBytes = 60;

/** A node's digest (DigestCalculator.calculateDigest), as an unsigned 32-bit value in a bigint. */
export function nodeDigest(path: string, data: Buffer | null, stat: StatPersisted): bigint {
  if (path.startsWith(zookeeperSubtree)) return 0n;
  const statBytes = Buffer.allocUnsafe(statDigestBytes);
  statBytes.writeBigInt64BE(stat.czxid, 0);
  statBytes.writeBigInt64BE(stat.mzxid, 8);
  statBytes.writeBigInt64BE(stat.pzxid, 16);
  statBytes.writeBigInt64BE(stat.ctime, 24);
  statBytes.writeBigInt64BE(stat.mtime, 32);
  statBytes.writeInt32BE(stat.version, 40);
  statBytes.writeInt32BE(stat.cversion, 44);
  statBytes.writeInt32BE(stat.aversion, 48);
  statBytes.writeBigInt64BE(BigInt.asIntN(64, stat.ephemeralOwner), 52);
  let crc = crc32(path === "/" ? "" : path);
  if (data !== null && data.length > 0) crc = crc32(data, crc);
  crc = crc32(statBytes, crc);
  return BigInt(crc);
}

/** A 64-bit wrapping sum, as Java's long arithmetic in AdHash. */
export function wrapDigest(sum: bigint): bigint {
  return BigInt.asIntN(64, sum);
}

/** The digest of a node held by the tree, cached while the node does not change. */
interface CachedDigest {
  mzxid: bigint;
  pzxid: bigint;
  version: number;
  cversion: number;
  aversion: number;
  data: Buffer | null;
  digest: bigint;
}
const cache = new WeakMap<ZNode, CachedDigest>();

export function znodeDigest(path: string, node: ZNode): bigint {
  const s = node.stat;
  const hit = cache.get(node);
  if (
    hit !== undefined &&
    hit.mzxid === s.mzxid &&
    hit.pzxid === s.pzxid &&
    hit.version === s.version &&
    hit.cversion === s.cversion &&
    hit.aversion === s.aversion &&
    hit.data === node.data
  ) {
    return hit.digest;
  }
  const digest = nodeDigest(path, node.data, s);
  cache.set(node, { mzxid: s.mzxid, pzxid: s.pzxid, version: s.version, cversion: s.cversion, aversion: s.aversion, data: node.data, digest });
  return digest;
}

/** The digest of the whole tree (DataTree.getTreeDigest), computed by visiting every node. */
export function treeDigest(tree: DataTree): bigint {
  let sum = 0n;
  const stack = ["/"];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const node = tree.getNode(path);
    if (node === undefined) continue;
    sum += znodeDigest(path, node);
    for (const name of node.children) stack.push(childPath(path, name));
  }
  return wrapDigest(sum);
}

/** A node as a pending txn leaves it. */
interface NodeState {
  readonly data: Buffer | null;
  readonly stat: StatPersisted;
  digest?: bigint;
}

interface OverlayEntry {
  readonly zxid: bigint;
  readonly state: NodeState | null;
}

/**
 * Digests of txns logged ahead of the tree. Feed every txn to `afterTxn` in zxid order as it is logged, and call
 * `applied(zxid)` once the tree has applied it.
 */
export class PendingDigests {
  private digest: bigint;
  private readonly overlay = new Map<string, OverlayEntry>();
  private readonly touchedByTxn: Array<{ readonly zxid: bigint; readonly paths: readonly string[] }> = [];
  private readonly digests: Array<{ readonly zxid: bigint; readonly digest: bigint }> = [];
  private appliedZxidValue: bigint;
  private appliedDigestValue: bigint;

  constructor(
    private readonly tree: DataTree,
    initialDigest: bigint = treeDigest(tree),
  ) {
    this.digest = initialDigest;
    this.appliedZxidValue = tree.lastProcessedZxid;
    this.appliedDigestValue = initialDigest;
  }

  /** The digest of the tree once every txn given so far is applied. */
  get latest(): bigint {
    return this.digest;
  }

  /** The zxid and digest of the last txn reported applied (what the tree is now). */
  get applied(): { readonly zxid: bigint; readonly digest: bigint } {
    return { zxid: this.appliedZxidValue, digest: this.appliedDigestValue };
  }

  /** Txns given but not yet applied. */
  get pendingCount(): number {
    return this.digests.length;
  }

  /** Computes and returns the tree's digest after `txn` (to be logged with it). */
  afterTxn(header: TxnHeader, txn: Txn): bigint {
    const work = new Map<string, { before: bigint; state: NodeState | null }>();
    const view = (path: string): NodeState | null => {
      const w = work.get(path);
      if (w !== undefined) return w.state;
      return this.stateOf(path);
    };
    const write = (path: string, state: NodeState | null): void => {
      const w = work.get(path);
      if (w !== undefined) w.state = state;
      else work.set(path, { before: this.digestOfState(path, this.stateOf(path)), state });
    };
    this.applyTxn(header, txn, view, write);

    let delta = 0n;
    const paths: string[] = [];
    for (const [path, { before, state }] of work) {
      delta += this.digestOfState(path, state) - before;
      this.overlay.set(path, { zxid: header.zxid, state });
      paths.push(path);
    }
    this.digest = wrapDigest(this.digest + delta);
    if (paths.length > 0) this.touchedByTxn.push({ zxid: header.zxid, paths });
    this.digests.push({ zxid: header.zxid, digest: this.digest });
    return this.digest;
  }

  /** The tree has applied every txn up to `zxid`: forget what it now holds itself. */
  markApplied(zxid: bigint): void {
    while (this.touchedByTxn.length > 0 && this.touchedByTxn[0]!.zxid <= zxid) {
      for (const path of this.touchedByTxn.shift()!.paths) {
        const entry = this.overlay.get(path);
        if (entry !== undefined && entry.zxid <= zxid) this.overlay.delete(path);
      }
    }
    while (this.digests.length > 0 && this.digests[0]!.zxid <= zxid) {
      const d = this.digests.shift()!;
      this.appliedZxidValue = d.zxid;
      this.appliedDigestValue = d.digest;
    }
  }

  private stateOf(path: string): NodeState | null {
    const entry = this.overlay.get(path);
    if (entry !== undefined) return entry.state;
    const node = this.tree.getNode(path);
    if (node === undefined) return null;
    return { data: node.data, stat: node.stat, digest: znodeDigest(path, node) };
  }

  private digestOfState(path: string, state: NodeState | null): bigint {
    if (state === null) return 0n;
    if (state.digest === undefined) state.digest = nodeDigest(path, state.data, state.stat);
    return state.digest;
  }

  /** DataTree.processTxn's effect on nodes, against a view. */
  private applyTxn(
    header: TxnHeader,
    txn: Txn,
    view: (path: string) => NodeState | null,
    write: (path: string, state: NodeState | null) => void,
  ): void {
    const deleteNode = (path: string) => {
      // The parent's pzxid moves even when the node is already gone (DataTree.deleteNode).
      const parentPath = parentOf(path);
      const parent = view(parentPath);
      if (parent !== null && header.zxid > parent.stat.pzxid) write(parentPath, { data: parent.data, stat: { ...parent.stat, pzxid: header.zxid } });
      if (view(path) !== null) write(path, null);
    };
    const createNode = (path: string, data: Buffer | null, parentCVersion: number, owner: bigint) => {
      const parentPath = parentOf(path);
      const parent = view(parentPath);
      if (parent === null || view(path) !== null) return;
      const cversion = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
      if (cversion > parent.stat.cversion) {
        write(parentPath, { data: parent.data, stat: { ...parent.stat, cversion, pzxid: header.zxid } });
      }
      write(path, { data, stat: newStat(header.zxid, header.timeMs, owner) });
    };
    switch (txn.kind) {
      case "create":
        createNode(txn.path, txn.data, txn.parentCVersion, txn.ephemeral ? header.sessionId : 0n);
        return;
      case "createContainer":
        createNode(txn.path, txn.data, txn.parentCVersion, containerOwner);
        return;
      case "createTTL":
        createNode(txn.path, txn.data, txn.parentCVersion, ttlOwner(txn.ttlMs));
        return;
      case "delete":
        deleteNode(txn.path);
        return;
      case "setData": {
        const node = view(txn.path);
        if (node === null) return;
        write(txn.path, { data: txn.data, stat: { ...node.stat, version: txn.version, mtime: header.timeMs, mzxid: header.zxid } });
        return;
      }
      case "setACL": {
        const node = view(txn.path);
        if (node === null) return;
        write(txn.path, { data: node.data, stat: { ...node.stat, aversion: txn.version } });
        return;
      }
      case "closeSession": {
        const paths = new Set<string>([...txn.paths2Delete, ...this.ephemeralsOf(header.sessionId)]);
        for (const path of [...paths].sort().reverse()) deleteNode(path);
        return;
      }
      case "multi":
        // A failed multi changes nothing (every op becomes an error txn when applied).
        if (txn.txns.some((t) => t.kind === "error")) return;
        for (const sub of txn.txns) this.applyTxn(header, sub, view, write);
        return;
      case "check":
      case "createSession":
      case "error":
        return;
    }
  }

  /** A session's ephemerals once the pending txns are applied. */
  private ephemeralsOf(sessionId: bigint): Set<string> {
    const paths = new Set(this.tree.ephemeralsOf(sessionId));
    const extended = this.tree.options.extendedTypesEnabled;
    for (const [path, { state }] of this.overlay) {
      if (state === null) paths.delete(path);
      else if (state.stat.ephemeralOwner === sessionId && ownerKind(state.stat.ephemeralOwner, extended) === "ephemeral") paths.add(path);
    }
    return paths;
  }
}
