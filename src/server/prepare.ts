/**
 * The prepare step (Apache `PrepRequestProcessor`): turns a write request into a deterministic transaction, or
 * into an error txn, *before* it is logged or applied.
 *
 * Several writes can be in flight at once (logged but not yet applied: group commit, and later Zab), so a write
 * must be checked against the tree *plus* the writes ahead of it. Those pending effects are `ChangeRecord`s
 * (Apache's `outstandingChanges`): the view of a path after every prepared-but-unapplied txn.
 */
import type { ACL, Id } from "../proto/records.ts";
import { createMode, perms, type ErrorName, type FailureName, type OpName } from "../proto/index.ts";
import { aclAllows, fixupAcl } from "../tree/acl.ts";
import { DataTree, isSpecialPath } from "../tree/data-tree.ts";
import { pathProblem, parentOf } from "../tree/paths.ts";
import { newStat, ownerKind, ttlMsMax, containerOwner, ttlOwner, type MutableStatPersisted } from "../tree/stat.ts";
import type { Txn } from "../tree/txn.ts";
import type { ClientRequest, CreateRequestBody, MultiOp } from "./requests.ts";

/** A path's state as the next txn will see it. `stat === null` means "deleted by a pending txn". */
interface ChangeRecord {
  readonly zxid: bigint;
  readonly path: string;
  readonly stat: MutableStatPersisted | null;
  childCount: number;
  readonly acl: readonly ACL[];
}

/** A failed prepare: the op's error code (it still becomes an error txn and consumes a zxid). */
class PrepareError extends Error {
  constructor(readonly code: FailureName, readonly path?: string) {
    super(code);
  }
}

/**
 * What is a RuntimeException in Apache's PrepRequestProcessor (a null path's NullPointerException, a
 * ClassCastException): not a KeeperException, so it escapes a multi's per-op handling and the whole request
 * becomes one error txn, MARSHALLINGERROR.
 */
class MarshallingFailure extends Error {
  constructor(why: string) {
    super(why);
  }
}

export interface PrepareContext {
  readonly zxid: bigint;
  readonly timeMs: bigint;
  readonly sessionId: bigint;
  readonly authIds: readonly Id[];
  /** Apache checks the session is live before a write (SessionTracker.checkSession). */
  readonly sessionIsLive: boolean;
  /** zoo.cfg reconfigEnabled: a standalone server refuses a reconfig either way, with a different code. */
  readonly reconfigEnabled?: boolean;
}

export interface Prepared {
  readonly txn: Txn;
  /** The error a single write reports (multi reports per op and has `ok` here). */
  readonly err: ErrorName;
}

/** The ACL check and the ACL fixup a server uses (a seam: lab 6 plugs the learner's in, see ServerOptions.acl). */
export interface AclFunctions {
  readonly allows: typeof aclAllows;
  readonly fixup: typeof fixupAcl;
}

export const referenceAclFunctions: AclFunctions = { allows: aclAllows, fixup: fixupAcl };

export class Preparer {
  private readonly changes: ChangeRecord[] = [];
  private readonly changesByPath = new Map<string, ChangeRecord>();

  constructor(
    private readonly tree: DataTree,
    private readonly extendedTypesEnabled: boolean,
    private readonly acls: AclFunctions = referenceAclFunctions,
  ) {}

  /** True while some prepared txn has not been applied yet. */
  get hasOutstandingChanges(): boolean {
    return this.changes.length > 0;
  }

  /** Drops the change records of txns up to `zxid`, now that they are applied (FinalRequestProcessor). */
  applied(zxid: bigint): void {
    while (this.changes.length > 0 && this.changes[0]!.zxid <= zxid) {
      const record = this.changes.shift()!;
      if (this.changesByPath.get(record.path) === record) this.changesByPath.delete(record.path);
    }
  }

  /**
   * The ephemerals of a session as they will be once pending txns apply (for closeSession), in the order Apache
   * deletes them: its HashSet's, changed by the outstanding changes oldest first (see DataTree.ephemeralDeletionOrder).
   */
  private pendingEphemerals(sessionId: bigint): string[] {
    const pending: Array<[string, boolean]> = [];
    for (const record of this.changes) {
      if (record.stat === null) pending.push([record.path, false]);
      else if (record.stat.ephemeralOwner === sessionId) pending.push([record.path, true]);
    }
    return this.tree.ephemeralDeletionOrder(sessionId, pending);
  }

