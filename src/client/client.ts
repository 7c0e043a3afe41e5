/**
 * The Promise API: `ZooKeeperClient`, the one class applications use (Apache `ZooKeeper`, kazoo `KazooClient`).
 *
 *   const client = createClient("127.0.0.1:2181,127.0.0.1:2182/app", { sessionTimeoutMs: 10_000 });
 *   await client.connect();
 *   await client.create("/config", "v1");
 *   const { data, stat } = await client.getData("/config", { watch: (event) => console.log(event) });
 *   await client.close();
 *
 * A call's promise rejects with a typed `ZooKeeperError` (`NoNodeError`, `ConnectionLossError`, ...).
 * Watchers are plain functions, called once (standard watches) or every time (persistent watches), always before
 * the promise of any later call resolves. Each call can also be read as a stream: `watchData`, `watchChildren`,
 * `watchPersistent`.
 *
 * Connection changes (connecting = disconnected, connected again) go to `onStateChange` listeners, not to
 * watchers: unlike Apache's client, which also calls every watcher with Disconnected/SyncConnected, a watcher here
 * is only called for its node's events and, once, when the session ends (Expired, Closed or AuthFailed, with
 * type "none"), after which it is forgotten.
 */
import type { ACL, ClientInfo, CreateModeName, Stat } from "../proto/index.ts";
import { parseConnectString, shuffleHosts } from "./connect-string.ts";
import { isSequentialMode, validateCreateMode } from "./create-mode.ts";
import {
  checkAcl,
  checkData,
  checkTimeout,
  checkVersion,
  checkWatchMode,
  checkWatcher,
  checkWatcherType,
} from "./arguments.ts";
import { ClientCore, type ConnectionState, type RequestOutcome, type SessionInfo, type WatchedEvent } from "./core.ts";
import {
  AuthFailedError,
  ClientUsageError,
  ConnectionLossError,
  NoNodeError,
  NoWatcherError,
  SessionExpiredError,
  errorForCode,
  type TransactionFailure,
} from "./errors.ts";
import { EventQueue } from "./event-queue.ts";
import { acls } from "./acl.ts";
import {
  toNodeBytes,
  type NodeData,
  type ReadOp,
  type ReadResult,
  type Request,
  type ResultOf,
  type TransactionOp,
  type TransactionResult,
  type WatchMode,
  type WatcherTypeName,
} from "./operations.ts";
import { validatePath, type Chroot } from "./paths.ts";
import { retry } from "./retry.ts";
import { SocketRuntime, monotonicClock, type Clock, type SocketFactory } from "./runtime.ts";
import { Transaction } from "./transaction.ts";

export type Watcher = (event: WatchedEvent) => void;

/** Session timeout asked for when none is given (Curator's default is 60 s, kazoo's 10 s). */
export const sessionTimeoutMsDefault = 30_000;

export interface ClientOptions {
  /** The session timeout to ask for; the server clamps it to [2, 20] × its tickTime. */
  readonly sessionTimeoutMs?: number;
  /** Resume an existing session (its id and password, from `client.session`) instead of creating one. */
  readonly session?: { readonly sessionId: bigint; readonly passwd: Buffer };
  /** Default per-request timeout (0 or undefined: none). A timed-out request fails with RequestTimeoutError. */
  readonly requestTimeoutMs?: number;
  /** Randomness in [0, 1) for the host shuffle and reconnect jitter; inject a seeded one for repeatable runs. */
  readonly random?: () => number;
  /** See `CoreConfig`. Tests lower these to reconnect quickly. */
  readonly reconnectDelayMsMax?: number;
  readonly hostCycleDelayMs?: number;
  readonly replyFrameBytesMax?: number;
  readonly setWatchesPacketBytesMax?: number;
  /** Called when a watcher throws; the default prints it. The client carries on either way. */
  readonly onWatcherError?: (error: unknown, event: WatchedEvent) => void;
  readonly clock?: Clock;
  readonly socketFactory?: SocketFactory;
}

