/**
 * The LEADING role (Apache `Leader` and its `LearnerHandler`s) as a step function.
 *
 * Zab paper §4 and reference §6:
 *  - discovery: learners send FOLLOWERINFO(acceptedEpoch); once those of a quorum (with the leader) are in, the new
 *    epoch is one above every acceptedEpoch seen; LEADERINFO(epoch) goes out; a quorum of ACKEPOCHs (a learner
 *    more recent than the leader aborts the round) makes it this server's currentEpoch;
 *  - synchronization: each learner gets DIFF, TRUNC+DIFF or SNAP, the txns it lacks, then NEWLEADER; a quorum of
 *    ACKs to NEWLEADER commits the leader's whole history, and each learner that acked gets UPTODATE;
 *  - broadcast: PROPOSAL → ACK → COMMIT in zxid order on a quorum (INFORM for observers); PING every tickTime/2;
 *    a leader that has not heard from a quorum within syncLimit ticks steps down.
 * Each wait of discovery/synchronization gives up after initLimit ticks.
 */
import { assert, assertNever, hexZxid } from "../assert.ts";
import { makeZxid, zxidEpoch } from "../../tree/txn.ts";
import type { ForwardedRequest, LogEntry, QuorumPacket, ZabTypes } from "./messages.ts";
import { QuorumProposalTracker, type ProposalTracker } from "./proposals.ts";
import { emptyReady, type Ready } from "./ready.ts";
import type { ZabConfig, ZabState } from "./state.ts";
import type { QuorumVerifier } from "../verifier.ts";

/** The largest zxid counter; at it the leader forces a new epoch (Apache: "zxid lower 32 bits have rolled over"). */
export const zxidCounterMax = 0xffffffff;

export interface LeaderOptions extends ZabConfig {
  /** The ack/commit bookkeeping (a seam: lab 9 plugs the learner's in). */
  readonly proposals?: (verifier: QuorumVerifier) => ProposalTracker;
}

/** Where a learner's handler is (Apache LearnerHandler's run() from top to bottom). */
export type HandlerStage =
  /** FOLLOWERINFO received, waiting for the epoch to be chosen. */
  | "info"
  /** LEADERINFO sent. */
  | "epochSent"
  /** ACKEPOCH received, waiting for the end of discovery. */
  | "epochAcked"
  /** Sync packets and NEWLEADER sent; from now on it gets every PROPOSAL/COMMIT (or INFORM). */
  | "synced"
  /** It acked NEWLEADER; waiting for a quorum before UPTODATE. */
  | "newLeaderAcked"
  | "uptodate";

interface LearnerHandler {
  readonly sid: number;
  readonly type: "follower" | "observer";
  stage: HandlerStage;
  lastZxid: bigint;
  /** The leader's last zxid when this learner was synced: its NEWLEADER ACK covers every proposal up to it. */
  syncedTo: bigint;
  /** Past this, the learner counts as gone (Apache tickOfNextAckDeadline). */
  deadlineMs: number;
}

type SyncWaiter = { readonly learner: number } | { readonly token: number };

export class Leader<T extends ZabTypes> {
  /** Why this server stopped leading; the peer then goes back to LOOKING. */
  stopped: string | null = null;
  private readonly proposals: ProposalTracker;
  private readonly handlers = new Map<number, LearnerHandler>();
  private readonly connecting: Set<number>;
  private maxAcceptedEpoch: number;
  private epochChosen: number | null = null;
  private readonly epochAcks = new Set<number>();
  private readonly newLeaderAcks = new Set<number>();
  private discovered = false;
  private isEstablished = false;
  private phaseDeadlineMs = 0;
  private counter = 0;
  private readonly syncWaiters = new Map<bigint, SyncWaiter[]>();
  private nextHalfTickMs = 0;
  private tickSkip = true;
  /** (currentEpoch, lastZxid) when elected: a learner more recent than this aborts discovery. */
  private readonly summary: { readonly currentEpoch: number; readonly lastZxid: bigint };