  prepare(request: ClientRequest, ctx: PrepareContext): Prepared {
    const mark = this.changes.length;
    try {
      if (request.op === "multi") return this.prepareMulti(request.ops, ctx);
      return { txn: this.prepareOne(request, ctx), err: "ok" };
    } catch (error) {
      if (error instanceof MarshallingFailure) {
        this.rollback(mark);
        return { txn: { kind: "error", err: "marshallingError" }, err: "marshallingError" };
      }
      if (!(error instanceof PrepareError)) throw error;
      this.rollback(mark);
      return { txn: { kind: "error", err: error.code }, err: error.code };
    }
  }

  /**
   * Multi is atomic: every op is prepared against the changes of the ops before it; on the first failure the
   * earlier ops' change records are rolled back and the rest are not even tried (PrepRequestProcessor).
   */
  private prepareMulti(ops: readonly MultiOp[], ctx: PrepareContext): Prepared {
    const mark = this.changes.length;
    const txns: Txn[] = [];
    let failed: FailureName | null = null;
    for (const op of ops) {
      if (failed !== null) {
        txns.push({ kind: "error", err: "runtimeInconsistency" });
        continue;
      }
      try {
        txns.push(this.prepareOne(op, ctx));
      } catch (error) {
        if (!(error instanceof PrepareError)) throw error;
        failed = error.code;
        txns.push({ kind: "error", err: error.code });
        this.rollback(mark);
      }
    }
    return { txn: { kind: "multi", txns }, err: "ok" };
  }

  private rollback(mark: number): void {
    const removed = this.changes.splice(mark);
    for (const record of removed) {
      if (this.changesByPath.get(record.path) === record) this.changesByPath.delete(record.path);
    }
    // Restore the newest surviving record for each path that lost its latest one.
    for (const record of removed) {
      if (this.changesByPath.has(record.path)) continue;
      for (let i = this.changes.length - 1; i >= 0; i--) {
        if (this.changes[i]!.path === record.path) {
          this.changesByPath.set(record.path, this.changes[i]!);
          break;
        }
      }
    }
  }

  private record(record: ChangeRecord): void {
    this.changes.push(record);
    this.changesByPath.set(record.path, record);
  }

  /** The path's state after all pending txns (PrepRequestProcessor.getRecordForPath); NONODE when absent. */
  private recordFor(path: string): ChangeRecord {
    const pending = this.changesByPath.get(path);
    if (pending !== undefined) {
      if (pending.stat === null) throw new PrepareError("noNode", path);
      return pending;
    }
    const node = this.tree.getNode(path);
    if (node === undefined) throw new PrepareError("noNode", path);
    return { zxid: node.stat.mzxid, path, stat: { ...node.stat }, childCount: node.children.size, acl: node.acl };
  }

  private exists(path: string): boolean {
    const pending = this.changesByPath.get(path);
    if (pending !== undefined) return pending.stat !== null;
    return this.tree.getNode(path) !== undefined;
  }

  private requireAcl(acl: readonly ACL[], perm: number, ctx: PrepareContext): void {
    if (!this.acls.allows(acl, perm, ctx.authIds)) throw new PrepareError("noAuth");
  }

  private validPath(path: string | null, isSequential = false): string {
    if (path === null || pathProblem(path, isSequential) !== null) throw new PrepareError("badArguments", path ?? undefined);
    return path;
  }

  /** setData/delete/setACL with a version: -1 matches any (PrepRequestProcessor.checkAndIncVersion). */
  private nextVersion(current: number, expected: number, path: string): number {
    // lab 2.1: conditional writes: the version check (-1 matches any version)
    //   `current` is the node's version now, `expected` the one the client sent. -1 means "whatever it is";
    //   any other value must equal `current`, or the write fails: throw new PrepareError("badVersion", path).
    //   On success return the version the node will have after the write: one more than now.
    if (expected !== -1 && expected !== current) throw new PrepareError("badVersion", path);
    return current + 1;
    // end lab 2.1
  }

