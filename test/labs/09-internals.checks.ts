// Lab 9 (book chapter 9 "ZooKeeper Internals"; notes 第9章: 群首选举, Zab, 观察者): zxids, fast leader election's
// vote order and its logical clock and termination, the leader's commit rule, the follower's log-before-ACK and
// in-order delivery. Each check compares the learner's piece with the reference on generated inputs (fast, a clear
// message) and plugs it into the simulated ensemble (src/sim: the reference for everything else, message loss,
// partitions, crashes) over many seeds, checking Zab's safety properties and progress. The follower's check runs
// the simulation first: what a follower gets wrong shows as a broken Zab property there, which is what it is.
// A failing run writes its message timeline next to the report; `npm run lab 9 -- --seed S` replays it.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeZxid as referenceMakeZxid, zxidCounter, zxidEpoch, type TxnHeader } from "#src/tree/txn.ts";
import { sameVote, totalOrderPredicate, type Candidate, type Notification, type RecordedVote } from "#src/quorum/election/vote.ts";
import { lookingRule as referenceLookingRule, type ElectionRound, type LookingRule, type RoundContext } from "#src/quorum/election/fle.ts";
import { LoggingFollower, type BroadcastPacket, type FollowerBroadcast, type FollowerIo } from "#src/quorum/zab/learner.ts";
import type { LogEntry } from "#src/quorum/zab/messages.ts";
import { QuorumProposalTracker, type ProposalTracker } from "#src/quorum/zab/proposals.ts";
import { hierarchicalVerifier, majorityVerifier, type QuorumVerifier } from "#src/quorum/verifier.ts";
import type { PeerOptions } from "#src/quorum/peer.ts";
import { runSimulation, writeTimeline, type ScenarioOptions } from "#src/sim/index.ts";
import { seededRandom, type Random } from "#src/sim/random.ts";
import { defineChecks } from "#src/workbook/checks.ts";
import { LabTodo } from "#src/workbook/lab-todo.ts";

import { DataTree } from "#src/tree/data-tree.ts";
import { defaultConfig } from "#src/config/index.ts";
import { MemoryDisk } from "#src/storage/disk.ts";
import { DurableStore, type SnapshotTaken } from "#src/storage/durable-store.ts";
import { DiskSnapshotStore, type SnapshotStore } from "#src/storage/snapshot-store.ts";
import { DiskTxnLog } from "#src/storage/txn-log.ts";
import { startTestServer } from "../support/zk-server.ts";
import { RawClient } from "../storage/support/raw-client.ts";
import { dumpDataTree } from "../storage/support/tree-dump.ts";

type RecoveryModule = typeof import("#src/storage/recovery.ts");
type TxnModule = typeof import("#src/tree/txn.ts");
type VoteModule = typeof import("#src/quorum/election/vote.ts");
type ProposalsModule = typeof import("#src/quorum/zab/proposals.ts");
type LearnerModule = typeof import("#src/quorum/zab/learner.ts");
type FleModule = typeof import("#src/quorum/election/fle.ts");

/** Zab's properties as the checker names them (src/sim/checkers.ts), with what each means. */
const meaning: Record<string, string> = {
  "a zxid names one txn": "two different txns were given the same zxid",
  "commit in zxid order": "a server committed a txn before an earlier one",
  "committed logs are prefixes": "two servers committed different histories",
  "committed txns are on a quorum": "a txn was delivered that a quorum of voters had not logged — an ACK sent before the txn was logged, or ACKs counted that are not a quorum",
  "committed txns stay on a quorum": "a committed txn was later lost by too many servers — a crash lost what was ACKed but never logged",
  "each txn committed once": "a txn was committed twice",
  "one leader per epoch (discovery)": "two servers led the same epoch",
  "one leader per epoch (established)": "two servers led the same epoch",
  "weight-0 never leads": "a server of weight 0 became leader",
};
const inWords = (property: string) => (meaning[property] ? `${property} (${meaning[property]})` : property);

/**
 * Runs `count` simulations seeded from `lab.random` with the learner's piece plugged in. On the first failing run:
 * writes its timeline (text and HTML) and fails saying which property broke, the seed and where the timeline is.
 */
