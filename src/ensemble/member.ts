/**
 * One ensemble member over TCP (Apache QuorumPeer's run loop, QuorumPeerMain): the I/O-free `QuorumPeer` of
 * src/quorum driven by real sockets, a real disk and real time, with a ZooKeeperServer serving clients whenever
 * the peer serves (an established leader, or a learner past UPTODATE).
 *
 *   election port  ─notifications─▶ ┐                              ┌─▶ persist (MemberStore: log, epochs, snapshots)
 *   quorum port    ─Zab packets───▶ ├─ QuorumPeer ─ Ready (ordered) ┼─▶ deliver (apply committed txns to the tree)
 *   timers / client writes ───────▶ ┘                              └─▶ close / connect / send / notify
 *
 * The Ready contract (src/quorum/zab/ready.ts) is kept by one pump: the Readys queued so far are persisted
 * together (one fsync for all their appends: group commit), then carried out one by one, in order; Readys that
 * arrive meanwhile wait for the next round. Nothing of a later Ready overtakes the persist of an earlier one.
 *
 * Writes: on the leader, its ZooKeeperServer prepares them and its TxnSink proposes them; `done` is called when
 * the commit is delivered. On a follower or observer the ZooKeeperServer forwards them (peer.submit) and applies
 * what the leader commits (notes ch. 9, "Zab"; Apache Leader/FollowerZooKeeperServer).
 */
import type { ZooConfig } from "../config/index.ts";
import { QuorumPeer, peerOptionsFromConfig, type QuorumPacket, type Ready, type RoleKind } from "../quorum/index.ts";
import { ZooKeeperServer, applyCommittedTxn, type Logger, type ProposalSizes, type QuorumRole, type TxnSink } from "../server/server.ts";
import { openClientPort, realClock, serverOptionsFrom, startServerTimers, type ClientPort } from "../server/listener.ts";
import { SessionTracker } from "../server/sessions.ts";
import { decodeSnapshot, encodeTxnEntry, type SessionEntry } from "../storage/index.ts";
import type { DataTree } from "../tree/data-tree.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";
import { MemberStore } from "./member-store.ts";
import { QuorumTransport } from "./transport.ts";
import type { MemberTypes, Revalidation, SessionTouch } from "./types.ts";

/**
 * SyncRequestProcessor: a snapshot after snapCount/2 + a random share of the other half txns, so that the members
 * of an ensemble do not all snapshot at the same moment.
 */
function nextSnapshotAfter(snapCount: number): number {
  const half = Math.floor(snapCount / 2);
  return half + Math.floor(Math.random() * half) + 1;
}

export interface MemberOptions {
  readonly logger: Logger;
  /** The disk failed: acknowledging writes that may be lost would be worse than stopping (Apache exits). */
  readonly onFatal: (error: Error) => void;
}

/** What `status` and tests want to know. */
export interface MemberStatus {
  readonly myId: number;
  readonly role: RoleKind;
  readonly serving: boolean;
  readonly currentEpoch: number;
  readonly lastLoggedZxid: bigint;
  readonly clientPort: number;
}

export class QuorumMember {
  private readonly peer: QuorumPeer<MemberTypes>;
  private readonly clock = realClock;
  private tree: DataTree;
  private sessions: SessionTracker;
  private zk: ZooKeeperServer | null = null;
  /** The role object the current ZooKeeperServer serves for: a new role means a new server. */
  private servingFor: unknown = null;
  private clientPort: ClientPort | null = null;
  private readonly transport: QuorumTransport;
  private readonly queue: Ready<MemberTypes>[] = [];
  private pumping = false;
  private stopped = false;
  /** Leader: the FIFO's `done` of each proposal, called when its commit is delivered. */
  private readonly awaitingCommit = new Map<bigint, () => void>();
  private readonly awaitingSync = new Map<number, (ok: boolean) => void>();
  private nextSyncToken = 1;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAtMs = Number.POSITIVE_INFINITY;
  private stopServerTimers: () => void = () => {};
  private deliveredSinceSnapshot = 0;
  private snapshotAfter: number;
  private proposalSizes: ProposalSizes = { last: -1, min: -1, max: -1 };

