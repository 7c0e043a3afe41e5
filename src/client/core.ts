/**
 * The client's connection and session state machine, as a pure core: no sockets, no timers, no clock.
 * It is Apache's `ClientCnxn.SendThread` with the I/O taken out (book chapter 2 "sessions", chapter 5 "failure
 * handling"; notes §2 会话, §5 故障处理).
 *
 * Whoever drives it (the TCP runtime in `runtime.ts`, later the simulator) feeds it `CoreInput`s — "connect",
 * "the socket to host 2 is open", "these bytes arrived", "the socket closed", "it is now 12_345 ms", "send this
 * request", "close" — and carries out the `CoreOutput`s it returns, **in order**: open a socket, send bytes, close a
 * socket, report a state change, call watchers, complete a request. Then it calls `handle({kind: "tick"})` again
 * no later than `wakeAtMs`.
 *
 * States (the book's diagram, plus the terminal ones):
 *
 *     notConnected ──▶ connecting ⇄ connected ──▶ closing ──▶ closed
 *                          │            │
 *                          └────────────┴──▶ expired | authFailed     (terminal)
 *
 * Rules it follows, each from Apache `ClientCnxn`:
 * - Handshake: the first packet on a socket is a ConnectRequest carrying lastZxidSeen and, when resuming, the
 *   sessionId and password. A server whose state is behind lastZxidSeen closes the socket without answering; the
 *   core then simply moves to the next host, so it never attaches to a server that is behind what it has seen.
 * - A ConnectResponse with timeOut 0 means the session is gone: state `expired`, every pending call fails with
 *   SESSIONEXPIRED and every watcher gets an Expired event. This is not recoverable: build a new client.
 * - After a handshake: re-send auth packets (xid -4), then SetWatches (xid -8) with relativeZxid = lastZxidSeen,
 *   then whatever requests were queued while disconnected.
 * - Liveness: readTimeout = negotiated session timeout × 2/3. If nothing was received for readTimeout the
 *   connection is declared dead; a ping (xid -2) is sent when nothing was sent for readTimeout/2 (Apache sends
 *   it up to 1 s earlier; the exact moment does not matter as long as the server hears from us in time).
 *   While connecting, each attempt gets connectTimeout = session timeout / number of hosts.
 * - When a connection is lost, requests sent and not answered, and requests queued, fail with CONNECTIONLOSS
 *   (recoverable: the session lives on; the request may or may not have been executed). The client moves to
 *   the next host after a random delay (< reconnectDelayMsMax, Apache: 1 s), and waits hostCycleDelayMs more
 *   each time every host has been tried in a row without success (Apache `StaticHostProvider` spinDelay).
 * - Replies come back in request order. A reply whose xid is not the oldest outstanding request's is a broken
 *   connection (Apache throws "Xid out of order").
 * - A notification (xid -1) is reported before the reply that follows it in the byte stream, and the driver must
 *   keep that order: the server sends the event first so that a client sees the event before it can see the new
 *   data (book chapter 4 "通知优先").
 * - A per-request timeout that expires on a sent request fails it with REQUESTTIMEOUT and drops the connection:
 *   replies are ordered, so a reply that is late makes every later one late (Apache `cleanAndNotifyState`).
 */
import {
  AuthPacket,
  ConnectRequest,
  ConnectResponse,
  FrameDecoder,
  JuteDecodeError,
  JuteReader,
  JuteWriter,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
  errorCodes,
  eventTypeName,
  keeperStates,
  opCodes,
  xids,
  type EventTypeName,
  type KeeperStateName,
} from "../proto/index.ts";
import type { HostAddress } from "./connect-string.ts";
import {
  decodeResult,
  encodeRequest,
  requestPath,
  type EncodedRequest,
  type Request,
  type ResultByOp,
  type OpKind,
} from "./operations.ts";
import type { Chroot } from "./paths.ts";
import { setWatchesPackets } from "./set-watches.ts";
import { WatchRegistry } from "./watch-registry.ts";

// ---------------------------------------------------------------------------------------------------------------
// Limits and defaults (units last)

/** The password a new session starts with: 16 zero bytes (the C client reads a fixed-size reply). */
export const sessionPasswdBytes = 16;
/** Apache: `Thread.sleep(r.nextInt(1000))` before every reconnect attempt but the first. */
export const reconnectDelayMsMaxDefault = 1000;
/** Apache `StaticHostProvider.next(spinDelay)`: 1000 ms once every host was tried. */
export const hostCycleDelayMsDefault = 1000;
/** Apache `ZKClientConfig.CLIENT_MAX_PACKET_LENGTH_DEFAULT` (jute.maxbuffer): 0xfffff bytes. */
export const replyFrameBytesMaxDefault = 0xfffff;
/** Requests queued or in flight at once; beyond this a submission fails at once instead of growing memory. */
export const outstandingRequestsMaxDefault = 10_000;

// ---------------------------------------------------------------------------------------------------------------
// Public types

export interface SessionInfo {
  readonly sessionId: bigint;
  /** The session password the server chose; with the id it lets another connection resume the session. */
  readonly passwd: Buffer;
  /** The timeout the server granted (it clamps the request to [2, 20] × tickTime). */
  readonly negotiatedTimeoutMs: number;
}

