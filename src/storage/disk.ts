/**
 * The one seam between storage logic and the disk: a directory of files with the few operations the txn log and
 * the snapshot store need. `FileDisk` is a real directory; `MemoryDisk` keeps files in memory and can *crash*:
 * forget what was written but not yet fsynced, or keep a torn prefix of it — which is how the in-memory log and
 * snapshot store behave like disks in tests and in the simulator, deterministically.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import { join } from "node:path";
import type { ByteSource } from "./log-format.ts";

export interface WritableFile {
  readonly name: string;
  /**
   * Writes `bytes` at `position` (into the page cache: not durable until `datasync`). The caller may reuse
   * `bytes` once this returns.
   */
  write(position: number, bytes: Uint8Array): void;
  /** Grows the file to `size` bytes; the new bytes read as zeros (preallocation). */
  extend(size: number): void;
  /** fdatasync: everything written so far is on stable storage when this resolves. */
  datasync(): Promise<void>;
  close(): void;
}

export interface ReadableFile extends ByteSource {
  close(): Promise<void>;
}

export interface FileInfo {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface Disk {
  /** Where the files are, for messages. */
  readonly location: string;
  /** Creates the directory if needed. */
  ensure(): Promise<void>;
  list(): Promise<string[]>;
  /** Creates `name` empty (truncating an existing file). */
  create(name: string): WritableFile;
  open(name: string): Promise<ReadableFile>;
  readAll(name: string): Promise<Buffer>;
  info(name: string): Promise<FileInfo>;
  rename(from: string, to: string): Promise<void>;
  remove(name: string): Promise<void>;
  truncate(name: string, size: number): Promise<void>;
  /** Makes creations, renames and removals in the directory durable. */
  syncDir(): Promise<void>;
}

// ------------------------------------------------------------------ a real directory

export class FileDisk implements Disk {
  constructor(readonly location: string) {}

  private path(name: string): string {
    return join(this.location, name);
  }

  async ensure(): Promise<void> {
    await fsp.mkdir(this.location, { recursive: true });
  }

  async list(): Promise<string[]> {
    try {
      return await fsp.readdir(this.location);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  create(name: string): WritableFile {
    const fd = fs.openSync(this.path(name), "w");
    return {
      name,
      write(position, bytes) {
        let done = 0;
        while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
      },
      extend(size) {
        // Apache's FilePadding writes one zero byte at the new end; a truncate up is the same sparse file.
        fs.ftruncateSync(fd, size);
      },
      datasync: () => new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()))),
      close: () => fs.closeSync(fd),
    };
  }

