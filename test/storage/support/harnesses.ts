/**
 * The storage implementations the conformance suites run against: the file system (a temp directory) and memory.
 * Each gives a fresh, empty "directory" and the few test-only powers the suites need: damage bytes, see file
 * sizes, and — where it can be simulated — crash.
 */
import fsp from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileDisk, MemoryDisk, type CrashMode, type Disk } from "../../../src/storage/disk.ts";

export interface DiskHarness {
  /** The disk as the running process sees it (after a crash: as the restarted process finds it). */
  readonly disk: Disk;
  /** Overwrites bytes of a file in place, durably. */
  damage(name: string, position: number, bytes: Uint8Array): Promise<void>;
  size(name: string): Promise<number>;
  /** Simulates a crash (undefined: this implementation cannot). Handles opened before it stop working. */
  readonly crash?: (mode: CrashMode) => void;
  cleanup(): Promise<void>;
}

export interface DiskKind {
  readonly name: string;
  create(): DiskHarness;
}

export const fileDisks: DiskKind = {
  name: "file-backed (FileDisk)",
  create() {
    const dir = mkdtempSync(join(tmpdir(), "zkbook-storage-"));
    const disk = new FileDisk(join(dir, "version-2"));
    return {
      disk,
      async damage(name, position, bytes) {
        const handle = await fsp.open(join(disk.location, name), "r+");
        try {
          await handle.write(bytes, 0, bytes.length, position);
          await handle.sync();
        } finally {
          await handle.close();
        }
      },
      size: async (name) => (await disk.info(name)).size,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

export const memoryDisks: DiskKind = {
  name: "in-memory (MemoryDisk)",
  create() {
    let disk = new MemoryDisk();
    return {
      get disk() {
        return disk;
      },
      damage: async (name, position, bytes) => disk.damage(name, position, bytes),
      size: async (name) => (await disk.info(name)).size,
      crash: (mode) => {
        disk = disk.crash(mode);
      },
      cleanup: async () => {},
    };
  },
};

export const diskKinds: readonly DiskKind[] = [fileDisks, memoryDisks];

/** A logger that remembers what it was told. */
export function recordingLogger(): { info(m: string): void; warn(m: string): void; lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  return {
    lines,
    warnings,
    info: (m) => void lines.push(m),
    warn: (m) => {
      lines.push(m);
      warnings.push(m);
    },
  };
}