export type ConnectionState =
  | { readonly kind: "notConnected" }
  /** `waiting`: pausing before the next attempt; `dialing`: TCP connect in progress; `handshaking`: ConnectRequest sent. */
  | { readonly kind: "connecting"; readonly hostIndex: number; readonly phase: "waiting" | "dialing" | "handshaking" }
  | { readonly kind: "connected"; readonly hostIndex: number; readonly session: SessionInfo }
  /** closeSession was sent; waiting for its reply. */
  | { readonly kind: "closing" }
  | { readonly kind: "closed" }
  | { readonly kind: "expired" }
  | { readonly kind: "authFailed" };

export type ConnectionStateKind = ConnectionState["kind"];

/** A watch notification (Apache `WatchedEvent`), with the client's path. */
export interface WatchedEvent {
  readonly type: EventTypeName;
  readonly state: KeeperStateName;
  /** null for session events (type "none"). */
  readonly path: string | null;
}

export type RequestOutcome =
  | { readonly ok: true; readonly value: ResultByOp[OpKind] }
  | { readonly ok: false; readonly code: number; readonly path: string | undefined };

export interface AuthInfo {
  readonly scheme: string;
  readonly auth: Buffer;
}

export interface CoreConfig {
  /** The servers, in the order to try them (shuffle first, as Apache does: see `shuffleHosts`). */
  readonly hosts: readonly HostAddress[];
  readonly chroot: Chroot;
  /** The session timeout to ask for; the server may grant another (see `SessionInfo.negotiatedTimeoutMs`). */
  readonly sessionTimeoutMs: number;
  /** Resume this session instead of creating one (Apache `new ZooKeeper(..., sessionId, passwd)`). */
  readonly session?: { readonly sessionId: bigint; readonly passwd: Buffer };
  /** A source of randomness in [0, 1), for reconnect jitter. Inject a seeded one to replay a run. */
  readonly random: () => number;
  readonly reconnectDelayMsMax?: number;
  readonly hostCycleDelayMs?: number;
  readonly replyFrameBytesMax?: number;
  readonly setWatchesPacketBytesMax?: number;
  readonly outstandingRequestsMax?: number;
}

export type CoreInput<W> =
  | { readonly kind: "connectRequested"; readonly nowMs: number }
  | { readonly kind: "socketConnected"; readonly connectionId: number; readonly nowMs: number }
  | { readonly kind: "bytesReceived"; readonly connectionId: number; readonly bytes: Buffer; readonly nowMs: number }
  | { readonly kind: "socketClosed"; readonly connectionId: number; readonly nowMs: number }
  | { readonly kind: "tick"; readonly nowMs: number }
  /** `requestId` is chosen by the driver (unique among outstanding requests) and comes back in `requestCompleted`. */
  | {
      readonly kind: "requestSubmitted";
      readonly requestId: number;
      readonly request: Request<W>;
      /** Fail with REQUESTTIMEOUT if no reply within this many ms (undefined: wait as long as the session lives). */
      readonly timeoutMs?: number;
      readonly nowMs: number;
    }
  /** addAuthInfo: remembered and re-sent on every reconnect; completes when the server accepts it. */
  | { readonly kind: "authSubmitted"; readonly requestId: number; readonly auth: AuthInfo; readonly nowMs: number }
  | { readonly kind: "closeRequested"; readonly nowMs: number };

export type CoreOutput<W> =
  /** Open a TCP connection; report `socketConnected` or `socketClosed` with this connectionId. */
  | { readonly kind: "openSocket"; readonly connectionId: number; readonly hostIndex: number; readonly host: HostAddress }
  /** Write these bytes (whole frames) to that socket. */
  | { readonly kind: "send"; readonly connectionId: number; readonly bytes: Buffer }
  /** Close that socket. Events that arrive for it afterwards are ignored. */
  | { readonly kind: "closeSocket"; readonly connectionId: number }
  | { readonly kind: "stateChanged"; readonly state: ConnectionState; readonly previous: ConnectionState }
  /** Call each watcher with the event, before carrying out any later output. */
  | { readonly kind: "watchEvent"; readonly event: WatchedEvent; readonly watchers: readonly W[] }
  | { readonly kind: "requestCompleted"; readonly requestId: number; readonly outcome: RequestOutcome };

export interface CoreStep<W> {
  readonly outputs: readonly CoreOutput<W>[];
  /** Call `handle({kind: "tick"})` at this time (or earlier); null: nothing is timed. */
  readonly wakeAtMs: number | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Internal bookkeeping

/** A request the application submitted, waiting to be sent or for its reply. */
interface UserEntry<W> {
  readonly kind: "user";
  readonly requestId: number;
  readonly request: Request<W>;
  readonly deadlineMs: number | null;
  xid: number;
}
/** Sent by the core itself on each new connection; nobody waits for it. */
interface SetWatchesEntry {
  readonly kind: "setWatches";
  readonly xid: number;
}
type SentEntry<W> = UserEntry<W> | SetWatchesEntry;

/** An exists request that carries a watcher. */
type ExistsRequest<W> = Extract<Request<W>, { op: "exists" }> & { readonly watcher: W };

interface AuthWaiter {
  readonly requestId: number | null;
}

interface Connection {
  readonly id: number;
  readonly hostIndex: number;
  phase: "dialing" | "handshaking" | "ready";
  readonly decoder: FrameDecoder;
  readonly startedMs: number;
  lastSendMs: number;
  lastRecvMs: number;
}

// ---------------------------------------------------------------------------------------------------------------

export class ClientCore<W> {
  private current: ConnectionState = { kind: "notConnected" };
  private connection: Connection | null = null;
  private nextConnectionId = 1;
  private hostIndex = 0;
  /** Attempts that failed since the last successful handshake (or since the start). */
  private failedAttemptsInRow = 0;
  private retryAtMs: number | null = null;
  private closeDeadlineMs: number | null = null;

