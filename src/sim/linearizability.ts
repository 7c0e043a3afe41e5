/**
 * A linearizability checker for histories recorded against a real ensemble (issue 5): clients read, write and
 * compare-and-set a few znodes while servers are killed and restarted; afterwards the checker decides whether every
 * operation can be given one instant, between its invocation and its completion, at which it took effect — one
 * order of all operations that respects real time and the znode's rules (Herlihy & Wing 1990).
 *
 * The model: a znode is a register holding `{ data, version }`, or no node at all (`null`), with ZooKeeper's rules
 * (reference: the Programmer's Guide, "ZNodes" and "Consistency Guarantees"; book chapter 2):
 *
 *   read    getData            no node → NoNode;  else returns data and the Stat's version
 *   create  create(data)       exists → NodeExists;  else { data, version 0 }
 *   write   setData(data, -1)  no node → NoNode;  else { data, version + 1 }
 *   cas     setData(data, v)   no node → NoNode;  version ≠ v → BadVersion;  else { data, v + 1 }
 *   delete  delete(v or -1)    no node → NoNode;  v given and ≠ version → BadVersion;  else no node
 *
 * Errors are results too: a BadVersion says what the version was not at some instant, so a failed operation is
 * placed in the order like any other (it just changes nothing). Parents and children are not modelled: each key
 * is one independent register, and a create's parent is assumed to exist.
 *
 * Three outcomes: ok (with the reply), failed (with the error), unknown (connection loss, timeout: the request may
 * have taken effect at any instant after its invocation — even after the client gave up — or never; its completion
 * is +∞ and it may be left out).
 *
 * The algorithm is Wing & Gong's search with Lowe's "just-in-time linearization" and the memoization of Porcupine
 * and Knossos: walk the history's invocation and completion events in time order; at each step either place one of
 * the operations already invoked, or — at the completion of an operation not yet placed — give up this branch and
 * backtrack. A (placed operations, znode state) pair seen before is not explored twice. Keys are checked one by one:
 * a history is linearizable iff each key's sub-history is (linearizability is local: Herlihy & Wing §3.3;
 * "P-compositionality", Horn & Kroening 2015), and small histories are searched far faster than one big one.
 *
 * Two reductions keep unknown outcomes cheap (a few dozen of them would otherwise multiply the search by 2^n):
 *   - data that no (definite) read returned is never told apart: all such values are one "unread" value, so
 *     unknown setData calls of unread data are interchangeable, and only how many of them took effect matters;
 *   - an unknown conditional call that can never apply again (its version is behind and no delete is left that
 *     could reset the version) no longer distinguishes states.
 *
 * Reads in ZooKeeper are not linearizable by default: a server answers from its own copy, which may lag the leader
 * (only writes are linearizable; a read sees every write its own session saw before). A test that checks plain
 * reads should pass `reads: "sequential"`, or call sync before each read (and remember the book's caveat that even
 * sync + read is not linearizable across a leader change, chapter 6).
 */

/** The state of one znode: its data and version, or `null` when there is no node. */
export type ZnodeState<D = string> = { readonly data: D; readonly version: number } | null;

/** What a client asked for. `write` is setData with version -1; `cas` is setData with an expected version. */
export type ZnodeCall<D = string> =
  | { readonly kind: "read" }
  | { readonly kind: "create"; readonly data: D }
  | { readonly kind: "write"; readonly data: D }
  | { readonly kind: "cas"; readonly data: D; readonly expectedVersion: number }
  /** `expectedVersion` left out: delete with version -1 (any version). */
  | { readonly kind: "delete"; readonly expectedVersion?: number };

export type ZnodeError = "NoNode" | "NodeExists" | "BadVersion";

/**
 * How an operation ended, as the client saw it.
 *  - ok: a read carries `data` (required) and, if recorded, the Stat's `version`; a write or cas may carry the new
 *    `version` from the Stat setData returns; create and delete carry nothing.
 *  - failed: it definitely did not take effect, and the error says why — an observation of the znode.
 *  - unknown: connection loss or timeout. No completion time: it may take effect at any instant after its
 *    invocation, or never.
 */
export type Outcome =
  | { readonly status: "ok"; readonly completedAt: number; readonly data?: string; readonly version?: number }
  | { readonly status: "failed"; readonly completedAt: number; readonly error: ZnodeError }
  | { readonly status: "unknown" };

/**
 * One operation of a history. Times are readings of one monotonic clock (ms) or ordinal positions: only their
 * order matters. Equal times count as concurrent (an operation completing at 10 does not precede one invoked at 10).
 */