  constructor(
    private readonly cfg: LeaderOptions,
    private readonly state: ZabState<T>,
  ) {
    this.proposals = (cfg.proposals ?? ((v) => new QuorumProposalTracker(v)))(cfg.verifier);
    this.connecting = new Set([cfg.myId]);
    this.maxAcceptedEpoch = state.acceptedEpoch;
    this.summary = { currentEpoch: state.currentEpoch, lastZxid: state.history.lastZxid };
  }

  get epoch(): number | null {
    return this.epochChosen;
  }
  get established(): boolean {
    return this.isEstablished;
  }
  /** Whether `propose` may be called: established, not stopped, zxids left in this epoch. */
  get canPropose(): boolean {
    return this.isEstablished && this.stopped === null && this.counter < zxidCounterMax;
  }
  /** The zxid the next proposal must carry. */
  get nextZxid(): bigint {
    assert(this.epochChosen !== null, "no epoch yet");
    return makeZxid(this.epochChosen, this.counter + 1);
  }
  get outstandingProposals(): number {
    return this.proposals.outstandingCount;
  }
  /** Learners and their stages, for tests, four-letter words and timelines. */
  /** Syncs waiting for outstanding proposals to commit (mntr's zk_pending_syncs). */
  get pendingSyncs(): number {
    let n = 0;
    for (const waiters of this.syncWaiters.values()) n += waiters.length;
    return n;
  }
  get learners(): ReadonlyMap<number, { readonly type: "follower" | "observer"; readonly stage: HandlerStage }> {
    return this.handlers;
  }

  start(nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    this.phaseDeadlineMs = nowMs + this.initLimitMs;
    this.maybeChooseEpoch(out, nowMs);
    return this.finish(out, nowMs);
  }

  receive(from: number, packet: QuorumPacket<T>, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (this.stopped !== null) return this.finish(out, nowMs);
    if (packet.kind === "FOLLOWERINFO" || packet.kind === "OBSERVERINFO") {
      this.onLearnerInfo(from, packet.kind === "FOLLOWERINFO" ? "follower" : "observer", packet.acceptedEpoch, out, nowMs);
      return this.finish(out, nowMs);
    }
    const h = this.handlers.get(from);
    if (h === undefined) {
      // A connection this leader no longer has a handler for (it timed out, or is from an older role): close it.
      out.close.push(from);
      return this.finish(out, nowMs);
    }
    // Apache: while syncing the deadline stays at initLimit + syncLimit from the handler's start; once in the
    // main loop every packet sets it to syncLimit from now (tickOfNextAckDeadline).
    h.deadlineMs = h.stage === "uptodate" ? nowMs + this.syncLimitMs : Math.max(h.deadlineMs, nowMs + this.syncLimitMs);
    switch (packet.kind) {
      case "ACKEPOCH":
        if (h.stage !== "epochSent") return this.dropLearner(h, out, nowMs);
        this.onAckEpoch(h, packet.currentEpoch, packet.lastZxid, out, nowMs);
        break;
      case "ACK":
        this.onAck(h, packet.zxid, out, nowMs);
        break;
      case "REQUEST":
        if (h.stage !== "uptodate") return this.dropLearner(h, out, nowMs);
        this.onRequest(from, packet.request, out);
        break;
      case "PING":
        break; // its only job was to move the deadline above
      case "LEADERINFO":
      case "DIFF":
      case "TRUNC":
      case "SNAP":
      case "NEWLEADER":
      case "UPTODATE":
      case "PROPOSAL":
      case "COMMIT":
      case "INFORM":
      case "SYNC":
        // Only a leader sends these: whoever sent it is confused; drop the connection as Apache does.
        return this.dropLearner(h, out, nowMs);
      default:
        assertNever(packet, "quorum packet");
    }
    return this.finish(out, nowMs);
  }

