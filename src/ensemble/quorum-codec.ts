/**
 * The bytes of the ensemble's two ports, in Apache ZooKeeper 3.8's layouts. This is the only place where quorum
 * packet types and server states are numbers; everything above it switches on `kind` and `state`.
 *
 * Quorum port (Zab): every packet is a jute `QuorumPacket` (zookeeper.jute):
 *
 *   QuorumPacket { int type; long zxid; buffer data; vector<Id> authinfo }
 *
 * with the type numbers of Apache `Leader` (REQUEST 1 … ACKEPOCH 18) and a `data` that depends on the type —
 * written down at each case of `packetData`/`packetFromRecord` below, with the Apache class that writes it.
 *
 * Election port (fast leader election): a notification is Apache `FastLeaderElection.buildMsg`'s buffer:
 *
 *   int state; long leader; long zxid; long electionEpoch; long peerEpoch; int version; int configLength; config
 *
 * Where zkbook differs from Apache on purpose (both ends are zkbook; the transport frames each record):
 *  - SNAP carries the snapshot in `data`. Apache sends SNAP with no data and then streams the serialized DataTree
 *    and the string "BenWasHere" on the socket after it (LearnerHandler.syncFollower); one record is simpler.
 *  - NEWLEADER's data is null (Apache: the leader's configuration as text, for dynamic reconfig, which zkbook
 *    does not do), and a notification's config is empty, for the same reason.
 *  - PING's zxid is 0 (Apache: the leader's last proposed zxid, echoed by the learner, used by no one).
 *
 * Pure: bytes in, bytes out. Bad bytes throw a `QuorumCodecError` saying what was wrong; a packet the caller
 * should never have built (a FOLLOWERINFO without the learner's sid) throws an `InvariantError`.
 */
import { buffer, int, long, record, vector, type RecordOf } from "../proto/codec.ts";
import { JuteDecodeError, JuteReader, JuteWriter } from "../proto/jute.ts";
import { opCodes } from "../proto/opcodes.ts";
import { Id } from "../proto/records.ts";
import { decodeTxnEntry, encodeTxnEntry, TxnDecodeError } from "../storage/txn-codec.ts";
import { assert, assertNever, hexZxid, noServerId, type ForwardedRequest, type Notification, type QuorumPacket, type ServerState } from "../quorum/index.ts";
import type { ForwardedWrite, MemberTxn, MemberTypes, Revalidation, SessionTouch } from "./types.ts";

/** Bytes that are not a packet or notification Apache's layout allows, or not one zkbook understands. */
export class QuorumCodecError extends Error {
  override readonly name = "QuorumCodecError";
}

// ------------------------------------------------------------------ the records (zookeeper.jute)

/** org.apache.zookeeper.server.quorum.QuorumPacket. */
const QuorumPacketRecord = record("QuorumPacket", { type: int, zxid: long, data: buffer, authinfo: vector(Id) });
type QuorumPacketRecord = RecordOf<typeof QuorumPacketRecord>;

/** org.apache.zookeeper.server.quorum.LearnerInfo: FOLLOWERINFO/OBSERVERINFO's data. */
const LearnerInfoRecord = record("LearnerInfo", { serverid: long, protocolVersion: int, configVersion: long });

/** Who a learner is, from its FOLLOWERINFO/OBSERVERINFO: how the leader learns the sid of a new connection. */
export interface LearnerInfo {
  readonly sid: number;
  readonly protocolVersion: number;
  /** The version of the learner's quorum configuration (dynamic reconfig); zkbook sends 0. */
  readonly configVersion: bigint;
}

/**
 * Apache `Leader`'s packet types of the Zab cores. REVALIDATE 6 is the session layer's (`revalidateType`, below);
 * COMMITANDACTIVATE 9 and INFORMANDACTIVATE 19 (dynamic reconfig) exist in Apache but not in zkbook, and are
 * refused by name.
 */
const packetTypeNumbers = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  SYNC: 7,
  INFORM: 8,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
} as const satisfies Record<QuorumPacket<MemberTypes>["kind"], number>;

/** Apache Leader.REVALIDATE: a learner asks whether a reconnecting client's session is alive (`Revalidation`). */
const revalidateType = 6;

const unsupportedPacketTypes: ReadonlyMap<number, string> = new Map([
  [9, "COMMITANDACTIVATE"],
  [19, "INFORMANDACTIVATE"],
]);

