/**
 * Client requests as a discriminated union, decoded from the wire at the boundary (Apache: the `Record`s that
 * FinalRequestProcessor and PrepRequestProcessor deserialize per opcode). After this file, nothing looks at an
 * opcode number.
 */
import {
  AuthPacket,
  CheckVersionRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  JuteDecodeError,
  JuteReader,
  MultiHeader,
  PathRequest,
  PathWatchRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  AddWatchRequest,
  ReconfigRequest,
  WatchesRequest,
  createMode,
  opName,
  type ACL,
  type OpName,
} from "../proto/index.ts";

export type CreateOp = "create" | "create2" | "createContainer" | "createTTL";

export type CreateRequestBody = {
  readonly op: CreateOp;
  readonly path: string | null;
  readonly data: Buffer | null;
  readonly acl: ACL[] | null;
  readonly flags: number;
  /** -1 when the request has no ttl field (only createTTL carries one). */
  readonly ttlMs: bigint;
  /**
   * Inside a multi only: a TTL mode sent without a ttl (op 1/15/19). Apache then builds a createTTL op around a
   * plain CreateRequest, and preparing it throws a ClassCastException: the whole multi fails with
   * MARSHALLINGERROR — if it gets that far (ops after a failed one are not prepared).
   */
  readonly ttlWithoutTtlField?: true;
};

/** The ops a multi (14) may contain. */
export type MultiOp =
  | CreateRequestBody
  | { readonly op: "delete"; readonly path: string | null; readonly version: number }
  | { readonly op: "setData"; readonly path: string | null; readonly data: Buffer | null; readonly version: number }
  | { readonly op: "check"; readonly path: string | null; readonly version: number };

export type ReadOp = { readonly op: "getData" | "getChildren"; readonly path: string | null; readonly watch: boolean };

export type ClientRequest =
  | MultiOp
  | { readonly op: "setACL"; readonly path: string | null; readonly acl: ACL[] | null; readonly version: number }
  | { readonly op: "exists" | "getData" | "getChildren" | "getChildren2"; readonly path: string | null; readonly watch: boolean }
  | { readonly op: "getACL" | "sync" | "getAllChildrenNumber" | "getEphemerals"; readonly path: string | null }
  | { readonly op: "multi"; readonly ops: readonly MultiOp[] }
  /**
   * `brokenAt`: the op at which Apache's FinalRequestProcessor throws — a write op in a multiRead of writes only
   * ("Invalid type of readOp"): the reply is MARSHALLINGERROR *with* the results gathered before it (none).
   */
  | { readonly op: "multiRead"; readonly ops: readonly ReadOp[]; readonly brokenAt?: number }
  /**
   * A multi with a null path among its ops: PrepRequestProcessor.getPendingChanges throws after the multi took its
   * zxid but before it has a txn, so the zxid is skipped, nothing is logged, and FinalRequestProcessor answers
   * MARSHALLINGERROR with an empty MultiResponse body.
   */
  | { readonly op: "multiNullPath" }
  | {
      readonly op: "setWatches" | "setWatches2";
      readonly relativeZxid: bigint;
      readonly dataWatches: readonly string[];
      readonly existWatches: readonly string[];
      readonly childWatches: readonly string[];
      readonly persistentWatches: readonly string[];
      readonly persistentRecursiveWatches: readonly string[];
    }
  | { readonly op: "addWatch"; readonly path: string | null; readonly mode: number }
  | { readonly op: "checkWatches" | "removeWatches"; readonly path: string | null; readonly type: number }
  | { readonly op: "auth"; readonly scheme: string | null; readonly auth: Buffer | null }
  | { readonly op: "ping" | "closeSession" | "whoAmI" | "reconfig" }
  /** Server-internal: the container manager deletes an empty container or an expired TTL node. */
  | { readonly op: "deleteContainer"; readonly path: string }
  /** Server-internal: a new session (its id is chosen before the txn). */
  | { readonly op: "createSession"; readonly timeOutMs: number }
  /**
   * A request whose body Apache cannot deserialize (or, for multi and multiRead, whose ops it refuses): it answers
   * MARSHALLINGERROR and keeps the connection. A write (`malformedWrite`) fails in PrepRequestProcessor after taking
   * its zxid, so it is logged as an error txn; a read fails in FinalRequestProcessor and takes none.
   */
  | { readonly op: "malformedWrite" | "malformedRead"; readonly of: OpName };

