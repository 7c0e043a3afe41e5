/**
 * A deterministic harness for the client core (book chapter 5 "Failure handling"; notes §5 故障处理; DESIGN.md
 * "Seeded simulation"). Client cores — the reference `ClientCore` or a learner's copy of it — talk to in-process
 * `ZooKeeperServer` cores through in-memory transports, on a virtual clock, while a test (or a seeded schedule)
 * breaks things: it drops connections, partitions a client, stops and restarts servers, lets a server fall behind,
 * and lets sessions expire. No sockets and no timers: a run of minutes of virtual time takes milliseconds, and the
 * same seed replays the same run, event for event (`harness.trace`).
 *
 *   const h = new ClientHarness({ seed, servers: 3 });
 *   const c = h.client("c1", { hosts: [0, 1, 2] });
 *   c.connect();
 *   h.runUntil(() => c.state.kind === "connected", "c1 connects");
 *   const call = c.submit(ops.create("/a", "x"));
 *   h.partition(c); h.run(500); h.heal(c);
 *   h.runUntil(() => call.done, "the create completes");
 *
 * The servers. Server 0 is the primary: it expires sessions (the leader's job in an ensemble). Every server
 * starts *following*: each txn any of them commits is applied at once to every other following server that is up,
 * so they share one history and a client may move between them, keeping its session. This is not a quorum
 * simulation — it is the ensemble as a client sees it. `freeze(i)` stops server i from applying anything more: it
 * falls behind, the way a partitioned follower does, and a client that has seen a later zxid must never attach to
 * it (reference §1: the server closes the handshake without a reply). `stop(i)` crashes a server: its connections
 * reset, new ones are refused; `start(i)` brings it back with its tree and sessions (as recovery from its log
 * would), catching up if it follows, and with every session's timer started afresh.
 *
 * The network. Each message takes a seeded delay in `latencyMs`; the bytes of one connection arrive in order
 * (TCP). `drop(c)` resets c's connection (both ends see it close; what was in flight is lost). `partition(c)`
 * cuts c off: bytes vanish both ways and new connections hang, so only timeouts notice; `heal(c)` lets new
 * connections through (the old ones stay dead).
 *
 * What the harness checks on every step, whatever the test (a violation throws an AssertionError with the seed and
 * the last lines of the trace):
 * - the lastZxidSeen in each ConnectRequest is the highest zxid of the replies the client has received (pings,
 *   auth replies and notifications do not count), and a client never gets attached to a server whose last zxid
 *   is behind that;
 * - every call completes at most once, and only calls that were made;
 * - an expired or closed client never opens a connection again.
 * Tests assert the rest from what the harness records: states, watch events, calls and connection attempts.
 */
import { AssertionError } from "node:assert";
import type { ClientConnection, Transport } from "../server/connection.ts";
import { ZooKeeperServer, type ServerOptions } from "../server/server.ts";
import {
  ConnectRequest,
  ConnectResponse,
  FrameDecoder,
  JuteReader,
  ReplyHeader,
  RequestHeader,
  errorName,
  opName,
  xids,
  type CreateModeName,
  type KeeperStateName,
  type EventTypeName,
} from "../proto/index.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";
import {
  ClientCore,
  type ConnectionState,
  type CoreConfig,
  type CoreInput,
  type CoreOutput,
  type RequestOutcome,
  type SessionInfo,
  type WatchedEvent,
} from "../client/core.ts";
import { acls } from "../client/acl.ts";
import type { Request, WatchMode } from "../client/operations.ts";
import { Chroot } from "../client/paths.ts";
import type { WatchKind } from "../client/watch-registry.ts";
import { seededRandom, type Random } from "./random.ts";

// ---------------------------------------------------------------------------------------------------------------
// Limits and defaults (units last)

export const harnessTickTimeMsDefault = 200;
/** Asked by clients unless told otherwise; inside [2, 20] × the default tickTime. */
export const harnessSessionTimeoutMsDefault = 3_000;
export const harnessReconnectDelayMsMaxDefault = 100;
export const harnessHostCycleDelayMsDefault = 200;
export const harnessLatencyMsDefault: readonly [number, number] = [1, 5];
/** runUntil gives up after this much virtual time. */
export const harnessWaitMsDefault = 60_000;
/** Events handled without virtual time moving on, before the harness declares a livelock. */
const eventsAtOneInstantMax = 100_000;
const traceLinesMax = 50_000;
const traceTailLines = 30;

// ---------------------------------------------------------------------------------------------------------------
// What the harness needs of a client core (the reference ClientCore<string> fits, and so does a learner's copy)

/** Watchers are plain labels here: the harness records which label heard which event. */
export type Label = string;