const packetKindByNumber: ReadonlyMap<number, QuorumPacket<MemberTypes>["kind"]> = new Map(
  Object.entries(packetTypeNumbers).map(([kind, n]) => [n, kind as QuorumPacket<MemberTypes>["kind"]]),
);

/** Apache `Learner`/`Leader`: the protocol version in LearnerInfo and LEADERINFO (0x10000 since 3.4). */
export const learnerProtocolVersion = 0x10000;

/** Apache Request's fixed head in a REQUEST's data: long sessionId, int cxid, int type. */
const requestHeadBytes = 8 + 4 + 4;
/** One session touch in a PING's data: long sessionId, int timeout. */
const sessionTouchBytes = 8 + 4;
/** A REVALIDATE question's data (Learner.validateSession): long sessionId, int timeout. */
const revalidateAskBytes = 8 + 4;
/** A REVALIDATE answer's data (Leader.revalidateSession): long sessionId, boolean valid. */
const revalidateAnswerBytes = 8 + 1;
/** LEADERINFO's and ACKEPOCH's data: one int. */
const intDataBytes = 4;
/** A pre-3.4 learner sent only its sid (a long) as FOLLOWERINFO's data; LearnerHandler still accepts it. */
const bareSidBytes = 8;

/** Apache writes zxid -1 in REQUEST (Learner.request) and UPTODATE (Leader), 0 in SYNC and our PING. */
const noZxid = -1n;

// ------------------------------------------------------------------ quorum packets: encoding

/** What travels beside some packets and is not part of `QuorumPacket<T>` (the cores never see it). */
export interface QuorumPacketExtras {
  /** PING from a learner: the sessions it reports alive. Omitted: a leader's PING (data null). */
  readonly touches?: readonly SessionTouch[];
  /** FOLLOWERINFO/OBSERVERINFO: the sending learner's sid (LearnerInfo.serverid). Required for those two. */
  readonly learnerSid?: number;
}

/** The jute `QuorumPacket` record of `packet` (without a frame length: the transport adds it). */
export function encodeQuorumPacket(packet: QuorumPacket<MemberTypes>, extras: QuorumPacketExtras = {}): Buffer {
  assert(extras.touches === undefined || packet.kind === "PING", () => `session touches ride only on PING, not ${packet.kind}`);
  const rec = packetRecord(packet, extras);
  const w = new JuteWriter(64 + (rec.data?.length ?? 0));
  QuorumPacketRecord.write(w, rec);
  // The writer is dropped here, so its view is ours: no second copy of a large SNAP.
  return w.view();
}

function packetRecord(packet: QuorumPacket<MemberTypes>, extras: QuorumPacketExtras): QuorumPacketRecord {
  const type = packetTypeNumbers[packet.kind];
  const plain = (zxid: bigint, data: Buffer | null = null): QuorumPacketRecord => ({ type, zxid, data, authinfo: null });
  switch (packet.kind) {
    case "FOLLOWERINFO":
    case "OBSERVERINFO": {
      // Learner.registerWithLeader: zxid = (acceptedEpoch, 0), data = LearnerInfo.
      const sid = extras.learnerSid;
      assert(sid !== undefined && Number.isSafeInteger(sid), () => `${packet.kind} needs the learner's sid`);
      const info = LearnerInfoRecord.encode({ serverid: BigInt(sid), protocolVersion: learnerProtocolVersion, configVersion: 0n });
      return plain(epochZxid(packet.acceptedEpoch), info);
    }
    case "LEADERINFO":
      // LearnerHandler: zxid = (newEpoch, 0), data = the leader's protocol version.
      return plain(epochZxid(packet.newEpoch), intData(learnerProtocolVersion));
    case "ACKEPOCH":
      // Learner.registerWithLeader: zxid = last logged zxid, data = currentEpoch, or -1 if the epoch was accepted already.
      return plain(packet.lastZxid, intData(packet.currentEpoch));
    case "DIFF":
    case "TRUNC":
    case "NEWLEADER":
    case "ACK":
    case "COMMIT":
      return plain(packet.zxid);
    case "SNAP":
      return plain(packet.zxid, packet.snapshot);
    case "UPTODATE":
      return plain(noZxid);
    case "PROPOSAL":
    case "INFORM":
      // Leader.propose / Leader.inform: data = SerializeUtils.serializeRequest, a log entry's body.
      assert(packet.txn.header.zxid === packet.zxid, () => `${packet.kind} ${hexZxid(packet.zxid)} carries a txn of zxid ${hexZxid(packet.txn.header.zxid)}`);
      return plain(packet.zxid, encodeTxnEntry(packet.txn.header, packet.txn.txn, null));
    case "PING":
      // Leader → learner: no data. Learner → leader (Learner.ping): (long sessionId, int timeout) per touched session.
      return plain(0n, extras.touches === undefined ? null : touchesData(extras.touches));
    case "SYNC":
      return plain(0n);
    case "REQUEST": {
      // Learner.request: data = sessionId, cxid, type, then the request body; authinfo = the connection's ids.
      const request = packet.request;
      if (request.op === "sync") return plain(noZxid, requestData({ sessionId: 0n, cxid: 0, type: opCodes.sync, body: Buffer.alloc(0) }));
      assert(request.request.type !== opCodes.sync, "a forwarded sync is { op: \"sync\" }, not a write of type sync");
      return { type, zxid: noZxid, data: requestData(request.request), authinfo: [...request.request.authIds] };
    }
    default:
      return assertNever(packet, "quorum packet");
  }
}

