/**
 * The differential test's vocabulary: scripted steps (what a client does, symbolically, so that one script can be
 * replayed against two servers), request encoders and reply decoders built on the records of src/proto.
 *
 * Paths in a script may refer to what *this* server answered earlier ("the path the last create returned", "the
 * n-th sequential node created"), so that sequential names can be used without the script knowing them.
 */
import {
  ACL,
  AddWatchRequest,
  AuthPacket,
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
  ReconfigRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  Stat,
  WatchesRequest,
  WhoAmIResponse,
  perms,
  vector,
  ustring,
} from "../../../src/proto/index.ts";
import { digestId } from "../../../src/tree/acl.ts";

// ------------------------------------------------------------------------------------------------ script

/** A path: literal, or resolved per server from what that server answered before. */
export type PathRef = string | null | { readonly ref: "last" } | { readonly ref: "seq"; readonly index: number };

/** ACLs the generator picks from; `creator` is `auth:` (expanded to the caller's digest ids). */
export const aclChoices = {
  open: [{ perms: perms.all, id: { scheme: "world", id: "anyone" } }],
  read: [{ perms: perms.read, id: { scheme: "world", id: "anyone" } }],
  creator: [{ perms: perms.all, id: { scheme: "auth", id: "" } }],
  digestU1: [{ perms: perms.all, id: { scheme: "digest", id: digestId("u1:p1") } }],
  digestU1ReadWorld: [
    { perms: perms.read | perms.write | perms.admin, id: { scheme: "digest", id: digestId("u1:p1") } },
    { perms: perms.read, id: { scheme: "world", id: "anyone" } },
  ],
  digestU2NoAdmin: [
    { perms: perms.read | perms.write | perms.create | perms.delete, id: { scheme: "digest", id: digestId("u2:p2") } },
    { perms: perms.read, id: { scheme: "world", id: "anyone" } },
  ],
  ipLocal: [{ perms: perms.all, id: { scheme: "ip", id: "127.0.0.1" } }],
  ipOther: [{ perms: perms.all, id: { scheme: "ip", id: "10.1.2.3" } }],
  ipCidr: [{ perms: perms.read | perms.create | perms.delete, id: { scheme: "ip", id: "127.0.0.0/8" } }],
  createOnly: [{ perms: perms.create | perms.read, id: { scheme: "world", id: "anyone" } }],
  noPerms: [{ perms: 0, id: { scheme: "world", id: "anyone" } }],
  duplicate: [
    { perms: perms.all, id: { scheme: "world", id: "anyone" } },
    { perms: perms.all, id: { scheme: "world", id: "anyone" } },
  ],
  empty: [],
  null: null,
  badScheme: [{ perms: perms.all, id: { scheme: "foo", id: "bar" } }],
  worldNobody: [{ perms: perms.all, id: { scheme: "world", id: "nobody" } }],
  superId: [{ perms: perms.all, id: { scheme: "super", id: "" } }],
  digestMalformed: [{ perms: perms.all, id: { scheme: "digest", id: "nocolon" } }],
  ipBad: [{ perms: perms.all, id: { scheme: "ip", id: "300.1.1.1" } }],
} satisfies Record<string, ACL[] | null>;
export type AclChoice = keyof typeof aclChoices;

export type CreateCode = 1 | 15 | 19 | 21;

export interface CreateSpec {
  readonly code: CreateCode;
  readonly path: PathRef;
  readonly data: string | null;
  readonly acl: AclChoice;
  readonly flags: number;
  /** Only sent by opcode 21 (CreateTTLRequest). */
  readonly ttl: bigint;
}

export type MultiSub =
  | ({ readonly type: CreateCode } & Omit<CreateSpec, "code">)
  | { readonly type: 2; readonly path: PathRef; readonly version: number }
  | { readonly type: 5; readonly path: PathRef; readonly data: string | null; readonly version: number }
  | { readonly type: 13; readonly path: PathRef; readonly version: number }
  | { readonly type: 4 | 8; readonly path: PathRef };

export type RelZxid = "last" | "zero" | { readonly minus: number };

export interface WatchLists {
  readonly data: readonly string[];
  readonly exist: readonly string[];
  readonly child: readonly string[];
  readonly persistent: readonly string[];
  readonly recursive: readonly string[];
}

