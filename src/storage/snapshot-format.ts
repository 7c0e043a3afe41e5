/**
 * The snapshot file format (Apache FileSnap, SerializeUtils.serializeSnapshot, DataTree.serialize,
 * ReferenceCountedACLCache, SnapStream), as ZooKeeper 3.8.0 writes it by default (no compression):
 *
 *   FileHeader{int magic "ZKSN", int version 2, long dbid -1}
 *   int sessionCount, then per session: long id, int timeout
 *   int aclCount, then per ACL list: long index, vector<ACL>          (index -1, never listed, is OPEN_ACL_UNSAFE)
 *   per node, parents first: ustring path ("" for the root), DataNode{buffer data, long aclIndex, StatPersisted}
 *   ustring "/"                                                        (end of nodes)
 *   long adler32(everything above), ustring "/"                        (the seal)
 *   ZxidDigest{long zxid, int version 2, long digest}                  (zookeeper.digest.enabled, 3.6+)
 *   long adler32(everything above), ustring "/"                        (a second seal over the digest)
 *
 * Readers tell a complete snapshot by its last 5 bytes (int 1, '/'), then check the seals. Older snapshots end
 * after the first seal. Pure: bytes in, bytes out.
 */
import { JuteDecodeError, JuteReader, JuteWriter } from "../proto/jute.ts";
import { ACL as ACLRecord, StatPersisted as StatPersistedRecord, type ACL, type StatPersisted } from "../proto/records.ts";
import { openAclUnsafe } from "../tree/acl.ts";
import type { SnapshotNode } from "../tree/data-tree.ts";
import { adler32, adler32Combine, adler32InThreadPool } from "./adler32.ts";
import { digestVersion, fileFormatVersion, snapshotBytesMin, snapshotDbId, snapshotMagic } from "./limits.ts";

export interface SessionEntry {
  readonly id: bigint;
  readonly timeoutMs: number;
}

/** The zxid of the last txn applied when the snapshot finished, and the tree's digest then (DataTree.ZxidDigest). */
export interface ZxidDigest {
  readonly zxid: bigint;
  readonly version: number;
  readonly digest: bigint;
}

export interface DecodedSnapshot {
  readonly dbid: bigint;
  readonly sessions: readonly SessionEntry[];
  /** The ACL table: index → list. */
  readonly acls: ReadonlyMap<bigint, readonly ACL[]>;
  readonly nodes: readonly (SnapshotNode & { readonly aclIndex: bigint })[];
  /** Null in a snapshot written without digests, or when Apache had processed no txn yet (zxid 0). */
  readonly digest: ZxidDigest | null;
}

export class SnapshotFormatError extends Error {
  override readonly name = "SnapshotFormatError";
}

const endOfNodes = "/";
/** The ACL index that means OPEN_ACL_UNSAFE without a table entry (ReferenceCountedACLCache.convertLong). */
const openAclIndex = -1n;
const chunkBytesTarget = 1024 * 1024;
/** The first chunk's writer starts small (most trees are small) and grows as needed. */
const firstChunkWriterBytes = 64 * 1024;
/**
 * A tree that filled one chunk fills more: the next writers are allocated big enough for a chunk plus the node
 * that crosses the target, so they need not grow (and copy) on the way.
 */
const chunkWriterBytes = chunkBytesTarget + 64 * 1024;

interface Chunk {
  readonly bytes: Buffer;
  /** Null until a checksum running in the thread pool is back. */
  adler: number | null;
}

export interface SnapshotEncoderOptions {
  /**
   * Checksum each full chunk in libuv's thread pool instead of on the event loop (a fuzzy snapshot, which must
   * leave the event loop to clients); await `checksummed()` before `finish`.
   */
  readonly checksumInThreadPool?: boolean;
}

/**
 * Builds a snapshot piece by piece, so that a fuzzy snapshot can serialize a few thousand nodes per event-loop
 * turn. Nodes are serialized as they are added; the ACL table, which Apache writes *before* the nodes, is
 * collected from them and put in front at the end — so every index a node uses is in the table, even for nodes
 * created while the snapshot ran.
 */
export class SnapshotEncoder {
  private readonly aclIndexByKey = new Map<string, bigint>();
  private readonly aclIndexByList = new Map<readonly ACL[], bigint>();
  private readonly aclTable: Array<[bigint, readonly ACL[]]> = [];
  private readonly chunks: Chunk[] = [];
  private writer = new JuteWriter(firstChunkWriterBytes);
  nodeCount = 0;

