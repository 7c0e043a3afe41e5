/**
 * The quorum port's QuorumPacket and the election port's notification, against Apache ZooKeeper 3.8's layouts
 * (zookeeper.jute QuorumPacket/LearnerInfo, Leader.java's packet types, Learner.request/ping/registerWithLeader,
 * FastLeaderElection.buildMsg and WorkerReceiver).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeElectionHello,
  decodeNotification,
  decodeQuorumPacket,
  decodeQuorumRecord,
  encodeElectionHello,
  encodeNotification,
  encodeQuorumPacket,
  encodeRevalidation,
  learnerProtocolVersion,
  QuorumCodecError,
  type DecodedQuorumPacket,
} from "../../src/ensemble/quorum-codec.ts";
import type { ForwardedWrite, MemberTxn, MemberTypes, SessionTouch } from "../../src/ensemble/types.ts";
import type { Notification, QuorumPacket } from "../../src/quorum/index.ts";
import { opCodes } from "../../src/proto/opcodes.ts";
import { encodeTxnEntry } from "../../src/storage/txn-codec.ts";
import { TxnStream } from "../storage/support/random-txns.ts";

type Packet = QuorumPacket<MemberTypes>;

/** Builds expected bytes field by field, the way Java's DataOutputStream writes them. */
class Bytes {
  private parts: Buffer[] = [];
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  long(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  string(s: string): this {
    return this.int(Buffer.byteLength(s)).raw(Buffer.from(s));
  }
  get buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// ------------------------------------------------------------------ generators

const epoch = fc.integer({ min: 0, max: 0x7fffffff });
const zxid = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const long = zxid;
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const sid = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const writeOpCodes = Object.values(opCodes).filter((c) => c !== opCodes.sync);

const forwardedWrite: fc.Arbitrary<ForwardedWrite> = fc.record({
  sessionId: long,
  cxid: int32,
  type: fc.constantFrom(...writeOpCodes),
  body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  authIds: fc.array(fc.record({ scheme: fc.string(), id: fc.string() }), { maxLength: 3 }),
});

/** A txn a real server could log (the storage tests' seeded stream), re-stamped with the packet's zxid. */
const memberTxn: fc.Arbitrary<MemberTxn> = fc.tuple(fc.integer(), fc.integer({ min: 0, max: 30 })).map(([seed, skip]) => {
  const stream = new TxnStream(seed);
  for (let i = 0; i < skip; i++) stream.next();
  const { header, txn } = stream.next();
  return { header, txn };
});

const packet: fc.Arbitrary<Packet> = fc.oneof(
  epoch.map((acceptedEpoch): Packet => ({ kind: "FOLLOWERINFO", acceptedEpoch })),
  epoch.map((acceptedEpoch): Packet => ({ kind: "OBSERVERINFO", acceptedEpoch })),
  epoch.map((newEpoch): Packet => ({ kind: "LEADERINFO", newEpoch })),
  fc.tuple(fc.integer({ min: -1, max: 0x7fffffff }), zxid).map(([currentEpoch, lastZxid]): Packet => ({ kind: "ACKEPOCH", currentEpoch, lastZxid })),
  fc.tuple(fc.constantFrom("DIFF", "TRUNC", "NEWLEADER", "ACK", "COMMIT"), zxid).map(([kind, z]) => ({ kind, zxid: z }) as Packet),
  fc.tuple(zxid, fc.uint8Array({ maxLength: 256 })).map(([z, s]): Packet => ({ kind: "SNAP", zxid: z, snapshot: Buffer.from(s) })),
  fc.constantFrom<Packet>({ kind: "UPTODATE" }, { kind: "PING" }, { kind: "SYNC" }, { kind: "REQUEST", request: { op: "sync" } }),
  fc.tuple(fc.constantFrom("PROPOSAL", "INFORM"), memberTxn).map(([kind, t]) => ({ kind, zxid: t.header.zxid, txn: t }) as Packet),
  forwardedWrite.map((request): Packet => ({ kind: "REQUEST", request: { op: "write", request } })),
);

const touches: fc.Arbitrary<SessionTouch[]> = fc.array(fc.record({ sessionId: long, timeoutMs: int32 }), { maxLength: 20 });

/** Packets compare with toEqual; Buffers inside compare by bytes. */
function roundTrip(p: Packet, extras: Parameters<typeof encodeQuorumPacket>[1] = {}): DecodedQuorumPacket {
  return decodeQuorumPacket(encodeQuorumPacket(p, extras));
}

// ------------------------------------------------------------------ round trips

describe("QuorumPacket round trips", () => {
  it("every packet kind decodes to what was encoded (fast-check)", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(packet, sid, (p, learnerSid) => {
        seen.add(p.kind);
        const extras = p.kind === "FOLLOWERINFO" || p.kind === "OBSERVERINFO" ? { learnerSid } : {};
        const decoded = roundTrip(p, extras);
        expect(decoded.packet).toEqual(p);
        expect(decoded.touches).toEqual([]);
        expect(decoded.learnerInfo).toEqual("learnerSid" in extras ? { sid: learnerSid, protocolVersion: learnerProtocolVersion, configVersion: 0n } : null);
      }),
      { numRuns: 600 },
    );
    // Every kind of the union was generated at least once.
    expect([...seen].sort()).toEqual(
      ["ACK", "ACKEPOCH", "COMMIT", "DIFF", "FOLLOWERINFO", "INFORM", "LEADERINFO", "NEWLEADER", "OBSERVERINFO", "PING", "PROPOSAL", "REQUEST", "SNAP", "SYNC", "TRUNC", "UPTODATE"],
    );
  });

  it("a learner's PING carries its session touches beside the packet (Learner.ping)", () => {
    fc.assert(
      fc.property(touches, (t) => {
        const decoded = roundTrip({ kind: "PING" }, { touches: t });
        expect(decoded.packet).toEqual({ kind: "PING" });
        expect(decoded.touches).toEqual(t);
      }),
    );
  });

  it("the learner's sid comes with FOLLOWERINFO and OBSERVERINFO (LearnerInfo)", () => {
    const decoded = roundTrip({ kind: "OBSERVERINFO", acceptedEpoch: 7 }, { learnerSid: 42 });
    expect(decoded.learnerInfo).toEqual({ sid: 42, protocolVersion: 0x10000, configVersion: 0n });
  });

  it("refuses to build what the cores never emit: FOLLOWERINFO without a sid, touches off a PING, a write typed sync", () => {
    expect(() => encodeQuorumPacket({ kind: "FOLLOWERINFO", acceptedEpoch: 1 })).toThrow(/sid/);
    expect(() => encodeQuorumPacket({ kind: "ACK", zxid: 1n }, { touches: [] })).toThrow(/PING/);
    const write: ForwardedWrite = { sessionId: 1n, cxid: 1, type: opCodes.sync, body: Buffer.alloc(0), authIds: [] };
    expect(() => encodeQuorumPacket({ kind: "REQUEST", request: { op: "write", request: write } })).toThrow(/sync/);
  });
});

