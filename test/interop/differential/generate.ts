/**
 * Random scripts for the differential test, from a seed (the same seed always gives the same script).
 *
 * The generator models only what it must to keep a script meaningful: which slots have a live connection, which
 * have a session without a connection (after a drop, a failed addauth or an unknown opcode: such a session is
 * re-attached within a few steps, long before it could expire, so that expiry never races the script), and which
 * have no session. Everything else — which nodes exist, versions, ACLs — is left to chance over a small set of
 * paths, so that collisions (NODEEXISTS, NOTEMPTY, BADVERSION, NOAUTH, ...) are frequent.
 *
 * Deliberately absent: a top-level `check` (opcode 13). Apache 3.8.0 logs a txn for it and never replies (a known
 * bug); we answer UNIMPLEMENTED instead, by design (reference §3, "Trap"). `check` is only sent inside a multi.
 */
import type { AclChoice, CreateCode, MultiSub, PathRef, RelZxid, Req, Step, WatchLists } from "./ops.ts";

/** mulberry32: a small, fast, seedable PRNG. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    const total = table.reduce((sum, [w]) => sum + w, 0);
    let x = this.next() * total;
    for (const [w, v] of table) {
      x -= w;
      if (x < 0) return v;
    }
    return table[table.length - 1]![1];
  }
}

export const root = "/d";

/** Shallow paths weigh more, so that their parents usually exist and deeper creates succeed too. */
const validPaths = [
  [3, "/d"], [6, "/d/a"], [6, "/d/b"], [4, "/d/c"], [4, "/d/a/x"], [3, "/d/a/y"], [3, "/d/b/x"], [2, "/d/a/x/q"], [2, "/d/\u00e4"],
] as const;
const validPathList = validPaths.map(([, p]) => p);
const specialPaths = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "/missing/child"] as const;
const invalidPaths = [
  "", "d", "/d/", "/d//a", "/d/.", "/d/..", "/d/./a", "/d/a/", "/d/\u0000x", "/d/\u0001", "/d/\ufff5", null,
] as const;

const aclWeights: ReadonlyArray<readonly [number, AclChoice]> = [
  [45, "open"], [4, "read"], [4, "creator"], [4, "digestU1"], [3, "digestU1ReadWorld"], [3, "digestU2NoAdmin"],
  [3, "ipLocal"], [2, "ipOther"], [2, "ipCidr"], [2, "createOnly"], [1, "noPerms"], [1, "duplicate"], [1, "empty"],
  [1, "null"], [1, "badScheme"], [1, "worldNobody"], [1, "superId"], [1, "digestMalformed"], [1, "ipBad"],
];

export interface GenerateOptions {
  readonly steps: number;
  readonly slots: number;
}

type SlotState = { kind: "none" } | { kind: "live" } | { kind: "detached"; since: number };