  private readonly checksums: Array<Promise<void>> = [];

  constructor(
    private readonly sessions: readonly SessionEntry[],
    private readonly options: SnapshotEncoderOptions = {},
  ) {}

  addNode(path: string, data: Buffer | null, acl: readonly ACL[], stat: StatPersisted): void {
    const w = this.writer;
    w.writeString(path === "/" ? "" : path);
    w.writeBuffer(data);
    w.writeLong(this.aclIndex(acl));
    StatPersistedRecord.write(w, stat);
    this.nodeCount++;
    if (w.length >= chunkBytesTarget) this.cutChunk();
  }

  private lastAcl: readonly ACL[] | null = null;
  private lastAclIndex = 0n;

  private aclIndex(acl: readonly ACL[]): bigint {
    // The initial nodes hold the shared OPEN_ACL_UNSAFE list, which Apache stores as -1.
    if (acl === openAclUnsafe) return openAclIndex;
    // Neighbours mostly have equal lists (siblings created alike): compare before building a key.
    if (this.lastAcl !== null && (acl === this.lastAcl || sameAcl(acl, this.lastAcl))) return this.lastAclIndex;
    const index = this.lookupAcl(acl);
    this.lastAcl = acl;
    this.lastAclIndex = index;
    return index;
  }

  private lookupAcl(acl: readonly ACL[]): bigint {
    const known = this.aclIndexByList.get(acl);
    if (known !== undefined) return known;
    const key = acl.map((a) => `${a.perms},${a.id.scheme},${a.id.id}`).join(";");
    let index = this.aclIndexByKey.get(key);
    if (index === undefined) {
      index = BigInt(this.aclTable.length + 1);
      this.aclIndexByKey.set(key, index);
      this.aclTable.push([index, acl]);
    }
    this.aclIndexByList.set(acl, index);
    return index;
  }

  private cutChunk(inThreadPool = this.options.checksumInThreadPool === true): void {
    if (this.writer.length === 0) return;
    // The writer is dropped, so its bytes can be the chunk as they are: no copy.
    const bytes = this.writer.view();
    const chunk: Chunk = { bytes, adler: null };
    this.chunks.push(chunk);
    if (inThreadPool) {
      const checksum = adler32InThreadPool(bytes).then((adler) => void (chunk.adler = adler));
      checksum.catch(() => {}); // a failure is reported by checksummed(), not as an unhandled rejection
      this.checksums.push(checksum);
    } else {
      chunk.adler = adler32(bytes);
    }
    this.writer = new JuteWriter(chunkWriterBytes);
  }

  /** Resolves once the checksum of every chunk cut so far is known. */
  async checksummed(): Promise<void> {
    await Promise.all(this.checksums);
  }

  /** The whole file, in order, as a list of buffers. With checksums in the thread pool: after `checksummed()`. */
  finish(digest: ZxidDigest | null): Buffer[] {
    // The last, partial chunk is checksummed here and now (finish is synchronous).
    this.cutChunk(false);
    const head = new JuteWriter(4096);
    head.writeInt(snapshotMagic).writeInt(fileFormatVersion).writeLong(snapshotDbId);
    head.writeInt(this.sessions.length);
    for (const s of this.sessions) head.writeLong(s.id).writeInt(s.timeoutMs);
    head.writeInt(this.aclTable.length);
    for (const [index, list] of this.aclTable) {
      head.writeLong(index);
      head.writeVectorLength(list.length);
      for (const entry of list) ACLRecord.write(head, { perms: entry.perms, id: entry.id });
    }
    const prefix = Buffer.from(head.view());

    let sum = adler32(prefix);
    for (const chunk of this.chunks) {
      if (chunk.adler === null) throw new Error("SnapshotEncoder.finish before checksummed() resolved");
      sum = adler32Combine(sum, chunk.adler, chunk.bytes.length);
    }

    const tail = new JuteWriter(128);
    tail.writeString(endOfNodes);
    // SnapStream.sealStream: the checksum of everything written so far (earlier seals included), then "/".
    let summed = 0;
    const seal = () => {
      sum = adler32(tail.view(), summed, tail.length, sum);
      summed = tail.length;
      tail.writeLong(BigInt(sum)).writeString("/");
    };
    seal();
    if (digest !== null) {
      tail.writeLong(digest.zxid).writeInt(digest.version).writeLong(digest.digest);
      seal();
    }
    return [prefix, ...this.chunks.map((c) => c.bytes), Buffer.from(tail.view())];
  }
}