export type Req =
  | ({ readonly op: "create" } & CreateSpec)
  | { readonly op: "delete"; readonly path: PathRef; readonly version: number }
  | { readonly op: "setData"; readonly path: PathRef; readonly data: string | null; readonly version: number }
  | { readonly op: "setACL"; readonly path: PathRef; readonly acl: AclChoice; readonly version: number }
  | { readonly op: "exists" | "getData" | "getChildren" | "getChildren2"; readonly path: PathRef; readonly watch: boolean }
  | { readonly op: "getACL" | "sync" | "getAllChildrenNumber" | "getEphemerals"; readonly path: PathRef }
  | { readonly op: "multi" | "multiRead"; readonly ops: readonly MultiSub[] }
  | { readonly op: "addWatch"; readonly path: PathRef; readonly mode: number }
  | { readonly op: "checkWatches" | "removeWatches"; readonly path: PathRef; readonly type: number }
  | { readonly op: "auth"; readonly scheme: string; readonly auth: string }
  | { readonly op: "whoAmI" | "ping" | "closeSession" | "reconfig" }
  | { readonly op: "setWatches"; readonly code: 101 | 105; readonly rel: RelZxid; readonly watches: WatchLists }
  /** Any opcode with a raw body (unknown opcodes, server-internal ones). */
  | { readonly op: "raw"; readonly code: number; readonly body: string };

export type Step =
  /** A new session on a new socket. `lastZxid: "ahead"` claims to have seen more than the server has. */
  | {
      readonly kind: "open";
      readonly slot: number;
      readonly timeoutMs: number;
      readonly readOnlyByte: boolean;
      readonly lastZxid: "zero" | "seen" | "ahead";
    }
  /**
   * The slot's session on a new socket (the old one, if still open, is left for the server to close), with the
   * right or a wrong password, then optionally setWatches — what a client does after a disconnect.
   */
  | {
      readonly kind: "reattach";
      readonly slot: number;
      readonly password: "right" | "wrong";
      readonly readOnlyByte: boolean;
      readonly setWatches: Extract<Req, { op: "setWatches" }> | null;
    }
  | { readonly kind: "request"; readonly slot: number; readonly req: Req; readonly xid?: number }
  /**
   * Several requests sent back to back before any reply is read: the server must answer them in order, and writes
   * must be prepared against the writes still in flight ahead of them (Apache's outstandingChanges).
   */
  | { readonly kind: "pipeline"; readonly slot: number; readonly reqs: readonly Req[] }
  /** The client drops its socket without closeSession. */
  | { readonly kind: "drop"; readonly slot: number }
  /** Nothing for a while (for what the server does on its own: the container manager); `slot` is unused. */
  | { readonly kind: "sleep"; readonly slot: number; readonly ms: number };

// ------------------------------------------------------------------------------------------------ encoding

/** Per-server facts that symbolic paths and zxids resolve against. */
export interface Resolver {
  path(ref: PathRef): string | null;
  relZxid(rel: RelZxid): bigint;
}

function dataBytes(data: string | null): Buffer | null {
  return data === null ? null : Buffer.from(data, "utf8");
}

function writeCreate(w: JuteWriter, code: CreateCode, spec: Omit<CreateSpec, "code">, r: Resolver): void {
  const record = { path: r.path(spec.path), data: dataBytes(spec.data), acl: aclChoices[spec.acl], flags: spec.flags };
  if (code === 21) CreateTTLRequest.write(w, { ...record, ttl: spec.ttl });
  else CreateRequest.write(w, record);
}

function writeMultiSub(w: JuteWriter, sub: MultiSub, r: Resolver): void {
  MultiHeader.write(w, { type: sub.type, done: false, err: -1 });
  switch (sub.type) {
    case 1:
    case 15:
    case 19:
    case 21:
      writeCreate(w, sub.type, sub, r);
      return;
    case 2:
      DeleteRequest.write(w, { path: r.path(sub.path), version: sub.version });
      return;
    case 5:
      SetDataRequest.write(w, { path: r.path(sub.path), data: dataBytes(sub.data), version: sub.version });
      return;
    case 13:
      CheckVersionRequest.write(w, { path: r.path(sub.path), version: sub.version });
      return;
    case 4:
    case 8:
      // GetDataRequest / GetChildrenRequest: path + watch (the watch flag is ignored inside multiRead).
      PathWatchRequest.write(w, { path: r.path(sub.path), watch: false });
      return;
  }
}

/** The opcode of a request as it goes on the wire. */
export function opcodeOf(req: Req): number {
  switch (req.op) {
    case "create":
      return req.code;
    case "setWatches":
    case "raw":
      return req.code;
    default:
      return {
        delete: 2, exists: 3, getData: 4, setData: 5, getACL: 6, setACL: 7, getChildren: 8, sync: 9, ping: 11,
        getChildren2: 12, multi: 14, reconfig: 16, checkWatches: 17, removeWatches: 18, multiRead: 22, auth: 100,
        getEphemerals: 103, getAllChildrenNumber: 104, addWatch: 106, whoAmI: 107, closeSession: -11,
      }[req.op];
  }
}

