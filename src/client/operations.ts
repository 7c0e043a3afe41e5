/**
 * Every request the client can send, as a discriminated union on `op`, and how each is encoded for the wire and
 * its reply decoded. This is the client's half of the codec boundary: above it the code talks in names
 * ("getChildren", "persistentRecursive"), below it in the numbers of `src/proto/opcodes.ts`.
 *
 * Paths in requests are the *client's* paths; the chroot is applied here, on the way out and on the way back.
 *
 * `W` is the type of a watcher. The core never calls a watcher, it only stores and returns them, so it does not
 * care what they are (the client uses functions; a test may use strings).
 */
import {
  AddWatchRequest,
  CheckVersionRequest,
  Create2Response,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetACLResponse,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsResponse,
  JuteReader,
  JuteWriter,
  MultiHeader,
  PathRequest,
  PathResponse,
  PathWatchRequest,
  SetACLRequest,
  SetDataRequest,
  StatResponse,
  WatchesRequest,
  WhoAmIResponse,
  addWatchModes,
  createModes,
  opCodes,
  watcherTypes,
  type ACL,
  type ClientInfo,
  type CreateModeName,
  type Stat,
} from "../proto/index.ts";
import type { Chroot } from "./paths.ts";

/** What can be stored in a znode: bytes, a string (stored as UTF-8), or null (jute's null buffer). */
export type NodeData = Buffer | Uint8Array | string | null;

/** NodeData as a jute buffer; undefined (no data given) is empty. */
export function toNodeBytes(data: NodeData | undefined): Buffer | null {
  if (data === null) return null;
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === "string") return Buffer.from(data, "utf8");
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

// ---- the operations of a transaction (multi) ----

export interface CreateOp {
  readonly op: "create";
  readonly path: string;
  readonly data: Buffer | null;
  readonly acl: readonly ACL[];
  readonly mode: CreateModeName;
  /** Time to live of a TTL node (modes persistentWithTtl, persistentSequentialWithTtl). */
  readonly ttlMs?: number;
  /** Ask for the new node's Stat too (opcode create2). Ignored inside a transaction. */
  readonly withStat?: boolean;
}
export interface DeleteOp {
  readonly op: "delete";
  readonly path: string;
  /** -1 matches any version. */
  readonly version: number;
}
export interface SetDataOp {
  readonly op: "setData";
  readonly path: string;
  readonly data: Buffer | null;
  readonly version: number;
}
/** Only inside a transaction: fails the transaction unless the node has this version. */
export interface CheckOp {
  readonly op: "check";
  readonly path: string;
  readonly version: number;
}
export type TransactionOp = CreateOp | DeleteOp | SetDataOp | CheckOp;

/** The operations of a multiRead. */
export type ReadOp = { readonly op: "getData"; readonly path: string } | { readonly op: "getChildren"; readonly path: string };

export type WatchMode = "persistent" | "persistentRecursive";
export type WatcherTypeName = keyof typeof watcherTypes;

export type Request<W> =
  | CreateOp
  | DeleteOp
  | SetDataOp
  | { readonly op: "exists"; readonly path: string; readonly watcher?: W }
  | { readonly op: "getData"; readonly path: string; readonly watcher?: W }
  | { readonly op: "getChildren"; readonly path: string; readonly withStat: boolean; readonly watcher?: W }
  | { readonly op: "getACL"; readonly path: string }
  | { readonly op: "setACL"; readonly path: string; readonly acl: readonly ACL[]; readonly version: number }
  | { readonly op: "sync"; readonly path: string }
  | { readonly op: "multi"; readonly ops: readonly TransactionOp[] }
  | { readonly op: "multiRead"; readonly ops: readonly ReadOp[] }
  | { readonly op: "addWatch"; readonly path: string; readonly mode: WatchMode; readonly watcher: W }
  /** Without a watcher: remove every watch of that type on the path (opcode removeWatches). With one: only that
   *  watcher, after the server confirms a watch exists (opcode checkWatches), as Apache's `ZooKeeper.removeWatches`. */
  | { readonly op: "removeWatches"; readonly path: string; readonly watcherType: WatcherTypeName; readonly watcher?: W }
  | { readonly op: "getEphemerals"; readonly path: string }
  | { readonly op: "getAllChildrenNumber"; readonly path: string }
  | { readonly op: "whoAmI" }
  | { readonly op: "closeSession" };

export type OpKind = Request<unknown>["op"];

// ---- results ----

export type TransactionResult =
  | { readonly op: "create"; readonly path: string; readonly stat: Stat | null }
  | { readonly op: "delete" }
  | { readonly op: "setData"; readonly stat: Stat }
  | { readonly op: "check" }
  | { readonly op: "error"; readonly code: number };