  private sessionInfo: SessionInfo | null;
  private zxidSeen = 0n;
  private nextXid = 1;

  /** Submitted while not connected; sent after the next handshake. */
  private readonly unsent: UserEntry<W>[] = [];
  /** Sent, awaiting their replies, oldest first. */
  private readonly inFlight: SentEntry<W>[] = [];
  /** Auth packets sent and not yet answered. Their replies are not ordered with the others: the server answers
   *  auth at once (ZooKeeperServer.processPacket) while earlier requests may still be in its pipeline. */
  private readonly authWaiters: AuthWaiter[] = [];
  /** Every auth ever added, re-sent after each handshake (Apache `ClientCnxn.authInfo`). `requestId`: an
   *  addAuthInfo call still waiting for its first chance to be sent. */
  private readonly authInfo: Array<{ readonly auth: AuthInfo; requestId: number | null }> = [];
  /** Watches this session holds, by kind and path. */
  readonly watches = new WatchRegistry<W>();

  private outputs: CoreOutput<W>[] = [];

  private readonly reconnectDelayMsMax: number;
  private readonly hostCycleDelayMs: number;
  private readonly replyFrameBytesMax: number;
  private readonly outstandingRequestsMax: number;

  constructor(private readonly config: CoreConfig) {
    if (config.hosts.length === 0) throw new Error("ClientCore needs at least one host");
    if (!(config.sessionTimeoutMs > 0)) throw new Error("sessionTimeoutMs must be positive");
    this.reconnectDelayMsMax = config.reconnectDelayMsMax ?? reconnectDelayMsMaxDefault;
    this.hostCycleDelayMs = config.hostCycleDelayMs ?? hostCycleDelayMsDefault;
    this.replyFrameBytesMax = config.replyFrameBytesMax ?? replyFrameBytesMaxDefault;
    this.outstandingRequestsMax = config.outstandingRequestsMax ?? outstandingRequestsMaxDefault;
    this.sessionInfo = config.session
      ? { sessionId: config.session.sessionId, passwd: config.session.passwd, negotiatedTimeoutMs: config.sessionTimeoutMs }
      : null;
  }

  // ---- read-only views ----

  get state(): ConnectionState {
    return this.current;
  }

  /** The session once a server granted one (kept while reconnecting), or the one being resumed. */
  get session(): SessionInfo | null {
    return this.sessionInfo;
  }

  /** The highest zxid seen in any reply: a server behind it must not serve this client. */
  get lastZxidSeen(): bigint {
    return this.zxidSeen;
  }

  /** The socket currently open or being opened, if any. */
  get connectionId(): number | null {
    return this.connection?.id ?? null;
  }

  /** Requests submitted and not yet completed. */
  get outstandingRequests(): number {
    const waitingAuths = this.authInfo.filter((e) => e.requestId !== null).length;
    return this.unsent.length + this.inFlight.filter((e) => e.kind === "user").length + this.authWaiters.length + waitingAuths;
  }

  /** readTimeout: nothing received for this long means the connection is dead. */
  get readTimeoutMs(): number {
    return Math.floor((this.negotiatedOrRequestedTimeoutMs() * 2) / 3);
  }

  /** Ping after this long without sending anything. */
  get pingIntervalMs(): number {
    return Math.floor(this.readTimeoutMs / 2);
  }

  /** How long one connection attempt (TCP connect + handshake) may take. */
  get connectTimeoutMs(): number {
    return Math.floor(this.negotiatedOrRequestedTimeoutMs() / this.config.hosts.length);
  }

  // ---- the one entry point ----

  handle(input: CoreInput<W>): CoreStep<W> {
    this.outputs = [];
    switch (input.kind) {
      case "connectRequested":
        this.onConnectRequested(input.nowMs);
        break;
      case "socketConnected":
        this.onSocketConnected(input.connectionId, input.nowMs);
        break;
      case "bytesReceived":
        this.onBytesReceived(input.connectionId, input.bytes, input.nowMs);
        break;
      case "socketClosed":
        if (this.connection?.id === input.connectionId) this.connectionLost(input.nowMs);
        break;
      case "tick":
        this.onTick(input.nowMs);
        break;
      case "requestSubmitted":
        this.onRequestSubmitted(input.requestId, input.request, input.timeoutMs, input.nowMs);
        break;
      case "authSubmitted":
        this.onAuthSubmitted(input.requestId, input.auth);
        break;
      case "closeRequested":
        this.onCloseRequested(input.nowMs);
        break;
      default:
        assertNever(input);
    }
    const outputs = this.outputs;
    this.outputs = [];
    return { outputs, wakeAtMs: this.wakeAtMs() };
  }