// ------------------------------------------------------------------ the Apache layout, byte by byte

describe("QuorumPacket bytes (Apache layout)", () => {
  const nullBuffer = -1;
  const nullVector = -1;

  it("ACK: int 3, long zxid, null data, null authinfo", () => {
    const bytes = encodeQuorumPacket({ kind: "ACK", zxid: 0x500000003n });
    expect(bytes).toEqual(new Bytes().int(3).long(0x500000003n).int(nullBuffer).int(nullVector).buffer);
  });

  it("FOLLOWERINFO: int 11, zxid (acceptedEpoch, 0), data = LearnerInfo{long sid, int 0x10000, long configVersion}", () => {
    const info = new Bytes().long(3n).int(0x10000).long(0n).buffer;
    const expected = new Bytes().int(11).long(5n << 32n).int(info.length).raw(info).int(nullVector).buffer;
    expect(encodeQuorumPacket({ kind: "FOLLOWERINFO", acceptedEpoch: 5 }, { learnerSid: 3 })).toEqual(expected);
    expect(info.length).toBe(20);
  });

  it("LEADERINFO and ACKEPOCH: a 4-byte int in data (protocol version; currentEpoch, -1 allowed)", () => {
    expect(encodeQuorumPacket({ kind: "LEADERINFO", newEpoch: 6 })).toEqual(new Bytes().int(17).long(6n << 32n).int(4).int(0x10000).int(nullVector).buffer);
    expect(encodeQuorumPacket({ kind: "ACKEPOCH", currentEpoch: -1, lastZxid: 0x400000009n })).toEqual(
      new Bytes().int(18).long(0x400000009n).int(4).int(-1).int(nullVector).buffer,
    );
  });

  it("REQUEST: zxid -1, data = long sessionId, int cxid, int type, body; authinfo = vector<Id> (Learner.request)", () => {
    const body = Buffer.from([1, 2, 3]);
    const write: ForwardedWrite = { sessionId: 0x1234n, cxid: 9, type: opCodes.create, body, authIds: [{ scheme: "digest", id: "u:x" }] };
    const data = new Bytes().long(0x1234n).int(9).int(1).raw(body).buffer;
    const expected = new Bytes().int(1).long(-1n).int(data.length).raw(data).int(1).string("digest").string("u:x").buffer;
    expect(encodeQuorumPacket({ kind: "REQUEST", request: { op: "write", request: write } })).toEqual(expected);
  });

  it("a forwarded sync is a REQUEST of type OpCode.sync (9)", () => {
    const bytes = encodeQuorumPacket({ kind: "REQUEST", request: { op: "sync" } });
    expect(bytes.readInt32BE(0)).toBe(1);
    expect(bytes.readInt32BE(4 + 8 + 4 + 12)).toBe(9);
  });

  it("PING from a learner: data = (long sessionId, int timeout) pairs; from the leader: null data", () => {
    const t = [{ sessionId: 0x100000001n, timeoutMs: 30000 }, { sessionId: -2n, timeoutMs: 4000 }];
    const data = new Bytes().long(0x100000001n).int(30000).long(-2n).int(4000).buffer;
    expect(encodeQuorumPacket({ kind: "PING" }, { touches: t })).toEqual(new Bytes().int(5).long(0n).int(24).raw(data).int(nullVector).buffer);
    expect(encodeQuorumPacket({ kind: "PING" })).toEqual(new Bytes().int(5).long(0n).int(nullBuffer).int(nullVector).buffer);
  });

  it("PROPOSAL: data = the txn as a log entry body (SerializeUtils.serializeRequest); Apache's digest is accepted", () => {
    const { header, txn } = new TxnStream(7).next();
    const body = encodeTxnEntry(header, txn, null);
    const p: Packet = { kind: "PROPOSAL", zxid: header.zxid, txn: { header, txn } };
    expect(encodeQuorumPacket(p)).toEqual(new Bytes().int(2).long(header.zxid).int(body.length).raw(body).int(nullVector).buffer);
    const withDigest = encodeTxnEntry(header, txn, { version: 2, treeDigest: 12345n });
    const apacheBytes = new Bytes().int(2).long(header.zxid).int(withDigest.length).raw(withDigest).int(nullVector).buffer;
    expect(decodeQuorumPacket(apacheBytes).packet).toEqual(p);
  });

  it("REVALIDATE: zxid -1; a learner asks with (long sessionId, int timeout), the leader answers (long sessionId, boolean valid)", () => {
    const ask = new Bytes().int(6).long(-1n).int(12).long(0x200000000000007n).int(12_000).int(nullVector).buffer;
    expect(encodeRevalidation({ kind: "ask", sessionId: 0x200000000000007n, timeoutMs: 12_000 })).toEqual(ask);
    expect(decodeQuorumRecord(ask, "learner")).toEqual({ kind: "revalidation", revalidation: { kind: "ask", sessionId: 0x200000000000007n, timeoutMs: 12_000 } });
    for (const valid of [true, false]) {
      const answer = new Bytes().int(6).long(-1n).int(9).long(-5n).raw(Buffer.from([valid ? 1 : 0])).int(nullVector).buffer;
      expect(encodeRevalidation({ kind: "answer", sessionId: -5n, valid })).toEqual(answer);
      expect(decodeQuorumRecord(answer, "leader")).toEqual({ kind: "revalidation", revalidation: { kind: "answer", sessionId: -5n, valid } });
    }
    // Every other packet comes through decodeQuorumRecord as a Zab packet, whoever sent it.
    const ack = encodeQuorumPacket({ kind: "ACK", zxid: 9n });
    expect(decodeQuorumRecord(ack, "learner")).toEqual({ kind: "zab", decoded: decodeQuorumPacket(ack) });
  });

  it("a pre-3.4 FOLLOWERINFO with only the sid as data still names the learner (LearnerHandler)", () => {
    const bytes = new Bytes().int(11).long(2n << 32n).int(8).long(4n).int(nullVector).buffer;
    expect(decodeQuorumPacket(bytes).learnerInfo?.sid).toBe(4);
  });
});