  private prepareOne(request: ClientRequest, ctx: PrepareContext): Txn {
    const { zxid } = ctx;
    switch (request.op) {
      case "create":
      case "create2":
      case "createContainer":
      case "createTTL":
        return this.prepareCreate(request, ctx);
      case "delete":
      case "deleteContainer": {
        if (request.op === "delete") this.requireSession(ctx);
        const path = request.path;
        // getParentPathAndValidate: a null path throws a NullPointerException there.
        if (path === null) throw new MarshallingFailure("delete of a null path");
        if (path.lastIndexOf("/") < 0 || path.includes("\u0000") || isSpecialPath(path)) {
          throw new PrepareError("badArguments", path);
        }
        const parent = this.recordFor(parentOf(path));
        // Apache checks DELETE on the parent before it looks the node up: a missing child of a node the caller may
        // not delete from is NOAUTH, not NONODE.
        if (request.op === "delete") this.requireAcl(parent.acl, perms.delete, ctx);
        const node = this.recordFor(path);
        if (request.op === "delete") this.nextVersion(node.stat!.version, request.version, path);
        if (node.childCount > 0) throw new PrepareError("notEmpty", path);
        // Only a node with a session's ephemeralOwner is refused (EphemeralType.NORMAL → BADVERSION); Apache would
        // delete an empty persistent node too (a client cannot get here: see requests.ts).
        if (request.op === "deleteContainer" && ownerKind(node.stat!.ephemeralOwner, this.extendedTypesEnabled) === "ephemeral") {
          throw new PrepareError("badVersion", path);
        }
        this.record({ ...parent, stat: { ...parent.stat!, pzxid: zxid }, childCount: parent.childCount - 1, zxid });
        this.record({ zxid, path, stat: null, childCount: -1, acl: [] });
        return { kind: "delete", path };
      }
      case "setData": {
        this.requireSession(ctx);
        const path = this.validPath(request.path);
        const node = this.recordFor(path);
        this.requireAcl(node.acl, perms.write, ctx);
        const version = this.nextVersion(node.stat!.version, request.version, path);
        this.record({ ...node, zxid, stat: { ...node.stat!, version, mtime: ctx.timeMs, mzxid: zxid } });
        return { kind: "setData", path, data: request.data, version };
      }
      case "setACL": {
        this.requireSession(ctx);
        const path = this.validPath(request.path);
        const acl = this.acls.fixup(request.acl, ctx.authIds);
        if (acl === null) throw new PrepareError("invalidACL", path);
        const node = this.recordFor(path);
        this.requireAcl(node.acl, perms.admin, ctx);
        const version = this.nextVersion(node.stat!.aversion, request.version, path);
        // Apache's change record for a setACL (PrepRequestProcessor: nodeRecord.duplicate + setAversion) keeps the
        // node's *old* ACL: until the setACL is applied, writes prepared after it are still checked against the
        // ACL it replaces. Seen on the wire from Apache 3.8.0 with pipelined requests (differential test).
        this.record({ ...node, zxid, stat: { ...node.stat!, aversion: version } });
        return { kind: "setACL", path, acl, version };
      }
      case "check": {
        this.requireSession(ctx);
        const path = this.validPath(request.path);
        const node = this.recordFor(path);
        this.requireAcl(node.acl, perms.read, ctx);
        return { kind: "check", path, version: this.nextVersion(node.stat!.version, request.version, path) };
      }
      case "createSession":
        return { kind: "createSession", timeOutMs: request.timeOutMs };
      case "closeSession": {
        const paths2Delete = this.pendingEphemerals(ctx.sessionId);
        // As Apache: mark each ephemeral deleted, without touching the parents' records.
        for (const path of paths2Delete) this.record({ zxid, path, stat: null, childCount: 0, acl: [] });
        return { kind: "closeSession", paths2Delete };
      }
      case "reconfig":
        // PrepRequestProcessor: RECONFIGDISABLED unless reconfigEnabled; a standalone server is no leader, so then
        // UNIMPLEMENTED (its ClassCastException to LeaderZooKeeperServer is caught as such).
        throw new PrepareError(ctx.reconfigEnabled === true ? "unimplemented" : "reconfigDisabled");
      case "malformedWrite":
        throw new PrepareError("marshallingError");
      default:
        throw new Error(`prepare: ${request.op} is not a write`);
    }
  }

  private requireSession(ctx: PrepareContext): void {
    if (!ctx.sessionIsLive) throw new PrepareError("sessionExpired");
  }

