/**
 * Seeded random txn streams that a real server could have logged: every txn is valid against the state the txns
 * before it produce (creates under existing non-ephemeral parents with the right parentCVersion, deletes of
 * leaves, version-bumping setData/setACL, sessions that close with their ephemerals, committed and failed multis,
 * error txns, containers and TTL nodes). Tests replay them into a DataTree, log them, snapshot midway, crash...
 *
 *   const gen = new TxnStream(seed);
 *   for (let i = 0; i < 100; i++) { const { header, txn } = gen.next(); ... }
 */
import type { ACL } from "../../../src/proto/records.ts";
import { DataTree } from "../../../src/tree/data-tree.ts";
import { childPath, parentOf } from "../../../src/tree/paths.ts";
import type { Txn, TxnHeader } from "../../../src/tree/txn.ts";
import type { ErrorName } from "../../../src/proto/errors.ts";

/** A small fast PRNG (mulberry32): the same seed gives the same stream. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const worldAcl: readonly ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const aclChoices: ReadonlyArray<readonly ACL[]> = [
  worldAcl,
  [{ perms: 1, id: { scheme: "world", id: "anyone" } }],
  [{ perms: 31, id: { scheme: "digest", id: "u:Zx3fLNhIs6JlsF/vbQ5DFLIyHPM=" } }],
  [
    { perms: 3, id: { scheme: "ip", id: "10.0.0.0/8" } },
    { perms: 31, id: { scheme: "digest", id: "admin:x" } },
  ],
];

interface ModelNode {
  cversion: number;
  version: number;
  aversion: number;
  owner: "persistent" | "container" | "ttl" | bigint;
  readonly children: Set<string>;
}

export interface GeneratedTxn {
  readonly header: TxnHeader;
  readonly txn: Txn;
}

export interface TxnStreamOptions {
  readonly startZxid?: bigint;
  readonly startTimeMs?: bigint;
  /** Data sizes up to this many bytes. */
  readonly dataBytesMax?: number;
}

export class TxnStream {
  readonly rand: () => number;
  private readonly nodes = new Map<string, ModelNode>();
  private readonly sessions: bigint[] = [];
  private zxid: bigint;
  private timeMs: bigint;
  private nextSession = 0x100000000000001n;
  private cxid = 0;
  private readonly dataBytesMax: number;

  constructor(readonly seed: number, options: TxnStreamOptions = {}) {
    this.rand = mulberry32(seed);
    this.zxid = options.startZxid ?? 0n;
    this.timeMs = options.startTimeMs ?? 1_700_000_000_000n;
    this.dataBytesMax = options.dataBytesMax ?? 64;
    const fresh = new DataTree({ extendedTypesEnabled: true });
    for (const path of fresh.paths()) {
      const n = fresh.getNode(path)!;
      this.nodes.set(path, { cversion: n.stat.cversion, version: 0, aversion: n.stat.aversion, owner: "persistent", children: new Set(n.children) });
    }
  }

  get lastZxid(): bigint {
    return this.zxid;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }

  private data(): Buffer | null {
    if (this.rand() < 0.05) return null;
    const length = Math.floor(this.rand() * this.dataBytesMax);
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.rand() * 256);
    return out;
  }

  private userPaths(): string[] {
    return [...this.nodes.keys()].filter((p) => p !== "/" && p !== "/zookeeper" && !p.startsWith("/zookeeper/"));
  }

  /** Paths a create may go under: not ephemeral (ephemerals have no children). */
  private parents(): string[] {
    return [...this.nodes.entries()].filter(([p, n]) => typeof n.owner !== "bigint" && !p.startsWith("/zookeeper")).map(([p]) => p);
  }

  private leaves(): string[] {
    return this.userPaths().filter((p) => this.nodes.get(p)!.children.size === 0);
  }

  private header(type: TxnHeader["type"], sessionId = this.sessions.length > 0 ? this.pick(this.sessions) : 0n): TxnHeader {
    this.zxid += 1n;
    this.timeMs += BigInt(Math.floor(this.rand() * 5));
    return { sessionId, cxid: ++this.cxid, zxid: this.zxid, timeMs: this.timeMs, type };
  }

  /** A create txn for a new child of a random parent (the model is updated). */
  private create(sessionId: bigint): Txn {
    const parent = this.pick(this.parents());
    const parentNode = this.nodes.get(parent)!;
    let name = `n${Math.floor(this.rand() * 1000)}`;
    while (parentNode.children.has(name)) name += "x";
    const path = childPath(parent, name);
    parentNode.cversion += 1;
    parentNode.children.add(name);
    const roll = this.rand();
    const acl = this.pick(aclChoices);
    const data = this.data();
    if (roll < 0.1) {
      this.nodes.set(path, { cversion: 0, version: 0, aversion: 0, owner: "container", children: new Set() });
      return { kind: "createContainer", path, data, acl, parentCVersion: parentNode.cversion };
    }
    if (roll < 0.2) {
      this.nodes.set(path, { cversion: 0, version: 0, aversion: 0, owner: "ttl", children: new Set() });
      return { kind: "createTTL", path, data, acl, parentCVersion: parentNode.cversion, ttlMs: BigInt(1 + Math.floor(this.rand() * 100_000)) };
    }
    const ephemeral = sessionId !== 0n && roll < 0.45;
    this.nodes.set(path, { cversion: 0, version: 0, aversion: 0, owner: ephemeral ? sessionId : "persistent", children: new Set() });
    return { kind: "create", path, data, acl, ephemeral, parentCVersion: parentNode.cversion };
  }

  private remove(path: string): void {
    this.nodes.delete(path);
    this.nodes.get(parentOf(path))?.children.delete(path.substring(path.lastIndexOf("/") + 1));
  }

  private delete(): Txn | null {
    const leaves = this.leaves();
    if (leaves.length === 0) return null;
    const path = this.pick(leaves);
    this.remove(path);
    return { kind: "delete", path };
  }

  private setData(): Txn | null {
    const paths = this.userPaths();
    if (paths.length === 0) return null;
    const path = this.pick(paths);
    const node = this.nodes.get(path)!;
    node.version += 1;
    return { kind: "setData", path, data: this.data(), version: node.version };
  }

  /** The next txn, valid after all the ones before it. */
  next(): GeneratedTxn {
    for (;;) {
      const roll = this.rand();
      if (roll < 0.06 || this.sessions.length === 0) {
        const header = this.header("createSession", this.nextSession++);
        this.sessions.push(header.sessionId);
        return { header, txn: { kind: "createSession", timeOutMs: 4000 + Math.floor(this.rand() * 26_000) } };
      }
      if (roll < 0.1) {
        const sessionId = this.pick(this.sessions);
        this.sessions.splice(this.sessions.indexOf(sessionId), 1);
        const owned = [...this.nodes.entries()].filter(([, n]) => n.owner === sessionId).map(([p]) => p).sort();
        for (const path of owned) this.remove(path);
        return { header: this.header("closeSession", sessionId), txn: { kind: "closeSession", paths2Delete: owned } };
      }
      if (roll < 0.4) {
        const header = this.header(this.rand() < 0.5 ? "create" : "create2");
        const txn = this.create(header.sessionId);
        // The opcode picks the record: TTL and container nodes come only from their own opcodes.
        const type = txn.kind === "createTTL" || txn.kind === "createContainer" ? txn.kind : header.type;
        return { header: { ...header, type }, txn };
      }
      if (roll < 0.55) {
        const txn = this.delete();
        if (txn !== null) return { header: this.header("delete"), txn };
        continue;
      }
      if (roll < 0.75) {
        const txn = this.setData();
        if (txn !== null) return { header: this.header("setData"), txn };
        continue;
      }
      if (roll < 0.8) {
        const paths = this.userPaths();
        if (paths.length === 0) continue;
        const path = this.pick(paths);
        const node = this.nodes.get(path)!;
        node.aversion += 1;
        return { header: this.header("setACL"), txn: { kind: "setACL", path, acl: this.pick(aclChoices), version: node.aversion } };
      }
      if (roll < 0.87) {
        const errors: ErrorName[] = ["noNode", "nodeExists", "badVersion", "notEmpty", "noAuth", "badArguments"];
        return { header: this.header("error"), txn: { kind: "error", err: this.pick(errors) } };
      }
      return this.multi();
    }
  }

  private multi(): GeneratedTxn {
    const header = this.header("multi");
    const count = 1 + Math.floor(this.rand() * 4);
    if (this.rand() < 0.3) {
      // A failed multi: ops before the failure as prepared, the failure, then RUNTIMEINCONSISTENCY. Nothing changes.
      const failAt = Math.floor(this.rand() * count);
      const txns: Txn[] = [];
      for (let i = 0; i < count; i++) {
        if (i < failAt) txns.push({ kind: "setData", path: "/", data: null, version: 1 });
        else txns.push({ kind: "error", err: i === failAt ? "noNode" : "runtimeInconsistency" });
      }
      return { header, txn: { kind: "multi", txns } };
    }
    const txns: Txn[] = [];
    for (let i = 0; i < count; i++) {
      const roll = this.rand();
      let sub: Txn | null;
      if (roll < 0.5) sub = this.create(header.sessionId);
      else if (roll < 0.7) sub = this.delete();
      else if (roll < 0.9) sub = this.setData();
      else {
        const paths = this.userPaths();
        sub = paths.length === 0 ? null : { kind: "check", path: this.pick(paths), version: 0 };
        if (sub !== null && sub.kind === "check") sub = { ...sub, version: this.nodes.get(sub.path)!.version };
      }
      if (sub !== null) txns.push(sub);
    }
    if (txns.length === 0) txns.push(this.create(header.sessionId));
    return { header, txn: { kind: "multi", txns } };
  }
}

/** A tree with `txns` applied, as the server would have it. */
export function applyAll(txns: readonly GeneratedTxn[], tree = new DataTree({ extendedTypesEnabled: true })): DataTree {
  for (const { header, txn } of txns) tree.processTxn(header, txn);
  return tree;
}
