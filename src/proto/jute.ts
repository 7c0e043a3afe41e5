/**
 * Jute: ZooKeeper's binary record encoding (Apache `BinaryInputArchive` / `BinaryOutputArchive`).
 *
 * Big-endian throughout. int = 4 bytes, long = 8 bytes (a bigint here: session ids and zxids use all 64 bits),
 * boolean = 1 byte (any non-zero byte reads as true), buffer and ustring = int length + bytes, where length -1
 * means null and 0 means empty. Records carry no tags: a record is just its fields in order.
 *
 * Reader and writer do no I/O: they work on Buffers handed to them (notes §7, the wire protocol).
 */

/** Thrown for bytes that cannot be a jute record: a truncated body, a negative or oversize length. */
export class JuteDecodeError extends Error {
  override readonly name = "JuteDecodeError";
}

const nullLength = -1;

export class JuteReader {
  private offset = 0;

  /** `maxLengthBytes` bounds every buffer/string/vector length so a lying length cannot allocate gigabytes. */
  constructor(
    private readonly bytes: Buffer,
    private readonly maxLengthBytes = bytes.length,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  private need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length) {
      throw new JuteDecodeError(
        `truncated record: need ${count} bytes for ${what} at offset ${this.offset}, only ${this.remaining} left`,
      );
    }
  }

  readInt(): number {
    this.need(4, "int");
    const value = this.bytes.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  readLong(): bigint {
    this.need(8, "long");
    const value = this.bytes.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  readBool(): boolean {
    this.need(1, "boolean");
    // BinaryInputArchive.readBool: any non-zero byte is true.
    return this.bytes[this.offset++] !== 0;
  }

  /** A length prefix: -1 is null; any other negative value, or one beyond the limit, is corrupt input. */
  private readLength(what: string): number | null {
    const length = this.readInt();
    if (length === nullLength) return null;
    if (length < 0 || length > this.maxLengthBytes) {
      throw new JuteDecodeError(`invalid ${what} length ${length} at offset ${this.offset - 4}`);
    }
    return length;
  }

  readBuffer(): Buffer | null {
    // lab 7.2: read a buffer: a length (-1 is null), then that many bytes
    //   Read the length with this.readLength("buffer") (it returns null for -1 and refuses negative or oversize
    //   lengths). Make sure the bytes are all there (this.need), copy them out of this.bytes at this.offset —
    //   a copy, so the record does not keep the whole frame alive — and move this.offset past them.
    const length = this.readLength("buffer");
    if (length === null) return null;
    this.need(length, "buffer body");
    const value = Buffer.from(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
    // end lab 7.2
  }

  readString(): string | null {
    const length = this.readLength("ustring");
    if (length === null) return null;
    this.need(length, "ustring body");
    const value = this.bytes.toString("utf8", this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** Reads a vector's element count (-1 = null). */
  readVectorLength(): number | null {
    return this.readLength("vector");
  }
}

const initialWriterBytes = 256;

/**
 * Longs go through one shared 8-byte DataView: setBigInt64 wraps to 64 bits and writes big-endian natively,
 * where Buffer.writeBigInt64BE (plus the asIntN it needs) costs half a dozen BigInt operations per long —
 * and a Stat alone has six longs. The eight bytes are then copied one by one, which beats a set() call.
 */
const longScratch = new DataView(new ArrayBuffer(8));
const longScratchBytes = new Uint8Array(longScratch.buffer);
const intMin = -0x80000000;
const intMax = 0x7fffffff;

export class JuteWriter {
  private bytes: Buffer;
  private offset = 0;

  constructor(initialBytes = initialWriterBytes) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.offset;
  }

  private reserve(count: number): void {
    if (this.offset + count <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.offset + count) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.bytes.copy(grown, 0, 0, this.offset);
    this.bytes = grown;
  }

  writeInt(value: number): this {
    // Buffer.writeInt32BE's range check, then the four bytes stored directly (twice as fast as the call).
    if (value > intMax || value < intMin) throw new RangeError(`jute int out of range: ${value}`);
    this.reserve(4);
    const b = this.bytes;
    const o = this.offset;
    b[o] = value >>> 24;
    b[o + 1] = value >>> 16;
    b[o + 2] = value >>> 8;
    b[o + 3] = value;
    this.offset = o + 4;
    return this;
  }

  writeLong(value: bigint): this {
    this.reserve(8);
    longScratch.setBigInt64(0, value);
    const s = longScratchBytes;
    const b = this.bytes;
    const o = this.offset;
    b[o] = s[0]!;
    b[o + 1] = s[1]!;
    b[o + 2] = s[2]!;
    b[o + 3] = s[3]!;
    b[o + 4] = s[4]!;
    b[o + 5] = s[5]!;
    b[o + 6] = s[6]!;
    b[o + 7] = s[7]!;
    this.offset = o + 8;
    return this;
  }

  writeBool(value: boolean): this {
    this.reserve(1);
    this.bytes[this.offset++] = value ? 1 : 0;
    return this;
  }

  writeBuffer(value: Uint8Array | null): this {
    if (value === null) return this.writeInt(nullLength);
    this.writeInt(value.length);
    this.reserve(value.length);
    this.bytes.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  writeString(value: string | null): this {
    // lab 7.1: write a ustring: the length of its UTF-8 bytes, then the bytes; null is length -1
    //   A null string is just the int -1 (nullLength). Otherwise write the length in *bytes* (not characters:
    //   "中" is 3 bytes; Buffer.byteLength), make room with this.reserve, write the UTF-8 bytes at this.offset,
    //   and advance this.offset. Return this, so calls chain.
    if (value === null) return this.writeInt(nullLength);
    const length = Buffer.byteLength(value, "utf8");
    this.writeInt(length);
    this.reserve(length);
    this.bytes.write(value, this.offset, length, "utf8");
    this.offset += length;
    return this;
    // end lab 7.1
  }

  writeVectorLength(count: number | null): this {
    return this.writeInt(count === null ? nullLength : count);
  }

  /** Appends raw bytes (an already-encoded record). */
  writeRaw(value: Uint8Array): this {
    this.reserve(value.length);
    this.bytes.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  /**
   * Forgets what was written but keeps the buffer, so one writer can serve record after record without
   * allocating (the transaction log encodes each batch of txns into the same writer).
   */
  reset(): this {
    this.offset = 0;
    return this;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.bytes.subarray(0, this.offset);
  }

  /** The bytes written so far, as a length-prefixed frame ready for the socket. */
  toFrame(): Buffer {
    const frame = Buffer.allocUnsafe(4 + this.offset);
    frame.writeInt32BE(this.offset, 0);
    this.bytes.copy(frame, 4, 0, this.offset);
    return frame;
  }
}
