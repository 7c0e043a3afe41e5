// Lab 8 (book chapter 8 "Curator: A High-Level API for ZooKeeper"; the ZooKeeper recipes page): leader election,
// a distributed queue, a double barrier and the retry policy the recipes use — under contention from many clients
// and under injected connection loss, with seeded randomness.
import assert from "node:assert/strict";
import {
  ConnectionLossError,
  NoNodeError,
  OperationTimeoutError,
  RequestTimeoutError,
  SessionExpiredError,
  ZooKeeperError,
  type ZooKeeperClient,
} from "#src/client/index.ts";
import { defaultRetryPolicy, retryDelayMs as referenceRetryDelayMs, type RetryPolicy } from "#src/client/retry.ts";
import { bySequence } from "#src/client/recipes/support.ts";
import { seededRandom } from "#src/sim/random.ts";
import { defineChecks, type CheckContext } from "#src/workbook/checks.ts";
import { clientFor, serverFor, settles, sleep, watchedBy, withConnectionLoss, within, type Fault } from "./support.ts";

type ElectionModule = typeof import("#src/client/recipes/leader-election.ts");
type QueueModule = typeof import("#src/client/recipes/queue.ts");
type BarrierModule = typeof import("#src/client/recipes/barrier.ts");
type RetryModule = typeof import("#src/client/retry.ts");
type Election = InstanceType<ElectionModule["LeaderElection"]>;

const nameOf = (path: string | null) => (path === null ? "" : path.slice(path.lastIndexOf("/") + 1));

/** The faults of a client that loses some requests on the way and some replies (a create that happened). */
const lossy = (client: ZooKeeperClient, faults: readonly Fault[]) => withConnectionLoss(client, faults);

/**
 * A client whose first `times` transactions (transaction().commit() or multi()) fail with ConnectionLossError:
 * "afterApply", the server applied them and the reply was lost — the case where a plain delete cannot tell "I took
 * it" from "someone else did"; "beforeApply", the request never arrived.
 */
function losingCommits(client: ZooKeeperClient, times: number, at: "beforeApply" | "afterApply"): ZooKeeperClient & { readonly lostCommits: number } {
  let left = times;
  let lost = 0;
  const lose = async <T>(run: () => Promise<T>): Promise<T> => {
    if (left <= 0) return run();
    left--;
    lost++;
    if (at === "afterApply") await run().catch(() => {});
    await sleep(20); // meanwhile another consumer may take the item
    throw new ConnectionLossError();
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === "lostCommits") return lost;
      if (property === "transaction") {
        return () => {
          const tx = target.transaction();
          const commit = tx.commit.bind(tx);
          tx.commit = (options) => lose(() => commit(options));
          return tx;
        };
      }
      if (property === "multi") return (...args: Parameters<ZooKeeperClient["multi"]>) => lose(() => target.multi(...args));
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as ZooKeeperClient & { readonly lostCommits: number };
}

/** An election that failed keeps its error (e.g. the stub's LabTodo): surface it instead of a vague mismatch. */
function rethrowFailures(elections: readonly Election[]): void {
  for (const e of elections) if (e.error !== null) throw e.error;
}

/**
 * Participants of one election; removes them one at a time in a seeded order (leaving the election or closing the
 * session), and after each step: exactly one leader, the lowest node's owner; every other participant watches only
 * its predecessor; and leadership only ever went to whoever was first in line.
 */
async function electionScenario(lab: CheckContext, mod: ElectionModule, clients: readonly ZooKeeperClient[], server: Parameters<typeof watchedBy>[0], path: string): Promise<void> {
  const elections = clients.map((c, i) => new mod.LeaderElection(c, path, { id: `p${i}` }));
  const becameLeader: string[] = [];
  elections.forEach((e, i) => e.onChange((isLeader) => isLeader && becameLeader.push(`p${i}`)));
  await within(Promise.all(elections.map((e) => e.start())), 5_000, "every participant has joined (start resolved)");
  rethrowFailures(elections);
  const live = new Set(elections.keys());
  const expectedLeaders: string[] = [];
  const firstInLine = () => [...live].sort((a, b) => bySequence(nameOf(elections[a]!.nodePath), nameOf(elections[b]!.nodePath)));
  for (;;) {
    const line = firstInLine();
    if (expectedLeaders[expectedLeaders.length - 1] !== `p${line[0]}`) expectedLeaders.push(`p${line[0]}`);
    const order = line.map((i) => `p${i}`).join(" ");
    await settles(
      () => {
        rethrowFailures(line.map((i) => elections[i]!));
        return { actual: line.filter((i) => elections[i]!.isLeader).map((i) => `p${i}`), expected: [`p${line[0]}`] };
      },
      `participants in line ${order}: exactly one leader, the first in line`,
    );
    await settles(
      () => ({
        actual: Object.fromEntries(line.map((i) => [`p${i}`, watchedBy(server, clients[i]!)])),
        expected: Object.fromEntries(line.map((i, k) => [`p${i}`, k === 0 ? [] : [elections[line[k - 1]!]!.nodePath!]])),
      }),
      `participants in line ${order}: each one watches only its predecessor (a participant that left is not always the leader: look again)`,
    );
    assert.deepEqual(becameLeader, expectedLeaders, `leadership went only to whoever was first in line, in turn (line now: ${order})`);
    if (line.length === 1) break;
    const leaving = lab.random.pick(line);
    live.delete(leaving);
    if (lab.random.chance(0.5)) await elections[leaving]!.close();
    else await clients[leaving]!.close(); // the session ends: its ephemeral node goes
  }
  for (const i of live) await elections[i]!.close();
}

