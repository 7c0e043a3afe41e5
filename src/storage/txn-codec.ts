/**
 * A log entry's body, as Apache 3.8 writes it (Util.marshallTxnEntry) and reads it (SerializeUtils.deserializeTxn):
 *
 *   TxnHeader{long clientId, int cxid, long zxid, long time, int type}  txn record  [TxnDigest{int version, long treeDigest}]
 *
 * The record is chosen by the header's opcode: create 1 / create2 15 → CreateTxn, createTTL 21 → CreateTTLTxn,
 * createContainer 19 → CreateContainerTxn, delete 2 / deleteContainer 20 → DeleteTxn, setData 5 (and reconfig 16)
 * → SetDataTxn, setACL 7 → SetACLTxn, multi 14 → MultiTxn of Txn{type, bytes}, createSession -10 →
 * CreateSessionTxn, closeSession -11 → CloseSessionTxn (zookeeper.closeSessionTxn.enabled, true in 3.8; older logs
 * have no record), error -1 → ErrorTxn. The digest follows when zookeeper.digest.enabled (true in 3.8).
 *
 * Pure: bytes in, bytes out. This is the only place where txn opcodes are numbers.
 */
import { bool, buffer, int, long, record, ustring, type RecordOf } from "../proto/codec.ts";
import { JuteDecodeError, JuteReader, JuteWriter } from "../proto/jute.ts";
import {
  ACLList,
  type ACL,
  CheckVersionTxn,
  CloseSessionTxn,
  CreateContainerTxn,
  CreateSessionTxn,
  CreateTTLTxn,
  CreateTxn,
  DeleteTxn,
  ErrorTxn,
  MultiTxn,
  SetACLTxn,
  SetDataTxn,
} from "../proto/records.ts";
import { errorCodes, errorName, opCodes, opName, type ErrorName, type OpName } from "../proto/index.ts";
import { adler32 } from "./adler32.ts";
import { logEntryEndByte } from "./limits.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";

/** org.apache.zookeeper.txn.TxnDigest: the tree's digest after the txn (zookeeper.digest.enabled). */
export const TxnDigestRecord = record("TxnDigest", { version: int, treeDigest: long });
export type TxnDigest = RecordOf<typeof TxnDigestRecord>;

/** The create record of ZooKeeper 3.3 and older, without parentCVersion (SerializeUtils' fallback). */
const CreateTxnV0 = record("CreateTxnV0", { path: ustring, data: buffer, acl: ACLList, ephemeral: bool });

/** One decoded log entry. */
export interface TxnEntry {
  readonly header: TxnHeader;
  readonly txn: Txn;
  readonly digest: TxnDigest | null;
}

/** An entry body that is not a txn Apache 3.8 could have written. */
export class TxnDecodeError extends Error {
  override readonly name = "TxnDecodeError";
}

// ------------------------------------------------------------------ encoding

/** The entry body: header, txn record, and the digest when given. */
export function encodeTxnEntry(header: TxnHeader, txn: Txn, digest: TxnDigest | null): Buffer {
  const w = new JuteWriter(128);
  writeTxnEntry(w, header, txn, digest);
  return Buffer.from(w.view());
}

/**
 * The entry as it goes into a log file — crc, length, body, 0x42 (log-format.ts) — as a Buffer of its own.
 * The log's write path uses `writeFramedTxnEntry` instead, into one buffer per batch.
 */
export function encodeFramedTxnEntry(header: TxnHeader, txn: Txn, digest: TxnDigest | null): Buffer {
  const w = new JuteWriter(160);
  writeFramedTxnEntry(w, header, txn, digest);
  return Buffer.from(w.view());
}

const endByte = Buffer.from([logEntryEndByte]);

/** Where the body starts in a framed entry: after `long crc` and `int length`. */
const frameHeaderBytes = 12;

/**
 * Appends the framed entry to `w` (the write path of every txn): the crc and length are written as placeholders,
 * the body is encoded in place, and then both are patched in — no buffer of its own, no copy. A batch of txns is
 * thus one contiguous run of bytes, ready for a single write.
 */
export function writeFramedTxnEntry(w: JuteWriter, header: TxnHeader, txn: Txn, digest: TxnDigest | null): void {
  const start = w.length;
  w.writeLong(0n).writeInt(0);
  writeTxnEntry(w, header, txn, digest);
  const bodyEnd = w.length;
  w.writeRaw(endByte);
  const bytes = w.view();
  // Util.writeTxnBytes: `long crc` holds the Adler-32 of the body, so its top four bytes are zero.
  bytes.writeUInt32BE(0, start);
  bytes.writeUInt32BE(adler32(bytes, start + frameHeaderBytes, bodyEnd), start + 4);
  bytes.writeInt32BE(bodyEnd - start - frameHeaderBytes, start + 8);
}

