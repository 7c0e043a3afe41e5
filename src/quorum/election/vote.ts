/**
 * Votes and notifications of fast leader election (Apache `Vote`, `FastLeaderElection.Notification`), and the
 * order on votes that decides who wins (`totalOrderPredicate`).
 *
 * Reference §6: "Vote order: higher peerEpoch, then higher zxid, then higher sid; a weight-0 server never wins."
 * Book chapter 9 (群首选举): the server with the most recent history wins, so no committed txn is lost.
 */
import { hexZxid } from "../assert.ts";

/** What a server says about itself on the election channel (Apache `QuorumPeer.ServerState`). */
export type ServerState = "LOOKING" | "FOLLOWING" | "LEADING" | "OBSERVING";

/** "No server": what an observer proposes before it has heard anyone (Apache uses Long.MIN_VALUE). */
export const noServerId = -1;

/** The part of a vote that is ordered: who, and how recent that server's history is. */
export interface Candidate {
  readonly leader: number;
  /** The candidate's last logged zxid. */
  readonly zxid: bigint;
  /** The candidate's currentEpoch (the last epoch whose NEWLEADER it accepted). */
  readonly peerEpoch: number;
}

export interface Vote extends Candidate {
  /** The logical clock (election round) in which the vote was cast. */
  readonly electionEpoch: number;
}

/**
 * One message on the election channel. The sender is known from the connection, so it is not repeated here; the
 * numeric state codes (LOOKING 0 … OBSERVING 3) exist only in a codec.
 */
export interface Notification extends Vote {
  readonly state: ServerState;
}

/** A vote as recorded by a receiver, with the state its sender was in. */
export interface RecordedVote extends Vote {
  readonly state: ServerState;
}

/**
 * Is `candidate` a better leader than `current`? (Apache `FastLeaderElection.totalOrderPredicate`.)
 *
 * Higher peerEpoch first, then higher zxid, then higher server id. A candidate of weight 0 (a hierarchical
 * `weight.x=0`, or a non-voter) is never better: Apache checks this first.
 *
 * lab 9 plugs the learner's version in here (ElectionOptions.voteOrder).
 */
export type VoteOrder = (candidate: Candidate, current: Candidate, weight: (sid: number) => number) => boolean;

export const totalOrderPredicate: VoteOrder = (candidate, current, weight) => {
  // lab 9.2: fast leader election's vote order: peer epoch, then zxid, then server id; weight 0 never wins
  //   Return whether `candidate` beats `current`. A candidate of weight 0 never does. Otherwise the higher
  //   peerEpoch wins; with equal epochs the higher zxid (the most recent history, so nothing committed is lost);
  //   with equal zxids the higher server id.
  if (weight(candidate.leader) === 0) return false;
  if (candidate.peerEpoch !== current.peerEpoch) return candidate.peerEpoch > current.peerEpoch;
  if (candidate.zxid !== current.zxid) return candidate.zxid > current.zxid;
  return candidate.leader > current.leader;
  // end lab 9.2
};

/**
 * Apache `Vote.equals` (3.8, version > 0 on both sides): while either side is LOOKING all four fields must match;
 * between FOLLOWING/LEADING votes only the leader and its epoch matter (their zxids move on as txns commit).
 */
export function sameVote(a: RecordedVote, b: RecordedVote): boolean {
  if (a.state === "LOOKING" || b.state === "LOOKING") {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

export function describeVote(v: Vote): string {
  return `(leader ${v.leader}, zxid ${hexZxid(v.zxid)}, peerEpoch ${v.peerEpoch}, round ${v.electionEpoch})`;
}