export interface DrivableCore {
  handle(input: CoreInput<Label>): { readonly outputs: readonly CoreOutput<Label>[]; readonly wakeAtMs: number | null };
  readonly state: ConnectionState;
  readonly session: SessionInfo | null;
  readonly lastZxidSeen: bigint;
  readonly watches: {
    add(kind: WatchKind, path: string, watcher: Label): void;
    entries(): Array<{ kind: WatchKind; path: string; watcher: Label }>;
  };
}

export type CoreClass = new (config: CoreConfig) => DrivableCore;

// ---------------------------------------------------------------------------------------------------------------
// Requests, briefly

export const ops = {
  create: (path: string, data = "", mode: CreateModeName = "persistent"): Request<Label> => ({
    op: "create",
    path,
    data: Buffer.from(data),
    acl: acls.openAclUnsafe,
    mode,
  }),
  delete: (path: string, version = -1): Request<Label> => ({ op: "delete", path, version }),
  setData: (path: string, data: string, version = -1): Request<Label> => ({ op: "setData", path, data: Buffer.from(data), version }),
  getData: (path: string, watcher?: Label): Request<Label> => ({ op: "getData", path, ...(watcher !== undefined ? { watcher } : {}) }),
  exists: (path: string, watcher?: Label): Request<Label> => ({ op: "exists", path, ...(watcher !== undefined ? { watcher } : {}) }),
  getChildren: (path: string, watcher?: Label): Request<Label> => ({
    op: "getChildren",
    path,
    withStat: false,
    ...(watcher !== undefined ? { watcher } : {}),
  }),
  addWatch: (path: string, mode: WatchMode, watcher: Label): Request<Label> => ({ op: "addWatch", path, mode, watcher }),
  sync: (path: string): Request<Label> => ({ op: "sync", path }),
} as const;

/** "create /a", "getData /b" — for messages. */
export function describeRequest(request: Request<Label>): string {
  return "path" in request ? `${request.op} ${request.path}` : request.op;
}

export function describeOutcome(outcome: RequestOutcome | null): string {
  if (outcome === null) return "pending";
  if (outcome.ok) return "ok";
  return errorName(outcome.code) ?? `error ${outcome.code}`;
}

export const hex = (zxid: bigint): string => `0x${zxid.toString(16)}`;

// ---------------------------------------------------------------------------------------------------------------
// Records

export interface SimCall {
  readonly id: number;
  readonly client: string;
  readonly request: Request<Label> | { readonly op: "auth"; readonly scheme: string };
  readonly submittedAtMs: number;
  outcome: RequestOutcome | null;
  completedAtMs: number | null;
  /** The state the client was in when the call completed. */
  completedIn: ConnectionState["kind"] | null;
  readonly done: boolean;
}

export interface HeardEvent {
  readonly atMs: number;
  readonly watcher: Label;
  readonly type: EventTypeName;
  readonly state: KeeperStateName;
  readonly path: string | null;
}

export interface StateRecord {
  readonly atMs: number;
  readonly kind: ConnectionState["kind"];
  readonly hostIndex?: number;
}

/** One connection a client opened, and what became of it. */
export interface Attempt {
  readonly connectionId: number;
  readonly hostIndex: number;
  readonly server: number;
  readonly openedAtMs: number;
  /** The client finished the handshake on it. */
  attached: boolean;
  closedAtMs: number | null;
  /** Who ended it: the client (closeSocket), or the network/server (the client was told socketClosed). */
  closedBy: "client" | "peer" | null;
  /** The ConnectRequest the client sent, once sent. */
  connectRequest: ConnectRequest | null;
  /** Every frame the client sent after the ConnectRequest: its header. */
  readonly sent: Array<{ readonly xid: number; readonly type: number; readonly body: Buffer }>;
  /** The ConnectResponse the client received, if any. */
  connectResponse: ConnectResponse | null;
}

// ---------------------------------------------------------------------------------------------------------------

interface Link {
  readonly attempt: Attempt;
  readonly client: SimClient;
  readonly server: SimServer;
  conn: ClientConnection | null;
  /** The client has not closed it and has not been told it closed. */
  clientOpen: boolean;
  /** The server side exists and is open. */
  serverOpen: boolean;
  /** Bytes vanish both ways (a partition). */
  blackholed: boolean;
  paused: boolean;
  readonly held: Buffer[];
  /** When the last message each way is due: deliveries keep their order (TCP). */
  toServerAtMs: number;
  toClientAtMs: number;
  readonly fromServer: FrameDecoder;
  sawConnectResponse: boolean;
}

interface Event {
  readonly atMs: number;
  readonly seq: number;
  readonly what: string;
  readonly run: () => void;
}