  /** PrepRequestProcessor.pRequest2TxnCreate, check for check, in Apache's order. */
  private prepareCreate(request: CreateRequestBody, ctx: PrepareContext): Txn {
    if (request.ttlWithoutTtlField) throw new MarshallingFailure("a TTL mode inside a multi without a ttl field");
    const mode = createMode(request.flags);
    if (mode === undefined) throw new PrepareError("badArguments", request.path ?? undefined);
    // validateCreateRequest: TTL nodes need extendedTypesEnabled; a ttl is required exactly for TTL modes.
    if (mode.ttl && !this.extendedTypesEnabled) throw new PrepareError("unimplemented");
    // EphemeralType.validateTTL: a TTL mode needs a ttl in 1..2^40-1, any other mode a negative one.
    if (mode.ttl ? request.ttlMs <= 0n || request.ttlMs > ttlMsMax : request.ttlMs >= 0n) {
      throw new PrepareError("badArguments", request.path ?? undefined);
    }
    this.requireSession(ctx);
    const requested = request.path;
    // validatePathForCreate: a null path throws a NullPointerException there.
    if (requested === null) throw new MarshallingFailure("create of a null path");
    if (requested.lastIndexOf("/") < 0 || requested.includes("\u0000")) throw new PrepareError("badArguments", requested);
    const acl = this.acls.fixup(request.acl, ctx.authIds);
    if (acl === null) throw new PrepareError("invalidACL", requested);
    const parentPath = parentOf(requested.endsWith("/") && requested.length > 1 ? requested + "x" : requested);
    const parent = this.recordFor(parentPath);
    this.requireAcl(parent.acl, perms.create, ctx);
    const parentCVersion = parent.stat!.cversion;
    // The sequential suffix is the parent's stored cversion, %010d (book chapter 2: sequential znodes).
    const path = mode.sequential ? requested + formatSequence(parentCVersion) : requested;
    this.validPath(path);
    if (this.exists(path)) throw new PrepareError("nodeExists", path);
    if (ownerKind(parent.stat!.ephemeralOwner, this.extendedTypesEnabled) === "ephemeral") {
      throw new PrepareError("noChildrenForEphemerals", path);
    }
    // Opcode 21 with a non-TTL mode and a negative ttl passes every check above in Apache too (NONODE, NOAUTH,
    // NODEEXISTS, ... come out the same), but then its CreateTTLTxn makes DataTree throw (TTL.toEphemeralOwner) and
    // Apache 3.8.0 shuts down. We refuse it here instead: else the node got ephemeralOwner ttlOwner(-1) = -1, an
    // "ephemeral" of a session that never exists, which nothing would ever delete.
    if (request.op === "createTTL" && !mode.ttl) throw new PrepareError("badArguments", path);
    const newCVersion = parentCVersion + 1;
    const owner = mode.container ? containerOwner : mode.ttl ? ttlOwner(request.ttlMs) : mode.ephemeral ? ctx.sessionId : 0n;
    this.record({ ...parent, zxid: ctx.zxid, stat: { ...parent.stat!, cversion: newCVersion, pzxid: ctx.zxid }, childCount: parent.childCount + 1 });
    this.record({ zxid: ctx.zxid, path, stat: newStat(ctx.zxid, ctx.timeMs, owner), childCount: 0, acl });
    switch (request.op) {
      case "createContainer":
        return { kind: "createContainer", path, data: request.data, acl, parentCVersion: newCVersion };
      case "createTTL":
        return { kind: "createTTL", path, data: request.data, acl, parentCVersion: newCVersion, ttlMs: request.ttlMs };
      default:
        return { kind: "create", path, data: request.data, acl, ephemeral: mode.ephemeral, parentCVersion: newCVersion };
    }
  }
}

/** String.format("%010d", n), including Java's rendering of negative numbers ("-000000001"). */
export function formatSequence(n: number): string {
  // lab 2.2: sequential names: path + the parent's counter as %010d
  //   The server appends the parent's counter to a sequential node's name, as Java's String.format("%010d"):
  //   at least ten characters, zero-padded, so that names sort in creation order (7 → "0000000007").
  //   A negative counter keeps its sign in front of the zeros: -1 → "-000000001".
  return n < 0 ? "-" + String(-n).padStart(9, "0") : String(n).padStart(10, "0");
  // end lab 2.2
}

export type { OpName };
