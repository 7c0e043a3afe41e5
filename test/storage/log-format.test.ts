// The txn log's bytes (Apache FileTxnLog, Util, SerializeUtils; reference §5) and the rule for where a log ends:
// preallocated zeros and half-written last entries end it cleanly, damage stops recovery (book chapter 10).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adler32, adler32Combine } from "../../src/storage/adler32.ts";
import { bufferSource, encodeFileHeader, encodeLogEntry, scanLogFile, type ScanEnd, type ScannedEntry } from "../../src/storage/log-format.ts";
import { decodeTxnEntry, encodeTxnEntry, TxnDecodeError } from "../../src/storage/txn-codec.ts";
import { TxnStream } from "./support/random-txns.ts";

const fixtures = join(import.meta.dirname, "fixtures", "apache-3.8.0", "version-2");

async function scanAll(bytes: Buffer, chunkBytes?: number): Promise<{ entries: ScannedEntry[]; end: ScanEnd }> {
  const entries: ScannedEntry[] = [];
  const scan = scanLogFile(bufferSource("log.test", bytes), { chunkBytes });
  for (;;) {
    const step = await scan.next();
    if (step.done) return { entries, end: step.value };
    entries.push(...step.value);
  }
}

/** A log file: header, entries, then `padding` zero bytes (preallocation). */
function logFile(bodies: readonly Buffer[], padding = 4096): Buffer {
  return Buffer.concat([encodeFileHeader(), ...bodies.map((b) => encodeLogEntry(b)), Buffer.alloc(padding)]);
}

function bodies(count: number, seed = 7): Buffer[] {
  const gen = new TxnStream(seed);
  return Array.from({ length: count }, () => {
    const { header, txn } = gen.next();
    return encodeTxnEntry(header, txn, { version: 2, treeDigest: 123n });
  });
}

describe("Adler-32 (java.util.zip.Adler32)", () => {
  it("matches the published test vectors", () => {
    expect(adler32(Buffer.from(""))).toBe(1);
    expect(adler32(Buffer.from("Wikipedia"))).toBe(0x11e60398);
    expect(adler32(Buffer.alloc(100_000, 0xff))).toBe(adler32(Buffer.alloc(100_000, 0xff), 0, 100_000));
  });

  it("combines two checksums like zlib's adler32_combine", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), fc.uint8Array({ maxLength: 9000 }), (a, b) => {
        const whole = adler32(Buffer.concat([a, b]));
        expect(adler32Combine(adler32(a), adler32(b), b.length)).toBe(whole);
        expect(adler32(b, 0, b.length, adler32(a))).toBe(whole);
      }),
    );
  });
});