/** The double barrier's rounds: everyone but one enters, nobody passes; the last arrives, all pass; same to leave. */
async function barrierRound(lab: CheckContext, mod: BarrierModule, clients: readonly ZooKeeperClient[], path: string, round: string): Promise<void> {
  const n = clients.length;
  const barriers = clients.map((c, i) => new mod.DoubleBarrier(c, path, n, { id: `p${i}` }));
  for (const gate of ["enter", "leave"] as const) {
    const last = lab.random.int(0, n - 1);
    const errors: unknown[] = [];
    const passed = new Set<number>();
    const go = async (i: number) => {
      try {
        await barriers[i]![gate]();
        passed.add(i);
      } catch (error) {
        errors.push(error);
      }
    };
    const early = barriers.map((_, i) => i).filter((i) => i !== last);
    const running = early.map(async (i) => {
      await sleep(lab.random.int(0, 30));
      await go(i);
    });
    await sleep(300);
    if (errors.length > 0) throw errors[0];
    assert.deepEqual(
      [...passed].map((i) => `p${i}`),
      [],
      gate === "enter" ? `${round}: nobody gets through enter() before all ${n} have arrived (p${last} has not)` : `${round}: nobody gets through leave() before all ${n} have left (p${last} has not)`,
    );
    running.push(go(last));
    await within(Promise.all(running), 4_000, () => `${round}: once p${last} ${gate === "enter" ? "arrives" : "leaves too"}, all ${n} get through ${gate}() (through so far: ${[...passed].map((i) => `p${i}`).join(" ")})`);
    if (errors.length > 0) throw errors[0];
  }
}