  /** The quorum connection to `sid` dropped: its handler ends (Apache LearnerHandler.shutdown). */
  disconnected(sid: number, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    this.handlers.delete(sid);
    return this.finish(out, nowMs);
  }

  tick(nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (this.stopped !== null) return this.finish(out, nowMs);
    if (!this.isEstablished && nowMs >= this.phaseDeadlineMs) {
      const waitingFor = this.epochChosen === null ? "FOLLOWERINFO" : !this.discovered ? "ACKEPOCH" : "NEWLEADER ACK";
      this.stop(`timeout after initLimit waiting for a quorum of ${waitingFor}`, out);
      return this.finish(out, nowMs);
    }
    for (const h of [...this.handlers.values()]) {
      if (nowMs > h.deadlineMs) {
        this.handlers.delete(h.sid);
        out.close.push(h.sid);
      }
    }
    while (this.isEstablished && nowMs >= this.nextHalfTickMs && this.stopped === null) {
      // Apache Leader.lead(): every other half tick, a quorum must have been heard from within syncLimit.
      if (!this.tickSkip) {
        const synced = [this.cfg.myId, ...[...this.handlers.values()].filter((h) => h.deadlineMs >= nowMs).map((h) => h.sid)];
        if (!this.cfg.verifier.containsQuorum(synced)) {
          this.stop(`not sufficient followers synced, only synced with sids: [ ${synced.sort((a, b) => a - b).join(",")} ]`, out);
          break;
        }
      }
      this.tickSkip = !this.tickSkip;
      for (const h of this.handlers.values()) if (h.stage === "uptodate") out.send.push({ to: h.sid, packet: { kind: "PING" } });
      this.nextHalfTickMs += this.cfg.tickTimeMs / 2;
    }
    return this.finish(out, nowMs);
  }

  /** A client write arrived at the leader itself: it goes to the prepare step like a forwarded one. */
  submit(request: T["request"], nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (this.canPropose) out.requests.push({ from: this.cfg.myId, request: { op: "write", request } });
    else out.events.push({ kind: "rejected", what: "write" });
    return this.finish(out, nowMs);
  }

  /** A client sync at the leader: done once every proposal outstanding now is committed. */
  sync(token: number, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (!this.isEstablished || this.stopped !== null) {
      out.syncs.push({ token, ok: false });
      out.events.push({ kind: "rejected", what: "sync" });
    } else this.waitForOutstanding({ token }, out);
    return this.finish(out, nowMs);
  }

  /** Propose a prepared txn under `zxid` (which must be `nextZxid`). */
  propose(zxid: bigint, txn: T["txn"], nowMs: number): Ready<T> {
    assert(this.canPropose, "propose() while not an established leader");
    assert(zxid === this.nextZxid, () => `proposal zxid ${hexZxid(zxid)}, expected ${hexZxid(this.nextZxid)}`);
    const out = emptyReady<T>();
    this.counter++;
    const entry: LogEntry<T> = { zxid, txn };
    this.state.append(entry, out);
    // The leader's own ACK: sound because the driver fsyncs `persist` before any COMMIT or delivery of this.
    this.proposals.propose(zxid, this.cfg.myId);
    for (const h of this.handlers.values()) {
      if (h.type === "follower" && isSynced(h.stage)) out.send.push({ to: h.sid, packet: { kind: "PROPOSAL", zxid, txn } });
    }
    this.commitWhatCan(out);
    if (this.counter >= zxidCounterMax) this.stop("zxid lower 32 bits have rolled over, forcing re-election", out);
    return this.finish(out, nowMs);
  }

  // ---------------------------------------------------------------- discovery