  /** When the driver must tick next, or null when nothing is timed. */
  wakeAtMs(): number | null {
    const times: number[] = [];
    const c = this.connection;
    switch (this.current.kind) {
      case "connecting":
        if (c === null) {
          if (this.retryAtMs !== null) times.push(this.retryAtMs);
        } else {
          times.push(c.startedMs + this.connectTimeoutMs);
        }
        break;
      case "connected":
        if (c !== null) {
          times.push(c.lastRecvMs + this.readTimeoutMs);
          times.push(c.lastSendMs + this.pingIntervalMs);
        }
        break;
      case "closing":
        if (this.closeDeadlineMs !== null) times.push(this.closeDeadlineMs);
        break;
      default:
        break;
    }
    for (const e of this.unsent) if (e.deadlineMs !== null) times.push(e.deadlineMs);
    for (const e of this.inFlight) if (e.kind === "user" && e.deadlineMs !== null) times.push(e.deadlineMs);
    return times.length === 0 ? null : Math.min(...times);
  }

  // ---- inputs ----

  private onConnectRequested(nowMs: number): void {
    if (this.current.kind !== "notConnected") return;
    this.startAttempt(nowMs);
  }

  private startAttempt(nowMs: number): void {
    const hostIndex = this.hostIndex;
    const id = this.nextConnectionId++;
    this.connection = {
      id,
      hostIndex,
      phase: "dialing",
      decoder: new FrameDecoder(this.replyFrameBytesMax),
      startedMs: nowMs,
      lastSendMs: nowMs,
      lastRecvMs: nowMs,
    };
    this.retryAtMs = null;
    this.emit({ kind: "openSocket", connectionId: id, hostIndex, host: this.config.hosts[hostIndex]! });
    this.setState({ kind: "connecting", hostIndex, phase: "dialing" });
  }

  private onSocketConnected(connectionId: number, nowMs: number): void {
    const c = this.connection;
    if (c === null || c.id !== connectionId || c.phase !== "dialing") return;
    c.phase = "handshaking";
    const session = this.sessionInfo;
    const request: ConnectRequest = {
      protocolVersion: 0,
      lastZxidSeen: this.zxidSeen,
      timeOut: this.config.sessionTimeoutMs,
      sessionId: session?.sessionId ?? 0n,
      passwd: session?.passwd ?? Buffer.alloc(sessionPasswdBytes),
      readOnly: false,
    };
    const w = new JuteWriter();
    ConnectRequest.write(w, request);
    this.sendFrame(w.toFrame(), nowMs);
    this.setState({ kind: "connecting", hostIndex: c.hostIndex, phase: "handshaking" });
  }

  private onBytesReceived(connectionId: number, bytes: Buffer, nowMs: number): void {
    const c = this.connection;
    if (c === null || c.id !== connectionId || c.phase === "dialing") return;
    c.lastRecvMs = nowMs;
    for (const event of c.decoder.push(bytes)) {
      // A frame may have ended this connection (expiry, auth failure, a protocol error): drop the rest.
      if (this.connection !== c) return;
      if (event.kind === "oversize") {
        this.connectionLost(nowMs);
        return;
      }
      try {
        if (c.phase === "handshaking") this.onConnectResponse(event.body, nowMs);
        else this.onReply(event.body, nowMs);
      } catch (error) {
        if (!(error instanceof JuteDecodeError)) throw error;
        // Bytes that cannot be a reply: the stream is out of step and nothing after can be trusted.
        this.connectionLost(nowMs);
        return;
      }
    }
  }

  private onTick(nowMs: number): void {
    this.expireRequestDeadlines(nowMs);
    const c = this.connection;
    switch (this.current.kind) {
      case "connecting":
        if (c === null) {
          if (this.retryAtMs !== null && nowMs >= this.retryAtMs) this.startAttempt(nowMs);
        } else if (nowMs - c.startedMs >= this.connectTimeoutMs) {
          // Apache: "Client session timed out, have not heard from server in Xms" while connecting.
          this.connectionLost(nowMs);
        }
        break;
      case "connected":
        if (c === null) break;
        if (nowMs - c.lastRecvMs >= this.readTimeoutMs) {
          this.connectionLost(nowMs);
        } else if (nowMs - c.lastSendMs >= this.pingIntervalMs) {
          this.sendPacket(xids.ping, opCodes.ping, Buffer.alloc(0), nowMs);
        }
        break;
      case "closing":
        if (this.closeDeadlineMs !== null && nowMs >= this.closeDeadlineMs) this.finishClose();
        break;
      default:
        break;
    }
  }

