/**
 * The FOLLOWING and OBSERVING roles (Apache `Learner`, `Follower`, `Observer`) as step functions.
 *
 * Zab paper §4 and reference §6, from the learner's side:
 *  - discovery: connect, send FOLLOWERINFO(acceptedEpoch) (OBSERVERINFO for an observer); on LEADERINFO(e) with
 *    e > acceptedEpoch persist acceptedEpoch = e and answer ACKEPOCH(currentEpoch, lastZxid); e == acceptedEpoch
 *    (a reconnect) answers with currentEpoch -1; e < acceptedEpoch is refused;
 *  - synchronization: DIFF, TRUNC or SNAP, then PROPOSAL/COMMIT pairs; at NEWLEADER persist currentEpoch = e and
 *    ACK (everything before it is logged); at UPTODATE the leader's history is committed: deliver and serve;
 *  - broadcast: PROPOSAL → log → (fsync) → ACK; COMMIT → deliver in zxid order (`LoggingFollower`, lab 9.5's
 *    seam). An observer never ACKs a proposal
 *    and learns commits from INFORM (notes 第9章 观察者: "观察者提交来自群首的提议").
 * Silence from the leader for initLimit ticks (while syncing) or syncLimit ticks (after) ends the role, as does the
 * connection dropping; the peer then looks for a leader again.
 */
import { assert, assertNever, hexZxid, InvariantError } from "../assert.ts";
import { makeZxid, zxidEpoch } from "../../tree/txn.ts";
import type { LogEntry, QuorumPacket, ZabTypes } from "./messages.ts";
import { emptyReady, type Ready } from "./ready.ts";
import type { ZabConfig, ZabState } from "./state.ts";

export type LearnerType = "follower" | "observer";

/** Apache `zookeeper.leaderConnectDelayDuringRetryMs`: the pause before connecting again to a refusing leader. */
export const leaderConnectDelayDuringRetryMsDefault = 100;

/** Where a learner is in Learner.followLeader / observeLeader. */
export type LearnerStage =
  /** FOLLOWERINFO/OBSERVERINFO sent; waiting for LEADERINFO. */
  | "connecting"
  /** ACKEPOCH sent; waiting for DIFF, TRUNC or SNAP. */
  | "epochAcked"
  /** Receiving the txns it lacks, until NEWLEADER. */
  | "syncing"
  /** NEWLEADER acked; waiting for UPTODATE. */
  | "newLeaderAcked"
  /** Serving. */
  | "uptodate";

/** The two packets of the broadcast phase a follower acts on (lab 9.5). */
export type BroadcastPacket<T extends ZabTypes> = Extract<QuorumPacket<T>, { readonly kind: "PROPOSAL" | "COMMIT" }>;

/**
 * What a follower's broadcast step may do and see (the seam of lab 9.5). Everything one step asks for is carried
 * out under the driver's contract (ready.ts): the appends it `log`s are written *and fsynced* before anything it
 * sends leaves, and its deliveries reach the state machine in the order it makes them.
 */
export interface FollowerIo<T extends ZabTypes> {
  /** The zxid of the last txn in this server's log. */
  readonly lastLogged: bigint;
  /** The zxid of the last txn handed to the state machine (everything up to it is committed). */
  readonly lastDelivered: bigint;
  /** Whether `zxid` is in this server's log (still in memory: anything after lastDelivered is). */
  isLogged(zxid: bigint): boolean;
  /** The logged txns after `zxid` (which must be >= lastDelivered), zxid ascending. */
  loggedAfter(zxid: bigint): readonly LogEntry<T>[];
  /** Append `entry` to the log; zxids must increase. Durable before anything sent in this step or later. */
  log(entry: LogEntry<T>): void;
  /** Send ACK(zxid) to the leader: "zxid, and everything before it, is on my disk". */
  ack(zxid: bigint): void;
  /** Hand one committed txn to the state machine (DataTree.processTxn). */
  deliver(entry: LogEntry<T>): void;
  /** The leader sent what Zab never sends: the server stops with this message (Apache exits). */
  protocolError(message: string): never;
}

/**
 * A follower's handling of PROPOSAL and COMMIT once it serves (Apache `FollowerZooKeeperServer.logRequest` and
 * `commit`). One instance per FOLLOWING role, so an implementation may keep state of its own.
 */
export interface FollowerBroadcast {
  step<T extends ZabTypes>(packet: BroadcastPacket<T>, io: FollowerIo<T>): void;
}

/**
 * The reference follower in the broadcast phase (Zab paper §3: a follower accepts a proposal by writing it to
 * stable storage and acknowledging it; it delivers a committed transaction only after every one before it).
 * lab 9 plugs the learner's version in here (PeerOptions.followerBroadcast).
 */
