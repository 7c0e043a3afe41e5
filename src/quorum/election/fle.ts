/**
 * Fast leader election (Apache `FastLeaderElection`, electionAlg=3, the only algorithm 3.8 has) as a step
 * function: no threads, no sockets, no clock. Apache runs `lookForLeader` as a loop that polls a queue with a
 * timeout; here each poll result is an input (`receive`, or `tick` when the timeout passed) and each loop turn's
 * effects are the output.
 *
 * The algorithm (reference §6, book chapter 9 群首选举):
 *  1. bump the logical clock (the election round), vote for yourself, send the vote to every voter;
 *  2. a notification from a higher round: adopt that round, forget the votes seen so far, re-vote for the better
 *     of yourself and the sender's candidate;
 *  3. same round and a better candidate (`totalOrderPredicate`): switch to it and tell everyone;
 *  4. once the votes received for your candidate form a quorum, wait `finalizeWait` for a better vote; if none
 *     comes, decide (2–4 are `lookingRule`, lab 9.6's seam);
 *  5. FOLLOWING/LEADING notifications let a late joiner find the leader an ensemble already has: a quorum of them
 *     naming the same leader, including the leader's own LEADING notification (`checkLeader`).
 * Without any notification for a while, send the vote again and double the wait (up to maxNotificationInterval).
 */
import { assert, assertNever } from "../assert.ts";
import type { QuorumVerifier } from "../verifier.ts";
import {
  noServerId,
  sameVote,
  totalOrderPredicate,
  type Candidate,
  type Notification,
  type RecordedVote,
  type ServerState,
  type Vote,
  type VoteOrder,
} from "./vote.ts";

/** Apache `FastLeaderElection.finalizeWait`: how long a quorum-backed vote waits for a better one. */
export const finalizeWaitMsDefault = 200;
/** Apache `zookeeper.fastleader.maxNotificationInterval`: the longest pause between re-sent votes. */
export const maxNotificationIntervalMsDefault = 60_000;

export interface ElectionOptions {
  readonly myId: number;
  readonly verifier: QuorumVerifier;
  /** This server's last logged zxid (its candidacy); ignored for an observer. */
  readonly lastLoggedZxid: bigint;
  /** This server's currentEpoch; ignored for an observer. */
  readonly currentEpoch: number;
  /** The round the previous election of this process ended in (0 after a restart). */
  readonly logicalClock: number;
  readonly finalizeWaitMs?: number;
  readonly maxNotificationIntervalMs?: number;
  /** The vote order (a seam: lab 9 plugs the learner's in). */
  readonly voteOrder?: VoteOrder;
  /** The round logic for LOOKING notifications (a seam: lab 9.6 plugs the learner's in). */
  readonly lookingRule?: LookingRule;
}

/** What one step of the election wants done. */
export interface ElectionOutput {
  /** Votes to send on the election channel. Order between different receivers does not matter. */
  readonly send: { readonly to: number; readonly notification: Notification }[];
  /** Set once: the election is over, this is the leader. The caller moves to LEADING/FOLLOWING/OBSERVING. */
  decided: Vote | null;
  /** When to call `tick` at the latest (re-send timeout or the end of finalizeWait). */
  wakeAtMs: number;
}

/** Where a LOOKING server stands in the election (what lab 9.6's rule reads and moves). */
export interface ElectionRound {
  /** The logical clock: the election round this server is in (Apache `logicalclock`). */
  round: number;
  /** The candidate this server votes for now (Apache `proposedLeader`, `proposedZxid`, `proposedEpoch`). */
  vote: Candidate;
  /** The LOOKING votes received in this round, by sender, this server's own included (Apache `recvset`). */
  readonly votes: Map<number, RecordedVote>;
}

/** What lab 9.6's rule may use besides the round. */
export interface RoundContext {
  /** This server's own candidacy: itself with its last logged zxid and currentEpoch ("no one" for an observer). */
  readonly own: Candidate;
  /** Whether `a` is a better leader than `b`: the vote order (lab 9.2), with the ensemble's weights. */
  better(a: Candidate, b: Candidate): boolean;
  /** Whether these servers form a quorum (the ensemble's quorum verifier; observers never count). */
  isQuorum(sids: readonly number[]): boolean;
  /** Send (round, vote) to every voter and record it as this server's own vote in `votes`. */
  sendVote(): void;
}