function simulate(random: Random, seams: Pick<PeerOptions, "voteOrder" | "lookingRule" | "proposals" | "followerBroadcast">, count: number, what: string): void {
  const options: ScenarioOptions = { faultPhaseMs: [400, 1_200], livenessBudgetMs: 10_000, overrides: { seams } };
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const seed = random.int(1, 2 ** 31 - 2);
    const result = runSimulation(seed, options);
    if (result.error instanceof LabTodo) throw result.error;
    if (result.ok) {
      if (performance.now() - started > 7_000) return; // enough seeds for this run; another --seed tries others
      continue;
    }
    const written = writeTimeline(result, path.join(tmpdir(), "zkbook-lab9"), options);
    // Each broken property once (its first occurrence and how often it recurred), then the run and how to see it.
    const broken: string[] = [];
    const seen = new Map<string, number>();
    for (const v of result.violations) seen.set(v.property, (seen.get(v.property) ?? 0) + 1);
    for (const [property, times] of seen) {
      const first = result.violations.find((v) => v.property === property)!;
      broken.push(`Zab property broken: ${inWords(property)} — first at ${first.atMs.toFixed(1)} ms: ${first.detail}${times > 1 ? ` (${times - 1} more like it)` : ""}`);
    }
    if (result.error !== null) broken.push(`a server stopped on a broken invariant at ${result.endMs.toFixed(1)} ms: ${result.error.message}`);
    if (!result.liveness.ok && result.error === null) {
      const c = result.cluster;
      broken.push(
        `no progress (liveness): the faults healed at ${result.liveness.healedAtMs} ms, but no new write was committed by a quorum by ${result.endMs.toFixed(0)} ms; ` +
          `roles at the end: ${c.servers.map((s) => `s${s}=${c.roleOf(s)}`).join(" ")}`,
      );
    }
    assert.fail(
      `${what}: simulation seed ${seed} (lab seed ${random.seed}, run ${i + 1} of ${count}) failed.\n` +
        `${broken.join("\n")}\n` +
        `the run: ${result.setup}\n` +
        `timeline: ${written.textPath} (and ${written.htmlPath}); replay with \`npm run lab 9 -- --seed ${random.seed}\``,
    );
  }
}

function randomVerifier(random: Random): QuorumVerifier {
  const voters = Array.from({ length: random.int(1, 6) }, (_, i) => i + 1);
  const observers = Array.from({ length: random.int(0, 2) }, (_, i) => voters.length + i + 1);
  if (voters.length < 2 || random.chance(0.5)) return majorityVerifier(voters, observers);
  for (;;) {
    const groupCount = random.int(1, Math.min(3, voters.length));
    const groups = Array.from({ length: groupCount }, (_, g) => ({ groupId: g + 1, serverIds: voters.filter((_, i) => i % groupCount === g) }));
    const weights = new Map(voters.map((s) => [s, random.pick([0, 1, 1, 2])] as const));
    const v = hierarchicalVerifier(groups, weights, observers);
    if (v.containsQuorum(voters)) return v;
  }
}

/** The same propose/ack sequence on the learner's tracker and the reference's; commits must match step by step. */
/** Which Zab property a wrong commit decision breaks, in words (the Zab paper's broadcast properties). */
function brokenProperty(actual: readonly string[], expected: readonly string[]): string {
  const early = actual.filter((z) => !expected.includes(z));
  if (early.length > 0) {
    return `Zab property broken: ${early.join(", ")} committed without a quorum of voters' ACKs (every committed txn must be on a quorum — observers and strangers do not count), or before an earlier proposal.`;
  }
  const sorted = [...actual].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  if (actual.join() !== sorted.join()) return `Zab property broken: commits out of zxid order (${actual.join(", ")}); the leader must commit strictly in zxid order.`;
  return `No progress (a liveness property): ${expected.filter((z) => !actual.includes(z)).join(", ")} had a quorum of ACKs, and everything before it was committed, but was not committed.`;
}