function epochZxid(epoch: number): bigint {
  return BigInt(epoch) << 32n;
}

function intData(value: number): Buffer {
  const data = Buffer.allocUnsafe(intDataBytes);
  data.writeInt32BE(value, 0);
  return data;
}

function touchesData(touches: readonly SessionTouch[]): Buffer {
  const data = Buffer.allocUnsafe(touches.length * sessionTouchBytes);
  touches.forEach((t, i) => {
    data.writeBigInt64BE(t.sessionId, i * sessionTouchBytes);
    data.writeInt32BE(t.timeoutMs, i * sessionTouchBytes + 8);
  });
  return data;
}

function requestData(r: Pick<ForwardedWrite, "sessionId" | "cxid" | "type" | "body">): Buffer {
  const data = Buffer.allocUnsafe(requestHeadBytes + r.body.length);
  data.writeBigInt64BE(r.sessionId, 0);
  data.writeInt32BE(r.cxid, 8);
  data.writeInt32BE(r.type, 12);
  r.body.copy(data, requestHeadBytes);
  return data;
}

// ------------------------------------------------------------------ quorum packets: decoding

export interface DecodedQuorumPacket {
  readonly packet: QuorumPacket<MemberTypes>;
  /** The sessions a learner's PING reports alive; empty for every other packet. */
  readonly touches: readonly SessionTouch[];
  /** FOLLOWERINFO/OBSERVERINFO: who the learner is; null for every other packet. */
  readonly learnerInfo: LearnerInfo | null;
}

/**
 * What a quorum connection carries: a Zab packet for the cores, or a REVALIDATE for the session layer. The layout
 * of REVALIDATE's data depends on its direction, so the decoder is told who sent it.
 */
export type DecodedQuorumRecord =
  | { readonly kind: "zab"; readonly decoded: DecodedQuorumPacket }
  | { readonly kind: "revalidation"; readonly revalidation: Revalidation };

/** One record received on a quorum connection, exactly `bytes` long, from the leader or from a learner. */
export function decodeQuorumRecord(bytes: Buffer, sender: "leader" | "learner"): DecodedQuorumRecord {
  const rec = readQuorumPacketRecord(bytes);
  if (rec.type === revalidateType) return { kind: "revalidation", revalidation: revalidationOf(rec.data, sender) };
  return { kind: "zab", decoded: zabPacketOf(rec) };
}

/** One Zab `QuorumPacket` record, exactly `bytes` long (a REVALIDATE is refused: use `decodeQuorumRecord`). */
export function decodeQuorumPacket(bytes: Buffer): DecodedQuorumPacket {
  const rec = readQuorumPacketRecord(bytes);
  if (rec.type === revalidateType) throw new QuorumCodecError(`quorum packet type ${rec.type} (REVALIDATE) is not a Zab packet`);
  return zabPacketOf(rec);
}

function readQuorumPacketRecord(bytes: Buffer): QuorumPacketRecord {
  const r = new JuteReader(bytes);
  let rec: QuorumPacketRecord;
  try {
    rec = QuorumPacketRecord.read(r);
  } catch (error) {
    if (error instanceof JuteDecodeError) throw new QuorumCodecError(`bad QuorumPacket of ${bytes.length} bytes: ${error.message}`);
    throw error;
  }
  if (r.remaining !== 0) {
    const name = rec.type === revalidateType ? "REVALIDATE" : (packetKindByNumber.get(rec.type) ?? `quorum packet type ${rec.type}`);
    throw new QuorumCodecError(`${name}: ${r.remaining} bytes after the QuorumPacket record`);
  }
  return rec;
}

