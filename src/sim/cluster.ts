/**
 * N servers of the real election and Zab code (QuorumPeer) in one process, on a simulated network and simulated
 * disks, in virtual time. The harness is the cores' driver: it carries out each `Ready` under the contract in
 * src/quorum/zab/ready.ts (persist → fsync → deliver → close → connect → send, strictly in order per server, with
 * fsync taking simulated time and group-committing what was written meanwhile).
 */
import {
  QuorumPeer,
  assert,
  describePacket,
  describeVote,
  hexZxid,
  type Notification,
  type PeerEvent,
  type PeerOptions,
  type QuorumPacket,
  type QuorumVerifier,
  type Ready,
  type RoleKind,
} from "../quorum/index.ts";
import { EventQueue } from "./clock.ts";
import { SafetyChecker } from "./checkers.ts";
import { SimDisk } from "./disk.ts";
import { SimNetwork, type NetworkFaults } from "./network.ts";
import type { Random } from "./random.ts";
import { Timeline } from "./timeline.ts";
import type { SimApplied, SimTypes } from "./types.ts";

export interface ClusterConfig {
  readonly verifier: QuorumVerifier;
  readonly tickTimeMs: number;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  readonly finalizeWaitMs: number;
  readonly maxNotificationIntervalMs: number;
  readonly committedLogCountMax: number;
  readonly network: NetworkFaults;
  readonly fsyncMsMin: number;
  readonly fsyncMsMax: number;
  /** Probability that a crash leaves the first lost append torn on disk. */
  readonly tornWriteProbability: number;
  /** Keep a timeline of every message (slower; a failing seed is re-run with it). */
  readonly record: boolean;
  /**
   * Pieces plugged into every peer instead of the reference (lab 9): vote order, the election's round logic,
   * the leader's ack/commit bookkeeping, the follower's broadcast step.
   */
  readonly seams?: Pick<PeerOptions, "voteOrder" | "lookingRule" | "proposals" | "followerBroadcast">;
}

type SimEvent =
  | { readonly kind: "wake"; readonly sid: number; readonly incarnation: number; readonly atMs: number }
  | { readonly kind: "notification"; readonly from: number; readonly to: number; readonly n: Notification; readonly id: number }
  | { readonly kind: "packet"; readonly from: number; readonly to: number; readonly packet: QuorumPacket<SimTypes>; readonly gen: number; readonly id: number }
  | { readonly kind: "disconnected"; readonly sid: number; readonly peer: number; readonly incarnation: number }
  | { readonly kind: "fsync"; readonly sid: number; readonly incarnation: number; readonly seq: number }
  | { readonly kind: "action"; readonly run: () => void };

interface SimNode {
  readonly sid: number;
  readonly disk: SimDisk<SimTypes>;
  peer: QuorumPeer<SimTypes> | null;
  incarnation: number;
  /** The state machine: txns applied, in order. */
  applied: SimApplied[];
  /** Readys waiting for their persist to be fsynced (and everything queued behind them). */
  readonly outbox: { readonly ready: Ready<SimTypes>; readonly needSeq: number }[];
  fsyncInFlight: boolean;
  draining: boolean;
  wakeAtMs: number;
  role: RoleKind | "down";
  leader: number | null;
}

export interface ClusterStats {
  events: number;
  messages: number;
  notifications: number;
  lost: number;
  crashes: number;
  restarts: number;
  elections: number;
  established: number;
  commits: number;
  submitted: number;
  rejected: number;
  syncs: { DIFF: number; TRUNC: number; SNAP: number };
  /**
   * Client syncs issued, answered, and answered stale by a deposed leader's view (the notes' caveat; a stale answer
   * with no newer leader is a violation instead).
   */
  clientSyncs: { issued: number; done: number; failed: number; stale: number };
  tornRecovered: number;
  roleChanges: Map<string, number>;
}

export class Cluster {
  readonly queue = new EventQueue<SimEvent>();
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  readonly timeline: Timeline | null;
  readonly servers: readonly number[];
  readonly stats: ClusterStats = {
    events: 0,
    messages: 0,
    notifications: 0,
    lost: 0,
    crashes: 0,
    restarts: 0,
    elections: 0,
    established: 0,
    commits: 0,
    submitted: 0,
    rejected: 0,
    syncs: { DIFF: 0, TRUNC: 0, SNAP: 0 },
    clientSyncs: { issued: 0, done: 0, failed: 0, stale: 0 },
    tornRecovered: 0,
    roleChanges: new Map(),
  };
  /** Why the run stopped early: a core threw (an invariant broke). */
  crashError: Error | null = null;
  private readonly nodes = new Map<number, SimNode>();
  /** Client syncs in flight: how many txns were committed (anywhere) when each was issued. */
  private readonly pendingSyncs = new Map<number, { readonly sid: number; readonly committedAtIssue: number; readonly atMs: number }>();
  private nextSyncToken = 1;
  /** Stale syncs seen (a sync that returned before a write committed before it): the notes' sync caveat. */
  readonly staleSyncs: string[] = [];
  private readonly peerOptions: (sid: number) => PeerOptions;