  private onRequestSubmitted(requestId: number, request: Request<W>, timeoutMs: number | undefined, nowMs: number): void {
    const refusal = this.refusalCode();
    if (refusal !== null) {
      this.complete(requestId, { ok: false, code: refusal, path: requestPath(request) });
      return;
    }
    // (The cheap total, internal packets included, is checked first: it is an upper bound of the exact count.)
    const upperBound = this.unsent.length + this.inFlight.length + this.authWaiters.length + this.authInfo.length;
    if (upperBound >= this.outstandingRequestsMax && this.outstandingRequests >= this.outstandingRequestsMax) {
      this.complete(requestId, { ok: false, code: errorCodes.throttledOp, path: requestPath(request) });
      return;
    }
    const entry: UserEntry<W> = {
      kind: "user",
      requestId,
      request,
      deadlineMs: timeoutMs === undefined || timeoutMs <= 0 ? null : nowMs + timeoutMs,
      xid: 0,
    };
    if (this.current.kind === "connected") this.sendUserEntry(entry, nowMs);
    else this.unsent.push(entry);
  }

  private onAuthSubmitted(requestId: number, auth: AuthInfo): void {
    const refusal = this.refusalCode();
    if (refusal !== null) {
      this.complete(requestId, { ok: false, code: refusal, path: undefined });
      return;
    }
    // Remembered, so that it is sent again after every reconnect (Apache addAuthInfo). If we are not connected
    // now, the next handshake sends it.
    if (this.current.kind === "connected" && this.connection !== null) {
      this.authInfo.push({ auth, requestId: null });
      this.sendAuth(auth, requestId, this.connection.lastSendMs);
    } else {
      this.authInfo.push({ auth, requestId });
    }
  }

  private onCloseRequested(nowMs: number): void {
    switch (this.current.kind) {
      case "connected": {
        // closeSession: the server deletes our ephemerals and answers; then we close the socket.
        const entry: UserEntry<W> = { kind: "user", requestId: -1, request: { op: "closeSession" }, deadlineMs: null, xid: 0 };
        this.sendUserEntry(entry, nowMs);
        this.closeDeadlineMs = nowMs + this.readTimeoutMs;
        this.setState({ kind: "closing" });
        break;
      }
      case "notConnected":
      case "connecting":
        // Not connected: do not reconnect just to say goodbye (Apache stops the SendThread). The server will
        // expire the session after its timeout.
        this.finishClose();
        break;
      default:
        break;
    }
  }

  // ---- the handshake ----

  private onConnectResponse(body: Buffer, nowMs: number): void {
    const c = this.connection!;
    const response = ConnectResponse.read(new JuteReader(body, this.replyFrameBytesMax));
    // lab 5.1: the ConnectResponse: timeOut 0 means expired (terminal); else keep the session, send auth, SetWatches, queued requests
    //   The server answers the handshake on connection `c` (book chapter 5; Apache ClientCnxn.onConnected and
    //   primeConnection). `response.timeOut <= 0` is the server saying "that session does not exist (any more)":
    //   this.terminate("expired", errorCodes.sessionExpired, "expired") and return — nothing else; it is not
    //   recoverable, so no reconnecting. Otherwise:
    //   - remember the session in this.sessionInfo: sessionId, passwd (16 zero bytes if null) and the timeout the
    //     server granted (response.timeOut, not the one asked for): every later reconnect resumes it;
    //   - the connection is up: c.phase = "ready", and this.failedAttemptsInRow = 0;
    //   - then, in this order: (1) every remembered auth in this.authInfo, with this.sendAuth(entry.auth,
    //     entry.requestId, nowMs), then set entry.requestId = null (its caller is now waiting for the reply);
    //     (2) each packet of this.setWatches(): this.sendPacket(xids.setWatches, packet.opCode, packet.body, nowMs)
    //     and push { kind: "setWatches", xid: xids.setWatches } on this.inFlight (its reply comes in order);
    //     (3) every request in this.unsent, oldest first (this.sendUserEntry), leaving this.unsent empty;
    //   - and only then this.setState({ kind: "connected", hostIndex: c.hostIndex, session: this.sessionInfo }).
    //   Why this order (Apache's): everything after the auth packets runs with the client's identity, and the
    //   watches are back in place before any queued request runs, so no change can slip between them.
    if (response.timeOut <= 0) {
      // Apache ClientCnxn.onConnected: "Unable to reconnect to ZooKeeper service, session 0x... has expired".
      this.terminate("expired", errorCodes.sessionExpired, "expired");
      return;
    }
    this.sessionInfo = {
      sessionId: response.sessionId,
      passwd: response.passwd ?? Buffer.alloc(sessionPasswdBytes),
      negotiatedTimeoutMs: response.timeOut,
    };
    c.phase = "ready";
    this.failedAttemptsInRow = 0;

    // 1. auth, as Apache primeConnection: every remembered auth, in the order added.
    for (const entry of this.authInfo) {
      this.sendAuth(entry.auth, entry.requestId, nowMs);
      entry.requestId = null;
    }
    // 2. the watches we hold, relative to the last zxid we saw.
    for (const packet of this.setWatches()) {
      this.sendPacket(xids.setWatches, packet.opCode, packet.body, nowMs);
      this.inFlight.push({ kind: "setWatches", xid: xids.setWatches });
    }
    // 3. what was submitted while we were away.
    for (const entry of this.unsent.splice(0)) this.sendUserEntry(entry, nowMs);

    this.setState({ kind: "connected", hostIndex: c.hostIndex, session: this.sessionInfo });
    // end lab 5.1
  }

