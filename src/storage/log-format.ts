/**
 * The transaction log file format (Apache FileTxnLog), and the rule that decides where a log ends.
 *
 *   FileHeader{int magic "ZKLG", int version 2, long dbid 0}
 *   entry*:  long crc (Adler-32 of the body), int length, body (txn-codec.ts), byte 0x42 ('B')
 *   zeros:   the preallocated rest of the file (FilePadding)
 *
 * Where the log ends (book chapter 10, notes §10: preallocation is filled with \0, so the end is recognisable):
 * - a zero length, the end of the file, or a half-written entry (it runs past the end of the file, or its 0x42 is
 *   missing) ends the log *cleanly* — but only if nothing but zeros follows. That is the torn tail a crash in the
 *   middle of a write leaves: the entry was never fsynced, so it was never acknowledged to anyone.
 * - a CRC mismatch, an impossible length, or non-zero bytes after what looked like the end is *corruption*: data
 *   that was once written whole is damaged. Apache refuses to start on a CRC mismatch; so do we, and we are
 *   stricter where Apache would silently stop reading (a lost 'B' or a zeroed length with data after it), so
 *   nothing acknowledged is ever dropped without saying so.
 *
 * Everything here is pure except that scanning reads through a `ByteSource`, so the same rule serves files on
 * disk and the in-memory log.
 */
import { adler32 } from "./adler32.ts";
import {
  fileFormatVersion,
  fileHeaderBytes,
  logEntryBytesMax,
  logEntryEndByte,
  logEntryOverheadBytes,
  logReadChunkBytes,
  txnLogDbId,
  txnLogMagic,
} from "./limits.ts";

export interface FileHeader {
  readonly magic: number;
  readonly version: number;
  readonly dbid: bigint;
}

export function encodeFileHeader(header: FileHeader = { magic: txnLogMagic, version: fileFormatVersion, dbid: txnLogDbId }): Buffer {
  const bytes = Buffer.alloc(fileHeaderBytes);
  bytes.writeInt32BE(header.magic, 0);
  bytes.writeInt32BE(header.version, 4);
  bytes.writeBigInt64BE(header.dbid, 8);
  return bytes;
}

export function decodeFileHeader(bytes: Buffer, offset = 0): FileHeader {
  return { magic: bytes.readInt32BE(offset), version: bytes.readInt32BE(offset + 4), dbid: bytes.readBigInt64BE(offset + 8) };
}

/** Frames an entry body: crc, length, body, 0x42 (FileTxnLog.append + Util.writeTxnBytes). */
export function encodeLogEntry(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(logEntryOverheadBytes + body.length);
  out.writeBigInt64BE(BigInt(adler32(body)), 0);
  out.writeInt32BE(body.length, 8);
  out.set(body, 12);
  out[12 + body.length] = logEntryEndByte;
  return out;
}

/** Random access to the bytes of one log file (a file handle, or a Buffer for the in-memory log). */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Up to `length` bytes at `position` (fewer only at the end). */
  read(position: number, length: number): Promise<Buffer>;
}

export function bufferSource(name: string, bytes: Buffer): ByteSource {
  return { name, size: bytes.length, read: async (position, length) => bytes.subarray(position, position + length) };
}

/** One entry as found in the file: where it starts and its body (not yet decoded). */
export interface ScannedEntry {
  readonly offset: number;
  readonly body: Buffer;
}

/** How a scan of one file ended. */
export type ScanEnd =
  /** The log ends at `offset`: end of file, or preallocated zeros from here on. */
  | { readonly kind: "clean"; readonly offset: number }
  /** A half-written last entry starts at `offset`; only zeros follow it. */
  | { readonly kind: "torn"; readonly offset: number; readonly reason: string }
  /** Damage at `offset`: the log cannot be trusted from here on. */
  | { readonly kind: "corrupt"; readonly offset: number; readonly reason: string };

/** What one position of a log holds, judged from the bytes available. */
type RecordAt =
  | { readonly kind: "entry"; readonly body: Buffer; readonly next: number }
  | { readonly kind: "needMore"; readonly bytes: number }
  /** Looks like the end; it is only if every byte from `zerosFrom` to the end of the file is zero. */
  | { readonly kind: "end"; readonly torn: boolean; readonly zerosFrom: number; readonly reason: string }
  | { readonly kind: "corrupt"; readonly reason: string };

/**
 * Judges the entry at `offset` of `buf` (whose first byte is at file position `base`). `atEof` says that `buf`
 * reaches the end of the file, so "not enough bytes" means a short file rather than "read more".
 */