  constructor(
    readonly config: ClusterConfig,
    private readonly random: Random,
  ) {
    const v = config.verifier;
    this.servers = [...v.votingMembers, ...v.observers].sort((a, b) => a - b);
    this.network = new SimNetwork(random, config.network);
    this.timeline = config.record ? new Timeline(this.servers) : null;
    this.checker = new SafetyChecker(v, (sid, zxid) => this.nodes.get(sid)!.disk.durablyHas(zxid));
    this.peerOptions = (sid) => ({
      myId: sid,
      verifier: v,
      tickTimeMs: config.tickTimeMs,
      initLimitTicks: config.initLimitTicks,
      syncLimitTicks: config.syncLimitTicks,
      finalizeWaitMs: config.finalizeWaitMs,
      maxNotificationIntervalMs: config.maxNotificationIntervalMs,
      committedLogCountMax: config.committedLogCountMax,
      ...config.seams,
    });
    for (const sid of this.servers) {
      this.nodes.set(sid, {
        sid,
        disk: new SimDisk<SimTypes>(),
        peer: null,
        incarnation: 0,
        applied: [],
        outbox: [],
        fsyncInFlight: false,
        draining: false,
        wakeAtMs: Number.POSITIVE_INFINITY,
        role: "down",
        leader: null,
      });
    }
  }

  get nowMs(): number {
    return this.queue.nowMs;
  }

  // ---------------------------------------------------------------- control (tests, nemesis, clients)

  /** Starts every server (from empty disks). */
  startAll(): void {
    for (const sid of this.servers) this.restart(sid);
  }

  isUp(sid: number): boolean {
    return this.node(sid).peer !== null;
  }

  upServers(): number[] {
    return this.servers.filter((s) => this.isUp(s));
  }

  downServers(): number[] {
    return this.servers.filter((s) => !this.isUp(s));
  }

  peer(sid: number): QuorumPeer<SimTypes> | null {
    return this.node(sid).peer;
  }

  /** The txns server `sid` has applied (its state machine). */
  applied(sid: number): readonly SimApplied[] {
    return this.node(sid).applied;
  }

  disk(sid: number): SimDisk<SimTypes> {
    return this.node(sid).disk;
  }

  roleOf(sid: number): RoleKind | "down" {
    return this.node(sid).role;
  }

  /** Servers whose core says they serve (established leader, or learner past UPTODATE). */
  servingServers(): number[] {
    return this.servers.filter((s) => this.node(s).peer?.serving === true);
  }

  /** The process dies: its unsynced writes may be lost or torn, its connections drop, its memory is gone. */
  crash(sid: number): void {
    const n = this.node(sid);
    if (n.peer === null) return;
    n.peer = null;
    n.incarnation++;
    n.outbox.length = 0;
    n.fsyncInFlight = false;
    n.wakeAtMs = Number.POSITIVE_INFINITY;
    n.applied = [];
    for (const [token, p] of this.pendingSyncs) if (p.sid === sid) this.pendingSyncs.delete(token);
    n.role = "down";
    n.leader = null;
    const damage = n.disk.crash(this.random, this.config.tornWriteProbability);
    this.stats.crashes++;
    this.note(sid, `CRASH (unsynced writes: ${damage.kept} kept, ${damage.lost} lost${damage.torn ? ", last one torn" : ""})`);
    for (const other of this.servers) if (other !== sid) this.closeConnection(sid, other);
  }

  /** Starts a server again from what its disk holds. */
  restart(sid: number): void {
    const n = this.node(sid);
    if (n.peer !== null) return;
    const recovery = n.disk.recover();
    if (recovery.tornDropped > 0) this.stats.tornRecovered++;
    n.applied = recovery.snapshot === null ? [] : [...recovery.snapshot.data.applied];
    this.checker.onInstall(sid, n.applied, this.nowMs);
    const s = recovery.state;
    this.note(
      sid,
      `START currentEpoch=${s.currentEpoch} acceptedEpoch=${s.acceptedEpoch} snapshot=${hexZxid(s.appliedZxid)} log=${s.log.length}` +
        (recovery.tornDropped > 0 ? ` (dropped ${recovery.tornDropped} torn record)` : ""),
    );
    if (n.incarnation > 0) this.stats.restarts++;
    n.peer = new QuorumPeer<SimTypes>(this.peerOptions(sid), s);
    n.role = "looking";
    this.step(n, (p) => p.start(this.nowMs));
  }