  private setWatches(): EncodedRequest[] {
    if (this.watches.isEmpty) return [];
    const chroot = this.config.chroot;
    const server = (paths: string[]): string[] => paths.map((p) => chroot.toServer(p));
    return setWatchesPackets(
      {
        data: server(this.watches.paths("data")),
        exist: server(this.watches.paths("exist")),
        child: server(this.watches.paths("child")),
        persistent: server(this.watches.paths("persistent")),
        persistentRecursive: server(this.watches.paths("persistentRecursive")),
      },
      this.zxidSeen,
      this.config.setWatchesPacketBytesMax,
    );
  }

  // ---- replies ----

  private onReply(body: Buffer, nowMs: number): void {
    const r = new JuteReader(body, this.replyFrameBytesMax);
    const header = ReplyHeader.read(r);
    switch (header.xid) {
      case xids.notification:
        this.onNotification(r);
        return;
      case xids.ping:
        return;
      case xids.auth:
        this.onAuthReply(header.err);
        return;
      default:
        break;
    }
    // lab 7.5: match each reply to its request by xid: replies come in request order
    //   Any other reply answers the oldest request still in flight: this.inFlight holds what was sent, oldest
    //   first (user requests and the core's own SetWatches, xid -8). Take the first entry out; if there is none,
    //   or its xid is not header.xid, the stream is out of step (Apache: "Xid out of order"): put the entry back
    //   and call this.connectionLost(nowMs) — nothing on this connection can be trusted any more.
    //   On a match, remember the zxid: this.zxidSeen is the highest header.zxid of any such reply, and never goes
    //   down (pings, auth and notifications, handled above, do not count). It goes into every ConnectRequest as
    //   lastZxidSeen, so that the client never attaches to a server that is behind what it has already seen.
    //   Then a SetWatches reply is done (its events, if any, came before it); a user request's reply goes to
    //   this.onUserReply(entry, header.err, r), which decodes the body and completes the call.
    const entry = this.inFlight.shift();
    if (entry === undefined || entry.xid !== header.xid) {
      // Apache: "Xid out of order. Got Xid X with err E expected Xid Y".
      if (entry !== undefined) this.inFlight.unshift(entry);
      this.connectionLost(nowMs);
      return;
    }
    // Apache updates lastZxid only from replies to requests (not pings, auth or notifications), when > 0.
    if (header.zxid > this.zxidSeen) this.zxidSeen = header.zxid;
    if (entry.kind === "setWatches") return; // its events, if any, came before this reply
    this.onUserReply(entry, header.err, r);
    // end lab 7.5
  }

  private onNotification(r: JuteReader): void {
    const wire = WatcherEvent.read(r);
    const type = eventTypeName(wire.type);
    if (type === undefined) return; // an event type this client does not know: nobody can be waiting for it
    const path = this.config.chroot.toClient(wire.path ?? "");
    const watchers = this.watches.materialize(type, path);
    const state = keeperStateName(wire.state);
    this.emit({ kind: "watchEvent", event: { type, state, path }, watchers });
  }

  private onAuthReply(err: number): void {
    const waiter = this.authWaiters.shift();
    if (err === errorCodes.ok) {
      if (waiter?.requestId != null) this.complete(waiter.requestId, { ok: true, value: null });
      return;
    }
    // Apache: state AUTH_FAILED, an AuthFailed event, and the server closes the connection. Terminal.
    if (waiter?.requestId != null) this.complete(waiter.requestId, { ok: false, code: err, path: undefined });
    this.terminate("authFailed", errorCodes.authFailed, "authFailed");
  }

  private onUserReply(entry: UserEntry<W>, err: number, r: JuteReader): void {
    const request = entry.request;
    const path = requestPath(request);
    if (request.op === "closeSession") {
      this.finishClose();
      return;
    }
    if (request.op === "exists" && request.watcher !== undefined) {
      this.onWatchedExistsReply(entry.requestId, { ...request, watcher: request.watcher }, err, r);
      return;
    }
    // exists on a missing node is not a failure: it answers null.
    if (request.op === "exists" && err === errorCodes.noNode) {
      this.complete(entry.requestId, { ok: true, value: null });
      return;
    }
    if (err !== errorCodes.ok) {
      this.complete(entry.requestId, { ok: false, code: err, path });
      return;
    }
    const value = decodeResult(request, r, this.config.chroot);
    // The watch is registered when the reply arrives (Apache `WatchRegistration.register`): the server set it
    // while executing the request, so any event for it comes after this reply.
    switch (request.op) {
      case "getData":
        if (request.watcher !== undefined) this.watches.add("data", request.path, request.watcher);
        break;
      case "getChildren":
        if (request.watcher !== undefined) this.watches.add("child", request.path, request.watcher);
        break;
      case "addWatch":
        this.watches.add(request.mode, request.path, request.watcher);
        break;
      case "removeWatches":
        this.reportRemovedWatches(request.path, request.watcherType, request.watcher);
        break;
      default:
        break;
    }
    this.complete(entry.requestId, { ok: true, value });
  }

