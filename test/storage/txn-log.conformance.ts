/**
 * The contract of a transaction log (`TxnLog`), run against every implementation (txn-log.test.ts): the
 * file-backed log and the in-memory one must be indistinguishable to the server. Reference: Apache FileTxnLog and
 * SyncRequestProcessor (reference §5: group commit, preallocation, the torn tail); book chapter 9 (log before ack).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiskTxnLog, TxnLogCorruptError, type LogEntry, type ReadEntry, type TxnLog, type TxnLogOptions } from "../../src/storage/txn-log.ts";
import { groupCommitTxnsMax } from "../../src/storage/limits.ts";
import type { ScanEnd } from "../../src/storage/log-format.ts";
import { TxnStream } from "./support/random-txns.ts";
import { recordingLogger, type DiskHarness, type DiskKind } from "./support/harnesses.ts";

const preAllocSizeBytes = 64 * 1024;

export function txnLogConformance(kind: DiskKind): void {
  describe(`TxnLog conformance: ${kind.name}`, () => {
    let h: DiskHarness;
    let opened: TxnLog[];
    const logger = recordingLogger();
    const open = (options: Partial<TxnLogOptions> = {}): TxnLog => {
      const log = new DiskTxnLog(h.disk, { preAllocSizeBytes, fsyncWarningThresholdMs: 1000, logger, ...options });
      opened.push(log);
      return log;
    };
    beforeEach(async () => {
      h = kind.create();
      opened = [];
      await h.disk.ensure();
    });
    afterEach(async () => {
      for (const log of opened) await log.close().catch(() => {});
      await h.cleanup();
    });

    /** Random entries as a server logs them (digest on all but error txns). */
    function entries(count: number, seed = 11): LogEntry[] {
      const gen = new TxnStream(seed);
      return Array.from({ length: count }, (_, i) => {
        const { header, txn } = gen.next();
        return { header, txn, digest: header.type === "error" ? null : { version: 2, treeDigest: BigInt(i * 7919) } };
      });
    }

    /** Appends all, resolves with the order in which `durable` was called. */
    function appendAll(log: TxnLog, items: readonly LogEntry[]): Promise<bigint[]> {
      const order: bigint[] = [];
      return new Promise((resolve, reject) => {
        for (const e of items) {
          log.append(e, (error) => {
            if (error !== null) return reject(error);
            order.push(e.header.zxid);
            if (order.length === items.length) resolve(order);
          });
        }
      });
    }

    async function readAll(log: TxnLog, after = 0n, torn: Array<{ file: string; end: ScanEnd }> = []): Promise<ReadEntry[]> {
      const out: ReadEntry[] = [];
      for await (const batch of log.read(after, (file, end) => torn.push({ file, end }))) out.push(...batch);
      return out;
    }

    const strip = (e: ReadEntry): LogEntry => ({ header: e.header, txn: e.txn, digest: e.digest });

    it("an empty log reads nothing", async () => {
      expect(await readAll(open())).toEqual([]);
      expect(await open().logFiles()).toEqual([]);
    });

    it("reports each txn durable exactly once, in append order, and reads back exactly what was appended", async () => {
      const log = open();
      const written = entries(300);
      expect(await appendAll(log, written)).toEqual(written.map((e) => e.header.zxid));
      expect((await readAll(log)).map(strip)).toEqual(written);
      expect(log.stats).toMatchObject({ appended: 300, durable: 300 });
    });

    it("is durable only after its fsync: nothing is reported durable synchronously", async () => {
      const log = open();
      let durable = 0;
      for (const e of entries(5)) log.append(e, () => durable++);
      expect(durable).toBe(0);
      await log.flush();
      expect(durable).toBe(5);
    });

    it("group commit: one fsync per batch, at most 1000 txns in a batch (zookeeper.maxBatchSize)", async () => {
      const log = open();
      await appendAll(log, entries(2500));
      expect(log.stats.batches).toBeGreaterThanOrEqual(3);
      expect(log.stats.batches).toBeLessThan(10);
      expect(log.stats.largestBatch).toBe(groupCommitTxnsMax);
    });

    it("what arrives while an fsync runs becomes the next batch", async () => {
      const log = open();
      const written = entries(40);
      const order: bigint[] = [];
      await new Promise<void>((resolve) => {
        const next = (i: number) => {
          if (i === written.length) return;
          // Each durable callback appends more, as a server answering clients would.
          log.append(written[i]!, () => {
            order.push(written[i]!.header.zxid);
            if (order.length === written.length) resolve();
          });
          if (i % 4 === 3) setImmediate(() => next(i + 1));
          else next(i + 1);
        };
        next(0);
      });
      expect(order).toEqual(written.map((e) => e.header.zxid));
      expect(log.stats.batches).toBeLessThan(written.length);
    });

    it("reads only txns after a zxid, from the files that can hold them", async () => {
      const log = open();
      const written = entries(100);
      await appendAll(log, written.slice(0, 40));
      log.roll();
      await appendAll(log, written.slice(40, 70));
      log.roll();
      await appendAll(log, written.slice(70));
      expect((await log.logFiles()).map((f) => f.name)).toEqual([1n, 41n, 71n].map((z) => `log.${z.toString(16)}`));
      for (const after of [0n, 1n, 39n, 40n, 41n, 55n, 99n, 100n, 500n]) {
        expect((await readAll(log, after)).map((e) => e.header.zxid)).toEqual(written.filter((e) => e.header.zxid > after).map((e) => e.header.zxid));
      }
    });

    it("roll: the next append starts log.<hex zxid of its first txn>", async () => {
      const log = open();
      const written = entries(30, 3);
      await appendAll(log, written.slice(0, 10));
      log.roll();
      log.roll();
      await appendAll(log, written.slice(10));
      expect((await log.logFiles()).map((f) => f.name)).toEqual(["log.1", "log.b"]);
      const read = await readAll(log);
      expect(read.map((e) => e.file)).toEqual([...Array(10).fill("log.1"), ...Array(20).fill("log.b")]);
    });

    it("a reopened log sees everything the closed one made durable", async () => {
      const written = entries(50);
      const first = open();
      await appendAll(first, written.slice(0, 20));
      await first.close();
      const second = open();
      expect((await readAll(second)).map(strip)).toEqual(written.slice(0, 20));
      // A restarted server starts a new file at its next zxid.
      await appendAll(second, written.slice(20));
      expect((await readAll(open())).map(strip)).toEqual(written);
      expect((await second.logFiles()).map((f) => f.name)).toEqual(["log.1", "log.15"]);
    });

    it("refuses a zxid that does not increase", () => {
      const log = open();
      const [a, b] = entries(2);
      log.append(b!, () => {});
      expect(() => log.append(a!, () => {})).toThrow(/zxid went backwards/);
    });

    it("preallocates: a new log is preAllocSize + 16 bytes of header; it grows by preAllocSize near its end", async () => {
      const log = open();
      await appendAll(log, entries(1));
      expect(await h.size("log.1")).toBe(preAllocSizeBytes + 16);
      const big = entries(400, 5).map((e) => (e.txn.kind === "setData" ? e : e));
      await appendAll(log, big.map((e, i) => ({ ...e, header: { ...e.header, zxid: BigInt(i + 2) } })));
      const size = await h.size("log.1");
      expect(size % preAllocSizeBytes).toBe(16);
      expect(size).toBeGreaterThan(preAllocSizeBytes);
    });

    it("fsync.warningthresholdms: a slower fsync is logged", async () => {
      const log = open({ fsyncWarningThresholdMs: -1 });
      await appendAll(log, entries(3));
      expect(logger.warnings.some((w) => /fsync-ing the write ahead log took/.test(w))).toBe(true);
      expect(log.stats.slowFsyncs).toBeGreaterThan(0);
    });

    describe("the end of the log", () => {
      it("a torn last entry (its 0x42 never written) ends the log at the last whole txn", async () => {
        const log = open();
        const written = entries(20);
        await appendAll(log, written);
        const read = await readAll(log);
        const last = read[read.length - 1]!;
        const endByte = (await readAll(log)).length && last.offset; // the entry's start
        // Zero the tail of the last entry, as a crash in the middle of the write leaves it.
        const lastLength = (await h.disk.readAll("log.1")).readInt32BE(endByte + 8);
        await h.damage("log.1", endByte + 12 + Math.floor(lastLength / 2), Buffer.alloc(lastLength - Math.floor(lastLength / 2) + 1));
        const torn: Array<{ file: string; end: ScanEnd }> = [];
        const again = await readAll(open(), 0n, torn);
        expect(again.map(strip)).toEqual(written.slice(0, 19));
        expect(torn).toEqual([{ file: "log.1", end: expect.objectContaining({ kind: "torn", offset: endByte }) }]);
      });

      it("a CRC mismatch before the tail is an error naming the file and offset", async () => {
        const log = open();
        const written = entries(20);
        await appendAll(log, written);
        const victim = (await readAll(log))[7]!;
        await h.damage("log.1", victim.offset + 20, Buffer.from([0xde, 0xad]));
        const seen: ReadEntry[] = [];
        let error: unknown;
        try {
          for await (const batch of open().read(0n)) seen.push(...batch);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(TxnLogCorruptError);
        expect(error).toMatchObject({ file: "log.1", offset: victim.offset, message: expect.stringMatching(/log\.1 is damaged at offset \d+: CRC mismatch/) });
        expect(seen.map(strip)).toEqual(written.slice(0, 7));
      });
    });

    it.skipIf(kind.create().crash === undefined)("after a power loss only what was reported durable is there", async () => {
      const log = open();
      const written = entries(200);
      const durable: bigint[] = [];
      for (const e of written) log.append(e, (error) => error === null && durable.push(e.header.zxid));
      // Let some batches through, then pull the plug while the next is in flight.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      h.crash!({ kind: "powerLoss" });
      const survivors = (await readAll(open())).map((e) => e.header.zxid);
      expect(survivors.slice(0, durable.length)).toEqual(durable);
      expect(survivors).toEqual(written.slice(0, survivors.length).map((e) => e.header.zxid));
    });
  });
}
