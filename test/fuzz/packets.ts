/**
 * Packet generation and mutation for the fuzzer. A packet starts as a valid frame of the client protocol with random
 * field values (every opcode, paths that collide, versions, flags, ACLs, multis), then gets byte-level mutations:
 * bit flips, truncation, length lies, random opcodes, overwritten ints, appended junk, splices, random bytes.
 */
import { JuteWriter, opCodes, perms } from "../../src/proto/index.ts";
import {
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  ConnectRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  MultiHeader,
  PathRequest,
  PathWatchRequest,
  RequestHeader,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  WatchesRequest,
  ReconfigRequest,
  type ACL,
} from "../../src/proto/records.ts";
import type { Prng } from "./prng.ts";

const validPaths = ["/", "/fz", "/fz/a", "/fz/b", "/fz/a/x", "/fz/a/y", "/fz/c", "/fz/c/k", "/fz/s-", "/fz/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota", "/fz2", "/fz2/q"];
const badPaths = ["", "fz", "/fz//a", "/fz/./a", "/fz/..", "/fz/a/", "/\u0000", "/fz/\u0001", "/fz/\ud800", "//", null];
const schemes = ["digest", "ip", "world", "auth", "super", "sasl", "", "x509"];

function path(rng: Prng): string | null {
  return rng.chance(0.9) ? rng.pick(validPaths) : rng.pick(badPaths);
}

function data(rng: Prng): Buffer | null {
  if (rng.chance(0.05)) return null;
  return rng.bytes(rng.pick([0, 1, 3, 10, 10, 64, 64, 300]));
}

function version(rng: Prng): number {
  return rng.pick([-1, -1, -1, 0, 0, 1, 2, 3, -2, 0x7fffffff]);
}

function acl(rng: Prng): ACL[] | null {
  const kind = rng.int(10);
  if (kind === 0) return null;
  if (kind === 1) return [];
  const list: ACL[] = [];
  for (let i = rng.range(1, 3); i > 0; i--) {
    const scheme = rng.chance(0.6) ? "world" : rng.pick(schemes);
    const id =
      scheme === "world" ? rng.pick(["anyone", "anyone", "someone"]) :
      scheme === "ip" ? rng.pick(["127.0.0.1", "127.0.0.0/8", "10.0.0.0/8", "1.2.3", "::1"]) :
      scheme === "digest" ? rng.pick(["u1:hash", "u2:x", "bad", "a:b:c"]) : "";
    list.push({ perms: rng.chance(0.8) ? perms.all : rng.int(64) - 16, id: { scheme, id } });
  }
  return list;
}

type BodyWriter = (w: JuteWriter) => void;

/**
 * A generated packet: the frame, and the byte ranges of its body that carry structure rather than values — length
 * prefixes (buffer, ustring, vector) and a multi's op headers. Soft mutations leave those alone, so they change
 * values without breaking the framing.
 */
export interface Packet {
  readonly frame: Buffer;
  /** [start, end) offsets into the body. */
  readonly structure: ReadonlyArray<readonly [number, number]>;
}

/** A JuteWriter that remembers where the structure is. */
class MappingWriter extends JuteWriter {
  readonly structure: Array<[number, number]> = [];
  constructor() {
    super(128);
  }
  protect(width: number): void {
    this.structure.push([this.length, this.length + width]);
  }
  override writeBuffer(value: Uint8Array | null): this {
    this.protect(4);
    return super.writeBuffer(value);
  }
  override writeString(value: string | null): this {
    this.protect(4);
    return super.writeString(value);
  }
  override writeVectorLength(count: number | null): this {
    this.protect(4);
    return super.writeVectorLength(count);
  }
}

/** MultiHeader{type, done, err}: the type and done flag are structure. */
function writeMultiHeader(w: MappingWriter, type: number, done: boolean): void {
  w.protect(5);
  MultiHeader.write(w, { type, done, err: -1 });
}

/**
 * One op of a multi (writes) or a multiRead (reads): its type and body. Now and then the wrong kind, which the
 * server refuses as a whole.
 */
function multiOp(rng: Prng, read: boolean): [number, BodyWriter] {
  if (read !== rng.chance(0.03)) return [rng.pick([opCodes.getData, opCodes.getChildren]), (w) => PathRequest.write(w, { path: path(rng) })];
  switch (rng.int(5)) {
    case 0:
      return [opCodes.create, (w) => CreateRequest.write(w, { path: path(rng), data: data(rng), acl: acl(rng), flags: rng.int(8) })];
    case 1:
      return [opCodes.create2, (w) => CreateRequest.write(w, { path: path(rng), data: data(rng), acl: acl(rng), flags: rng.int(5) })];
    case 2:
      return [opCodes.delete, (w) => DeleteRequest.write(w, { path: path(rng), version: version(rng) })];
    case 3:
      return [opCodes.setData, (w) => SetDataRequest.write(w, { path: path(rng), data: data(rng), version: version(rng) })];
    default:
      return [opCodes.check, (w) => CheckVersionRequest.write(w, { path: path(rng), version: version(rng) })];
  }
}