export interface CreateOptions {
  readonly mode?: CreateModeName;
  /** Default: world:anyone, all permissions (Apache `Ids.OPEN_ACL_UNSAFE`). */
  readonly acl?: readonly ACL[];
  /** For the TTL modes: milliseconds without children after which the server deletes the node. */
  readonly ttlMs?: number;
  readonly timeoutMs?: number;
}
export interface VersionOptions {
  /** Expected version; -1 (the default) matches any. */
  readonly version?: number;
  readonly timeoutMs?: number;
}
export interface WatchOptions {
  /** Set a one-time watch, called with the event when the node (or its children) change. */
  readonly watch?: Watcher;
  readonly timeoutMs?: number;
}
export interface CallOptions {
  readonly timeoutMs?: number;
}

export interface DataSnapshot {
  readonly data: Buffer | null;
  readonly stat: Stat;
}

export type StateListener = (state: ConnectionState, previous: ConnectionState) => void;

/** A stream of watch events that can be stopped. */
export interface WatchStream<T> extends AsyncIterableIterator<T> {
  /** Stops the stream and removes its watcher. */
  close(): Promise<void>;
}

export function createClient(connectString: string, options: ClientOptions = {}): ZooKeeperClient {
  return new ZooKeeperClient(connectString, options);
}


interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly request: Request<Watcher> | { op: "auth" };
}

export class ZooKeeperClient {
  private readonly core: ClientCore<Watcher>;
  private readonly runtime: SocketRuntime<Watcher>;
  private readonly waiters = new Map<number, Waiter>();
  private readonly stateListeners = new Set<StateListener>();
  private nextRequestId = 1;
  private connectRequested = false;
  private readonly requestTimeoutMs: number | undefined;
  private readonly onWatcherError: (error: unknown, event: WatchedEvent) => void;
  readonly chroot: Chroot;

  constructor(connectString: string, options: ClientOptions = {}) {
    const parsed = parseConnectString(connectString);
    const random = options.random ?? Math.random;
    this.chroot = parsed.chroot;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.onWatcherError =
      options.onWatcherError ?? ((error, event) => console.error(`zookeeper watcher failed on ${JSON.stringify(event)}`, error));
    this.core = new ClientCore<Watcher>({
      hosts: shuffleHosts(parsed.hosts, random),
      chroot: parsed.chroot,
      sessionTimeoutMs: options.sessionTimeoutMs ?? sessionTimeoutMsDefault,
      ...(options.session ? { session: options.session } : {}),
      random,
      reconnectDelayMsMax: options.reconnectDelayMsMax,
      hostCycleDelayMs: options.hostCycleDelayMs,
      replyFrameBytesMax: options.replyFrameBytesMax,
      setWatchesPacketBytesMax: options.setWatchesPacketBytesMax,
    });
    this.runtime = new SocketRuntime<Watcher>(
      this.core,
      {
        stateChanged: (state, previous) => this.onStateChanged(state, previous),
        watchEvent: (event, watchers) => this.callWatchers(event, watchers),
        requestCompleted: (requestId, outcome) => this.onRequestCompleted(requestId, outcome),
      },
      options.clock ?? monotonicClock,
      options.socketFactory,
    );
  }

  // ---- connection and session ----

