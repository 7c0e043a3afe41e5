/**
 * The transaction log (Apache FileTxnLog + the sync stage of SyncRequestProcessor): txns become durable in the
 * order they were appended, a whole batch per fsync.
 *
 * Group commit: an append is queued; when no fsync is running the queue is written and fsynced at the end of the
 * current event-loop turn; while an fsync runs, appends pile up and become the next batch (at most
 * `groupCommitTxnsMax` txns, as Apache's zookeeper.maxBatchSize). Only when its batch's fsync has returned is a
 * txn's `durable` callback called — and only then may the server apply it and answer its client (book chapter 9:
 * log before ack). Each txn is framed and checksummed once, as it is appended, straight into one buffer that
 * holds the whole next batch; the batch then leaves in a single write (one per file, if a roll splits it).
 *
 * Files: `log.<hex zxid of the first txn>`, a FileHeader then entries (log-format.ts), preallocated in
 * `preAllocSize` steps of zeros so an fsync rarely has to update the file size. `roll()` (at each snapshot) makes
 * the next append start a new file.
 *
 * One implementation over the `Disk` seam: a real directory (`FileDisk`) or memory (`MemoryDisk`).
 */
import type { Txn, TxnHeader } from "../tree/txn.ts";
import type { Disk, WritableFile } from "./disk.ts";
import { logFileName, logsFrom, sortByZxid, type NamedZxid } from "./files.ts";
import { groupCommitTxnsMax, logFilePrefix, preAllocSlackBytes } from "./limits.ts";
import { encodeFileHeader, scanLogFile, type ScanEnd } from "./log-format.ts";
import { JuteWriter } from "../proto/jute.ts";
import { decodeTxnEntry, hex, TxnDecodeError, writeFramedTxnEntry, type TxnDigest } from "./txn-codec.ts";

/** What the storage code says about itself; the server's Logger fits. */
export interface StorageLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface LogEntry {
  readonly header: TxnHeader;
  readonly txn: Txn;
  /** The tree's digest after this txn (null: not recorded, as before ZooKeeper 3.6). */
  readonly digest: TxnDigest | null;
}

/** An entry read back, with where it was found. */
export interface ReadEntry extends LogEntry {
  readonly file: string;
  readonly offset: number;
}

/** Called once the entry is on stable storage (error: it never will be; the server must stop). */
export type Durable = (error: Error | null) => void;

export interface TxnLogStats {
  appended: number;
  durable: number;
  /** fsync batches. */
  batches: number;
  largestBatch: number;
  slowFsyncs: number;
  lastFsyncMs: number;
}

/** Damage in a log that recovery must not read past (a CRC mismatch, garbage after the end, a bad header). */
export class TxnLogCorruptError extends Error {
  override readonly name = "TxnLogCorruptError";
  constructor(
    readonly location: string,
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`transaction log ${location}/${file} is damaged at offset ${offset}: ${reason}`);
  }
}

export interface TxnLog {
  readonly location: string;
  readonly stats: Readonly<TxnLogStats>;
  /** Queues `entry`; `durable` is called once it is on disk, in append order. Zxids must increase. */
  append(entry: LogEntry, durable: Durable): void;
  /** The next append starts a new log file. */
  roll(): void;
  /** Resolves once everything appended so far is durable. */
  flush(): Promise<void>;
  /** Flushes, then closes the files. */
  close(): Promise<void>;
  /**
   * Every logged txn with zxid > `afterZxid`, oldest first, in batches, from the files that can hold them. A torn
   * tail ends a file (reported to `onTornTail`); damage throws TxnLogCorruptError.
   */
  read(afterZxid: bigint, onTornTail?: (file: string, end: ScanEnd) => void): AsyncGenerator<ReadEntry[]>;
  /** The log files, oldest first. */
  logFiles(): Promise<NamedZxid[]>;
}

export interface TxnLogOptions {
  /** preAllocSize: the file grows in steps of this many zero bytes (0: no preallocation). */
  readonly preAllocSizeBytes: number;
  /** fsync.warningthresholdms: an fsync slower than this is logged. */
  readonly fsyncWarningThresholdMs: number;
  readonly logger: StorageLogger;
  /** Monotonic milliseconds, to time fsyncs. */
  readonly nowMs?: () => number;
  /** At most this many txns per fsync (zookeeper.maxBatchSize). */
  readonly batchTxnsMax?: number;
}

/**
 * What waits for the next batch. An entry's bytes are already encoded in `DiskTxnLog.pending`, ending at `end`
 * (its framed entry is the bytes between the previous item's end and its own); a roll takes no bytes.
 */
type Queued =
  | { readonly kind: "entry"; readonly zxid: bigint; end: number; readonly durable: Durable }
  | { readonly kind: "roll"; end: number };

/**
 * The batch buffer starts this big and doubles when a batch needs more; it is then reused batch after batch.
 * 1000 txns (the batch limit) of ~200 bytes fit in 256 KB.
 */
const batchBufferInitialBytes = 256 * 1024;

