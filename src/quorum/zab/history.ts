/**
 * A server's Zab history in memory: the txns it has logged, how far they are known committed, and how far they
 * were delivered to the state machine (Apache keeps the last `committedLogCountMax` of these in
 * `ZKDatabase.committedLog` for DIFFs; older ones are only in the log files and the snapshot).
 *
 *   floorZxid ─ entries (zxid ascending) ─ lastZxid
 *        deliveredZxid ≤ committedZxid ≤ lastZxid;  floorZxid ≤ deliveredZxid
 *
 * Everything up to `floorZxid` is in the state machine (or a snapshot) and no longer here; nothing undelivered is
 * ever dropped from memory, so a leader can always send a SNAP at `deliveredZxid` followed by the rest.
 */
import { assert, hexZxid } from "../assert.ts";
import type { LogEntry, ZabTypes } from "./messages.ts";

/** Apache `ZKDatabase.commitLogCount`: committed proposals kept in memory to sync followers with a DIFF. */
export const committedLogCountMaxDefault = 500;

export class History<T extends ZabTypes> {
  private readonly entries: LogEntry<T>[] = [];
  private floor: bigint;
  private committed: bigint;
  private delivered: bigint;

  /**
   * @param appliedZxid what the state machine already holds (0 for an empty one, a snapshot's zxid after recovery)
   * @param logged the logged txns after appliedZxid, ascending (recovered from the log; not yet known committed)
   */
  constructor(
    appliedZxid: bigint,
    logged: readonly LogEntry<T>[],
    private readonly committedLogCountMax: number = committedLogCountMaxDefault,
  ) {
    assert(committedLogCountMax >= 0, "committedLogCountMax must be >= 0");
    this.floor = appliedZxid;
    this.committed = appliedZxid;
    this.delivered = appliedZxid;
    for (const e of logged) this.append(e);
  }

  get floorZxid(): bigint {
    return this.floor;
  }
  get lastZxid(): bigint {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.zxid : this.floor;
  }
  get committedZxid(): bigint {
    return this.committed;
  }
  get deliveredZxid(): bigint {
    return this.delivered;
  }
  get size(): number {
    return this.entries.length;
  }

  /** Appends a txn; zxids strictly increase (a zxid going backwards is a crash with a message). */
  append(entry: LogEntry<T>): void {
    assert(entry.zxid > this.lastZxid, () => `zxid ${hexZxid(entry.zxid)} is not after the last logged ${hexZxid(this.lastZxid)}`);
    this.entries.push(entry);
  }

  /** Whether `zxid` is a txn of this history that is still in memory (or the floor itself). */
  contains(zxid: bigint): boolean {
    if (zxid === this.floor) return true;
    return this.indexOf(zxid) >= 0;
  }

  /** The largest zxid of this history (the floor included) that is <= `zxid`; undefined below the floor. */
  lastAtOrBefore(zxid: bigint): bigint | undefined {
    if (zxid < this.floor) return undefined;
    let lo = 0;
    let hi = this.entries.length - 1;
    let best = this.floor;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const z = this.entries[mid]!.zxid;
      if (z <= zxid) {
        best = z;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  /** The entries after `zxid` (which must be the floor or later), ascending. */
  after(zxid: bigint): LogEntry<T>[] {
    assert(zxid >= this.floor, () => `entries after ${hexZxid(zxid)} are gone (memory starts after ${hexZxid(this.floor)})`);
    return this.entries.slice(this.firstIndexAfter(zxid));
  }

  entry(zxid: bigint): LogEntry<T> | undefined {
    const i = this.indexOf(zxid);
    return i >= 0 ? this.entries[i] : undefined;
  }

  /** TRUNC: forget every entry after `zxid`. Truncating a delivered (committed) txn breaks Zab: a crash. */
  truncate(zxid: bigint): void {
    assert(zxid >= this.delivered, () => `TRUNC to ${hexZxid(zxid)} would undo delivered txns up to ${hexZxid(this.delivered)}`);
    assert(this.contains(zxid), () => `TRUNC to ${hexZxid(zxid)}, which this server never logged`);
    assert(zxid >= this.committed, () => `TRUNC to ${hexZxid(zxid)} would undo txns known committed up to ${hexZxid(this.committed)}`);
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.zxid > zxid) this.entries.pop();
  }

  /** SNAP: the state machine is replaced by a snapshot at `zxid`; no txn is left in memory. */
  resetTo(zxid: bigint): void {
    this.entries.length = 0;
    this.floor = zxid;
    this.committed = zxid;
    this.delivered = zxid;
  }

  /** Marks everything up to `zxid` committed (never backwards; `zxid` must be logged). */
  commitThrough(zxid: bigint): void {
    if (zxid <= this.committed) return;
    assert(zxid <= this.lastZxid, () => `commit of ${hexZxid(zxid)} beyond the last logged ${hexZxid(this.lastZxid)}`);
    this.committed = zxid;
  }

  /**
   * A learner handed `zxid` to the state machine itself (lab 9.5's seam, `FollowerIo.deliver`): everything up to it
   * counts as committed and delivered. Never backwards; `zxid` must be logged.
   */
  markDelivered(zxid: bigint): void {
    this.commitThrough(zxid);
    if (zxid > this.delivered) this.delivered = zxid;
  }

  /** Takes the committed txns not yet delivered, ascending, and forgets old delivered ones beyond the window. */
  takeDeliverable(): LogEntry<T>[] {
    const out: LogEntry<T>[] = [];
    if (this.committed > this.delivered) {
      for (let i = this.firstIndexAfter(this.delivered); i < this.entries.length; i++) {
        const e = this.entries[i]!;
        if (e.zxid > this.committed) break;
        out.push(e);
      }
      this.delivered = this.committed;
    }
    this.prune();
    return out;
  }

  private prune(): void {
    // Binary search, not a walk: this runs on every commit, with up to committedLogCountMax delivered entries.
    const deliveredCount = this.firstIndexAfter(this.delivered);
    const drop = deliveredCount - this.committedLogCountMax;
    if (drop > 0) {
      this.floor = this.entries[drop - 1]!.zxid;
      this.entries.splice(0, drop);
    }
  }

  /** The index of the first entry with a zxid above `zxid` (entries.length if none). */
  private firstIndexAfter(zxid: bigint): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(zxid: bigint): number {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const z = this.entries[mid]!.zxid;
      if (z === zxid) return mid;
      if (z < zxid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