describe("QuorumPacket decoding errors name what was wrong", () => {
  const packetBytes = (type: number, data: Buffer | null, zxid = 0n) =>
    new Bytes().int(type).long(zxid).int(data === null ? -1 : data.length).raw(data ?? Buffer.alloc(0)).int(-1).buffer;
  const expectError = (bytes: Buffer, message: RegExp) => {
    expect(() => decodeQuorumPacket(bytes)).toThrow(QuorumCodecError);
    expect(() => decodeQuorumPacket(bytes)).toThrow(message);
  };

  it("unknown and unsupported packet types", () => {
    expectError(packetBytes(42, null), /unknown quorum packet type 42/);
    expectError(packetBytes(6, null), /REVALIDATE/);
    expectError(packetBytes(9, null), /COMMITANDACTIVATE/);
  });

  it("a REVALIDATE whose data does not fit its direction's layout, or whose boolean is not 0 or 1", () => {
    const revalidate = (data: Buffer | null, sender: "leader" | "learner") => () => decodeQuorumRecord(packetBytes(6, data, -1n), sender);
    expect(revalidate(Buffer.alloc(9), "learner")).toThrow(/REVALIDATE from the learner: data must be 12 bytes \(long sessionId, int timeout\), got 9 bytes/);
    expect(revalidate(Buffer.alloc(12), "leader")).toThrow(/REVALIDATE from the leader: data must be 9 bytes \(long sessionId, boolean valid\), got 12 bytes/);
    expect(revalidate(null, "leader")).toThrow(/got null/);
    expect(revalidate(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 2]), "leader")).toThrow(/valid must be 0 or 1, got 2/);
    expect(revalidate(Buffer.alloc(9), "learner")).toThrow(QuorumCodecError);
  });

  it("truncated records, lying lengths and trailing bytes", () => {
    expectError(Buffer.from([0, 0, 0, 3, 0, 0]), /truncated/);
    expectError(new Bytes().int(15).long(1n).int(1000).raw(Buffer.alloc(10)).buffer, /buffer/);
    expectError(Buffer.concat([packetBytes(3, null), Buffer.from([0])]), /ACK: 1 bytes after/);
  });

  it("data of the wrong size or missing", () => {
    expectError(packetBytes(18, Buffer.alloc(3)), /ACKEPOCH: data must be a 4-byte int, got 3 bytes/);
    expectError(packetBytes(17, null), /LEADERINFO: data must be a 4-byte int, got null/);
    expectError(packetBytes(17, Buffer.from([0, 0, 0, 1])), /older than 0x10000/);
    expectError(packetBytes(5, Buffer.alloc(13)), /PING: session touch data of 13 bytes/);
    expectError(packetBytes(1, Buffer.alloc(15)), /REQUEST: data must hold .*got 15 bytes/);
    expectError(packetBytes(2, null, 5n), /PROPOSAL 0x5 without a txn/);
    expectError(packetBytes(15, null, 5n), /SNAP 0x5 without a snapshot/);
    expectError(packetBytes(11, null), /FOLLOWERINFO without LearnerInfo/);
    expectError(packetBytes(11, Buffer.alloc(12)), /FOLLOWERINFO/);
  });

  it("a txn that is not one, or of another zxid", () => {
    expectError(packetBytes(2, Buffer.alloc(5), 5n), /PROPOSAL 0x5: /);
    const { header, txn } = new TxnStream(3).next();
    expectError(packetBytes(8, encodeTxnEntry(header, txn, null), header.zxid + 1n), /carries a txn of zxid/);
  });
});

