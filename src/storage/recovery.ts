/**
 * Recovery at startup (Apache FileTxnSnapLog.restore): the newest valid snapshot, then every logged txn after its
 * zxid, in order.
 *
 * - Snapshots are tried newest first; one that is incomplete (no "/" trailer) or fails its checksum is skipped
 *   for the next older one, at most 100 (FileSnap.deserialize).
 * - Replay is idempotent over a fuzzy snapshot (notes §9): NONODE and NODEEXISTS are expected and ignored, and a
 *   create that finds its node still moves the parent's cversion forward (DataTree.setCversionPzxid).
 * - Sessions come from the snapshot plus createSession/closeSession txns.
 * - A torn log tail ends that file quietly; damage (a CRC mismatch...) and a hole in the zxid sequence stop
 *   recovery with an error naming the file and offset: nothing acknowledged is ever dropped in silence.
 * - Digests (3.6+) are checked as Apache checks them: the snapshot's digest once replay reaches its zxid, then
 *   every logged txn's digest. A mismatch means the tree we rebuilt is not the tree that was logged; like Apache
 *   we report it and go on.
 */
import type { DataTree, TxnResult } from "../tree/data-tree.ts";
import { parentOf } from "../tree/paths.ts";
import { zxidCounter, zxidEpoch, type Txn, type TxnHeader } from "../tree/txn.ts";
import { AppliedDigest, treeDigest } from "./digest.ts";
import type { NamedZxid } from "./files.ts";
import { digestVersion, snapshotsTriedMax } from "./limits.ts";
import { decodeSnapshot, hasSnapshotTrailer, type DecodedSnapshot, type ZxidDigest } from "./snapshot-format.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import { hex } from "./txn-codec.ts";
import type { ScanEnd } from "./log-format.ts";
import type { ReadEntry, StorageLogger, TxnLog } from "./txn-log.ts";

export interface RecoveryResult {
  /** The snapshot recovery started from (null: none, an empty database). */
  readonly snapshot: NamedZxid | null;
  /** Live sessions and their timeouts (ms). */
  readonly sessions: Map<bigint, number>;
  /** The zxid of the last txn recovered. */
  readonly lastZxid: bigint;
  readonly txnsReplayed: number;
  readonly tornTails: ReadonlyArray<{ readonly file: string; readonly offset: number; readonly reason: string }>;
  /** Digests compared, and the first mismatch (null: none). */
  readonly digestsChecked: number;
  readonly firstDigestMismatch: string | null;
  /** The tree's digest at the end (the base for the next txns' digests). */
  readonly digest: bigint;
}

/** Recovery cannot go on without losing data. */
export class RecoveryError extends Error {
  override readonly name = "RecoveryError";
}

export interface RecoverOptions {
  readonly logger: StorageLogger;
}

/** Loads the newest valid snapshot into `tree`; returns it, or null when there is none at all. */
export async function loadNewestSnapshot(
  tree: DataTree,
  snaps: SnapshotStore,
  logger: StorageLogger,
): Promise<{ readonly file: NamedZxid; readonly snapshot: DecodedSnapshot } | null> {
  const all = await snaps.list();
  if (all.length === 0) return null;
  let tried = 0;
  for (const file of all) {
    if (tried === snapshotsTriedMax) break;
    const bytes = await snaps.read(file.name);
    if (!hasSnapshotTrailer(bytes)) {
      logger.info(`Invalid snapshot ${file.name}: incomplete (${bytes.length} bytes, no "/" trailer); trying an older one`);
      continue;
    }
    tried++;
    try {
      logger.info(`Reading snapshot ${snaps.location}/${file.name}`);
      const snapshot = decodeSnapshot(bytes);
      tree.loadSnapshot(snapshot.nodes, file.zxid);
      return { file, snapshot };
    } catch (error) {
      logger.warn(`problem reading snap file ${snaps.location}/${file.name}: ${(error as Error).message}; trying an older one`);
    }
  }
  throw new RecoveryError(`Not able to find valid snapshots in ${snaps.location} (${all.length} snapshot files, none intact)`);
}