function compareTrackers(Learner: ProposalsModule["QuorumProposalTracker"], random: Random, verifier: QuorumVerifier): void {
  const mine: ProposalTracker = new Learner(verifier);
  const theirs: ProposalTracker = new QuorumProposalTracker(verifier);
  const everyone = [...verifier.votingMembers, ...verifier.observers, 99];
  const leader = verifier.votingMembers[0]!;
  const steps: string[] = [];
  let counter = 0;
  for (let i = 0; i < 120; i++) {
    const roll = random.int(0, 9);
    if (roll < 3 || counter === 0) {
      const zxid = referenceMakeZxid(1, ++counter);
      steps.push(`propose 0x${zxid.toString(16)}`);
      mine.propose(zxid, leader);
      theirs.propose(zxid, leader);
    } else if (roll < 9) {
      const zxid = referenceMakeZxid(1, random.int(1, counter));
      const sid = random.pick(everyone);
      steps.push(`ack 0x${zxid.toString(16)} from ${sid}${verifier.observers.includes(sid) ? " (an observer)" : sid === 99 ? " (not in the ensemble)" : ""}`);
      mine.ack(zxid, sid);
      theirs.ack(zxid, sid);
    } else {
      const zxid = referenceMakeZxid(1, random.int(1, counter));
      const sid = random.pick(everyone);
      steps.push(`ackThrough 0x${zxid.toString(16)} from ${sid}`);
      mine.ackThrough(zxid, sid);
      theirs.ackThrough(zxid, sid);
    }
    const expected = theirs.takeCommittable().map((z) => `0x${z.toString(16)}`);
    const actual = mine.takeCommittable().map((z) => `0x${z.toString(16)}`);
    assert.deepEqual(
      actual,
      expected,
      `${brokenProperty(actual, expected)}\nwith a ${verifier.kind} quorum of ${verifier.votingMembers.join(",")} (observers ${verifier.observers.join(",") || "none"}; seed ${random.seed}), after:\n  ${steps.slice(-12).join("\n  ")}\n` +
        "the proposals that commit now: those a quorum has ACKed, in zxid order, stopping at the first without a quorum",
    );
  }
}

// ---------------------------------------------------------------- 9.5: the follower, on generated inputs

type FT = { readonly request: unknown; readonly txn: { readonly id: number }; readonly snapshot: unknown };
const hex = (z: bigint) => `0x${z.toString(16)}`;

/** A follower's log and state machine as the io of one step sees them. */
interface FollowerModel {
  floor: bigint;
  entries: LogEntry<FT>[];
  delivered: bigint;
}

class ProtocolErrorRaised extends Error {}

/** What one step did. */
interface StepEffects {
  logged: bigint[];
  acked: bigint[];
  delivered: bigint[];
  protocolError: string | null;
  /** A misuse of the io (appending out of zxid order), or an exception the step threw. */
  problem: string | null;
}

function followerIo(model: FollowerModel, effects: StepEffects): FollowerIo<FT> {
  const last = () => model.entries.at(-1)?.zxid ?? model.floor;
  return {
    get lastLogged() {
      return last();
    },
    get lastDelivered() {
      return model.delivered;
    },
    isLogged: (zxid) => zxid === model.floor || model.entries.some((e) => e.zxid === zxid),
    loggedAfter: (zxid) => model.entries.filter((e) => e.zxid > zxid),
    log: (entry) => {
      if (entry.zxid <= last()) effects.problem ??= `io.log(${hex(entry.zxid)}) after ${hex(last())}: a log only grows, in zxid order`;
      else model.entries.push(entry);
      effects.logged.push(entry.zxid);
    },
    ack: (zxid) => void effects.acked.push(zxid),
    deliver: (entry) => {
      effects.delivered.push(entry.zxid);
      if (entry.zxid > model.delivered) model.delivered = entry.zxid;
    },
    protocolError: (message) => {
      effects.protocolError = message;
      throw new ProtocolErrorRaised(message);
    },
  };
}

function runFollowerStep(follower: FollowerBroadcast, packet: BroadcastPacket<FT>, model: FollowerModel): StepEffects {
  const effects: StepEffects = { logged: [], acked: [], delivered: [], protocolError: null, problem: null };
  try {
    follower.step(packet, followerIo(model, effects));
  } catch (error) {
    if (error instanceof LabTodo) throw error;
    if (!(error instanceof ProtocolErrorRaised)) effects.problem ??= `your step threw: ${error instanceof Error ? error.message : String(error)}`;
  }
  return effects;
}