/**
 * One LOOKING notification from a voter, applied to the round (Apache `lookForLeader`, the LOOKING case). Returns
 * whether the votes of this round now show a quorum for this server's vote: then the election waits finalizeWait
 * for a better vote and, if none comes, decides.
 */
export type LookingRule = (round: ElectionRound, from: number, n: Notification, ctx: RoundContext) => boolean;

/** The reference rule; lab 9 plugs the learner's version in here (PeerOptions.lookingRule). */
export const lookingRule: LookingRule = (round, from, n, ctx) => {
  // lab 9.6: fast leader election's logical clock: a higher round resets my votes; a quorum of my round ends it
  //   A notification from a higher round (n.electionEpoch > round.round): adopt that round, forget every vote
  //   received so far, vote for the better of ctx.own and the sender's candidate, and send it (ctx.sendVote).
  //   From a lower round: ignore it (it was answered already) and return false. From my round: if its candidate is
  //   better than my vote, adopt it and send it. Then record the sender's vote in round.votes, and return whether
  //   the votes equal to mine — same leader, zxid, peerEpoch and round (sameVote) — come from a quorum.
  if (n.electionEpoch > round.round) {
    round.round = n.electionEpoch;
    round.votes.clear();
    round.vote = ctx.better(n, ctx.own) ? candidateOf(n) : ctx.own;
    ctx.sendVote();
  } else if (n.electionEpoch < round.round) {
    return false;
  } else if (ctx.better(n, round.vote)) {
    round.vote = candidateOf(n);
    ctx.sendVote();
  }
  round.votes.set(from, { ...candidateOf(n), electionEpoch: n.electionEpoch, state: "LOOKING" });
  const mine: RecordedVote = { ...round.vote, electionEpoch: round.round, state: "LOOKING" };
  const agreeing = [...round.votes].filter(([, v]) => sameVote(v, mine)).map(([sid]) => sid);
  return ctx.isQuorum(agreeing);
  // end lab 9.6
};

/** The LOOKING state of one server (Apache `FastLeaderElection.lookForLeader` and its `WorkerReceiver`). */
export class FastLeaderElection {
  private readonly opts: ElectionOptions;
  private readonly voteOrder: VoteOrder;
  private readonly lookingRule: LookingRule;
  private readonly finalizeWaitMs: number;
  private readonly maxNotificationIntervalMs: number;
  private readonly isVoter: boolean;
  private clock: number;
  private proposal: Candidate;
  /** Votes of this round, by sender (Apache `recvset`). */
  private readonly recvset = new Map<number, RecordedVote>();
  /** FOLLOWING/LEADING votes from servers already out of an election (Apache `outofelection`). */
  private readonly outOfElection = new Map<number, RecordedVote>();
  private notTimeoutMs: number;
  private idleDeadlineMs = 0;
  /** Set while waiting finalizeWait for a better vote. */
  private finalizeDeadlineMs: number | null = null;
  private decision: Vote | null = null;
  private started = false;

  constructor(options: ElectionOptions) {
    this.opts = options;
    this.voteOrder = options.voteOrder ?? totalOrderPredicate;
    this.lookingRule = options.lookingRule ?? lookingRule;
    this.finalizeWaitMs = options.finalizeWaitMs ?? finalizeWaitMsDefault;
    this.maxNotificationIntervalMs = options.maxNotificationIntervalMs ?? maxNotificationIntervalMsDefault;
    this.isVoter = options.verifier.isVotingMember(options.myId);
    this.clock = options.logicalClock;
    this.notTimeoutMs = this.finalizeWaitMs;
    this.proposal = this.initialCandidate();
  }

  get logicalClock(): number {
    return this.clock;
  }

  /** The vote this server currently sends. */
  get currentVote(): Vote {
    return { ...this.proposal, electionEpoch: this.clock };
  }

  get result(): Vote | null {
    return this.decision;
  }

  /** Votes of this round, for tests and timelines. */
  get votesReceived(): ReadonlyMap<number, RecordedVote> {
    return this.recvset;
  }