interface OpenLog {
  readonly name: string;
  readonly file: WritableFile;
  /** Where the next entry goes. */
  position: number;
  /** The preallocated size. */
  size: number;
  /** Created in this batch: the directory entry needs an fsync too. */
  isNew: boolean;
}

/**
 * The file size after preallocating for a write at `position` (FilePadding.calculateFileSizeWithPadding): when
 * the position comes within 4 KB of the end, the file grows by `preAllocSize` (or, past the end, to the next
 * multiple of it beyond the position). A new log is therefore `preAllocSize + 16` bytes.
 */
export function paddedFileSize(position: number, fileSize: number, preAllocSize: number): number {
  // lab 10.3: preallocate the log: within 4 KB of the end, grow by preAllocSize
  //   preAllocSize 0 means no preallocation: keep the size. Keep it too while position + 4096 (preAllocSlackBytes)
  //   is still below the file size. Otherwise grow by preAllocSize — or, when the position is already past the
  //   end, to the multiple of preAllocSize just above position + preAllocSize (Apache FilePadding). The new bytes
  //   are zeros: that is how a reader finds the end of the log.
  if (preAllocSize <= 0 || position + preAllocSlackBytes < fileSize) return fileSize;
  if (position > fileSize) {
    const size = position + preAllocSize;
    return size - (size % preAllocSize);
  }
  return fileSize + preAllocSize;
  // end lab 10.3
}

export class DiskTxnLog implements TxnLog {
  readonly stats: TxnLogStats = { appended: 0, durable: 0, batches: 0, largestBatch: 0, slowFsyncs: 0, lastFsyncMs: 0 };
  private queue: Queued[] = [];
  /**
   * The queued entries, framed and checksummed, back to back, as they will be written: each txn is encoded here
   * once, and a batch (or each part of it between rolls) leaves in a single write of a slice of this buffer.
   */
  private readonly pending = new JuteWriter(batchBufferInitialBytes);
  private current: OpenLog | null = null;
  private flushing = false;
  private scheduled = false;
  private failed: Error | null = null;
  private closed = false;
  private lastZxid: bigint | null = null;
  private idleWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly nowMs: () => number;
  private readonly batchTxnsMax: number;

  constructor(
    private readonly disk: Disk,
    private readonly options: TxnLogOptions,
  ) {
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.batchTxnsMax = options.batchTxnsMax ?? groupCommitTxnsMax;
  }

  get location(): string {
    return this.disk.location;
  }

  append(entry: LogEntry, durable: Durable): void {
    if (this.closed) throw new Error(`append to closed transaction log ${this.location}`);
    const zxid = entry.header.zxid;
    if (this.lastZxid !== null && zxid <= this.lastZxid) {
      throw new Error(`zxid went backwards in the log: 0x${hex(zxid)} after 0x${hex(this.lastZxid)}`);
    }
    this.lastZxid = zxid;
    if (this.failed !== null) {
      const error = this.failed;
      queueMicrotask(() => durable(error));
      return;
    }
    writeFramedTxnEntry(this.pending, entry.header, entry.txn, entry.digest);
    this.queue.push({ kind: "entry", zxid, end: this.pending.length, durable });
    this.stats.appended++;
    this.schedule();
  }

