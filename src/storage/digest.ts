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
import { digestUnknown, type DataTree, type ZNode } from "../tree/data-tree.ts";
import { childPath, parentOf } from "../tree/paths.ts";
import { containerOwner, newStat, ownerKind, ttlOwner } from "../tree/stat.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";

const zookeeperSubtree = "/zookeeper/";
const statDigestBytes = 60;
/** Path, data and stat are packed here and checksummed in one call when they fit (most nodes). */
const scratchBytes = 16 * 1024;
const scratch = Buffer.allocUnsafe(scratchBytes);
const scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/** Writes the 60 bytes of stat DigestCalculator hashes, at `at` (DataView: far faster than Buffer.writeBigInt64BE). */
function writeStat(view: DataView, at: number, stat: StatPersisted): void {
  view.setBigInt64(at, stat.czxid);
  view.setBigInt64(at + 8, stat.mzxid);
  view.setBigInt64(at + 16, stat.pzxid);
  view.setBigInt64(at + 24, stat.ctime);
  view.setBigInt64(at + 32, stat.mtime);
  view.setInt32(at + 40, stat.version);
  view.setInt32(at + 44, stat.cversion);
  view.setInt32(at + 48, stat.aversion);
  view.setBigInt64(at + 52, BigInt.asIntN(64, stat.ephemeralOwner));
}

/**
 * A node's digest (DigestCalculator.calculateDigest): an unsigned 32-bit CRC, as a number. Numbers, not bigints:
 * the digest of a txn is a handful of these added and subtracted, exact in a double, and only the running tree
 * digest needs 64-bit wrapping — one BigInt step per txn instead of one per node.
 */
export function nodeDigestValue(path: string, data: Buffer | null, stat: StatPersisted): number {
  if (path.startsWith(zookeeperSubtree)) return 0;
  const name = path === "/" ? "" : path;
  const dataLength = data === null ? 0 : data.length;
  if (name.length * 3 + dataLength + statDigestBytes <= scratchBytes) {
    let at = scratch.write(name, 0, "utf8");
    if (dataLength > 0) at += data!.copy(scratch, at);
    writeStat(scratchView, at, stat);
    return crc32(scratch.subarray(0, at + statDigestBytes));
  }
  const statBytes = Buffer.allocUnsafe(statDigestBytes);
  writeStat(new DataView(statBytes.buffer, statBytes.byteOffset, statDigestBytes), 0, stat);
  let crc = crc32(name);
  if (dataLength > 0) crc = crc32(data!, crc);
  return crc32(statBytes, crc);
}

/** A node's digest (DigestCalculator.calculateDigest), as an unsigned 32-bit value in a bigint. */
export function nodeDigest(path: string, data: Buffer | null, stat: StatPersisted): bigint {
  return BigInt(nodeDigestValue(path, data, stat));
}

/** A 64-bit wrapping sum, as Java's long arithmetic in AdHash. */
export function wrapDigest(sum: bigint): bigint {
  return BigInt.asIntN(64, sum);
}

/**
 * The digest of a node of the tree. Kept on the node (`ZNode.digest`, which the tree resets whenever the node
 * changes), as Apache keeps it in DataNode: a node is hashed once per change, not each time a txn needs it.
 */
export function znodeDigest(path: string, node: ZNode): number {
  if (node.digest === digestUnknown) node.digest = nodeDigestValue(path, node.data, node.stat);
  return node.digest;
}

/**
 * Node digests summed as numbers are exact up to 2^53: 2^20 of them (each below 2^32) at a time, then folded
 * into the 64-bit sum.
 */
const nodesPerExactSum = 1 << 20;

/** The digest of the whole tree (DataTree.getTreeDigest), computed by visiting every node. */
export function treeDigest(tree: DataTree): bigint {
  let sum = 0n;
  let partial = 0;
  let count = 0;
  const stack = ["/"];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const node = tree.getNode(path);
    if (node === undefined) continue;
    partial += znodeDigest(path, node);
    if (++count === nodesPerExactSum) {
      sum += BigInt(partial);
      partial = 0;
      count = 0;
    }
    for (const name of node.children) stack.push(childPath(path, name));
  }
  return wrapDigest(sum + BigInt(partial));
}