export type RequestOp = ClientRequest["op"];

/** Why a packet could not become a request; the server answers and closes the connection. */
export type DecodeFailure =
  | { readonly kind: "unknownOpcode"; readonly code: number }
  /** Apache reads auth (and sasl) packets in processPacket: an unreadable one ends the connection, unanswered. */
  | { readonly kind: "malformed"; readonly op: OpName; readonly reason: string };

const nonNull = <T>(items: T[] | null): T[] => items ?? [];

function decodeCreate(op: CreateOp, r: JuteReader): CreateRequestBody {
  if (op === "createTTL") {
    const b = CreateTTLRequest.read(r);
    return { op, path: b.path, data: b.data, acl: b.acl, flags: b.flags, ttlMs: b.ttl };
  }
  const b = CreateRequest.read(r);
  return { op, path: b.path, data: b.data, acl: b.acl, flags: b.flags, ttlMs: -1n };
}

/**
 * A create inside a multi (MultiOperationRecord → Op.create): the op is chosen by the create mode, not by the
 * opcode sent — a container mode makes a createContainer, a TTL mode a createTTL, anything else (unknown flags
 * included) a plain create; 15 is never kept, and opcode 21 with a non-TTL mode drops its ttl.
 */
function decodeMultiCreate(op: "create" | "create2" | "createContainer" | "createTTL", r: JuteReader): CreateRequestBody {
  const body = decodeCreate(op, r);
  const mode = createMode(body.flags);
  if (mode?.ttl) return op === "createTTL" ? body : { ...body, op: "createTTL", ttlWithoutTtlField: true };
  return { ...body, op: mode?.container ? "createContainer" : "create", ttlMs: -1n };
}

function decodeMultiOp(op: OpName, r: JuteReader): MultiOp | ReadOp | null {
  switch (op) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      return decodeMultiCreate(op, r);
    case "delete": {
      const b = DeleteRequest.read(r);
      return { op, path: b.path, version: b.version };
    }
    case "setData": {
      const b = SetDataRequest.read(r);
      return { op, path: b.path, data: b.data, version: b.version };
    }
    case "check": {
      const b = CheckVersionRequest.read(r);
      return { op, path: b.path, version: b.version };
    }
    case "getData":
    case "getChildren": {
      // GetDataRequest / GetChildrenRequest: path and a watch flag (which a multiRead ignores).
      const b = PathWatchRequest.read(r);
      return { op, path: b.path, watch: false };
    }
    default:
      return null;
  }
}

/** Decodes the body of a request whose header said `code`. */
export function decodeRequest(code: number, r: JuteReader): ClientRequest | DecodeFailure {
  const op = opName(code);
  if (op === undefined) return { kind: "unknownOpcode", code };
  // ZooKeeperServer.processPacket: without SASL configured, a sasl packet (unreadable, or with no SASL server to
  // take its token) throws there, and the connection is closed without an answer.
  if (op === "sasl") return { kind: "malformed", op, reason: "SASL is not enabled" };
  // A client may send deleteContainer (Request.isValid): PrepRequestProcessor takes the *whole packet* — request
  // header included — as the path, and the header's opcode bytes (00 00 00 14) hold a NUL, so getParentPathAndValidate
  // always answers BADARGUMENTS (after taking a zxid).
  if (op === "deleteContainer") return { op, path: "\u0000" };
  try {
    return decodeKnown(op, r) ?? { kind: "unknownOpcode", code };
  } catch (error) {
    if (!(error instanceof JuteDecodeError)) throw error;
    if (op === "auth") return { kind: "malformed", op, reason: error.message };
    return { op: malformedWrites.has(op) ? "malformedWrite" : "malformedRead", of: op };
  }
}

/** Ops that PrepRequestProcessor deserializes after taking a zxid (pRequest2Txn), so a bad body is an error txn. */
const malformedWrites = new Set<OpName>(["create", "create2", "createContainer", "createTTL", "delete", "setData", "setACL", "check", "multi"]);