export interface Operation {
  /** The client: one session (a new session after an expiry should get a new id, see `reads: "sequential"`). */
  readonly client: number | string;
  /** The znode path. */
  readonly key: string;
  readonly call: ZnodeCall;
  readonly invokedAt: number;
  readonly outcome: Outcome;
}

export interface CheckOptions {
  /** Each key's state before the history; keys not listed start with no node. */
  readonly initial?: Readonly<Record<string, ZnodeState>>;
  /**
   * "linearizable" (default): a read takes effect between its invocation and completion — right for sync + read,
   * or for a server that promised linearizable reads. "sequential": ZooKeeper's guarantee for plain reads, which a
   * server answers from a copy that may lag; such a read may take effect as early as the invocation of its
   * session's last successful update before it (or the history's start). That is weaker than ZooKeeper's promise
   * (it lets a read miss its own session's write), never stronger, so it raises no false alarm.
   */
  readonly reads?: "linearizable" | "sequential";
  /** The search's budget per key, in distinct (placed operations, state) pairs; past it the check gives up. */
  readonly statesExploredMax?: number;
}

/**
 * 200,000 distinct search states per key: a linearizable 2,000-operation key needs a few thousand; a history that
 * needs more is usually a non-linearizable one with many unknown outcomes, each doubling what must be ruled out.
 */
export const statesExploredMaxDefault = 200_000;
/** Shrinking a failure: how many of the last operations before it are suspects (earlier ones are taken as recorded). */
const shrinkSuspectsMax = 64;
/**
 * Shrinking a failure to a minimal set of operations: the least budget of one trial, and the budget of all trials
 * together (about two seconds), past which the explanation lists more operations than needed and says so.
 */
const shrinkStatesExploredMax = 20_000;
const shrinkStatesTotalMax = 150_000;
/** How many operations an explanation lists (a shrink that ran out of budget can leave many). */
const culpritsShownMax = 30;
/** How many states to list when saying what the znode could have been when every order got stuck. */
const stuckStatesShownMax = 4;

export type CheckResult =
  | {
      readonly ok: true;
      readonly verdict: "linearizable";
      readonly keys: number;
      readonly operations: number;
      /** Summed over keys: distinct search states visited. */
      readonly statesExplored: number;
    }
  | {
      readonly ok: false;
      readonly verdict: "not linearizable";
      readonly key: string;
      /**
       * Indices into the history: operations whose replies contradict each other — with every other reply forgotten
       * (those operations still took effect), no order fits; forgetting any one of these makes one fit. In a long
       * history only the last operations before the failure are suspects; earlier ones count as recorded.
       */
      readonly culprits: readonly number[];
      readonly explanation: string;
    }
  | {
      readonly ok: false;
      /** Inconclusive: the search ran out of budget. Not evidence of a bug. */
      readonly verdict: "gave up";
      readonly key: string;
      readonly statesExplored: number;
      readonly explanation: string;
    };

/** ZooKeeper's rules for one call on one znode: the reply, and the state after. One model for checker and tests. */
export function applyToZnode<D>(
  state: ZnodeState<D>,
  call: ZnodeCall<D>,
): { readonly reply: { readonly ok: true; readonly data?: D; readonly version?: number } | { readonly ok: false; readonly error: ZnodeError }; readonly next: ZnodeState<D> } {
  switch (call.kind) {
    case "read":
      return state === null ? failWith(state, "NoNode") : { reply: { ok: true, data: state.data, version: state.version }, next: state };
    case "create":
      return state !== null ? failWith(state, "NodeExists") : { reply: { ok: true, version: 0 }, next: { data: call.data, version: 0 } };
    case "write":
    case "cas": {
      if (state === null) return failWith(state, "NoNode");
      if (call.kind === "cas" && call.expectedVersion !== state.version) return failWith(state, "BadVersion");
      const version = state.version + 1;
      return { reply: { ok: true, version }, next: { data: call.data, version } };
    }
    case "delete":
      if (state === null) return failWith(state, "NoNode");
      if (call.expectedVersion !== undefined && call.expectedVersion !== state.version) return failWith(state, "BadVersion");
      return { reply: { ok: true }, next: null };
    default: {
      const never: never = call;
      throw new Error(`unknown call ${JSON.stringify(never)}`);
    }
  }
}

function failWith<D>(state: ZnodeState<D>, error: ZnodeError) {
  return { reply: { ok: false as const, error }, next: state };
}