  /** A client write at server `sid` (rejected unless it serves). */
  submit(sid: number, id: number): void {
    const n = this.node(sid);
    if (n.peer === null) return;
    this.stats.submitted++;
    this.step(n, (p) => p.submit({ id }, this.nowMs));
  }

  /**
   * A client sync at server `sid`. When it returns, the server should have applied every txn committed before it
   * was issued (book chapter 6: sync makes the server catch up with the leader) — unless the leader it asked was
   * already deposed, the caveat the notes describe; such answers are counted in `stats.clientSyncs.stale`.
   */
  sync(sid: number): void {
    const n = this.node(sid);
    if (n.peer === null) return;
    const token = this.nextSyncToken++;
    this.pendingSyncs.set(token, { sid, committedAtIssue: this.checker.committed.length, atMs: this.nowMs });
    this.stats.clientSyncs.issued++;
    this.step(n, (p) => p.sync(token, this.nowMs));
  }

  partition(groups: readonly (readonly number[])[]): void {
    this.network.partition(groups);
    this.note(null, `PARTITION ${groups.map((g) => `{${g.join(",")}}`).join(" | ")}`);
  }

  block(from: number, to: number): void {
    this.network.block(from, to);
    this.note(null, `BLOCK s${from} → s${to}`);
  }

  heal(): void {
    this.network.heal();
    this.note(null, "HEAL");
  }

  setFaults(faults: NetworkFaults, label: string): void {
    this.network.faults = faults;
    this.note(null, `NETWORK ${label}`);
  }

  /** Runs `run` at virtual time `atMs`. */
  at(atMs: number, run: () => void): void {
    this.queue.schedule(atMs, { kind: "action", run });
  }

  /** Processes events until virtual time `untilMs` (or `stop` says so, or a core throws). */
  runUntil(untilMs: number, stop?: () => boolean): void {
    while (this.crashError === null && this.queue.peekTimeMs() <= untilMs) {
      const e = this.queue.pop()!;
      this.stats.events++;
      try {
        this.dispatch(e);
      } catch (error) {
        this.crashError = error instanceof Error ? error : new Error(String(error));
        this.note(null, `CORE THREW: ${this.crashError.message}`);
        return;
      }
      if (stop?.()) return;
    }
    if (this.crashError === null && this.queue.nowMs < untilMs) this.queue.clock.advanceTo(untilMs);
  }

  // ---------------------------------------------------------------- events

