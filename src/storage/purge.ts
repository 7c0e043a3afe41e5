/**
 * Purging old snapshots and logs (Apache PurgeTxnLog, run by zkCleanup.sh and by the server every
 * `autopurge.purgeInterval` hours keeping `autopurge.snapRetainCount` snapshots).
 *
 * Keep the newest `count` valid snapshots; let S be the zxid of the oldest of them. Delete every snapshot and log
 * whose name's zxid is below S — except the newest log that starts at or before S, which may hold the txns right
 * after snapshot S and is needed to recover from it.
 */
import type { Disk } from "./disk.ts";
import { logsFrom, sortByZxid, type NamedZxid } from "./files.ts";
import { logFilePrefix, purgeRetainCountMin, snapshotBytesMin, snapshotFilePrefix } from "./limits.ts";

export interface PurgePlan {
  /** The snapshots kept (newest first). */
  readonly retained: readonly NamedZxid[];
  /** The zxid below which files go (S above); null when there is no valid snapshot and nothing is purged. */
  readonly leastZxid: bigint | null;
  readonly removeSnapshots: readonly NamedZxid[];
  readonly removeLogs: readonly NamedZxid[];
}

/** SnapStream.isValidSnapshot: the last 5 bytes are int 1 and '/'. */
export async function snapshotLooksValid(disk: Disk, name: string): Promise<boolean> {
  const file = await disk.open(name);
  try {
    if (file.size < snapshotBytesMin) return false;
    const tail = await file.read(file.size - 5, 5);
    return tail.length === 5 && tail.readInt32BE(0) === 1 && tail[4] === 0x2f;
  } finally {
    await file.close();
  }
}

export async function planPurge(snapDisk: Disk, logDisk: Disk, retainCount: number): Promise<PurgePlan> {
  // lab 10.5: autopurge: keep the newest N valid snapshots and every log needed to replay them
  //   Refuse retainCount < 3 (purgeRetainCountMin) with a RangeError. List the snapshots newest first and keep
  //   the first retainCount that `snapshotLooksValid`; none: purge nothing (leastZxid null). Else S = the zxid of
  //   the oldest kept one: remove snapshots below S (oldest first), and logs below S except the ones
  //   `logsFrom(logs, S)` says hold txns after S (the newest log starting at or before S).
  if (retainCount < purgeRetainCountMin) throw new RangeError(`count should be greater than or equal to ${purgeRetainCountMin}`);
  const snapshots = sortByZxid(await snapDisk.list(), snapshotFilePrefix).reverse();
  const retained: NamedZxid[] = [];
  for (const snapshot of snapshots) {
    if (retained.length === retainCount) break;
    if (await snapshotLooksValid(snapDisk, snapshot.name)) retained.push(snapshot);
  }
  if (retained.length === 0) return { retained, leastZxid: null, removeSnapshots: [], removeLogs: [] };
  const leastZxid = retained[retained.length - 1]!.zxid;
  const logs = sortByZxid(await logDisk.list(), logFilePrefix);
  const needed = new Set(logsFrom(logs, leastZxid).map((log) => log.name));
  return {
    retained,
    leastZxid,
    removeSnapshots: snapshots.filter((s) => s.zxid < leastZxid).reverse(),
    removeLogs: logs.filter((log) => log.zxid < leastZxid && !needed.has(log.name)),
  };
  // end lab 10.5
}

export interface PurgeReport {
  readonly plan: PurgePlan;
  readonly removed: string[];
}

/** Plans and deletes; `onRemove` hears of each file before it goes (PurgeTxnLog prints "Removing file: ..."). */
export async function purge(
  snapDisk: Disk,
  logDisk: Disk,
  retainCount: number,
  onRemove: (location: string, file: NamedZxid) => void = () => {},
): Promise<PurgeReport> {
  const plan = await planPurge(snapDisk, logDisk, retainCount);
  const removed: string[] = [];
  for (const log of plan.removeLogs) {
    onRemove(logDisk.location, log);
    await logDisk.remove(log.name);
    removed.push(log.name);
  }
  for (const snapshot of plan.removeSnapshots) {
    onRemove(snapDisk.location, snapshot);
    await snapDisk.remove(snapshot.name);
    removed.push(snapshot.name);
  }
  return { plan, removed };
}