/**
 * A node as a pending txn leaves it. A node of the tree is one too (a ZNode has these fields): a txn that only
 * reads a node — or reads it before changing it — needs no copy of it.
 */
interface NodeState {
  readonly data: Buffer | null;
  readonly stat: StatPersisted;
  /** Its digest, or `digestUnknown` until computed. */
  digest: number;
}

function pendingState(data: Buffer | null, stat: StatPersisted): NodeState {
  return { data, stat, digest: digestUnknown };
}

/** The last pending change of a node: by which txn, and what it leaves (null: the node is gone). */
interface OverlayEntry {
  zxid: bigint;
  state: NodeState | null;
}

/** A node as the txn being computed sees it: its digest before the txn, and its state now. */
interface WorkEntry {
  readonly path: string;
  readonly before: number;
  readonly original: NodeState | null;
  state: NodeState | null;
}

/** Queues below are arrays read from a head index (no O(n) shifts: a batch holds up to a thousand txns). */
const queueCompactAfter = 4096;
/**
 * Most txns look at one to three nodes: a short array, searched from the end, is cheaper than a Map. A txn
 * that looks at more (a closeSession with many ephemerals, a big multi) gets a Map index past this many.
 */
const workLinearMax = 8;

/**
 * Digests of txns logged ahead of the tree. Feed every txn to `afterTxn` in zxid order as it is logged, and call
 * `markApplied(zxid)` once the tree has applied it.
 */
