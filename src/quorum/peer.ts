/**
 * One ensemble member (Apache `QuorumPeer`): its role, and the moves between roles.
 *
 *   LOOKING ──election decides──▶ LEADING (if it won) | FOLLOWING | OBSERVING (if it is an observer)
 *      ▲                                   │
 *      └─────── the role stops (timeouts, lost quorum, lost leader, protocol error) ──┘
 *
 * No I/O, no clock: every input carries `nowMs`, every output is a `Ready` (see ready.ts for the driver's
 * contract). The simulator (src/sim) and a TCP runtime drive this same class.
 */
import { assert, assertNever } from "./assert.ts";
import { answerWhileDecided, FastLeaderElection, type LookingRule } from "./election/fle.ts";
import type { Notification, Vote, VoteOrder } from "./election/vote.ts";
import { History, committedLogCountMaxDefault } from "./zab/history.ts";
import { Leader } from "./zab/leader.ts";
import { Follower, Observer, type FollowerBroadcast } from "./zab/learner.ts";
import type { LogEntry, QuorumPacket, ZabTypes } from "./zab/messages.ts";
import type { ProposalTracker } from "./zab/proposals.ts";
import { emptyReady, mergeReady, type Ready } from "./zab/ready.ts";
import { ZabState, type ZabConfig } from "./zab/state.ts";
import type { QuorumVerifier } from "./verifier.ts";

export interface PeerOptions extends ZabConfig {
  /** Apache finalizeWait (200 ms). */
  readonly finalizeWaitMs?: number;
  /** Apache zookeeper.fastleader.maxNotificationInterval (60 s). */
  readonly maxNotificationIntervalMs?: number;
  /** Committed txns kept in memory for DIFFs (Apache 500); a learner further behind gets a SNAP. */
  readonly committedLogCountMax?: number;
  /** Seams for lab 9. */
  readonly voteOrder?: VoteOrder;
  readonly lookingRule?: LookingRule;
  readonly proposals?: (verifier: QuorumVerifier) => ProposalTracker;
  readonly followerBroadcast?: () => FollowerBroadcast;
}

/** What a restarted server knows from its disk. */
export interface RecoveredState<T extends ZabTypes> {
  readonly currentEpoch: number;
  readonly acceptedEpoch: number;
  /** What the state machine already holds: a snapshot's zxid, or 0 for an empty one. */
  readonly appliedZxid: bigint;
  /** The txns logged after appliedZxid, ascending. Not known committed until a leader says so. */
  readonly log: readonly LogEntry<T>[];
}

export type Role<T extends ZabTypes> =
  | { readonly kind: "looking"; readonly election: FastLeaderElection }
  | { readonly kind: "following"; readonly learner: Follower<T>; readonly vote: Vote }
  | { readonly kind: "leading"; readonly leader: Leader<T>; readonly vote: Vote }
  | { readonly kind: "observing"; readonly learner: Observer<T>; readonly vote: Vote };

export type RoleKind = Role<ZabTypes>["kind"];

/** A step that moved no deadline asks for no new timer: the one the driver already has stays right. */
const noNewTimer = Number.POSITIVE_INFINITY;

export class QuorumPeer<T extends ZabTypes> {
  private roleNow: Role<T> | null = null;
  private readonly state: ZabState<T>;
  private logicalClock = 0;

  constructor(
    readonly options: PeerOptions,
    recovered: RecoveredState<T>,
  ) {
    assert(recovered.acceptedEpoch >= recovered.currentEpoch, "acceptedEpoch below currentEpoch");
    const history = new History<T>(recovered.appliedZxid, recovered.log, options.committedLogCountMax ?? committedLogCountMaxDefault);
    this.state = new ZabState(recovered.currentEpoch, recovered.acceptedEpoch, history);
  }