export interface HarnessOptions {
  readonly seed: number;
  /** How many servers (default 1). Server 0 is the primary. */
  readonly servers?: number;
  readonly tickTimeMs?: number;
  /** One-way delay of each message, a seeded value in [min, max] ms. */
  readonly latencyMs?: readonly [number, number];
  /** Adjust each server's options (e.g. a learner's watch manager). */
  readonly serverOptions?: (index: number) => Partial<ServerOptions>;
}

export interface SimClientOptions {
  /** Indices of the servers to connect to, in order (the connect string, already shuffled). Default: all. */
  readonly hosts?: readonly number[];
  /** The core to run (default: the reference ClientCore). */
  readonly core?: CoreClass;
  readonly sessionTimeoutMs?: number;
  readonly session?: { readonly sessionId: bigint; readonly passwd: Buffer };
  readonly reconnectDelayMsMax?: number;
  readonly hostCycleDelayMs?: number;
  readonly setWatchesPacketBytesMax?: number;
}

export class SimServer {
  up = true;
  following = true;
  constructor(
    readonly index: number,
    readonly core: ZooKeeperServer,
  ) {}

  get name(): string {
    return `s${this.index}`;
  }

  get lastZxid(): bigint {
    return this.core.lastZxid;
  }
}

export class SimClient {
  readonly calls: SimCall[] = [];
  readonly events: HeardEvent[] = [];
  readonly states: StateRecord[] = [];
  readonly attempts: Attempt[] = [];
  /** The highest zxid of the replies this client has received: what its lastZxidSeen must be. */
  zxidSeen = 0n;
  partitioned = false;
  /** Called for every watch event, after it is recorded (a test can set a watch again from here). */
  onWatchEvent: ((event: HeardEvent) => void) | null = null;
  /** @internal */ readonly links = new Map<number, Link>();
  /** @internal */ nextTickAtMs: number | null = null;
  private readonly inbox: CoreInput<Label>[] = [];
  private dispatching = false;
  private nextCallId = 1;
  private readonly pending = new Map<number, SimCall>();

  constructor(
    readonly name: string,
    readonly core: DrivableCore,
    /** host index → server index */
    readonly hosts: readonly number[],
    private readonly harness: ClientHarness,
  ) {}

  get state(): ConnectionState {
    return this.core.state;
  }

  /** The connection currently open (or being opened) by this client, if any. */
  get currentAttempt(): Attempt | undefined {
    for (const link of this.links.values()) if (link.clientOpen) return link.attempt;
    return undefined;
  }

  connect(): void {
    this.feed({ kind: "connectRequested", nowMs: this.harness.nowMs });
  }

  submit(request: Request<Label>, timeoutMs?: number): SimCall {
    const call = this.newCall(request);
    this.feed({ kind: "requestSubmitted", requestId: call.id, request, ...(timeoutMs !== undefined ? { timeoutMs } : {}), nowMs: this.harness.nowMs });
    return call;
  }

  addAuth(scheme: string, auth: string): SimCall {
    const call = this.newCall({ op: "auth", scheme });
    this.feed({ kind: "authSubmitted", requestId: call.id, auth: { scheme, auth: Buffer.from(auth) }, nowMs: this.harness.nowMs });
    return call;
  }

  close(): void {
    this.feed({ kind: "closeRequested", nowMs: this.harness.nowMs });
  }

  eventsFor(watcher: Label): HeardEvent[] {
    return this.events.filter((e) => e.watcher === watcher);
  }

  /** Calls made and not completed. */
  get pendingCalls(): SimCall[] {
    return [...this.pending.values()];
  }

  private newCall(request: SimCall["request"]): SimCall {
    const call: SimCall = {
      id: this.nextCallId++,
      client: this.name,
      request,
      submittedAtMs: this.harness.nowMs,
      outcome: null,
      completedAtMs: null,
      completedIn: null,
      get done() {
        return this.outcome !== null;
      },
    };
    this.calls.push(call);
    this.pending.set(call.id, call);
    return call;
  }

  /** Hands an input to the core and carries out its outputs in order; never re-enters the core. */
  feed(input: CoreInput<Label>): void {
    this.inbox.push(input);
    if (this.dispatching) return;
    this.dispatching = true;
    let wakeAtMs: number | null = null;
    try {
      for (let next = this.inbox.shift(); next !== undefined; next = this.inbox.shift()) {
        const step = this.core.handle(next);
        wakeAtMs = step.wakeAtMs;
        for (const output of step.outputs) this.perform(output);
      }
    } finally {
      this.dispatching = false;
    }
    this.harness.scheduleTick(this, wakeAtMs);
  }