function sameAcl(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

/** Serializes a whole snapshot at once (the non-fuzzy case: startup, tests). */
export function encodeSnapshot(
  sessions: readonly SessionEntry[],
  nodes: Iterable<SnapshotNode>,
  digest: ZxidDigest | null,
): Buffer {
  const encoder = new SnapshotEncoder(sessions);
  for (const n of nodes) encoder.addNode(n.path, n.data, n.acl, n.stat);
  return Buffer.concat(encoder.finish(digest));
}

/** SnapStream.isValidCheckedStream: long enough, and ends with the int 1 and '/' of a seal. */
export function hasSnapshotTrailer(bytes: Buffer): boolean {
  if (bytes.length < snapshotBytesMin) return false;
  return bytes.readInt32BE(bytes.length - 5) === 1 && bytes[bytes.length - 1] === 0x2f;
}

/**
 * Reads a snapshot and checks its seals (FileSnap.deserialize). Throws SnapshotFormatError for anything that
 * is not a complete, intact snapshot.
 */
export function decodeSnapshot(bytes: Buffer): DecodedSnapshot {
  if (!hasSnapshotTrailer(bytes)) throw new SnapshotFormatError(`incomplete: no "/" trailer at the end (${bytes.length} bytes)`);
  const r = new JuteReader(bytes);
  try {
    const magic = r.readInt();
    if (magic !== snapshotMagic) throw new SnapshotFormatError(`mismatching magic headers 0x${(magic >>> 0).toString(16)}, not "ZKSN"`);
    r.readInt(); // version
    const dbid = r.readLong();

    const sessions: SessionEntry[] = [];
    for (let count = r.readInt(); count > 0; count--) sessions.push({ id: r.readLong(), timeoutMs: r.readInt() });

    const acls = new Map<bigint, readonly ACL[]>();
    for (let count = r.readInt(); count > 0; count--) {
      const index = r.readLong();
      const length = r.readVectorLength();
      if (length === null) throw new SnapshotFormatError("Incorrent format of InputArchive when deserialize DataTree - missing acls");
      const list: ACL[] = [];
      for (let i = 0; i < length; i++) list.push(ACLRecord.read(r));
      acls.set(index, list);
    }

    const nodes: Array<SnapshotNode & { aclIndex: bigint }> = [];
    for (;;) {
      const rawPath = r.readString();
      if (rawPath === endOfNodes) break;
      if (rawPath === null) throw new SnapshotFormatError(`null node path at offset ${r.position - 4}`);
      const data = r.readBuffer();
      const aclIndex = r.readLong();
      const stat = StatPersistedRecord.read(r);
      let acl: readonly ACL[] | undefined = aclIndex === openAclIndex ? openAclUnsafe : acls.get(aclIndex);
      if (acl === undefined) throw new SnapshotFormatError(`node ${rawPath || "/"} uses ACL ${aclIndex}, which is not in the ACL table`);
      nodes.push({ path: rawPath === "" ? "/" : rawPath, data, acl, stat, aclIndex });
    }

    checkSeal(bytes, r, "snapshot");
    let digest: ZxidDigest | null = null;
    if (r.remaining > 0) {
      const zxid = r.readLong();
      const version = r.readInt();
      if (version < digestVersion) {
        // Digest version 1 stored the digest as a hex string.
        const text = r.readString();
        digest = { zxid, version, digest: text === null ? 0n : BigInt.asIntN(64, BigInt(`0x${text}`)) };
      } else {
        digest = { zxid, version, digest: r.readLong() };
      }
      checkSeal(bytes, r, "digest");
      if (digest.zxid <= 0n) digest = null;
    }
    if (r.remaining !== 0) throw new SnapshotFormatError(`${r.remaining} unexpected bytes after the seal`);
    return { dbid, sessions, acls, nodes, digest };
  } catch (error) {
    if (error instanceof JuteDecodeError) throw new SnapshotFormatError(error.message);
    throw error;
  }
}

function checkSeal(bytes: Buffer, r: JuteReader, what: string): void {
  const expected = adler32(bytes, 0, r.position);
  const sealAt = r.position;
  const value = r.readLong();
  r.readString();
  if (value !== BigInt(expected)) {
    throw new SnapshotFormatError(`CRC corruption: the ${what} seal at offset ${sealAt} says 0x${value.toString(16)}, the bytes sum to 0x${expected.toString(16)}`);
  }
}