export async function recover(tree: DataTree, snaps: SnapshotStore, log: TxnLog, options: RecoverOptions): Promise<RecoveryResult> {
  const { logger } = options;
  const loaded = await loadNewestSnapshot(tree, snaps, logger);
  const sessions = new Map<bigint, number>();
  let snapZxid = 0n;
  let snapshotDigest: ZxidDigest | null = null;
  if (loaded === null) {
    const logs = await log.logFiles();
    if (logs.length > 0 && (await hasEntries(log))) {
      throw new RecoveryError(
        `No snapshot found, but there are log entries in ${log.location}. Something is broken! ` +
          `(Apache refuses to start here too, unless zookeeper.snapshot.trust.empty is set.)`,
      );
    }
  } else {
    snapZxid = loaded.file.zxid;
    for (const s of loaded.snapshot.sessions) sessions.set(s.id, s.timeoutMs);
    snapshotDigest = loaded.snapshot.digest;
    // A digest older than the snapshot's name cannot be checked (DataTree.deserializeZxidDigest).
    if (snapshotDigest !== null && snapshotDigest.zxid < snapZxid) snapshotDigest = null;
  }

  const check = new DigestCheck(tree, snapshotDigest, loaded?.file.name ?? "");
  // No snapshot digest to wait for: check every txn from the snapshot on.
  if (snapshotDigest === null || snapshotDigest.zxid === snapZxid) check.reachedSnapshotDigest(snapZxid);

  const tornTails: Array<{ file: string; offset: number; reason: string }> = [];
  let lastZxid = snapZxid;
  let replayed = 0;
  const onTornTail = (file: string, end: ScanEnd) => {
    const reason = end.kind === "torn" ? end.reason : end.kind;
    tornTails.push({ file, offset: end.offset, reason });
    logger.warn(`${log.location}/${file}: the log ends at offset ${end.offset} with ${reason}; that txn was never acknowledged and is not recovered`);
  };
  for await (const batch of log.read(snapZxid, onTornTail)) {
    for (const entry of batch) {
      const zxid = entry.header.zxid;
      if (zxid <= lastZxid) {
        logger.warn(`${entry.file} offset ${entry.offset}: zxid 0x${hex(zxid)} is not after 0x${hex(lastZxid)}; skipped`);
        continue;
      }
      // Within an epoch every txn has the next zxid; a jump means txns were lost.
      if (zxidEpoch(zxid) === zxidEpoch(lastZxid) && zxidCounter(zxid) !== zxidCounter(lastZxid) + 1) {
        throw new RecoveryError(
          `transaction log ${log.location}/${entry.file} at offset ${entry.offset}: zxid 0x${hex(zxid)} follows 0x${hex(lastZxid)}; ` +
            `the txns between them are missing (a log file was lost?). Refusing to start rather than skip them.`,
        );
      }
      check.before(entry);
      if (entry.txn.kind === "createSession") sessions.set(entry.header.sessionId, entry.txn.timeOutMs);
      if (entry.txn.kind === "closeSession") sessions.delete(entry.header.sessionId);
      replayTxn(tree, entry.header, entry.txn);
      check.after(entry);
      lastZxid = zxid;
      replayed++;
    }
  }
  if (check.waitingFor !== null) {
    logger.warn(`Highest txn zxid 0x${hex(lastZxid)} is not covering the snapshot digest zxid 0x${hex(check.waitingFor)}`);
  }
  if (check.firstMismatch !== null) logger.warn(`Digests are not matching: ${check.firstMismatch}`);
  tree.lastProcessedZxid = lastZxid;
  const digestsChecked = check.checked;
  const firstDigestMismatch = check.firstMismatch;
  const digest = check.latest();
  return {
    snapshot: loaded?.file ?? null,
    sessions,
    lastZxid,
    txnsReplayed: replayed,
    tornTails,
    digestsChecked,
    firstDigestMismatch,
    digest,
  };
}

/**
 * Applies one logged txn over a snapshot that may be fuzzy (book chapter 9, notes §9 "服务器的构成"): the snapshot
 * can already hold some effects of txns after its TS, so replaying meets nodes that already exist or are already
 * gone. Txns are idempotent, so those txns change nothing, and the tree ends exactly as the live one did.
 */