  private perform(output: CoreOutput<Label>): void {
    const h = this.harness;
    switch (output.kind) {
      case "openSocket":
        h.openLink(this, output.connectionId, output.hostIndex);
        break;
      case "send":
        h.sendToServer(this, output.connectionId, output.bytes);
        break;
      case "closeSocket":
        h.closeFromClient(this, output.connectionId);
        break;
      case "stateChanged":
        this.states.push({ atMs: h.nowMs, kind: output.state.kind, ...("hostIndex" in output.state ? { hostIndex: output.state.hostIndex } : {}) });
        h.log(`${this.name} ${output.previous.kind} → ${describeState(output.state)}`);
        h.onStateChanged(this, output.state);
        break;
      case "watchEvent":
        for (const watcher of output.watchers) {
          const heard: HeardEvent = { atMs: h.nowMs, watcher, ...output.event };
          this.events.push(heard);
          h.log(`${this.name} watcher ${watcher} hears ${describeEvent(output.event)}`);
          this.onWatchEvent?.(heard);
        }
        break;
      case "requestCompleted": {
        const call = this.pending.get(output.requestId);
        if (call === undefined) {
          const known = this.calls.find((c) => c.id === output.requestId);
          return h.fail(
            known
              ? `${this.name}: call #${output.requestId} (${describeCall(known)}) completed a second time, now with ${describeOutcome(output.outcome)}; every call completes exactly once`
              : `${this.name}: the core completed call #${output.requestId}, which was never made`,
          );
        }
        this.pending.delete(output.requestId);
        call.outcome = output.outcome;
        call.completedAtMs = h.nowMs;
        call.completedIn = this.core.state.kind;
        h.log(`${this.name} #${call.id} ${describeCall(call)} → ${describeOutcome(output.outcome)}`);
        break;
      }
    }
  }
}

function describeState(state: ConnectionState): string {
  return "hostIndex" in state ? `${state.kind}(host ${state.hostIndex}${state.kind === "connecting" ? `, ${state.phase}` : ""})` : state.kind;
}

function describeEvent(event: WatchedEvent): string {
  return `${event.type}${event.path !== null ? ` ${event.path}` : ""}${event.state !== "syncConnected" ? ` (${event.state})` : ""}`;
}

function describeCall(call: SimCall): string {
  return call.request.op === "auth" ? `auth ${call.request.scheme}` : describeRequest(call.request);
}

// ---------------------------------------------------------------------------------------------------------------

export class ClientHarness {
  readonly seed: number;
  /** Randomness for tests built on the harness (workloads, fault plans); the network has its own. */
  readonly random: Random;
  readonly servers: SimServer[] = [];
  readonly clients: SimClient[] = [];
  /** Every txn committed by any server, in zxid order. */
  readonly committed: Array<{ readonly header: TxnHeader; readonly txn: Txn }> = [];
  readonly trace: string[] = [];
  private now = 1_000;
  private readonly wallStartMs = 1_700_000_000_000;
  private readonly queue: Event[] = [];
  private seq = 0;
  private readonly network: Random;
  private readonly latency: readonly [number, number];
  private readonly tickTimeMs: number;
  private eventsThisInstant = 0;
  private lastEventAtMs = -1;

  constructor(readonly options: HarnessOptions) {
    this.seed = options.seed;
    this.random = seededRandom(options.seed);
    this.network = seededRandom((options.seed ^ 0x5bd1e995) >>> 0);
    this.latency = options.latencyMs ?? harnessLatencyMsDefault;
    this.tickTimeMs = options.tickTimeMs ?? harnessTickTimeMsDefault;
    const count = options.servers ?? 1;
    const clock = { nowMs: () => this.now, wallMs: () => this.wallStartMs + this.now };
    const logger = { info: () => {}, warn: () => {} };
    for (let i = 0; i < count; i++) {
      const server: SimServer = new SimServer(
        i,
        new ZooKeeperServer({
          serverId: i + 1,
          tickTimeMs: this.tickTimeMs,
          minSessionTimeoutMs: 2 * this.tickTimeMs,
          maxSessionTimeoutMs: 20 * this.tickTimeMs,
          maxFrameBytes: 0xfffff,
          superDigest: undefined,
          extendedTypesEnabled: true,
          globalOutstandingLimit: 1000,
          fourLetterWords: ["*"],
          containerMaxPerMinute: 10_000,
          reconfigEnabled: false,
          describeConfig: () => [],
          clock,
          logger,
          txnSink: { append: (header, txn, done) => this.commit(server, header, txn, done) },
          ...(options.serverOptions?.(i) ?? {}),
        }),
      );
      this.servers.push(server);
    }
    this.every(this.tickTimeMs, "server ticks", () => {
      const primary = this.servers[0]!;
      if (primary.up) primary.core.tick();
    });
  }

  get nowMs(): number {
    return this.now;
  }

  /** "(seed 7, t=1234 ms)": for assertion messages. */
  where(): string {
    return `(seed ${this.seed}, t=${this.now} ms)`;
  }

