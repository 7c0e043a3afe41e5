/**
 * Fast leader election as a step function (Apache FastLeaderElection.lookForLeader; reference §6; book chapter 9
 * 群首选举). The servers here are wired by a tiny in-test pump: no simulator, the core alone.
 */
import { describe, expect, it } from "vitest";
import {
  FastLeaderElection,
  answerWhileDecided,
  hierarchicalVerifier,
  majorityVerifier,
  type ElectionOutput,
  type Notification,
  type QuorumVerifier,
  type Vote,
} from "../../src/quorum/index.ts";
import { makeZxid } from "../../src/tree/txn.ts";

interface Server {
  readonly sid: number;
  election: FastLeaderElection;
  decided: Vote | null;
}

/** Delivers notifications in FIFO order, instantly, unless a link is cut. */
class Pump {
  readonly servers = new Map<number, Server>();
  readonly queue: { from: number; to: number; n: Notification }[] = [];
  readonly cut = new Set<string>();
  now = 0;

  constructor(readonly verifier: QuorumVerifier) {}

  add(sid: number, lastLoggedZxid = 0n, currentEpoch = 0, finalizeWaitMs = 200): Server {
    const s: Server = {
      sid,
      election: new FastLeaderElection({ myId: sid, verifier: this.verifier, lastLoggedZxid, currentEpoch, logicalClock: 0, finalizeWaitMs }),
      decided: null,
    };
    this.servers.set(sid, s);
    return s;
  }

  take(s: Server, out: ElectionOutput): void {
    for (const m of out.send) this.queue.push({ from: s.sid, to: m.to, n: m.notification });
    if (out.decided !== null) s.decided = out.decided;
  }

  start(): void {
    for (const s of this.servers.values()) this.take(s, s.election.start(this.now));
  }

  /** Delivers until no message is left; returns how many were delivered. */
  flush(): number {
    let count = 0;
    while (this.queue.length > 0) {
      const m = this.queue.shift()!;
      const to = this.servers.get(m.to);
      if (to === undefined || this.cut.has(`${m.from}>${m.to}`)) continue;
      count++;
      this.take(to, to.election.receive(m.from, m.n, this.now));
    }
    return count;
  }

  advance(ms: number): void {
    this.now += ms;
    for (const s of this.servers.values()) this.take(s, s.election.tick(this.now));
  }

  /** Messages and ticks until everyone decided (or the clock ran far). */
  settle(): void {
    for (let i = 0; i < 200 && [...this.servers.values()].some((s) => s.decided === null); i++) {
      this.flush();
      this.advance(50);
    }
  }
}