  get myId(): number {
    return this.options.myId;
  }
  get role(): Role<T> {
    assert(this.roleNow !== null, "peer not started");
    return this.roleNow;
  }
  get currentEpoch(): number {
    return this.state.currentEpoch;
  }
  get acceptedEpoch(): number {
    return this.state.acceptedEpoch;
  }
  get lastLoggedZxid(): bigint {
    return this.state.history.lastZxid;
  }
  get lastDeliveredZxid(): bigint {
    return this.state.history.deliveredZxid;
  }
  /** Serving clients: an established leader, or a learner past UPTODATE. */
  get serving(): boolean {
    const r = this.roleNow;
    if (r === null) return false;
    switch (r.kind) {
      case "looking":
        return false;
      case "leading":
        return r.leader.established && r.leader.stopped === null;
      case "following":
      case "observing":
        return r.learner.serving;
      default:
        return assertNever(r, "role");
    }
  }
  /** Leader: whether `propose` may be called now. */
  get canPropose(): boolean {
    return this.roleNow?.kind === "leading" && this.roleNow.leader.canPropose;
  }
  /** Leader: the zxid the next proposal must carry. */
  get nextZxid(): bigint {
    const r = this.role;
    assert(r.kind === "leading", "nextZxid of a server that is not leading");
    return r.leader.nextZxid;
  }

  /** Start looking for a leader (Apache QuorumPeer.start). */
  start(nowMs: number): Ready<T> {
    assert(this.roleNow === null, "peer started twice");
    const out = emptyReady<T>();
    this.lookForLeader(nowMs, "started", out);
    return out;
  }

  receiveNotification(from: number, n: Notification, nowMs: number): Ready<T> {
    const r = this.role;
    if (r.kind === "looking") return this.afterElection(r.election.receive(from, n, nowMs), nowMs);
    const out = emptyReady<T>();
    const state = r.kind === "leading" ? "LEADING" : r.kind === "following" ? "FOLLOWING" : "OBSERVING";
    const answer = answerWhileDecided(state, r.vote, this.options.verifier, from, n);
    if (answer !== null) out.notify.push({ to: from, notification: answer });
    out.wakeAtMs = noNewTimer;
    return out;
  }

  receivePacket(from: number, packet: QuorumPacket<T>, nowMs: number): Ready<T> {
    const r = this.role;
    switch (r.kind) {
      case "looking": {
        // Nobody listens on the quorum port while looking: a learner that connects early is refused (and
        // retries); traffic of a role this server has left is cut off.
        const out = emptyReady<T>();
        out.close.push(from);
        out.wakeAtMs = noNewTimer;
        return out;
      }
      case "leading":
        return this.afterRoleStep(r.leader.receive(from, packet, nowMs), nowMs);
      case "following":
      case "observing":
        return this.afterRoleStep(r.learner.receive(from, packet, nowMs), nowMs);
      default:
        return assertNever(r, "role");
    }
  }

  /** The quorum connection to `sid` dropped. */
  disconnected(sid: number, nowMs: number): Ready<T> {
    const r = this.role;
    switch (r.kind) {
      case "looking": {
        const out = emptyReady<T>();
        out.wakeAtMs = noNewTimer;
        return out;
      }
      case "leading":
        return this.afterRoleStep(r.leader.disconnected(sid, nowMs), nowMs);
      case "following":
      case "observing":
        return this.afterRoleStep(r.learner.disconnected(sid, nowMs), nowMs);
      default:
        return assertNever(r, "role");
    }
  }

  tick(nowMs: number): Ready<T> {
    const r = this.role;
    switch (r.kind) {
      case "looking":
        return this.afterElection(r.election.tick(nowMs), nowMs);
      case "leading":
        return this.afterRoleStep(r.leader.tick(nowMs), nowMs);
      case "following":
      case "observing":
        return this.afterRoleStep(r.learner.tick(nowMs), nowMs);
      default:
        return assertNever(r, "role");
    }
  }

  /** A client write at this server. Not serving: a `rejected` event (the client sees CONNECTIONLOSS). */
  submit(request: T["request"], nowMs: number): Ready<T> {
    const r = this.role;
    switch (r.kind) {
      case "looking": {
        const out = emptyReady<T>();
        out.events.push({ kind: "rejected", what: "write" });
        out.wakeAtMs = noNewTimer;
        return out;
      }
      case "leading":
        return this.afterRoleStep(r.leader.submit(request, nowMs), nowMs);
      case "following":
      case "observing":
        return this.afterRoleStep(r.learner.submit(request, nowMs), nowMs);
      default:
        return assertNever(r, "role");
    }
  }