  // ---- clients ----

  client(name: string, options: SimClientOptions = {}): SimClient {
    const hosts = options.hosts ?? this.servers.map((s) => s.index);
    for (const h of hosts) if (this.servers[h] === undefined) throw new Error(`harness: there is no server ${h}`);
    const random = seededRandom((this.seed * 7919 + this.clients.length * 104_729 + 1) >>> 0);
    const config: CoreConfig = {
      hosts: hosts.map((i) => ({ host: `s${i}`, port: 2181 })),
      chroot: new Chroot(""),
      sessionTimeoutMs: options.sessionTimeoutMs ?? harnessSessionTimeoutMsDefault,
      ...(options.session !== undefined ? { session: options.session } : {}),
      random: () => random.next(),
      reconnectDelayMsMax: options.reconnectDelayMsMax ?? harnessReconnectDelayMsMaxDefault,
      hostCycleDelayMs: options.hostCycleDelayMs ?? harnessHostCycleDelayMsDefault,
      ...(options.setWatchesPacketBytesMax !== undefined ? { setWatchesPacketBytesMax: options.setWatchesPacketBytesMax } : {}),
    };
    const Core: CoreClass = options.core ?? ClientCore;
    const client = new SimClient(name, new Core(config), hosts, this);
    this.clients.push(client);
    return client;
  }

  // ---- time ----

  /** Lets `ms` of virtual time pass, handling everything due. */
  run(ms: number): void {
    const until = this.now + ms;
    while (this.queue.length > 0 && this.queue[0]!.atMs <= until) this.step();
    this.now = until;
  }

  /** Handles events until `condition()` holds; fails (naming `what`) after `limitMs` of virtual time. */
  runUntil(condition: () => boolean, what: string, limitMs = harnessWaitMsDefault): void {
    const deadline = this.now + limitMs;
    while (!condition()) {
      if (this.queue.length === 0 || this.queue[0]!.atMs > deadline) {
        this.now = Math.max(this.now, deadline);
        this.fail(`waited ${limitMs} ms of virtual time for: ${what}`);
      }
      this.step();
    }
  }

  /** Runs until the call completes and returns its outcome. */
  settle(call: SimCall, limitMs = harnessWaitMsDefault): RequestOutcome {
    this.runUntil(() => call.done, `${call.client}'s ${describeCall(call)} to complete`, limitMs);
    return call.outcome!;
  }

  /** Makes a call and runs until it completes; fails unless it succeeded. */
  expectOk(client: SimClient, request: Request<Label>, limitMs = harnessWaitMsDefault): SimCall {
    const call = client.submit(request);
    const outcome = this.settle(call, limitMs);
    if (!outcome.ok) this.fail(`${client.name}: ${describeRequest(request)} failed with ${describeOutcome(outcome)}`);
    return call;
  }

  private step(): void {
    const event = this.queue.shift()!;
    if (event.atMs > this.now) this.now = event.atMs;
    if (event.atMs === this.lastEventAtMs) {
      if (++this.eventsThisInstant > eventsAtOneInstantMax) {
        this.fail(`more than ${eventsAtOneInstantMax} events at one instant (the last: ${event.what}): does a core ask to be woken now, again and again?`);
      }
    } else {
      this.lastEventAtMs = event.atMs;
      this.eventsThisInstant = 0;
    }
    event.run();
  }

