// The fast paths of the jute writer and of the compiled records must give exactly the bytes of the plain Buffer
// methods (BinaryOutputArchive: big-endian int and long, a long wrapped to 64 bits) for any value.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GetDataResponse, JuteReader, JuteWriter, ReplyHeader, Stat } from "../../src/proto/index.ts";

const seed = Number(process.env.SEED ?? 42);

describe("JuteWriter ints and longs", () => {
  it("writes any int as Buffer.writeInt32BE does", () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (value) => {
        const expected = Buffer.alloc(4);
        expected.writeInt32BE(value);
        expect(Buffer.from(new JuteWriter().writeInt(value).view())).toEqual(expected);
      }),
      { seed },
    );
  });

  it("refuses an int outside 32 bits, as Buffer.writeInt32BE does", () => {
    expect(() => new JuteWriter().writeInt(0x80000000)).toThrow(RangeError);
    expect(() => new JuteWriter().writeInt(-0x80000001)).toThrow(RangeError);
  });

  it("writes any long, wrapped to 64 bits, as asIntN + Buffer.writeBigInt64BE do", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 64n), max: 1n << 65n }), (value) => {
        const expected = Buffer.alloc(8);
        expected.writeBigInt64BE(BigInt.asIntN(64, value));
        expect(Buffer.from(new JuteWriter().writeLong(value).view())).toEqual(expected);
      }),
      { seed },
    );
  });

  it("grows past its first buffer without losing bytes", () => {
    const w = new JuteWriter(8);
    for (let i = 0; i < 100; i++) w.writeInt(i).writeLong(BigInt(-i));
    const r = new JuteReader(Buffer.from(w.view()));
    for (let i = 0; i < 100; i++) {
      expect(r.readInt()).toBe(i);
      expect(r.readLong()).toBe(BigInt(-i));
    }
  });
});

describe("compiled records", () => {
  const long = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  const int = fc.integer({ min: -0x80000000, max: 0x7fffffff });
  const stat = fc.record({
    czxid: long, mzxid: long, ctime: long, mtime: long, version: int, cversion: int, aversion: int,
    ephemeralOwner: long, dataLength: int, numChildren: int, pzxid: long,
  });

  it("write a reply header, data and Stat field by field in zookeeper.jute order, and read them back", () => {
    fc.assert(
      fc.property(int, long, fc.option(fc.uint8Array({ maxLength: 300 })), stat, (xid, zxid, bytes, s) => {
        const data = bytes === null ? null : Buffer.from(bytes);
        const w = new JuteWriter();
        ReplyHeader.write(w, { xid, zxid, err: 0 });
        GetDataResponse.write(w, { data, stat: s });
        // The same bytes by hand.
        const parts: Buffer[] = [];
        const i32 = (v: number) => parts.push(Buffer.from([v >>> 24, v >>> 16, v >>> 8, v].map((b) => b & 0xff)));
        const i64 = (v: bigint) => {
          const b = Buffer.alloc(8);
          b.writeBigInt64BE(v);
          parts.push(b);
        };
        i32(xid);
        i64(zxid);
        i32(0);
        if (data === null) i32(-1);
        else {
          i32(data.length);
          parts.push(data);
        }
        i64(s.czxid); i64(s.mzxid); i64(s.ctime); i64(s.mtime);
        i32(s.version); i32(s.cversion); i32(s.aversion);
        i64(s.ephemeralOwner);
        i32(s.dataLength); i32(s.numChildren);
        i64(s.pzxid);
        expect(Buffer.from(w.view())).toEqual(Buffer.concat(parts));
        const r = new JuteReader(Buffer.from(w.view()));
        expect(ReplyHeader.read(r)).toEqual({ xid, zxid, err: 0 });
        expect(GetDataResponse.read(r)).toEqual({ data, stat: s });
        expect(r.remaining).toBe(0);
      }),
      { seed },
    );
  });

  it("read fields into an object with the declared keys, in the declared order", () => {
    const bytes = Stat.encode({ czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7, ephemeralOwner: 8n, dataLength: 9, numChildren: 10, pzxid: 11n });
    expect(Object.keys(Stat.decode(bytes))).toEqual(["czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid"]);
  });
});
