// Lab 9 (book chapter 9 "ZooKeeper Internals"; notes 第9章: 群首选举, Zab, 观察者): zxids, fast leader election's
// vote order, and the leader's commit rule. Each check first compares the learner's piece with the reference on
// generated inputs (fast, a clear message), then plugs it into the simulated ensemble (src/sim: the reference for
// everything else, message loss, partitions, crashes) over many seeds and checks Zab's safety properties and progress.
// A failing run writes its message timeline next to the report; `npm run lab 9 -- --seed S` replays it.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeZxid as referenceMakeZxid, zxidCounter, zxidEpoch, type TxnHeader } from "#src/tree/txn.ts";
import { totalOrderPredicate, type Candidate } from "#src/quorum/election/vote.ts";
import { QuorumProposalTracker, type ProposalTracker } from "#src/quorum/zab/proposals.ts";
import { hierarchicalVerifier, majorityVerifier, type QuorumVerifier } from "#src/quorum/verifier.ts";
import type { PeerOptions } from "#src/quorum/peer.ts";
import { describeFailure, runSimulation, writeTimeline, type ScenarioOptions } from "#src/sim/index.ts";
import type { Random } from "#src/sim/random.ts";
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

/** Zab's properties as the checker names them (src/sim/checkers.ts), with what each means. */
const meaning: Record<string, string> = {
  "a zxid names one txn": "two different txns were given the same zxid",
  "commit in zxid order": "a server committed a txn before an earlier one",
  "committed logs are prefixes": "two servers committed different histories",
  "committed txns are on a quorum": "a txn was committed that a quorum had not logged",
  "committed txns stay on a quorum": "a committed txn was later lost by too many servers",
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
function simulate(random: Random, seams: Pick<PeerOptions, "voteOrder" | "proposals">, count: number, what: string): void {
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
    const broken = result.violations.map((v) => `Zab property broken: ${inWords(v.property)} at ${v.atMs.toFixed(1)} ms — ${v.detail}`);
    if (result.error !== null) broken.push(`a server stopped on a broken invariant: ${result.error.message}`);
    if (!result.liveness.ok && result.error === null) broken.push("no progress: after the faults healed, no new write was committed by a quorum (liveness)");
    assert.fail(
      `${what}: simulation seed ${seed} (lab seed ${random.seed}, run ${i + 1} of ${count}) failed.\n` +
        `${broken.join("\n")}\n${describeFailure(result)}\n` +
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
});