  /** Start a round: bump the logical clock, vote for yourself, tell every voter. */
  start(nowMs: number): ElectionOutput {
    assert(!this.started, "election started twice");
    this.started = true;
    const out = this.output(nowMs);
    this.clock++;
    this.proposal = this.initialCandidate();
    this.sendVote(out);
    this.idleDeadlineMs = nowMs + this.notTimeoutMs;
    return this.finish(out, nowMs);
  }

  /** A notification arrived from `from`. */
  receive(from: number, n: Notification, nowMs: number): ElectionOutput {
    assert(this.started, "election received a notification before start");
    const out = this.output(nowMs);
    if (this.decision !== null) return this.finish(out, nowMs);
    const v = this.opts.verifier;
    // WorkerReceiver: a non-voter (an observer) is answered at once with our vote and otherwise ignored — only
    // while it is LOOKING, unlike Apache: an OBSERVING observer's notification is itself an answer to a LOOKING
    // vote, and answering it back makes the two answer each other for ever (the simulator, seed 87651934).
    if (!v.isVotingMember(from)) {
      if (n.state === "LOOKING") out.send.push({ to: from, notification: this.notificationNow() });
      return this.finish(out, nowMs);
    }
    // WorkerReceiver: a LOOKING voter behind our round gets our vote so it catches up. Apache lets observers do
    // this too, but a voter never counts an observer's vote and answers every observer at once, so a LOOKING
    // observer ahead of a LOOKING voter would ping-pong with it without end (the simulator found it, seed 20059).
    if (this.isVoter && n.state === "LOOKING" && n.electionEpoch < this.clock) {
      out.send.push({ to: from, notification: this.notificationNow() });
    }
    // Only votes for voters count (validVoter(n.leader)); an observer's "no candidate" is one of those.
    if (!v.isVotingMember(n.leader)) return this.finish(out, nowMs);
    this.idleDeadlineMs = nowMs + this.notTimeoutMs;

    if (this.finalizeDeadlineMs !== null) {
      // The finalizeWait poll: a better vote interrupts it and is processed normally; anything else is dropped.
      if (!this.voteOrder(n, this.proposal, v.weight)) return this.finish(out, nowMs);
      this.finalizeDeadlineMs = null;
    }

    switch (n.state) {
      case "LOOKING":
        this.onLooking(from, n, out, nowMs);
        break;
      case "OBSERVING":
        break; // observers' notifications never count (notes 第9章: 观察者不参与选举过程)
      case "FOLLOWING":
      case "LEADING":
        this.onDecided(from, n, out);
        break;
      default:
        assertNever(n.state, "server state");
    }
    return this.finish(out, nowMs);
  }

  /** Time passed: finish a finalizeWait, or re-send the vote after a quiet notTimeout. */
  tick(nowMs: number): ElectionOutput {
    const out = this.output(nowMs);
    if (this.decision !== null || !this.started) return this.finish(out, nowMs);
    if (this.finalizeDeadlineMs !== null) {
      if (nowMs >= this.finalizeDeadlineMs) this.decide(this.currentVote, out);
      return this.finish(out, nowMs);
    }
    if (nowMs >= this.idleDeadlineMs) {
      this.sendVote(out);
      this.notTimeoutMs = Math.min(this.notTimeoutMs * 2, this.maxNotificationIntervalMs);
      this.idleDeadlineMs = nowMs + this.notTimeoutMs;
    }
    return this.finish(out, nowMs);
  }

  // ---------------------------------------------------------------- the cases of lookForLeader

  private onLooking(from: number, n: Notification, out: ElectionOutput, nowMs: number): void {
    const weight = this.opts.verifier.weight;
    if (n.electionEpoch === this.clock && this.isVoter && this.voteOrder(this.proposal, n, weight)) {
      // Not in Apache: tell a voter of our round whose vote is worse what we know. Apache stays silent, and since
      // every notification restarts the re-send timer (poll(notTimeout)), one server re-sending a worse vote at
      // maxNotificationInterval can keep the others from ever re-sending theirs (the simulator found a 7.8 s
      // stall, seed 87628923). It cannot ping-pong: the sender adopts the better vote.
      out.send.push({ to: from, notification: this.notificationNow() });
    }
    const round: ElectionRound = { round: this.clock, vote: this.proposal, votes: this.recvset };
    const ctx: RoundContext = {
      own: this.initialCandidate(),
      better: (a, b) => this.voteOrder(a, b, weight),
      isQuorum: (sids) => this.opts.verifier.containsQuorum(sids),
      sendVote: () => {
        this.clock = round.round;
        this.proposal = round.vote;
        this.sendVote(out);
      },
    };
    const quorum = this.lookingRule(round, from, n, ctx);
    this.clock = round.round;
    this.proposal = round.vote;
    if (quorum) this.finalizeDeadlineMs = nowMs + this.finalizeWaitMs;
  }