function decodeKnown(op: OpName, r: JuteReader): ClientRequest | null {
  switch (op) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      return decodeCreate(op, r);
    case "delete":
    case "setData":
      return decodeMultiOp(op, r) as MultiOp;
    case "check": // a top-level check is refused later (reference §3 "Trap"), but decode it
      return decodeMultiOp(op, r) as MultiOp;
    case "setACL": {
      const b = SetACLRequest.read(r);
      return { op, path: b.path, acl: b.acl, version: b.version };
    }
    case "exists":
    case "getData":
    case "getChildren":
    case "getChildren2": {
      const b = PathWatchRequest.read(r);
      return { op, path: b.path, watch: b.watch };
    }
    case "getACL":
    case "sync":
    case "getAllChildrenNumber":
    case "getEphemerals":
      return { op, path: PathRequest.read(r).path };
    case "multi":
    case "multiRead": {
      // MultiOperationRecord: (MultiHeader, op)* then MultiHeader(-1, done=true, -1).
      const ops: Array<MultiOp | ReadOp> = [];
      for (;;) {
        const h = MultiHeader.read(r);
        if (h.done) break;
        const subName = opName(h.type);
        const sub = subName === undefined ? null : decodeMultiOp(subName, r);
        if (sub === null) throw new JuteDecodeError(`invalid op type ${h.type} in a multi`);
        ops.push(sub);
      }
      // MultiOperationRecord refuses to mix reads and writes ("Mixing different kind of ops"): unreadable.
      const reads = ops.filter((o) => o.op === "getData" || o.op === "getChildren").length;
      if (reads > 0 && reads < ops.length) throw new JuteDecodeError("a multi mixing reads and writes");
      if (op === "multiRead") {
        if (reads === 0 && ops.length > 0) return { op, ops: [], brokenAt: 0 };
        return { op, ops: ops as ReadOp[] };
      }
      if (ops.some((o) => o.path === null)) return { op: "multiNullPath" };
      // Reads in a multi get no txn from pRequest2Txn, and serializing that missing txn throws: unreadable.
      if (reads > 0) throw new JuteDecodeError("a multi of reads");
      return { op, ops: ops as MultiOp[] };
    }
    case "setWatches": {
      const b = SetWatches.read(r);
      return {
        op,
        relativeZxid: b.relativeZxid,
        dataWatches: nonNull(b.dataWatches).filter(isString),
        existWatches: nonNull(b.existWatches).filter(isString),
        childWatches: nonNull(b.childWatches).filter(isString),
        persistentWatches: [],
        persistentRecursiveWatches: [],
      };
    }
    case "setWatches2": {
      const b = SetWatches2.read(r);
      return {
        op,
        relativeZxid: b.relativeZxid,
        dataWatches: nonNull(b.dataWatches).filter(isString),
        existWatches: nonNull(b.existWatches).filter(isString),
        childWatches: nonNull(b.childWatches).filter(isString),
        persistentWatches: nonNull(b.persistentWatches).filter(isString),
        persistentRecursiveWatches: nonNull(b.persistentRecursiveWatches).filter(isString),
      };
    }
    case "addWatch": {
      const b = AddWatchRequest.read(r);
      return { op, path: b.path, mode: b.mode };
    }
    case "checkWatches":
    case "removeWatches": {
      const b = WatchesRequest.read(r);
      return { op, path: b.path, type: b.type };
    }
    case "auth": {
      const b = AuthPacket.read(r);
      return { op, scheme: b.scheme, auth: b.auth };
    }
    case "reconfig":
      // PrepRequestProcessor reads the ReconfigRequest before taking a zxid: an unreadable one costs no txn.
      ReconfigRequest.read(r);
      return { op };
    case "ping":
    case "closeSession":
    case "whoAmI":
      return { op };
    default:
      // notification, sasl, createSession, deleteContainer, error: not something a client may send.
      return null;
  }
}

function isString(value: string | null): value is string {
  return value !== null;
}

/** Ops that become transactions (go through prepare → log → apply). */
export function isWriteOp(op: RequestOp): boolean {
  switch (op) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
    case "delete":
    case "deleteContainer":
    case "setData":
    case "setACL":
    case "check":
    case "multi":
    case "closeSession":
    case "createSession":
    // A reconfig is refused inside PrepRequestProcessor, as an error txn (RECONFIGDISABLED) with a zxid of its own.
    case "reconfig":
    case "malformedWrite":
      return true;
    default:
      return false;
  }
}