describe("fast leader election", () => {
  it("fresh servers with equal histories elect the highest server id", () => {
    const pump = new Pump(majorityVerifier([1, 2, 3]));
    for (const sid of [1, 2, 3]) pump.add(sid);
    pump.start();
    pump.settle();
    expect([...pump.servers.values()].map((s) => s.decided?.leader)).toEqual([3, 3, 3]);
  });

  it("the most recent history wins over a higher server id (peerEpoch, then zxid)", () => {
    const pump = new Pump(majorityVerifier([1, 2, 3]));
    pump.add(1, makeZxid(2, 7), 2);
    pump.add(2, makeZxid(2, 5), 2);
    pump.add(3, makeZxid(3, 1), 1); // a later zxid, but an older currentEpoch
    pump.start();
    pump.settle();
    expect([...pump.servers.values()].map((s) => s.decided?.leader)).toEqual([1, 1, 1]);
    expect(pump.servers.get(2)!.decided).toMatchObject({ zxid: makeZxid(2, 7), peerEpoch: 2, electionEpoch: 1 });
  });

  it("decides only after finalizeWait with a quorum, and a better vote arriving during it changes the outcome", () => {
    const pump = new Pump(majorityVerifier([1, 2, 3]));
    const s1 = pump.add(1);
    const s2 = pump.add(2);
    pump.add(3);
    pump.cut.add("3>1").add("3>2").add("1>3").add("2>3"); // 3 is unreachable for now
    pump.start();
    pump.flush();
    // 1 and 2 agree on 2 — a quorum — but wait finalizeWait before deciding.
    expect(s1.decided).toBeNull();
    pump.advance(150);
    pump.flush();
    expect(s1.decided).toBeNull();
    // 3's vote arrives within finalizeWait: it is better, so it wins.
    pump.cut.clear();
    const s3 = pump.servers.get(3)!;
    pump.take(s3, s3.election.tick(pump.now + 10_000)); // re-send its vote
    pump.flush();
    pump.settle();
    expect([s1.decided?.leader, s2.decided?.leader, s3.decided?.leader]).toEqual([3, 3, 3]);
  });

  it("a notification from a higher round is adopted: the logical clock moves up and old votes are forgotten", () => {
    const v = majorityVerifier([1, 2, 3]);
    const e = new FastLeaderElection({ myId: 1, verifier: v, lastLoggedZxid: 5n, currentEpoch: 1, logicalClock: 0 });
    e.start(0);
    const out = e.receive(2, { leader: 2, zxid: 4n, peerEpoch: 1, electionEpoch: 7, state: "LOOKING" }, 1);
    expect(e.logicalClock).toBe(7);
    // Its own vote is better than 2's, and it says so to everyone, in the new round.
    expect(out.send.map((s) => [s.to, s.notification.leader, s.notification.electionEpoch])).toEqual([
      [2, 1, 7],
      [3, 1, 7],
    ]);
    expect([...e.votesReceived.keys()].sort()).toEqual([1, 2]);
  });

  it("a LOOKING server behind our round is answered with our vote; its own vote is ignored", () => {
    const v = majorityVerifier([1, 2, 3]);
    const e = new FastLeaderElection({ myId: 1, verifier: v, lastLoggedZxid: 0n, currentEpoch: 0, logicalClock: 4 });
    e.start(0);
    const out = e.receive(3, { leader: 3, zxid: 9n, peerEpoch: 0, electionEpoch: 2, state: "LOOKING" }, 1);
    expect(out.send).toEqual([{ to: 3, notification: { leader: 1, zxid: 0n, peerEpoch: 0, electionEpoch: 5, state: "LOOKING" } }]);
    expect(e.currentVote.leader).toBe(1);
  });

  it("a voter of the same round with a worse vote is told the better one (not in Apache: see FastLeaderElection)", () => {
    const v = majorityVerifier([1, 2, 3]);
    const e = new FastLeaderElection({ myId: 3, verifier: v, lastLoggedZxid: 9n, currentEpoch: 1, logicalClock: 0 });
    e.start(0);
    const worse: Notification = { leader: 1, zxid: 2n, peerEpoch: 1, electionEpoch: 1, state: "LOOKING" };
    expect(e.receive(1, worse, 1).send).toEqual([{ to: 1, notification: { leader: 3, zxid: 9n, peerEpoch: 1, electionEpoch: 1, state: "LOOKING" } }]);
    // An equal vote needs no answer, so two servers never answer each other for ever.
    expect(e.receive(2, { ...worse, leader: 3, zxid: 9n }, 2).send).toEqual([]);
  });

  it("re-sends its vote when nothing arrives, doubling the wait up to maxNotificationInterval", () => {
    const v = majorityVerifier([1, 2, 3]);
    const e = new FastLeaderElection({ myId: 1, verifier: v, lastLoggedZxid: 0n, currentEpoch: 0, logicalClock: 0, finalizeWaitMs: 200, maxNotificationIntervalMs: 1000 });
    let out = e.start(0);
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 5; i++) {
      waits.push(out.wakeAtMs - now);
      now = out.wakeAtMs;
      out = e.tick(now);
      expect(out.send).toHaveLength(2);
    }
    expect(waits).toEqual([200, 400, 800, 1000, 1000]);
  });

  it("a late joiner learns the established leader from FOLLOWING/LEADING answers, including the leader's own", () => {
    const v = majorityVerifier([1, 2, 3]);
    const vote: Vote = { leader: 3, zxid: 0n, electionEpoch: 4, peerEpoch: 0 };
    const late = new FastLeaderElection({ myId: 1, verifier: v, lastLoggedZxid: makeZxid(1, 1), currentEpoch: 1, logicalClock: 0 });
    const ask = late.start(0).send[0]!.notification;
    // 2 follows 3 and answers: not enough (no LEADING from 3 yet).
    const fromFollower = answerWhileDecided("FOLLOWING", vote, v, 1, ask)!;
    expect(late.receive(2, fromFollower, 1).decided).toBeNull();
    // 3 answers LEADING: 2 and 3 are a quorum for 3, and 3 itself says it leads.
    const fromLeader = answerWhileDecided("LEADING", vote, v, 1, ask)!;
    const out = late.receive(3, fromLeader, 2);
    expect(out.decided).toMatchObject({ leader: 3, peerEpoch: 0 });
    expect(late.logicalClock).toBe(4);
  });

  it("FOLLOWING votes for a server that never says LEADING are not followed (checkLeader)", () => {
    const v = majorityVerifier([1, 2, 3, 4, 5]);
    const late = new FastLeaderElection({ myId: 1, verifier: v, lastLoggedZxid: 0n, currentEpoch: 0, logicalClock: 0 });
    late.start(0);
    const following = (sid: number): Notification => ({ leader: 5, zxid: 0n, electionEpoch: 3, peerEpoch: 0, state: "FOLLOWING" });
    for (const sid of [2, 3, 4]) expect(late.receive(sid, following(sid), 1).decided).toBeNull();
  });

  it("observers never count: their votes are answered and ignored, and they learn the leader from voters", () => {
    const pump = new Pump(majorityVerifier([1, 2, 3], [4]));
    for (const sid of [1, 2, 3]) pump.add(sid);
    const observer = pump.add(4, makeZxid(9, 9), 9); // its history does not make it a candidate
    pump.start();
    pump.settle();
    expect([...pump.servers.values()].map((s) => s.decided?.leader)).toEqual([3, 3, 3, 3]);
    expect(observer.election.votesReceived.has(4)).toBe(false);
  });

  it("a weight-0 server is never elected, even with the most recent history", () => {
    const v = hierarchicalVerifier([{ groupId: 1, serverIds: [1, 2, 3] }], new Map([[3, 0]]));
    const pump = new Pump(v);
    pump.add(1);
    pump.add(2);
    const heavy = pump.add(3, makeZxid(5, 5), 5);
    pump.start();
    pump.settle();
    expect(pump.servers.get(1)!.decided?.leader).toBe(2);
    expect(pump.servers.get(2)!.decided?.leader).toBe(2);
    // Server 3 keeps its own vote; it will learn the leader from FOLLOWING/LEADING answers once 2 leads.
    expect(heavy.decided).toBeNull();
    const vote = pump.servers.get(2)!.decided!;
    const ask: Notification = { ...heavy.election.currentVote, state: "LOOKING" };
    heavy.election.receive(1, answerWhileDecided("FOLLOWING", vote, v, 3, ask)!, pump.now);
    const out = heavy.election.receive(2, answerWhileDecided("LEADING", vote, v, 3, ask)!, pump.now);
    expect(out.decided?.leader).toBe(2);
  });

  it("a decided server answers a LOOKING server, voter or observer, and nobody else", () => {
    const v = majorityVerifier([1, 2, 3], [4]);
    const vote: Vote = { leader: 3, zxid: 7n, electionEpoch: 2, peerEpoch: 1 };
    const looking: Notification = { leader: 1, zxid: 0n, electionEpoch: 1, peerEpoch: 0, state: "LOOKING" };
    expect(answerWhileDecided("FOLLOWING", vote, v, 1, looking)).toEqual({ ...vote, state: "FOLLOWING" });
    expect(answerWhileDecided("FOLLOWING", vote, v, 1, { ...looking, state: "FOLLOWING" })).toBeNull();
    expect(answerWhileDecided("LEADING", vote, v, 4, looking)).toEqual({ ...vote, state: "LEADING" });
    expect(answerWhileDecided("LEADING", vote, v, 4, { ...looking, state: "OBSERVING" })).toBeNull();
  });
});