  private onLearnerInfo(sid: number, type: "follower" | "observer", acceptedEpoch: number, out: Ready<T>, nowMs: number): void {
    // A new connection replaces an old one from the same server.
    const h: LearnerHandler = { sid, type, stage: "info", lastZxid: -1n, syncedTo: -1n, deadlineMs: nowMs + this.initLimitMs + this.syncLimitMs };
    this.handlers.set(sid, h);
    if (this.epochChosen === null) {
      this.maxAcceptedEpoch = Math.max(this.maxAcceptedEpoch, acceptedEpoch);
      if (type === "follower") this.connecting.add(sid);
      this.maybeChooseEpoch(out, nowMs);
    } else {
      out.send.push({ to: sid, packet: { kind: "LEADERINFO", newEpoch: this.epochChosen } });
      h.stage = "epochSent";
    }
  }

  /** Apache getEpochToPropose: a quorum (with the leader) has reported its acceptedEpoch. */
  private maybeChooseEpoch(out: Ready<T>, nowMs: number): void {
    if (this.epochChosen !== null || !this.cfg.verifier.containsQuorum(this.connecting)) return;
    const epoch = this.maxAcceptedEpoch + 1;
    this.epochChosen = epoch;
    this.state.setAcceptedEpoch(epoch, out);
    for (const h of this.handlers.values()) {
      if (h.stage !== "info") continue;
      out.send.push({ to: h.sid, packet: { kind: "LEADERINFO", newEpoch: epoch } });
      h.stage = "epochSent";
    }
    this.phaseDeadlineMs = nowMs + this.initLimitMs;
    this.epochAcks.add(this.cfg.myId);
    this.maybeFinishDiscovery(out, nowMs);
  }

  private onAckEpoch(h: LearnerHandler, currentEpoch: number, lastZxid: bigint, out: Ready<T>, nowMs: number): void {
    h.lastZxid = lastZxid;
    h.stage = "epochAcked";
    if (this.discovered) {
      this.syncLearner(h, out);
      return;
    }
    // currentEpoch -1: it had already accepted this epoch (a reconnect); such an ack does not count (waitForEpochAck).
    if (currentEpoch !== -1) {
      const s = this.summary;
      if (currentEpoch > s.currentEpoch || (currentEpoch === s.currentEpoch && lastZxid > s.lastZxid)) {
        this.stop(
          `follower ${h.sid} is ahead of the leader: (currentEpoch ${currentEpoch}, lastZxid ${hexZxid(lastZxid)}) > ` +
            `(${s.currentEpoch}, ${hexZxid(s.lastZxid)})`,
          out,
        );
        return;
      }
      if (h.type === "follower") this.epochAcks.add(h.sid);
    }
    this.maybeFinishDiscovery(out, nowMs);
  }

  private maybeFinishDiscovery(out: Ready<T>, nowMs: number): void {
    if (this.discovered || this.stopped !== null || !this.cfg.verifier.containsQuorum(this.epochAcks)) return;
    const epoch = this.epochChosen!;
    this.discovered = true;
    this.state.setCurrentEpoch(epoch, out);
    out.events.push({ kind: "discovered", epoch, quorum: [...this.epochAcks].sort((a, b) => a - b) });
    this.phaseDeadlineMs = nowMs + this.initLimitMs;
    this.newLeaderAcks.add(this.cfg.myId);
    for (const h of this.handlers.values()) if (h.stage === "epochAcked") this.syncLearner(h, out);
    this.maybeEstablish(out, nowMs);
  }

  // ---------------------------------------------------------------- synchronization