function zabPacketOf(rec: QuorumPacketRecord): DecodedQuorumPacket {
  const kind = packetKindByNumber.get(rec.type);
  if (kind === undefined) {
    const name = unsupportedPacketTypes.get(rec.type);
    throw new QuorumCodecError(name === undefined ? `unknown quorum packet type ${rec.type}` : `quorum packet type ${rec.type} (${name}) is not supported by zkbook`);
  }
  try {
    return packetFromRecord(kind, rec);
  } catch (error) {
    if (error instanceof JuteDecodeError || error instanceof TxnDecodeError) throw new QuorumCodecError(`${kind} ${hexZxid(rec.zxid)}: ${error.message}`);
    throw error;
  }
}

function revalidationOf(data: Buffer | null, sender: "leader" | "learner"): Revalidation {
  const expected = sender === "learner" ? revalidateAskBytes : revalidateAnswerBytes;
  if (data === null || data.length !== expected) {
    const layout = sender === "learner" ? "long sessionId, int timeout" : "long sessionId, boolean valid";
    throw new QuorumCodecError(`REVALIDATE from the ${sender}: data must be ${expected} bytes (${layout}), got ${data === null ? "null" : `${data.length} bytes`}`);
  }
  const sessionId = data.readBigInt64BE(0);
  if (sender === "learner") return { kind: "ask", sessionId, timeoutMs: data.readInt32BE(8) };
  const flag = data.readUInt8(8);
  // jute's boolean is one byte, 0 or 1 (DataInput.readBoolean takes any non-zero as true; Apache writes only 0/1).
  if (flag > 1) throw new QuorumCodecError(`REVALIDATE from the leader: valid must be 0 or 1, got ${flag}`);
  return { kind: "answer", sessionId, valid: flag === 1 };
}

/** The jute `QuorumPacket` record of a REVALIDATE (zxid -1, as Learner.validateSession writes and the leader echoes). */
export function encodeRevalidation(revalidation: Revalidation): Buffer {
  let data: Buffer;
  if (revalidation.kind === "ask") {
    data = Buffer.allocUnsafe(revalidateAskBytes);
    data.writeBigInt64BE(revalidation.sessionId, 0);
    data.writeInt32BE(revalidation.timeoutMs, 8);
  } else {
    data = Buffer.allocUnsafe(revalidateAnswerBytes);
    data.writeBigInt64BE(revalidation.sessionId, 0);
    data.writeUInt8(revalidation.valid ? 1 : 0, 8);
  }
  return QuorumPacketRecord.encode({ type: revalidateType, zxid: noZxid, data, authinfo: null });
}

function packetFromRecord(kind: QuorumPacket<MemberTypes>["kind"], rec: QuorumPacketRecord): DecodedQuorumPacket {
  const zxid = rec.zxid;
  const just = (packet: QuorumPacket<MemberTypes>): DecodedQuorumPacket => ({ packet, touches: [], learnerInfo: null });
  switch (kind) {
    case "FOLLOWERINFO":
    case "OBSERVERINFO":
      return { packet: { kind, acceptedEpoch: zxidEpochOf(zxid) }, touches: [], learnerInfo: learnerInfoOf(kind, rec.data) };
    case "LEADERINFO": {
      const version = intOf(kind, rec.data);
      // Learner.registerWithLeader refuses a leader older than 3.4's protocol.
      if (version < learnerProtocolVersion) throw new QuorumCodecError(`LEADERINFO: leader protocol version 0x${version.toString(16)} is older than 0x10000`);
      return just({ kind, newEpoch: zxidEpochOf(zxid) });
    }
    case "ACKEPOCH":
      return just({ kind, currentEpoch: intOf(kind, rec.data), lastZxid: zxid });
    case "DIFF":
    case "TRUNC":
    case "NEWLEADER":
    case "ACK":
    case "COMMIT":
      return just({ kind, zxid });
    case "SNAP":
      if (rec.data === null) throw new QuorumCodecError(`SNAP ${hexZxid(zxid)} without a snapshot in its data`);
      return just({ kind, zxid, snapshot: rec.data });
    case "UPTODATE":
    case "SYNC":
      return just({ kind });
    case "PROPOSAL":
    case "INFORM": {
      if (rec.data === null) throw new QuorumCodecError(`${kind} ${hexZxid(zxid)} without a txn in its data`);
      // Apache 3.8 appends the tree digest; zkbook's txns carry none, so it is read and dropped.
      const entry = decodeTxnEntry(rec.data);
      if (entry.header.zxid !== zxid) throw new QuorumCodecError(`${kind} ${hexZxid(zxid)} carries a txn of zxid ${hexZxid(entry.header.zxid)}`);
      const txn: MemberTxn = { header: entry.header, txn: entry.txn };
      return just({ kind, zxid, txn });
    }
    case "PING":
      return { packet: { kind }, touches: touchesOf(rec.data), learnerInfo: null };
    case "REQUEST":
      return just({ kind, request: requestOf(rec) });
    default:
      return assertNever(kind, "quorum packet kind");
  }
}