/** The same PROPOSAL/COMMIT sequence on the learner's follower and the reference's; their effects must agree. */
function compareFollowers(Mine: new () => FollowerBroadcast, random: Random): void {
  const mine = new Mine();
  const theirs = new LoggingFollower();
  const epoch = random.int(1, 3);
  const floor = random.chance(0.3) ? 0n : referenceMakeZxid(epoch, 0);
  let counter = 0;
  const initial: LogEntry<FT>[] = Array.from({ length: random.int(0, 4) }, () => ({ zxid: referenceMakeZxid(epoch, ++counter), txn: { id: counter } }));
  const delivered = initial.length === 0 ? floor : random.pick([floor, ...initial.map((e) => e.zxid)]);
  const a: FollowerModel = { floor, entries: [...initial], delivered };
  const b: FollowerModel = { floor, entries: [...initial], delivered };
  const steps: string[] = [];
  const describe = (m: FollowerModel) =>
    `your log holds ${m.entries.length === 0 ? "nothing after the snapshot" : m.entries.map((e) => hex(e.zxid)).join(", ")}, delivered through ${hex(m.delivered)}`;
  for (let i = 0; i < 30; i++) {
    const lastLogged = b.entries.at(-1)?.zxid ?? floor;
    const undelivered = b.entries.filter((e) => e.zxid > b.delivered);
    const old = b.entries.filter((e) => e.zxid <= b.delivered);
    const roll = random.int(0, 99);
    let packet: BroadcastPacket<FT>;
    if (roll < 40 || (undelivered.length === 0 && roll < 80)) {
      counter++;
      packet = { kind: "PROPOSAL", zxid: referenceMakeZxid(epoch, counter), txn: { id: counter } };
    } else if (roll < 80) {
      packet = { kind: "COMMIT", zxid: undelivered[0]!.zxid };
    } else if (roll < 88 && undelivered.length > 1) {
      packet = { kind: "COMMIT", zxid: random.pick(undelivered.slice(1)).zxid }; // everything before it is committed too
    } else if (roll < 96 && old.length > 0) {
      packet = { kind: "COMMIT", zxid: random.pick(old).zxid }; // a COMMIT of something delivered already
    } else {
      packet = { kind: "COMMIT", zxid: lastLogged + BigInt(random.int(1, 3)) }; // never logged here
    }
    const before = describe(b);
    const deliveredBefore = b.delivered;
    const label = packet.kind === "PROPOSAL" ? `PROPOSAL ${hex(packet.zxid)}` : `COMMIT ${hex(packet.zxid)}`;
    steps.push(label);
    const expected = runFollowerStep(theirs, packet, a);
    const actual = runFollowerStep(mine, packet, b);
    const context = `\nwhen ${label} arrived (${before}; seed ${random.seed}); the packets so far:\n  ${steps.slice(-10).join("\n  ")}`;
    const list = (zs: readonly bigint[]) => (zs.length === 0 ? "nothing" : zs.map(hex).join(", "));
    if (actual.problem !== null) assert.fail(`${actual.problem}${context}`);
    if (expected.protocolError !== null) {
      assert.ok(
        actual.protocolError !== null,
        `${label} names a txn this server never logged (the last it logged is ${hex(lastLogged)}): the leader only commits what a quorum ACKed, so this is a protocol error — call io.protocolError, do not deliver or ignore it${context}`,
      );
      return;
    }
    if (actual.protocolError !== null) assert.fail(`${label} is a valid packet, but your step called io.protocolError("${actual.protocolError}")${context}`);
    const unlogged = actual.acked.filter((z) => !b.entries.some((e) => e.zxid === z) && z !== b.floor);
    if (unlogged.length > 0) {
      assert.fail(
        `Zab property broken: ACK of ${list(unlogged)} before it is logged. An ACK tells the leader "this txn is on my disk"; the leader commits once a quorum has ACKed, so a crash now would lose a committed txn from that quorum. Log it (io.log) in this step or before, then ACK${context}`,
      );
    }
    assert.deepEqual(
      actual.acked.map(hex),
      expected.acked.map(hex),
      packet.kind === "PROPOSAL"
        ? `a PROPOSAL is ACKed once it is logged, with its own zxid: ACKed ${list(actual.acked)}, expected ${list(expected.acked)}. Without the ACK the leader cannot count you toward its quorum (no progress)${context}`
        : `a COMMIT needs no ACK: sent ACK ${list(actual.acked)}${context}`,
    );
    assert.deepEqual(
      actual.logged.map(hex),
      expected.logged.map(hex),
      packet.kind === "PROPOSAL"
        ? `a PROPOSAL is appended to the log when it arrives: logged ${list(actual.logged)}, expected ${list(expected.logged)}${context}`
        : `a COMMIT logs nothing (the txn was logged when its PROPOSAL came): logged ${list(actual.logged)}${context}`,
    );
    if (actual.delivered.join() !== expected.delivered.join()) {
      const commitZxid = packet.zxid;
      const early = actual.delivered.filter((z) => z > commitZxid || (packet.kind === "PROPOSAL" && !expected.delivered.includes(z)));
      const sorted = [...actual.delivered].sort((x, y) => (x < y ? -1 : 1));
      const twice = actual.delivered.filter((z, i) => actual.delivered.indexOf(z) !== i || z <= deliveredBefore);
      let why: string;
      if (early.length > 0) why = `Zab property broken: ${list(early)} delivered before it was committed (${packet.kind === "PROPOSAL" ? "a PROPOSAL is not a commit" : `COMMIT ${hex(commitZxid)} commits only up to ${hex(commitZxid)}`})`;
      else if (actual.delivered.join() !== sorted.join()) why = `Zab property broken: delivered out of zxid order (${list(actual.delivered)}); deliver strictly in zxid order`;
      else if (twice.length > 0) why = `Zab property broken: ${list(twice)} delivered again (each txn is delivered once; a COMMIT at or below io.lastDelivered is old news)`;
      else why = `Zab property broken: COMMIT ${hex(commitZxid)} also commits every logged txn before it — deliver ${list(expected.delivered)} in zxid order, you delivered ${list(actual.delivered)}`;
      assert.fail(`${why}${context}`);
    }
  }
}

