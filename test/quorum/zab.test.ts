/**
 * Zab's roles as step functions, scenario by scenario. References: the Zab paper (Junqueira, Reed, Serafini,
 * "Zab: High-performance broadcast for primary-backup systems", DSN 2011) §4 phases 1–3, and reference §6
 * (discovery, synchronization, broadcast, liveness), book chapter 9 (Zab: 提议、确认、提交; 观察者).
 */
import { describe, expect, it } from "vitest";
import { QuorumProposalTracker, majorityVerifier } from "../../src/quorum/index.ts";
import { makeZxid } from "../../src/tree/txn.ts";
import { ZabPump, entry } from "./zab-pump.ts";

type Logs = { 1?: ReturnType<typeof entry>[]; 2?: ReturnType<typeof entry>[]; 3?: ReturnType<typeof entry>[] };

/** Leader 1 and followers (2 and 3 unless told) with the given logs, run to an established epoch. */
function established(logs: Logs = {}, epoch = 1, followers: readonly (2 | 3)[] = [2, 3]) {
  const pump = new ZabPump();
  pump.leader(1, { currentEpoch: epoch - 1, log: logs[1] });
  for (const sid of followers) pump.learner(sid, 1, "follower", { currentEpoch: epoch - 1, log: logs[sid] });
  pump.flush();
  return pump;
}

describe("discovery (Zab phase 1)", () => {
  it("the new epoch is one above every acceptedEpoch of a quorum; learners persist it before ACKEPOCH", () => {
    const pump = new ZabPump();
    pump.leader(1, { currentEpoch: 3, acceptedEpoch: 3 });
    pump.learner(2, 1, "follower", { currentEpoch: 3, acceptedEpoch: 5 });
    pump.flush();
    expect(pump.asLeader(1).epoch).toBe(6);
    const follower = pump.nodes.get(2)!;
    const ackEpochReady = follower.readys.find((r) => r.send.some((s) => s.packet.kind === "ACKEPOCH"))!;
    // persist comes before send in a Ready: the promise is on disk before the ACKEPOCH leaves.
    expect(ackEpochReady.persist).toEqual([{ kind: "acceptedEpoch", epoch: 6 }]);
    expect(ackEpochReady.send[0]!.packet).toEqual({ kind: "ACKEPOCH", currentEpoch: 3, lastZxid: 0n });
    expect(pump.nodes.get(1)!.persisted.slice(0, 2)).toEqual([
      { kind: "acceptedEpoch", epoch: 6 },
      { kind: "currentEpoch", epoch: 6 },
    ]);
  });

  it("a follower more recent than the leader (currentEpoch, lastZxid) aborts the round", () => {
    const pump = new ZabPump();
    pump.leader(1, { currentEpoch: 1, log: [entry(1, 1)] });
    pump.learner(2, 1, "follower", { currentEpoch: 1, log: [entry(1, 1), entry(1, 2)] });
    pump.flush();
    expect(pump.asLeader(1).stopped).toMatch(/follower 2 is ahead of the leader/);
    expect(pump.nodes.get(1)!.closed).toContain(2);
  });

  it("a learner refuses a LEADERINFO below its acceptedEpoch", () => {
    const pump = new ZabPump();
    pump.leader(1, { currentEpoch: 3, acceptedEpoch: 3 });
    pump.learner(3, 1, "follower", { currentEpoch: 3, acceptedEpoch: 3 });
    pump.flush(); // epoch 4 is chosen with servers 1 and 3
    pump.learner(2, 1, "follower", { currentEpoch: 3, acceptedEpoch: 7 });
    pump.flush();
    expect(pump.asLearner(2).stopped).toBe("leader's epoch 4 is less than accepted epoch 7");
  });

  it("a learner that already accepted the epoch answers ACKEPOCH with currentEpoch -1, which does not count", () => {
    const pump = new ZabPump();
    pump.leader(1, { currentEpoch: 3, acceptedEpoch: 3 });
    pump.learner(2, 1, "follower", { currentEpoch: 3, acceptedEpoch: 4 });
    pump.learner(3, 1, "follower", { currentEpoch: 3, acceptedEpoch: 5 });
    // Servers 1 and 2 fix epoch 5 before 3's FOLLOWERINFO is read; 2's ACKEPOCH is lost.
    pump.flush((w) => w.from === 2 && w.packet.kind === "ACKEPOCH");
    expect(pump.asLeader(1).epoch).toBe(5);
    const ack3 = pump.delivered.find((w) => w.from === 3 && w.packet.kind === "ACKEPOCH")!.packet;
    expect(ack3).toEqual({ kind: "ACKEPOCH", currentEpoch: -1, lastZxid: 0n });
    // 1 and 3 would be a quorum, but 3's -1 does not count: discovery is not over.
    expect(pump.nodes.get(1)!.events.filter((e) => e.kind === "discovered")).toEqual([]);
  });

  it("gives up after initLimit ticks without a quorum of FOLLOWERINFO", () => {
    const pump = new ZabPump(majorityVerifier([1, 2, 3]), { tickTimeMs: 100, initLimitTicks: 10 });
    pump.leader(1);
    pump.advance(990);
    expect(pump.asLeader(1).stopped).toBeNull();
    pump.advance(20);
    expect(pump.asLeader(1).stopped).toMatch(/timeout after initLimit waiting for a quorum of FOLLOWERINFO/);
  });
});