  /** Apache LearnerHandler.syncFollower: DIFF, TRUNC or SNAP, the missing txns, then NEWLEADER. */
  private syncLearner(h: LearnerHandler, out: Ready<T>): void {
    const history = this.state.history;
    const peerLast = h.lastZxid;
    const common = history.lastAtOrBefore(peerLast);
    let from: bigint;
    if (common === undefined) {
      // Older than anything kept in memory: send the state machine. The driver writes it after the SNAP packet,
      // having applied every delivery before; none may be pending in this very step.
      assert(out.deliver.length === 0, "SNAP in a step that also delivers");
      from = history.deliveredZxid;
      out.send.push({ to: h.sid, packet: { kind: "SNAP", zxid: from } });
      out.events.push({ kind: "sync", learner: h.sid, mode: "SNAP", fromZxid: from, toZxid: history.lastZxid });
    } else if (common === peerLast) {
      from = peerLast;
      out.send.push({ to: h.sid, packet: { kind: "DIFF", zxid: history.lastZxid } });
      out.events.push({ kind: "sync", learner: h.sid, mode: "DIFF", fromZxid: from, toZxid: history.lastZxid });
    } else {
      // The learner has txns this leader does not (never committed): cut back to the last common one.
      from = common;
      out.send.push({ to: h.sid, packet: { kind: "TRUNC", zxid: common } });
      out.events.push({ kind: "sync", learner: h.sid, mode: "TRUNC", fromZxid: from, toZxid: history.lastZxid });
    }
    const committed = history.committedZxid;
    const epoch = this.epochChosen!;
    // What the learner already holds may include txns of this epoch committed while it was away (their COMMIT
    // died with its old connection); UPTODATE commits only earlier epochs, so say how far that is — otherwise it
    // would apply them only at some later COMMIT, and a sync answered meanwhile would miss them.
    const heldCommitted = committed < from ? committed : from;
    if (common !== undefined && zxidEpoch(heldCommitted) === epoch) {
      out.send.push({ to: h.sid, packet: { kind: "COMMIT", zxid: heldCommitted } });
    }
    for (const e of history.after(from)) {
      const isCommitted = e.zxid <= committed;
      // Observers get no outstanding proposals of this epoch; those reach them as INFORM once committed.
      if (h.type === "observer" && !isCommitted && zxidEpoch(e.zxid) === epoch) continue;
      out.send.push({ to: h.sid, packet: { kind: "PROPOSAL", zxid: e.zxid, txn: e.txn } });
      if (isCommitted) out.send.push({ to: h.sid, packet: { kind: "COMMIT", zxid: e.zxid } });
    }
    out.send.push({ to: h.sid, packet: { kind: "NEWLEADER", zxid: makeZxid(epoch, 0) } });
    h.stage = "synced";
    h.syncedTo = history.lastZxid;
  }

  private onAck(h: LearnerHandler, zxid: bigint, out: Ready<T>, nowMs: number): void {
    if (zxid === makeZxid(this.epochChosen ?? -1, 0)) {
      if (h.stage !== "synced") return;
      h.stage = "newLeaderAcked";
      if (this.isEstablished) {
        out.send.push({ to: h.sid, packet: { kind: "UPTODATE" } });
        h.stage = "uptodate";
        // The ACK means "everything before NEWLEADER is logged": outstanding proposals up to the sync point were in
        // its log already or in the sync stream. Without this, a follower that reconnects holding a proposal whose
        // ACK was lost would never ACK it again, and (commits being in zxid order) the leader would stall.
        if (h.type === "follower") {
          this.proposals.ackThrough(h.syncedTo, h.sid);
          this.commitWhatCan(out);
        }
      } else {
        if (h.type === "follower") this.newLeaderAcks.add(h.sid);
        this.maybeEstablish(out, nowMs);
      }
      return;
    }
    if (!this.isEstablished || h.type !== "follower" || !isSynced(h.stage)) return;
    this.proposals.ack(zxid, h.sid);
    this.commitWhatCan(out);
  }

  private maybeEstablish(out: Ready<T>, nowMs: number): void {
    if (this.isEstablished || this.stopped !== null || !this.cfg.verifier.containsQuorum(this.newLeaderAcks)) return;
    this.isEstablished = true;
    const epoch = this.epochChosen!;
    // A quorum holds the leader's whole history under this epoch: all of it is committed (Zab phase 2).
    this.state.history.commitThrough(this.state.history.lastZxid);
    this.state.deliverCommitted(out);
    out.events.push({ kind: "established", epoch, quorum: [...this.newLeaderAcks].sort((a, b) => a - b) });
    for (const h of this.handlers.values()) {
      if (h.stage !== "newLeaderAcked") continue;
      out.send.push({ to: h.sid, packet: { kind: "UPTODATE" } });
      h.stage = "uptodate";
    }
    this.nextHalfTickMs = nowMs + this.cfg.tickTimeMs / 2;
    this.tickSkip = true;
  }