export class LoggingFollower implements FollowerBroadcast {
  step<T extends ZabTypes>(packet: BroadcastPacket<T>, io: FollowerIo<T>): void {
    // lab 9.5: Zab on the follower: log a PROPOSAL before ACKing it; on COMMIT deliver in zxid order what is logged
    //   PROPOSAL: append it to the log (io.log), then ACK its zxid (io.ack). The ACK promises the txn is on disk —
    //   the leader counts it toward a quorum — so never ACK what you have not logged (in this step or before).
    //   COMMIT(z): a COMMIT at or below io.lastDelivered is old news: ignore it. A COMMIT of a txn this server never
    //   logged is a protocol error (io.protocolError). Otherwise deliver every logged txn after io.lastDelivered up
    //   to and including z, in zxid order (io.loggedAfter), and nothing after z: the leader commits in order, so a
    //   COMMIT of z also commits everything before it.
    if (packet.kind === "PROPOSAL") {
      io.log({ zxid: packet.zxid, txn: packet.txn });
      io.ack(packet.zxid);
      return;
    }
    if (packet.zxid <= io.lastDelivered) return;
    if (!io.isLogged(packet.zxid)) io.protocolError(`COMMIT ${hexZxid(packet.zxid)} of a txn this server never logged`);
    for (const entry of io.loggedAfter(io.lastDelivered)) {
      if (entry.zxid > packet.zxid) break;
      io.deliver(entry);
    }
    // end lab 9.5
  }
}

export class Learner<T extends ZabTypes> {
  /** Why this server stopped following; the peer then goes back to LOOKING. */
  stopped: string | null = null;
  private stageNow: LearnerStage = "connecting";
  private newEpoch = -1;
  private deadlineMs = 0;
  /** Set while waiting to connect again (the leader refused or dropped the first connection). */
  private retryAtMs: number | null = null;
  /** Client syncs forwarded to the leader, oldest first (its SYNC answers come back in order). */
  private readonly pendingSyncs: number[] = [];

  constructor(
    readonly type: LearnerType,
    private readonly cfg: ZabConfig,
    private readonly state: ZabState<T>,
    /** The server this one follows. */
    readonly leader: number,
    /** How a follower handles PROPOSAL and COMMIT once it serves (a seam: lab 9.5 plugs the learner's in). */
    private readonly broadcast: FollowerBroadcast = new LoggingFollower(),
  ) {}

  get stage(): LearnerStage {
    return this.stageNow;
  }
  get serving(): boolean {
    return this.stageNow === "uptodate" && this.stopped === null;
  }

  start(nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    this.deadlineMs = nowMs + this.initLimitMs;
    this.connect(out);
    return this.finish(out, nowMs);
  }

  /** Apache Learner.connectToLeader + registerWithLeader: a new connection, FOLLOWERINFO/OBSERVERINFO first. */
  private connect(out: Ready<T>): void {
    out.connect = this.leader;
    const acceptedEpoch = this.state.acceptedEpoch;
    out.send.push({ to: this.leader, packet: this.type === "follower" ? { kind: "FOLLOWERINFO", acceptedEpoch } : { kind: "OBSERVERINFO", acceptedEpoch } });
  }