  roll(): void {
    this.queue.push({ kind: "roll", end: this.pending.length });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flushBatch();
    });
  }

  /**
   * The next batch: up to `batchTxnsMax` txns, and never past a roll. Txns for the next file are written only
   * once the old file's are durable — else a power loss could keep the new file's txns and lose the old one's
   * tail, leaving a hole in the zxids that recovery (rightly) refuses.
   */
  private takeBatch(): Queued[] {
    let entries = 0;
    let i = 0;
    for (; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (item.kind === "roll") {
        if (entries > 0 || this.current !== null) {
          i++;
          break;
        }
        continue;
      }
      if (entries === this.batchTxnsMax) break;
      entries++;
    }
    return this.queue.splice(0, i);
  }

  /**
   * Drops the bytes of a batch just written (the first `bytes` of `pending`). Usually nothing else is queued and
   * the buffer simply starts over; after a partial batch (the size limit, a roll) what is left moves to the front.
   */
  private discardPending(bytes: number): void {
    if (this.queue.length === 0 || bytes === this.pending.length) {
      this.pending.reset();
      for (const item of this.queue) item.end = 0;
      return;
    }
    const rest = Buffer.from(this.pending.view().subarray(bytes));
    this.pending.reset().writeRaw(rest);
    for (const item of this.queue) item.end -= bytes;
  }

  private openLog(zxid: bigint): OpenLog {
    const name = logFileName(zxid);
    this.options.logger.info(`Creating new log file: ${name}`);
    const file = this.disk.create(name);
    const header = encodeFileHeader();
    file.write(0, header);
    return { name, file, position: header.length, size: header.length, isNew: true };
  }

  /** Writes one batch, fsyncs it, starts the next batch, then reports this one durable. */
  private async flushBatch(): Promise<void> {
    if (this.flushing) return;
    const batch = this.takeBatch();
    if (batch.length === 0) {
      this.settleIdle();
      return;
    }
    this.flushing = true;
    const touched: OpenLog[] = [];
    const retired: OpenLog[] = [];
    const entries: Array<Extract<Queued, { kind: "entry" }>> = [];
    try {
      // The batch's bytes are one run in `pending`; each stretch between rolls goes to its file in one write.
      const bytes = this.pending.view();
      let runStart = 0;
      let runEnd = 0;
      const writeOut = () => {
        const log = this.current;
        if (log === null || runEnd === runStart) return;
        const length = runEnd - runStart;
        let size = paddedFileSize(log.position, log.size, this.options.preAllocSizeBytes);
        while (this.options.preAllocSizeBytes > 0 && log.position + length + preAllocSlackBytes >= size) {
          size = paddedFileSize(log.position + length, size, this.options.preAllocSizeBytes);
        }
        if (size !== log.size) {
          log.file.extend(size);
          log.size = size;
        }
        log.file.write(log.position, bytes.subarray(runStart, runEnd));
        log.position += length;
        runStart = runEnd;
      };
      for (const item of batch) {
        if (item.kind === "roll") {
          writeOut();
          if (this.current !== null) retired.push(this.current);
          this.current = null;
          runStart = runEnd = item.end;
          continue;
        }
        if (this.current === null) this.current = this.openLog(item.zxid);
        if (touched[touched.length - 1] !== this.current) touched.push(this.current);
        runEnd = item.end;
        entries.push(item);
      }
      writeOut();
      // Written (the file keeps its own copy of the bytes): the buffer is free for the appends of the next batch.
      this.discardPending(batch[batch.length - 1]!.end);

      const started = this.nowMs();
      const syncs: Array<Promise<void>> = touched.map((log) => log.file.datasync());
      if (touched.some((log) => log.isNew)) syncs.push(this.disk.syncDir());
      await Promise.all(syncs);
      const elapsedMs = this.nowMs() - started;
      this.stats.lastFsyncMs = elapsedMs;
      if (elapsedMs > this.options.fsyncWarningThresholdMs) {
        this.stats.slowFsyncs++;
        const log = touched[touched.length - 1];
        this.options.logger.warn(
          `fsync-ing the write ahead log took ${Math.round(elapsedMs)}ms which will adversely effect operation latency. ` +
            `File size is ${log?.size ?? 0} bytes. See the ZooKeeper troubleshooting guide (fsync.warningthresholdms=${this.options.fsyncWarningThresholdMs})`,
        );
      }
      for (const log of touched) log.isNew = false;
      for (const log of retired) log.file.close();
    } catch (error) {
      this.fail(error as Error, entries);
      return;
    }
    this.flushing = false;
    this.stats.batches++;
    this.stats.durable += entries.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, entries.length);
    // What arrived during this fsync is the next batch: start writing it before answering this one.
    if (this.queue.length > 0) void this.flushBatch();
    for (const entry of entries) entry.durable(null);
    if (!this.flushing) this.settleIdle();
  }

  private fail(error: Error, inFlight: ReadonlyArray<{ readonly durable: Durable }>): void {
    this.failed = error;
    this.flushing = false;
    const queued = this.queue.splice(0);
    this.pending.reset();
    this.options.logger.warn(`transaction log ${this.location} failed: ${error.message}`);
    for (const entry of inFlight) entry.durable(error);
    for (const item of queued) if (item.kind === "entry") item.durable(error);
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.flushing || this.queue.some((item) => item.kind === "entry")) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) this.failed === null ? w.resolve() : w.reject(this.failed);
  }

  flush(): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (!this.flushing && !this.queue.some((item) => item.kind === "entry")) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ resolve, reject });
      this.schedule();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.current?.file.close();
      this.current = null;
    }
  }

  async logFiles(): Promise<NamedZxid[]> {
    return sortByZxid(await this.disk.list(), logFilePrefix);
  }

  async *read(afterZxid: bigint, onTornTail?: (file: string, end: ScanEnd) => void): AsyncGenerator<ReadEntry[]> {
    for (const { name } of logsFrom(await this.logFiles(), afterZxid + 1n)) {
      const source = await this.disk.open(name);
      try {
        const scan = scanLogFile(source);
        for (;;) {
          const step = await scan.next();
          if (step.done) {
            const end = step.value;
            if (end.kind === "corrupt") throw new TxnLogCorruptError(this.location, name, end.offset, end.reason);
            if (end.kind === "torn") onTornTail?.(name, end);
            break;
          }
          const batch: ReadEntry[] = [];
          for (const { offset, body } of step.value) {
            let entry;
            try {
              entry = decodeTxnEntry(body);
            } catch (error) {
              if (error instanceof TxnDecodeError) throw new TxnLogCorruptError(this.location, name, offset, `undecodable txn: ${error.message}`);
              throw error;
            }
            if (entry.header.zxid > afterZxid) batch.push({ header: entry.header, txn: entry.txn, digest: entry.digest, file: name, offset });
          }
          if (batch.length > 0) yield batch;
        }
      } finally {
        await source.close();
      }
    }
  }
}