  // ---------------------------------------------------------------- broadcast

  private commitWhatCan(out: Ready<T>): void {
    const history = this.state.history;
    for (const zxid of this.proposals.takeCommittable()) {
      history.commitThrough(zxid);
      const entry = history.entry(zxid);
      assert(entry !== undefined, () => `committed ${hexZxid(zxid)} is not in the leader's history`);
      for (const h of this.handlers.values()) {
        if (!isSynced(h.stage)) continue;
        if (h.type === "follower") out.send.push({ to: h.sid, packet: { kind: "COMMIT", zxid } });
        else out.send.push({ to: h.sid, packet: { kind: "INFORM", zxid, txn: entry.txn } });
      }
      for (const w of this.syncWaiters.get(zxid) ?? []) this.answerSync(w, out);
      this.syncWaiters.delete(zxid);
    }
    this.state.deliverCommitted(out);
  }

  private onRequest(from: number, request: ForwardedRequest<T>, out: Ready<T>): void {
    switch (request.op) {
      case "write":
        if (this.canPropose) out.requests.push({ from, request });
        else out.events.push({ kind: "rejected", what: "write" });
        break;
      case "sync":
        this.waitForOutstanding({ learner: from }, out);
        break;
      default:
        assertNever(request, "forwarded request");
    }
  }

  /** Apache Leader.processSync: answer now, or after the last outstanding proposal commits. */
  private waitForOutstanding(waiter: SyncWaiter, out: Ready<T>): void {
    const last = this.proposals.lastOutstanding;
    if (last === undefined) {
      this.answerSync(waiter, out);
      return;
    }
    const list = this.syncWaiters.get(last) ?? [];
    list.push(waiter);
    this.syncWaiters.set(last, list);
  }

  private answerSync(w: SyncWaiter, out: Ready<T>): void {
    if ("token" in w) out.syncs.push({ token: w.token, ok: true });
    else if (this.handlers.has(w.learner)) out.send.push({ to: w.learner, packet: { kind: "SYNC" } });
  }

  // ---------------------------------------------------------------- helpers

  private dropLearner(h: LearnerHandler, out: Ready<T>, nowMs: number): Ready<T> {
    this.handlers.delete(h.sid);
    out.close.push(h.sid);
    return this.finish(out, nowMs);
  }

  private stop(reason: string, out: Ready<T>): void {
    if (this.stopped !== null) return;
    this.stopped = reason;
    for (const sid of this.handlers.keys()) out.close.push(sid);
    this.handlers.clear();
    for (const waiters of this.syncWaiters.values()) {
      for (const w of waiters) if ("token" in w) out.syncs.push({ token: w.token, ok: false });
    }
    this.syncWaiters.clear();
  }

  private get initLimitMs(): number {
    return this.cfg.initLimitTicks * this.cfg.tickTimeMs;
  }
  private get syncLimitMs(): number {
    return this.cfg.syncLimitTicks * this.cfg.tickTimeMs;
  }

  private finish(out: Ready<T>, nowMs: number): Ready<T> {
    if (this.stopped !== null) {
      out.wakeAtMs = Number.POSITIVE_INFINITY;
      return out;
    }
    let wake = this.isEstablished ? this.nextHalfTickMs : this.phaseDeadlineMs;
    for (const h of this.handlers.values()) wake = Math.min(wake, h.deadlineMs + 1);
    out.wakeAtMs = Math.max(wake, nowMs);
    return out;
  }
}

function isSynced(stage: HandlerStage): boolean {
  return stage === "synced" || stage === "newLeaderAcked" || stage === "uptodate";
}
