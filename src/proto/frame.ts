/**
 * The incremental frame decoder: every packet in both directions is a 4-byte big-endian length followed by that
 * many bytes. TCP delivers a byte stream, not packets, so one `push` may hold half a frame, or three and a half.
 *
 * A length below zero or above `maxFrameBytes` (Apache: `jute.maxbuffer`, checked in `NIOServerCnxn.readLength`)
 * is reported before any of the body is buffered, so a lying peer cannot make us allocate its claimed size.
 */

export type FrameEvent =
  | { readonly kind: "frame"; readonly body: Buffer }
  | { readonly kind: "oversize"; readonly length: number };

const lengthPrefixBytes = 4;

export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Feeds received bytes; returns the frames completed by them, in order. After an `oversize` event the decoder
   * is dead (the connection must be closed) and returns nothing more.
   */
  push(chunk: Buffer): FrameEvent[] {
    if (this.failed) return [];
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const events: FrameEvent[] = [];
    while (this.pendingBytes >= lengthPrefixBytes) {
      const head = this.peekLength();
      if (head < 0 || head > this.maxFrameBytes) {
        this.failed = true;
        this.pending = [];
        this.pendingBytes = 0;
        events.push({ kind: "oversize", length: head });
        return events;
      }
      if (this.pendingBytes < lengthPrefixBytes + head) break;
      this.consume(lengthPrefixBytes);
      events.push({ kind: "frame", body: this.consume(head) });
    }
    return events;
  }

  /**
   * The first 4 bytes as an int, without consuming them. The server uses this to spot a four-letter word
   * (`ruok` read as an int) on a fresh connection.
   */
  peekLength(): number {
    const first = this.pending[0]!;
    if (first.length >= lengthPrefixBytes) return first.readInt32BE(0);
    return this.peekBytes(lengthPrefixBytes).readInt32BE(0);
  }

  private peekBytes(count: number): Buffer {
    return Buffer.concat(this.pending, this.pendingBytes).subarray(0, count);
  }

  private consume(count: number): Buffer {
    if (count === 0) return Buffer.alloc(0);
    const first = this.pending[0]!;
    if (first.length >= count) {
      // Fast path: the bytes lie in one chunk.
      const taken = first.subarray(0, count);
      if (first.length === count) this.pending.shift();
      else this.pending[0] = first.subarray(count);
      this.pendingBytes -= count;
      return taken;
    }
    const all = Buffer.concat(this.pending, this.pendingBytes);
    const taken = all.subarray(0, count);
    const rest = all.subarray(count);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return taken;
  }
}