describe("txn entries (Util.marshallTxnEntry / SerializeUtils.deserializeTxn)", () => {
  it("round-trips every kind of txn a server logs, with and without a digest", () => {
    fc.assert(
      fc.property(fc.integer(), fc.boolean(), (seed, withDigest) => {
        const gen = new TxnStream(seed);
        for (let i = 0; i < 30; i++) {
          const { header, txn } = gen.next();
          const digest = withDigest ? { version: 2, treeDigest: BigInt(seed) * 7919n } : null;
          const decoded = decodeTxnEntry(encodeTxnEntry(header, txn, digest));
          expect(decoded.header).toEqual(header);
          expect(decoded.txn).toEqual(txn);
          expect(decoded.digest).toEqual(digest);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("writes Apache's bytes: a createSession entry is TxnHeader + CreateSessionTxn + TxnDigest (48 bytes)", () => {
    const body = encodeTxnEntry(
      { sessionId: 0x100000f4fb30000n, cxid: 0, zxid: 1n, timeMs: 0x1a200914eafn, type: "createSession" },
      { kind: "createSession", timeOutMs: 10_000 },
      { version: 2, treeDigest: 0x51c6d660n },
    );
    expect(body.toString("hex")).toBe(
      "0100000f4fb30000" + "00000000" + "0000000000000001" + "000001a200914eaf" + "fffffff6" + "00002710" + "00000002" + "0000000051c6d660",
    );
  });

  it("reads a closeSession without a record (ZooKeeper < 3.6) and a 3.3 create without parentCVersion", () => {
    const header = Buffer.from("0100000f4fb30000" + "00000001" + "0000000000000009" + "000001a200914eaf" + "fffffff5", "hex");
    expect(decodeTxnEntry(header).txn).toEqual({ kind: "closeSession", paths2Delete: [] });
    const v0 = Buffer.concat([
      Buffer.from("0100000f4fb30000" + "00000001" + "000000000000000a" + "000001a200914eaf" + "00000001", "hex"),
      Buffer.from("000000022f61" + "00000001" + "78" + "ffffffff" + "00", "hex"), // "/a", "x", null acl, ephemeral false
    ]);
    expect(decodeTxnEntry(v0).txn).toEqual({ kind: "create", path: "/a", data: Buffer.from("x"), acl: [], ephemeral: false, parentCVersion: -1 });
  });

  it("refuses what Apache cannot replay: an unknown type, a top-level type inside a multi", () => {
    const unknown = Buffer.from("0100000f4fb30000" + "00000001" + "0000000000000009" + "000001a200914eaf" + "00000063", "hex");
    expect(() => decodeTxnEntry(unknown)).toThrow(TxnDecodeError);
    const multiWithSession = Buffer.concat([
      Buffer.from("0100000f4fb30000" + "00000001" + "0000000000000009" + "000001a200914eaf" + "0000000e", "hex"),
      Buffer.from("00000001" + "fffffff6" + "00000004" + "00002710", "hex"),
    ]);
    expect(() => decodeTxnEntry(multiWithSession)).toThrow(/inside a multi/);
  });

  it("re-encodes every entry of a log Apache 3.8.0 wrote to the same bytes", async () => {
    let checked = 0;
    for (const name of ["log.1", "log.15", "log.24", "log.36", "log.43", "log.55"]) {
      const { entries, end } = await scanAll(readFileSync(join(fixtures, name)));
      expect(end.kind).toBe("clean");
      for (const { body } of entries) {
        const { header, txn, digest } = decodeTxnEntry(body);
        expect(encodeTxnEntry(header, txn, digest).equals(body)).toBe(true);
        // PrepRequestProcessor gives a failed request's error txn no digest; every other txn has one.
        expect(digest === null).toBe(header.type === "error");
        checked++;
      }
    }
    expect(checked).toBe(92);
  });
});

describe("log files: header, entries, preallocated zeros", () => {
  it("reads back what it frames, in any chunking", async () => {
    const written = bodies(50);
    for (const chunkBytes of [16, 100, 1 << 20]) {
      const { entries, end } = await scanAll(logFile(written), chunkBytes);
      expect(entries.map((e) => e.body)).toEqual(written);
      expect(end).toEqual({ kind: "clean", offset: 16 + written.reduce((n, b) => n + b.length + 13, 0) });
    }
  });

  it("an entry is crc, length, body, 0x42", () => {
    const framed = encodeLogEntry(Buffer.from("abc"));
    expect(framed.toString("hex")).toBe(adler32(Buffer.from("abc")).toString(16).padStart(16, "0") + "00000003" + "616263" + "42");
  });

  it("ends cleanly at the end of the file, or where the preallocated zeros start", async () => {
    const written = bodies(3);
    expect((await scanAll(logFile(written, 0))).end.kind).toBe("clean");
    expect((await scanAll(logFile(written, 65536))).end.kind).toBe("clean");
    expect((await scanAll(logFile([], 100))).entries).toHaveLength(0);
  });

  describe("a torn tail (the last write, never fsynced) ends the log at the last whole txn", () => {
    const written = bodies(5);
    const whole = logFile(written, 0);
    const lastStart = whole.length - (written[4]!.length + 13);

    it("a half-written last entry followed by the preallocated zeros", async () => {
      for (const keep of [1, 8, 11, 12, 13, 20, written[4]!.length + 12]) {
        const torn = Buffer.concat([whole.subarray(0, lastStart + keep), Buffer.alloc(4096)]);
        const { entries, end } = await scanAll(torn);
        expect(entries).toHaveLength(4);
        expect(end.kind === "torn" || end.kind === "clean").toBe(true);
        expect(end.offset).toBe(lastStart);
      }
    });

    it("a last entry cut off by the end of the file (no preallocation)", async () => {
      for (const keep of [12, 13, 30]) {
        const { entries, end } = await scanAll(whole.subarray(0, lastStart + keep));
        expect(entries).toHaveLength(4);
        expect(end).toMatchObject({ kind: "torn", offset: lastStart });
      }
      // Only the (zero) high bytes of the crc made it: indistinguishable from preallocation, and as harmless.
      expect((await scanAll(whole.subarray(0, lastStart + 3))).end).toEqual({ kind: "clean", offset: lastStart });
    });

    it("a last entry whose 0x42 never made it", async () => {
      const noEnd = Buffer.concat([whole.subarray(0, whole.length - 1), Buffer.alloc(100)]);
      expect(await scanAll(noEnd)).toMatchObject({ entries: { length: 4 }, end: { kind: "torn", offset: lastStart, reason: /0x42/ } });
    });

    it("a file created but never written, or without its header", async () => {
      expect((await scanAll(Buffer.alloc(0))).end.kind).toBe("torn");
      expect((await scanAll(Buffer.alloc(7))).end.kind).toBe("torn");
      expect((await scanAll(Buffer.alloc(65552))).end.kind).toBe("torn");
    });
  });

  describe("damage is never taken for the end of the log", () => {
    const written = bodies(6);
    const file = logFile(written);
    const offsetOf = (i: number) => 16 + written.slice(0, i).reduce((n, b) => n + b.length + 13, 0);

    it("a CRC mismatch, anywhere — even in the last entry", async () => {
      for (const i of [0, 3, 5]) {
        const damaged = Buffer.from(file);
        damaged[offsetOf(i) + 12 + 5] ^= 0x01;
        const { entries, end } = await scanAll(damaged);
        expect(entries).toHaveLength(i);
        expect(end).toMatchObject({ kind: "corrupt", offset: offsetOf(i), reason: /CRC mismatch/ });
      }
    });

    it("a lost 0x42 or a zeroed length with more entries after it (Apache would stop there silently)", async () => {
      const lostEnd = Buffer.from(file);
      lostEnd[offsetOf(3) - 1] = 0;
      expect((await scanAll(lostEnd)).end).toMatchObject({ kind: "corrupt", offset: offsetOf(2), reason: /non-zero data follows/ });
      const zeroed = Buffer.from(file);
      zeroed.fill(0, offsetOf(2), offsetOf(2) + 12);
      expect((await scanAll(zeroed)).end).toMatchObject({ kind: "corrupt", offset: offsetOf(2), reason: /non-zero data follows/ });
    });

    it("an impossible length, and a file that is not a txn log", async () => {
      const badLength = Buffer.from(file);
      badLength.writeInt32BE(-5, offsetOf(1) + 8);
      expect((await scanAll(badLength)).end).toMatchObject({ kind: "corrupt", offset: offsetOf(1), reason: /impossible entry length -5/ });
      const notALog = Buffer.from(file);
      notALog.write("ZKSN", 0);
      expect((await scanAll(notALog)).end).toMatchObject({ kind: "corrupt", offset: 0, reason: /magic/ });
    });

    it("garbage written over the preallocated zeros after the log", async () => {
      const garbage = Buffer.from(file);
      garbage[garbage.length - 10] = 7;
      expect((await scanAll(garbage)).end).toMatchObject({ kind: "corrupt", reason: new RegExp(`non-zero data follows at offset ${garbage.length - 10}`) });
    });
  });
});

describe("the write path's framing", () => {
  it("encodeFramedTxnEntry is encodeLogEntry(encodeTxnEntry(...)) in one copy", async () => {
    const { encodeFramedTxnEntry } = await import("../../src/storage/txn-codec.ts");
    const gen = new TxnStream(99);
    for (let i = 0; i < 200; i++) {
      const { header, txn } = gen.next();
      const digest = i % 3 === 0 ? null : { version: 2, treeDigest: BigInt(i) << 33n };
      expect(encodeFramedTxnEntry(header, txn, digest).equals(encodeLogEntry(encodeTxnEntry(header, txn, digest)))).toBe(true);
    }
  });
});