function pathList(rng: Prng): string[] {
  return Array.from({ length: rng.int(4) }, () => rng.pick(validPaths));
}

/** How often each opcode is generated: the whole protocol, weighted towards what changes the tree. */
const requestWeights = {
    create: 10, create2: 4, createContainer: 2, createTTL: 2, delete: 8, setData: 8, getData: 8, exists: 8, getChildren: 4,
    getChildren2: 4, getACL: 3, setACL: 2, sync: 2, ping: 4, multi: 6, multiRead: 2, setWatches: 2, setWatches2: 1, addWatch: 2,
    checkWatches: 2, removeWatches: 2, getEphemerals: 1, getAllChildrenNumber: 1, whoAmI: 1, auth: 1, check: 1, reconfig: 1,
    closeSession: 0.1,
  } as const;

/** A valid request (header + body) with random field values; opcode chosen to cover the whole protocol. */
export function validRequest(rng: Prng, xid: number): Packet {
  const w = new MappingWriter();
  const op = rng.weighted(requestWeights);
  const type = opCodes[op];
  RequestHeader.write(w, { xid: op === "ping" ? -2 : op === "auth" ? -4 : xid, type });
  switch (op) {
    case "create":
    case "create2":
    case "createContainer":
      CreateRequest.write(w, { path: path(rng), data: data(rng), acl: acl(rng), flags: op === "createContainer" ? 4 : rng.int(8) });
      break;
    case "createTTL":
      CreateTTLRequest.write(w, { path: path(rng), data: data(rng), acl: acl(rng), flags: rng.pick([5, 6, 0, 1]), ttl: BigInt(rng.pick([-1, 0, 1, 50, 1000, 2 ** 40])) });
      break;
    case "delete":
      DeleteRequest.write(w, { path: path(rng), version: version(rng) });
      break;
    case "setData":
      SetDataRequest.write(w, { path: path(rng), data: data(rng), version: version(rng) });
      break;
    case "check":
      CheckVersionRequest.write(w, { path: path(rng), version: version(rng) });
      break;
    case "getData":
    case "exists":
    case "getChildren":
    case "getChildren2":
      PathWatchRequest.write(w, { path: path(rng), watch: rng.chance(0.6) });
      break;
    case "getACL":
    case "sync":
    case "getEphemerals":
    case "getAllChildrenNumber":
      PathRequest.write(w, { path: path(rng) });
      break;
    case "setACL":
      SetACLRequest.write(w, { path: rng.pick(["/fz/a", "/fz/a/x", "/fz/b", "/fz2/q", "/zookeeper/config", "/nope"]), acl: acl(rng), version: version(rng) });
      break;
    case "multi":
    case "multiRead":
      for (let i = rng.int(5); i > 0; i--) {
        const [t, write] = multiOp(rng, op === "multiRead");
        writeMultiHeader(w, t, false);
        write(w);
      }
      writeMultiHeader(w, -1, true);
      break;
    case "setWatches":
      SetWatches.write(w, { relativeZxid: BigInt(rng.int(200)), dataWatches: pathList(rng), existWatches: pathList(rng), childWatches: pathList(rng) });
      break;
    case "setWatches2":
      SetWatches2.write(w, {
        relativeZxid: BigInt(rng.int(200)),
        dataWatches: pathList(rng),
        existWatches: pathList(rng),
        childWatches: pathList(rng),
        persistentWatches: pathList(rng),
        persistentRecursiveWatches: pathList(rng),
      });
      break;
    case "addWatch":
      AddWatchRequest.write(w, { path: path(rng), mode: rng.pick([0, 1, 1, 2, -1]) });
      break;
    case "checkWatches":
    case "removeWatches":
      WatchesRequest.write(w, { path: path(rng), type: rng.pick([1, 2, 3, 0, 4]) });
      break;
    case "auth":
      AuthPacket.write(w, {
        type: 0,
        // An unknown scheme fails the auth and closes the connection: rare, so connections live on.
        scheme: rng.chance(0.98) ? rng.pick(["digest", "digest", "ip"]) : rng.pick(["sasl", "nosuch", ""]),
        auth: Buffer.from(rng.pick(["u1:pw", "u2:pw", "super:admin", "nocolon", ""])),
      });
      break;
    case "reconfig":
      ReconfigRequest.write(w, { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n });
      break;
    case "ping":
    case "whoAmI":
    case "closeSession":
      break;
  }
  return { frame: w.toFrame(), structure: w.structure };
}