  private constructor(
    readonly config: ZooConfig,
    private readonly store: MemberStore,
    recovered: Awaited<ReturnType<MemberStore["recover"]>>,
    private readonly options: MemberOptions,
  ) {
    const now = this.clock.nowMs();
    this.snapshotAfter = nextSnapshotAfter(config.snapCount);
    this.tree = recovered.tree;
    this.sessions = this.sessionTrackerWith(recovered.sessions, now);
    this.peer = new QuorumPeer<MemberTypes>(peerOptionsFromConfig(config), {
      currentEpoch: recovered.currentEpoch,
      acceptedEpoch: recovered.acceptedEpoch,
      appliedZxid: recovered.snapshotZxid,
      log: recovered.log,
    });
    this.transport = new QuorumTransport({
      myId: this.peer.myId,
      peers: config.servers.map((s) => ({ sid: s.id, host: s.host, quorumPort: s.quorumPort, electionPort: s.electionPort })),
      logger: options.logger,
      events: {
        notification: (from, n) => this.step((p, t) => p.receiveNotification(from, n, t)),
        packet: (from, packet, touches) => this.onPacket(from, packet, touches),
        revalidation: (from, revalidation) => this.onRevalidation(from, revalidation),
        disconnected: (sid) => this.step((p, t) => p.disconnected(sid, t)),
      },
    });
  }

  /** Recovers from disk, opens the ports and starts looking for a leader. */
  static async start(config: ZooConfig, options: MemberOptions): Promise<QuorumMember> {
    const store = new MemberStore(config, options.logger, { extendedTypesEnabled: config.extendedTypesEnabled });
    const recovered = await store.recover();
    const member = new QuorumMember(config, store, recovered, options);
    await member.open();
    store.startAutopurge();
    return member;
  }

  private async open(): Promise<void> {
    const { config, options } = this;
    this.clientPort = await openClientPort(config, options.logger, () => this.clientFacingServer());
    await this.transport.start();
    // Session expiry and the container manager run on the leader only (ZooKeeperServer checks its role).
    this.stopServerTimers = startServerTimers(config, () => this.zk);
    this.step((p, t) => p.start(t));
  }

  get status(): MemberStatus {
    return {
      myId: this.peer.myId,
      role: this.peer.role.kind,
      serving: this.zk !== null,
      currentEpoch: this.peer.currentEpoch,
      lastLoggedZxid: this.peer.lastLoggedZxid,
      clientPort: this.clientPort?.port ?? 0,
    };
  }

  /** `leaderServes=no`: the leader keeps its server for forwarded writes but takes no clients of its own. */
  private clientFacingServer(): ZooKeeperServer | null {
    if (this.zk === null) return null;
    if (this.zk.options.quorum?.mode === "leader" && !this.config.leaderServes) return null;
    return this.zk;
  }

  // ---------------------------------------------------------------- inputs

  /** Runs one input through the peer and queues what it asks for. */
  private step(input: (peer: QuorumPeer<MemberTypes>, nowMs: number) => Ready<MemberTypes>): void {
    if (this.stopped) return;
    this.carry(input(this.peer, this.clock.nowMs()));
  }

  private onPacket(from: number, packet: QuorumPacket<MemberTypes>, touches: readonly SessionTouch[]): void {
    // Apache LearnerHandler: a learner's PING lists the sessions its clients kept alive; the leader touches them.
    if (packet.kind === "PING" && this.zk?.options.quorum?.mode === "leader") {
      const now = this.clock.nowMs();
      for (const touch of touches) this.sessions.touch(touch.sessionId, now, touch.timeoutMs);
    }
    this.step((p, t) => p.receivePacket(from, packet, t));
  }

  /**
   * REVALIDATE, beside the Zab cores (Apache LearnerHandler / Learner): the leader answers whether a learner's
   * reconnecting client still has its session; a learner hands the answer to its server.
   */
  private onRevalidation(from: number, revalidation: Revalidation): void {
    const zk = this.zk;
    if (revalidation.kind === "ask") {
      // Only a serving leader answers: a learner asking anyone else is dropped with its connection soon anyway.
      if (zk === null || zk.options.quorum?.mode !== "leader") return;
      const valid = zk.revalidateForLearner(revalidation.sessionId, revalidation.timeoutMs);
      this.transport.sendRevalidation(from, { kind: "answer", sessionId: revalidation.sessionId, valid });
    } else if (zk !== null && zk.options.quorum?.mode !== "leader") {
      zk.revalidated(revalidation.sessionId, revalidation.valid);
    }
  }

