/**
 * The leader's ack/commit bookkeeping (Apache `Leader.processAck` / `tryToCommit`, the `outstandingProposals` map).
 *
 * Book chapter 9 (Zab: 提议、确认、提交) and the Zab paper §3 ("a leader commits a proposal once a quorum of
 * followers has acknowledged it … and commits in the order proposed"): a proposal commits once the servers that
 * have logged it form a quorum *and* every earlier proposal has committed. ACKs from observers, from unknown servers,
 * or for proposals already committed change nothing.
 *
 * This is one of the pieces lab 9 swaps for the learner's own (LeaderOptions.proposals).
 */
import { assert, hexZxid } from "../assert.ts";
import type { QuorumVerifier } from "../verifier.ts";

export interface ProposalTracker {
  /** A new proposal; `leader` (the proposer, which logs it itself) is its first ACK. zxids must increase. */
  propose(zxid: bigint, leader: number): void;
  /** Server `sid` has logged `zxid` (and, its log being FIFO, everything before it that it was sent). */
  ack(zxid: bigint, sid: number): void;
  /** Server `sid` has logged every proposal up to `zxid` (its ACK of NEWLEADER after a sync). */
  ackThrough(zxid: bigint, sid: number): void;
  /** The proposals that may commit now, ascending; they stop being outstanding. */
  takeCommittable(): bigint[];
  /** Proposals not yet committed. */
  readonly outstandingCount: number;
  /** The newest outstanding proposal, or undefined. */
  readonly lastOutstanding: bigint | undefined;
  /** The ACKs a proposal has so far (for tests and four-letter words). */
  acksOf(zxid: bigint): readonly number[] | undefined;
}

export class QuorumProposalTracker implements ProposalTracker {
  /** zxid ascending: a JS Map keeps insertion order and proposals are inserted in zxid order. */
  private readonly outstanding = new Map<bigint, Set<number>>();
  private lastProposed = -1n;

  constructor(private readonly verifier: QuorumVerifier) {}

  get outstandingCount(): number {
    return this.outstanding.size;
  }

  get lastOutstanding(): bigint | undefined {
    let last: bigint | undefined;
    for (const z of this.outstanding.keys()) last = z;
    return last;
  }

  propose(zxid: bigint, leader: number): void {
    assert(zxid > this.lastProposed, () => `proposal ${hexZxid(zxid)} is not after ${hexZxid(this.lastProposed)}`);
    this.lastProposed = zxid;
    this.outstanding.set(zxid, new Set([leader]));
  }

  ack(zxid: bigint, sid: number): void {
    this.outstanding.get(zxid)?.add(sid);
  }

  ackThrough(zxid: bigint, sid: number): void {
    for (const [z, acks] of this.outstanding) {
      if (z > zxid) break;
      acks.add(sid);
    }
  }

  takeCommittable(): bigint[] {
    // lab 9.3: the leader commits once a quorum has ACKed, strictly in zxid order
    //   Walk `this.outstanding` (zxid ascending) and collect the zxids whose ACK sets the verifier calls a quorum
    //   (`this.verifier.containsQuorum`: it ignores observers and weighs hierarchical groups). Stop at the first one
    //   without a quorum, even if later ones have one. Delete what you return from `outstanding`.
    const out: bigint[] = [];
    // Strictly in zxid order: stop at the first proposal without a quorum, even if later ones have one.
    for (const [zxid, acks] of this.outstanding) {
      if (!this.verifier.containsQuorum(acks)) break;
      out.push(zxid);
    }
    for (const z of out) this.outstanding.delete(z);
    return out;
    // end lab 9.3
  }

  acksOf(zxid: bigint): readonly number[] | undefined {
    const acks = this.outstanding.get(zxid);
    return acks === undefined ? undefined : [...acks].sort((a, b) => a - b);
  }
}