// ------------------------------------------------------------------ notifications

describe("notifications (FastLeaderElection.buildMsg)", () => {
  const notification: fc.Arbitrary<Notification> = fc.record({
    state: fc.constantFrom("LOOKING", "FOLLOWING", "LEADING", "OBSERVING"),
    leader: fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
    zxid,
    electionEpoch: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    peerEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
  });

  it("round-trips (fast-check)", () => {
    fc.assert(
      fc.property(notification, (n) => {
        expect(decodeNotification(encodeNotification(n))).toEqual(n);
      }),
    );
  });

  it("is 44 bytes: int state, long leader, long zxid, long electionEpoch, long peerEpoch, int version 2, int config length 0", () => {
    const n: Notification = { state: "FOLLOWING", leader: 3, zxid: 0x200000007n, electionEpoch: 4, peerEpoch: 2 };
    expect(encodeNotification(n)).toEqual(new Bytes().int(1).long(3n).long(0x200000007n).long(4n).long(2n).int(2).int(0).buffer);
  });

  it("an observer's 'no leader yet' is Apache's Long.MIN_VALUE", () => {
    const n: Notification = { state: "OBSERVING", leader: -1, zxid: -1n, electionEpoch: 1, peerEpoch: -1 };
    const bytes = encodeNotification(n);
    expect(bytes.readBigInt64BE(4)).toBe(-(1n << 63n));
    expect(bytes.readBigInt64BE(28)).toBe(-(1n << 63n));
    expect(decodeNotification(bytes)).toEqual(n);
  });

  it("reads Apache's older generations and a config", () => {
    const v0 = new Bytes().int(0).long(2n).long(0x300000001n).long(9n).buffer;
    expect(decodeNotification(v0)).toEqual({ state: "LOOKING", leader: 2, zxid: 0x300000001n, electionEpoch: 9, peerEpoch: 3 });
    const v1 = new Bytes().int(2).long(2n).long(5n).long(9n).long(1n).int(1).buffer;
    expect(decodeNotification(v1)).toEqual({ state: "LEADING", leader: 2, zxid: 5n, electionEpoch: 9, peerEpoch: 1 });
    const config = Buffer.from("server.1=127.0.0.1:2888:3888:participant\nversion=0");
    const v2 = new Bytes().int(0).long(1n).long(5n).long(9n).long(1n).int(2).int(config.length).raw(config).buffer;
    expect(decodeNotification(v2).leader).toBe(1);
  });

  it("refuses bad lengths, states and config lengths", () => {
    expect(() => decodeNotification(Buffer.alloc(20))).toThrow(/notification of 20 bytes/);
    expect(() => decodeNotification(Buffer.alloc(30))).toThrow(/notification of 30 bytes/);
    const badState = new Bytes().int(7).long(1n).long(5n).long(9n).long(1n).int(2).int(0).buffer;
    expect(() => decodeNotification(badState)).toThrow(/unknown server state 7/);
    const badConfig = new Bytes().int(0).long(1n).long(5n).long(9n).long(1n).int(2).int(5).buffer;
    expect(() => decodeNotification(badConfig)).toThrow(QuorumCodecError);
    expect(() => decodeNotification(badConfig)).toThrow(/config length 5/);
  });
});

describe("election hello (QuorumCnxManager's initial message)", () => {
  it("long protocol version -65536, long sid, the address", () => {
    const bytes = encodeElectionHello({ sid: 5, address: "127.0.0.1:3888" });
    expect(bytes).toEqual(new Bytes().long(-65536n).long(5n).string("127.0.0.1:3888").buffer);
    expect(decodeElectionHello(bytes)).toEqual({ sid: 5, address: "127.0.0.1:3888" });
  });

  it("refuses another protocol version", () => {
    const bytes = new Bytes().long(-65535n).long(5n).string("x").buffer;
    expect(() => decodeElectionHello(bytes)).toThrow(/protocol version -65535/);
    expect(() => decodeElectionHello(Buffer.alloc(3))).toThrow(QuorumCodecError);
  });
});