  private dispatch(e: SimEvent): void {
    const now = this.nowMs;
    switch (e.kind) {
      case "wake": {
        const n = this.node(e.sid);
        if (n.peer === null || n.incarnation !== e.incarnation || n.wakeAtMs !== e.atMs) return;
        n.wakeAtMs = Number.POSITIVE_INFINITY;
        this.step(n, (p) => p.tick(now));
        return;
      }
      case "notification": {
        const n = this.node(e.to);
        const label = this.timeline ? notificationLabel(e.n) : "";
        if (n.peer === null || !this.network.canReach(e.from, e.to)) {
          this.lost(e.id, e.from, e.to, "election", label, n.peer === null ? "receiver down" : "partitioned");
          return;
        }
        this.timeline?.add({ t: now, kind: "recv", id: e.id, from: e.from, to: e.to, channel: "election", label });
        this.step(n, (p) => p.receiveNotification(e.from, e.n, now));
        return;
      }
      case "packet": {
        const n = this.node(e.to);
        const label = this.timeline ? describePacket(e.packet) : "";
        if (n.peer === null || !this.network.streamArrives(e.from, e.to, e.gen)) {
          this.lost(e.id, e.from, e.to, "zab", label, n.peer === null ? "receiver down" : "connection gone");
          return;
        }
        this.timeline?.add({ t: now, kind: "recv", id: e.id, from: e.from, to: e.to, channel: "zab", label });
        this.step(n, (p) => p.receivePacket(e.from, e.packet, now));
        return;
      }
      case "disconnected": {
        const n = this.node(e.sid);
        if (n.peer === null || n.incarnation !== e.incarnation) return;
        this.note(e.sid, `connection to s${e.peer} closed`);
        this.step(n, (p) => p.disconnected(e.peer, now));
        return;
      }
      case "fsync": {
        const n = this.node(e.sid);
        if (n.incarnation !== e.incarnation || n.peer === null) return;
        n.disk.syncThrough(e.seq);
        n.fsyncInFlight = false;
        this.drain(n);
        return;
      }
      case "action":
        e.run();
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }

  /** One step of a server's core, and the start of carrying out what it asked. */
  private step(n: SimNode, call: (p: QuorumPeer<SimTypes>) => Ready<SimTypes>): void {
    const peer = n.peer!;
    const ready = call(peer);
    for (const ev of ready.events) this.onPeerEvent(n, ev);
    for (const op of ready.persist) {
      this.checker.onPersist(n.sid, op, this.nowMs);
      n.disk.write(op);
    }
    n.outbox.push({ ready, needSeq: ready.persist.length > 0 ? n.disk.lastWritten : 0 });
    if (ready.wakeAtMs < n.wakeAtMs) {
      n.wakeAtMs = Math.max(ready.wakeAtMs, this.nowMs);
      this.queue.schedule(n.wakeAtMs, { kind: "wake", sid: n.sid, incarnation: n.incarnation, atMs: n.wakeAtMs });
    }
    this.drain(n);
  }

  /** Carries out queued Readys whose writes are durable, in order; starts an fsync for the rest. */
  private drain(n: SimNode): void {
    if (n.draining) return;
    n.draining = true;
    try {
      while (n.outbox.length > 0 && n.peer !== null) {
        const head = n.outbox[0]!;
        if (head.needSeq > n.disk.lastSynced) {
          if (!n.fsyncInFlight) {
            n.fsyncInFlight = true;
            const at = this.nowMs + this.config.fsyncMsMin + this.random.next() * (this.config.fsyncMsMax - this.config.fsyncMsMin);
            this.queue.schedule(at, { kind: "fsync", sid: n.sid, incarnation: n.incarnation, seq: n.disk.lastWritten });
          }
          return;
        }
        n.outbox.shift();
        this.carryOut(n, head.ready);
      }
    } finally {
      n.draining = false;
    }
  }

  private carryOut(n: SimNode, ready: Ready<SimTypes>): void {
    const now = this.nowMs;
    for (const d of ready.deliver) {
      switch (d.kind) {
        case "commit": {
          const entry: SimApplied = { zxid: d.entry.zxid, id: d.entry.txn.id };
          this.checker.onCommit(n.sid, n.applied.length, entry, now);
          n.applied.push(entry);
          this.stats.commits++;
          break;
        }
        case "install":
          n.applied = [...d.snapshot.applied];
          this.checker.onInstall(n.sid, n.applied, now);
          this.note(n.sid, `installed snapshot ${hexZxid(d.zxid)} (${n.applied.length} txns)`);
          break;
        default: {
          const never: never = d;
          throw new Error(`unknown delivery ${JSON.stringify(never)}`);
        }
      }
    }
    for (const s of ready.syncs) this.onSyncDone(n, s.token, s.ok);
    for (const other of ready.close) this.closeConnection(n.sid, other);
    if (ready.connect !== null) this.network.connect(n.sid, ready.connect);
    for (const { to, packet } of ready.send) {
      let wire: QuorumPacket<SimTypes>;
      if (packet.kind === "SNAP") {
        const last = n.applied[n.applied.length - 1]?.zxid ?? 0n;
        assert(last === packet.zxid, `SNAP at ${hexZxid(packet.zxid)} but the state machine is at ${hexZxid(last)}`);
        wire = { kind: "SNAP", zxid: packet.zxid, snapshot: { applied: n.applied.slice() } };
      } else wire = packet;
      this.sendPacket(n.sid, to, wire);
    }
    for (const { to, notification } of ready.notify) this.sendNotification(n.sid, to, notification);
    for (const r of ready.requests) {
      const peer = n.peer;
      if (peer === null || !peer.canPropose) {
        this.stats.rejected++;
        continue;
      }
      // The prepare step of this simulation: a request becomes a txn with the same id.
      const zxid = peer.nextZxid;
      this.step(n, (p) => p.propose(zxid, { id: r.request.request.id }, now));
    }
  }

  private onSyncDone(n: SimNode, token: number, ok: boolean): void {
    const pending = this.pendingSyncs.get(token);
    if (pending === undefined) return;
    this.pendingSyncs.delete(token);
    if (!ok) {
      this.stats.clientSyncs.failed++;
      return;
    }
    this.stats.clientSyncs.done++;
    if (n.applied.length < pending.committedAtIssue) {
      const text = `sync issued at s${n.sid} at ${pending.atMs.toFixed(1)} ms returned with ${n.applied.length} txns applied, but ${pending.committedAtIssue} were committed before it`;
      this.note(n.sid, `STALE SYNC: ${text}`);
      // The server answered in its currentEpoch (a learner past UPTODATE, or an established leader).
      const epoch = n.peer?.currentEpoch ?? -1;
      if (!this.checker.onStaleSync(n.sid, epoch, text, this.nowMs)) {
        this.stats.clientSyncs.stale++;
        this.staleSyncs.push(text);
      }
    } else this.note(n.sid, `sync #${token} done`);
  }

  private onPeerEvent(n: SimNode, ev: PeerEvent): void {
    const now = this.nowMs;
    this.checker.onEvent(n.sid, ev, now);
    switch (ev.kind) {
      case "role": {
        n.role = ev.role;
        n.leader = ev.leader;
        const key = `${ev.role}`;
        this.stats.roleChanges.set(key, (this.stats.roleChanges.get(key) ?? 0) + 1);
        if (ev.role === "leading") this.stats.elections++;
        if (this.timeline) {
          const role = n.peer?.role;
          const vote = role !== undefined && role.kind !== "looking" ? ` ${describeVote(role.vote)}` : "";
          this.note(n.sid, `${ev.role.toUpperCase()}${ev.leader !== null && ev.role !== "leading" ? ` s${ev.leader}` : ""}${vote} — ${ev.reason}`);
        }
        break;
      }
      case "discovered":
        this.note(n.sid, `epoch ${ev.epoch} accepted by quorum {${ev.quorum.join(",")}}`);
        break;
      case "established":
        this.stats.established++;
        this.note(n.sid, `ESTABLISHED epoch ${ev.epoch} with {${ev.quorum.join(",")}}`);
        break;
      case "sync":
        this.stats.syncs[ev.mode]++;
        this.note(n.sid, `sync s${ev.learner} by ${ev.mode} from ${hexZxid(ev.fromZxid)} to ${hexZxid(ev.toZxid)}`);
        break;
      case "uptodate":
        this.note(n.sid, `UPTODATE in epoch ${ev.epoch}`);
        break;
      case "rejected":
        this.stats.rejected++;
        break;
      default: {
        const never: never = ev;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }

  // ---------------------------------------------------------------- wires

  private sendPacket(from: number, to: number, packet: QuorumPacket<SimTypes>): void {
    const now = this.nowMs;
    const id = this.timeline?.newMessageId() ?? 0;
    const label = this.timeline ? describePacket(packet) : "";
    this.stats.messages++;
    this.timeline?.add({ t: now, kind: "send", id, from, to, channel: "zab", label });
    const sent = this.network.streamSend(from, to, now);
    if (!sent.ok) {
      this.lost(id, from, to, "zab", label, sent.why);
      return;
    }
    this.queue.schedule(sent.atMs, { kind: "packet", from, to, packet, gen: sent.gen, id });
  }

  private sendNotification(from: number, to: number, n: Notification): void {
    const now = this.nowMs;
    const id = this.timeline?.newMessageId() ?? 0;
    const label = this.timeline ? notificationLabel(n) : "";
    this.stats.notifications++;
    this.timeline?.add({ t: now, kind: "send", id, from, to, channel: "election", label });
    const times = this.network.datagram(from, to, now);
    if (times.length === 0) this.lost(id, from, to, "election", label, this.network.canReach(from, to) ? "dropped" : "partitioned");
    for (const at of times) this.queue.schedule(at, { kind: "notification", from, to, n, id });
  }

  private closeConnection(a: number, b: number): void {
    if (!this.network.close(a, b)) return;
    // The other side hears of it (FIN/RST) if it is up and the path is open.
    const other = this.node(b);
    if (other.peer !== null && this.network.canReach(a, b)) {
      this.queue.schedule(this.nowMs + this.network.delay(), { kind: "disconnected", sid: b, peer: a, incarnation: other.incarnation });
    }
  }

  private lost(id: number, from: number, to: number, channel: "election" | "zab", label: string, why: string): void {
    this.stats.lost++;
    this.timeline?.add({ t: this.nowMs, kind: "lost", id, from, to, channel, label, why });
  }

  private note(sid: number | null, text: string): void {
    this.timeline?.note(this.nowMs, sid, text);
  }

  private node(sid: number): SimNode {
    const n = this.nodes.get(sid);
    assert(n !== undefined, `no server ${sid}`);
    return n;
  }
}

function notificationLabel(n: Notification): string {
  return `${n.state} vote s${n.leader} ${hexZxid(n.zxid)} e${n.peerEpoch} r${n.electionEpoch}`;
}
