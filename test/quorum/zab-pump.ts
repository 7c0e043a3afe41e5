/**
 * A minimal driver for Zab role tests: a leader and learners wired by an in-memory FIFO, persist "done" at once,
 * the state machine a list of txns. It follows the Ready contract (persist → deliver → close → connect → send).
 */
import {
  History,
  Leader,
  Learner,
  ZabState,
  majorityVerifier,
  type LogEntry,
  type PeerEvent,
  type PersistOp,
  type QuorumPacket,
  type QuorumVerifier,
  type Ready,
  type ZabConfig,
  type ZabTypes,
} from "../../src/quorum/index.ts";
import { makeZxid } from "../../src/tree/txn.ts";

export interface TestTypes extends ZabTypes {
  readonly request: string;
  readonly txn: string;
  readonly snapshot: readonly string[];
}

export interface TestNode {
  readonly sid: number;
  readonly state: ZabState<TestTypes>;
  role: Leader<TestTypes> | Learner<TestTypes>;
  readonly persisted: PersistOp<TestTypes>[];
  /** The state machine. */
  applied: string[];
  readonly events: PeerEvent[];
  readonly closed: number[];
  readonly readys: Ready<TestTypes>[];
  readonly requests: string[];
  readonly syncsDone: number[];
}

export interface Wire {
  readonly from: number;
  readonly to: number;
  readonly packet: QuorumPacket<TestTypes>;
}

export const entry = (epoch: number, counter: number, txn = `t${epoch}.${counter}`): LogEntry<TestTypes> => ({ zxid: makeZxid(epoch, counter), txn });

export interface NodeState {
  readonly currentEpoch?: number;
  readonly acceptedEpoch?: number;
  readonly log?: readonly LogEntry<TestTypes>[];
  readonly committedLogCountMax?: number;
}

export class ZabPump {
  readonly nodes = new Map<number, TestNode>();
  readonly wire: Wire[] = [];
  /** Every packet delivered, in order (for assertions on what was sent). */
  readonly delivered: Wire[] = [];
  now = 0;
  readonly cfg: (sid: number) => ZabConfig;

  constructor(
    readonly verifier: QuorumVerifier = majorityVerifier([1, 2, 3]),
    timing: { tickTimeMs?: number; initLimitTicks?: number; syncLimitTicks?: number } = {},
  ) {
    this.cfg = (sid) => ({
      myId: sid,
      verifier,
      tickTimeMs: timing.tickTimeMs ?? 100,
      initLimitTicks: timing.initLimitTicks ?? 10,
      syncLimitTicks: timing.syncLimitTicks ?? 5,
    });
  }

  private state(s: NodeState): ZabState<TestTypes> {
    const history = new History<TestTypes>(0n, s.log ?? [], s.committedLogCountMax ?? 500);
    return new ZabState(s.currentEpoch ?? 0, s.acceptedEpoch ?? s.currentEpoch ?? 0, history);
  }

  private node(sid: number, state: ZabState<TestTypes>, role: Leader<TestTypes> | Learner<TestTypes>): TestNode {
    const n: TestNode = { sid, state, role, persisted: [], applied: [], events: [], closed: [], readys: [], requests: [], syncsDone: [] };
    this.nodes.set(sid, n);
    return n;
  }

  leader(sid: number, s: NodeState = {}): TestNode {
    const state = this.state(s);
    const n = this.node(sid, state, new Leader<TestTypes>(this.cfg(sid), state));
    this.take(n, (n.role as Leader<TestTypes>).start(this.now));
    return n;
  }

  learner(sid: number, leader: number, type: "follower" | "observer", s: NodeState = {}): TestNode {
    const state = this.state(s);
    const n = this.node(sid, state, new Learner<TestTypes>(type, this.cfg(sid), state, leader));
    this.take(n, n.role.start(this.now));
    return n;
  }

  /** Carries out a Ready under the driver contract. */
  take(n: TestNode, r: Ready<TestTypes>): Ready<TestTypes> {
    n.readys.push(r);
    n.persisted.push(...r.persist);
    n.events.push(...r.events);
    for (const d of r.deliver) {
      if (d.kind === "commit") n.applied.push(d.entry.txn);
      else n.applied = [...d.snapshot];
    }
    n.closed.push(...r.close);
    for (const { to, packet } of r.send) {
      const wire: QuorumPacket<TestTypes> = packet.kind === "SNAP" ? { kind: "SNAP", zxid: packet.zxid, snapshot: [...n.applied] } : packet;
      this.wire.push({ from: n.sid, to, packet: wire });
    }
    for (const req of r.requests) n.requests.push(req.request.request);
    for (const s of r.syncs) if (s.ok) n.syncsDone.push(s.token);
    return r;
  }

  /** Delivers packets in order until none is left; `drop` may swallow some. */
  flush(drop: (w: Wire) => boolean = () => false): void {
    for (let i = 0; i < 10_000 && this.wire.length > 0; i++) {
      const w = this.wire.shift()!;
      const to = this.nodes.get(w.to);
      if (to === undefined || drop(w)) continue;
      this.delivered.push(w);
      this.take(to, to.role.receive(w.from, w.packet, this.now));
    }
  }

  /** Moves time forward in `stepMs` ticks, delivering as it goes. */
  advance(ms: number, stepMs = 10, drop?: (w: Wire) => boolean): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + stepMs);
      for (const n of this.nodes.values()) this.take(n, n.role.tick(this.now));
      this.flush(drop);
    }
  }

  /** Kinds of the packets delivered to `to` (optionally only from `from`), in order. */
  kindsTo(to: number, from?: number): string[] {
    return this.delivered.filter((w) => w.to === to && (from === undefined || w.from === from)).map((w) => w.packet.kind);
  }

  asLeader(sid: number): Leader<TestTypes> {
    return this.nodes.get(sid)!.role as Leader<TestTypes>;
  }

  asLearner(sid: number): Learner<TestTypes> {
    return this.nodes.get(sid)!.role as Learner<TestTypes>;
  }

  /** Leader `sid` proposes `txn` under its next zxid. */
  propose(sid: number, txn: string): bigint {
    const leader = this.asLeader(sid);
    const zxid = leader.nextZxid;
    this.take(this.nodes.get(sid)!, leader.propose(zxid, txn, this.now));
    return zxid;
  }
}
