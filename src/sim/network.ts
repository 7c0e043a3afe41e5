/**
 * A simulated network between servers, with two kinds of traffic as in ZooKeeper:
 *
 *  - election notifications are datagrams here: each may be delayed, lost, duplicated or overtaken by a later one
 *    (Apache sends them over TCP too, but fast leader election re-sends and tolerates all of this);
 *  - Zab packets travel on quorum connections, which behave like TCP: FIFO, no duplicates, no gaps. A packet that
 *    cannot be delivered (a partition, a random loss) breaks its connection instead: it and everything after it on
 *    that connection are lost, silently, and the cores find out from their timeouts. A connection closed on purpose
 *    or by a crash is noticed by the other side when the path is up (FIN/RST).
 *
 * Partitions block directed pairs, so one-way partitions are possible. All randomness comes from the seeded
 * `Random` passed in.
 */
import type { Random } from "./random.ts";

export interface NetworkFaults {
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  /** Probability that a notification is lost. */
  readonly dropProbability: number;
  /** Probability that a notification arrives twice. */
  readonly duplicateProbability: number;
  /** Probability that a notification takes up to `reorderDelayMsMax` longer, letting later ones overtake it. */
  readonly reorderProbability: number;
  readonly reorderDelayMsMax: number;
  /** Probability that a Zab packet breaks its quorum connection. */
  readonly streamBreakProbability: number;
}

export const calmNetwork: NetworkFaults = {
  delayMsMin: 1,
  delayMsMax: 3,
  dropProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderDelayMsMax: 0,
  streamBreakProbability: 0,
};

interface Stream {
  /** Bumped whenever the connection is replaced or broken; packets carry the generation they were sent in. */
  gen: number;
  alive: boolean;
}

export type StreamSend = { readonly ok: true; readonly atMs: number; readonly gen: number } | { readonly ok: false; readonly why: string };

export class SimNetwork {
  private readonly blocked = new Set<string>();
  private readonly streams = new Map<string, Stream>();
  /** Per directed pair, when the last stream packet arrives: later ones may not arrive before it (FIFO). */
  private readonly lastArrival = new Map<string, number>();

  constructor(
    private readonly random: Random,
    public faults: NetworkFaults,
  ) {}

  canReach(from: number, to: number): boolean {
    return !this.blocked.has(pairKey(from, to));
  }

  /** Cuts every link between servers of different groups (both ways). */
  partition(groups: readonly (readonly number[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.blocked.add(pairKey(x, y));
      }
    }
  }

  /** Cuts `from` → `to` only. */
  block(from: number, to: number): void {
    this.blocked.add(pairKey(from, to));
  }

  heal(): void {
    this.blocked.clear();
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }

  /** When copies of a notification arrive: [] lost, one time, or two (duplicated). */
  datagram(from: number, to: number, nowMs: number): number[] {
    if (!this.canReach(from, to) || this.random.chance(this.faults.dropProbability)) return [];
    const copies = this.random.chance(this.faults.duplicateProbability) ? 2 : 1;
    const out: number[] = [];
    for (let i = 0; i < copies; i++) {
      let at = nowMs + this.delay();
      if (this.random.chance(this.faults.reorderProbability)) at += this.random.next() * this.faults.reorderDelayMsMax;
      out.push(at);
    }
    return out;
  }

  /** A learner opens a new quorum connection to `to`; any earlier one between the two is gone. */
  connect(from: number, to: number): void {
    const s = this.stream(from, to);
    s.gen++;
    s.alive = true;
  }

  /** Closes the connection between the two. True when it was open (the other side may be told). */
  close(a: number, b: number): boolean {
    const s = this.stream(a, b);
    if (!s.alive) return false;
    s.alive = false;
    s.gen++;
    return true;
  }

  /** Sends one packet on the connection: when it arrives, or why it never will. */
  streamSend(from: number, to: number, nowMs: number): StreamSend {
    const s = this.stream(from, to);
    if (!s.alive) return { ok: false, why: "no connection" };
    if (!this.canReach(from, to)) {
      this.close(from, to);
      return { ok: false, why: "partitioned: connection broken" };
    }
    if (this.random.chance(this.faults.streamBreakProbability)) {
      this.close(from, to);
      return { ok: false, why: "lost: connection broken" };
    }
    const key = pairKey(from, to);
    const at = Math.max(nowMs + this.delay(), this.lastArrival.get(key) ?? 0);
    this.lastArrival.set(key, at);
    return { ok: true, atMs: at, gen: s.gen };
  }

  /** At arrival: is the connection the packet was sent on still the current one, and the path still up? */
  streamArrives(from: number, to: number, gen: number): boolean {
    const s = this.stream(from, to);
    if (!s.alive || s.gen !== gen) return false;
    if (!this.canReach(from, to)) {
      this.close(from, to);
      return false;
    }
    return true;
  }

  isOpen(a: number, b: number): boolean {
    return this.stream(a, b).alive;
  }

  delay(): number {
    const { delayMsMin, delayMsMax } = this.faults;
    return delayMsMin + this.random.next() * (delayMsMax - delayMsMin);
  }

  private stream(a: number, b: number): Stream {
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    let s = this.streams.get(key);
    if (s === undefined) {
      s = { gen: 0, alive: false };
      this.streams.set(key, s);
    }
    return s;
  }
}

function pairKey(from: number, to: number): string {
  return `${from}>${to}`;
}