function recordAt(buf: Buffer, offset: number, base: number, atEof: boolean, entryBytesMax: number): RecordAt {
  // lab 10.4: where the log ends: torn tails end it, a CRC mismatch is corruption
  //   An entry is crc (long), length (int), body, 0x42. Judge the entry at `offset` (file position base + offset):
  //   - no bytes left at the end of the file: the end ("end of file"); fewer than 12 header bytes: read more, or
  //     at the end of the file an end that is torn unless those bytes are all zeros (zerosFrom: the end of buf);
  //   - length 0: the end (preallocated zeros when crc is 0 too, else torn), zerosFrom right after the 12 bytes;
  //   - length < 0 or > entryBytesMax: corrupt; a body running past the buffer: read more, or torn at the end of
  //     the file; a missing 0x42: torn, zerosFrom after the entry;
  //   - the body's adler32 differs from crc: corrupt (it was written whole once, so this is damage);
  //   - otherwise an entry; `next` is the offset just after its 0x42.
  const available = buf.length - offset;
  const position = base + offset;
  if (available === 0 && atEof) return { kind: "end", torn: false, zerosFrom: position, reason: "end of file" };
  if (available < 12) {
    if (!atEof) return { kind: "needMore", bytes: 12 };
    // The crc or length itself was cut off by the end of the file.
    const zeros = buf.subarray(offset).every((b) => b === 0);
    return { kind: "end", torn: !zeros, zerosFrom: base + buf.length, reason: `only ${available} bytes left for an entry header` };
  }
  const crc = buf.readBigInt64BE(offset);
  const length = buf.readInt32BE(offset + 8);
  if (length === 0) {
    // Apache: "Since we preallocate, we define EOF to be an empty transaction".
    return crc === 0n
      ? { kind: "end", torn: false, zerosFrom: position + 12, reason: "preallocated zeros" }
      : { kind: "end", torn: true, zerosFrom: position + 12, reason: "an entry whose length was never written" };
  }
  if (length < 0 || length > entryBytesMax) {
    return { kind: "corrupt", reason: `impossible entry length ${length}` };
  }
  const total = logEntryOverheadBytes + length;
  if (available < total) {
    if (!atEof) return { kind: "needMore", bytes: total };
    return { kind: "end", torn: true, zerosFrom: base + buf.length, reason: `an entry of ${length} bytes cut off by the end of the file` };
  }
  const body = buf.subarray(offset + 12, offset + 12 + length);
  if (buf[offset + 12 + length] !== logEntryEndByte) {
    // Util.readTxnBytes: "Last transaction was partial."
    return { kind: "end", torn: true, zerosFrom: position + total, reason: "a half-written entry (its 0x42 end byte is missing)" };
  }
  const actual = adler32(body);
  if (BigInt(actual) !== crc) {
    return { kind: "corrupt", reason: `CRC mismatch: entry says 0x${crc.toString(16)}, its ${length} bytes sum to 0x${actual.toString(16)}` };
  }
  return { kind: "entry", body, next: offset + total };
  // end lab 10.4
}

/** The offset of the first non-zero byte in `[from, source.size)`, or -1. */
export async function firstNonZero(source: ByteSource, from: number): Promise<number> {
  let position = from;
  const zeros = Buffer.alloc(logReadChunkBytes);
  while (position < source.size) {
    const chunk = await source.read(position, Math.min(logReadChunkBytes, source.size - position));
    if (chunk.length === 0) break;
    if (!chunk.equals(zeros.subarray(0, chunk.length))) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return position + i;
    }
    position += chunk.length;
  }
  return -1;
}

export interface ScanOptions {
  /** Entries are yielded in batches of about this many bytes of file. */
  readonly chunkBytes?: number;
  readonly entryBytesMax?: number;
}

/**
 * Reads one log file: checks the header, yields the entries in batches, and returns how the log ended (the
 * torn-tail rule above). Never throws for bad content; corruption is a `ScanEnd`.
 */
export async function* scanLogFile(source: ByteSource, options: ScanOptions = {}): AsyncGenerator<ScannedEntry[], ScanEnd> {
  const chunkBytes = options.chunkBytes ?? logReadChunkBytes;
  const entryBytesMax = options.entryBytesMax ?? logEntryBytesMax;
  if (source.size < fileHeaderBytes) {
    // Created, but the header never made it to disk (Apache deletes such an empty tail log).
    const head = await source.read(0, source.size);
    if (head.every((b) => b === 0)) return { kind: "torn", offset: 0, reason: `a ${source.size}-byte file without its header` };
    return { kind: "corrupt", offset: 0, reason: `a ${source.size}-byte file cannot hold the ${fileHeaderBytes}-byte log header` };
  }
  const header = decodeFileHeader(await source.read(0, fileHeaderBytes));
  if (header.magic !== txnLogMagic) {
    if (header.magic === 0 && (await firstNonZero(source, 0)) === -1) return { kind: "torn", offset: 0, reason: "a preallocated file without its header" };
    return { kind: "corrupt", offset: 0, reason: `invalid magic number 0x${(header.magic >>> 0).toString(16)}, not "ZKLG": not a transaction log` };
  }

  let base = fileHeaderBytes;
  let buf = await source.read(base, Math.min(chunkBytes, source.size - base));
  let offset = 0;
  for (;;) {
    const batch: ScannedEntry[] = [];
    let verdict: RecordAt;
    for (;;) {
      verdict = recordAt(buf, offset, base, base + buf.length >= source.size, entryBytesMax);
      if (verdict.kind !== "entry") break;
      batch.push({ offset: base + offset, body: verdict.body });
      offset = verdict.next;
    }
    if (batch.length > 0) yield batch;
    const position = base + offset;
    switch (verdict.kind) {
      case "needMore": {
        // Keep what is left of this chunk and read on; an entry longer than a chunk gets a bigger read.
        const rest = buf.subarray(offset);
        const more = await source.read(base + buf.length, Math.max(chunkBytes, verdict.bytes - rest.length));
        if (more.length === 0) throw new Error(`${source.name}: the file shrank while it was being read`);
        buf = Buffer.concat([rest, more]);
        base = position;
        offset = 0;
        continue;
      }
      case "corrupt":
        return { kind: "corrupt", offset: position, reason: verdict.reason };
      case "end": {
        const dirty = await firstNonZero(source, verdict.zerosFrom);
        if (dirty !== -1) {
          return {
            kind: "corrupt",
            offset: position,
            reason: `the log seems to end here (${verdict.reason}), but non-zero data follows at offset ${dirty}`,
          };
        }
        return verdict.torn ? { kind: "torn", offset: position, reason: verdict.reason } : { kind: "clean", offset: position };
      }
    }
  }
}
