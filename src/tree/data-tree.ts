/**
 * The data tree: ZooKeeper's in-memory database of znodes (Apache `DataTree`), and the one place where
 * transactions change it. Reads never go through here with side effects other than registering watches, which
 * is the server's job (server/watches.ts): the tree only *announces* what changed, through `WatchTrigger`.
 *
 * Book chapter 2 (znodes, versions, the four znode types) and chapter 9 (txns are idempotent, so a fuzzy snapshot
 * plus replay rebuilds the tree) are what this module implements.
 */
import type { ACL, Stat, StatPersisted } from "../proto/records.ts";
import type { ErrorName } from "../proto/errors.ts";
import { readAclUnsafe, openAclUnsafe } from "./acl.ts";
import { childPath, nameOf, parentOf } from "./paths.ts";
import { clientStat, containerOwner, newStat, ownerKind, ttlOwner, type MutableStatPersisted, type OwnerKind } from "./stat.ts";
import type { Txn, TxnHeader } from "./txn.ts";
import { JavaHashSetOrder } from "./java-order.ts";

export interface ZNode {
  data: Buffer | null;
  acl: readonly ACL[];
  readonly stat: MutableStatPersisted;
  /** Child names (not paths). */
  readonly children: Set<string>;
  /**
   * This node's digest once storage has computed it (storage/digest.ts), or `digestUnknown`. Like Apache's
   * DataNode.digestCached: every change to the node's data or stat resets it, so a node is hashed again only
   * after it changed — not each time a txn needs its digest from before the change.
   */
  digest: number;
}

/** `ZNode.digest` of a node not hashed since it last changed (a real digest is an unsigned 32-bit CRC). */
export const digestUnknown = -1;

/** What a change means for watchers. The watch manager turns these into notifications (book chapter 4). */
export type TreeEvent =
  | { readonly type: "nodeCreated"; readonly path: string }
  | { readonly type: "nodeDeleted"; readonly path: string }
  | { readonly type: "nodeDataChanged"; readonly path: string }
  | { readonly type: "nodeChildrenChanged"; readonly path: string };

/**
 * `acl` is the ACL of the node the event is about (its parent's for NodeChildrenChanged): Apache delivers a
 * notification only to watchers allowed to READ it (DataTree passes it to WatchManager.triggerWatch, and
 * NIOServerCnxn.process checks it).
 */
export interface WatchTrigger {
  (event: TreeEvent, acl?: readonly ACL[]): void;
}

/** A node as a snapshot stores it (path, data, ACL, stored stat), for `loadSnapshot`. */
export interface SnapshotNode {
  readonly path: string;
  readonly data: Buffer | null;
  readonly acl: readonly ACL[];
  readonly stat: StatPersisted;
}

/** The outcome of applying one txn (Apache `ProcessTxnResult`). */
export interface TxnResult {
  readonly err: ErrorName;
  readonly path?: string;
  readonly stat?: Stat;
  readonly multi?: readonly TxnResult[];
  readonly txn: Txn;
}

export const zookeeperPath = "/zookeeper";
export const quotaPath = "/zookeeper/quota";
export const configPath = "/zookeeper/config";

/** Paths that clients may not delete or create (DataTree.isSpecialPath). */
export function isSpecialPath(path: string): boolean {
  return path === "/" || path === zookeeperPath || path === quotaPath || path === configPath;
}

export interface DataTreeOptions {
  /** zoo.cfg `extendedTypesEnabled`: TTL nodes exist only when this is on (EphemeralType). */
  readonly extendedTypesEnabled: boolean;
  /** How a stored stat is shown to clients; the reference's `clientStat` unless a lab plugs in its own. */
  readonly statView?: typeof clientStat;
}

export class DataTree {
  private readonly nodes = new Map<string, ZNode>();
  /** Session id → paths of its ephemeral nodes, so that closing a session can delete them. */
  private readonly ephemerals = new Map<bigint, Set<string>>();
  /**
   * The table size of each session's ephemeral HashSet in Apache: closing a session deletes its ephemerals in that
   * set's (cloned) iteration order, and watchers see the deletions in that order (see java-order.ts). Kept until
   * the session closes, like Apache's set, which does not shrink or go away when it empties.
   */
  private readonly ephemeralOrders = new Map<bigint, JavaHashSetOrder>();
  /** The table size of each node's children HashSet in Apache (DataNode: `new HashSet<>(8)`), for their order. */
  private readonly childOrders = new WeakMap<ZNode, JavaHashSetOrder>();
  private readonly containers = new Set<string>();
  private readonly ttls = new Set<string>();
  /** The zxid of the last txn applied (DataTree.lastProcessedZxid). */
  lastProcessedZxid = 0n;
  private trigger: WatchTrigger = () => {};