  async open(name: string): Promise<ReadableFile> {
    const handle = await fsp.open(this.path(name), "r");
    const { size } = await handle.stat();
    return {
      name,
      size,
      async read(position, length) {
        const want = Math.max(0, Math.min(length, size - position));
        const buffer = Buffer.allocUnsafe(want);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await handle.read(buffer, got, want - got, position + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === want ? buffer : buffer.subarray(0, got);
      },
      close: () => handle.close(),
    };
  }

  readAll(name: string): Promise<Buffer> {
    return fsp.readFile(this.path(name));
  }

  async info(name: string): Promise<FileInfo> {
    const s = await fsp.stat(this.path(name));
    return { size: s.size, mtimeMs: s.mtimeMs };
  }

  rename(from: string, to: string): Promise<void> {
    return fsp.rename(this.path(from), this.path(to));
  }

  remove(name: string): Promise<void> {
    return fsp.rm(this.path(name), { force: true });
  }

  truncate(name: string, size: number): Promise<void> {
    return fsp.truncate(this.path(name), size);
  }

  async syncDir(): Promise<void> {
    const handle = await fsp.open(this.location, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

// ------------------------------------------------------------------ in memory

/** One unsynced write. */
interface PendingWrite {
  readonly position: number;
  readonly bytes: Buffer;
}

class MemoryFile {
  /** Content as of the last datasync (capacity may exceed `size`; bytes past what was written are zero). */
  data = Buffer.alloc(0);
  size = 0;
  pending: PendingWrite[] = [];
  pendingSize = 0;
  mtimeMs = Date.now();

  /** The size including unsynced writes and extensions. */
  get currentSize(): number {
    return Math.max(this.size, this.pendingSize);
  }

  private grow(size: number): void {
    if (size <= this.data.length) return;
    const grown = Buffer.alloc(Math.max(size, this.data.length * 2));
    this.data.copy(grown, 0, 0, this.size);
    this.data = grown;
  }

  /**
   * Makes unsynced writes durable: the first `count` of them (all by default), or only their first `upToBytes`
   * bytes (a torn write); the rest are dropped. Extensions (preallocation) survive.
   */
  applyPending(upToBytes = Number.POSITIVE_INFINITY, count = this.pending.length): void {
    let budget = upToBytes;
    const kept = this.pending.splice(0, count);
    for (const write of kept) {
      if (budget <= 0) break;
      const bytes = write.bytes.subarray(0, Math.min(write.bytes.length, budget));
      budget -= bytes.length;
      this.grow(write.position + bytes.length);
      bytes.copy(this.data, write.position);
      this.size = Math.max(this.size, write.position + bytes.length);
    }
    if (count === kept.length && this.pending.length === 0) {
      this.size = Math.max(this.size, this.pendingSize);
      this.pendingSize = this.size;
    } else if (upToBytes !== Number.POSITIVE_INFINITY) {
      // A crash: what was not kept is gone.
      this.pending = [];
      this.size = Math.max(this.size, this.pendingSize);
      this.pendingSize = this.size;
    }
  }

  read(position: number, length: number): Buffer {
    const end = Math.min(this.currentSize, position + length);
    if (end <= position) return Buffer.alloc(0);
    const out = Buffer.alloc(end - position);
    // Bytes past what was ever written (preallocation) are the zeros `out` starts with.
    const writtenEnd = Math.min(this.size, end, this.data.length);
    if (position < writtenEnd) this.data.copy(out, 0, position, writtenEnd);
    for (const write of this.pending) {
      const from = Math.max(position, write.position);
      const to = Math.min(end, write.position + write.bytes.length);
      if (from < to) write.bytes.copy(out, from - position, from - write.position, to - write.position);
    }
    return out;
  }
}

export type CrashMode =
  /** Power loss: everything not fsynced is gone. */
  | { readonly kind: "powerLoss" }
  /** kill -9: the page cache survives, so every write that returned is kept. */
  | { readonly kind: "processCrash" }
  /** Power loss in the middle of writeback: the first `keepBytes` unsynced bytes of each file made it. */
  | { readonly kind: "tornWrite"; readonly keepBytes: (file: string, unsyncedBytes: number) => number };

export interface MemoryDiskOptions {
  /** How long an fsync takes (default: it completes in the same turn). Writes made meanwhile are not covered. */
  readonly syncDelay?: () => Promise<void>;
}

export class MemoryDisk implements Disk {
  /** False once this view of the disk went through `crash`: the process that used it is gone. */
  private alive = true;
  datasyncs = 0;

  constructor(
    readonly location = "memory:",
    private readonly files = new Map<string, MemoryFile>(),
    private readonly options: MemoryDiskOptions = {},
  ) {}

  private check(): void {
    if (!this.alive) throw new Error(`${this.location}: used after a simulated crash`);
  }

  async ensure(): Promise<void> {
    this.check();
  }

  async list(): Promise<string[]> {
    this.check();
    return [...this.files.keys()].sort();
  }

  private file(name: string): MemoryFile {
    this.check();
    const file = this.files.get(name);
    if (file === undefined) throw Object.assign(new Error(`ENOENT: ${this.location}${name}`), { code: "ENOENT" });
    return file;
  }

  create(name: string): WritableFile {
    this.check();
    const file = new MemoryFile();
    this.files.set(name, file);
    return {
      name,
      write: (position, bytes) => {
        this.check();
        file.pending.push({ position, bytes: Buffer.from(bytes) });
        file.pendingSize = Math.max(file.pendingSize, file.size, position + bytes.length);
        file.mtimeMs = Date.now();
      },
      extend: (size) => {
        this.check();
        file.pendingSize = Math.max(file.pendingSize, file.size, size);
      },
      datasync: async () => {
        this.check();
        this.datasyncs++;
        const count = file.pending.length;
        if (this.options.syncDelay !== undefined) {
          await this.options.syncDelay();
          this.check();
        }
        file.applyPending(Number.POSITIVE_INFINITY, Math.min(count, file.pending.length));
      },
      close: () => {},
    };
  }

  async open(name: string): Promise<ReadableFile> {
    const file = this.file(name);
    return { name, size: file.currentSize, read: async (position, length) => file.read(position, length), close: async () => {} };
  }

  async readAll(name: string): Promise<Buffer> {
    const file = this.file(name);
    return file.read(0, file.currentSize);
  }

  async info(name: string): Promise<FileInfo> {
    const file = this.file(name);
    return { size: file.currentSize, mtimeMs: file.mtimeMs };
  }

  async rename(from: string, to: string): Promise<void> {
    this.files.set(to, this.file(from));
    this.files.delete(from);
  }

  async remove(name: string): Promise<void> {
    this.check();
    this.files.delete(name);
  }

  async truncate(name: string, size: number): Promise<void> {
    const file = this.file(name);
    file.applyPending();
    const kept = file.read(0, Math.min(size, file.currentSize));
    const fresh = new MemoryFile();
    fresh.pending = [{ position: 0, bytes: kept }];
    fresh.pendingSize = size;
    fresh.applyPending();
    this.files.set(name, fresh);
  }

  async syncDir(): Promise<void> {
    this.check();
  }

  /**
   * Simulates a crash: what survives of the unsynced writes depends on `mode`. This view of the disk — and every
   * file handle opened through it — stops working, as the process that held them is gone; the returned view is
   * the disk as a restarted process finds it. (Creations, renames and removals are durable at once.)
   */
  crash(mode: CrashMode = { kind: "powerLoss" }): MemoryDisk {
    this.check();
    this.alive = false;
    for (const [name, file] of this.files) {
      const unsynced = file.pending.reduce((sum, w) => sum + w.bytes.length, 0);
      switch (mode.kind) {
        case "powerLoss":
          file.pending = [];
          file.pendingSize = file.size;
          break;
        case "processCrash":
          file.applyPending();
          break;
        case "tornWrite":
          file.applyPending(Math.max(0, Math.min(unsynced, mode.keepBytes(name, unsynced))));
          break;
      }
    }
    return new MemoryDisk(this.location, this.files, this.options);
  }

  /** Overwrites bytes in place, durably (to simulate damage). */
  damage(name: string, position: number, bytes: Uint8Array): void {
    const file = this.file(name);
    file.applyPending();
    file.pending = [{ position, bytes: Buffer.from(bytes) }];
    file.applyPending();
  }
}
