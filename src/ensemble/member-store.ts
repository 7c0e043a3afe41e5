/**
 * An ensemble member's disk (Apache FileTxnSnapLog + the `currentEpoch` / `acceptedEpoch` files of QuorumPeer),
 * in the same formats as the standalone server: `log.<zxid>` and `snapshot.<zxid>` under `version-2/`.
 *
 * The difference from the standalone DurableStore is what counts as applied. Zab decides what is committed, so
 * at start-up the tree holds only the newest snapshot (taken of committed state), and the txns logged after it
 * go to the peer as its history — committed or not is for the next leader to say (notes ch. 9, "Zab").
 * The store carries out the cores' `persist` ops in order: appends are group-committed (one fsync for all the
 * appends queued together); an epoch file, a TRUNC or a SNAP first waits for the appends before it.
 */
import { join } from "node:path";
import { DataTree } from "../tree/data-tree.ts";
import type { LogEntry as ZabLogEntry, PersistOp } from "../quorum/index.ts";
import { hexZxid } from "../quorum/index.ts";
import { DiskSnapshotStore, DiskTxnLog, FileDisk, decodeSnapshot, purge, hasSnapshotTrailer, serializeTree, type Disk, type SessionEntry, type StorageLogger } from "../storage/index.ts";
import { versionDirName } from "../storage/limits.ts";
import type { MemberTypes } from "./types.ts";

/** QuorumPeer.CURRENT_EPOCH_FILENAME / ACCEPTED_EPOCH_FILENAME, next to the snapshots. */
export const currentEpochFileName = "currentEpoch";
export const acceptedEpochFileName = "acceptedEpoch";

export interface MemberStoreSettings {
  readonly dataDir: string;
  readonly dataLogDir: string;
  readonly preAllocSizeKb: number;
  readonly fsyncWarningThresholdMs: number;
  /** autopurge.snapRetainCount and autopurge.purgeInterval (hours; 0 = never), as for a standalone server. */
  readonly autopurgeSnapRetainCount: number;
  readonly autopurgePurgeIntervalHours: number;
}

/** What a member finds on its disk at start-up. */
export interface RecoveredMember {
  /** The newest snapshot's state (empty, with only `/` and `/zookeeper`, when there is none). */
  readonly tree: DataTree;
  readonly sessions: readonly SessionEntry[];
  /** The snapshot's zxid: everything up to it is committed and in `tree`. */
  readonly snapshotZxid: bigint;
  /** Logged txns after the snapshot, ascending: the peer's history, not known committed. */
  readonly log: ZabLogEntry<MemberTypes>[];
  readonly currentEpoch: number;
  readonly acceptedEpoch: number;
}

export class MemberStore {
  private log: DiskTxnLog;
  private readonly snapDisk: Disk;
  private readonly logDisk: Disk;
  private readonly snapshots: DiskSnapshotStore;
  /** Persist work runs one batch at a time, in order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly settings: MemberStoreSettings,
    private readonly logger: StorageLogger,
    private readonly treeOptions: { readonly extendedTypesEnabled: boolean },
  ) {
    this.snapDisk = new FileDisk(join(settings.dataDir, versionDirName));
    this.logDisk = new FileDisk(join(settings.dataLogDir, versionDirName));
    this.snapshots = new DiskSnapshotStore(this.snapDisk);
    this.log = this.newLog();
  }

  private newLog(): DiskTxnLog {
    return new DiskTxnLog(this.logDisk, {
      preAllocSizeBytes: this.settings.preAllocSizeKb * 1024,
      fsyncWarningThresholdMs: this.settings.fsyncWarningThresholdMs,
      logger: this.logger,
    });
  }

  async recover(): Promise<RecoveredMember> {
    await this.snapDisk.ensure();
    await this.logDisk.ensure();
    await this.snapshots.removeLeftovers();
    const tree = new DataTree(this.treeOptions);
    let sessions: readonly SessionEntry[] = [];
    let snapshotZxid = 0n;
    for (const file of await this.snapshots.list()) {
      const bytes = await this.snapshots.read(file.name);
      if (!hasSnapshotTrailer(bytes)) continue; // an unfinished snapshot: an older one will do
      const snapshot = decodeSnapshot(bytes);
      tree.loadSnapshot(snapshot.nodes, file.zxid);
      sessions = snapshot.sessions;
      snapshotZxid = file.zxid;
      break;
    }
    const log: ZabLogEntry<MemberTypes>[] = [];
    for await (const batch of this.log.read(snapshotZxid)) {
      for (const entry of batch) log.push({ zxid: entry.header.zxid, txn: { header: entry.header, txn: entry.txn } });
    }
    const lastZxid = log.length > 0 ? log[log.length - 1]!.zxid : snapshotZxid;
    // Without the files (a dataDir from a standalone server, or the first start) both epochs are the last zxid's,
    // as Apache's QuorumPeer.loadDataBase assumes.
    const epochOfLast = Number(lastZxid >> 32n);
    const currentEpoch = (await this.readEpoch(currentEpochFileName)) ?? epochOfLast;
    const acceptedEpoch = Math.max(currentEpoch, (await this.readEpoch(acceptedEpochFileName)) ?? epochOfLast);
    this.logger.info(
      `member storage: snapshot 0x${snapshotZxid.toString(16)}, ${log.length} logged txns after it (last ${hexZxid(lastZxid)}), ` +
        `currentEpoch ${currentEpoch}, acceptedEpoch ${acceptedEpoch}`,
    );
    return { tree, sessions, snapshotZxid, log, currentEpoch, acceptedEpoch };
  }

  private async readEpoch(name: string): Promise<number | undefined> {
    if (!(await this.snapDisk.list()).includes(name)) return undefined;
    const text = (await this.snapDisk.readAll(name)).toString("utf8").trim();
    const epoch = Number(text);
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`${this.snapDisk.location}/${name} holds ${JSON.stringify(text)}, not an epoch number`);
    return epoch;
  }

  /** Makes `ops` durable, in order; resolves when all are on disk. Calls queue behind each other. */
  persist(ops: readonly PersistOp<MemberTypes>[]): Promise<void> {
    const run = this.tail.then(() => this.carryOut(ops));
    this.tail = run.catch(() => {});
    return run;
  }