  constructor(readonly options: DataTreeOptions) {
    // The initial tree (DataTree constructor): /, /zookeeper, /zookeeper/quota with empty (not null) data and a
    // zero stat, and /zookeeper/config read-only — set with setACL(version -1), which leaves its aversion at -1.
    const root = this.addNode("/", Buffer.alloc(0), openAclUnsafe, newStat(0n, 0n, 0n));
    root.children.add("zookeeper");
    const zk = this.addNode(zookeeperPath, Buffer.alloc(0), openAclUnsafe, newStat(0n, 0n, 0n));
    zk.children.add("quota");
    zk.children.add("config");
    this.addNode(quotaPath, Buffer.alloc(0), openAclUnsafe, newStat(0n, 0n, 0n));
    this.addNode(configPath, Buffer.alloc(0), readAclUnsafe, newStat(0n, 0n, 0n)).stat.aversion = -1;
  }

  /** Where change announcements go (the server's watch manager). */
  setWatchTrigger(trigger: WatchTrigger): void {
    this.trigger = trigger;
  }

  private addNode(path: string, data: Buffer | null, acl: readonly ACL[], stat: MutableStatPersisted): ZNode {
    const node: ZNode = { data, acl, stat, children: new Set(), digest: digestUnknown };
    this.nodes.set(path, node);
    return node;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  getNode(path: string): ZNode | undefined {
    // Apache's node map holds the root under "" as well as "/" (DataTree: nodes.put("", root)), so a read of ""
    // finds the root. Writes never get here with "": path validation refuses it first.
    return this.nodes.get(path === "" ? "/" : path);
  }

  /**
   * A node's child names in the order Apache lists them: DataNode keeps them in a HashSet and getChildren copies
   * it, so clients (cli_mt's `ls`, for one) see hash order, not creation order (see java-order.ts).
   */
  childNames(node: ZNode): string[] {
    return this.childOrderOf(node).order([...node.children]);
  }

  /** A node's children set's table: created with 8 buckets, or — for nodes loaded as they are — sized for them. */
  private childOrderOf(node: ZNode): JavaHashSetOrder {
    let order = this.childOrders.get(node);
    if (order === undefined) {
      order = new JavaHashSetOrder(8);
      order.added(node.children.size);
      this.childOrders.set(node, order);
    }
    return order;
  }

  /** A session's ephemerals in the order getEphemerals lists them (a clone of Apache's HashSet, iterated). */
  ephemeralNames(sessionId: bigint): string[] {
    return this.ephemeralOrderOf(sessionId).cloneOrder([...this.ephemeralsOf(sessionId)]);
  }

  /** The client-visible Stat of a node. */
  statOf(node: ZNode): Stat {
    return (this.options.statView ?? clientStat)(node.stat, node.data?.length ?? 0, node.children.size, this.options.extendedTypesEnabled);
  }

  ownerKindOf(node: ZNode): OwnerKind {
    return ownerKind(node.stat.ephemeralOwner, this.options.extendedTypesEnabled);
  }

  /** Every path in the tree, parents before children (the order a snapshot writes them). */
  *paths(from = "/"): Generator<string> {
    const node = this.nodes.get(from);
    if (node === undefined) return;
    yield from;
    for (const name of node.children) yield* this.paths(childPath(from, name));
  }

  ephemeralsOf(sessionId: bigint): ReadonlySet<string> {
    return this.ephemerals.get(sessionId) ?? new Set();
  }

  private ephemeralOrderOf(sessionId: bigint): JavaHashSetOrder {
    let order = this.ephemeralOrders.get(sessionId);
    if (order === undefined) this.ephemeralOrders.set(sessionId, (order = new JavaHashSetOrder()));
    return order;
  }

  /**
   * The order in which closing `sessionId` deletes its ephemerals (Apache PrepRequestProcessor, closeSession): a
   * clone of the session's ephemeral HashSet, changed by the writes still in flight, oldest first (`present`
   * false: the path is being deleted; true: created by this session), then iterated.
   */
  ephemeralDeletionOrder(sessionId: bigint, pending: ReadonlyArray<readonly [path: string, present: boolean]> = []): string[] {
    const { clone, entries } = this.ephemeralOrderOf(sessionId).clone([...this.ephemeralsOf(sessionId)]);
    for (const [path, present] of pending) {
      const at = entries.indexOf(path);
      if (!present) {
        if (at >= 0) entries.splice(at, 1);
      } else if (at < 0) {
        entries.push(path);
        clone.added(entries.length);
      }
    }
    return clone.order(entries);
  }

  /** Sessions that own ephemerals, and their paths (the `dump` four-letter word). */
  ephemeralsBySession(): ReadonlyMap<bigint, ReadonlySet<string>> {
    return this.ephemerals;
  }

  containerPaths(): ReadonlySet<string> {
    return this.containers;
  }

  ttlPaths(): ReadonlySet<string> {
    return this.ttls;
  }

  /**
   * Replaces the whole tree with the nodes of a snapshot, parents before children, and sets lastProcessedZxid
   * (Apache DataTree.deserialize). A node whose parent has not come before it means a damaged snapshot: throws.
   */
  loadSnapshot(nodes: Iterable<SnapshotNode>, lastProcessedZxid: bigint): void {
    this.nodes.clear();
    this.ephemerals.clear();
    this.ephemeralOrders.clear();
    this.containers.clear();
    this.ttls.clear();
    for (const { path, data, acl, stat } of nodes) {
      if (path !== "/") {
        const parent = this.nodes.get(parentOf(path));
        if (parent === undefined) throw new Error(`invalid snapshot: parent ${parentOf(path)} of ${path} is missing`);
        parent.children.add(nameOf(path));
      }
      const node = this.addNode(path, data, acl, { ...stat });
      const owner = node.stat.ephemeralOwner;
      const kind = this.ownerKindOf(node);
      if (kind === "ephemeral") {
        const owned = this.ephemerals.get(owner) ?? new Set<string>();
        this.ephemerals.set(owner, owned.add(path));
        this.ephemeralOrderOf(owner).added(owned.size);
      } else if (kind === "container") this.containers.add(path);
      else if (kind === "ttl") this.ttls.add(path);
    }
    this.lastProcessedZxid = lastProcessedZxid;
  }

  /**
   * Replay over a fuzzy snapshot: a create that finds its node already there still moves the parent's cversion
   * (-1: one more than now) and pzxid forward (Apache DataTree.setCversionPzxid, called on NODEEXISTS).
   */
  setCversionPzxid(path: string, cversion: number, zxid: bigint): boolean {
    const node = this.nodes.get(path);
    if (node === undefined) return false;
    const next = cversion === -1 ? node.stat.cversion + 1 : cversion;
    if (next > node.stat.cversion) {
      node.stat.cversion = next;
      node.stat.pzxid = zxid;
      node.digest = digestUnknown;
    }
    return true;
  }

  /** Number of descendants of `path`, not counting itself (getAllChildrenNumber). */
  descendantCount(path: string): number {
    // DataTree.getAllChildrenNumber counts the keys of its node map that start with path + "/"; for "" that is
    // every node under its "/" key, the root included.
    if (path === "") return this.nodes.size;
    const node = this.nodes.get(path);
    if (node === undefined) return 0;
    let count = 0;
    for (const name of node.children) count += 1 + this.descendantCount(childPath(path, name));
    return count;
  }

  /**
   * Applies one transaction (DataTree.processTxn). Errors here are the *expected* outcomes of replaying a fuzzy
   * snapshot (NONODE, NODEEXISTS) or of error txns; a txn that the prepare step accepted always succeeds live.
   */
  processTxn(header: TxnHeader, txn: Txn): TxnResult {
    const result = this.apply(header, txn);
    // A txn with a lower zxid can arrive while replaying a log over a fuzzy snapshot; never move backwards.
    if (header.zxid > this.lastProcessedZxid) this.lastProcessedZxid = header.zxid;
    return result;
  }

  private apply(header: TxnHeader, txn: Txn): TxnResult {
    switch (txn.kind) {
      case "create":
        return this.createNode(header, txn, txn.ephemeral ? header.sessionId : 0n);
      case "createContainer":
        return this.createNode(header, txn, containerOwner);
      case "createTTL":
        return this.createNode(header, txn, ttlOwner(txn.ttlMs));
      case "delete":
        return this.deleteNode(txn.path, header.zxid, txn);
      case "setData":
        return this.setData(header, txn);
      case "setACL": {
        const node = this.nodes.get(txn.path);
        if (node === undefined) return { err: "noNode", path: txn.path, txn };
        node.acl = txn.acl;
        node.stat.aversion = txn.version;
        node.digest = digestUnknown;
        return { err: "ok", path: txn.path, stat: this.statOf(node), txn };
      }
      case "check": {
        const node = this.nodes.get(txn.path);
        return { err: node === undefined ? "noNode" : "ok", path: txn.path, txn };
      }
      case "createSession":
        return { err: "ok", txn };
      case "closeSession": {
        // Delete the session's ephemerals in this same txn (book chapter 2: they vanish with the session), in the
        // txn's order, then any the txn did not name (DataTree.killSession) — watchers see them in this order.
        const local = this.ephemeralsOf(header.sessionId);
        const named = new Set(txn.paths2Delete);
        const extra = this.ephemeralDeletionOrder(header.sessionId).filter((path) => !named.has(path) && local.has(path));
        for (const path of [...txn.paths2Delete, ...extra]) this.deleteNode(path, header.zxid, txn);
        this.ephemerals.delete(header.sessionId);
        this.ephemeralOrders.delete(header.sessionId);
        return { err: "ok", txn };
      }
      case "error":
        return { err: txn.err, txn };
      case "multi":
        return this.applyMulti(header, txn);
    }
  }

  private createNode(
    header: TxnHeader,
    txn: Extract<Txn, { kind: "create" | "createContainer" | "createTTL" }>,
    ephemeralOwner: bigint,
  ): TxnResult {
    const { path } = txn;
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (parent === undefined) return { err: "noNode", path, txn };
    const name = nameOf(path);
    if (parent.children.has(name)) return { err: "nodeExists", path, txn };

    // The txn carries the parent's new cversion; -1 means "one more than now" (old logs).
    const parentCVersion = txn.parentCVersion === -1 ? parent.stat.cversion + 1 : txn.parentCVersion;
    // Only move forward: replaying an older create over a fuzzy snapshot must not lower it.
    if (parentCVersion > parent.stat.cversion) {
      parent.stat.cversion = parentCVersion;
      parent.stat.pzxid = header.zxid;
      parent.digest = digestUnknown;
    }
    parent.children.add(name);
    this.childOrderOf(parent).added(parent.children.size);
    const node = this.addNode(path, txn.data, txn.acl, newStat(header.zxid, header.timeMs, ephemeralOwner));

    switch (this.ownerKindOf(node)) {
      case "ephemeral": {
        let owned = this.ephemerals.get(ephemeralOwner);
        if (owned === undefined) this.ephemerals.set(ephemeralOwner, (owned = new Set()));
        owned.add(path);
        this.ephemeralOrderOf(ephemeralOwner).added(owned.size);
        break;
      }
      case "container":
        this.containers.add(path);
        break;
      case "ttl":
        this.ttls.add(path);
        break;
      case "none":
        break;
    }
    // Announce after the change, before the reply (the server sends notifications first).
    this.trigger({ type: "nodeCreated", path }, node.acl);
    this.trigger({ type: "nodeChildrenChanged", path: parentPath }, parent.acl);
    return { err: "ok", path, stat: this.statOf(node), txn };
  }

  private deleteNode(path: string, zxid: bigint, txn: Txn): TxnResult {
    // The parent first, as Apache 3.8 does (DataTree.deleteNode): replaying a delete over a fuzzy snapshot that
    // no longer has the node must still move the parent's pzxid forward. Only forward: the delete may be older.
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (parent !== undefined) {
      parent.children.delete(nameOf(path));
      if (zxid > parent.stat.pzxid) {
        parent.stat.pzxid = zxid;
        parent.digest = digestUnknown;
      }
    }
    const node = this.nodes.get(path);
    if (node === undefined) return { err: "noNode", path, txn };
    this.nodes.delete(path);
    const owner = node.stat.ephemeralOwner;
    switch (this.ownerKindOf(node)) {
      case "ephemeral":
        this.ephemerals.get(owner)?.delete(path);
        if (this.ephemerals.get(owner)?.size === 0) this.ephemerals.delete(owner);
        break;
      case "container":
        this.containers.delete(path);
        break;
      case "ttl":
        this.ttls.delete(path);
        break;
      case "none":
        break;
    }
    this.trigger({ type: "nodeDeleted", path }, node.acl);
    this.trigger({ type: "nodeChildrenChanged", path: parentPath }, parent?.acl);
    return { err: "ok", path, txn };
  }

  private setData(header: TxnHeader, txn: Extract<Txn, { kind: "setData" }>): TxnResult {
    const node = this.nodes.get(txn.path);
    if (node === undefined) return { err: "noNode", path: txn.path, txn };
    node.data = txn.data;
    node.stat.version = txn.version;
    node.stat.mtime = header.timeMs;
    node.stat.mzxid = header.zxid;
    node.digest = digestUnknown;
    this.trigger({ type: "nodeDataChanged", path: txn.path }, node.acl);
    return { err: "ok", path: txn.path, stat: this.statOf(node), txn };
  }

  /**
   * A multi is all or nothing. A failed multi is logged with its failing op as an error txn; applying it changes
   * nothing and reports, per op: ok (0) before the failure, the failure's code, RUNTIMEINCONSISTENCY after it.
   */
  private applyMulti(header: TxnHeader, txn: Extract<Txn, { kind: "multi" }>): TxnResult {
    const failed = txn.txns.some((t) => t.kind === "error");
    const results: TxnResult[] = [];
    let err: ErrorName = "ok";
    let afterFailure = false;
    for (const sub of txn.txns) {
      let effective = sub;
      if (sub.kind === "error") afterFailure = true;
      else if (failed) effective = { kind: "error", err: afterFailure ? "runtimeInconsistency" : "ok" };
      const result = this.apply(header, effective);
      results.push(result);
      if (result.err !== "ok" && err === "ok") err = result.err;
    }
    return { err, multi: results, txn };
  }
}