/** Checks a history; see the module comment for the model and the algorithm. */
export function checkLinearizable(history: readonly Operation[], options: CheckOptions = {}): CheckResult {
  history.forEach(assertWellFormed);
  const statesMax = options.statesExploredMax ?? statesExploredMaxDefault;
  const readFrom = options.reads === "sequential" ? sequentialReadStarts(history) : null;
  const byKey = new Map<string, number[]>();
  history.forEach((op, i) => {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(i);
  });
  let statesExplored = 0;
  let gaveUp: CheckResult | null = null;
  for (const [key, indices] of byKey) {
    const initial = options.initial?.[key] ?? null;
    const ops = indices.map((i) => ({ index: i, op: history[i]!, from: readFrom?.get(i) ?? history[i]!.invokedAt, replyForgotten: false }));
    const result = search(prepare(ops, initial), statesMax);
    statesExplored += result.statesExplored;
    if (result.kind === "stuck") return explainFailure(key, ops, initial, result);
    if (result.kind === "gave up" && gaveUp === null) {
      gaveUp = {
        ok: false,
        verdict: "gave up",
        key,
        statesExplored: result.statesExplored,
        explanation: `gave up on ${key}: ${indices.length} operations needed more than ${statesMax} search states (statesExploredMax); ` +
          `this says nothing about whether the history is linearizable. Fewer unknown outcomes or fewer operations per key help.`,
      };
    }
  }
  // A definite "not linearizable" on any key outranks giving up on another, so keys are all tried first.
  return gaveUp ?? { ok: true, verdict: "linearizable", keys: byKey.size, operations: history.length, statesExplored };
}

export interface ClientOrderViolation {
  readonly client: number | string;
  /** Indices into the history: `first` was invoked before `second` but completed after it. */
  readonly first: number;
  readonly second: number;
  readonly explanation: string;
}

/**
 * ZooKeeper's FIFO client order: a session's requests complete in the order it issued them (reference: the
 * Programmer's Guide, "Consistency Guarantees"). `checkLinearizable` does not assume it — it only uses real time —
 * so a test that pipelines requests checks this separately. Unknown outcomes have no completion and are skipped.
 */
export function checkClientOrder(history: readonly Operation[]): ClientOrderViolation[] {
  const byClient = new Map<number | string, number[]>();
  history.forEach((op, i) => {
    if (op.outcome.status === "unknown") return;
    let list = byClient.get(op.client);
    if (list === undefined) byClient.set(op.client, (list = []));
    list.push(i);
  });
  const violations: ClientOrderViolation[] = [];
  for (const [client, indices] of byClient) {
    const issued = [...indices].sort((a, b) => history[a]!.invokedAt - history[b]!.invokedAt || a - b);
    // The latest completion so far: any later-issued request completing before it breaks FIFO order.
    let latest = -1;
    for (const i of issued) {
      if (latest >= 0 && history[i]!.invokedAt > history[latest]!.invokedAt && completion(history[i]!) < completion(history[latest]!)) {
        violations.push({
          client,
          first: latest,
          second: i,
          explanation: `client ${client}: ${describeOperation(history[latest]!, latest)} was issued first but completed after ${describeOperation(history[i]!, i)}`,
        });
      }
      if (latest < 0 || completion(history[i]!) > completion(history[latest]!)) latest = i;
    }
  }
  return violations;
}