function zxidEpochOf(zxid: bigint): number {
  // ZxidUtils.getEpochFromZxid: the high 32 bits. Apache puts (epoch, 0) here; the counter is ignored as it does.
  return Number(zxid >> 32n);
}

function intOf(kind: string, data: Buffer | null): number {
  if (data === null || data.length !== intDataBytes) {
    throw new QuorumCodecError(`${kind}: data must be a ${intDataBytes}-byte int, got ${data === null ? "null" : `${data.length} bytes`}`);
  }
  return data.readInt32BE(0);
}

function learnerInfoOf(kind: string, data: Buffer | null): LearnerInfo {
  if (data === null) throw new QuorumCodecError(`${kind} without LearnerInfo in its data`);
  if (data.length === bareSidBytes) return { sid: safeNumber(kind, "sid", data.readBigInt64BE(0)), protocolVersion: 0, configVersion: 0n };
  const r = new JuteReader(data);
  const info = LearnerInfoRecord.read(r);
  if (r.remaining !== 0) throw new QuorumCodecError(`${kind}: ${r.remaining} bytes after LearnerInfo`);
  return { sid: safeNumber(kind, "sid", info.serverid), protocolVersion: info.protocolVersion, configVersion: info.configVersion };
}

function touchesOf(data: Buffer | null): SessionTouch[] {
  if (data === null) return [];
  if (data.length % sessionTouchBytes !== 0) {
    throw new QuorumCodecError(`PING: session touch data of ${data.length} bytes is not a multiple of ${sessionTouchBytes}`);
  }
  const touches: SessionTouch[] = [];
  for (let o = 0; o < data.length; o += sessionTouchBytes) {
    touches.push({ sessionId: data.readBigInt64BE(o), timeoutMs: data.readInt32BE(o + 8) });
  }
  return touches;
}

function requestOf(rec: QuorumPacketRecord): ForwardedRequest<MemberTypes> {
  const data = rec.data;
  if (data === null || data.length < requestHeadBytes) {
    throw new QuorumCodecError(`REQUEST: data must hold at least sessionId, cxid and type (${requestHeadBytes} bytes), got ${data === null ? "null" : `${data.length} bytes`}`);
  }
  const type = data.readInt32BE(12);
  if (type === opCodes.sync) return { op: "sync" };
  const write: ForwardedWrite = {
    sessionId: data.readBigInt64BE(0),
    cxid: data.readInt32BE(8),
    type,
    body: data.subarray(requestHeadBytes),
    authIds: rec.authinfo ?? [],
  };
  return { op: "write", request: write };
}

function safeNumber(kind: string, field: string, value: bigint): number {
  if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuorumCodecError(`${kind}: ${field} ${value} is out of range`);
  }
  return Number(value);
}

// ------------------------------------------------------------------ election notifications

/** Apache `QuorumPeer.ServerState` ordinals, as FastLeaderElection writes them. */
const serverStateNumbers = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const satisfies Record<ServerState, number>;
const serverStateByNumber: readonly ServerState[] = ["LOOKING", "FOLLOWING", "LEADING", "OBSERVING"];

/** Notification.CURRENTVERSION in 3.8: the message carries the sender's config. */
const notificationVersion = 2;
/**
 * Apache's three generations of notification (FastLeaderElection.WorkerReceiver): 28 bytes (no peerEpoch), 40
 * (peerEpoch, then a version Apache does not read at this size), and 44 + config (3.5+: version, config length).
 */
const notificationBytesV0 = 28;
const notificationBytesV1 = 40;
const notificationBytesV2Min = 44;
/** Apache's "none" for an observer's vote (FastLeaderElection.getInitId & co.): Long.MIN_VALUE; ours is -1. */
const apacheNone = -(1n << 63n);