export default defineChecks(8, {
  "8.1": async (lab) => {
    const mod = await lab.load<ElectionModule>("leader-election.ts");
    const server = await serverFor(lab);
    const admin = await clientFor(lab, server.connectString);
    const alone = new mod.LeaderElection(admin, "/election/alone", { id: "alone" });
    await within(alone.start(), 3_000, "start() resolves");
    rethrowFailures([alone]);
    assert.equal(alone.isLeader, true, "the only participant leads");
    await alone.close();

    // Eight participants, leaving one by one.
    const clients = await Promise.all(Array.from({ length: 8 }, () => clientFor(lab, server.connectString)));
    await electionScenario(lab, mod, clients, server, "/election/many");

    // Five participants losing requests on the way (reads are retried: retry() uses your 8.4 delays).
    await admin.create("/election/lossy", "");
    const flaky = await Promise.all(
      Array.from({ length: 5 }, async () =>
        lossy(await clientFor(lab, server.connectString), [
          { method: "getChildren", at: "beforeApply", times: 2 },
          { method: "getData", at: "beforeApply" },
        ]),
      ),
    );
    await electionScenario(lab, mod, flaky, server, "/election/lossy");
    assert.ok(flaky.every((c) => c.injected > 0), "every participant met an injected connection loss");
  },

  "8.2": async (lab) => {
    const { Queue } = await lab.load<QueueModule>("queue.ts");
    const server = await serverFor(lab);
    const admin = await clientFor(lab, server.connectString);
    const solo = new Queue(admin, "/queue/solo");
    for (const item of ["a", "b", "c"]) await solo.put(item);
    const polled: Array<string | null> = [];
    for (let i = 0; i < 4; i++) polled.push((await solo.poll())?.toString() ?? null);
    assert.deepEqual(polled, ["a", "b", "c", null], "poll takes the oldest item first, and null from an empty queue");
    const waiting = solo.take(3_000);
    await sleep(50);
    await solo.put("d");
    assert.equal((await waiting).toString(), "d", "take waits for the next item");

    // Three producers, five consumers racing for every item.
    const put = 30;
    const producers = await Promise.all(Array.from({ length: 3 }, () => clientFor(lab, server.connectString)));
    const consumers = await Promise.all(Array.from({ length: 5 }, () => clientFor(lab, server.connectString)));
    const takenBy = await race(lab, Queue, "/queue/busy", producers, consumers, put);
    for (const [consumer, items] of takenBy) {
      for (let p = 0; p < producers.length; p++) {
        const mine = items.filter((item) => item.startsWith(`p${p}-`)).map((item) => Number(item.split("-")[1]));
        assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `consumer ${consumer} took producer p${p}'s items out of order: the lowest sequence number goes first`);
      }
    }

    // The same with consumers that lose requests and — the hard case — the replies of their transactions.
    const lossyConsumers = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const at = i === 0 ? "beforeApply" : "afterApply";
        const client = losingCommits(await clientFor(lab, server.connectString), 2, at);
        const faults: Fault[] = [
          { method: "delete", at, times: 2, delayMs: 20 },
          { method: "getData", at: "beforeApply" },
          { method: "getChildren", at: "beforeApply" },
        ];
        return { client, faulty: lossy(client, faults) };
      }),
    );
    await race(lab, Queue, "/queue/lossy", producers.slice(0, 1), lossyConsumers.map((c) => c.faulty), 20);
    assert.ok(lossyConsumers.some((c) => c.client.lostCommits + c.faulty.injected > 0), "the injected losses happened");
    assert.deepEqual(await admin.getChildren("/queue/lossy"), [], "nothing is left in the queue: no item, no claim");
  },

  "8.3": async (lab) => {
    const mod = await lab.load<BarrierModule>("barrier.ts");
    const server = await serverFor(lab);
    const admin = await clientFor(lab, server.connectString);
    const clients = await Promise.all(Array.from({ length: 5 }, () => clientFor(lab, server.connectString)));
    await barrierRound(lab, mod, clients, "/barrier/b", "first round");
    assert.deepEqual(await admin.getChildren("/barrier/b"), [], "after everyone left, nothing is left under the barrier (not even ready)");
    await barrierRound(lab, mod, clients, "/barrier/b", "second round on the same path");

    await admin.create("/barrier/lossy", "");
    const flaky = clients.map((c) =>
      lossy(c, [
        { method: "create", at: "afterApply" },
        { method: "getChildren", at: "beforeApply", times: 2 },
        { method: "exists", at: "beforeApply" },
        { method: "getData", at: "beforeApply" },
      ]),
    );
    await barrierRound(lab, mod, flaky, "/barrier/lossy", "a round with connection losses");
    assert.deepEqual(await admin.getChildren("/barrier/lossy"), [], "after the lossy round nothing is left under the barrier");
  },

  "8.4": async (lab) => {
    const mod = await lab.load<RetryModule>("retry.ts");
    const policy = (over: Partial<RetryPolicy>): RetryPolicy => ({ ...defaultRetryPolicy, ...over });
    const none = policy({ delayMsInitial: 100, delayMsMax: 1_000, multiplier: 2, jitter: "none" });
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => mod.retryDelayMs(none, n)), [100, 200, 400, 800, 1_000, 1_000], "no jitter: 100 × 2^n, capped at 1000");
    let draws = 0;
    const counting = (value: number) => () => (draws++, value);
    assert.equal(mod.retryDelayMs({ ...none, random: counting(0.5) }, 1), 200, "no jitter: exactly the delay");
    assert.equal(draws, 0, "no jitter: no random number is drawn");
    assert.equal(mod.retryDelayMs({ ...none, jitter: "equal", random: counting(0) }, 2), 200, "equal jitter with random 0: half the delay");
    assert.equal(mod.retryDelayMs({ ...none, jitter: "equal", random: counting(0.5) }, 2), 300, "equal jitter with random 0.5: three quarters");
    assert.equal(mod.retryDelayMs({ ...none, jitter: "equal", random: counting(0.5) }, 9), 750, "equal jitter on a capped delay: between 500 and 1000");
    assert.equal(draws, 3, "equal jitter: one random number per delay");

    for (let n = 0; n < 2_000; n++) {
      const delayMsInitial = lab.random.int(1, 500);
      const p = policy({
        delayMsInitial,
        delayMsMax: delayMsInitial * lab.random.int(1, 100),
        multiplier: lab.random.pick([1, 1.5, 2, 3, 4]),
        jitter: lab.random.chance(0.5) ? "equal" : "none",
      });
      const retry = lab.random.int(0, 30);
      const seed = lab.random.int(0, 2 ** 31);
      const expected = referenceRetryDelayMs({ ...p, random: seededRandom(seed).next }, retry);
      const actual = mod.retryDelayMs({ ...p, random: seededRandom(seed).next }, retry);
      const close = Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
      assert.ok(close, `retryDelayMs(${JSON.stringify({ delayMsInitial: p.delayMsInitial, delayMsMax: p.delayMsMax, multiplier: p.multiplier, jitter: p.jitter })}, ${retry}) = ${actual}, the reference says ${expected} (seed ${lab.random.seed})`);
    }

    // retry() with your delays: which errors it retries, and how long it waits in between.
    const run = async (errors: unknown[], over: Partial<RetryPolicy> = {}) => {
      const slept: number[] = [];
      let calls = 0;
      const result = await mod
        .retry(
          async () => {
            const error = errors[calls++];
            if (error !== undefined) throw error;
            return "done";
          },
          { jitter: "none", sleep: async (ms) => void slept.push(ms), ...over },
        )
        .catch((error: unknown) => {
          if (error instanceof ZooKeeperError) return error.name;
          throw error;
        });
      return { result, slept, calls };
    };
    assert.deepEqual(await run([new ConnectionLossError(), new OperationTimeoutError(), new RequestTimeoutError()]), { result: "done", slept: [100, 200, 400], calls: 4 }, "connection loss and timeouts are retried, with growing delays");
    assert.deepEqual(await run([new SessionExpiredError()]), { result: "SessionExpiredError", slept: [], calls: 1 }, "an expired session is not retried: it does not come back by waiting");
    assert.deepEqual(await run([new NoNodeError()]), { result: "NoNodeError", slept: [], calls: 1 }, "an answer from the server (NoNode) is not retried");
    assert.deepEqual(await run(Array.from({ length: 5 }, () => new ConnectionLossError()), { retriesMax: 3 }), { result: "ConnectionLossError", slept: [100, 200, 400], calls: 4 }, "retriesMax bounds the retries");
    const jitterSeed = lab.random.int(0, 2 ** 31);
    const jittered = await run([new ConnectionLossError(), new ConnectionLossError()], { jitter: "equal", random: seededRandom(jitterSeed).next });
    const referenceRandom = seededRandom(jitterSeed).next;
    assert.deepEqual(jittered.slept, [0, 1].map((n) => referenceRetryDelayMs({ ...defaultRetryPolicy, random: referenceRandom }, n)), "retry() waits the jittered delays");

    // And against a server: a read that loses its first three requests.
    const server = await serverFor(lab);
    const client = await clientFor(lab, server.connectString);
    await client.create("/x", "value");
    const flaky = withConnectionLoss(client, [{ method: "getData", at: "beforeApply", times: 3 }]);
    const slept: number[] = [];
    const { data } = await mod.retry(() => flaky.getData("/x"), { jitter: "none", delayMsInitial: 10, sleep: async (ms) => void slept.push(ms) });
    assert.equal(data?.toString(), "value", "the read succeeds after three lost requests");
    assert.deepEqual(slept, [10, 20, 40], "…waiting 10, 20 and 40 ms in between");
  },
});