  receive(from: number, packet: QuorumPacket<T>, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (this.stopped !== null) return this.finish(out, nowMs);
    if (from !== this.leader) {
      out.close.push(from); // it takes this server for a leader: refuse, as a closed port would
      return this.finish(out, nowMs);
    }
    this.deadlineMs = nowMs + (this.stageNow === "uptodate" ? this.syncLimitMs : this.initLimitMs);
    const state = this.state;
    const history = state.history;
    switch (packet.kind) {
      case "LEADERINFO": {
        if (!this.expect(packet.kind, ["connecting"], out)) break;
        const e = packet.newEpoch;
        if (e < state.acceptedEpoch) {
          this.stop(`leader's epoch ${e} is less than accepted epoch ${state.acceptedEpoch}`, out);
          break;
        }
        let reported = -1;
        if (e > state.acceptedEpoch) {
          reported = state.currentEpoch;
          state.setAcceptedEpoch(e, out);
        }
        this.newEpoch = e;
        out.send.push({ to: this.leader, packet: { kind: "ACKEPOCH", currentEpoch: reported, lastZxid: history.lastZxid } });
        this.stageNow = "epochAcked";
        break;
      }
      case "DIFF":
        if (this.expect(packet.kind, ["epochAcked"], out)) this.stageNow = "syncing";
        break;
      case "TRUNC":
        if (!this.expect(packet.kind, ["epochAcked"], out)) break;
        state.truncate(packet.zxid, out);
        this.stageNow = "syncing";
        break;
      case "SNAP":
        if (!this.expect(packet.kind, ["epochAcked"], out)) break;
        state.installSnapshot(packet.zxid, packet.snapshot, out);
        this.stageNow = "syncing";
        break;
      case "PROPOSAL":
        if (!this.expect(packet.kind, ["syncing", "newLeaderAcked", "uptodate"], out)) break;
        if (this.type === "follower" && this.stageNow === "uptodate") {
          this.broadcastStep(packet, out);
          break;
        }
        state.append({ zxid: packet.zxid, txn: packet.txn }, out);
        // While syncing, the ACK of NEWLEADER will stand for these; observers never ACK.
        if (this.type === "follower" && this.stageNow !== "syncing") out.send.push({ to: this.leader, packet: { kind: "ACK", zxid: packet.zxid } });
        break;
      case "COMMIT":
        if (!this.expect(packet.kind, ["syncing", "newLeaderAcked", "uptodate"], out)) break;
        if (this.type === "follower" && this.stageNow === "uptodate") {
          this.broadcastStep(packet, out);
          break;
        }
        assert(history.contains(packet.zxid) || packet.zxid <= history.floorZxid, () => `COMMIT ${hexZxid(packet.zxid)} of a txn this server never logged`);
        history.commitThrough(packet.zxid);
        if (this.stageNow === "uptodate") state.deliverCommitted(out);
        break;
      case "INFORM":
        if (!this.expect(packet.kind, ["syncing", "newLeaderAcked", "uptodate"], out)) break;
        if (packet.zxid > history.lastZxid) state.append({ zxid: packet.zxid, txn: packet.txn }, out);
        history.commitThrough(packet.zxid);
        if (this.stageNow === "uptodate") state.deliverCommitted(out);
        break;
      case "NEWLEADER":
        if (!this.expect(packet.kind, ["syncing"], out)) break;
        assert(zxidEpoch(packet.zxid) === this.newEpoch, () => `NEWLEADER ${hexZxid(packet.zxid)} in epoch ${this.newEpoch}`);
        // Everything before NEWLEADER is in `persist` already, and the driver fsyncs it before this ACK leaves:
        // the ACK says "I hold your history up to here".
        state.setCurrentEpoch(this.newEpoch, out);
        out.send.push({ to: this.leader, packet: { kind: "ACK", zxid: packet.zxid } });
        this.stageNow = "newLeaderAcked";
        break;
      case "UPTODATE": {
        if (!this.expect(packet.kind, ["newLeaderAcked"], out)) break;
        // A quorum acked NEWLEADER: the leader's initial history (every txn before this epoch) is committed.
        const initial = history.lastAtOrBefore(makeZxid(this.newEpoch, 0) - 1n);
        if (initial !== undefined) history.commitThrough(initial);
        state.deliverCommitted(out);
        this.stageNow = "uptodate";
        this.deadlineMs = nowMs + this.syncLimitMs;
        out.events.push({ kind: "uptodate", epoch: this.newEpoch });
        break;
      }
      case "PING":
        out.send.push({ to: this.leader, packet: { kind: "PING" } });
        break;
      case "SYNC": {
        const token = this.pendingSyncs.shift();
        if (token !== undefined) out.syncs.push({ token, ok: true });
        break;
      }
      case "FOLLOWERINFO":
      case "OBSERVERINFO":
      case "ACKEPOCH":
      case "ACK":
      case "REQUEST":
        this.stop(`unexpected ${packet.kind} from the leader`, out);
        break;
      default:
        assertNever(packet, "quorum packet");
    }
    return this.finish(out, nowMs);
  }

  disconnected(sid: number, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (sid !== this.leader || this.stopped !== null) return this.finish(out, nowMs);
    if (this.stageNow === "connecting") {
      // Refused (the leader is not leading yet) or dropped before LEADERINFO: try again until initLimit runs out.
      const retryAt = nowMs + leaderConnectDelayDuringRetryMsDefault;
      if (retryAt < this.deadlineMs) this.retryAtMs = retryAt;
      else this.stop(`could not connect to leader ${sid} within initLimit`, out);
    } else this.stop(`connection to leader ${sid} closed`, out);
    return this.finish(out, nowMs);
  }