function writeTxnEntry(w: JuteWriter, header: TxnHeader, txn: Txn, digest: TxnDigest | null): void {
  // TxnHeader{long clientId, int cxid, long zxid, long time, int type}, field by field (the hot path: no record
  // object per txn).
  w.writeLong(header.sessionId).writeInt(header.cxid).writeLong(header.zxid).writeLong(header.timeMs).writeInt(opCodes[header.type]);
  writeTxnRecord(w, txn);
  // TxnDigest{int version, long treeDigest}
  if (digest !== null) w.writeInt(digest.version).writeLong(digest.treeDigest);
}

/** The record of a txn. The header's opcode does not change it: create and create2 both write CreateTxn. */
function writeTxnRecord(w: JuteWriter, txn: Txn): void {
  switch (txn.kind) {
    case "create":
      // CreateTxn{ustring path, buffer data, vector<ACL> acl, boolean ephemeral, int parentCVersion}, field by field
      w.writeString(txn.path).writeBuffer(txn.data);
      ACLList.write(w, txn.acl as ACL[]);
      w.writeBool(txn.ephemeral).writeInt(txn.parentCVersion);
      return;
    case "createContainer":
      CreateContainerTxn.write(w, { path: txn.path, data: txn.data, acl: txn.acl as ACL[], parentCVersion: txn.parentCVersion });
      return;
    case "createTTL":
      CreateTTLTxn.write(w, { path: txn.path, data: txn.data, acl: txn.acl as ACL[], parentCVersion: txn.parentCVersion, ttl: txn.ttlMs });
      return;
    case "delete":
      DeleteTxn.write(w, { path: txn.path });
      return;
    case "setData":
      // SetDataTxn{ustring path, buffer data, int version}, field by field
      w.writeString(txn.path).writeBuffer(txn.data).writeInt(txn.version);
      return;
    case "setACL":
      SetACLTxn.write(w, { path: txn.path, acl: txn.acl as ACL[], version: txn.version });
      return;
    case "check":
      CheckVersionTxn.write(w, { path: txn.path, version: txn.version });
      return;
    case "createSession":
      CreateSessionTxn.write(w, { timeOut: txn.timeOutMs });
      return;
    case "closeSession":
      CloseSessionTxn.write(w, { paths2Delete: txn.paths2Delete as string[] });
      return;
    case "error":
      ErrorTxn.write(w, { err: errorCodes[txn.err] });
      return;
    case "multi":
      MultiTxn.write(w, {
        txns: txn.txns.map((sub) => {
          const sw = new JuteWriter(64);
          writeTxnRecord(sw, sub);
          return { type: subTxnType(sub), data: Buffer.from(sw.view()) };
        }),
      });
      return;
  }
}

/** The opcode of a txn inside a multi (PrepRequestProcessor: the op's type, or error). */
function subTxnType(txn: Txn): number {
  switch (txn.kind) {
    case "create":
      return opCodes.create;
    case "createContainer":
      return opCodes.createContainer;
    case "createTTL":
      return opCodes.createTTL;
    case "delete":
      return opCodes.delete;
    case "setData":
      return opCodes.setData;
    case "check":
      return opCodes.check;
    case "error":
      return opCodes.error;
    default:
      throw new Error(`a ${txn.kind} txn cannot be inside a multi`);
  }
}

// ------------------------------------------------------------------ decoding

/**
 * Decodes an entry body. Trailing bytes after the txn are the digest (3.6+); an entry without them has none.
 * `maxLengthBytes` bounds every length inside, as jute.maxbuffer does.
 */
export function decodeTxnEntry(bytes: Buffer, maxLengthBytes = bytes.length): TxnEntry {
  const r = new JuteReader(bytes, maxLengthBytes);
  try {
    // TxnHeader{long clientId, int cxid, long zxid, long time, int type}, read field by field (the hot path).
    const sessionId = r.readLong();
    const cxid = r.readInt();
    const zxid = r.readLong();
    const timeMs = r.readLong();
    const code = r.readInt();
    const type = opName(code);
    if (type === undefined) throw new TxnDecodeError(`unknown txn type ${code} (zxid 0x${hex(zxid)})`);
    const header: TxnHeader = { sessionId, cxid, zxid, timeMs, type };
    const txn = readTopLevelTxn(r, type, bytes);
    // SerializeUtils: the digest is read when bytes are left; a short remainder is "no digest".
    const digest = r.remaining >= 12 ? TxnDigestRecord.read(r) : null;
    return { header, txn, digest };
  } catch (error) {
    if (error instanceof JuteDecodeError) throw new TxnDecodeError(error.message);
    throw error;
  }
}

