// Framing: Apache NIOServerCnxn.readLength — 4-byte big-endian length, then the body; a length < 0 or
// > jute.maxbuffer closes the connection before the body is read.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FrameDecoder } from "../../src/proto/index.ts";

function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe("FrameDecoder", () => {
  it("returns the same frames for any split of the byte stream", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 10 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))));
          const decoder = new FrameDecoder(1000);
          const got: Buffer[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const size = cuts[i++ % cuts.length]!;
            for (const e of decoder.push(stream.subarray(at, at + size))) {
              if (e.kind === "frame") got.push(Buffer.from(e.body));
            }
            at += size;
          }
          expect(got.map((b) => b.toString("hex"))).toEqual(bodies.map((b) => Buffer.from(b).toString("hex")));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { seed: Number(process.env.SEED ?? 42) },
    );
  });

  it("reports an oversize length before the body arrives, and then stays dead", () => {
    const decoder = new FrameDecoder(100);
    const head = Buffer.alloc(4);
    head.writeInt32BE(101);
    expect(decoder.push(head)).toEqual([{ kind: "oversize", length: 101 }]);
    expect(decoder.push(frame(Buffer.from("ok")))).toEqual([]);
  });

  it("refuses a negative length", () => {
    const decoder = new FrameDecoder(100);
    expect(decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]))).toEqual([{ kind: "oversize", length: -2 }]);
  });

  it("accepts a frame of exactly the maximum length", () => {
    const decoder = new FrameDecoder(3);
    const events = decoder.push(frame(Buffer.from("abc")));
    expect(events).toHaveLength(1);
    expect(events[0]!.kind).toBe("frame");
  });

  it("peeks a four-letter word as an int without consuming it", () => {
    const decoder = new FrameDecoder(100);
    decoder.push(Buffer.from("ru"));
    decoder.push(Buffer.from("o"));
    expect(decoder.bufferedBytes).toBe(3);
    decoder["pending"].push(Buffer.from("k"));
    decoder["pendingBytes"] += 1;
    expect(decoder.peekLength()).toBe(Buffer.from("ruok").readInt32BE(0));
  });
});