/** Writes the request body (everything after the RequestHeader). */
export function writeBody(w: JuteWriter, req: Req, r: Resolver): void {
  switch (req.op) {
    case "create":
      writeCreate(w, req.code, req, r);
      return;
    case "delete":
      DeleteRequest.write(w, { path: r.path(req.path), version: req.version });
      return;
    case "setData":
      SetDataRequest.write(w, { path: r.path(req.path), data: dataBytes(req.data), version: req.version });
      return;
    case "setACL":
      SetACLRequest.write(w, { path: r.path(req.path), acl: aclChoices[req.acl], version: req.version });
      return;
    case "exists":
    case "getData":
    case "getChildren":
    case "getChildren2":
      PathWatchRequest.write(w, { path: r.path(req.path), watch: req.watch });
      return;
    case "getACL":
    case "sync":
    case "getAllChildrenNumber":
    case "getEphemerals":
      PathRequest.write(w, { path: r.path(req.path) });
      return;
    case "multi":
    case "multiRead":
      for (const sub of req.ops) writeMultiSub(w, sub, r);
      MultiHeader.write(w, { type: -1, done: true, err: -1 });
      return;
    case "addWatch":
      AddWatchRequest.write(w, { path: r.path(req.path), mode: req.mode });
      return;
    case "checkWatches":
    case "removeWatches":
      WatchesRequest.write(w, { path: r.path(req.path), type: req.type });
      return;
    case "auth":
      AuthPacket.write(w, { type: 0, scheme: req.scheme, auth: Buffer.from(req.auth, "utf8") });
      return;
    case "reconfig":
      ReconfigRequest.write(w, { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n });
      return;
    case "setWatches": {
      const base = {
        relativeZxid: r.relZxid(req.rel),
        dataWatches: [...req.watches.data],
        existWatches: [...req.watches.exist],
        childWatches: [...req.watches.child],
      };
      if (req.code === 101) SetWatches.write(w, base);
      else SetWatches2.write(w, { ...base, persistentWatches: [...req.watches.persistent], persistentRecursiveWatches: [...req.watches.recursive] });
      return;
    }
    case "raw":
      w.writeRaw(Buffer.from(req.body, "hex"));
      return;
    case "whoAmI":
    case "ping":
    case "closeSession":
      return;
  }
}

// ------------------------------------------------------------------------------------------------ decoding

/** A reply body, decoded into plain data (bigints kept for the normaliser). */
export type Body = Record<string, unknown>;

const stringList = vector(ustring);

function readMulti(r: JuteReader): Body {
  const results: Body[] = [];
  for (;;) {
    const h = MultiHeader.read(r);
    if (h.done) return { results, end: { type: h.type, err: h.err } };
    const entry: Body = { type: h.type, err: h.err };
    switch (h.type) {
      case 1:
        entry.path = PathResponse.read(r).path;
        break;
      case 15:
        Object.assign(entry, Create2Response.read(r));
        break;
      case 2:
      case 13:
        break;
      case 5:
        entry.stat = Stat.read(r);
        break;
      case 4:
        Object.assign(entry, GetDataResponse.read(r));
        break;
      case 8:
        entry.children = GetChildrenResponse.read(r).children;
        break;
      case -1:
        entry.errBody = ErrorResponse.read(r).err;
        break;
      default:
        entry.undecodable = true;
        return { results: [...results, entry] };
    }
    results.push(entry);
  }
}

/** Decodes the body of a successful reply to a request with opcode `code`. */
export function readBody(code: number, r: JuteReader): Body | null {
  switch (code) {
    case 1:
    case 9:
      return { path: PathResponse.read(r).path };
    case 15:
    case 19:
    case 21:
      return Create2Response.read(r);
    case 3:
    case 5:
    case 7:
      return { stat: Stat.read(r) };
    case 4:
    case 16:
      return GetDataResponse.read(r);
    case 6:
      return GetACLResponse.read(r);
    case 8:
      return GetChildrenResponse.read(r);
    case 12:
      return GetChildren2Response.read(r);
    case 14:
    case 22:
      return readMulti(r);
    case 103:
      return { ephemerals: GetEphemeralsResponse.read(r).ephemerals };
    case 104:
      return GetAllChildrenNumberResponse.read(r);
    case 107:
      return WhoAmIResponse.read(r);
    default:
      return null; // delete, ping, setWatches, checkWatches, removeWatches, auth, closeSession, addWatch: nothing
  }
}

export { stringList };
