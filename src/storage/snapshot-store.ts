/**
 * Where snapshots live: `snapshot.<hex zxid>` files in dataDir/version-2 (Apache FileSnap). A snapshot is written
 * to a temporary name, fsynced, then renamed into place, so a crash never leaves a half-written `snapshot.*`
 * behind (the temporary name does not start with "snapshot.", so Apache's tools ignore it too).
 */
import type { Disk } from "./disk.ts";
import { snapshotFileName, sortByZxid, type NamedZxid } from "./files.ts";
import { snapshotFilePrefix } from "./limits.ts";

export interface SnapshotStore {
  readonly location: string;
  /** Writes a complete snapshot for `zxid` from its pieces, durably; replaces one with the same zxid. */
  save(zxid: bigint, pieces: readonly Buffer[]): Promise<void>;
  /** The snapshots, newest first (by the zxid in their names). */
  list(): Promise<NamedZxid[]>;
  read(name: string): Promise<Buffer>;
  remove(name: string): Promise<void>;
}

export const snapshotTempPrefix = "tmp.";

export class DiskSnapshotStore implements SnapshotStore {
  constructor(private readonly disk: Disk) {}

  get location(): string {
    return this.disk.location;
  }

  async save(zxid: bigint, pieces: readonly Buffer[]): Promise<void> {
    const name = snapshotFileName(zxid);
    const temp = `${snapshotTempPrefix}${name}`;
    const file = this.disk.create(temp);
    try {
      let position = 0;
      for (const piece of pieces) {
        file.write(position, piece);
        position += piece.length;
        // A big snapshot is written a piece per event-loop turn, so clients are not kept waiting.
        if (pieces.length > 1) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await file.datasync();
    } catch (error) {
      file.close();
      await this.disk.remove(temp);
      throw error;
    }
    file.close();
    await this.disk.rename(temp, name);
    await this.disk.syncDir();
  }

  async list(): Promise<NamedZxid[]> {
    return sortByZxid(await this.disk.list(), snapshotFilePrefix).reverse();
  }

  read(name: string): Promise<Buffer> {
    return this.disk.readAll(name);
  }

  remove(name: string): Promise<void> {
    return this.disk.remove(name);
  }

  /** Deletes temporary files a crash left behind. */
  async removeLeftovers(): Promise<string[]> {
    const leftovers = (await this.disk.list()).filter((name) => name.startsWith(`${snapshotTempPrefix}${snapshotFilePrefix}.`));
    for (const name of leftovers) await this.disk.remove(name);
    return leftovers;
  }
}
