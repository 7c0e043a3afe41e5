/**
 * The linearizability checker (src/sim/linearizability.ts; issue 5). Hand-written histories first — each one a
 * situation a crash test can produce (Herlihy & Wing 1990 for the definition; ZooKeeper's Programmer's Guide,
 * "Consistency Guarantees", for what ZooKeeper promises) — then property tests on generated histories: running a
 * sequential znode model with random overlapping latencies and unknown outcomes always gives a linearizable history,
 * and corrupting one read of it (a value never written, or one already overwritten) never does.
 */
import { describe, expect, it } from "vitest";
import {
  applyToZnode,
  checkClientOrder,
  checkLinearizable,
  type CheckResult,
  type Operation,
  type Outcome,
  type ZnodeCall,
  type ZnodeState,
} from "../../src/sim/linearizability.ts";
import { seedFromEnv, seededRandom, type Random } from "../../src/sim/random.ts";

const seed = seedFromEnv();
console.log(`linearizability: seed ${seed} (rerun with SEED=${seed})`);

// Builders: op(client, call, invokedAt, completedAt | "unknown", reply)
const read = (): ZnodeCall => ({ kind: "read" });
const create = (data: string): ZnodeCall => ({ kind: "create", data });
const write = (data: string): ZnodeCall => ({ kind: "write", data });
const cas = (data: string, expectedVersion: number): ZnodeCall => ({ kind: "cas", data, expectedVersion });
const ok = (completedAt: number, reply: { data?: string; version?: number } = {}): Outcome => ({ status: "ok", completedAt, ...reply });
const failed = (completedAt: number, error: "NoNode" | "NodeExists" | "BadVersion"): Outcome => ({ status: "failed", completedAt, error });
const unknown: Outcome = { status: "unknown" };
const op = (client: number, call: ZnodeCall, invokedAt: number, outcome: Outcome, key = "/k"): Operation => ({ client, key, call, invokedAt, outcome });

function expectNotLinearizable(result: CheckResult, culprits: readonly number[]): string {
  if (result.verdict !== "not linearizable") throw new Error(`expected "not linearizable", got ${JSON.stringify(result)}`);
  expect([...result.culprits].sort((a, b) => a - b)).toEqual(culprits);
  return result.explanation;
}

