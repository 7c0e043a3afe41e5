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

/** A node's digest (DigestCalculator.calculateDigest), as an unsigned 32-bit value in a bigint. */
export function nodeDigest(path: string, data: Buffer | null, stat: StatPersisted): bigint {
  if (path.startsWith(zookeeperSubtree)) return 0n;
  const name = path === "/" ? "" : path;
  const dataLength = data === null ? 0 : data.length;
  if (name.length * 3 + dataLength + statDigestBytes <= scratchBytes) {
    let at = scratch.write(name, 0, "utf8");
    if (dataLength > 0) at += data!.copy(scratch, at);
    writeStat(scratchView, at, stat);
    return BigInt(crc32(scratch.subarray(0, at + statDigestBytes)));
  }
  const statBytes = Buffer.allocUnsafe(statDigestBytes);
  writeStat(new DataView(statBytes.buffer, statBytes.byteOffset, statDigestBytes), 0, stat);
  let crc = crc32(name);
  if (dataLength > 0) crc = crc32(data!, crc);
  return BigInt(crc32(statBytes, crc));
}

/** A 64-bit wrapping sum, as Java's long arithmetic in AdHash. */
export function wrapDigest(sum: bigint): bigint {
  return BigInt.asIntN(64, sum);
}

/**
 * Digests of recently hashed tree nodes, valid while the node does not change. Small on purpose: what repeats is
 * a parent hashed for each of its new children, one txn after another; a cache over every node (a WeakMap) made
 * the garbage collector's work grow with the tree.
 */
interface CachedDigest {
  node: ZNode;
  mzxid: bigint;
  pzxid: bigint;
  version: number;
  cversion: number;
  aversion: number;
  data: Buffer | null;
  digest: bigint;
}
const cache = new Map<string, CachedDigest>();
const cacheEntriesMax = 256;

export function znodeDigest(path: string, node: ZNode): bigint {
  const s = node.stat;
  const hit = cache.get(path);
  if (
    hit !== undefined &&
    hit.node === node &&
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
  if (hit !== undefined) {
    hit.node = node;
    hit.mzxid = s.mzxid;
    hit.pzxid = s.pzxid;
    hit.version = s.version;
    hit.cversion = s.cversion;
    hit.aversion = s.aversion;
    hit.data = node.data;
    hit.digest = digest;
  } else {
    if (cache.size >= cacheEntriesMax) cache.clear();
    cache.set(path, { node, mzxid: s.mzxid, pzxid: s.pzxid, version: s.version, cversion: s.cversion, aversion: s.aversion, data: node.data, digest });
  }
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
  /** Oldest first, from `touchedHead` on (a queue without O(n) shifts: a batch can hold a thousand txns). */
  private touchedByTxn: Array<{ readonly zxid: bigint; readonly paths: readonly string[] }> = [];
  private touchedHead = 0;
  private digests: Array<{ readonly zxid: bigint; readonly digest: bigint }> = [];
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
    return this.digests.length - this.digestsHead;
  }

  /** The nodes the txn being computed changes: their digest before it, and their state after it. */
  private readonly work = new Map<string, { before: bigint; state: NodeState | null }>();
  private header: TxnHeader | null = null;

  /** Computes and returns the tree's digest after `txn` (to be logged with it). */
  afterTxn(header: TxnHeader, txn: Txn): bigint {
    this.header = header;
    this.work.clear();
    this.applyTxn(txn);
    let delta = 0n;
    let paths: string[] | null = null;
    for (const [path, { before, state }] of this.work) {
      delta += this.digestOfState(path, state) - before;
      this.overlay.set(path, { zxid: header.zxid, state });
      (paths ??= []).push(path);
    }
    this.work.clear();
    this.digest = wrapDigest(this.digest + delta);
    if (paths !== null) this.touchedByTxn.push({ zxid: header.zxid, paths });
    this.digests.push({ zxid: header.zxid, digest: this.digest });
    return this.digest;
  }

  /** The tree has applied every txn up to `zxid`: forget what it now holds itself. */
  markApplied(zxid: bigint): void {
    while (this.touchedHead < this.touchedByTxn.length && this.touchedByTxn[this.touchedHead]!.zxid <= zxid) {
      for (const path of this.touchedByTxn[this.touchedHead]!.paths) {
        const entry = this.overlay.get(path);
        if (entry !== undefined && entry.zxid <= zxid) this.overlay.delete(path);
      }
      this.touchedHead++;
    }
    if (this.touchedHead === this.touchedByTxn.length) {
      this.touchedByTxn = [];
      this.touchedHead = 0;
    } else if (this.touchedHead > 4096) {
      this.touchedByTxn = this.touchedByTxn.slice(this.touchedHead);
      this.touchedHead = 0;
    }
    while (this.digestsHead < this.digests.length && this.digests[this.digestsHead]!.zxid <= zxid) {
      const d = this.digests[this.digestsHead++]!;
      this.appliedZxidValue = d.zxid;
      this.appliedDigestValue = d.digest;
    }
    if (this.digestsHead === this.digests.length) {
      this.digests = [];
      this.digestsHead = 0;
    } else if (this.digestsHead > 4096) {
      this.digests = this.digests.slice(this.digestsHead);
      this.digestsHead = 0;
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

  /** A node as the txn being computed sees it: its own changes first, then the pending ones, then the tree. */
  private view(path: string): NodeState | null {
    const w = this.work.get(path);
    return w !== undefined ? w.state : this.stateOf(path);
  }

  private write(path: string, state: NodeState | null): void {
    const w = this.work.get(path);
    if (w !== undefined) w.state = state;
    else this.work.set(path, { before: this.digestOfState(path, this.stateOf(path)), state });
  }

  /** DataTree.deleteNode: the parent's pzxid moves even when the node is already gone. */
  private deleteNode(path: string): void {
    const zxid = this.header!.zxid;
    const parentPath = parentOf(path);
    const parent = this.view(parentPath);
    if (parent !== null && zxid > parent.stat.pzxid) this.write(parentPath, { data: parent.data, stat: { ...parent.stat, pzxid: zxid } });
    if (this.view(path) !== null) this.write(path, null);
  }

  /** DataTree.createNode. */
  private createNode(path: string, data: Buffer | null, parentCVersion: number, owner: bigint): void {
    const { zxid, timeMs } = this.header!;
    const parentPath = parentOf(path);
    const parent = this.view(parentPath);
    if (parent === null || this.view(path) !== null) return;
    const cversion = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
    if (cversion > parent.stat.cversion) this.write(parentPath, { data: parent.data, stat: { ...parent.stat, cversion, pzxid: zxid } });
    this.write(path, { data, stat: newStat(zxid, timeMs, owner) });
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
        this.write(txn.path, { data: txn.data, stat: { ...node.stat, version: txn.version, mtime: header.timeMs, mzxid: header.zxid } });
        return;
      }
      case "setACL": {
        const node = this.view(txn.path);
        if (node === null) return;
        this.write(txn.path, { data: node.data, stat: { ...node.stat, aversion: txn.version } });
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
  private before = 0n;

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
    this.digest = wrapDigest(this.digest + this.sum() - this.before);
    return this.digest;
  }

  private sum(): bigint {
    let total = 0n;
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