  private async carryOut(ops: readonly PersistOp<MemberTypes>[]): Promise<void> {
    const appended: Promise<void>[] = [];
    for (const op of ops) {
      if (op.kind === "append") {
        appended.push(this.append(op.entry));
        continue;
      }
      // Anything else waits for the appends before it, so the disk never holds a later change without an earlier one.
      await Promise.all(appended.splice(0));
      switch (op.kind) {
        case "acceptedEpoch":
          await this.writeEpoch(acceptedEpochFileName, op.epoch);
          break;
        case "currentEpoch":
          await this.writeEpoch(currentEpochFileName, op.epoch);
          break;
        case "truncate":
          await this.truncateAfter(op.zxid);
          break;
        case "snapshot":
          await this.replaceWithSnapshot(op.zxid, op.snapshot);
          break;
        default: {
          const never: never = op;
          throw new Error(`unknown persist op ${JSON.stringify(never)}`);
        }
      }
    }
    await Promise.all(appended);
  }

  private append(entry: ZabLogEntry<MemberTypes>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.log.append({ header: entry.txn.header, txn: entry.txn.txn, digest: null }, (error) => (error === null ? resolve() : reject(error)));
    });
  }

  /** Written whole to a temporary file, fsynced, then renamed over the old one: a crash leaves one or the other. */
  private async writeEpoch(name: string, epoch: number): Promise<void> {
    const temporary = `${name}.tmp`;
    const file = this.snapDisk.create(temporary);
    file.write(0, Buffer.from(`${epoch}\n`, "utf8"));
    await file.datasync();
    file.close();
    await this.snapDisk.rename(temporary, name);
    await this.snapDisk.syncDir();
  }

  /** TRUNC: every logged txn after `zxid` goes (Apache FileTxnLog.truncate). */
  private async truncateAfter(zxid: bigint): Promise<void> {
    await this.log.close();
    let cut: { file: string; offset: number } | null = null;
    for await (const batch of this.log.read(zxid)) {
      const first = batch[0];
      if (first !== undefined) cut = { file: first.file, offset: first.offset };
      break;
    }
    if (cut !== null) {
      const files = await this.log.logFiles();
      const cutIndex = files.findIndex((f) => f.name === cut.file);
      for (const later of files.slice(cutIndex + 1)) await this.logDisk.remove(later.name);
      await this.logDisk.truncate(cut.file, cut.offset);
      await this.logDisk.syncDir();
      this.logger.info(`truncated the log after ${hexZxid(zxid)}: ${cut.file} at offset ${cut.offset}`);
    }
    this.log = this.newLog();
  }

  /** SNAP: the leader's snapshot replaces this server's state; no logged txn before or after it stays. */
  private async replaceWithSnapshot(zxid: bigint, snapshot: Buffer): Promise<void> {
    await this.log.close();
    for (const file of await this.log.logFiles()) await this.logDisk.remove(file.name);
    await this.snapshots.save(zxid, [snapshot]);
    this.log = this.newLog();
  }

  /**
   * A snapshot of committed state (the member's tree after its deliveries): the next start-up begins here. Taken
   * between two persists, so the log rolls exactly at it.
   */
  snapshotOf(tree: DataTree, sessions: readonly SessionEntry[]): Promise<void> {
    const run = this.tail.then(async () => {
      const serialized = await serializeTree(tree, sessions, () => null, { nodesPerTurn: Number.POSITIVE_INFINITY });
      this.log.roll();
      await this.snapshots.save(serialized.zxid, serialized.pieces);
      this.logger.info(`snapshot ${hexZxid(serialized.zxid)} taken: ${serialized.nodeCount} nodes, ${serialized.bytes} bytes`);
    });
    this.tail = run.catch(() => {});
    return run;
  }

  /** The state machine as a snapshot file's bytes, for a SNAP to a learner (Apache LearnerHandler serializes the DataTree). */
  static async encodeState(tree: DataTree, sessions: readonly SessionEntry[]): Promise<Buffer> {
    const serialized = await serializeTree(tree, sessions, () => null, { nodesPerTurn: Number.POSITIVE_INFINITY });
    return Buffer.concat(serialized.pieces);
  }

  /**
   * autopurge (Apache DatadirCleanupManager): keep the newest snapRetainCount snapshots and the logs they need,
   * first right away, then every purgeInterval hours. Queued between persists, like a snapshot.
   */
  startAutopurge(): void {
    const { autopurgePurgeIntervalHours: hours, autopurgeSnapRetainCount: count } = this.settings;
    if (hours <= 0) return;
    const run = () => {
      this.tail = this.tail.then(async () => {
        const report = await purge(this.snapDisk, this.logDisk, count, (location, file) => this.logger.info(`Removing file: ${location}/${file.name}`));
        this.logger.info(`Purge task completed: ${report.removed.length} files removed.`);
      }).catch((error: Error) => this.logger.warn(`Error occurred while purging: ${error.message}`));
    };
    this.purgeTimer = setInterval(run, hours * 3_600_000);
    this.purgeTimer.unref();
    run();
  }

  private purgeTimer: NodeJS.Timeout | null = null;

  async close(): Promise<void> {
    if (this.purgeTimer !== null) clearInterval(this.purgeTimer);
    await this.tail;
    await this.log.close();
  }
}