export type ReadResult =
  | { readonly op: "getData"; readonly data: Buffer | null; readonly stat: Stat }
  | { readonly op: "getChildren"; readonly children: string[] }
  | { readonly op: "error"; readonly code: number };

/** What a successful reply holds, per operation. */
export interface ResultByOp {
  create: { path: string; stat: Stat | null };
  delete: null;
  setData: Stat;
  /** null: the node does not exist (an exists watch was still set, if asked for). */
  exists: Stat | null;
  getData: { data: Buffer | null; stat: Stat };
  getChildren: { children: string[]; stat: Stat | null };
  getACL: { acl: ACL[]; stat: Stat };
  setACL: Stat;
  sync: string;
  /** One result per op; a failed transaction is reported here, op by op, not as a failed reply. */
  multi: TransactionResult[];
  multiRead: ReadResult[];
  addWatch: null;
  removeWatches: null;
  getEphemerals: string[];
  getAllChildrenNumber: number;
  whoAmI: ClientInfo[];
  closeSession: null;
}
export type ResultOf<R extends { op: OpKind }> = ResultByOp[R["op"]];

// ---- encoding ----

export interface EncodedRequest {
  readonly opCode: number;
  /** The body after the RequestHeader. */
  readonly body: Buffer;
}

function createOpCode(op: CreateOp, insideMulti: boolean): number {
  if (op.mode === "persistentWithTtl" || op.mode === "persistentSequentialWithTtl") return opCodes.createTTL;
  if (op.mode === "container") return opCodes.createContainer;
  return op.withStat && !insideMulti ? opCodes.create2 : opCodes.create;
}

function writeCreate(w: JuteWriter, op: CreateOp, chroot: Chroot): void {
  const fields = { path: chroot.toServer(op.path), data: op.data, acl: [...op.acl], flags: createModes[op.mode] };
  if (op.mode === "persistentWithTtl" || op.mode === "persistentSequentialWithTtl") {
    CreateTTLRequest.write(w, { ...fields, ttl: BigInt(op.ttlMs ?? 0) });
  } else {
    CreateRequest.write(w, fields);
  }
}

function writeTransactionOp(w: JuteWriter, op: TransactionOp, chroot: Chroot): number {
  switch (op.op) {
    case "create":
      writeCreate(w, op, chroot);
      return createOpCode(op, true);
    case "delete":
      DeleteRequest.write(w, { path: chroot.toServer(op.path), version: op.version });
      return opCodes.delete;
    case "setData":
      SetDataRequest.write(w, { path: chroot.toServer(op.path), data: op.data, version: op.version });
      return opCodes.setData;
    case "check":
      CheckVersionRequest.write(w, { path: chroot.toServer(op.path), version: op.version });
      return opCodes.check;
  }
}

/**
 * A multi body (Apache `MultiOperationRecord`): per op a MultiHeader{type, done=false, err=-1} and the op's
 * request, then MultiHeader{-1, true, -1}.
 */