describe("synchronization (Zab phase 2)", () => {
  it("an up-to-date follower gets an empty DIFF; NEWLEADER's ACK follows currentEpoch on disk; a quorum commits the history", () => {
    const log = [entry(1, 1), entry(1, 2)];
    const pump = established({ 1: log, 2: log, 3: [entry(1, 1)] }, 2);
    expect(pump.kindsTo(2, 1)).toEqual(["LEADERINFO", "DIFF", "NEWLEADER", "UPTODATE"]);
    expect(pump.kindsTo(3, 1)).toEqual(["LEADERINFO", "DIFF", "PROPOSAL", "NEWLEADER", "UPTODATE"]);
    const f2 = pump.nodes.get(2)!;
    const ackReady = f2.readys.find((r) => r.send.some((s) => s.packet.kind === "ACK"))!;
    expect(ackReady.persist).toEqual([{ kind: "currentEpoch", epoch: 2 }]);
    expect(ackReady.send.map((s) => s.packet)).toEqual([{ kind: "ACK", zxid: makeZxid(2, 0) }]);
    // Nothing is delivered before UPTODATE; then the whole initial history, everywhere.
    for (const sid of [1, 2, 3]) expect(pump.nodes.get(sid)!.applied).toEqual(["t1.1", "t1.2"]);
    expect(pump.nodes.get(1)!.events).toContainEqual({ kind: "established", epoch: 2, quorum: [1, 2] });
    expect(pump.asLearner(3).serving).toBe(true);
  });

  it("a follower with txns the leader never had is truncated to the last common zxid (TRUNC), then DIFFed", () => {
    // Server 2 logged 1.3 from the epoch-1 leader, but it never committed; the epoch-2 history went on from 1.2.
    const leaderLog = [entry(1, 1), entry(1, 2), entry(2, 1)];
    const pump = new ZabPump();
    pump.leader(1, { currentEpoch: 2, log: leaderLog });
    pump.learner(3, 1, "follower", { currentEpoch: 2, log: leaderLog });
    pump.learner(2, 1, "follower", { currentEpoch: 1, log: [entry(1, 1), entry(1, 2), entry(1, 3, "lost")] });
    pump.flush();
    expect(pump.kindsTo(2, 1)).toEqual(["LEADERINFO", "TRUNC", "PROPOSAL", "NEWLEADER", "UPTODATE"]);
    const trunc = pump.delivered.find((w) => w.to === 2 && w.packet.kind === "TRUNC")!.packet;
    expect(trunc).toEqual({ kind: "TRUNC", zxid: makeZxid(1, 2) });
    const f2 = pump.nodes.get(2)!;
    expect(f2.persisted.filter((p) => p.kind === "truncate" || p.kind === "append")).toEqual([
      { kind: "truncate", zxid: makeZxid(1, 2) },
      { kind: "append", entry: entry(2, 1) },
    ]);
    expect(f2.applied).toEqual(["t1.1", "t1.2", "t2.1"]);
    expect(pump.nodes.get(1)!.events).toContainEqual({ kind: "sync", learner: 2, mode: "TRUNC", fromZxid: makeZxid(1, 2), toZxid: makeZxid(2, 1) });
  });

  it("a late joiner ahead of an established leader is truncated back to the leader's last zxid", () => {
    const pump = established({ 1: [entry(1, 1)], 3: [entry(1, 1)] }, 2, [3]);
    pump.learner(2, 1, "follower", { currentEpoch: 1, log: [entry(1, 1), entry(1, 2, "uncommitted")] });
    pump.flush();
    expect(pump.kindsTo(2, 1)).toEqual(["LEADERINFO", "TRUNC", "NEWLEADER", "UPTODATE"]);
    expect(pump.nodes.get(2)!.state.history.lastZxid).toBe(makeZxid(1, 1));
    expect(pump.nodes.get(2)!.applied).toEqual(["t1.1"]);
  });

  it("a follower within the leader's committed log gets a DIFF of PROPOSAL/COMMIT pairs", () => {
    const pump = established({ 1: [entry(1, 1), entry(1, 2)], 3: [entry(1, 1), entry(1, 2)] }, 2, [3]);
    pump.propose(1, "a");
    pump.propose(1, "b");
    pump.flush();
    expect(pump.nodes.get(1)!.applied).toEqual(["t1.1", "t1.2", "a", "b"]);
    pump.learner(2, 1, "follower", { currentEpoch: 1, log: [entry(1, 1)] });
    pump.flush();
    expect(pump.kindsTo(2, 1)).toEqual([
      "LEADERINFO", "DIFF", "PROPOSAL", "COMMIT", "PROPOSAL", "COMMIT", "PROPOSAL", "COMMIT", "NEWLEADER", "UPTODATE",
    ]);
    expect(pump.nodes.get(2)!.applied).toEqual(["t1.1", "t1.2", "a", "b"]);
  });

  it("a follower behind the committed log kept in memory gets a SNAP, then the newer txns", () => {
    const pump = new ZabPump();
    pump.leader(1, { committedLogCountMax: 1 });
    pump.learner(3, 1, "follower");
    pump.flush();
    for (const t of ["a", "b", "c"]) pump.propose(1, t);
    pump.flush();
    // One more, left outstanding: server 3's ACK is lost.
    const d = pump.propose(1, "d");
    pump.flush((w) => w.packet.kind === "ACK");
    expect(pump.nodes.get(1)!.state.history.floorZxid).toBe(makeZxid(1, 2));
    pump.learner(2, 1, "follower");
    pump.flush();
    expect(pump.kindsTo(2, 1)).toEqual(["LEADERINFO", "SNAP", "PROPOSAL", "NEWLEADER", "UPTODATE", "COMMIT"]);
    const f2 = pump.nodes.get(2)!;
    expect(f2.persisted.find((p) => p.kind === "snapshot")).toEqual({ kind: "snapshot", zxid: makeZxid(1, 3), snapshot: ["a", "b", "c"] });
    // Its ACK of NEWLEADER covered "d" (logged in the sync): with the leader, a quorum — "d" commits.
    expect(f2.applied).toEqual(["a", "b", "c", "d"]);
    expect(pump.nodes.get(1)!.applied).toEqual(["a", "b", "c", "d"]);
    expect(d).toBe(makeZxid(1, 4));
  });

  it("a follower that reconnects already holding an outstanding proposal counts as having ACKed it", () => {
    const pump = established();
    pump.propose(1, "x");
    // Both ACKs are lost (their connections broke); nothing commits.
    pump.flush((w) => w.packet.kind === "ACK");
    expect(pump.nodes.get(1)!.applied).toEqual([]);
    // Server 2 comes back with "x" in its log: a DIFF with nothing to send, and NEWLEADER's ACK covers "x".
    const log = pump.nodes.get(2)!.state.history.after(0n);
    pump.learner(2, 1, "follower", { currentEpoch: 1, acceptedEpoch: 1, log });
    pump.flush();
    expect(pump.kindsTo(2, 1).slice(-4)).toEqual(["DIFF", "NEWLEADER", "UPTODATE", "COMMIT"]);
    expect(pump.nodes.get(1)!.applied).toEqual(["x"]);
  });

  it.each([500, 0])("a follower that reconnects holding a txn committed while it was away is told it is committed (committedLog %i)", (committedLogCountMax) => {
    const pump = new ZabPump();
    pump.leader(1, { committedLogCountMax });
    pump.learner(2, 1, "follower");
    pump.learner(3, 1, "follower");
    pump.flush();
    pump.propose(1, "x");
    // "x" commits with 1 and 3; server 2 logged it, but its ACK and then the COMMIT are lost with its connection.
    pump.flush((w) => (w.from === 2 && w.packet.kind === "ACK") || (w.to === 2 && w.packet.kind === "COMMIT"));
    expect(pump.nodes.get(1)!.applied).toEqual(["x"]);
    expect(pump.nodes.get(2)!.applied).toEqual([]);
    const log = pump.nodes.get(2)!.state.history.after(0n);
    pump.learner(2, 1, "follower", { currentEpoch: 1, acceptedEpoch: 1, log });
    pump.flush();
    // Nothing to DIFF, but a COMMIT for what it holds: it applies "x" at UPTODATE, before any sync could return.
    expect(pump.kindsTo(2, 1).slice(-4)).toEqual(["DIFF", "COMMIT", "NEWLEADER", "UPTODATE"]);
    expect(pump.nodes.get(2)!.applied).toEqual(["x"]);
  });
});