  private onDecided(from: number, n: Notification, out: ElectionOutput): void {
    const vote: RecordedVote = { ...candidateOf(n), electionEpoch: n.electionEpoch, state: n.state };
    if (n.electionEpoch === this.clock) {
      this.recvset.set(from, vote);
      if (this.hasQuorumFor(this.recvset, vote) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
        this.decide(vote, out);
        return;
      }
    }
    // A server that joins after the others decided learns the leader from them.
    this.outOfElection.set(from, vote);
    if (this.hasQuorumFor(this.outOfElection, vote) && this.checkLeader(this.outOfElection, n.leader, n.electionEpoch)) {
      this.clock = n.electionEpoch;
      this.decide(vote, out);
    }
  }

  /**
   * Apache `checkLeader`: following someone needs that server's own LEADING vote among `votes` (so a server that
   * has not become leader, or has given up, is not followed); leading on others' word needs the same round.
   */
  private checkLeader(votes: ReadonlyMap<number, RecordedVote>, leader: number, electionEpoch: number): boolean {
    if (leader !== this.opts.myId) return votes.get(leader)?.state === "LEADING";
    return this.clock === electionEpoch;
  }

  private hasQuorumFor(votes: ReadonlyMap<number, RecordedVote>, vote: RecordedVote): boolean {
    const agreeing: number[] = [];
    for (const [sid, v] of votes) if (sameVote(v, vote)) agreeing.push(sid);
    return this.opts.verifier.containsQuorum(agreeing);
  }

  private decide(vote: Vote, out: ElectionOutput): void {
    this.decision = { leader: vote.leader, zxid: vote.zxid, electionEpoch: vote.electionEpoch, peerEpoch: vote.peerEpoch };
    this.finalizeDeadlineMs = null;
    out.decided = this.decision;
  }

  // ---------------------------------------------------------------- helpers

  private initialCandidate(): Candidate {
    if (!this.isVoter) return { leader: noServerId, zxid: -1n, peerEpoch: -1 };
    return { leader: this.opts.myId, zxid: this.opts.lastLoggedZxid, peerEpoch: this.opts.currentEpoch };
  }

  private notificationNow(): Notification {
    return { ...this.currentVote, state: "LOOKING" };
  }

  /** Apache `sendNotifications`: to every voter; our own copy is counted at once instead of looping back. */
  private sendVote(out: ElectionOutput): void {
    const n = this.notificationNow();
    for (const sid of this.opts.verifier.votingMembers) {
      if (sid !== this.opts.myId) out.send.push({ to: sid, notification: n });
    }
    if (this.isVoter) this.recvset.set(this.opts.myId, { ...n });
  }

  private output(nowMs: number): ElectionOutput {
    return { send: [], decided: null, wakeAtMs: nowMs };
  }

  private finish(out: ElectionOutput, nowMs: number): ElectionOutput {
    if (this.decision === null && this.started) {
      out.wakeAtMs = this.finalizeDeadlineMs ?? Math.max(this.idleDeadlineMs, nowMs);
    } else {
      out.wakeAtMs = Number.POSITIVE_INFINITY;
    }
    return out;
  }
}

/**
 * What a server that is not LOOKING answers to a notification (Apache `WorkerReceiver` when the peer state is not
 * LOOKING): a LOOKING server, voter or observer, is told the leader this server follows or is, with this server's
 * state; that is how a late joiner finds the current leader. Everything else needs no answer (Apache also answers
 * an observer that is not LOOKING, which can loop with a LOOKING voter).
 */
export function answerWhileDecided(
  state: Exclude<ServerState, "LOOKING">,
  currentVote: Vote,
  verifier: QuorumVerifier,
  from: number,
  n: Notification,
): Notification | null {
  if (n.state !== "LOOKING") return null;
  return { ...currentVote, state };
}

function candidateOf(n: Candidate): Candidate {
  return { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
}