/**
 * Producers put `count` items ("p<producer>-<index>", each producer in order); consumers poll until every item is
 * taken. Every item must be taken exactly once. Returns the items each consumer took, in the order it took them.
 */
async function race(
  lab: CheckContext,
  Queue: QueueModule["Queue"],
  path: string,
  producers: readonly ZooKeeperClient[],
  consumers: readonly ZooKeeperClient[],
  count: number,
): Promise<Map<number, string[]>> {
  const items = Array.from({ length: count }, (_, i) => `p${i % producers.length}-${Math.floor(i / producers.length)}`);
  const takenBy = new Map<number, string[]>(consumers.map((_, i) => [i, []]));
  let taken = 0;
  let produced = false;
  const putting = producers.map(async (client, p) => {
    const queue = new Queue(client, path);
    for (const item of items.filter((it) => it.startsWith(`p${p}-`))) {
      await queue.put(item);
      await sleep(lab.random.int(0, 3));
    }
  });
  const deadline = Date.now() + 5_000;
  const consuming = consumers.map(async (client, c) => {
    const queue = new Queue(client, path);
    while (taken < count && Date.now() < deadline) {
      const item = await queue.poll();
      if (item === null) {
        if (produced && (await queue.size()) === 0) break; // all put, none left: nothing more will come
        await sleep(lab.random.int(1, 5));
        continue;
      }
      taken++;
      takenBy.get(c)!.push(item.toString());
    }
  });
  await Promise.all(putting);
  produced = true;
  await Promise.all(consuming);
  const all = [...takenBy.values()].flat();
  const counts = new Map<string, number>();
  for (const item of all) counts.set(item, (counts.get(item) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([item]) => item);
  const never = items.filter((item) => !counts.has(item));
  assert.deepEqual({ takenTwice: twice, neverTaken: never }, { takenTwice: [], neverTaken: [] }, `${consumers.length} consumers on ${path}: every item is taken exactly once`);
  return takenBy;
}
