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
  WatchesRequest,
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
  | { readonly op: "multiRead"; readonly ops: readonly ReadOp[] }
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
  | { readonly op: "createSession"; readonly timeOutMs: number };

export type RequestOp = ClientRequest["op"];

/** Why a packet could not become a request; the server answers and closes the connection. */
export type DecodeFailure =
  | { readonly kind: "unknownOpcode"; readonly code: number }
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

function decodeMultiOp(op: OpName, r: JuteReader): MultiOp | ReadOp | null {
  switch (op) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      return decodeCreate(op, r);
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
      const b = PathRequest.read(r);
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
  try {
    return decodeKnown(op, r) ?? { kind: "unknownOpcode", code };
  } catch (error) {
    if (error instanceof JuteDecodeError) return { kind: "malformed", op, reason: error.message };
    throw error;
  }
}

function decodeKnown(op: OpName, r: JuteReader): ClientRequest | null {
  switch (op) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
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
      if (op === "multiRead") {
        if (ops.some((o) => o.op !== "getData" && o.op !== "getChildren")) throw new JuteDecodeError("multiRead holds a write");
        return { op, ops: ops as ReadOp[] };
      }
      if (ops.some((o) => o.op === "getData" || o.op === "getChildren")) throw new JuteDecodeError("multi holds a read");
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
    case "ping":
    case "closeSession":
    case "whoAmI":
    case "reconfig":
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
      return true;
    default:
      return false;
  }
}
