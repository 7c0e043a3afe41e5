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
  /** How much of `pending[0]` was already consumed: frames are cut out of a chunk without re-slicing it. */
  private headOffset = 0;
  /** Bytes in `pending` not yet consumed. */
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
    // lab 7.4: cut frames out of the byte stream, refusing an oversize length before its body arrives
    //   `this.pending` holds the chunks received so far (the first one starting at this.headOffset), and
    //   this.pendingBytes counts their bytes. While at least 4 bytes are buffered: peek the length
    //   (this.peekLength()). If it is negative or above this.maxFrameBytes, mark the decoder failed, drop what is
    //   buffered and return an "oversize" event — without waiting for the body. If the whole frame is buffered,
    //   cut out its body as a "frame" event and consume it; otherwise wait for more bytes. A frame may span chunks.
    const events: FrameEvent[] = [];
    while (this.pendingBytes >= lengthPrefixBytes) {
      const head = this.peekLength();
      if (head < 0 || head > this.maxFrameBytes) {
        this.failed = true;
        this.pending = [];
        this.headOffset = 0;
        this.pendingBytes = 0;
        events.push({ kind: "oversize", length: head });
        return events;
      }
      const frameBytes = lengthPrefixBytes + head;
      if (this.pendingBytes < frameBytes) break;
      const first = this.pending[0]!;
      const start = this.headOffset;
      if (first.length - start >= frameBytes) {
        // Fast path: the whole frame lies in the first chunk (pipelined requests: many frames per chunk).
        events.push({ kind: "frame", body: first.subarray(start + lengthPrefixBytes, start + frameBytes) });
        this.pendingBytes -= frameBytes;
        if (first.length - start === frameBytes) {
          this.pending.shift();
          this.headOffset = 0;
        } else {
          this.headOffset = start + frameBytes;
        }
      } else {
        // The frame spans chunks: join what is buffered once, cut the frame out, keep the rest.
        const all = Buffer.concat(this.pending).subarray(start);
        events.push({ kind: "frame", body: all.subarray(lengthPrefixBytes, frameBytes) });
        const rest = all.subarray(frameBytes);
        this.pending = rest.length > 0 ? [rest] : [];
        this.headOffset = 0;
        this.pendingBytes = rest.length;
      }
    }
    return events;
    // end lab 7.4
  }

  /**
   * The first 4 bytes as an int, without consuming them. The server uses this to spot a four-letter word
   * (`ruok` read as an int) on a fresh connection.
   */
  peekLength(): number {
    const first = this.pending[0]!;
    if (first.length - this.headOffset >= lengthPrefixBytes) return first.readInt32BE(this.headOffset);
    return Buffer.concat(this.pending).readInt32BE(this.headOffset);
  }
}
