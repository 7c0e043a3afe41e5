/**
 * A simulated disk for one server: what it wrote, and what of that is durable.
 *
 * Writes land in a volatile queue; `syncThrough` (the end of an fsync) makes them durable. A crash keeps a random
 * prefix of the unsynced writes (the page cache flushed part of them) and may leave the next one torn — half an
 * entry at the end of the log, which recovery must recognise and drop (reference §5: "a short read … means end of
 * log"). Synced data is never lost. Applying writes in order to one image is a simplification: Apache keeps the
 * epochs in their own files, written with a rename.
 */
import { assert } from "../quorum/assert.ts";
import type { LogEntry, PersistOp, RecoveredState, ZabTypes } from "../quorum/index.ts";
import type { Random } from "./random.ts";

export interface LogRecord<T extends ZabTypes> {
  readonly entry: LogEntry<T>;
  /** Half-written: its checksum would not match. */
  readonly torn: boolean;
}

export interface DiskImage<T extends ZabTypes> {
  currentEpoch: number;
  acceptedEpoch: number;
  snapshot: { readonly zxid: bigint; readonly data: T["snapshot"] } | null;
  log: LogRecord<T>[];
}

export interface CrashDamage {
  /** Unsynced writes that survived anyway. */
  readonly kept: number;
  readonly lost: number;
  /** Whether the first lost write left a torn record. */
  readonly torn: boolean;
}

export interface DiskRecovery<T extends ZabTypes> {
  readonly state: RecoveredState<T>;
  readonly snapshot: { readonly zxid: bigint; readonly data: T["snapshot"] } | null;
  /** Torn records found at the end of the log and dropped. */
  readonly tornDropped: number;
}

export class SimDisk<T extends ZabTypes> {
  private readonly image: DiskImage<T> = { currentEpoch: 0, acceptedEpoch: 0, snapshot: null, log: [] };
  private pending: { readonly seq: number; readonly op: PersistOp<T> }[] = [];
  private writtenSeq = 0;
  private syncedSeq = 0;

  /** The number of the last write issued. */
  get lastWritten(): number {
    return this.writtenSeq;
  }
  get lastSynced(): number {
    return this.syncedSeq;
  }
  /** The durable image (read-only use: checkers and tests). */
  get durable(): Readonly<DiskImage<T>> {
    return this.image;
  }

  write(op: PersistOp<T>): number {
    this.writtenSeq++;
    this.pending.push({ seq: this.writtenSeq, op });
    return this.writtenSeq;
  }

  /** An fsync finished: every write up to `seq` is durable. */
  syncThrough(seq: number): void {
    assert(seq <= this.writtenSeq, `sync of write ${seq} that was never issued`);
    while (this.pending.length > 0 && this.pending[0]!.seq <= seq) apply(this.image, this.pending.shift()!.op);
    this.syncedSeq = Math.max(this.syncedSeq, seq);
  }

  /** The process dies: unsynced writes survive as a random prefix, the next one perhaps torn. */
  crash(random: Random, tornProbability: number): CrashDamage {
    const n = this.pending.length;
    const kept = random.int(0, n);
    for (let i = 0; i < kept; i++) apply(this.image, this.pending[i]!.op);
    let torn = false;
    const next = this.pending[kept];
    if (next !== undefined && next.op.kind === "append" && random.chance(tornProbability)) {
      this.image.log.push({ entry: next.op.entry, torn: true });
      torn = true;
    }
    this.pending = [];
    this.syncedSeq = this.writtenSeq;
    return { kept, lost: n - kept, torn };
  }

  /** What a restarted server reads back: the snapshot, the epochs, the log up to the first torn record. */
  recover(): DiskRecovery<T> {
    assert(this.pending.length === 0, "recover() with writes in flight: crash first");
    const firstTorn = this.image.log.findIndex((r) => r.torn);
    let tornDropped = 0;
    if (firstTorn >= 0) {
      tornDropped = this.image.log.length - firstTorn;
      this.image.log.length = firstTorn; // the repair: the log ends before the torn record
    }
    const appliedZxid = this.image.snapshot?.zxid ?? 0n;
    return {
      state: {
        currentEpoch: this.image.currentEpoch,
        acceptedEpoch: this.image.acceptedEpoch,
        appliedZxid,
        log: this.image.log.map((r) => r.entry),
      },
      snapshot: this.image.snapshot,
      tornDropped,
    };
  }

  /** Whether `zxid` (a committed txn) is durable here: in an intact log record, or under the snapshot. */
  durablyHas(zxid: bigint): boolean {
    if (this.image.snapshot !== null && this.image.snapshot.zxid >= zxid) return true;
    for (const r of this.image.log) if (!r.torn && r.entry.zxid === zxid) return true;
    return false;
  }
}

function apply<T extends ZabTypes>(image: DiskImage<T>, op: PersistOp<T>): void {
  switch (op.kind) {
    case "acceptedEpoch":
      image.acceptedEpoch = op.epoch;
      break;
    case "currentEpoch":
      image.currentEpoch = op.epoch;
      break;
    case "append": {
      const last = image.log[image.log.length - 1];
      assert(last === undefined || last.torn || last.entry.zxid < op.entry.zxid, "log append out of zxid order");
      image.log.push({ entry: op.entry, torn: false });
      break;
    }
    case "truncate":
      assert(image.snapshot === null || image.snapshot.zxid <= op.zxid, "truncate below the snapshot");
      image.log = image.log.filter((r) => r.entry.zxid <= op.zxid);
      break;
    case "snapshot":
      image.snapshot = { zxid: op.zxid, data: op.snapshot };
      image.log = [];
      break;
    default: {
      const never: never = op;
      throw new Error(`unknown persist op ${JSON.stringify(never)}`);
    }
  }
}
