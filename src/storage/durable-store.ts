/**
 * The server's durable storage (Apache ZKDatabase + FileTxnSnapLog + SyncRequestProcessor + DatadirCleanupManager),
 * plugged into the server core at its `TxnSink` seam:
 *
 *   recoverInto(server)   before listening: newest snapshot + log replay, sessions back in the tracker, a fresh
 *                         snapshot of the recovered state (Apache takes one at every start)
 *   append(txn, done)     log it (with the tree digest it will produce), call `done` once its batch is fsynced —
 *                         only then does the server apply it and answer the client
 *   every snapCount/2 + random(snapCount/2) txns: roll the log and take a fuzzy snapshot while serving goes on
 *   every autopurge.purgeInterval hours: keep autopurge.snapRetainCount snapshots and the logs they need
 */
import { join } from "node:path";
import type { DataTree } from "../tree/data-tree.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";
import { PendingDigests, treeDigest } from "./digest.ts";
import { FileDisk, type Disk } from "./disk.ts";
import { snapshotFileName } from "./files.ts";
import { serializeTree, type SerializedSnapshot } from "./fuzzy-snapshot.ts";
import { digestVersion, logFilePrefix, snapshotFilePrefix, versionDirName } from "./limits.ts";
import { purge, type PurgeReport } from "./purge.ts";
import { recover, RecoveryError, type RecoveryResult } from "./recovery.ts";
import type { SessionEntry, ZxidDigest } from "./snapshot-format.ts";
import { DiskSnapshotStore } from "./snapshot-store.ts";
import { hex } from "./txn-codec.ts";
import { DiskTxnLog, type StorageLogger } from "./txn-log.ts";

/** The zoo.cfg settings storage uses (a ZooConfig fits). */
export interface StorageSettings {
  readonly dataDir: string;
  readonly dataLogDir: string;
  readonly preAllocSizeKb: number;
  readonly snapCount: number;
  readonly autopurgeSnapRetainCount: number;
  readonly autopurgePurgeIntervalHours: number;
  readonly fsyncWarningThresholdMs: number;
}

/** What storage needs of the server (a ZooKeeperServer fits). */
export interface ServerState {
  readonly tree: DataTree;
  readonly sessions: {
    add(id: bigint, timeoutMs: number, nowMs: number): void;
    all(): Iterable<{ readonly id: bigint; readonly timeoutMs: number }>;
  };
  setLastZxid(zxid: bigint): void;
  readonly options: { readonly clock: { nowMs(): number } };
}

export interface DurableStoreOptions {
  readonly logger: StorageLogger;
  /** [0, 1): where in the second half of snapCount the next snapshot comes (Apache's randRoll). Inject for tests. */
  readonly random?: () => number;
  /** The directories, as disks; default: `<dataDir>/version-2` and `<dataLogDir>/version-2` on the file system. */
  readonly snapDisk?: Disk;
  readonly logDisk?: Disk;
  /** The log or a snapshot failed to write: the server must stop (Apache exits). Default: throw. */
  readonly onFatal?: (error: Error) => void;
  /** Nodes serialized per event-loop turn by a fuzzy snapshot. */
  readonly nodesPerTurn?: number;
  /** Monotonic ms, for timings. */
  readonly nowMs?: () => number;
  /** Told about every snapshot written (tests, metrics). */
  readonly onSnapshot?: (snapshot: SnapshotTaken) => void;
}

export interface SnapshotTaken {
  readonly name: string;
  readonly zxid: bigint;
  /** The tree's zxid when serialization ended; above `zxid` the snapshot is fuzzy. */
  readonly endZxid: bigint;
  readonly nodeCount: number;
  readonly bytes: number;
  readonly ms: number;
  readonly atStartup: boolean;
}

/** The queue of txns awaiting their fsync drops its finished front once it holds this many (see `onDurable`). */
const awaitingCompactAfter = 4096;