  /** A client sync at this server; `token` comes back in `Ready.syncs`. */
  sync(token: number, nowMs: number): Ready<T> {
    const r = this.role;
    switch (r.kind) {
      case "looking": {
        const out = emptyReady<T>();
        out.syncs.push({ token, ok: false });
        out.events.push({ kind: "rejected", what: "sync" });
        out.wakeAtMs = noNewTimer;
        return out;
      }
      case "leading":
        return this.afterRoleStep(r.leader.sync(token, nowMs), nowMs);
      case "following":
      case "observing":
        return this.afterRoleStep(r.learner.sync(token, nowMs), nowMs);
      default:
        return assertNever(r, "role");
    }
  }

  /** Leader: propose the txn the prepare step made of a request, under `nextZxid`. */
  propose(zxid: bigint, txn: T["txn"], nowMs: number): Ready<T> {
    const r = this.role;
    assert(r.kind === "leading", "propose() on a server that is not leading");
    return this.afterRoleStep(r.leader.propose(zxid, txn, nowMs), nowMs);
  }

  // ---------------------------------------------------------------- transitions

  private lookForLeader(nowMs: number, reason: string, out: Ready<T>): void {
    const election = new FastLeaderElection({
      myId: this.options.myId,
      verifier: this.options.verifier,
      lastLoggedZxid: this.state.history.lastZxid,
      currentEpoch: this.state.currentEpoch,
      logicalClock: this.logicalClock,
      finalizeWaitMs: this.options.finalizeWaitMs,
      maxNotificationIntervalMs: this.options.maxNotificationIntervalMs,
      voteOrder: this.options.voteOrder,
      lookingRule: this.options.lookingRule,
    });
    this.roleNow = { kind: "looking", election };
    out.events.push({ kind: "role", role: "looking", leader: null, reason });
    const started = election.start(nowMs);
    this.afterElectionInto(started, nowMs, out);
  }

  private afterElection(step: ReturnType<FastLeaderElection["receive"]>, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    this.afterElectionInto(step, nowMs, out);
    return out;
  }

  private afterElectionInto(step: ReturnType<FastLeaderElection["receive"]>, nowMs: number, out: Ready<T>): void {
    for (const s of step.send) out.notify.push(s);
    out.wakeAtMs = Math.min(out.wakeAtMs, step.wakeAtMs);
    const r = this.roleNow;
    assert(r !== null && r.kind === "looking", "election output outside LOOKING");
    this.logicalClock = r.election.logicalClock;
    if (step.decided === null) return;
    this.becomeDecided(step.decided, nowMs, out);
  }

  private becomeDecided(vote: Vote, nowMs: number, out: Ready<T>): void {
    const cfg: ZabConfig = this.options;
    const me = this.options.myId;
    out.wakeAtMs = Number.POSITIVE_INFINITY;
    if (vote.leader === me) {
      const leader = new Leader<T>({ ...cfg, proposals: this.options.proposals }, this.state);
      this.roleNow = { kind: "leading", leader, vote };
      out.events.push({ kind: "role", role: "leading", leader: me, reason: `elected in round ${vote.electionEpoch}` });
      this.afterRoleStepInto(leader.start(nowMs), nowMs, out);
    } else if (this.options.verifier.isVotingMember(me)) {
      const learner = new Follower<T>(cfg, this.state, vote.leader, this.options.followerBroadcast?.());
      this.roleNow = { kind: "following", learner, vote };
      out.events.push({ kind: "role", role: "following", leader: vote.leader, reason: `elected in round ${vote.electionEpoch}` });
      this.afterRoleStepInto(learner.start(nowMs), nowMs, out);
    } else {
      const learner = new Observer<T>(cfg, this.state, vote.leader);
      this.roleNow = { kind: "observing", learner, vote };
      out.events.push({ kind: "role", role: "observing", leader: vote.leader, reason: `elected in round ${vote.electionEpoch}` });
      this.afterRoleStepInto(learner.start(nowMs), nowMs, out);
    }
  }

  private afterRoleStep(step: Ready<T>, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    this.afterRoleStepInto(step, nowMs, out);
    return out;
  }

  private afterRoleStepInto(step: Ready<T>, nowMs: number, out: Ready<T>): void {
    mergeReady(out, step);
    const r = this.roleNow;
    assert(r !== null, "peer not started");
    const stopped = r.kind === "leading" ? r.leader.stopped : r.kind === "looking" ? null : r.learner.stopped;
    if (stopped !== null) this.lookForLeader(nowMs, stopped, out);
  }

}