  /**
   * The reply to exists(path, watcher): the one call that sets a watch whether or not the node exists — that is
   * how a client waits for a node to be created (book chapter 4; notes §4, §5).
   */
  private onWatchedExistsReply(requestId: number, request: ExistsRequest<W>, err: number, r: JuteReader): void {
    // lab 5.5: exists sets a watch even on a missing node: remember it as an exist watch (a data watch if it exists)
    //   Register the watch now that the reply is here (the server set it while running the request), in
    //   this.watches, under the kind that says what the server is watching for:
    //   - err NONODE: not a failure — the call answers null (complete with { ok: true, value: null }) and the
    //     server holds a watch that fires on NodeCreated: this.watches.add("exist", request.path, request.watcher);
    //   - err OK: the node exists; decodeResult(request, r, this.config.chroot) is its Stat (the call's value),
    //     and the watch is a "data" watch (fires on NodeDataChanged or NodeDeleted);
    //   - any other error: the server set no watch; complete with { ok: false, code: err, path: request.path }.
    //   The kind matters on a reconnect: SetWatches sends exist watches in their own list, and the new server
    //   re-arms an exist watch on a missing node, but fires NodeDeleted at once for a *data* watch on one. And it
    //   has a limit (book chapter 5): a node created and deleted again while the client was disconnected leaves
    //   no trace, so the exist watch just stays armed. Do not count on seeing short-lived nodes appear.
    if (err === errorCodes.noNode) {
      this.watches.add("exist", request.path, request.watcher);
      this.complete(requestId, { ok: true, value: null });
      return;
    }
    if (err !== errorCodes.ok) {
      this.complete(requestId, { ok: false, code: err, path: request.path });
      return;
    }
    const stat = decodeResult(request, r, this.config.chroot);
    this.watches.add("data", request.path, request.watcher);
    this.complete(requestId, { ok: true, value: stat });
    // end lab 5.5
  }

  /** Watchers taken out by removeWatches are told so, one event type at a time (Apache `WatchDeregistration`). */
  private reportRemovedWatches(path: string, watcherType: "children" | "data" | "any", watcher: W | undefined): void {
    const removed = this.watches.remove(path, watcherType, watcher);
    for (const type of ["childWatchRemoved", "dataWatchRemoved", "persistentWatchRemoved"] as const) {
      const watchers = [...new Set(removed.filter((r) => r.eventType === type).map((r) => r.watcher))];
      if (watchers.length > 0) this.emit({ kind: "watchEvent", event: { type, state: "syncConnected", path }, watchers });
    }
  }

  // ---- sending ----

  private sendUserEntry(entry: UserEntry<W>, nowMs: number): void {
    const encoded = encodeRequest(entry.request, this.config.chroot);
    entry.xid = this.takeXid();
    this.sendPacket(entry.xid, encoded.opCode, encoded.body, nowMs);
    this.inFlight.push(entry);
  }

  private sendAuth(auth: AuthInfo, requestId: number | null, nowMs: number): void {
    const w = new JuteWriter();
    AuthPacket.write(w, { type: 0, scheme: auth.scheme, auth: auth.auth });
    this.sendPacket(xids.auth, opCodes.auth, Buffer.from(w.view()), nowMs);
    this.authWaiters.push({ requestId });
  }

  private takeXid(): number {
    const xid = this.nextXid;
    // xids are positive ints; wrap before 2^31 (negative ones are reserved).
    this.nextXid = xid >= 0x7fffffff ? 1 : xid + 1;
    return xid;
  }

  private sendPacket(xid: number, opCode: number, body: Buffer, nowMs: number): void {
    const w = new JuteWriter(16 + body.length);
    RequestHeader.write(w, { xid, type: opCode });
    w.writeRaw(body);
    this.sendFrame(w.toFrame(), nowMs);
  }

  private sendFrame(frame: Buffer, nowMs: number): void {
    const c = this.connection!;
    c.lastSendMs = nowMs;
    this.emit({ kind: "send", connectionId: c.id, bytes: frame });
  }

  // ---- losing and ending ----

  /**
   * The socket broke, timed out, or spoke nonsense. Not an expiry: the session may well be alive, so we fail
   * what is outstanding with CONNECTIONLOSS and go on to the next host.
   */
  private connectionLost(nowMs: number): void {
    // lab 5.2: a lost connection: fail what is outstanding with CONNECTIONLOSS, then try the next host after a pause
    //   The connection this.connection (may be null) is gone: emit { kind: "closeSocket", connectionId } for it and
    //   set this.connection = null. If it never finished its handshake (phase not "ready"), it was a failed
    //   attempt: this.failedAttemptsInRow++ (a handshake resets it to 0).
    //   Fail every outstanding call with CONNECTIONLOSS at once: this.failOutstanding(errorCodes.connectionLoss).
    //   Each may or may not have happened; the application decides (book chapter 3). The session is NOT over:
    //   keep this.sessionInfo, the watches and the auth, to resume on the next server.
    //   If we were closing (this.current.kind === "closing"), there is nothing to resume: this.finishClose().
    //   Else move on to the next host, (host index of the lost connection + 1) % number of hosts, in
    //   this.hostIndex, and wait before dialing: a random delay, Math.floor(this.config.random() *
    //   this.reconnectDelayMsMax) (so that a thousand clients of a crashed server do not all come back in the same
    //   millisecond), plus this.hostCycleDelayMs more whenever failedAttemptsInRow is a non-zero multiple of the
    //   number of hosts (every host was tried in a row without success: Apache's StaticHostProvider spinDelay).
    //   Set this.retryAtMs = nowMs + delay (onTick dials then) and
    //   this.setState({ kind: "connecting", hostIndex: this.hostIndex, phase: "waiting" }).
    const c = this.connection;
    if (c !== null) this.emit({ kind: "closeSocket", connectionId: c.id });
    this.connection = null;
    if (c === null || c.phase !== "ready") this.failedAttemptsInRow++;
    this.failOutstanding(errorCodes.connectionLoss);
    if (this.current.kind === "closing") {
      this.finishClose();
      return;
    }
    const hosts = this.config.hosts.length;
    this.hostIndex = ((c?.hostIndex ?? this.hostIndex) + 1) % hosts;
    // (The first attempt of all is made at once, by connectRequested; every later one waits.)
    let delayMs = Math.floor(this.config.random() * this.reconnectDelayMsMax);
    if (this.failedAttemptsInRow > 0 && this.failedAttemptsInRow % hosts === 0) delayMs += this.hostCycleDelayMs;
    this.retryAtMs = nowMs + delayMs;
    this.setState({ kind: "connecting", hostIndex: this.hostIndex, phase: "waiting" });
    // end lab 5.2
  }