export class DurableStore {
  readonly log: DiskTxnLog;
  readonly snapshots: DiskSnapshotStore;
  readonly snapDisk: Disk;
  readonly logDisk: Disk;
  recovery: RecoveryResult | null = null;
  readonly stats = { snapshotsTaken: 0, snapshotsSkipped: 0, purges: 0 };
  private state: ServerState | null = null;
  private digests: PendingDigests | null = null;
  private txnsSinceRoll = 0;
  private snapshotAfterTxns: number;
  private running: Promise<void> | null = null;
  private purgeTimer: NodeJS.Timeout | null = null;
  private purging: Promise<unknown> | null = null;
  private closed = false;
  private readonly random: () => number;
  private readonly nowMs: () => number;

  constructor(
    readonly settings: StorageSettings,
    private readonly options: DurableStoreOptions,
  ) {
    this.snapDisk = options.snapDisk ?? new FileDisk(join(settings.dataDir, versionDirName));
    this.logDisk = options.logDisk ?? new FileDisk(join(settings.dataLogDir, versionDirName));
    this.random = options.random ?? Math.random;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.log = new DiskTxnLog(this.logDisk, {
      preAllocSizeBytes: settings.preAllocSizeKb * 1024,
      fsyncWarningThresholdMs: settings.fsyncWarningThresholdMs,
      logger: options.logger,
      nowMs: this.nowMs,
    });
    this.snapshots = new DiskSnapshotStore(this.snapDisk);
    this.snapshotAfterTxns = this.nextSnapshotAfter();
  }

  /** SyncRequestProcessor.resetSnapshotStats: snapCount/2 + a random share of the other half. */
  private nextSnapshotAfter(): number {
    const half = Math.floor(this.settings.snapCount / 2);
    return half + Math.floor(this.random() * half);
  }

  // ---------------------------------------------------------------- startup

  /** Rebuilds the server's state from disk. Call before the server accepts clients. */
  async recoverInto(state: ServerState): Promise<RecoveryResult> {
    const { logger } = this.options;
    const started = this.nowMs();
    this.state = state;
    await this.snapDisk.ensure();
    await this.logDisk.ensure();
    await this.checkDirectories();
    const leftovers = await this.snapshots.removeLeftovers();
    if (leftovers.length > 0) logger.info(`removed unfinished snapshot files ${leftovers.join(", ")}`);

    const result = await recover(state.tree, this.snapshots, this.log, { logger });
    const tree = state.tree;
    // ZooKeeperServer.loadData: ephemerals whose session is gone go now, without a txn.
    let killed = 0;
    for (const owner of [...tree.ephemeralsBySession().keys()]) {
      if (result.sessions.has(owner)) continue;
      tree.processTxn(
        { sessionId: owner, cxid: 0, zxid: result.lastZxid, timeMs: 0n, type: "closeSession" },
        { kind: "closeSession", paths2Delete: [] },
      );
      killed++;
    }
    tree.lastProcessedZxid = result.lastZxid;
    const now = state.options.clock.nowMs();
    // Sessions come back with their timeouts and expire as usual unless their clients return.
    for (const [id, timeoutMs] of result.sessions) state.sessions.add(id, timeoutMs, now);
    state.setLastZxid(result.lastZxid);
    this.digests = new PendingDigests(tree, killed > 0 ? treeDigest(tree) : result.digest);
    this.recovery = result;
    logger.info(
      `recovered zxid 0x${hex(result.lastZxid)} from ${result.snapshot?.name ?? "no snapshot"} + ${result.txnsReplayed} txns ` +
        `in ${Math.round(this.nowMs() - started)} ms; ${result.sessions.size} sessions, ${tree.nodeCount} nodes` +
        (result.digestsChecked > 0 ? `; ${result.digestsChecked} digests checked` : ""),
    );

    // Apache takes a snapshot at every start: afterwards no log is without a snapshot before it.
    const snapshotStarted = this.nowMs();
    const serialized = await serializeTree(tree, this.sessionEntries(), () => this.digestNow(), { nodesPerTurn: Infinity });
    await this.writeSnapshot(serialized, true, snapshotStarted);
    this.startAutopurge();
    return result;
  }