describe("broadcast (Zab phase 3)", () => {
  it("PROPOSAL → follower logs (persist before its ACK) → ACK → COMMIT on a quorum", () => {
    const pump = established();
    const zxid = pump.propose(1, "w");
    expect(zxid).toBe(makeZxid(1, 1));
    pump.flush();
    const f2 = pump.nodes.get(2)!;
    const ackReady = f2.readys.find((r) => r.send.some((s) => s.packet.kind === "ACK" && s.packet.zxid === zxid))!;
    expect(ackReady.persist).toEqual([{ kind: "append", entry: { zxid, txn: "w" } }]);
    for (const sid of [1, 2, 3]) expect(pump.nodes.get(sid)!.applied).toEqual(["w"]);
  });

  it("commits on the first quorum of ACKs, without waiting for the others", () => {
    const pump = established();
    pump.propose(1, "w");
    pump.flush((w) => w.from === 3 && w.packet.kind === "ACK");
    expect(pump.nodes.get(1)!.applied).toEqual(["w"]);
  });

  it("commits strictly in zxid order: a later proposal with a quorum waits for an earlier one without", () => {
    const tracker = new QuorumProposalTracker(majorityVerifier([1, 2, 3]));
    tracker.propose(1n, 1);
    tracker.propose(2n, 1);
    tracker.ack(2n, 2);
    expect(tracker.takeCommittable()).toEqual([]);
    tracker.ack(1n, 3);
    expect(tracker.takeCommittable()).toEqual([1n, 2n]);
    expect(tracker.outstandingCount).toBe(0);
  });

  it("observers get INFORM once committed (never PROPOSAL), never ACK, and never count toward a quorum", () => {
    const pump = new ZabPump(majorityVerifier([1, 2, 3], [4]));
    pump.leader(1);
    pump.learner(2, 1, "follower");
    pump.learner(4, 1, "observer");
    pump.flush();
    expect(pump.asLearner(4).serving).toBe(true);
    pump.propose(1, "w");
    pump.flush();
    expect(pump.kindsTo(4, 1)).toEqual(["LEADERINFO", "DIFF", "NEWLEADER", "UPTODATE", "INFORM"]);
    expect(pump.nodes.get(4)!.applied).toEqual(["w"]);
    const observerAcks = pump.delivered.filter((w) => w.from === 4 && w.packet.kind === "ACK" && w.packet.zxid !== makeZxid(1, 0));
    expect(observerAcks).toEqual([]);
    // An ACK from an observer changes nothing.
    const tracker = new QuorumProposalTracker(majorityVerifier([1, 2, 3], [4, 5]));
    tracker.propose(1n, 1);
    tracker.ack(1n, 4);
    tracker.ack(1n, 5);
    expect(tracker.takeCommittable()).toEqual([]);
  });

  it("a follower forwards writes (REQUEST) to the leader's prepare step", () => {
    const pump = established();
    pump.take(pump.nodes.get(2)!, pump.asLearner(2).submit("from-2", pump.now));
    pump.flush();
    expect(pump.nodes.get(1)!.requests).toEqual(["from-2"]);
  });

  it("sync: the leader answers once every proposal outstanding at that moment has committed", () => {
    const pump = established();
    pump.propose(1, "w");
    pump.take(pump.nodes.get(2)!, pump.asLearner(2).sync(7, pump.now));
    // The proposals reach the followers, but their ACKs are held back for now.
    const held: typeof pump.wire = [];
    pump.flush((w) => (w.packet.kind === "ACK" ? (held.push(w), true) : false));
    expect(pump.nodes.get(2)!.syncsDone).toEqual([]);
    pump.wire.push(...held);
    pump.flush();
    expect(pump.nodes.get(2)!.syncsDone).toEqual([7]);
    // The answer comes after the COMMIT it waited for, on the same FIFO connection.
    expect(pump.kindsTo(2, 1).slice(-2)).toEqual(["COMMIT", "SYNC"]);
  });
});