export function validConnect(rng: Prng, lastZxid = 0n): Packet {
  const w = new MappingWriter();
  ConnectRequest.write(w, {
    protocolVersion: rng.chance(0.95) ? 0 : rng.int(5),
    lastZxidSeen: rng.chance(0.9) ? 0n : rng.chance(0.5) ? lastZxid : BigInt(rng.u32()),
    timeOut: rng.pick([1, 200, 1000, 4000, 30_000, 0x7fffffff, -5]),
    sessionId: rng.chance(0.92) ? 0n : (1n << 56n) | BigInt(rng.u32()),
    passwd: rng.chance(0.95) ? Buffer.alloc(16) : rng.bytes(rng.int(40)),
    readOnly: rng.chance(0.5) ? undefined : rng.chance(0.9) ? false : true,
  });
  return { frame: w.toFrame(), structure: w.structure };
}

/** Byte-level mutations. The frame's length prefix is kept consistent unless the mutation is about lying in it. */
export type MutationKind = SoftMutation | HardMutation;
/** Mutations that change values inside a well-framed packet: the connection often survives them. */
export type SoftMutation = "bitFlip" | "overwriteInt" | "appendJunk";
/** Mutations that break the framing or the record: the connection is usually closed after them. */
export type HardMutation = "truncate" | "lengthLie" | "randomOpcode" | "splice" | "randomBytes" | "dropBytes";

export const softMutationWeights: Readonly<Record<SoftMutation, number>> = { bitFlip: 55, overwriteInt: 30, appendJunk: 15 };
export const hardMutationWeights: Readonly<Record<HardMutation, number>> = {
  truncate: 25,
  randomOpcode: 20,
  lengthLie: 20,
  splice: 15,
  dropBytes: 10,
  randomBytes: 10,
};
export const mutationKinds: readonly MutationKind[] = [
  ...(Object.keys(softMutationWeights) as SoftMutation[]),
  ...(Object.keys(hardMutationWeights) as HardMutation[]),
];

const interestingInts = [-1, 0, 1, -2, 0x7fffffff, -0x80000000, 0xfffff, 0x100000, 255, 256, 65535, 14, 101, 105, -10, -11, 20];

function withLength(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * A position for a `width`-byte change: for a soft mutation, past the header (`skip` bytes: xid and type of a
 * request) and clear of the structure; for a hard one, anywhere. Null when a soft one has no room.
 */
function position(rng: Prng, body: Buffer, width: number, packet: Packet, soft: boolean, skip: number): number | null {
  if (!soft) return body.length < width ? null : rng.int(body.length - width + 1);
  for (let attempt = 0; attempt < 8; attempt++) {
    if (body.length < skip + width) return null;
    const at = skip + rng.int(body.length - width - skip + 1);
    if (packet.structure.every(([start, end]) => at + width <= start || at >= end)) return at;
  }
  return null;
}

/**
 * Mutates a packet. `bitFlip`, `overwriteInt` and `appendJunk` are soft: they change values (never the structure,
 * never the opcode), and Apache's readers ignore trailing bytes; the rest break framing or the record.
 */
export function mutate(rng: Prng, packet: Packet, other: () => Packet, kind: MutationKind, headerBytes = 8): { frame: Buffer; kind: MutationKind } {
  const frame = packet.frame;
  const body = Buffer.from(frame.subarray(4));
  switch (kind) {
    case "bitFlip": {
      for (let n = rng.range(1, 3); n > 0; n--) {
        const at = position(rng, body, 1, packet, true, headerBytes);
        if (at !== null) body[at]! ^= 1 << rng.int(8);
      }
      return { frame: withLength(body), kind };
    }
    case "overwriteInt": {
      const at = position(rng, body, 4, packet, true, headerBytes);
      if (at !== null) body.writeInt32BE(rng.pick(interestingInts), at);
      return { frame: withLength(body), kind };
    }
    case "truncate":
      return { frame: withLength(body.subarray(0, rng.int(body.length))), kind };
    case "appendJunk":
      return { frame: withLength(Buffer.concat([body, rng.bytes(rng.range(1, 32))])), kind };
    case "randomOpcode": {
      if (body.length < 8) return { frame: withLength(body), kind };
      body.writeInt32BE(rng.chance(0.5) ? rng.range(-20, 120) : rng.u32() | 0, 4);
      return { frame: withLength(body), kind };
    }
    case "lengthLie": {
      const out = Buffer.from(frame);
      const lie = rng.pick([body.length + rng.range(1, 16), Math.max(0, body.length - rng.range(1, 16)), -1, rng.u32() | 0, 0, 0x100000]);
      out.writeInt32BE(lie, 0);
      return { frame: out, kind };
    }
    case "splice": {
      const tail = other().frame.subarray(4);
      return { frame: withLength(Buffer.concat([body.subarray(0, rng.int(body.length + 1)), tail.subarray(rng.int(tail.length + 1))])), kind };
    }
    case "dropBytes": {
      const at = rng.int(body.length + 1);
      return { frame: withLength(Buffer.concat([body.subarray(0, at), body.subarray(at + rng.range(1, 8))])), kind };
    }
    case "randomBytes":
      return { frame: rng.chance(0.5) ? withLength(rng.bytes(rng.int(64))) : rng.bytes(rng.range(1, 64)), kind };
  }
}