  /** FileTxnSnapLog: with separate directories, snapshots and logs must not be mixed up. */
  private async checkDirectories(): Promise<void> {
    if (this.snapDisk.location === this.logDisk.location) return;
    if ((await this.logDisk.list()).some((name) => name.startsWith(`${snapshotFilePrefix}.`))) {
      throw new RecoveryError(`Log directory ${this.logDisk.location} has snapshot files. Check if dataLogDir and dataDir configuration is correct.`);
    }
    if ((await this.snapDisk.list()).some((name) => name.startsWith(`${logFilePrefix}.`))) {
      throw new RecoveryError(`Snapshot directory ${this.snapDisk.location} has log files. Check if dataLogDir and dataDir configuration is correct.`);
    }
  }

  // ---------------------------------------------------------------- the write path

  /**
   * The `done` of every appended txn not yet durable, with its zxid, oldest first from `awaitingHead`. The log
   * reports txns durable in append order, so one callback (`onDurable`) serves them all — no closure per txn.
   */
  private awaitingDone: Array<() => void> = [];
  private awaitingZxid: bigint[] = [];
  private awaitingHead = 0;

  /** TxnSink.append: `done` runs once the txn is on disk, in append order. */
  append(header: TxnHeader, txn: Txn, done: () => void): void {
    const digests = this.digests;
    if (digests === null) throw new Error("storage: a txn was appended before recovery");
    const treeDigest = digests.afterTxn(header, txn);
    // PrepRequestProcessor gives a failed request's error txn no digest.
    const digest = header.type === "error" ? null : { version: digestVersion, treeDigest };
    this.awaitingDone.push(done);
    this.awaitingZxid.push(header.zxid);
    this.log.append({ header, txn, digest }, this.onDurable);
    if (++this.txnsSinceRoll > this.snapshotAfterTxns) this.rollAndSnapshot();
  }

  /** The oldest awaiting txn is on disk: the server may apply it and answer; the tree then holds its changes. */
  private readonly onDurable = (error: Error | null): void => {
    const at = this.awaitingHead++;
    const done = this.awaitingDone[at]!;
    const zxid = this.awaitingZxid[at]!;
    if (this.awaitingHead === this.awaitingDone.length) {
      this.awaitingDone = [];
      this.awaitingZxid = [];
      this.awaitingHead = 0;
    } else if (this.awaitingHead >= awaitingCompactAfter) {
      // Under steady load the queue never empties: drop the finished front now and then.
      this.awaitingDone = this.awaitingDone.slice(this.awaitingHead);
      this.awaitingZxid = this.awaitingZxid.slice(this.awaitingHead);
      this.awaitingHead = 0;
    }
    if (error !== null) {
      this.fatal(error);
      return;
    }
    done();
    this.digests!.markApplied(zxid);
  };

  private rollAndSnapshot(): void {
    this.txnsSinceRoll = 0;
    this.snapshotAfterTxns = this.nextSnapshotAfter();
    this.log.roll();
    if (this.running !== null) {
      this.stats.snapshotsSkipped++;
      this.options.logger.warn("Too busy to snap, skipping");
      return;
    }
    this.running = this.fuzzySnapshot()
      .catch((error: Error) => this.fatal(error))
      .finally(() => {
        this.running = null;
      });
  }

  /** Rolls the log and takes a fuzzy snapshot now; resolves when it is on disk. */
  async snapshotNow(): Promise<void> {
    if (this.running === null) {
      this.txnsSinceRoll = 0;
      this.log.roll();
      this.running = this.fuzzySnapshot().finally(() => {
        this.running = null;
      });
    }
    await this.running;
  }