  /** Leader: the ZooKeeperServer's TxnSink. A txn is proposed; it is durable (and applied) once committed. */
  private readonly proposeSink: TxnSink = {
    append: (header: TxnHeader, txn: Txn, done: () => void) => {
      if (!this.peer.canPropose) {
        // The leader just lost its role (or ran out of zxids): the server is about to be replaced anyway.
        this.options.logger.warn(`cannot propose 0x${header.zxid.toString(16)}: not an established leader`);
        return;
      }
      // Apache Leader.propose records the serialized txn's size for `srvr` (BufferStats).
      const bytes = encodeTxnEntry(header, txn, null).length;
      const sizes = this.proposalSizes;
      sizes.last = bytes;
      sizes.min = sizes.min < 0 ? bytes : Math.min(sizes.min, bytes);
      sizes.max = Math.max(sizes.max, bytes);
      this.awaitingCommit.set(header.zxid, done);
      if (this.stopped) return;
      const ready = this.peer.propose(header.zxid, { header, txn }, this.clock.nowMs());
      this.carry(this.sendProposalNow(header.zxid, ready));
    },
  };

  // ---------------------------------------------------------------- the pump

  private carry(ready: Ready<MemberTypes>): void {
    for (const sid of ready.close) this.countQueued(sid, 1);
    for (const { to } of ready.send) this.countQueued(to, 1);
    this.queue.push(ready);
    if (ready.wakeAtMs < this.wakeAtMs) this.scheduleWake(ready.wakeAtMs);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        // Readys at the head that persist nothing depend only on persists already done: carry them out now
        // rather than behind the next batch's fsync (an ACK's COMMIT must not wait for newer proposals).
        while (this.queue.length > 0 && this.queue[0]!.persist.length === 0 && !this.stopped) await this.carryOut(this.queue.shift()!);
        if (this.queue.length === 0) {
          this.reconcileServing();
          break;
        }
        const batch = this.queue.splice(0);
        const persist = batch.flatMap((r) => r.persist);
        if (persist.length > 0) await this.store.persist(persist);
        for (const ready of batch) {
          if (this.stopped) return;
          await this.carryOut(ready);
        }
        this.reconcileServing();
      }
    } catch (error) {
      this.options.onFatal(error as Error);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Leader, for the Ready of `propose` only: the new PROPOSAL leaves before the leader's own fsync of it, as in
   * Apache (Leader.propose sends while SyncRequestProcessor logs), so the leader's and the followers' fsyncs
   * overlap. Safe: the leader counts its own ACK only once its persist is done (every COMMIT and delivery waits
   * behind it), and a follower that logged a txn the leader then lost holds an uncommitted txn, which Zab allows.
   * Only to a learner with nothing of an earlier Ready still queued for it, so that each connection stays FIFO.
   * (Never a synchronization's PROPOSALs: they must follow their DIFF — sending those early made a learner see a
   * PROPOSAL before its DIFF and drop out of every election round; found by npm run ensemble-crash.)
   */
  private sendProposalNow(zxid: bigint, ready: Ready<MemberTypes>): Ready<MemberTypes> {
    const later: Ready<MemberTypes>["send"] = [];
    for (const item of ready.send) {
      // Only this proposal, from the step that proposed it: a synchronization's PROPOSALs must follow its DIFF.
      const early = item.packet.kind === "PROPOSAL" && item.packet.zxid === zxid && (this.queuedFor.get(item.to) ?? 0) === 0;
      if (early) this.transport.send(item.to, item.packet);
      else later.push(item);
    }
    return later.length === ready.send.length ? ready : { ...ready, send: later };
  }

  /** How many closes and sends of queued, not yet carried out Readys are for each server. */
  private readonly queuedFor = new Map<number, number>();

  private countQueued(sid: number, delta: number): void {
    const n = (this.queuedFor.get(sid) ?? 0) + delta;
    if (n === 0) this.queuedFor.delete(sid);
    else this.queuedFor.set(sid, n);
  }

  /** Everything of one Ready after its persist, in the contract's order. */
  private async carryOut(ready: Ready<MemberTypes>): Promise<void> {
    for (const delivery of ready.deliver) {
      if (delivery.kind === "install") this.install(delivery.zxid, delivery.snapshot);
      else this.deliver(delivery.entry.txn.header, delivery.entry.txn.txn);
    }
    for (const sid of ready.close) this.transport.close(sid);
    if (ready.connect !== null) this.transport.connect(ready.connect);
    for (const { to, packet } of ready.send) {
      if (packet.kind === "SNAP") {
        // The state machine as of the SNAP's zxid: every delivery before this send has been applied.
        if (this.tree.lastProcessedZxid !== packet.zxid) {
          this.options.logger.warn(`SNAP to ${to} at 0x${packet.zxid.toString(16)}, but the tree is at 0x${this.tree.lastProcessedZxid.toString(16)}: dropping the learner`);
          this.transport.close(to);
          this.step((p, t) => p.disconnected(to, t));
          continue;
        }
        const snapshot = await MemberStore.encodeState(this.tree, this.sessionEntries());
        this.transport.send(to, { kind: "SNAP", zxid: packet.zxid, snapshot });
      } else if (packet.kind === "PING" && this.peer.role.kind !== "leading") {
        this.transport.send(to, packet, this.liveSessions());
      } else {
        this.transport.send(to, packet);
      }
    }
    // Only now are this Ready's packets on their connections (a SNAP waited for the state's encoding above): a
    // proposal may go ahead of the queue to these servers from here on.
    for (const sid of ready.close) this.countQueued(sid, -1);
    for (const { to } of ready.send) this.countQueued(to, -1);
    for (const { to, notification } of ready.notify) this.transport.notify(to, notification);
    for (const { request } of ready.requests) {
      if (this.zk !== null) this.zk.submitForwarded(request.request);
      else this.options.logger.warn(`a forwarded write of session 0x${request.request.sessionId.toString(16)} came while not serving: dropped`);
    }
    for (const { token, ok } of ready.syncs) {
      const done = this.awaitingSync.get(token);
      this.awaitingSync.delete(token);
      done?.(ok);
    }
    for (const event of ready.events) {
      if (event.kind === "role") this.options.logger.info(`role: ${event.role}${event.leader !== null ? ` (leader ${event.leader})` : ""}: ${event.reason}`);
      else if (event.kind === "sync") this.options.logger.info(`synchronizing learner ${event.learner} with ${event.mode} 0x${event.fromZxid.toString(16)} → 0x${event.toZxid.toString(16)}`);
      else if (event.kind === "established" || event.kind === "uptodate") this.options.logger.info(`${event.kind} in epoch ${event.epoch}`);
    }
  }

  /** A committed txn reaches the state machine. */
  private deliver(header: TxnHeader, txn: Txn): void {
    const done = this.awaitingCommit.get(header.zxid);
    if (done !== undefined) {
      this.awaitingCommit.delete(header.zxid);
      done(); // the leader's FIFO applies it and answers in request order
    } else if (this.zk !== null && this.zk.options.quorum?.mode !== "leader") {
      this.zk.applyCommitted(header, txn);
    } else {
      applyCommittedTxn(this.tree, this.sessions, header, txn, this.clock.nowMs());
    }
    if (++this.deliveredSinceSnapshot >= this.snapshotAfter) {
      this.deliveredSinceSnapshot = 0;
      this.snapshotAfter = nextSnapshotAfter(this.config.snapCount);
      // Queued behind the persists so far: the log rolls where the snapshot begins.
      this.store.snapshotOf(this.tree, this.sessionEntries()).catch((error: Error) => this.options.onFatal(error));
    }
  }

  /** SNAP: the leader's state replaces ours (never while serving: a learner serves only after UPTODATE). */
  private install(zxid: bigint, snapshot: Buffer): void {
    const decoded = decodeSnapshot(snapshot);
    this.tree.loadSnapshot(decoded.nodes, zxid);
    this.sessions = this.sessionTrackerWith(decoded.sessions, this.clock.nowMs());
    this.deliveredSinceSnapshot = 0;
  }

  // ---------------------------------------------------------------- serving

  /** Starts a ZooKeeperServer when the peer starts serving, and drops it when the role it served for ends. */
  private reconcileServing(): void {
    const role = this.peer.role;
    const roleObject = role.kind === "leading" ? role.leader : role.kind === "looking" ? null : role.learner;
    const serving = this.peer.serving;
    if (this.zk !== null && (!serving || this.servingFor !== roleObject)) this.stopServing();
    if (this.zk === null && serving && roleObject !== null) this.startServing(role.kind, roleObject);
  }

  private startServing(kind: RoleKind, roleObject: unknown): void {
    const now = this.clock.nowMs();
    let quorum: QuorumRole;
    const quorumSize = this.config.servers.filter((s) => s.role === "participant").length;
    if (kind === "leading") {
      this.proposalSizes = { last: -1, min: -1, max: -1 };
      const leader = this.peer.role.kind === "leading" ? this.peer.role.leader : null;
      quorum = {
        mode: "leader",
        proposalSizes: this.proposalSizes,
        quorumSize,
        learners: () => {
          let syncedFollowers = 0;
          let syncedObservers = 0;
          for (const learner of leader?.learners.values() ?? []) {
            if (learner.stage !== "uptodate") continue;
            if (learner.type === "follower") syncedFollowers++;
            else syncedObservers++;
          }
          return { learners: leader?.learners.size ?? 0, syncedFollowers, syncedObservers, pendingSyncs: leader?.pendingSyncs ?? 0, uptimeMs: this.clock.nowMs() - now };
        },
      };
      // The new leader owns every session now: each gets a full timeout from here (Apache LeaderSessionTracker).
      for (const session of [...this.sessions.all()]) this.sessions.touch(session.id, now);
    } else {
      quorum = {
        mode: kind === "following" ? "follower" : "observer",
        quorumSize,
        forward: (write) => this.step((p, t) => p.submit(write, t)),
        sync: (done) => {
          const token = this.nextSyncToken++;
          this.awaitingSync.set(token, done);
          this.step((p, t) => p.sync(token, t));
        },
        revalidate: (sessionId, timeoutMs) => {
          const role = this.peer.role;
          if (role.kind === "following" || role.kind === "observing") this.transport.sendRevalidation(role.learner.leader, { kind: "ask", sessionId, timeoutMs });
        },
      };
    }
    const base = serverOptionsFrom(this.config, this.clock, this.options.logger, kind === "leading" ? this.proposeSink : undefined);
    const zxidFloor = BigInt(this.peer.currentEpoch) << 32n;
    const zk = new ZooKeeperServer({ ...base, quorum, tree: this.tree, sessions: this.sessions, zxidFloor });
    if (kind === "leading") zk.setLastZxid(this.peer.nextZxid - 1n);
    this.zk = zk;
    this.servingFor = roleObject;
    this.options.logger.info(`serving clients as ${quorum.mode} at zxid 0x${this.tree.lastProcessedZxid.toString(16)}`);
  }

  /** Apache shuts its ZooKeeperServer down when the role ends: every client must reconnect (elsewhere). */
  private stopServing(): void {
    const zk = this.zk;
    if (zk === null) return;
    this.zk = null;
    this.servingFor = null;
    this.awaitingCommit.clear();
    for (const done of this.awaitingSync.values()) done(false);
    this.awaitingSync.clear();
    zk.closeAll();
    this.options.logger.info("stopped serving clients");
  }

  // ---------------------------------------------------------------- helpers

  private sessionTrackerWith(entries: readonly SessionEntry[], nowMs: number): SessionTracker {
    const tracker = new SessionTracker(this.config.tickTimeMs, this.config.myId ?? 0, nowMs, this.clock.wallMs());
    for (const s of entries) tracker.add(s.id, s.timeoutMs, nowMs);
    return tracker;
  }

  private sessionEntries(): SessionEntry[] {
    return [...this.sessions.all()].map((s) => ({ id: s.id, timeoutMs: s.timeoutMs }));
  }

  /** The sessions whose clients are connected here: what a learner's PING reports to the leader. */
  private liveSessions(): SessionTouch[] {
    const zk = this.zk;
    if (zk === null) return [];
    const touches: SessionTouch[] = [];
    for (const conn of zk.connections) {
      if (conn.sessionId !== 0n && conn.phase === "established") touches.push({ sessionId: conn.sessionId, timeoutMs: conn.sessionTimeoutMs });
    }
    return touches;
  }

  private scheduleWake(atMs: number): void {
    if (!Number.isFinite(atMs)) return;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeAtMs = atMs;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAtMs = Number.POSITIVE_INFINITY;
      this.step((p, t) => p.tick(t));
    }, Math.max(0, atMs - this.clock.nowMs()));
  }

  /** Closes the ports and the disk. Like a clean kill: sessions stay, and expire unless their clients return. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.stopServerTimers();
    await this.clientPort?.close();
    this.zk?.closeAll();
    await this.transport.stop();
    await this.store.close();
  }
}