// ---------------------------------------------------------------- 9.6: the election's rounds, on generated inputs

function compareLookingRules(mine: LookingRule, random: Random): void {
  const verifier = randomVerifier(random);
  const voters = verifier.votingMembers;
  const me = random.chance(0.8) || verifier.observers.length === 0 ? random.pick(voters) : random.pick(verifier.observers);
  const isVoter = verifier.isVotingMember(me);
  const candidate = (): Candidate => ({ leader: random.pick(voters), zxid: referenceMakeZxid(random.int(0, 2), random.int(0, 3)), peerEpoch: random.int(0, 2) });
  const own: Candidate = isVoter ? { leader: me, zxid: referenceMakeZxid(random.int(0, 2), random.int(0, 3)), peerEpoch: random.int(0, 2) } : { leader: -1, zxid: -1n, peerEpoch: -1 };
  const pool = [candidate(), candidate(), own];
  const r = random.int(1, 4);
  const vote = random.pick(pool);
  const votes = new Map<number, RecordedVote>();
  for (const sid of voters) if (random.chance(0.6)) votes.set(sid, { ...random.pick([...pool, vote, vote]), electionEpoch: r, state: "LOOKING" });
  if (isVoter) votes.set(me, { ...vote, electionEpoch: r, state: "LOOKING" });
  const others = voters.filter((s) => s !== me);
  if (others.length === 0) return;
  const from = random.pick(others);
  const n: Notification = { ...random.pick([...pool, vote]), electionEpoch: Math.max(1, r + random.pick([-1, 0, 0, 1, 2])), state: "LOOKING" };
  const weight = verifier.weight;

  const run = (rule: LookingRule) => {
    const round: ElectionRound = { round: r, vote, votes: new Map(votes) };
    const sent: string[] = [];
    const ctx: RoundContext = {
      own,
      better: (x, y) => totalOrderPredicate(x, y, weight),
      isQuorum: (sids) => verifier.containsQuorum(sids),
      sendVote: () => {
        sent.push(`${showVote(round.vote)} in round ${round.round}`);
        if (isVoter) round.votes.set(me, { ...round.vote, electionEpoch: round.round, state: "LOOKING" });
      },
    };
    const quorum = rule(round, from, n, ctx);
    return { quorum, round: round.round, vote: showVote(round.vote), votes: showVotes(round.votes), sent };
  };
  const expected = run(referenceLookingRule);
  const actual = run(mine);
  const situation =
    `\nserver ${me}${isVoter ? "" : " (an observer)"} in round ${r}, voting ${showVote(vote)}, with votes ${showVotes(votes)}, ` +
    `got from server ${from}: ${showVote(n)} in round ${n.electionEpoch} (${verifier.kind} quorum of ${voters.join(",")}; seed ${random.seed})`;
  if (actual.round !== expected.round) {
    const why =
      n.electionEpoch > r
        ? `a notification from round ${n.electionEpoch}, above yours (${r}): your logical clock moves to ${n.electionEpoch}`
        : n.electionEpoch < r
          ? `a notification from an older round (${n.electionEpoch} < ${r}) changes nothing: ignore it`
          : "a notification of your own round leaves your round as it is";
    assert.fail(`${why}; your round became ${actual.round}${situation}`);
  }
  if (actual.votes !== expected.votes) {
    const why =
      n.electionEpoch > r
        ? `moving to round ${n.electionEpoch} forgets every vote of round ${r} (they were cast in another round): clear round.votes, then record the sender's vote`
        : n.electionEpoch < r
          ? "a vote from an older round is not recorded"
          : "record the sender's vote (its candidate, round and state LOOKING) under its id";
    assert.fail(`${why}: expected votes ${expected.votes}, yours are ${actual.votes}${situation}`);
  }
  if (actual.vote !== expected.vote) {
    const why = n.electionEpoch > r ? "in a new round vote for the better of your own candidacy (ctx.own) and the sender's candidate" : "adopt the sender's candidate only when it is better than your vote (ctx.better)";
    assert.fail(`${why}: expected to vote ${expected.vote}, you vote ${actual.vote}${situation}`);
  }
  assert.deepEqual(actual.sent, expected.sent, `send your vote (ctx.sendVote) when it changes — a new round, or a better candidate — and only then${situation}`);
  if (actual.quorum !== expected.quorum) {
    assert.fail(
      `termination: the votes of round ${expected.round} equal to yours — same leader, zxid, peerEpoch and round — ${expected.quorum ? "do" : "do not"} form a quorum, so return ${expected.quorum} ` +
        `(${expected.quorum ? "the election then waits finalizeWait for a better vote and decides" : "deciding now could elect a leader a quorum did not choose"}); you returned ${actual.quorum}${situation}`,
    );
  }
}