function readTopLevelTxn(r: JuteReader, type: OpName, bytes: Buffer): Txn {
  switch (type) {
    case "createSession":
      return { kind: "createSession", timeOutMs: CreateSessionTxn.read(r).timeOut };
    case "closeSession":
      // Before 3.6 a closeSession had no record at all (SerializeUtils: EOF → null txn).
      if (r.remaining === 0) return { kind: "closeSession", paths2Delete: [] };
      return { kind: "closeSession", paths2Delete: strings(CloseSessionTxn.read(r).paths2Delete) };
    case "create":
    case "create2": {
      const start = r.position;
      try {
        return readCreate(r, bytes);
      } catch (error) {
        // A 3.3 log: CreateTxnV0 has no parentCVersion; -1 makes processTxn compute it.
        if (!(error instanceof JuteDecodeError) || type !== "create") throw error;
        const v0 = CreateTxnV0.read(new JuteReader(bytes.subarray(start)));
        return { kind: "create", path: v0.path ?? "", data: v0.data, acl: v0.acl ?? [], ephemeral: v0.ephemeral, parentCVersion: -1 };
      }
    }
    case "multi": {
      const multi = MultiTxn.read(r);
      return { kind: "multi", txns: (multi.txns ?? []).map((sub) => readSubTxn(sub.type, sub.data ?? Buffer.alloc(0))) };
    }
    default:
      return readTxnRecord(r, type, bytes);
  }
}

function readSubTxn(code: number, data: Buffer): Txn {
  const type = opName(code);
  // DataTree.processTxn accepts only these types inside a multi ("Invalid type of op").
  const allowed: readonly OpName[] = ["create", "createTTL", "createContainer", "delete", "deleteContainer", "setData", "check", "error"];
  if (type === undefined || !allowed.includes(type)) throw new TxnDecodeError(`invalid txn type ${code} inside a multi`);
  const r = new JuteReader(data);
  return type === "create" ? readCreate(r, data) : readTxnRecord(r, type, data);
}

/**
 * ACL lists read from logs, shared: a log holds the same few lists over and over, and a tree rebuilt from it
 * would otherwise keep a copy per node. Keyed by their bytes; bounded.
 */
const aclLists = new Map<string, readonly ACL[]>();
const aclListsMax = 4096;

function readAcl(r: JuteReader, bytes: Buffer): readonly ACL[] {
  const start = r.position;
  const acl = ACLList.read(r) ?? [];
  const key = bytes.toString("latin1", start, r.position);
  const shared = aclLists.get(key);
  if (shared !== undefined) return shared;
  if (aclLists.size >= aclListsMax) aclLists.clear();
  aclLists.set(key, acl);
  return acl;
}

function readCreate(r: JuteReader, bytes: Buffer): Txn {
  const path = r.readString() ?? "";
  const data = r.readBuffer();
  const acl = readAcl(r, bytes);
  return { kind: "create", path, data, acl, ephemeral: r.readBool(), parentCVersion: r.readInt() };
}

function readTxnRecord(r: JuteReader, type: OpName, bytes: Buffer): Txn {
  switch (type) {
    case "createTTL": {
      const path = r.readString() ?? "";
      const data = r.readBuffer();
      const acl = readAcl(r, bytes);
      return { kind: "createTTL", path, data, acl, parentCVersion: r.readInt(), ttlMs: r.readLong() };
    }
    case "createContainer": {
      const path = r.readString() ?? "";
      const data = r.readBuffer();
      const acl = readAcl(r, bytes);
      return { kind: "createContainer", path, data, acl, parentCVersion: r.readInt() };
    }
    case "delete":
    case "deleteContainer":
      return { kind: "delete", path: DeleteTxn.read(r).path ?? "" };
    case "setData":
    case "reconfig": {
      const s = SetDataTxn.read(r);
      return { kind: "setData", path: s.path ?? "", data: s.data, version: s.version };
    }
    case "setACL": {
      const path = r.readString() ?? "";
      const acl = readAcl(r, bytes);
      return { kind: "setACL", path, acl, version: r.readInt() };
    }
    case "check": {
      const c = CheckVersionTxn.read(r);
      return { kind: "check", path: c.path ?? "", version: c.version };
    }
    case "error": {
      const code = ErrorTxn.read(r).err;
      return { kind: "error", err: errorNameOf(code) };
    }
    default:
      throw new TxnDecodeError(`unsupported txn type ${type} (${opCodes[type]})`);
  }
}

function errorNameOf(code: number): ErrorName {
  const name = errorName(code);
  if (name === undefined) throw new TxnDecodeError(`error txn with unknown code ${code}`);
  return name;
}

function strings(list: readonly (string | null)[] | null): string[] {
  return (list ?? []).map((s) => s ?? "");
}

export function hex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}