/** One line a learner can read: `#12 client 3: setData /a "x" if version 4 → BadVersion (invoked at 100, completed at 108)`. */
export function describeOperation(op: Operation, index: number, from?: number): string {
  const c = op.call;
  const what =
    c.kind === "read" ? `getData ${op.key}`
    : c.kind === "create" ? `create ${op.key} ${JSON.stringify(c.data)}`
    : c.kind === "write" ? `setData ${op.key} ${JSON.stringify(c.data)} (any version)`
    : c.kind === "cas" ? `setData ${op.key} ${JSON.stringify(c.data)} if version ${c.expectedVersion}`
    : `delete ${op.key}${c.expectedVersion === undefined ? "" : ` if version ${c.expectedVersion}`}`;
  const o = op.outcome;
  const start = from !== undefined && from < op.invokedAt
    ? `may take effect from ${Number.isFinite(from) ? `${from} (its session's last update)` : "the start"}, invoked at ${op.invokedAt}`
    : `invoked at ${op.invokedAt}`;
  if (o.status === "unknown") return `#${index} client ${op.client}: ${what} → unknown (${start}; may take effect any time after, or never)`;
  if (o.status === "failed") return `#${index} client ${op.client}: ${what} → ${o.error} (${start}, completed at ${o.completedAt})`;
  const reply = c.kind === "read" ? `${JSON.stringify(o.data)}${o.version === undefined ? "" : ` (version ${o.version})`}`
    : o.version === undefined ? "ok" : `ok, version ${o.version}`;
  return `#${index} client ${op.client}: ${what} → ${reply} (${start}, completed at ${o.completedAt})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Input checks and the "sequential" read windows

const errorsOf: Record<ZnodeCall["kind"], readonly ZnodeError[]> = {
  read: ["NoNode"],
  create: ["NodeExists"],
  write: ["NoNode"],
  cas: ["NoNode", "BadVersion"],
  delete: ["NoNode", "BadVersion"],
};

/** A malformed history is the caller's bug: throw with the operation's index. */
function assertWellFormed(op: Operation, index: number): void {
  const bad = (why: string) => {
    throw new Error(`history[${index}]: ${why}: ${JSON.stringify(op)}`);
  };
  if (!Number.isFinite(op.invokedAt)) bad("invokedAt must be a finite number");
  const o = op.outcome;
  if (o.status !== "unknown") {
    if (!Number.isFinite(o.completedAt) || o.completedAt < op.invokedAt) bad("completedAt must be a finite number, not before invokedAt");
    if (o.status === "failed" && !errorsOf[op.call.kind].includes(o.error)) bad(`${op.call.kind} cannot fail with ${o.error}`);
    if (o.status === "ok" && op.call.kind === "read" && o.data === undefined) bad("an ok read needs the data it returned");
  }
  if (op.call.kind === "cas" && !(Number.isInteger(op.call.expectedVersion) && op.call.expectedVersion >= 0)) {
    bad("a cas needs an expected version ≥ 0 (setData with -1 is a write)");
  }
}

const completion = (op: Operation): number => (op.outcome.status === "unknown" ? Infinity : op.outcome.completedAt);

/**
 * For `reads: "sequential"`: each definite read's earliest instant. A server answering a read has applied at least
 * everything its session saw (the client sends lastZxidSeen; a server behind it refuses the connection), so the
 * state it returns was current no earlier than the invocation of the session's last successful update.
 */
function sequentialReadStarts(history: readonly Operation[]): Map<number, number> {
  const updatesOf = new Map<number | string, Operation[]>();
  for (const u of history) {
    if (u.call.kind === "read" || u.outcome.status !== "ok") continue;
    let list = updatesOf.get(u.client);
    if (list === undefined) updatesOf.set(u.client, (list = []));
    list.push(u);
  }
  for (const list of updatesOf.values()) list.sort((a, b) => a.invokedAt - b.invokedAt);
  const starts = new Map<number, number>();
  history.forEach((read, i) => {
    if (read.call.kind !== "read" || read.outcome.status === "unknown") return;
    const updates = updatesOf.get(read.client) ?? [];
    // The latest update invoked before the read that completed by the read's completion (so its zxid was seen).
    let j = upperBound(updates, read.invokedAt) - 1;
    while (j >= 0 && completion(updates[j]!) > completion(read)) j--;
    starts.set(i, j >= 0 ? updates[j]!.invokedAt : -Infinity);
  });
  return starts;
}

/** The number of operations in `sorted` (by invokedAt) invoked strictly before `time`. */
function upperBound(sorted: readonly Operation[], time: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.invokedAt < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------------
// One key's search

/**
 * An operation of one key as given to the search. `replyForgotten` (used only while shrinking a failure): its reply is
 * forgotten — it took effect within its interval, with whatever result the znode gave there.
 */
interface KeyOp {
  readonly index: number;
  readonly op: Operation;
  /** Earliest instant it may take effect: its invocation, or earlier for a "sequential" read. */
  readonly from: number;
  readonly replyForgotten: boolean;
}

/** Data values become small integers; 0 is every value no definite read returned ("unread"). */
const unread = 0;

/** An operation that took effect within its interval; its reply must fit, unless forgotten. */
interface TimedOp {
  readonly key: KeyOp;
  readonly replyKnown: boolean;
  readonly call: ZnodeCall<number>;
  /** For a known ok: the data and version the reply carried, when recorded. */
  readonly data: number | undefined;
  readonly version: number | undefined;
}

interface Prepared {
  /** Operations with a completion, by start; their position is their bit in the set of placed operations. */
  readonly timed: readonly TimedOp[];
  /** Unknown outcomes (may take effect any time after invocation, or never), by start, with their class. */
  readonly unknown: readonly { readonly key: KeyOp; readonly call: ZnodeCall<number>; readonly cls: number }[];
  /** Per class of interchangeable unknown operations: the call they all make. */
  readonly classes: readonly ZnodeCall<number>[];
  readonly events: readonly Event[];
  readonly initial: ZnodeState<number>;
  readonly deletes: number;
  /** Interned data back to the caller's strings, for explanations. */
  readonly dataNames: readonly string[];
}

/** An invocation or completion of a timed operation; a doubly linked list so placing one is O(1) (Porcupine). */
interface Event {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  /** Position in time order: how far into the history an order got. */
  position: number;
  match: Event | null;
  prev: Event | null;
  next: Event | null;
}

/** `nameAllData`: keep every value distinct (no "unread" value) — slower with unknowns, clearer in explanations. */
function prepare(ops: readonly KeyOp[], initial: ZnodeState, nameAllData = false): Prepared {
  const isUnknown = (k: KeyOp) => k.op.outcome.status === "unknown";
  // A read changes nothing: when its reply is unknown or forgotten it can be dropped.
  const kept = ops.filter((k) => k.op.call.kind !== "read" || (!k.replyForgotten && !isUnknown(k)));
  const dataIds = new Map<string, number>();
  const dataNames = ["(data no read returned)"];
  const name = (data: string) => {
    if (!dataIds.has(data)) dataIds.set(data, dataNames.push(data) - 1);
  };
  if (nameAllData && initial !== null) name(initial.data);
  for (const k of kept) {
    const o = k.op.outcome;
    if (!k.replyForgotten && k.op.call.kind === "read" && o.status === "ok") name(o.data!);
    else if (nameAllData && "data" in k.op.call) name(k.op.call.data);
  }
  const id = (data: string) => dataIds.get(data) ?? unread;
  const intern = (c: ZnodeCall): ZnodeCall<number> => (c.kind === "read" || c.kind === "delete" ? c : { ...c, data: id(c.data) });
  const byStart = [...kept].sort((a, b) => cmp(a.from, b.from) || a.index - b.index);
  const timed = byStart.filter((k) => !isUnknown(k)).map((key): TimedOp => {
    const o = key.op.outcome;
    const reply = !key.replyForgotten && o.status === "ok" ? o : undefined;
    return { key, replyKnown: !key.replyForgotten, call: intern(key.op.call), data: reply?.data === undefined ? undefined : id(reply.data), version: reply?.version };
  });
  const classIds = new Map<string, number>();
  const classes: ZnodeCall<number>[] = [];
  const unknown = byStart.filter(isUnknown).map((key) => {
    const call = intern(key.op.call);
    const name = JSON.stringify(call);
    let cls = classIds.get(name);
    if (cls === undefined) classIds.set(name, (cls = classes.push(call) - 1));
    return { key, call, cls };
  });
  const events: Event[] = [];
  timed.forEach((t, i) => {
    const call: Event = { op: i, isCall: true, time: t.key.from, position: 0, match: null, prev: null, next: null };
    const ret: Event = { op: i, isCall: false, time: completion(t.key.op), position: 0, match: null, prev: null, next: null };
    call.match = ret;
    events.push(call, ret);
  });
  // Time order; at equal times invocations first, so touching operations count as concurrent.
  events.sort((a, b) => cmp(a.time, b.time) || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  events.forEach((e, i) => {
    e.position = i;
    e.prev = events[i - 1] ?? null;
    e.next = events[i + 1] ?? null;
  });
  return {
    timed,
    unknown,
    classes,
    events,
    initial: initial === null ? null : { data: id(initial.data), version: initial.version },
    deletes: kept.filter((k) => k.op.call.kind === "delete").length,
    dataNames,
  };
}

const cmp = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

type SearchResult =
  | { readonly kind: "linearizable"; readonly statesExplored: number }
  | { readonly kind: "gave up"; readonly statesExplored: number }
  | {
      readonly kind: "stuck";
      readonly statesExplored: number;
      readonly prepared: Prepared;
      /** The operation whose completion no order got past (index into `prepared.timed`). */
      readonly stuckOp: number;
      /** The znode states the orders that got furthest were in (at most `stuckStatesShownMax`). */
      readonly stuckStates: readonly ZnodeState<number>[];
    };

/** A move of the search: an operation placed (`timed`: `op` indexes `prepared.timed`, else `prepared.unknown`). */
interface Move {
  readonly timed: boolean;
  readonly op: number;
}

/** A move made, and what is needed to come back: the state before it, and where the scan of its node was. */
interface Frame extends Move {
  readonly before: ZnodeState<number>;
  readonly node: number;
  readonly resumeEvent: Event;
  readonly resumeUnknown: number;
}

function search(p: Prepared, statesMax: number): SearchResult {
  const n = p.timed.length;
  const words = Math.ceil(n / 32);
  // Bit i: timed operation i is placed.
  const placed = new Uint32Array(words);
  const fullWord = (w: number) => (w < words - 1 || n % 32 === 0 ? 0xffffffff : 2 ** (n % 32) - 1);
  const unknownPlaced = new Uint8Array(p.unknown.length);
  const counts = new Int32Array(p.classes.length);
  // Per class, the node where one member was last tried: trying another member there would be the same try.
  const triedAt = new Float64Array(p.classes.length).fill(-1);
  const seen = new Map<number, Int32Array[]>();
  let statesExplored = 0;
  let deletesLeft = p.deletes;
  let timedPlaced = 0;
  let state = p.initial;

  // The memo key: placed timed operations (from the first word not yet full), per class how many unknown ones
  // took effect (-1 once the class can never apply again), and the znode state. Built in `scratch`; copied only
  // when it is new.
  const scratch = new Int32Array(2 + words + counts.length + 2);
  const fingerprint = (s: ZnodeState<number>): number => {
    let first = 0;
    while (first < words && placed[first] === fullWord(first)) first++;
    let last = words;
    while (last > first && placed[last - 1] === 0) last--;
    let at = 0;
    scratch[at++] = first;
    scratch[at++] = last - first;
    for (let w = first; w < last; w++) scratch[at++] = placed[w]!;
    for (let c = 0; c < counts.length; c++) scratch[at++] = canApplyAgain(p.classes[c]!, s, deletesLeft) ? counts[c]! : -1;
    scratch[at++] = s === null ? -1 : s.data;
    scratch[at++] = s === null ? -1 : s.version;
    return at;
  };
  /** Records the state if new; false if it was explored before. */
  const remember = (s: ZnodeState<number>): boolean => {
    const length = fingerprint(s);
    let h = 0x811c9dc5;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ scratch[i]!, 0x01000193);
    h &= 0x3fffffff; // a small integer: a faster Map key
    const bucket = seen.get(h);
    if (bucket !== undefined) for (const other of bucket) if (sameArray(other, scratch, length)) return false;
    const copy = scratch.slice(0, length);
    if (bucket === undefined) seen.set(h, [copy]);
    else bucket.push(copy);
    statesExplored++;
    return true;
  };
  const mark = (move: Move, on: boolean) => {
    const d = on ? 1 : -1;
    if (move.timed) {
      placed[move.op >>> 5]! ^= 1 << (move.op & 31);
      const t = p.timed[move.op]!;
      timedPlaced += d;
      if (t.call.kind === "delete") deletesLeft -= d;
    } else {
      const u = p.unknown[move.op]!;
      unknownPlaced[move.op] = on ? 1 : 0;
      counts[u.cls]! += d;
      if (u.call.kind === "delete") deletesLeft -= d;
    }
  };
  const tryMove = (move: Move, after: ZnodeState<number>): boolean => {
    mark(move, true);
    if (remember(after)) return true;
    mark(move, false);
    return false;
  };

  const calls: Event[] = [];
  for (const e of p.events) if (e.isCall) calls[e.op] = e;
  const head: Event = { op: -1, isCall: true, time: -Infinity, position: -1, match: null, prev: null, next: p.events[0] ?? null };
  if (head.next !== null) head.next.prev = head;
  const lift = (call: Event) => {
    call.prev!.next = call.next;
    call.next!.prev = call.prev; // a call's completion is after it, so call.next exists
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next !== null) ret.next.prev = ret.prev;
  };
  const unlift = (call: Event) => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next !== null) ret.next.prev = ret;
    call.prev!.next = call;
    call.next!.prev = call;
  };

  let stuckPosition = -1;
  let stuckOp = -1;
  const stuckStates: ZnodeState<number>[] = [];
  const stack: Frame[] = [];
  let nodes = 0;
  // Where the scan of the current node is: the next event, the next unknown operation.
  let node = 0;
  let event: Event | null = head.next;
  let nextUnknown = 0;
  remember(state);

  for (;;) {
    if (timedPlaced === p.timed.length) return { kind: "linearizable", statesExplored };
    // The candidates of a node: timed operations invoked before the first completion still in the list (`event`
    // stops at it), then unknown ones invoked by then.
    let move: { timed: boolean; op: number; after: ZnodeState<number> } | null = null;
    while (move === null && event !== null && event.isCall) {
      const e: Event = event;
      event = event.next;
      const t = p.timed[e.op]!;
      const { reply, next } = applyToZnode(state, t.call);
      const o = t.key.op.outcome;
      const fits = !t.replyKnown ? true
        : o.status === "failed" ? !reply.ok && reply.error === o.error
        : reply.ok && (t.data === undefined || reply.data === t.data) && (t.version === undefined || reply.version === t.version);
      if (fits && tryMove({ timed: true, op: e.op }, next)) move = { timed: true, op: e.op, after: next };
    }
    const bound = event!; // an operation is not placed yet, so its completion is still in the list
    while (move === null && nextUnknown < p.unknown.length && p.unknown[nextUnknown]!.key.from <= bound.time) {
      const i = nextUnknown++;
      const u = p.unknown[i]!;
      if (unknownPlaced[i] === 1 || triedAt[u.cls] === node) continue;
      triedAt[u.cls] = node;
      // Placed only where it takes effect: failing there is the same as never happening.
      const { reply, next } = applyToZnode(state, u.call);
      if (reply.ok && tryMove({ timed: false, op: i }, next)) move = { timed: false, op: i, after: next };
    }
    if (move !== null) {
      // Coming back, the scan resumes where it stopped: after the call just placed, or at the completion.
      stack.push({ timed: move.timed, op: move.op, before: state, node, resumeEvent: event!, resumeUnknown: nextUnknown });
      if (move.timed) lift(calls[move.op]!);
      state = move.after;
      if (statesExplored > statesMax) return { kind: "gave up", statesExplored };
      node = ++nodes;
      event = head.next;
      nextUnknown = 0;
      continue;
    }
    // Dead end: no order of what was invoked before `bound` lets it complete here.
    if (bound.position > stuckPosition) {
      stuckPosition = bound.position;
      stuckOp = bound.op;
      stuckStates.length = 0;
    }
    if (bound.position === stuckPosition && stuckStates.length < stuckStatesShownMax && !stuckStates.some((s) => sameState(s, state))) stuckStates.push(state);
    const frame = stack.pop();
    if (frame === undefined) return { kind: "stuck", statesExplored, prepared: p, stuckOp, stuckStates };
    if (frame.timed) unlift(calls[frame.op]!);
    mark(frame, false);
    state = frame.before;
    node = frame.node;
    event = frame.resumeEvent;
    nextUnknown = frame.resumeUnknown;
  }
}

/**
 * Whether an unknown call could still take effect from state `s`. Conservative: only "certainly never" is false —
 * with no delete left the node can never disappear, so its version only grows and a create can never succeed.
 */
function canApplyAgain(call: ZnodeCall<number>, s: ZnodeState<number>, deletesLeft: number): boolean {
  if (deletesLeft > 0 || s === null) return true;
  if (call.kind === "create") return false;
  const expected = call.kind === "cas" || call.kind === "delete" ? call.expectedVersion : undefined;
  return expected === undefined || expected >= s.version;
}

function sameArray(a: Int32Array, b: Int32Array, length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const sameState = (a: ZnodeState<number>, b: ZnodeState<number>): boolean =>
  a === b || (a !== null && b !== null && a.data === b.data && a.version === b.version);

// ---------------------------------------------------------------------------------------------------------------
// Explaining a failure: shrink to a minimal set of operations that cannot be ordered

/**
 * The operations up to the completion where every order got stuck are already not linearizable. Shrink them by
 * forgetting replies — an operation whose reply is forgotten still took effect within its interval (the server did
 * execute it), with whatever result the znode gave there; a read whose reply is forgotten drops out — for as long as
 * what is left stays impossible: chunks of operations first, halving the chunks down to single operations (Zeller's
 * delta debugging). What remains is a set of replies that contradict each other: forgetting any one of them makes
 * an order possible (as far as each trial's budget could tell). Forgetting rather than removing keeps every write
 * that happened, so no false story ("this value was never written") can appear.
 */
function explainFailure(key: string, ops: readonly KeyOp[], initial: ZnodeState, found: Extract<SearchResult, { kind: "stuck" }>): CheckResult {
  const stuck = found.prepared.timed[found.stuckOp]!.key;
  const stuckAt = completion(stuck.op);
  // Operations that could have been placed before the stuck completion; later ones cannot matter.
  const prefix = ops.filter((k) => k.from <= stuckAt).sort((a, b) => cmp(a.from, b.from) || a.index - b.index);
  // Only the last operations before it are suspects; earlier ones are taken as recorded (forgetting many replies at
  // once lets the search wander through far more orders than the history allows, and costs too much).
  const known = prefix.filter((k) => k !== stuck && k.op.outcome.status !== "unknown").map((k) => k.index);
  const asRecorded = known.slice(0, Math.max(0, known.length - shrinkSuspectsMax));
  let kept = known.slice(asRecorded.length);
  let last = found;
  // A trial searches as much as finding the failure did, and more: give it room in proportion.
  const trialMax = Math.max(shrinkStatesExploredMax, 2 * found.statesExplored);
  let budget = shrinkStatesTotalMax;
  const stuckWith = (keep: readonly number[], nameAllData = false): boolean => {
    const strict = new Set([...asRecorded, ...keep, stuck.index]);
    const trial = prefix.map((k) => ({ ...k, replyForgotten: !strict.has(k.index) && k.op.outcome.status !== "unknown" }));
    const result = search(prepare(trial, initial, nameAllData), Math.min(trialMax, budget));
    budget -= result.statesExplored;
    if (result.kind !== "stuck") return false;
    last = result;
    return true;
  };
  // Often the stuck operation alone is impossible (a value never written): one cheap trial settles it.
  if (stuckWith([])) kept = [];
  for (let chunk = Math.max(1, kept.length >> 1); kept.length > 0 && budget > 0; chunk = chunk >> 1) {
    for (let at = 0; at < kept.length && budget > 0; ) {
      const without = [...kept.slice(0, at), ...kept.slice(at + chunk)];
      if (stuckWith(without)) kept = without;
      else at += chunk;
    }
    if (chunk === 1) break;
  }
  const minimal = budget > 0;
  budget = trialMax;
  // `last` is the search of the final set unless its last trial failed; search it again, with every value named
  // for the explanation's states, falling back to the unnamed search if that does not fit the budget.
  if (!stuckWith(kept, true)) stuckWith(kept);

  const culprits = [...kept, stuck.index].sort((a, b) => a - b);
  const others = prefix.length - culprits.length;
  const lastStuck = last.prepared.timed[last.stuckOp]!.key;
  const names = last.prepared.dataNames;
  const showState = (s: ZnodeState<number>) => (s === null ? "no node" : `data ${s.data === unread ? names[unread] : JSON.stringify(names[s.data])}, version ${s.version}`);
  const shown = prefix.filter((k) => culprits.includes(k.index));
  const lines = shown.slice(0, culpritsShownMax).map((k) => `  ${describeOperation(k.op, k.index, k.from)}`);
  if (shown.length > culpritsShownMax) lines.push(`  … and ${shown.length - culpritsShownMax} more`);
  if (!minimal) lines.push(`  (shrinking stopped at its budget of ${shrinkStatesTotalMax} states: a smaller set may exist)`);
  const explanation = [
    `${key} is not linearizable: ${culprits.length === 1 ? "this reply cannot be explained" : `these ${culprits.length} replies contradict each other`} — no order of the operations fits their times, the znode's rules and ${culprits.length === 1 ? "this reply" : "these replies"}:`,
    ...lines,
    `Each must take effect at one instant between its invocation and its completion; the znode starts as ${initial === null ? "no node" : `data ${JSON.stringify(initial.data)}, version ${initial.version}`} ` +
      `and follows ZooKeeper's rules (create fails if it exists, setData adds 1 to the version, a conditional setData or delete needs the current version).`,
    `Every order gets stuck at #${lastStuck.index}'s completion (${completion(lastStuck.op)}): the orders that got furthest left ${key} as ` +
      `${last.stuckStates.map(showState).join(" or ")}, and none of these fits.` +
      (asRecorded.length > 0 ? ` The ${asRecorded.length} earliest operations on ${key} (invoked up to ${prefix.find((k) => k.index === asRecorded[asRecorded.length - 1])!.from}) were taken as recorded, not suspected.` : "") +
      (others > asRecorded.length ? ` The other ${others - asRecorded.length} operations on ${key} up to then took effect in their intervals with whatever result (an unknown one: at any time after its invocation, or never); their replies did not matter.` : ""),
  ].join("\n");
  return { ok: false, verdict: "not linearizable", key, culprits, explanation };
}