function showVote(c: Candidate): string {
  return c.leader < 0 ? "(no one)" : `(s${c.leader}, zxid ${hex(c.zxid)}, peerEpoch ${c.peerEpoch})`;
}

function showVotes(votes: ReadonlyMap<number, RecordedVote>): string {
  const list = [...votes].sort(([x], [y]) => x - y).map(([sid, v]) => `s${sid}: ${showVote(v)} r${v.electionEpoch}`);
  return `{${list.join("; ")}}`;
}

export default defineChecks(9, {
  "9.1": async (lab) => {
    const { makeZxid } = await lab.load<TxnModule>("txn.ts");
    const samples: Array<[number, number]> = [[0, 0], [1, 0], [1, 1], [0, 0xffffffff], [1, 0x7fffffff], [1, 0x80000000], [0x7fffffff, 5], [0xffffffff, 0xffffffff]];
    for (let i = 0; i < 300; i++) samples.push([lab.random.int(0, 0xffff), lab.random.pick([0, 1, lab.random.int(0, 0x7fffffff), 0xffffffff - lab.random.int(0, 10)])]);
    for (const [epoch, counter] of samples) {
      const zxid = makeZxid(epoch, counter);
      assert.equal(typeof zxid, "bigint", "a zxid is a 64-bit bigint");
      assert.equal(zxid, referenceMakeZxid(epoch, counter), `makeZxid(epoch ${epoch}, counter ${counter}) = epoch << 32 | counter (seed ${lab.random.seed})`);
      assert.equal(zxidEpoch(zxid), epoch, `the epoch of makeZxid(${epoch}, ${counter}) is the high 32 bits`);
      assert.equal(zxidCounter(zxid), counter >>> 0, `the counter of makeZxid(${epoch}, ${counter}) is the low 32 bits`);
    }
    for (let i = 0; i < 300; i++) {
      const [a, b] = [lab.random.pick(samples), lab.random.pick(samples)];
      const lexicographic = a[0] !== b[0] ? a[0] < b[0] : a[1] >>> 0 < b[1] >>> 0;
      assert.equal(makeZxid(...a) < makeZxid(...b), lexicographic, `zxids order by (epoch, counter): (${a}) < (${b})? — a new epoch's first zxid beats any zxid of an older epoch`);
    }
  },

  "9.2": async (lab) => {
    const { totalOrderPredicate: learnerOrder } = await lab.load<VoteModule>("vote.ts");
    const weights = new Map([[1, 1], [2, 1], [3, 0], [4, 2], [5, 1]]);
    const weight = (sid: number) => weights.get(sid) ?? 0;
    const candidate = (): Candidate => ({ leader: lab.random.int(1, 6), zxid: referenceMakeZxid(lab.random.int(0, 2), lab.random.int(0, 3)), peerEpoch: lab.random.int(0, 2) });
    for (let i = 0; i < 2_000; i++) {
      const [a, b] = [candidate(), candidate()];
      const show = (c: Candidate) => `(server ${c.leader}, weight ${weight(c.leader)}, peerEpoch ${c.peerEpoch}, zxid 0x${c.zxid.toString(16)})`;
      assert.equal(
        learnerOrder(a, b, weight),
        totalOrderPredicate(a, b, weight),
        `is ${show(a)} a better leader than ${show(b)}? (seed ${lab.random.seed}) — weight 0 never wins; then higher peerEpoch, then higher zxid, then higher server id`,
      );
    }
    simulate(lab.random, { voteOrder: learnerOrder }, 60, "elections with your vote order");
  },

  "9.4": async (lab) => {
    // A server under steady write load takes fuzzy snapshots (each spans many turns of writes); recovery from
    // each, replaying the log after its TS with the learner's replayTxn, must give exactly the live tree.
    const { recover, replayTxn } = await lab.load<RecoveryModule>("recovery.ts");
    // First the rule on its own. A snapshot can hold a child whose parent was written before the child's create
    // moved the parent's cversion; replaying that create meets NODEEXISTS and must still move it (and pzxid).
    for (const inMulti of [false, true]) {
      const tree = new DataTree({ extendedTypesEnabled: false });
      const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
      const header = (zxid: bigint, type: TxnHeader["type"]): TxnHeader => ({ sessionId: 1n, cxid: 0, zxid, timeMs: 1n, type });
      tree.processTxn(header(1n, "create"), { kind: "create", path: "/p", data: null, acl, ephemeral: false, parentCVersion: 1 });
      tree.processTxn(header(2n, "create"), { kind: "create", path: "/p/c", data: null, acl, ephemeral: false, parentCVersion: 0 });
      const create = { kind: "create", path: "/p/c", data: null, acl, ephemeral: false, parentCVersion: 1 } as const;
      replayTxn(tree, header(3n, inMulti ? "multi" : "create"), inMulti ? { kind: "multi", txns: [create] } : create);
      const p = tree.getNode("/p")!.stat;
      assert.deepEqual(
        [p.cversion, p.pzxid],
        [1, 3n],
        `replaying a create${inMulti ? " inside a multi" : ""} of /p/c that already exists must still set /p's cversion to the txn's parentCVersion and its pzxid to the txn's zxid`,
      );
    }
    const disk = new MemoryDisk();
    const snapshots: SnapshotTaken[] = [];
    const logger = { info: () => {}, warn: () => {} };
    const rand = () => lab.random.next();
    const store = new DurableStore(defaultConfig({ snapCount: 300, preAllocSizeKb: 16 }), { logger, snapDisk: disk, logDisk: disk, random: rand, nodesPerTurn: 30, onSnapshot: (s) => snapshots.push(s) });
    const server = await startTestServer({}, { txnSink: store, beforeListen: async (zk) => void (await store.recoverInto(zk)) });
    lab.cleanup(() => server.close());
    const clients = await Promise.all(Array.from({ length: 3 }, () => RawClient.connect("127.0.0.1", server.port)));
    lab.cleanup(() => clients.forEach((c) => c.destroy()));
    for (const dir of ["/load", "/load/a", "/load/b"]) await clients[0]!.create(dir, null);
    for (let round = 0; round < 25 && snapshots.filter((s) => !s.atStartup && s.endZxid > s.zxid).length < 2; round++) {
      await Promise.all(
        clients.map((client, c) => {
          const batch = [];
          for (let j = 0; j < 60; j++) {
            const dir = lab.random.pick(["/load/a", "/load/b"]);
            const i = round * 60 + j;
            const roll = lab.random.next();
            if (roll < 0.5) batch.push(client.create(`${dir}/c${c}-${i}`, Buffer.from(`${i}`), lab.random.chance(0.2) ? 1 : 0));
            else if (roll < 0.7) batch.push(client.setData(dir, Buffer.from(`set ${c} ${i}`)));
            else if (roll < 0.85) batch.push(client.delete(`${dir}/c${c}-${lab.random.int(0, i)}`));
            else batch.push(client.multi([{ op: "create", path: `${dir}/m${c}-${i}`, data: null }, { op: "setData", path: dir, data: Buffer.from(`multi ${i}`) }]));
          }
          return Promise.all(batch);
        }),
      );
    }
    await store.log.flush();
    const live = dumpDataTree(server.zk.tree, []);
    const fuzzy = snapshots.filter((s) => !s.atStartup);
    assert.ok(fuzzy.some((s) => s.endZxid > s.zxid), `the load produced a fuzzy snapshot (writes went on while it was written) (seed ${lab.random.seed})`);
    for (const snapshot of fuzzy) {
      const tree = new DataTree({ extendedTypesEnabled: false });
      const log = new DiskTxnLog(disk, { preAllocSizeBytes: 0, fsyncWarningThresholdMs: 1000, logger });
      const only = new DiskSnapshotStore(disk);
      const store1: SnapshotStore = { location: only.location, save: only.save.bind(only), read: only.read.bind(only), remove: only.remove.bind(only), list: async () => (await only.list()).filter((s) => s.name === snapshot.name) };
      await recover(tree, store1, log, { logger });
      const rebuilt = dumpDataTree(tree, []);
      for (const path of new Set([...Object.keys(live), ...Object.keys(rebuilt)])) {
        assert.deepEqual(
          rebuilt[path],
          live[path],
          `recovering from ${snapshot.name} (TS 0x${snapshot.zxid.toString(16)}, fuzzy up to 0x${snapshot.endZxid.toString(16)}) by replaying the log must rebuild the live tree: ${path} differs (seed ${lab.random.seed})`,
        );
      }
    }
  },

  "9.3": async (lab) => {
    const { QuorumProposalTracker: Learner } = await lab.load<ProposalsModule>("proposals.ts");
    for (let i = 0; i < 40; i++) compareTrackers(Learner, lab.random, randomVerifier(lab.random));
    simulate(lab.random, { proposals: (v) => new Learner(v) }, 60, "Zab with your leader's commit rule");
  },

  "9.5": async (lab) => {
    // The simulation first: a follower that ACKs what it has not logged, or delivers what is not committed or out
    // of order, breaks a Zab property there (a crash after the ACK loses a txn the leader counted as on a quorum).
    const { LoggingFollower: Mine } = await lab.load<LearnerModule>("learner.ts");
    // Drawn first: how many seeds the simulation gets through depends on the machine's speed, the inputs after it must not.
    const packets = seededRandom(lab.random.int(1, 2 ** 31 - 2));
    simulate(lab.random, { followerBroadcast: () => new Mine() }, 60, "Zab with your follower's broadcast step");
    // Then the packets a correct leader never sends but a follower must still handle right.
    for (let i = 0; i < 200; i++) compareFollowers(Mine, packets);
  },

  "9.6": async (lab) => {
    const { lookingRule: mine } = await lab.load<FleModule>("fle.ts");
    for (let i = 0; i < 3_000; i++) compareLookingRules(mine, lab.random);
    simulate(lab.random, { lookingRule: mine }, 60, "elections with your logical clock and termination rule");
  },
});