  private async fuzzySnapshot(): Promise<void> {
    const state = this.requireState();
    const started = this.nowMs();
    this.options.logger.info(`Snapshotting: 0x${hex(state.tree.lastProcessedZxid)} to ${this.snapshots.location}/${snapshotFileName(state.tree.lastProcessedZxid)}`);
    const serialized = await serializeTree(state.tree, this.sessionEntries(), () => this.digestNow(), {
      nodesPerTurn: this.options.nodesPerTurn,
      checksumInThreadPool: true,
    });
    await this.writeSnapshot(serialized, false, started);
  }

  private async writeSnapshot(serialized: SerializedSnapshot, atStartup: boolean, started: number): Promise<void> {
    await this.snapshots.save(serialized.zxid, serialized.pieces);
    this.stats.snapshotsTaken++;
    const taken: SnapshotTaken = {
      name: snapshotFileName(serialized.zxid),
      zxid: serialized.zxid,
      endZxid: serialized.endZxid,
      nodeCount: serialized.nodeCount,
      bytes: serialized.bytes,
      ms: this.nowMs() - started,
      atStartup,
    };
    this.options.logger.info(
      `Snapshot ${taken.name} taken in ${Math.round(taken.ms)} ms: ${taken.nodeCount} nodes, ${taken.bytes} bytes` +
        (taken.endZxid > taken.zxid ? `, fuzzy up to 0x${hex(taken.endZxid)}` : ""),
    );
    this.options.onSnapshot?.(taken);
  }

  private sessionEntries(): SessionEntry[] {
    return [...this.requireState().sessions.all()].map((s) => ({ id: s.id, timeoutMs: s.timeoutMs }));
  }

  /** The snapshot trailer: the tree's zxid and digest right now (zeros before any txn, as Apache). */
  private digestNow(): ZxidDigest {
    const tree = this.requireState().tree;
    if (tree.lastProcessedZxid === 0n) return { zxid: 0n, version: digestVersion, digest: 0n };
    const applied = this.digests?.applied;
    if (applied === undefined || applied.zxid !== tree.lastProcessedZxid) {
      return { zxid: tree.lastProcessedZxid, version: digestVersion, digest: treeDigest(tree) };
    }
    return { zxid: applied.zxid, version: digestVersion, digest: applied.digest };
  }

  private requireState(): ServerState {
    if (this.state === null) throw new Error("storage: not recovered yet");
    return this.state;
  }

  private fatal(error: Error): void {
    this.options.logger.warn(`Severe unrecoverable error, exiting: ${error.message}`);
    if (this.options.onFatal !== undefined) this.options.onFatal(error);
    else
      setImmediate(() => {
        throw error;
      });
  }

  // ---------------------------------------------------------------- purge

  private startAutopurge(): void {
    const { autopurgePurgeIntervalHours: hours, autopurgeSnapRetainCount: count } = this.settings;
    if (hours <= 0) {
      this.options.logger.info("Purge task is not scheduled.");
      return;
    }
    // DatadirCleanupManager: first run right away, then every interval.
    const run = () => {
      if (this.purging !== null || this.closed) return;
      this.purging = this.purgeNow(count)
        .catch((error: Error) => this.options.logger.warn(`Error occurred while purging: ${error.message}`))
        .finally(() => {
          this.purging = null;
        });
    };
    this.purgeTimer = setInterval(run, hours * 3_600_000);
    this.purgeTimer.unref();
    run();
  }

  /** Keeps `retainCount` snapshots and the logs they need (PurgeTxnLog.purge). */
  async purgeNow(retainCount = this.settings.autopurgeSnapRetainCount): Promise<PurgeReport> {
    const { logger } = this.options;
    logger.info("Purge task started.");
    const report = await purge(this.snapDisk, this.logDisk, retainCount, (location, file) => logger.info(`Removing file: ${location}/${file.name}`));
    this.stats.purges++;
    logger.info(`Purge task completed: ${report.removed.length} files removed.`);
    return report;
  }

  // ---------------------------------------------------------------- shutdown

  /** Waits for the log to be durable and a running snapshot to finish, then closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.purgeTimer !== null) clearInterval(this.purgeTimer);
    await this.running;
    await this.purging;
    await this.log.close();
  }
}