export function generateScript(seed: number, options: GenerateOptions): Step[] {
  const rng = new Rng(seed);
  const steps: Step[] = [];
  const slots: SlotState[] = Array.from({ length: options.slots }, () => ({ kind: "none" }));

  const path = (kind: "read" | "write" = "read"): PathRef => {
    const roll = rng.next();
    if (roll < 0.78) return rng.weighted(validPaths);
    if (roll < 0.88) return rng.chance(0.5) ? { ref: "last" } : { ref: "seq", index: rng.int(50) };
    if (roll < 0.93) return rng.pick(specialPaths);
    return kind === "write" && rng.chance(0.5) ? rng.pick(["/d/", "/d/a/", ""]) : rng.pick(invalidPaths);
  };
  const data = (): string | null => rng.weighted([[2, null], [2, ""], [6, "v1"], [4, "hello"], [1, "x".repeat(300)], [1, "\u00fcml\u00e4ut"]]);
  const version = (): number => rng.weighted([[10, -1], [5, 0], [4, 1], [2, 2], [1, 5], [1, -2]]);
  const ttl = (): bigint => rng.weighted([[8, 60_000n], [3, 1_000n], [1, 0n], [1, -5n], [1, 0x10000000000n], [1, 1n]]);
  const createCode = (): CreateCode => rng.weighted([[10, 1], [6, 15], [3, 19], [4, 21]] as const);
  /** Flags that mostly suit the opcode (TTL modes with 21, the others without), now and then not. */
  const flagsFor = (code: CreateCode): number =>
    code === 21
      ? rng.weighted([[8, 5], [5, 6], [1, 0], [1, 1], [1, 4], [0.3, 9]])
      : rng.weighted([[30, 0], [18, 1], [10, 2], [10, 3], [8, 4], [1, 5], [1, 6], [1, 7], [1, -1], [1, 100]]);
  const createSpec = (code: CreateCode) => ({ path: path("write"), data: data(), acl: rng.weighted(aclWeights), flags: flagsFor(code), ttl: ttl() });
  /**
   * A top-level create. Never opcode 21 with a non-TTL mode and a negative ttl: when such a create would succeed,
   * Apache 3.8.0 throws while applying it and shuts down (we answer BADARGUMENTS; the scenarios cover the cases
   * where it fails earlier, identically on both servers).
   */
  const topCreate = (): Extract<Req, { op: "create" }> => {
    const code = createCode();
    const spec = { op: "create" as const, code, ...createSpec(code) };
    if (spec.code === 21 && spec.flags !== 5 && spec.flags !== 6 && spec.ttl < 0n) return { ...spec, ttl: 60_000n };
    return spec;
  };

  const multiSub = (): MultiSub => {
    const kind = rng.weighted([[8, "create"], [4, "delete"], [4, "setData"], [3, "check"], [1, "read"]] as const);
    switch (kind) {
      case "create": {
        const code = createCode();
        return { type: code, ...createSpec(code) };
      }
      case "delete":
        return { type: 2, path: path("write"), version: version() };
      case "setData":
        return { type: 5, path: path("write"), data: data(), version: version() };
      case "check":
        return { type: 13, path: path("write"), version: version() };
      case "read":
        return { type: rng.pick([4, 8] as const), path: path() };
    }
  };

  const watchList = (): string[] => Array.from({ length: rng.int(3) }, () => rng.pick([...validPathList, "/", "/missing"]));
  const watchLists = (): WatchLists => ({
    data: watchList(),
    exist: watchList(),
    child: watchList(),
    persistent: rng.chance(0.3) ? watchList() : [],
    recursive: rng.chance(0.3) ? watchList() : [],
  });

  const request = (): Req => {
    const kind = rng.weighted([
      [26, "create"], [12, "delete"], [10, "setData"], [4, "setACL"], [8, "exists"], [8, "getData"], [6, "getChildren"],
      [4, "getChildren2"], [3, "getACL"], [6, "multi"], [2, "multiRead"], [1, "sync"], [2, "getAllChildrenNumber"],
      [2, "getEphemerals"], [1, "whoAmI"], [3, "addWatch"], [2, "checkWatches"], [2, "removeWatches"], [3, "auth"],
      [1, "ping"], [0.3, "reconfig"],
    ] as const);
    switch (kind) {
      case "create":
        return topCreate();
      case "delete":
        return { op: "delete", path: path("write"), version: version() };
      case "setData":
        return { op: "setData", path: path("write"), data: data(), version: version() };
      case "setACL":
        return { op: "setACL", path: path("write"), acl: rng.weighted(aclWeights), version: version() };
      case "exists":
      case "getData":
      case "getChildren":
      case "getChildren2":
        return { op: kind, path: path(), watch: rng.chance(0.6) };
      case "getACL":
      case "sync":
      case "getAllChildrenNumber":
        return { op: kind, path: path() };
      case "getEphemerals":
        return { op: kind, path: rng.pick(["/", "/d", "/d/a", "", "/d/b/", "/zz"]) };
      case "multi":
        return { op: "multi", ops: Array.from({ length: rng.weighted([[1, 0], [6, 1], [6, 2], [4, 3], [2, 4]]) }, multiSub) };
      case "multiRead":
        return {
          op: "multiRead",
          ops: Array.from({ length: 1 + rng.int(3) }, (): MultiSub =>
            rng.chance(0.95) ? { type: rng.pick([4, 8] as const), path: path() } : multiSub(),
          ),
        };
      case "whoAmI":
      case "ping":
      case "reconfig":
        return { op: kind };
      case "addWatch":
        // Never a null path: Apache half-registers it and throws on the next one (see scenarios.ts).
        return { op: "addWatch", path: path() ?? "/d", mode: rng.weighted([[5, 0], [5, 1], [0.3, 2]]) };
      case "checkWatches":
      case "removeWatches":
        return { op: kind, path: path(), type: rng.weighted([[4, 1], [4, 2], [4, 3], [0.3, 0]]) };
      case "auth":
        return rng.weighted<Req>([
          [4, { op: "auth", scheme: "digest", auth: "u1:p1" }],
          [3, { op: "auth", scheme: "digest", auth: "u2:p2" }],
          [1, { op: "auth", scheme: "digest", auth: "super:superpw" }],
          [1, { op: "auth", scheme: "ip", auth: "whatever" }],
          [0.4, { op: "auth", scheme: "foo", auth: "bar" }],
          [0.2, { op: "auth", scheme: "world", auth: "anyone" }],
        ]);
    }
  };

  const emit = (step: Step) => steps.push(step);
  const openSlot = (slot: number) => {
    emit({
      kind: "open",
      slot,
      timeoutMs: rng.weighted([[1, 1], [1, 3_000], [4, 10_000], [1, 30_000], [1, 1_000_000], [0.3, 0], [0.3, -10]]),
      readOnlyByte: rng.chance(0.7),
      lastZxid: rng.weighted([[8, "zero"], [3, "seen"], [0.5, "ahead"]] as const),
    });
    const last = steps[steps.length - 1] as Extract<Step, { kind: "open" }>;
    slots[slot] = last.lastZxid === "ahead" ? { kind: "none" } : { kind: "live" };
  };
  const reattach = (slot: number, password: "right" | "wrong") => {
    const withWatches = rng.chance(0.7);
    emit({
      kind: "reattach",
      slot,
      password,
      readOnlyByte: rng.chance(0.7),
      setWatches: withWatches
        ? { op: "setWatches", code: rng.chance(0.7) ? 101 : 105, rel: rng.weighted<RelZxid>([[5, "last"], [2, "zero"], [3, { minus: 1 + rng.int(6) }]]), watches: watchLists() }
        : null,
    });
    slots[slot] = password === "right" ? { kind: "live" } : { kind: "detached", since: steps.length };
  };

  // Every script starts the same way: two sessions and the root of the playground.
  openSlotFixed(0);
  openSlotFixed(1);
  emit({ kind: "request", slot: 0, req: { op: "create", code: 1, path: root, data: "root", acl: "open", flags: 0, ttl: -1n } });

  function openSlotFixed(slot: number) {
    emit({ kind: "open", slot, timeoutMs: 10_000, readOnlyByte: true, lastZxid: "zero" });
    slots[slot] = { kind: "live" };
  }

  while (steps.length < options.steps) {
    // A detached session is re-attached before it can come near its timeout.
    const overdue = slots.findIndex((s) => s.kind === "detached" && steps.length - s.since > 6);
    if (overdue >= 0) {
      reattach(overdue, "right");
      continue;
    }
    const slot = rng.int(options.slots);
    const state = slots[slot]!;
    if (state.kind === "none") {
      openSlot(slot);
      continue;
    }
    if (state.kind === "detached") {
      reattach(slot, rng.chance(0.9) ? "right" : "wrong");
      continue;
    }
    const roll = rng.next();
    if (roll < 0.015) {
      emit({ kind: "request", slot, req: { op: "closeSession" } });
      slots[slot] = { kind: "none" };
    } else if (roll < 0.025) {
      emit({ kind: "drop", slot });
      slots[slot] = { kind: "detached", since: steps.length };
    } else if (roll < 0.045) {
      // A reconnect while the old socket is still open: the server must close the old one.
      reattach(slot, rng.chance(0.9) ? "right" : "wrong");
    } else if (roll < 0.075) {
      // Requests in flight together (no auth, closeSession or setWatches: those change the connection itself). No
      // setACL either: while one is in flight Apache checks later writes against the ACL it replaces (see
      // Preparer, setACL), and whether it is still in flight depends on Apache's threads — ours on its log.
      const reqs: Req[] = [];
      while (reqs.length < 2 + rng.int(5)) {
        const req = request();
        if (req.op !== "auth" && req.op !== "ping" && req.op !== "setACL") reqs.push(req);
      }
      emit({ kind: "pipeline", slot, reqs });
    } else if (roll < 0.079) {
      emit({ kind: "request", slot, req: { op: "raw", code: rng.pick([0, 10, 23, 99, 102, 108, 200, -5, -9]), body: "" } });
      slots[slot] = { kind: "detached", since: steps.length };
    } else {
      const req = request();
      emit({ kind: "request", slot, req });
      if (req.op === "auth" && (req.scheme === "foo" || req.scheme === "world")) slots[slot] = { kind: "detached", since: steps.length };
    }
  }
  // Every script ends by closing every session, so that the last ephemerals' deletions are compared too.
  for (let slot = 0; slot < options.slots; slot++) {
    if (slots[slot]!.kind === "detached") reattach(slot, "right");
    if (slots[slot]!.kind === "live") emit({ kind: "request", slot, req: { op: "closeSession" } });
  }
  return steps;
}