  private failOutstanding(code: number): void {
    const entries = [...this.inFlight.splice(0), ...this.unsent.splice(0)];
    // An addAuthInfo not yet answered fails like any request; the auth itself stays remembered and is re-sent.
    const authRequestIds = [
      ...this.authWaiters.splice(0).map((w) => w.requestId),
      ...this.authInfo.map((entry) => entry.requestId),
    ];
    for (const entry of this.authInfo) entry.requestId = null;
    for (const requestId of authRequestIds) {
      if (requestId !== null) this.complete(requestId, { ok: false, code, path: undefined });
    }
    for (const entry of entries) {
      if (entry.kind !== "user" || entry.request.op === "closeSession") continue;
      this.complete(entry.requestId, { ok: false, code, path: requestPath(entry.request) });
    }
  }

  /** Expired or auth failed: no way back. Every watcher hears of it once, and the table is emptied. */
  private terminate(kind: "expired" | "authFailed", code: number, eventState: KeeperStateName): void {
    const c = this.connection;
    if (c !== null) this.emit({ kind: "closeSocket", connectionId: c.id });
    this.connection = null;
    this.retryAtMs = null;
    this.setState({ kind });
    this.emit({ kind: "watchEvent", event: { type: "none", state: eventState, path: null }, watchers: this.watches.drain() });
    this.failOutstanding(code);
  }

  private finishClose(): void {
    const c = this.connection;
    if (c !== null) this.emit({ kind: "closeSocket", connectionId: c.id });
    this.connection = null;
    this.retryAtMs = null;
    this.closeDeadlineMs = null;
    this.setState({ kind: "closed" });
    this.emit({ kind: "watchEvent", event: { type: "none", state: "closed", path: null }, watchers: this.watches.drain() });
    this.failOutstanding(errorCodes.connectionLoss);
  }

  private expireRequestDeadlines(nowMs: number): void {
    for (let i = this.unsent.length - 1; i >= 0; i--) {
      const e = this.unsent[i]!;
      if (e.deadlineMs !== null && nowMs >= e.deadlineMs) {
        this.unsent.splice(i, 1);
        this.complete(e.requestId, { ok: false, code: errorCodes.requestTimeout, path: requestPath(e.request) });
      }
    }
    const late = this.inFlight.find((e) => e.kind === "user" && e.deadlineMs !== null && nowMs >= e.deadlineMs);
    if (late === undefined || late.kind !== "user") return;
    this.inFlight.splice(this.inFlight.indexOf(late), 1);
    this.complete(late.requestId, { ok: false, code: errorCodes.requestTimeout, path: requestPath(late.request) });
    this.connectionLost(nowMs);
  }

  /** Why a new request cannot even be queued, or null. */
  private refusalCode(): number | null {
    switch (this.current.kind) {
      case "expired":
      case "closing":
      case "closed":
        // Apache answers calls on a closed or expired handle with SESSIONEXPIRED.
        return errorCodes.sessionExpired;
      case "authFailed":
        return errorCodes.authFailed;
      default:
        return null;
    }
  }

  // ---- helpers ----

  private negotiatedOrRequestedTimeoutMs(): number {
    return this.sessionInfo?.negotiatedTimeoutMs ?? this.config.sessionTimeoutMs;
  }

  private complete(requestId: number, outcome: RequestOutcome): void {
    if (requestId < 0) return; // internal
    this.emit({ kind: "requestCompleted", requestId, outcome });
  }

  private setState(next: ConnectionState): void {
    const previous = this.current;
    this.current = next;
    // Phase changes within "connecting" are not state changes to the application.
    if (previous.kind !== next.kind) this.emit({ kind: "stateChanged", state: next, previous });
  }

  private emit(output: CoreOutput<W>): void {
    this.outputs.push(output);
  }
}

function keeperStateName(code: number): KeeperStateName {
  for (const [name, value] of Object.entries(keeperStates)) if (value === code) return name as KeeperStateName;
  return "syncConnected";
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