describe("liveness: PING, syncLimit and initLimit", () => {
  it("the leader PINGs every tickTime/2 and learners answer", () => {
    const pump = established();
    const before = pump.delivered.length;
    pump.advance(1_000);
    const pings = pump.delivered.slice(before).filter((w) => w.packet.kind === "PING");
    expect(pings.filter((w) => w.from === 1 && w.to === 2)).toHaveLength(20);
    expect(pings.filter((w) => w.from === 2)).toHaveLength(20);
    expect(pump.asLeader(1).stopped).toBeNull();
  });

  it("a leader that hears from no quorum for syncLimit ticks steps down", () => {
    const pump = established(); // tickTime 100 ms, syncLimit 5, initLimit 10
    // Well past the initial initLimit + syncLimit grace: only the learners' PINGs keep the leader leading.
    pump.advance(3_000);
    expect(pump.asLeader(1).stopped).toBeNull();
    const silentAt = pump.now;
    const silent = (w: { from: number }) => w.from !== 1;
    pump.advance(400, 10, silent);
    expect(pump.asLeader(1).stopped).toBeNull();
    pump.advance(300, 10, silent);
    expect(pump.asLeader(1).stopped).toMatch(/^not sufficient followers synced, only synced with sids: \[ 1 \]$/);
    expect(pump.now - silentAt).toBeLessThanOrEqual(700);
    expect(pump.nodes.get(1)!.closed).toEqual(expect.arrayContaining([2, 3]));
  });

  it("one silent follower of three is not enough to make the leader step down", () => {
    const pump = established();
    pump.advance(2_000, 10, (w) => w.from === 3);
    expect(pump.asLeader(1).stopped).toBeNull();
  });

  it("a follower that hears nothing from its leader for syncLimit ticks goes back to looking", () => {
    const pump = established();
    pump.advance(480, 10, (w) => w.from === 1);
    expect(pump.asLearner(2).stopped).toBeNull();
    pump.advance(40, 10, (w) => w.from === 1);
    expect(pump.asLearner(2).stopped).toBe("nothing from leader 1 within syncLimit (500 ms) while uptodate");
  });

  it("a learner refused by a leader that does not lead yet connects again after 100 ms", () => {
    const pump = new ZabPump();
    const f = pump.learner(2, 1, "follower");
    const connects = () => f.readys.filter((r) => r.connect === 1 && r.send[0]?.packet.kind === "FOLLOWERINFO").length;
    expect(connects()).toBe(1);
    pump.take(f, pump.asLearner(2).disconnected(1, pump.now));
    pump.advance(90);
    expect(connects()).toBe(1);
    pump.advance(20);
    expect(connects()).toBe(2);
    expect(pump.asLearner(2).stopped).toBeNull();
  });
});