export function replayTxn(tree: DataTree, header: TxnHeader, txn: Txn): void {
  // lab 9.4: replay a txn over a fuzzy snapshot: NONODE and NODEEXISTS are expected, not errors
  //   Apply the txn with tree.processTxn(header, txn); it reports NONODE or NODEEXISTS in its result instead of
  //   throwing, and over a fuzzy snapshot both are normal: ignore them. One subtlety, as in Apache's
  //   DataTree.processTxn: a create (header.type "create", or a create inside a multi) that met NODEEXISTS must
  //   still move its parent's cversion and pzxid forward — fixParentCVersion(tree, txn, result, header.zxid).
  const result = tree.processTxn(header, txn);
  if (header.type === "create" || txn.kind === "multi") fixParentCVersion(tree, txn, result, header.zxid);
  // end lab 9.4
}

/** DataTree.processTxn: a create that met NODEEXISTS still sets the parent's cversion and pzxid. */
function fixParentCVersion(tree: DataTree, txn: Txn, result: TxnResult, zxid: bigint): void {
  if (txn.kind === "create" && result.err === "nodeExists") {
    tree.setCversionPzxid(parentOf(txn.path), txn.parentCVersion, zxid);
  } else if (txn.kind === "multi" && result.multi !== undefined) {
    txn.txns.forEach((sub, i) => {
      if (sub.kind === "create" && result.multi![i]?.err === "nodeExists") tree.setCversionPzxid(parentOf(sub.path), sub.parentCVersion, zxid);
    });
  }
}

/** Apache's digest checks during replay (DataTree.compareSnapshotDigests and compareDigest). */
class DigestCheck {
  checked = 0;
  firstMismatch: string | null = null;
  private tracker: AppliedDigest | null = null;

  constructor(
    private readonly tree: DataTree,
    private snapshotDigest: ZxidDigest | null,
    private readonly snapshotName: string,
  ) {}

  /** The zxid whose digest the snapshot recorded, while replay has not reached it. */
  get waitingFor(): bigint | null {
    return this.tracker === null ? (this.snapshotDigest?.zxid ?? null) : null;
  }

  /** Replay has reached the snapshot's digest zxid: the tree is exact from here on. */
  reachedSnapshotDigest(zxid: bigint): void {
    const actual = treeDigest(this.tree);
    const recorded = this.snapshotDigest;
    if (recorded !== null && recorded.version === digestVersion) {
      this.checked++;
      if (actual !== recorded.digest) {
        this.mismatch(`snapshot ${this.snapshotName} says the tree's digest at zxid 0x${hex(zxid)} is ${recorded.digest}, the rebuilt tree's is ${actual}`);
      }
    }
    this.snapshotDigest = null;
    this.tracker = new AppliedDigest(this.tree, actual);
  }

  /** Call before applying `entry`. */
  before(entry: ReadEntry): void {
    this.tracker?.beforeApply(entry.header, entry.txn);
  }

  /** Call after applying `entry`: compares the tree's digest with the one logged with it. */
  after(entry: ReadEntry): void {
    const zxid = entry.header.zxid;
    if (this.tracker !== null) {
      const actual = this.tracker.afterApply();
      if (entry.digest !== null && entry.digest.version === digestVersion) {
        this.checked++;
        if (entry.digest.treeDigest !== actual) {
          this.mismatch(`${entry.file} offset ${entry.offset}: txn 0x${hex(zxid)} (${entry.header.type}) says the tree's digest is ${entry.digest.treeDigest}, the rebuilt tree's is ${actual}`);
        }
      }
    } else if (this.snapshotDigest !== null && zxid === this.snapshotDigest.zxid) {
      this.reachedSnapshotDigest(zxid);
    }
  }

  latest(): bigint {
    return this.tracker === null ? treeDigest(this.tree) : this.tracker.digest;
  }

  private mismatch(text: string): void {
    if (this.firstMismatch === null) this.firstMismatch = text;
  }
}

async function hasEntries(log: TxnLog): Promise<boolean> {
  for await (const batch of log.read(0n)) if (batch.length > 0) return true;
  return false;
}