  tick(nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (this.stopped === null && this.retryAtMs !== null && nowMs >= this.retryAtMs) {
      this.retryAtMs = null;
      this.connect(out);
    }
    if (this.stopped === null && nowMs >= this.deadlineMs) {
      const limit = this.stageNow === "uptodate" ? `syncLimit (${this.syncLimitMs} ms)` : `initLimit (${this.initLimitMs} ms)`;
      this.stop(`nothing from leader ${this.leader} within ${limit} while ${this.stageNow}`, out);
    }
    return this.finish(out, nowMs);
  }

  /** A client write at this learner: forwarded to the leader (REQUEST). */
  submit(request: T["request"], nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (this.serving) out.send.push({ to: this.leader, packet: { kind: "REQUEST", request: { op: "write", request } } });
    else out.events.push({ kind: "rejected", what: "write" });
    return this.finish(out, nowMs);
  }

  /** A client sync at this learner: forwarded; done when the leader's SYNC comes back. */
  sync(token: number, nowMs: number): Ready<T> {
    const out = emptyReady<T>();
    if (this.serving) {
      this.pendingSyncs.push(token);
      out.send.push({ to: this.leader, packet: { kind: "REQUEST", request: { op: "sync" } } });
    } else {
      out.syncs.push({ token, ok: false });
      out.events.push({ kind: "rejected", what: "sync" });
    }
    return this.finish(out, nowMs);
  }

  /** PROPOSAL or COMMIT of the broadcast phase, through the (perhaps plugged-in) broadcast step. */
  private broadcastStep(packet: BroadcastPacket<T>, out: Ready<T>): void {
    this.broadcastOut = out;
    this.broadcast.step(packet, this.broadcastIo);
    this.broadcastOut = null;
    this.state.deliverCommitted(out); // nothing is left to deliver; this keeps the in-memory window pruned
  }

  /** Where `broadcastIo` writes during a broadcastStep. */
  private broadcastOut: Ready<T> | null = null;

  private broadcastIoMade: FollowerIo<T> | null = null;

  /** The follower's view for `broadcast.step`, made once (it runs for every PROPOSAL and COMMIT). */
  private get broadcastIo(): FollowerIo<T> {
    this.broadcastIoMade ??= this.makeBroadcastIo();
    return this.broadcastIoMade;
  }

  private makeBroadcastIo(): FollowerIo<T> {
    const state = this.state;
    const history = state.history;
    const out = (): Ready<T> => {
      assert(this.broadcastOut !== null, "follower io used outside a broadcast step");
      return this.broadcastOut;
    };
    return {
      get lastLogged() {
        return history.lastZxid;
      },
      get lastDelivered() {
        return history.deliveredZxid;
      },
      isLogged: (zxid) => history.contains(zxid),
      loggedAfter: (zxid) => history.after(zxid),
      log: (entry) => state.append(entry, out()),
      ack: (zxid) => void out().send.push({ to: this.leader, packet: { kind: "ACK", zxid } }),
      deliver: (entry) => {
        out().deliver.push({ kind: "commit", entry });
        history.markDelivered(entry.zxid);
      },
      protocolError: (message) => {
        throw new InvariantError(message);
      },
    };
  }

  private expect(kind: string, stages: readonly LearnerStage[], out: Ready<T>): boolean {
    if (stages.includes(this.stageNow)) return true;
    this.stop(`unexpected ${kind} while ${this.stageNow}`, out);
    return false;
  }

  private stop(reason: string, out: Ready<T>): void {
    this.stopped = reason;
    out.close.push(this.leader);
    for (const token of this.pendingSyncs) out.syncs.push({ token, ok: false });
    this.pendingSyncs.length = 0;
  }

  private get initLimitMs(): number {
    return this.cfg.initLimitTicks * this.cfg.tickTimeMs;
  }
  private get syncLimitMs(): number {
    return this.cfg.syncLimitTicks * this.cfg.tickTimeMs;
  }

  private finish(out: Ready<T>, nowMs: number): Ready<T> {
    const wake = this.retryAtMs === null ? this.deadlineMs : Math.min(this.retryAtMs, this.deadlineMs);
    out.wakeAtMs = this.stopped !== null ? Number.POSITIVE_INFINITY : Math.max(wake, nowMs);
    return out;
  }
}

/** Apache `Follower`: votes, ACKs proposals, counts toward quorums. */
export class Follower<T extends ZabTypes> extends Learner<T> {
  constructor(cfg: ZabConfig, state: ZabState<T>, leader: number, broadcast?: FollowerBroadcast) {
    super("follower", cfg, state, leader, broadcast);
  }
}

/** Apache `Observer`: learns committed txns through INFORM, never ACKs, never counts. */
export class Observer<T extends ZabTypes> extends Learner<T> {
  constructor(cfg: ZabConfig, state: ZabState<T>, leader: number) {
    super("observer", cfg, state, leader);
  }
}