  /** @internal */
  at(atMs: number, what: string, run: () => void): void {
    const event: Event = { atMs: Math.max(atMs, this.now), seq: this.seq++, what, run };
    // Binary search for the first event that is later (ties keep insertion order).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.queue[mid]!;
      if (e.atMs < event.atMs || (e.atMs === event.atMs && e.seq < event.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, event);
  }

  /** Runs `run` every `periodMs`, forever. */
  every(periodMs: number, what: string, run: () => void): void {
    const again = (atMs: number): void =>
      this.at(atMs, what, () => {
        run();
        again(atMs + periodMs);
      });
    again(Math.ceil(this.now / periodMs) * periodMs + periodMs);
  }

  /** @internal The core asked to be ticked at `wakeAtMs`. */
  scheduleTick(client: SimClient, wakeAtMs: number | null): void {
    if (wakeAtMs === null) return;
    const at = Math.max(wakeAtMs, this.now);
    if (client.nextTickAtMs !== null && client.nextTickAtMs <= at) return;
    client.nextTickAtMs = at;
    this.at(at, `${client.name} tick`, () => {
      if (client.nextTickAtMs !== at) return; // an earlier tick took its place
      client.nextTickAtMs = null;
      client.feed({ kind: "tick", nowMs: this.now });
    });
  }

  private delay(): number {
    const [min, max] = this.latency;
    return this.network.int(min, max);
  }

  // ---- faults ----

  /** Resets c's current connection: both ends see it close now; what was in flight is lost. */
  drop(client: SimClient): void {
    for (const link of client.links.values()) {
      if (!link.clientOpen) continue;
      this.log(`network resets ${client.name}'s connection #${link.attempt.connectionId} to ${link.server.name}`);
      this.closeServerSide(link);
      this.tellClientClosed(link, this.now);
    }
  }

  /** Cuts c off: bytes vanish both ways, new connections hang. */
  partition(client: SimClient): void {
    client.partitioned = true;
    for (const link of client.links.values()) link.blackholed = true;
    this.log(`network partitions ${client.name} off`);
  }

  /** New connections of c get through again (the ones cut off stay dead). */
  heal(client: SimClient): void {
    client.partitioned = false;
    this.log(`network heals ${client.name}`);
  }

  /** Crashes server i: its connections reset, new ones are refused, it stops applying txns. */
  stop(index: number): void {
    const server = this.server(index);
    if (!server.up) return;
    server.up = false;
    this.log(`${server.name} stops`);
    server.core.closeAll();
  }

  /** Restarts server i with its tree and sessions, as recovery would; every session's timer starts afresh. */
  start(index: number): void {
    const server = this.server(index);
    if (server.up) return;
    server.up = true;
    if (server.following) this.catchUp(server);
    for (const session of [...server.core.sessions.all()]) server.core.sessions.touch(session.id, this.now);
    this.log(`${server.name} starts at zxid ${hex(server.lastZxid)}`);
  }

  /** Server i applies nothing more: it falls behind. */
  freeze(index: number): void {
    const server = this.server(index);
    server.following = false;
    this.log(`${server.name} freezes at zxid ${hex(server.lastZxid)}`);
  }

  /** Server i catches up and follows again. */
  follow(index: number): void {
    const server = this.server(index);
    server.following = true;
    if (server.up) this.catchUp(server);
    this.log(`${server.name} follows again, at zxid ${hex(server.lastZxid)}`);
  }

  server(index: number): SimServer {
    const server = this.servers[index];
    if (server === undefined) throw new Error(`harness: there is no server ${index}`);
    return server;
  }

  // ---- replication ----

  private commit(origin: SimServer, header: TxnHeader, txn: Txn, done: () => void): void {
    if (!origin.following) {
      throw new Error(`harness: a write (${header.type}) reached ${origin.name}, which is frozen behind the others; a scenario must not let a client write there`);
    }
    this.committed.push({ header, txn });
    for (const server of this.servers) {
      if (server !== origin && server.following && server.up) this.apply(server, header, txn);
    }
    done();
  }

  private catchUp(server: SimServer): void {
    for (const { header, txn } of this.committed) if (header.zxid > server.lastZxid) this.apply(server, header, txn);
  }

  /** Applies a txn committed elsewhere, as a follower applies a COMMIT. */
  private apply(server: SimServer, header: TxnHeader, txn: Txn): void {
    const core = server.core;
    if (txn.kind === "createSession") core.sessions.add(header.sessionId, txn.timeOutMs, this.now);
    core.tree.processTxn(header, txn);
    core.setLastZxid(header.zxid);
    if (txn.kind === "closeSession") {
      core.sessions.remove(header.sessionId);
      const conn = core.connectionOf(header.sessionId);
      if (conn !== undefined) core.disconnected(conn);
    }
  }

  // ---- the network, as the client's outputs drive it ----

  /** @internal */
  openLink(client: SimClient, connectionId: number, hostIndex: number): void {
    const serverIndex = client.hosts[hostIndex];
    if (serverIndex === undefined) this.fail(`${client.name} opened a connection to host ${hostIndex}, but it has only ${client.hosts.length} hosts`);
    if (client.state.kind === "expired" || client.states.some((s) => s.kind === "expired" || s.kind === "closed")) {
      this.fail(`${client.name} opened a connection (to host ${hostIndex}) after its session ended (${client.states.find((s) => s.kind === "expired" || s.kind === "closed")!.kind}): that is terminal, a new session needs a new client`);
    }
    const server = this.server(serverIndex);
    const attempt: Attempt = {
      connectionId,
      hostIndex,
      server: serverIndex,
      openedAtMs: this.now,
      attached: false,
      closedAtMs: null,
      closedBy: null,
      connectRequest: null,
      sent: [],
      connectResponse: null,
    };
    client.attempts.push(attempt);
    const link: Link = {
      attempt,
      client,
      server,
      conn: null,
      clientOpen: true,
      serverOpen: false,
      blackholed: client.partitioned,
      paused: false,
      held: [],
      toServerAtMs: this.now,
      toClientAtMs: this.now,
      fromServer: new FrameDecoder(0xfffff),
      sawConnectResponse: false,
    };
    client.links.set(connectionId, link);
    this.log(`${client.name} opens #${connectionId} to host ${hostIndex} (${server.name})`);
    if (link.blackholed) return; // the SYN is lost: the connect hangs until the client gives up
    const arrives = this.now + this.delay();
    this.at(arrives, `${client.name} #${connectionId} reaches ${server.name}`, () => {
      if (!link.clientOpen || link.blackholed) return;
      if (!server.up) {
        this.log(`${server.name} is down: #${connectionId} refused`);
        this.tellClientClosed(link, this.now + this.delay());
        return;
      }
      link.serverOpen = true;
      link.conn = server.core.accept(this.transportFor(link));
      link.client.feed({ kind: "socketConnected", connectionId, nowMs: this.now });
    });
  }

  private transportFor(link: Link): Transport {
    const harness = this;
    return {
      remoteAddress: `10.0.0.${this.clients.indexOf(link.client) + 1}`,
      remotePort: 30_000 + link.attempt.connectionId,
      write(bytes: Buffer): void {
        harness.sendToClient(link, Buffer.from(bytes));
      },
      close(): void {
        if (!link.serverOpen) return;
        link.serverOpen = false;
        if (link.blackholed) return;
        // The FIN follows the bytes written before it.
        harness.tellClientClosed(link, Math.max(harness.now + harness.delay(), link.toClientAtMs));
      },
      pause(): void {
        link.paused = true;
      },
      resume(): void {
        link.paused = false;
        const held = link.held.splice(0);
        for (const bytes of held) {
          if (!link.serverOpen || link.conn === null) return;
          harness.receiveOnServer(link, bytes);
        }
      },
    };
  }

  /** @internal */
  sendToServer(client: SimClient, connectionId: number, bytes: Buffer): void {
    const link = client.links.get(connectionId);
    if (link === undefined) this.fail(`${client.name} sent bytes on connection #${connectionId}, which it never opened`);
    if (!link.clientOpen) return;
    this.record(link, bytes);
    if (link.blackholed) return;
    const at = Math.max(this.now + this.delay(), link.toServerAtMs);
    link.toServerAtMs = at;
    this.at(at, `bytes from ${client.name} #${connectionId} reach ${link.server.name}`, () => {
      if (!link.serverOpen || link.blackholed || link.conn === null || !link.server.up) return;
      if (link.paused) link.held.push(bytes);
      else this.receiveOnServer(link, bytes);
    });
  }

  private receiveOnServer(link: Link, bytes: Buffer): void {
    const conn = link.conn!;
    link.server.core.receive(conn, bytes);
    // A follower tells the leader that its sessions are alive (Apache: pings from followers); here, at once.
    const primary = this.servers[0]!;
    if (link.server !== primary && conn.phase === "established" && conn.sessionId !== 0n) primary.core.sessions.touch(conn.sessionId, this.now);
  }

  /** What the client sent, decoded, for tests to look at. */
  private record(link: Link, bytes: Buffer): void {
    const decoder = new FrameDecoder(0xfffff);
    for (const event of decoder.push(bytes)) {
      if (event.kind !== "frame") continue;
      const body = Buffer.from(event.body);
      if (link.attempt.connectRequest === null) {
        const request = ConnectRequest.read(new JuteReader(body));
        link.attempt.connectRequest = request;
        const client = link.client;
        this.log(`${client.name} #${link.attempt.connectionId} ConnectRequest lastZxidSeen ${hex(request.lastZxidSeen)} session 0x${request.sessionId.toString(16)}`);
        if (request.lastZxidSeen !== client.zxidSeen) {
          this.fail(
            `${client.name}'s ConnectRequest to ${link.server.name} carries lastZxidSeen ${hex(request.lastZxidSeen)}, but the replies ${client.name} has received go up to zxid ${hex(client.zxidSeen)}` +
              ` (only replies to requests count, not pings, auth replies or notifications)${request.lastZxidSeen < client.zxidSeen ? ": a server behind what the client has seen would accept it" : ""}`,
          );
        }
        continue;
      }
      const r = new JuteReader(body);
      const header = RequestHeader.read(r);
      link.attempt.sent.push({ xid: header.xid, type: header.type, body: body.subarray(8) });
    }
  }

  private sendToClient(link: Link, bytes: Buffer): void {
    if (link.blackholed) return;
    const at = Math.max(this.now + this.delay(), link.toClientAtMs);
    link.toClientAtMs = at;
    this.at(at, `bytes from ${link.server.name} reach ${link.client.name} #${link.attempt.connectionId}`, () => {
      if (!link.clientOpen || link.blackholed) return;
      this.observe(link, bytes);
      link.client.feed({ kind: "bytesReceived", connectionId: link.attempt.connectionId, bytes, nowMs: this.now });
    });
  }

  /** What the client is about to receive: the truth its lastZxidSeen is checked against. */
  private observe(link: Link, bytes: Buffer): void {
    for (const event of link.fromServer.push(bytes)) {
      if (event.kind !== "frame") continue;
      const body = Buffer.from(event.body);
      if (!link.sawConnectResponse) {
        link.sawConnectResponse = true;
        const response = ConnectResponse.read(new JuteReader(body));
        link.attempt.connectResponse = response;
        this.log(`${link.server.name} answers ${link.client.name} #${link.attempt.connectionId}: ${response.timeOut > 0 ? `session 0x${response.sessionId.toString(16)}, timeout ${response.timeOut} ms` : "timeOut 0 (no such session)"}`);
        if (response.timeOut > 0) this.sessionMovedTo(link.server, response.sessionId, response.timeOut);
        continue;
      }
      const header = ReplyHeader.read(new JuteReader(body));
      if (header.xid === xids.notification || header.xid === xids.ping || header.xid === xids.auth) continue;
      if (header.zxid > link.client.zxidSeen) link.client.zxidSeen = header.zxid;
    }
  }

  /** A session attached to `server`: its connections elsewhere are stale (Apache: the session moved). */
  private sessionMovedTo(server: SimServer, sessionId: bigint, timeoutMs: number): void {
    const primary = this.servers[0]!;
    if (server !== primary) primary.core.sessions.touch(sessionId, this.now, timeoutMs);
    for (const other of this.servers) {
      if (other === server || !other.up) continue;
      const conn = other.core.connectionOf(sessionId);
      if (conn !== undefined) other.core.disconnected(conn);
    }
  }

  /** @internal */
  closeFromClient(client: SimClient, connectionId: number): void {
    const link = client.links.get(connectionId);
    if (link === undefined || !link.clientOpen) return;
    link.clientOpen = false;
    link.attempt.closedAtMs = this.now;
    link.attempt.closedBy = "client";
    this.log(`${client.name} closes #${connectionId}`);
    if (!link.serverOpen || link.blackholed) return;
    this.at(Math.max(this.now + this.delay(), link.toServerAtMs), `${client.name} #${connectionId} FIN reaches ${link.server.name}`, () => this.closeServerSide(link));
  }

  private closeServerSide(link: Link): void {
    if (!link.serverOpen || link.conn === null) return;
    link.serverOpen = false;
    link.server.core.disconnected(link.conn);
  }

  private tellClientClosed(link: Link, atMs: number): void {
    this.at(atMs, `${link.client.name} learns #${link.attempt.connectionId} closed`, () => {
      if (!link.clientOpen) return;
      link.clientOpen = false;
      link.attempt.closedAtMs = this.now;
      link.attempt.closedBy = "peer";
      this.log(`${link.client.name} #${link.attempt.connectionId} closed by the other end`);
      link.client.feed({ kind: "socketClosed", connectionId: link.attempt.connectionId, nowMs: this.now });
    });
  }

  /** @internal */
  onStateChanged(client: SimClient, state: ConnectionState): void {
    if (state.kind !== "connected") return;
    const attempt = client.currentAttempt;
    if (attempt === undefined) this.fail(`${client.name} says it is connected, but it has no open connection`);
    attempt.attached = true;
    const server = this.server(attempt.server);
    if (server.lastZxid < client.zxidSeen) {
      this.fail(
        `${client.name} attached to ${server.name}, whose last zxid ${hex(server.lastZxid)} is behind the zxid ${hex(client.zxidSeen)} ${client.name} has already seen: it could read the past`,
      );
    }
  }

  // ---- reporting ----

  /** @internal */
  log(line: string): void {
    if (this.trace.length < traceLinesMax) this.trace.push(`${String(this.now).padStart(7)} ${line}`);
  }

  /** The last lines of the trace, indented, for a failure message. */
  traceTail(lines = traceTailLines): string {
    return this.trace.slice(-lines).map((l) => `    ${l}`).join("\n");
  }

  /** Throws an AssertionError saying what went wrong, with the seed and the end of the trace. */
  fail(message: string): never {
    // The lab runner shows the first line of the message, then expected and actual: the events go in `actual`.
    throw new AssertionError({
      message: `${message} ${this.where()}\n  last events:\n${this.traceTail()}`,
      expected: "(see the message)",
      actual: { "last events": this.trace.slice(-traceTailLines) },
    });
  }
}

/** A label for a call in messages. */
export function callLabel(call: SimCall): string {
  return `#${call.id} ${describeCall(call)}`;
}

/** opName for messages, tolerant of the special xids' types. */
export function typeName(type: number): string {
  return opName(type) ?? String(type);
}