export class PendingDigests {
  private digest: bigint;
  private readonly overlay = new Map<string, OverlayEntry>();
  /** Every (zxid, path) a pending txn changed, oldest first from `touchedHead`: two parallel arrays, no objects. */
  private touchedZxids: bigint[] = [];
  private touchedPaths: string[] = [];
  private touchedHead = 0;
  /** The tree's digest after each pending txn, oldest first from `digestsHead`. */
  private digestZxids: bigint[] = [];
  private digestValues: bigint[] = [];
  private digestsHead = 0;
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
    return this.digestZxids.length - this.digestsHead;
  }

  /** The nodes the txn being computed has looked at, in order (indexed by `workIndex` when there are many). */
  private readonly work: WorkEntry[] = [];
  private workIndex: Map<string, WorkEntry> | null = null;
  private header: TxnHeader | null = null;

  /** Computes and returns the tree's digest after `txn` (to be logged with it). */
  afterTxn(header: TxnHeader, txn: Txn): bigint {
    this.header = header;
    // Node digests are below 2^32 and a txn changes few nodes: their sum is exact as a number.
    let delta = 0;
    try {
      this.applyTxn(txn);
      for (const w of this.work) {
        if (w.state === w.original) continue; // only looked at
        const path = w.path;
        delta += this.digestOfState(path, w.state) - w.before;
        const entry = this.overlay.get(path);
        if (entry !== undefined) {
          entry.zxid = header.zxid;
          entry.state = w.state;
        } else {
          this.overlay.set(path, { zxid: header.zxid, state: w.state });
        }
        this.touchedZxids.push(header.zxid);
        this.touchedPaths.push(path);
      }
    } finally {
      this.work.length = 0; // empty for the next txn
      this.workIndex = null;
    }
    if (delta !== 0) this.digest = wrapDigest(this.digest + BigInt(delta));
    this.digestZxids.push(header.zxid);
    this.digestValues.push(this.digest);
    return this.digest;
  }

  /**
   * The tree has applied every txn up to `zxid`: forget what it now holds itself. A node's digest, computed
   * when its change was logged, is handed to the tree's node, so the node's next change need not hash it again.
   */
  markApplied(zxid: bigint): void {
    const zxids = this.touchedZxids;
    const paths = this.touchedPaths;
    let head = this.touchedHead;
    while (head < zxids.length && zxids[head]! <= zxid) {
      const path = paths[head]!;
      const entry = this.overlay.get(path);
      if (entry !== undefined && entry.zxid <= zxid) {
        this.overlay.delete(path);
        if (entry.state !== null && entry.state.digest !== digestUnknown) this.handDigestToTree(path, entry.state);
      }
      head++;
    }
    if (head === zxids.length) {
      this.touchedZxids = [];
      this.touchedPaths = [];
      head = 0;
    } else if (head > queueCompactAfter) {
      this.touchedZxids = zxids.slice(head);
      this.touchedPaths = paths.slice(head);
      head = 0;
    }
    this.touchedHead = head;

    let at = this.digestsHead;
    while (at < this.digestZxids.length && this.digestZxids[at]! <= zxid) {
      this.appliedZxidValue = this.digestZxids[at]!;
      this.appliedDigestValue = this.digestValues[at]!;
      at++;
    }
    if (at === this.digestZxids.length) {
      this.digestZxids = [];
      this.digestValues = [];
      at = 0;
    } else if (at > queueCompactAfter) {
      this.digestZxids = this.digestZxids.slice(at);
      this.digestValues = this.digestValues.slice(at);
      at = 0;
    }
    this.digestsHead = at;
  }

  /** Only if the tree's node is what the txn left (it always is, unless the tree and these rules disagree). */
  private handDigestToTree(path: string, state: NodeState): void {
    const node = this.tree.getNode(path);
    if (node === undefined || node.digest !== digestUnknown) return;
    const a = node.stat;
    const b = state.stat;
    if (
      node.data === state.data &&
      a.mzxid === b.mzxid &&
      a.pzxid === b.pzxid &&
      a.version === b.version &&
      a.cversion === b.cversion &&
      a.aversion === b.aversion &&
      a.ephemeralOwner === b.ephemeralOwner
    ) {
      node.digest = state.digest;
    }
  }

  private stateOf(path: string): NodeState | null {
    const entry = this.overlay.get(path);
    if (entry !== undefined) return entry.state;
    return this.tree.getNode(path) ?? null;
  }

  private digestOfState(path: string, state: NodeState | null): number {
    if (state === null) return 0;
    if (state.digest === digestUnknown) state.digest = nodeDigestValue(path, state.data, state.stat);
    return state.digest;
  }

  /** A node as the txn being computed sees it: its own changes first, then the pending ones, then the tree. */
  private view(path: string): NodeState | null {
    return this.workEntry(path).state;
  }

  private write(path: string, state: NodeState | null): void {
    this.workEntry(path).state = state;
  }

  /** The txn's entry for `path`, made from the pending changes or the tree the first time it looks at it. */
  private workEntry(path: string): WorkEntry {
    const work = this.work;
    if (this.workIndex !== null) {
      const indexed = this.workIndex.get(path);
      if (indexed !== undefined) return indexed;
    } else {
      for (let i = work.length - 1; i >= 0; i--) if (work[i]!.path === path) return work[i]!;
    }
    const state = this.stateOf(path);
    const entry: WorkEntry = { path, before: this.digestOfState(path, state), original: state, state };
    work.push(entry);
    if (this.workIndex !== null) this.workIndex.set(path, entry);
    else if (work.length > workLinearMax) this.workIndex = new Map(work.map((w) => [w.path, w]));
    return entry;
  }

  /** DataTree.deleteNode: the parent's pzxid moves even when the node is already gone. */
  private deleteNode(path: string): void {
    const zxid = this.header!.zxid;
    const parentPath = parentOf(path);
    const parent = this.view(parentPath);
    if (parent !== null && zxid > parent.stat.pzxid) this.write(parentPath, pendingState(parent.data, { ...parent.stat, pzxid: zxid }));
    if (this.view(path) !== null) this.write(path, null);
  }

  /** DataTree.createNode. */
  private createNode(path: string, data: Buffer | null, parentCVersion: number, owner: bigint): void {
    const { zxid, timeMs } = this.header!;
    const parentPath = parentOf(path);
    const parent = this.view(parentPath);
    if (parent === null || this.view(path) !== null) return;
    const cversion = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
    if (cversion > parent.stat.cversion) this.write(parentPath, pendingState(parent.data, { ...parent.stat, cversion, pzxid: zxid }));
    this.write(path, pendingState(data, newStat(zxid, timeMs, owner)));
  }

  /** DataTree.processTxn's effect on nodes. */
  private applyTxn(txn: Txn): void {
    const header = this.header!;
    switch (txn.kind) {
      case "create":
        this.createNode(txn.path, txn.data, txn.parentCVersion, txn.ephemeral ? header.sessionId : 0n);
        return;
      case "createContainer":
        this.createNode(txn.path, txn.data, txn.parentCVersion, containerOwner);
        return;
      case "createTTL":
        this.createNode(txn.path, txn.data, txn.parentCVersion, ttlOwner(txn.ttlMs));
        return;
      case "delete":
        this.deleteNode(txn.path);
        return;
      case "setData": {
        const node = this.view(txn.path);
        if (node === null) return;
        this.write(txn.path, pendingState(txn.data, { ...node.stat, version: txn.version, mtime: header.timeMs, mzxid: header.zxid }));
        return;
      }
      case "setACL": {
        const node = this.view(txn.path);
        if (node === null) return;
        this.write(txn.path, pendingState(node.data, { ...node.stat, aversion: txn.version }));
        return;
      }
      case "closeSession": {
        const paths = new Set<string>([...txn.paths2Delete, ...this.ephemeralsOf(header.sessionId)]);
        for (const path of [...paths].sort().reverse()) this.deleteNode(path);
        return;
      }
      case "multi":
        // A failed multi changes nothing (every op becomes an error txn when applied).
        if (txn.txns.some((t) => t.kind === "error")) return;
        for (const sub of txn.txns) this.applyTxn(sub);
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

/**
 * The digest of a tree kept up to date as txns are applied to it (recovery's replay): the nodes a txn can touch
 * are hashed just before and just after it is applied. Cheaper than `PendingDigests`, and it measures the tree
 * itself — but only once the txn is applied.
 */
export class AppliedDigest {
  private readonly touched = new Set<string>();
  private before = 0;

  constructor(
    private readonly tree: DataTree,
    public digest: bigint = treeDigest(tree),
  ) {}

  /** Call right before `tree.processTxn(header, txn)`. */
  beforeApply(header: TxnHeader, txn: Txn): void {
    this.touched.clear();
    this.collect(header, txn);
    this.before = this.sum();
  }

  /** Call right after it; returns the tree's digest now. */
  afterApply(): bigint {
    const delta = this.sum() - this.before;
    if (delta !== 0) this.digest = wrapDigest(this.digest + BigInt(delta));
    return this.digest;
  }

  /** As a number: exact while a txn touches fewer than 2^21 nodes (a session's ephemerals are far fewer). */
  private sum(): number {
    let total = 0;
    for (const path of this.touched) {
      const node = this.tree.getNode(path);
      if (node !== undefined) total += znodeDigest(path, node);
    }
    return total;
  }

  private touch(path: string): void {
    this.touched.add(path);
    if (path !== "/") this.touched.add(parentOf(path));
  }

  private collect(header: TxnHeader, txn: Txn): void {
    switch (txn.kind) {
      case "create":
      case "createContainer":
      case "createTTL":
      case "delete":
      case "setData":
      case "setACL":
        this.touch(txn.path);
        return;
      case "closeSession":
        for (const path of txn.paths2Delete) this.touch(path);
        for (const path of this.tree.ephemeralsOf(header.sessionId)) this.touch(path);
        return;
      case "multi":
        for (const sub of txn.txns) this.collect(header, sub);
        return;
      case "check":
      case "createSession":
      case "error":
        return;
    }
  }
}