/** Apache `FastLeaderElection.buildMsg`, with an empty config (zkbook has no dynamic reconfig). */
export function encodeNotification(n: Notification): Buffer {
  const out = Buffer.alloc(notificationBytesV2Min);
  out.writeInt32BE(serverStateNumbers[n.state], 0);
  out.writeBigInt64BE(n.leader === noServerId ? apacheNone : BigInt(n.leader), 4);
  out.writeBigInt64BE(n.zxid, 12);
  out.writeBigInt64BE(BigInt(n.electionEpoch), 20);
  out.writeBigInt64BE(n.peerEpoch === -1 ? apacheNone : BigInt(n.peerEpoch), 28);
  out.writeInt32BE(notificationVersion, 36);
  out.writeInt32BE(0, 40); // config length
  return out;
}

/** Apache `FastLeaderElection.WorkerReceiver`'s parsing, all three generations; a config is read and ignored. */
export function decodeNotification(bytes: Buffer): Notification {
  const length = bytes.length;
  const hasVersion = length >= notificationBytesV2Min;
  if (length !== notificationBytesV0 && length !== notificationBytesV1 && !hasVersion) {
    throw new QuorumCodecError(`notification of ${length} bytes: Apache's are ${notificationBytesV0}, ${notificationBytesV1} or at least ${notificationBytesV2Min}`);
  }
  const stateNumber = bytes.readInt32BE(0);
  const state = serverStateByNumber[stateNumber];
  if (state === undefined) throw new QuorumCodecError(`notification with unknown server state ${stateNumber}`);
  const leader = noneOr(bytes.readBigInt64BE(4), "leader");
  const zxid = bytes.readBigInt64BE(12);
  const electionEpoch = safeNumber("notification", "electionEpoch", bytes.readBigInt64BE(20));
  // The 28-byte generation (before ZOOKEEPER-107) has no peerEpoch: Apache takes the zxid's epoch.
  const peerEpoch = length === notificationBytesV0 ? Number(zxid >> 32n) : noneOr(bytes.readBigInt64BE(28), "peerEpoch");
  if (hasVersion) {
    const version = bytes.readInt32BE(36);
    // Version 2 (3.5's reconfig) adds the sender's config: an int length and that many bytes.
    if (version > 1) {
      const configLength = bytes.readInt32BE(40);
      if (configLength !== length - notificationBytesV2Min) {
        throw new QuorumCodecError(`notification config length ${configLength} does not match the ${length - notificationBytesV2Min} bytes left`);
      }
    }
  }
  return { state, leader, zxid, electionEpoch, peerEpoch };
}

function noneOr(value: bigint, field: string): number {
  return value === apacheNone ? -1 : safeNumber("notification", field, value);
}

// ------------------------------------------------------------------ election connection handshake

/**
 * Apache QuorumCnxManager's protocol version for the first message on an election connection (PROTOCOL_VERSION_V1,
 * -65536): "I am sid N, reachable at this address".
 */
const electionProtocolVersion = -65536n;

/** The first frame on an election connection: who is connecting (QuorumCnxManager.InitialMessage). */
export interface ElectionHello {
  readonly sid: number;
  /** "host:electionPort" of the sender, for logs (Apache uses it to connect back). */
  readonly address: string;
}

/** Apache writes these fields raw before the first length-prefixed message; zkbook frames them like the rest. */
export function encodeElectionHello(hello: ElectionHello): Buffer {
  const w = new JuteWriter(32 + hello.address.length);
  w.writeLong(electionProtocolVersion).writeLong(BigInt(hello.sid)).writeString(hello.address);
  return w.view();
}

export function decodeElectionHello(bytes: Buffer): ElectionHello {
  const r = new JuteReader(bytes);
  try {
    const version = r.readLong();
    if (version !== electionProtocolVersion) throw new QuorumCodecError(`election hello with protocol version ${version}, expected ${electionProtocolVersion}`);
    const sid = safeNumber("election hello", "sid", r.readLong());
    const address = r.readString() ?? "";
    if (r.remaining !== 0) throw new QuorumCodecError(`election hello: ${r.remaining} bytes after the address`);
    return { sid, address };
  } catch (error) {
    if (error instanceof JuteDecodeError) throw new QuorumCodecError(`bad election hello of ${bytes.length} bytes: ${error.message}`);
    throw error;
  }
}
