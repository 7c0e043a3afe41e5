/**
 * Virtual time for the simulator: a clock that only moves when the next event is taken, and a queue of events
 * ordered by time, then by the order they were scheduled. Nothing depends on the wall clock or on the runtime's
 * scheduling, so the same seed replays the same run (TigerBeetle's VOPR, FoundationDB's simulation).
 */
import { assert } from "../quorum/assert.ts";

export class VirtualClock {
  private now = 0;
  get nowMs(): number {
    return this.now;
  }
  /** Moves time forward (never back). */
  advanceTo(ms: number): void {
    assert(ms >= this.now, `virtual time cannot go back from ${this.now} to ${ms}`);
    this.now = ms;
  }
}

interface Slot<E> {
  readonly atMs: number;
  readonly seq: number;
  readonly event: E;
}

/** A min-heap of events by (time, scheduling order). */
export class EventQueue<E> {
  private readonly heap: Slot<E>[] = [];
  private seq = 0;
  readonly clock = new VirtualClock();

  get size(): number {
    return this.heap.length;
  }
  get nowMs(): number {
    return this.clock.nowMs;
  }

  /** Schedules `event` at `atMs` (not before now). */
  schedule(atMs: number, event: E): void {
    const slot: Slot<E> = { atMs: Math.max(atMs, this.clock.nowMs), seq: this.seq++, event };
    const h = this.heap;
    h.push(slot);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  /** The time of the next event, or Infinity. */
  peekTimeMs(): number {
    return this.heap.length > 0 ? this.heap[0]!.atMs : Number.POSITIVE_INFINITY;
  }

  /** Takes the next event and moves the clock to its time. */
  pop(): E | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    this.clock.advanceTo(top.atMs);
    return top.event;
  }
}

function before<E>(a: Slot<E>, b: Slot<E>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