describe("hand-written histories", () => {
  it("sequential create, write, read: linearizable", () => {
    const h = [op(1, create("a"), 0, ok(5)), op(1, write("b"), 6, ok(10, { version: 1 })), op(2, read(), 11, ok(15, { data: "b", version: 1 }))];
    expect(checkLinearizable(h)).toMatchObject({ ok: true, verdict: "linearizable", keys: 1, operations: 3 });
  });

  it("a read concurrent with a write may see either value", () => {
    const before = [op(1, create("a"), 0, ok(5)), op(1, write("b"), 10, ok(20)), op(2, read(), 12, ok(18, { data: "a" }))];
    const after = [op(1, create("a"), 0, ok(5)), op(1, write("b"), 10, ok(20)), op(2, read(), 12, ok(18, { data: "b" }))];
    expect(checkLinearizable(before).ok).toBe(true);
    expect(checkLinearizable(after).ok).toBe(true);
  });

  it("a stale read after a completed write is not linearizable, and the explanation says what the read should have seen", () => {
    const h = [
      op(1, create("a"), 0, ok(5)),
      op(1, write("b"), 6, ok(10)),
      op(3, read(), 7, ok(9, { data: "a" })), // concurrent with the write: fine
      op(2, read(), 20, ok(25, { data: "a" })), // invoked after the write completed: stale
    ];
    // The read alone: the create and the write took effect in their intervals whatever they replied, so by 20 the
    // znode holds "b".
    const text = expectNotLinearizable(checkLinearizable(h), [3]);
    expect(text).toContain("#3 client 2: getData /k → \"a\" (invoked at 20, completed at 25)");
    expect(text).toMatch(/the orders that got furthest left \/k as data "b", version 1, and none of these fits/);
  });

  it("two compare-and-sets from the same version cannot both succeed", () => {
    const h = [
      op(1, create("a"), 0, ok(1)),
      op(1, cas("x", 0), 10, ok(30)),
      op(2, cas("y", 0), 12, ok(28)),
    ];
    expectNotLinearizable(checkLinearizable(h), [1, 2]);
    // One of them failing with BadVersion is the linearizable outcome.
    const fine = [h[0]!, h[1]!, op(2, cas("y", 0), 12, failed(28, "BadVersion"))];
    expect(checkLinearizable(fine).ok).toBe(true);
  });

  it("a failed compare-and-set is an observation: BadVersion when the version must have matched is a violation", () => {
    // Alone: BadVersion needs a node whose version is not 0, and only a create could make one — at version 0.
    const h = [op(1, create("a"), 0, ok(1)), op(2, cas("y", 0), 5, failed(8, "BadVersion"))];
    expectNotLinearizable(checkLinearizable(h), [1]);
  });

  it("a lost acknowledged write (the ack was sent, then a crash forgot it) is not linearizable", () => {
    const h = [
      op(1, create("a"), 0, ok(5)),
      op(1, write("b"), 10, ok(20, { version: 1 })),
      op(2, read(), 100, ok(105, { data: "a", version: 0 })), // after a restart the write is gone
      op(2, write("c"), 110, ok(115, { version: 1 })),
    ];
    const text = expectNotLinearizable(checkLinearizable(h), [2]);
    expect(text).toContain("/k is not linearizable");
  });

  it("an unknown write observed later is fine, even when observed long after the client gave up", () => {
    const h = [
      op(1, create("a"), 0, ok(5)),
      op(1, write("b"), 10, unknown),
      op(2, read(), 12, ok(14, { data: "a", version: 0 })),
      op(2, read(), 500, ok(505, { data: "b", version: 1 })),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it("an unknown write never observed is fine, and so is one that bumped the version unseen", () => {
    const never = [op(1, create("a"), 0, ok(5)), op(1, write("b"), 10, unknown), op(2, read(), 50, ok(55, { data: "a", version: 0 }))];
    expect(checkLinearizable(never).ok).toBe(true);
    const bumped = [
      op(1, create("a"), 0, ok(5)),
      op(1, write("b"), 10, unknown),
      op(2, write("c"), 40, ok(45, { version: 2 })), // version 2: the unknown write happened before it
    ];
    expect(checkLinearizable(bumped).ok).toBe(true);
  });

  it("an unknown write cannot take effect before its invocation", () => {
    const h = [op(1, create("a"), 0, ok(5)), op(2, read(), 10, ok(15, { data: "b" })), op(1, write("b"), 20, unknown)];
    expectNotLinearizable(checkLinearizable(h), [1]);
  });

  it("a never-written value is explained by the read alone", () => {
    const h = [op(1, create("a"), 0, ok(5)), op(2, read(), 10, ok(15, { data: "zzz" }))];
    const text = expectNotLinearizable(checkLinearizable(h), [1]);
    expect(text).toContain("this reply cannot be explained");
  });

  it("create fails if the node exists; a failed create is an observation too", () => {
    const both = [op(1, create("a"), 0, ok(5)), op(2, create("b"), 1, ok(6))];
    expectNotLinearizable(checkLinearizable(both), [0, 1]);
    const oneWins = [op(1, create("a"), 0, ok(5)), op(2, create("b"), 1, failed(6, "NodeExists")), op(3, read(), 7, ok(8, { data: "a", version: 0 }))];
    expect(checkLinearizable(oneWins).ok).toBe(true);
  });

  it("delete resets the version: a create after a delete starts again at 0", () => {
    const h = [
      op(1, create("a"), 0, ok(1)),
      op(1, write("b"), 2, ok(3, { version: 1 })),
      op(1, { kind: "delete", expectedVersion: 1 }, 4, ok(5)),
      op(2, read(), 6, failed(7, "NoNode")),
      op(2, create("c"), 8, ok(9)),
      op(3, cas("d", 0), 10, ok(11, { version: 1 })),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it("keys are independent: a violation on one key is reported with that key", () => {
    const h = [
      op(1, create("a"), 0, ok(5), "/x"),
      op(1, create("a"), 0, ok(5), "/y"),
      op(2, write("b"), 6, ok(8), "/y"),
      op(3, read(), 10, ok(12, { data: "a" }), "/y"),
      op(3, read(), 10, ok(12, { data: "a" }), "/x"),
    ];
    const result = checkLinearizable(h);
    expect(result).toMatchObject({ ok: false, verdict: "not linearizable", key: "/y" });
  });

  it("touching intervals count as concurrent (equal times are ambiguous)", () => {
    const h = [op(1, create("a"), 0, ok(10)), op(2, read(), 10, failed(12, "NoNode"))];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it("initial states: a key may start with data", () => {
    const h = [op(1, read(), 0, ok(1, { data: "seed", version: 3 })), op(1, cas("n", 3), 2, ok(3, { version: 4 }))];
    expect(checkLinearizable(h, { initial: { "/k": { data: "seed", version: 3 } } }).ok).toBe(true);
    expect(checkLinearizable(h).ok).toBe(false);
  });

  it("plain ZooKeeper reads may be stale: reads \"sequential\" accepts a lagging read but not one older than its session's own update", () => {
    // Client 2 reads from a follower that has not applied client 1's write yet.
    const lagging = [op(1, create("a"), 0, ok(5)), op(1, write("b"), 6, ok(10)), op(2, read(), 20, ok(25, { data: "a" }))];
    expect(checkLinearizable(lagging).ok).toBe(false);
    expect(checkLinearizable(lagging, { reads: "sequential" }).ok).toBe(true);
    // Client 1 wrote "a", then another client "b", then client 1 wrote "c": client 1 can never read "a" again.
    const tooOld = [
      op(1, create("a"), 0, ok(5)),
      op(2, write("b"), 10, ok(15)),
      op(1, write("c"), 20, ok(25)),
      op(1, read(), 30, ok(35, { data: "a" })),
    ];
    const result = checkLinearizable(tooOld, { reads: "sequential" });
    const text = expectNotLinearizable(result, [3]);
    expect(text).toContain("may take effect from 20 (its session's last update)");
  });

  it("gives up distinctly when the budget is too small", () => {
    const h = [op(1, create("a"), 0, ok(5)), ...Array.from({ length: 20 }, (_, i) => op(2 + (i % 3), write(`v${i}`), 10 + i, ok(100 + i)))];
    const result = checkLinearizable(h, { statesExploredMax: 10 });
    expect(result).toMatchObject({ ok: false, verdict: "gave up", key: "/k" });
  });

  it("a malformed history is the caller's bug and throws", () => {
    expect(() => checkLinearizable([op(1, read(), 5, ok(4, { data: "a" }))])).toThrow(/history\[0\]: completedAt/);
    expect(() => checkLinearizable([op(1, create("a"), 0, failed(4, "BadVersion"))])).toThrow(/create cannot fail with BadVersion/);
    expect(() => checkLinearizable([op(1, read(), 0, ok(4))])).toThrow(/needs the data/);
  });

  it("checkClientOrder: a session's requests complete in the order issued (FIFO client order)", () => {
    const inOrder = [op(1, write("a"), 0, ok(10)), op(1, write("b"), 1, ok(11)), op(2, read(), 0, ok(3, { data: "a" }))];
    expect(checkClientOrder(inOrder)).toEqual([]);
    const swapped = [op(1, write("a"), 0, ok(10)), op(1, write("b"), 1, ok(5))];
    const violations = checkClientOrder(swapped);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ client: 1, first: 0, second: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Generated histories: the znode model run sequentially, each operation taking effect at a random instant of its
// interval (or, for an unknown outcome, at a random instant after its invocation, or never).

interface GenOptions {
  readonly clients: number;
  readonly operations: number;
  readonly keys: readonly string[];
  readonly unknownProbability: number;
  readonly deleteProbability: number;
  /** Reads report the Stat's version (they do in ZooKeeper; a test may not record it). */
  readonly readsReportVersion: boolean;
  /** Latency of one operation, [min, max] time units. */
  readonly latency: readonly [number, number];
}

type Pending =
  | { readonly at: number; readonly kind: "invoke"; readonly client: number }
  | { readonly at: number; readonly kind: "effect"; readonly index: number }
  | { readonly at: number; readonly kind: "complete"; readonly index: number };

function generateHistory(random: Random, g: GenOptions): Operation[] {
  const history: Operation[] = [];
  const replies: (ReturnType<typeof applyToZnode<string>>["reply"] | null)[] = [];
  const latency: number[] = [];
  const state = new Map<string, ZnodeState>(g.keys.map((k) => [k, null]));
  const lastVersionSeen = new Map<string, number>();
  const pending: Pending[] = [];
  for (let c = 0; c < g.clients; c++) pending.push({ at: random.int(0, 5), kind: "invoke", client: c });
  let written = 0;
  while (pending.length > 0) {
    let first = 0;
    for (let i = 1; i < pending.length; i++) if (pending[i]!.at < pending[first]!.at) first = i;
    const ev = pending.splice(first, 1)[0]!;
    if (ev.kind === "invoke") {
      if (history.length >= g.operations) continue;
      const key = random.pick(g.keys);
      const data = `w${written++}`;
      const roll = random.next();
      const known = lastVersionSeen.get(key) ?? 0;
      const call: ZnodeCall =
        roll < 0.4 ? read()
        : roll < 0.6 ? write(data)
        : roll < 0.85 ? cas(data, Math.max(0, known + random.int(-1, 1)))
        : roll < 1 - g.deleteProbability ? create(data)
        : { kind: "delete", ...(random.chance(0.5) ? { expectedVersion: known } : {}) };
      const index = history.length;
      const lost = random.chance(g.unknownProbability);
      history.push({ client: ev.client, key, call, invokedAt: ev.at, outcome: lost ? unknown : ok(0) });
      replies.push(null);
      const took = random.int(g.latency[0], g.latency[1]);
      latency.push(took);
      if (lost) {
        // It may take effect long after the client stopped waiting, or never.
        if (random.chance(0.5)) pending.push({ at: ev.at + random.next() * took * 4, kind: "effect", index });
        pending.push({ at: ev.at + took, kind: "invoke", client: ev.client });
      } else {
        pending.push({ at: ev.at + random.next() * took, kind: "effect", index });
        pending.push({ at: ev.at + took, kind: "complete", index });
      }
    } else if (ev.kind === "effect") {
      const o = history[ev.index]!;
      const { reply, next } = applyToZnode(state.get(o.key)!, o.call);
      state.set(o.key, next);
      replies[ev.index] = reply;
    } else {
      const o = history[ev.index]!;
      const reply = replies[ev.index]!;
      const completedAt = o.invokedAt + latency[ev.index]!;
      let outcome: Outcome;
      if (!reply.ok) outcome = failed(completedAt, reply.error);
      else if (o.call.kind === "read") outcome = ok(completedAt, { data: reply.data!, ...(g.readsReportVersion ? { version: reply.version! } : {}) });
      else if ((o.call.kind === "write" || o.call.kind === "cas") && random.chance(0.5)) outcome = ok(completedAt, { version: reply.version! });
      else outcome = ok(completedAt);
      if (reply.ok && reply.version !== undefined) lastVersionSeen.set(o.key, reply.version);
      history[ev.index] = { ...o, outcome };
      pending.push({ at: completedAt + random.int(0, 3), kind: "invoke", client: o.client as number });
    }
  }
  return history;
}

const completedAt = (o: Operation) => (o.outcome.status === "unknown" ? Infinity : o.outcome.completedAt);
const isOkRead = (o: Operation) => o.call.kind === "read" && o.outcome.status === "ok";

/** A definite ok read now returns a value no one wrote. */
function corruptNeverWritten(random: Random, h: readonly Operation[]): Operation[] | null {
  const reads = h.map((o, i) => i).filter((i) => isOkRead(h[i]!));
  if (reads.length === 0) return null;
  const i = random.pick(reads);
  const copy = [...h];
  copy[i] = { ...h[i]!, outcome: { ...(h[i]!.outcome as Extract<Outcome, { status: "ok" }>), data: "never-written" } };
  return copy;
}

/**
 * A definite ok read now returns a value certainly overwritten before it began: written by a definite ok call W,
 * followed (strictly after W completed) by a definite successful update U that completed before the read began.
 * Data values are unique, so nothing can bring W's value back.
 */
function corruptOverwritten(random: Random, h: readonly Operation[]): Operation[] | null {
  const writers = h.map((o, i) => i).filter((i) => h[i]!.outcome.status === "ok" && h[i]!.call.kind !== "read" && h[i]!.call.kind !== "delete");
  const updates = h.map((o, i) => i).filter((i) => h[i]!.outcome.status === "ok" && h[i]!.call.kind !== "read");
  const reads = h.map((o, i) => i).filter((i) => isOkRead(h[i]!));
  for (let attempt = 0; attempt < 50 && reads.length > 0 && writers.length > 0; attempt++) {
    const r = h[random.pick(reads)]!;
    const w = random.pick(writers);
    const W = h[w]!;
    if (W.key !== r.key || completedAt(W) >= r.invokedAt) continue;
    const overwritten = updates.some((u) => h[u]!.key === r.key && h[u]!.invokedAt > completedAt(W) && completedAt(h[u]!) < r.invokedAt);
    if (!overwritten) continue;
    const copy = [...h];
    const ri = h.indexOf(r);
    copy[ri] = { ...r, outcome: { ...(r.outcome as Extract<Outcome, { status: "ok" }>), data: (W.call as { data: string }).data } };
    return copy;
  }
  return null;
}

describe(`generated histories (seed ${seed})`, () => {
  const runs = 40;
  const options = (random: Random): GenOptions => ({
    clients: random.int(2, 5),
    operations: random.int(50, 300),
    keys: random.chance(0.5) ? ["/a"] : ["/a", "/b"],
    unknownProbability: random.pick([0, 0.02, 0.05]),
    deleteProbability: random.pick([0, 0.05]),
    readsReportVersion: random.chance(0.5),
    latency: [1, random.int(2, 40)],
  });

  it(`${runs} histories of a sequential model with overlapping latencies and unknowns are linearizable`, () => {
    for (let run = 0; run < runs; run++) {
      const random = seededRandom(seed + run);
      const h = generateHistory(random, options(random));
      const result = checkLinearizable(h);
      expect(result, `SEED=${seed} run ${run}: ${"explanation" in result ? result.explanation : ""}`).toMatchObject({ ok: true });
    }
  });

  it(`the same histories with one read corrupted (never written, or already overwritten) are rejected`, () => {
    let overwrittenCases = 0;
    for (let run = 0; run < runs; run++) {
      const random = seededRandom(seed + run);
      const h = generateHistory(random, options(random));
      const never = corruptNeverWritten(random, h);
      if (never !== null) {
        const result = checkLinearizable(never);
        expect(result.verdict, `SEED=${seed} run ${run} (never written)`).toBe("not linearizable");
      }
      const old = corruptOverwritten(random, h);
      if (old !== null) {
        overwrittenCases++;
        const result = checkLinearizable(old);
        expect(result.verdict, `SEED=${seed} run ${run} (overwritten)`).toBe("not linearizable");
      }
    }
    expect(overwrittenCases).toBeGreaterThan(runs / 2);
  });

  it("5 clients × 2,000 operations on one key with a few dozen unknowns: checked, and a corruption found, in seconds", () => {
    const random = seededRandom(seed);
    const g: GenOptions = { clients: 5, operations: 2_000, keys: ["/a"], unknownProbability: 0.015, deleteProbability: 0, readsReportVersion: true, latency: [1, 30] };
    const h = generateHistory(random, g);
    const unknowns = h.filter((o) => o.outcome.status === "unknown").length;
    let started = performance.now();
    const result = checkLinearizable(h);
    const checkMs = performance.now() - started;
    expect(result, "explanation" in result ? result.explanation : "").toMatchObject({ ok: true });
    const bad = corruptOverwritten(random, h)!;
    started = performance.now();
    const rejected = checkLinearizable(bad);
    const rejectMs = performance.now() - started;
    console.log(
      `linearizability: 5 clients × ${h.length} ops, ${unknowns} unknown: linearizable in ${checkMs.toFixed(0)} ms ` +
        `(${result.ok ? result.statesExplored : "?"} states); one overwritten read found and explained in ${rejectMs.toFixed(0)} ms`,
    );
    if (rejected.verdict === "not linearizable") console.log(rejected.explanation);
    expect(rejected.verdict).toBe("not linearizable");
  }, 30_000);
});