  /**
   * Starts connecting and resolves once connected. Rejects if the session turns out expired (SessionExpiredError),
   * auth fails, the client is closed, or `timeoutMs` passes first (ConnectionLossError; the client keeps trying
   * until `close()`).
   */
  connect(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.connectRequested) {
      this.connectRequested = true;
      this.runtime.feed({ kind: "connectRequested" });
    }
    return this.waitForState("connected", options.timeoutMs);
  }

  /** Resolves when the state is `kind` (now or later); rejects if the client reaches a terminal state first. */
  waitForState(kind: ConnectionState["kind"], timeoutMs?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (state: ConnectionState): boolean => {
        if (state.kind === kind) {
          resolve();
          return true;
        }
        const failure = terminalError(state);
        if (failure !== null) {
          reject(failure);
          return true;
        }
        return false;
      };
      if (check(this.core.state)) return;
      const unsubscribe = this.onStateChange((state) => {
        if (!check(state)) return;
        unsubscribe();
        if (timer !== undefined) clearTimeout(timer);
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          unsubscribe();
          reject(new ConnectionLossError());
        }, timeoutMs);
      }
    });
  }

  get state(): ConnectionState {
    return this.core.state;
  }

  /** The session (id, password, negotiated timeout) once a server granted one. */
  get session(): SessionInfo | null {
    return this.core.session;
  }

  /** Listens to state changes (connected, connecting = disconnected, expired, ...); returns the unsubscribe. */
  onStateChange(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Ends the session: the server deletes its ephemeral nodes and watches, and answers; then the socket closes.
   * Watchers get a Closed event.
   */
  async close(): Promise<void> {
    this.connectRequested = true; // a client closed before connecting is closed too: its calls fail
    if (isTerminal(this.core.state)) return;
    const closed = new Promise<void>((resolve) => {
      const unsubscribe = this.onStateChange((state) => {
        if (isTerminal(state)) {
          unsubscribe();
          resolve();
        }
      });
    });
    this.runtime.feed({ kind: "closeRequested" });
    await closed;
  }

  /** Hooks for tests (and the curious): reach past the API into the connection. */
  readonly testing = {
    /** Breaks the TCP connection as a network failure would; the client reconnects and keeps its session. */
    destroySocket: (): void => this.runtime.destroyCurrentSocket(),
    /** The watches the client holds, as (kind, path) pairs. */
    watches: (): Array<{ kind: string; path: string }> =>
      this.core.watches.entries().map(({ kind, path }) => ({ kind, path })),
    lastZxidSeen: (): bigint => this.core.lastZxidSeen,
  };

  // ---- znode operations ----

  /** Creates a node and returns its path (with the sequence number, for a sequential mode). */
  async create(path: string, data?: NodeData, options: CreateOptions = {}): Promise<string> {
    return (await this.createNode(path, data, options, false)).path;
  }

  /** Like create, and also returns the new node's Stat (opcode create2). */
  async create2(path: string, data?: NodeData, options: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    const result = await this.createNode(path, data, options, true);
    return { path: result.path, stat: result.stat! };
  }

  private createNode(path: string, data: NodeData | undefined, options: CreateOptions, withStat: boolean) {
    const mode = options.mode ?? "persistent";
    validateCreateMode(path, mode, options.ttlMs);
    validatePath(path, isSequentialMode(mode));
    checkData("create", path, data);
    if (options.acl !== undefined) checkAcl("create", path, options.acl);
    checkTimeout("create", path, options.timeoutMs);
    return this.call(
      {
        op: "create",
        path,
        data: toNodeBytes(data),
        acl: options.acl ?? acls.openAclUnsafe,
        mode,
        ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
        withStat,
      },
      options.timeoutMs,
    );
  }

  async delete(path: string, options: VersionOptions = {}): Promise<void> {
    validatePath(path);
    checkVersionOptions("delete", path, options);
    await this.call({ op: "delete", path, version: options.version ?? -1 }, options.timeoutMs);
  }

  /** The node's Stat, or null when it does not exist (a watch is set either way, and fires on creation too). */
  async exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    validatePath(path);
    checkWatchOptions("exists", path, options);
    return this.call({ op: "exists", path, ...watcherOf(options) }, options.timeoutMs);
  }

  async getData(path: string, options: WatchOptions = {}): Promise<DataSnapshot> {
    validatePath(path);
    checkWatchOptions("getData", path, options);
    return this.call({ op: "getData", path, ...watcherOf(options) }, options.timeoutMs);
  }

  async setData(path: string, data: NodeData, options: VersionOptions = {}): Promise<Stat> {
    validatePath(path);
    checkData("setData", path, data);
    checkVersionOptions("setData", path, options);
    return this.call({ op: "setData", path, data: toNodeBytes(data), version: options.version ?? -1 }, options.timeoutMs);
  }

  /** The children's names (not paths), in the server's order (unsorted). */
  async getChildren(path: string, options: WatchOptions = {}): Promise<string[]> {
    validatePath(path);
    checkWatchOptions("getChildren", path, options);
    return (await this.call({ op: "getChildren", path, withStat: false, ...watcherOf(options) }, options.timeoutMs))
      .children;
  }

  /** Children and the parent's Stat (opcode getChildren2). */
  async getChildren2(path: string, options: WatchOptions = {}): Promise<{ children: string[]; stat: Stat }> {
    validatePath(path);
    checkWatchOptions("getChildren2", path, options);
    const result = await this.call({ op: "getChildren", path, withStat: true, ...watcherOf(options) }, options.timeoutMs);
    return { children: result.children, stat: result.stat! };
  }

  async getACL(path: string, options: CallOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    validatePath(path);
    return this.call({ op: "getACL", path }, options.timeoutMs);
  }

  async setACL(path: string, acl: readonly ACL[], options: VersionOptions = {}): Promise<Stat> {
    validatePath(path);
    checkAcl("setACL", path, acl);
    checkVersionOptions("setACL", path, options);
    return this.call({ op: "setACL", path, acl, version: options.version ?? -1 }, options.timeoutMs);
  }

  /**
   * Waits until the server this client talks to has caught up with the leader, so that a read after it sees every
   * write committed before the sync (book chapter 6, "sync").
   */
  async sync(path: string, options: CallOptions = {}): Promise<string> {
    validatePath(path);
    return this.call({ op: "sync", path }, options.timeoutMs);
  }

  /** A transaction builder: `client.transaction().create(...).setData(...).commit()`. */
  transaction(): Transaction {
    return new Transaction((ops, timeoutMs) => this.multi(ops, { timeoutMs }));
  }

  /**
   * Runs the operations atomically: all or none. On failure rejects with the typed error of the op that failed
   * (e.g. NodeExistsError), whose `transaction` says which op it was and what each op reported.
   */
  async multi(ops: readonly TransactionOp[], options: CallOptions = {}): Promise<TransactionResult[]> {
    for (const op of ops) {
      switch (op.op) {
        case "create":
          validateCreateMode(op.path, op.mode, op.ttlMs);
          checkAcl("multi create", op.path, op.acl);
          checkData("multi create", op.path, op.data);
          break;
        case "setData":
          checkData("multi setData", op.path, op.data);
          checkVersion("multi setData", op.path, op.version);
          break;
        case "delete":
        case "check":
          checkVersion(`multi ${op.op}`, op.path, op.version);
          break;
        default:
          throw new ClientUsageError(`multi: unknown op ${JSON.stringify((op as { op: unknown }).op)} (create, delete, setData, check)`);
      }
      validatePath(op.path, op.op === "create" && isSequentialMode(op.mode));
    }
    checkTimeout("multi", undefined, options.timeoutMs);
    const results = await this.call({ op: "multi", ops }, options.timeoutMs);
    const failedOpIndex = results.findIndex((r) => r.op === "error" && r.code !== 0);
    if (failedOpIndex === -1) return results;
    const codes = results.map((r) => (r.op === "error" ? r.code : 0));
    const failure: TransactionFailure = { failedOpIndex, failedOpKind: ops[failedOpIndex]!.op, codes };
    throw errorForCode(codes[failedOpIndex]!, ops[failedOpIndex]!.path, failure);
  }

  /** Several reads in one round trip (opcode multiRead); each result is data, children, or an error code. */
  async multiRead(ops: readonly ReadOp[], options: CallOptions = {}): Promise<ReadResult[]> {
    for (const op of ops) {
      if (op.op !== "getData" && op.op !== "getChildren") {
        throw new ClientUsageError(`multiRead: unknown op ${JSON.stringify((op as { op: unknown }).op)} (getData, getChildren)`);
      }
      validatePath(op.path);
    }
    checkTimeout("multiRead", undefined, options.timeoutMs);
    return this.call({ op: "multiRead", ops }, options.timeoutMs);
  }

  /**
   * Authenticates this session, e.g. `addAuthInfo("digest", "user:password")`. The auth is remembered and sent
   * again after every reconnect. Rejects with AuthFailedError if the server refuses it (the session is then
   * unusable: state authFailed), or with ConnectionLossError if the connection dropped before the answer — the
   * auth is still re-sent on the next connection.
   */
  addAuthInfo(scheme: string, auth: Buffer | string): Promise<void> {
    const requestId = this.nextRequestId++;
    const promise = new Promise<void>((resolve, reject) => {
      this.waiters.set(requestId, { resolve: () => resolve(), reject, request: { op: "auth" } });
    });
    this.runtime.feed({
      kind: "authSubmitted",
      requestId,
      auth: { scheme, auth: typeof auth === "string" ? Buffer.from(auth, "utf8") : auth },
    });
    return promise;
  }

  /**
   * A watch that stays after firing (opcode addWatch): "persistent" for the node's own events (created, deleted,
   * data changed, children changed); "persistentRecursive" for created/deleted/data changed of the node and every
   * descendant (no children-changed events).
   *
   * Apache 3.8 keeps one watch per path and connection on the server: a persistent watch added on a path where
   * this client also has a standard watch makes that one persistent too (ZOOKEEPER-4466, fixed in 3.9).
   */
  async addWatch(path: string, watcher: Watcher, mode: WatchMode, options: CallOptions = {}): Promise<void> {
    validatePath(path);
    checkWatcher("addWatch", path, watcher, true);
    checkWatchMode(path, mode);
    checkTimeout("addWatch", path, options.timeoutMs);
    await this.call({ op: "addWatch", path, mode, watcher }, options.timeoutMs);
  }

  /**
   * Removes watches on a path: "children", "data" (data and exist watches) or "any" (those and persistent ones).
   * With a watcher, only that one (and only on this client: the server is asked to confirm, opcode checkWatches);
   * without, all of them on the server too (opcode removeWatches). Removed watchers get a *WatchRemoved event.
   * Rejects with NoWatcherError when there is no such watch.
   */
  async removeWatches(path: string, watcherType: WatcherTypeName, watcher?: Watcher, options: CallOptions = {}): Promise<void> {
    validatePath(path);
    checkWatcherType(path, watcherType);
    checkWatcher("removeWatches", path, watcher, false);
    if (watcher !== undefined && !this.holdsWatcher(path, watcherType, watcher)) throw new NoWatcherError(path);
    await this.call(
      { op: "removeWatches", path, watcherType, ...(watcher !== undefined ? { watcher } : {}) },
      options.timeoutMs,
    );
  }

  private holdsWatcher(path: string, watcherType: WatcherTypeName, watcher: Watcher): boolean {
    const w = this.core.watches;
    const child = w.has("child", path, watcher);
    const data = w.has("data", path, watcher) || w.has("exist", path, watcher);
    const persistent = w.has("persistent", path, watcher) || w.has("persistentRecursive", path, watcher);
    return watcherType === "children" ? child : watcherType === "data" ? data : child || data || persistent;
  }

  /** This session's ephemeral nodes whose path starts with `prefixPath` (opcode getEphemerals). */
  async getEphemerals(prefixPath = "/", options: CallOptions = {}): Promise<string[]> {
    validatePath(prefixPath);
    return this.call({ op: "getEphemerals", path: prefixPath }, options.timeoutMs);
  }

  /** The number of descendants of a node, not counting itself (opcode getAllChildrenNumber). */
  async getAllChildrenNumber(path: string, options: CallOptions = {}): Promise<number> {
    validatePath(path);
    return this.call({ op: "getAllChildrenNumber", path }, options.timeoutMs);
  }

  /** The identities this session is authenticated as (opcode whoAmI), e.g. [{authScheme: "ip", user: "127.0.0.1"}]. */
  async whoAmI(options: CallOptions = {}): Promise<ClientInfo[]> {
    return this.call({ op: "whoAmI" }, options.timeoutMs);
  }

  // ---- watches as streams ----

  /**
   * The node's data now and after every change, re-setting a one-time watch each time (kazoo `DataWatch`);
   * null while the node does not exist. Changes that happen between an event and the next read are seen together
   * (one-time watches report that something changed, not every change). Ends when the client closes; fails with
   * SessionExpiredError if the session expires. Connection loss is retried.
   */
  async *watchData(path: string): AsyncGenerator<DataSnapshot | null, void, undefined> {
    validatePath(path);
    for (;;) {
      const fired = deferred<WatchedEvent>();
      const watch: Watcher = (event) => fired.resolve(event);
      let snapshot: DataSnapshot | null;
      try {
        snapshot = await retry(() => this.getData(path, { watch }));
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        // Missing: set an exist watch instead, which fires on creation. It may have been created in between.
        if ((await retry(() => this.exists(path, { watch }))) !== null) continue;
        snapshot = null;
      }
      yield snapshot;
      if (!endOfStream(await fired.promise)) return;
    }
  }

  /** The node's children now and after every change (kazoo `ChildrenWatch`); null while the node does not exist. */
  async *watchChildren(path: string): AsyncGenerator<string[] | null, void, undefined> {
    validatePath(path);
    for (;;) {
      const fired = deferred<WatchedEvent>();
      const watch: Watcher = (event) => fired.resolve(event);
      let children: string[] | null;
      try {
        children = await retry(() => this.getChildren(path, { watch }));
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        if ((await retry(() => this.exists(path, { watch }))) !== null) continue;
        children = null;
      }
      yield children;
      if (!endOfStream(await fired.promise)) return;
    }
  }

  /**
   * Every event of a persistent (or, with `recursive`, persistent recursive) watch, as a stream. The watch is set
   * before this resolves, so no event after it is missed. `close()` or `break` removes the watcher.
   */
  async watchPersistent(path: string, options: { recursive?: boolean } = {}): Promise<WatchStream<WatchedEvent>> {
    const mode: WatchMode = options.recursive ? "persistentRecursive" : "persistent";
    // Removing the watcher when the consumer stops (close() or `break`): only ours, and only on this client —
    // the server keeps one watch per path and connection, which other watchers here may still need.
    const queue = new EventQueue<WatchedEvent>(() => {
      if (this.holdsWatcher(path, "any", watcher) && !isTerminal(this.core.state)) {
        this.removeWatches(path, "any", watcher).catch(() => {});
      }
    });
    const watcher: Watcher = (event) => {
      if (event.type === "persistentWatchRemoved") {
        queue.push(event); // removed by a removeWatches call: the stream reports it and ends
        queue.end();
      } else if (event.type !== "none") queue.push(event);
      else if (event.state === "expired") queue.end(new SessionExpiredError(path));
      else if (event.state === "closed") queue.end();
      else if (event.state === "authFailed") queue.end(new AuthFailedError(path));
    };
    await this.addWatch(path, watcher, mode);
    return Object.assign(queue, {
      close: async (): Promise<void> => {
        await queue.return();
      },
    });
  }

  // ---- plumbing ----

  private call<R extends Request<Watcher>>(request: R, timeoutMs?: number): Promise<ResultOf<R>> {
    if (!this.connectRequested) {
      return Promise.reject(new ClientUsageError("call connect() before making requests"));
    }
    const requestId = this.nextRequestId++;
    const promise = new Promise<ResultOf<R>>((resolve, reject) => {
      this.waiters.set(requestId, { resolve: resolve as (value: unknown) => void, reject, request });
    });
    const effectiveTimeoutMs = timeoutMs ?? this.requestTimeoutMs;
    this.runtime.feed({
      kind: "requestSubmitted",
      requestId,
      request,
      ...(effectiveTimeoutMs !== undefined ? { timeoutMs: effectiveTimeoutMs } : {}),
    });
    return promise;
  }

  private onRequestCompleted(requestId: number, outcome: RequestOutcome): void {
    const waiter = this.waiters.get(requestId);
    if (waiter === undefined) return;
    this.waiters.delete(requestId);
    if (outcome.ok) waiter.resolve(outcome.value);
    else waiter.reject(errorForCode(outcome.code, outcome.path));
  }

  private callWatchers(event: WatchedEvent, watchers: readonly Watcher[]): void {
    for (const watcher of watchers) {
      try {
        watcher(event);
      } catch (error) {
        this.onWatcherError(error, event);
      }
    }
  }

  private onStateChanged(state: ConnectionState, previous: ConnectionState): void {
    for (const listener of [...this.stateListeners]) {
      try {
        listener(state, previous);
      } catch (error) {
        this.onWatcherError(error, { type: "none", state: "syncConnected", path: null });
      }
    }
  }
}

function checkWatchOptions(call: string, path: string, options: WatchOptions): void {
  checkWatcher(call, path, options.watch, false);
  checkTimeout(call, path, options.timeoutMs);
}

function checkVersionOptions(call: string, path: string, options: VersionOptions): void {
  checkVersion(call, path, options.version);
  checkTimeout(call, path, options.timeoutMs);
}

function watcherOf(options: WatchOptions): { watcher?: Watcher } {
  return options.watch === undefined ? {} : { watcher: options.watch };
}

function isTerminal(state: ConnectionState): boolean {
  return state.kind === "closed" || state.kind === "expired" || state.kind === "authFailed";
}

function terminalError(state: ConnectionState): Error | null {
  switch (state.kind) {
    case "expired":
      return new SessionExpiredError();
    case "authFailed":
      return new AuthFailedError();
    case "closed":
      return new ConnectionLossError();
    default:
      return null;
  }
}

/** For the streams: true to go on after this event; false at close; throws on expiry or auth failure. */
function endOfStream(event: WatchedEvent): boolean {
  if (event.type !== "none") return true;
  if (event.state === "expired") throw new SessionExpiredError(event.path ?? undefined);
  if (event.state === "authFailed") throw new AuthFailedError(event.path ?? undefined);
  return false;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