function writeMulti(w: JuteWriter, ops: ReadonlyArray<TransactionOp | ReadOp>, chroot: Chroot): void {
  for (const op of ops) {
    const inner = new JuteWriter();
    let type: number;
    if (op.op === "getData" || op.op === "getChildren") {
      PathWatchRequest.write(inner, { path: chroot.toServer(op.path), watch: false });
      type = op.op === "getData" ? opCodes.getData : opCodes.getChildren;
    } else {
      type = writeTransactionOp(inner, op, chroot);
    }
    MultiHeader.write(w, { type, done: false, err: -1 });
    w.writeRaw(inner.view());
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
}

export function encodeRequest<W>(request: Request<W>, chroot: Chroot): EncodedRequest {
  const w = new JuteWriter();
  const path = "path" in request ? chroot.toServer(request.path) : "";
  let opCode: number;
  switch (request.op) {
    case "create":
      writeCreate(w, request, chroot);
      opCode = createOpCode(request, false);
      break;
    case "delete":
    case "setData":
      opCode = writeTransactionOp(w, request, chroot);
      break;
    case "exists":
    case "getData":
      PathWatchRequest.write(w, { path, watch: request.watcher !== undefined });
      opCode = opCodes[request.op];
      break;
    case "getChildren":
      PathWatchRequest.write(w, { path, watch: request.watcher !== undefined });
      opCode = request.withStat ? opCodes.getChildren2 : opCodes.getChildren;
      break;
    case "getACL":
    case "sync":
    case "getEphemerals":
    case "getAllChildrenNumber":
      PathRequest.write(w, { path });
      opCode = opCodes[request.op];
      break;
    case "setACL":
      SetACLRequest.write(w, { path, acl: [...request.acl], version: request.version });
      opCode = opCodes.setACL;
      break;
    case "multi":
    case "multiRead":
      writeMulti(w, request.ops, chroot);
      opCode = opCodes[request.op];
      break;
    case "addWatch":
      AddWatchRequest.write(w, { path, mode: addWatchModes[request.mode] });
      opCode = opCodes.addWatch;
      break;
    case "removeWatches":
      WatchesRequest.write(w, { path, type: watcherTypes[request.watcherType] });
      opCode = request.watcher === undefined ? opCodes.removeWatches : opCodes.checkWatches;
      break;
    case "whoAmI":
    case "closeSession":
      opCode = opCodes[request.op];
      break;
  }
  return { opCode, body: Buffer.from(w.view()) };
}

// ---- decoding (only called for replies with err == 0) ----

/** A jute vector<ustring> as plain strings (a null element cannot come from a real server; it reads as ""). */
function strings(list: ReadonlyArray<string | null> | null): string[] {
  return (list ?? []).map((s) => s ?? "");
}

function clientPath(serverPath: string | null, chroot: Chroot): string {
  return chroot.toClient(serverPath ?? "");
}

function decodeTransactionResults(r: JuteReader, chroot: Chroot): TransactionResult[] {
  const results: TransactionResult[] = [];
  for (;;) {
    const header = MultiHeader.read(r);
    if (header.done) return results;
    switch (header.type) {
      case opCodes.create:
        results.push({ op: "create", path: clientPath(PathResponse.read(r).path, chroot), stat: null });
        break;
      case opCodes.create2:
      case opCodes.createContainer:
      case opCodes.createTTL: {
        const reply = Create2Response.read(r);
        results.push({ op: "create", path: clientPath(reply.path, chroot), stat: reply.stat });
        break;
      }
      case opCodes.delete:
        results.push({ op: "delete" });
        break;
      case opCodes.setData:
        results.push({ op: "setData", stat: StatResponse.read(r).stat });
        break;
      case opCodes.check:
        results.push({ op: "check" });
        break;
      case opCodes.error:
        results.push({ op: "error", code: ErrorResponse.read(r).err });
        break;
      default:
        throw new Error(`unexpected op type ${header.type} in a multi reply`);
    }
  }
}

function decodeReadResults(r: JuteReader): ReadResult[] {
  const results: ReadResult[] = [];
  for (;;) {
    const header = MultiHeader.read(r);
    if (header.done) return results;
    switch (header.type) {
      case opCodes.getData: {
        const reply = GetDataResponse.read(r);
        results.push({ op: "getData", data: reply.data, stat: reply.stat });
        break;
      }
      case opCodes.getChildren:
        results.push({ op: "getChildren", children: strings(GetChildrenResponse.read(r).children) });
        break;
      case opCodes.error:
        results.push({ op: "error", code: ErrorResponse.read(r).err });
        break;
      default:
        throw new Error(`unexpected op type ${header.type} in a multiRead reply`);
    }
  }
}

/** Decodes the body of a successful reply to `request`. */
export function decodeResult<W>(request: Request<W>, r: JuteReader, chroot: Chroot): ResultByOp[OpKind] {
  switch (request.op) {
    case "create": {
      if (createOpCode(request, false) === opCodes.create) {
        return { path: clientPath(PathResponse.read(r).path, chroot), stat: null };
      }
      const reply = Create2Response.read(r);
      return { path: clientPath(reply.path, chroot), stat: reply.stat };
    }
    case "delete":
    case "addWatch":
    case "removeWatches":
    case "closeSession":
      return null;
    case "setData":
    case "setACL":
    case "exists":
      return StatResponse.read(r).stat;
    case "getData": {
      const reply = GetDataResponse.read(r);
      return { data: reply.data, stat: reply.stat };
    }
    case "getChildren": {
      if (request.withStat) {
        const reply = GetChildren2Response.read(r);
        return { children: strings(reply.children), stat: reply.stat };
      }
      return { children: strings(GetChildrenResponse.read(r).children), stat: null };
    }
    case "getACL": {
      const reply = GetACLResponse.read(r);
      return { acl: reply.acl ?? [], stat: reply.stat };
    }
    case "sync":
      return clientPath(PathResponse.read(r).path, chroot);
    case "multi":
      return decodeTransactionResults(r, chroot);
    case "multiRead":
      return decodeReadResults(r);
    case "getEphemerals":
      return strings(GetEphemeralsResponse.read(r).ephemerals).map((p) => clientPath(p, chroot));
    case "getAllChildrenNumber":
      return GetAllChildrenNumberResponse.read(r).totalNumber;
    case "whoAmI":
      return WhoAmIResponse.read(r).clientInfo ?? [];
  }
}

/** The path a request is about, for error messages ("KeeperErrorCode = NoNode for /x"). */
export function requestPath<W>(request: Request<W>): string | undefined {
  return "path" in request ? request.path : undefined;
}

