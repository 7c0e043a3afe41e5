/**
 * The ZooKeeper server core, without sockets (Apache `ZooKeeperServer` and its request processors).
 *
 * Every request, read or write, takes its place in one FIFO (book chapter 9 "请求、事务和标识符"):
 *
 *   prepare (writes only: request → txn, zxid assigned)  →  log (writes only: make the txn durable)
 *     →  apply (tree.processTxn: watch notifications go out here)  →  reply
 *
 * The head of the FIFO is finished only once it is durable, so replies leave in request order, a read is
 * answered after every write received before it, and a notification always precedes the reply that could show
 * its client the new data. `TxnSink` is the seam where the transaction log (or, on an ensemble's leader, Zab's
 * propose/commit) plugs in; without one, txns are durable at once and the pipeline runs synchronously.
 *
 * In an ensemble (`ServerOptions.quorum`, src/ensemble) a follower or observer does not prepare writes: it
 * forwards them to the leader, and the txns the leader commits come back through `applyCommitted` — applied at
 * once in commit order, answered in FIFO order (Apache FollowerZooKeeperServer + CommitProcessor).
 */
import { JuteReader, JuteWriter } from "../proto/jute.ts";
import {
  ConnectRequest,
  ConnectResponse,
  Create2Response,
  ErrorResponse,
  GetACLResponse,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsResponse,
  MultiHeader,
  PathResponse,
  ReplyHeader,
  RequestHeader,
  Stat,
  StatResponse,
  WhoAmIResponse,
  addWatchModes,
  errorCodes,
  opCodes,
  perms,
  xids,
  type ErrorName,
  type OpName,
  type EventTypeName,
} from "../proto/index.ts";
import { authInfoOrder, authUserName, authenticate, maskDigests } from "../tree/acl.ts";
import type { Id } from "../proto/records.ts";
import { DataTree, type TxnResult } from "../tree/data-tree.ts";
import { clientStat, ttlOfOwner } from "../tree/stat.ts";
import { makeZxid, type Txn, type TxnHeader } from "../tree/txn.ts";
import { JavaHashSetOrder, concurrentKeySetOrder, javaStringHash } from "../tree/java-order.ts";
import { ClientConnection, connectionExpiresAtMs, sessionlessConnectionTimeoutMs, type Transport } from "./connection.ts";
import { Preparer, referenceAclFunctions, type AclFunctions } from "./prepare.ts";
import { encodeFrame, encodeReply } from "./replies.ts";
import { decodeRequest, isWriteOp, type ClientRequest, type ReadOp } from "./requests.ts";
import { SessionTracker, sessionPassword, sessionPasswordBytes } from "./sessions.ts";
import { WatchManager } from "./watches.ts";
import { fourLetterWordOf, isFourLetterWordAllowed, runFourLetterWord, type FourLetterWord } from "./four-letter.ts";
import type { ForwardedWrite } from "../ensemble/types.ts";
import { ServerMetrics } from "./metrics.ts";

/** Time is an input: the runtime passes a real clock, tests and the simulator a virtual one. */
export interface Clock {
  /** Monotonic milliseconds, for timeouts. */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch, stamped on txns (ctime/mtime). */
  wallMs(): number;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * Where txns become durable. `done` must be called once the txn is safe (on disk, or on a quorum), in the order
 * the txns were appended; it may be called synchronously.
 */
export interface TxnSink {
  append(header: TxnHeader, txn: Txn, done: () => void): void;
}

/**
 * This server's part in an ensemble (absent: standalone). One ZooKeeperServer exists per serving period of a
 * quorum member, as Apache makes a Leader/Follower/ObserverZooKeeperServer each time a role starts.
 */
export type QuorumRole =
  /** Prepares every write (its own clients' and those followers forward) and proposes it through `txnSink`. */
  | { readonly mode: "leader"; readonly proposalSizes: ProposalSizes; readonly quorumSize: number; learners(): LeaderGauges }
  | {
      readonly mode: "follower" | "observer";
      /** Voting servers in the ensemble (mntr's zk_quorum_size). */
      readonly quorumSize: number;
      /** Hands a write (or a session's creation or close) to the leader; its txn returns through applyCommitted. */
      forward(write: ForwardedWrite): void;
      /** Asks the leader for a SYNC; `done(true)` once it came back behind every txn outstanding before it. */
      sync(done: (ok: boolean) => void): void;
      /** Asks the leader whether a reconnecting client's session is alive (REVALIDATE); it answers `revalidated`. */
      revalidate(sessionId: bigint, timeoutMs: number): void;
    };

/** What a leader's mntr adds (Apache LeaderZooKeeperServer's gauges). */
export interface LeaderGauges {
  /** Connected learners, in any stage. */
  readonly learners: number;
  /** Followers that are synchronized and receive proposals. */
  readonly syncedFollowers: number;
  readonly syncedObservers: number;
  readonly pendingSyncs: number;
  readonly uptimeMs: number;
}

/** The sizes of the serialized proposals, in bytes (Apache BufferStats; -1 before the first): `srvr` shows them. */
export interface ProposalSizes {
  last: number;
  min: number;
  max: number;
}

export interface ServerOptions {
  /** 1 for a standalone server; the top byte of every session id it creates. */
  readonly serverId: number;
  readonly tickTimeMs: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** jute.maxbuffer: the largest frame accepted, in bytes. */
  readonly maxFrameBytes: number;
  /** DigestAuthenticationProvider.superDigest, `super:<base64 sha1>`. */
  readonly superDigest: string | undefined;
  readonly extendedTypesEnabled: boolean;
  /** globalOutstandingLimit: above this many requests in flight, stop reading from clients. */
  readonly globalOutstandingLimit: number;
  /** 4lw.commands.whitelist; `*` allows all. */
  readonly fourLetterWords: readonly string[];
  /** znode.container.maxPerMinute: container/TTL deletions per minute. */
  readonly containerMaxPerMinute: number;
  readonly reconfigEnabled: boolean;
  /** Printed by `conf`, as `key=value` lines. */
  readonly describeConfig: () => ReadonlyArray<readonly [string, string]>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly txnSink?: TxnSink;
  /** The watch manager to use (a seam: lab 4 plugs the learner's in here). */
  readonly watchManager?: WatchManager;
  /** Builds the prepare step (a seam: lab 2 plugs the learner's in here). */
  readonly createPreparer?: (tree: DataTree, extendedTypesEnabled: boolean) => Preparer;
  /** How a stored stat is shown to clients (a seam: lab 2 plugs the learner's `clientStat` in here). */
  readonly statView?: typeof clientStat;
  /** The ACL check and fixup, for every read, write and notification (a seam: lab 6 plugs the learner's in here). */
  readonly acl?: Partial<AclFunctions>;
  /** Part of an ensemble: which role, and how writes reach the leader (absent: standalone). */
  readonly quorum?: QuorumRole;
  /**
   * An ensemble member serves at least at zxid (epoch << 32): Apache's servers take the new epoch's first zxid
   * when Zab establishes it, so srvr and reply headers show 0x100000000 before the epoch's first txn.
   */
  readonly zxidFloor?: bigint;
  /** The state to serve (an ensemble member keeps its tree and sessions across roles); default: new, empty. */
  readonly tree?: DataTree;
  readonly sessions?: SessionTracker;
}

/** A request in the FIFO. */
interface Pending {
  readonly conn: ClientConnection | null;
  readonly xid: number;
  readonly sessionId: bigint;
  readonly request: ClientRequest;
  readonly receivedAtMs: number;
  /** The request body after its header, kept for forwarding to the leader (followers and observers). */
  readonly body?: Buffer;
  /** Whose write it is: the connection's auth ids, or those a follower forwarded with it (leader). */
  readonly authIds?: readonly Id[];
  header?: TxnHeader;
  txn?: Txn;
  /** Follower: already applied when its commit came (commit order); only the reply waits for the FIFO. */
  result?: TxnResult;
  /** Follower: forwarded to the leader, waiting for its commit. */
  awaitingCommit?: boolean;
  durable: boolean;
}

/** Server-wide counters for the four-letter words. */
export interface ServerStats {
  packetsReceived: number;
  /** Every packet sent to a client: replies, notifications, handshakes, four-letter answers (ServerCnxn.packetSent). */
  readonly packetsSent: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  requestsCompleted: number;
  readonly startedAtMs: number;
}

export class ZooKeeperServer {
  readonly tree: DataTree;
  readonly sessions: SessionTracker;
  readonly watches: WatchManager;
  readonly connections = new Set<ClientConnection>();
  readonly stats: ServerStats;
  /** What `mntr` reports beyond ServerStats. */
  readonly metrics = new ServerMetrics();
  private readonly preparer: Preparer;
  /** A follower's or observer's role (writes go to the leader); null on a leader or a standalone server. */
  private readonly learnerRole: Extract<QuorumRole, { mode: "follower" | "observer" }> | null;
  /** Learner: reconnecting clients whose sessions the leader is asked about, by session id (Learner.pendingRevalidations). */
  private readonly awaitingRevalidation = new Map<bigint, ClientConnection>();
  private readonly acl: AclFunctions;
  private readonly sessionConnections = new Map<bigint, ClientConnection>();
  private readonly fifo: Pending[] = [];
  private epoch = 0;
  private zxidCounter = 0;
  private throttled = false;
  private containerDeletesThisMinute = 0;
  private containerMinuteStartMs = 0;

  constructor(readonly options: ServerOptions) {
    const quorum = options.quorum;
    this.learnerRole = quorum !== undefined && quorum.mode !== "leader" ? quorum : null;
    this.watches = options.watchManager ?? new WatchManager();
    this.acl = { ...referenceAclFunctions, ...options.acl };
    this.tree = options.tree ?? new DataTree({ extendedTypesEnabled: options.extendedTypesEnabled, statView: options.statView });
    this.tree.setWatchTrigger(this.watches.onTreeEvent);
    const now = options.clock.nowMs();
    this.sessions = options.sessions ?? new SessionTracker(options.tickTimeMs, options.serverId, now, options.clock.wallMs());
    this.preparer = (options.createPreparer ?? ((tree, ext) => new Preparer(tree, ext, this.acl)))(this.tree, options.extendedTypesEnabled);
    const sent = this.metrics.sent;
    this.watches.onTriggered = (type, watchers) => this.metrics.watchersReached[type].add(watchers);
    this.stats = {
      packetsReceived: 0,
      get packetsSent() {
        return sent.packets;
      },
      minLatencyMs: Number.MAX_SAFE_INTEGER,
      maxLatencyMs: 0,
      totalLatencyMs: 0,
      requestsCompleted: 0,
      startedAtMs: now,
    };
  }

  /** The zxid of the last txn applied to the tree. */
  get lastZxid(): bigint {
    const tree = this.tree.lastProcessedZxid;
    const floor = this.options.zxidFloor;
    return floor !== undefined && floor > tree ? floor : tree;
  }

  /** Requests received and not yet answered. */
  get outstandingRequests(): number {
    return this.fifo.length;
  }

  private nextZxid(): bigint {
    this.zxidCounter++;
    return makeZxid(this.epoch, this.zxidCounter);
  }

  /** Continues numbering after recovered state (storage) or a new epoch (quorum). */
  setLastZxid(zxid: bigint): void {
    this.epoch = Number(zxid >> 32n);
    this.zxidCounter = Number(zxid & 0xffffffffn);
  }

  // ---------------------------------------------------------------- connections

  /** A client connected (the TCP listener calls this for every accepted socket). */
  accept(transport: Transport): ClientConnection {
    const conn = new ClientConnection(transport, this.options.maxFrameBytes, this.options.clock.nowMs(), this.metrics.sent, this.acl.allows);
    this.connections.add(conn);
    // While throttled nobody is read, newcomers included (globalOutstandingLimit bounds the FIFO).
    if (this.throttled) transport.pause();
    return conn;
  }

  /** The socket under `conn` closed (or we closed it). Its watches go; its session stays until it expires. */
  disconnected(conn: ClientConnection): void {
    conn.close();
    this.connections.delete(conn);
    this.watches.removeWatcher(conn);
    if (this.sessionConnections.get(conn.sessionId) === conn) this.sessionConnections.delete(conn.sessionId);
  }

  private closeConnection(conn: ClientConnection, reason: string): void {
    if (!conn.isOpen) return;
    this.options.logger.info(`closing connection ${conn.describe()}${conn.sessionId ? ` session 0x${hex(conn.sessionId)}` : ""}: ${reason}`);
    this.disconnected(conn);
  }

  /** Bytes from a client. Bad input closes this connection only; nothing here may throw. */
  receive(conn: ClientConnection, chunk: Buffer): void {
    if (!conn.isOpen) return;
    this.metrics.bytesReceived += chunk.length;
    if (conn.phase === "fresh" && conn.decoder.bufferedBytes === 0 && chunk.length >= 4) {
      const word = fourLetterWordOf(chunk.readInt32BE(0));
      if (word !== undefined) {
        this.answerFourLetterWord(conn, word);
        return;
      }
    }
    for (const event of conn.decoder.push(chunk)) {
      if (event.kind === "oversize") {
        const word = conn.phase === "fresh" ? fourLetterWordOf(event.length) : undefined;
        if (word !== undefined) this.answerFourLetterWord(conn, word);
        else this.closeConnection(conn, `frame length ${event.length} is outside 0..${this.options.maxFrameBytes} (jute.maxbuffer)`);
        return;
      }
      this.stats.packetsReceived++;
      conn.stats.packetsReceived++;
      try {
        this.onFrame(conn, event.body);
      } catch (error) {
        // A bug must not take the server down with it: log it and drop only this connection.
        this.closeConnection(conn, `internal error: ${(error as Error).stack ?? error}`);
      }
      if (!conn.isOpen) return;
    }
  }

  private answerFourLetterWord(conn: ClientConnection, word: FourLetterWord): void {
    // Apache counts the word as a packet received (checkFourLetterWord) and its answer as a packet sent.
    this.stats.packetsReceived++;
    conn.stats.packetsReceived++;
    const allowed = isFourLetterWordAllowed(word, this.options.fourLetterWords);
    const text = allowed ? runFourLetterWord(word, this, conn) : `${word} is not executed because it is not in the whitelist.\n`;
    conn.transport.write(Buffer.from(text, "utf8"));
    this.metrics.sent.packets++;
    this.disconnected(conn);
  }

  private onFrame(conn: ClientConnection, body: Buffer): void {
    switch (conn.phase) {
      case "fresh":
        this.onConnectRequest(conn, body);
        return;
      case "handshaking":
        conn.heldFrames.push(body);
        return;
      case "established":
        this.onRequestFrame(conn, body);
        return;
      case "closed":
        return;
    }
  }

  // ---------------------------------------------------------------- the handshake

  /** ZooKeeperServer.processConnectRequest */
  private onConnectRequest(conn: ClientConnection, body: Buffer): void {
    let request: ConnectRequest;
    try {
      request = ConnectRequest.read(new JuteReader(body, this.options.maxFrameBytes));
    } catch (error) {
      this.closeConnection(conn, `unreadable ConnectRequest: ${(error as Error).message}`);
      return;
    }
    // Never let a client see the past: it has seen a later zxid than ours (notes §2, "会话").
    if (request.lastZxidSeen > this.lastZxid) {
      this.closeConnection(
        conn,
        `refusing session request: client has seen zxid 0x${hex(request.lastZxidSeen)}, our last zxid is 0x${hex(this.lastZxid)}; client must try another server`,
      );
      return;
    }
    this.metrics.connectionRequests++;
    const { minSessionTimeoutMs: min, maxSessionTimeoutMs: max } = this.options;
    conn.sessionTimeoutMs = Math.min(max, Math.max(min, request.timeOut));
    conn.oldClient = request.readOnly === undefined;
    conn.phase = "handshaking";
    const now = this.options.clock.nowMs();
    conn.stats.lastReceivedMs = now;

    if (request.sessionId === 0n) {
      const sessionId = this.sessions.allocateSessionId();
      conn.sessionId = sessionId;
      this.sessions.add(sessionId, conn.sessionTimeoutMs, now);
      // Read nothing more until the session exists (Apache disableRecv): frames already received are held.
      conn.transport.pause();
      this.submit({ conn, xid: 0, sessionId, request: { op: "createSession", timeOutMs: conn.sessionTimeoutMs }, receivedAtMs: now, durable: false });
      return;
    }
    // Re-attaching to an existing session: the old connection of that session is closed (CLIENT_RECONNECT).
    this.metrics.connectionRevalidations++;
    const previous = this.sessionConnections.get(request.sessionId) ?? this.awaitingRevalidation.get(request.sessionId);
    if (previous !== undefined && previous !== conn) this.closeConnection(previous, "its client reconnected on another connection");
    conn.sessionId = request.sessionId;
    const passwordOk = request.passwd !== null && sessionPassword(request.sessionId).equals(request.passwd);
    if (passwordOk && this.learnerRole !== null) {
      // LearnerZooKeeperServer.revalidateSession: sessions belong to the leader, and this server's table may not
      // have applied the session's creation yet (a client that moved here right after connecting elsewhere).
      conn.transport.pause();
      this.awaitingRevalidation.set(request.sessionId, conn);
      this.learnerRole.revalidate(request.sessionId, conn.sessionTimeoutMs);
      return;
    }
    const valid = passwordOk && this.sessions.touch(request.sessionId, now, conn.sessionTimeoutMs);
    if (!valid) {
      this.options.logger.info(
        `invalid session 0x${hex(request.sessionId)} for client ${conn.describe()}, ${passwordOk ? "probably expired" : "bad password"}`,
      );
    }
    this.finishHandshake(conn, valid);
  }

  /** Follower/observer: the leader's answer to `revalidate` (Learner.revalidate → finishSessionInit). */
  revalidated(sessionId: bigint, valid: boolean): void {
    const conn = this.awaitingRevalidation.get(sessionId);
    if (conn === undefined) {
      this.options.logger.warn(`the leader answered a revalidation of session 0x${hex(sessionId)} that no connection here awaits`);
      return;
    }
    this.awaitingRevalidation.delete(sessionId);
    if (!conn.isOpen) return;
    if (valid) {
      // The leader vouches for it: track it here too, until its createSession (or closeSession) txn is applied.
      this.sessions.add(sessionId, conn.sessionTimeoutMs, this.options.clock.nowMs());
    } else {
      this.options.logger.info(`invalid session 0x${hex(sessionId)} for client ${conn.describe()}, probably expired (the leader says)`);
    }
    this.finishHandshake(conn, valid);
  }

  /**
   * Leader: a learner asks whether a reconnecting client's session is alive (Leader.revalidateSession →
   * checkIfValidGlobalSession). Alive sessions are touched with the timeout the client was given.
   */
  revalidateForLearner(sessionId: bigint, timeoutMs: number): boolean {
    this.metrics.revalidations++;
    return this.sessions.touch(sessionId, this.options.clock.nowMs(), timeoutMs);
  }

  /** ZooKeeperServer.finishSessionInit: the ConnectResponse; an invalid session gets zeros and a closed socket. */
  private finishHandshake(conn: ClientConnection, valid: boolean): void {
    const response: ConnectResponse = {
      protocolVersion: 0,
      timeOut: valid ? conn.sessionTimeoutMs : 0,
      sessionId: valid ? conn.sessionId : 0n,
      // Always 16 bytes: the C client reads a fixed-size reply.
      passwd: valid ? sessionPassword(conn.sessionId) : Buffer.alloc(sessionPasswordBytes),
      readOnly: conn.oldClient ? undefined : false,
    };
    conn.send(encodeFrame((w) => ConnectResponse.write(w, response)));
    if (!valid) {
      this.disconnected(conn);
      return;
    }
    conn.phase = "established";
    if (!this.throttled) conn.transport.resume();
    this.sessionConnections.set(conn.sessionId, conn);
    this.options.logger.info(
      `session 0x${hex(conn.sessionId)} established for client ${conn.describe()}, negotiated timeout ${conn.sessionTimeoutMs} ms`,
    );
    const held = conn.heldFrames.splice(0);
    for (const frame of held) {
      if (!conn.isOpen) return;
      this.onRequestFrame(conn, frame);
    }
  }

  // ---------------------------------------------------------------- requests

  private onRequestFrame(conn: ClientConnection, body: Buffer): void {
    const reader = new JuteReader(body, this.options.maxFrameBytes);
    let header: RequestHeader;
    try {
      header = RequestHeader.read(reader);
    } catch (error) {
      this.closeConnection(conn, `unreadable request header (${body.length} bytes)`);
      return;
    }
    const decoded = decodeRequest(header.type, reader);
    if ("kind" in decoded) {
      if (decoded.kind === "unknownOpcode") {
        // UnimplementedRequestProcessor: UNIMPLEMENTED with the Request's zxid, still -1 (it never got a txn), then
        // the connection is closed.
        conn.send(encodeReply(header.xid, -1n, errorCodes.unimplemented));
        this.closeConnection(conn, `unknown opcode ${decoded.code}`);
      } else {
        // An unreadable auth packet (or any sasl packet) throws in ZooKeeperServer.processPacket: closed, unanswered.
        this.closeConnection(conn, `malformed ${decoded.op} request: ${decoded.reason}`);
      }
      return;
    }
    const now = this.options.clock.nowMs();
    conn.stats.lastReceivedMs = now;
    if (!this.sessions.touch(conn.sessionId, now)) {
      this.closeConnection(conn, `request for session 0x${hex(conn.sessionId)}, which is closing or expired`);
      return;
    }
    conn.outstanding++;
    // The body after the 8-byte RequestHeader, as the client sent it: what a follower forwards to the leader.
    const forwardBody = this.learnerRole !== null ? body.subarray(requestHeaderBytes) : undefined;
    this.submit({ conn, xid: header.xid, sessionId: conn.sessionId, request: decoded, receivedAtMs: now, body: forwardBody, durable: false });
  }

  /**
   * Leader: a write a follower or observer forwarded (Apache LearnerHandler → PrepRequestProcessor). It is
   * prepared and proposed like a local one; its origin answers the client once the commit reaches it.
   */
  submitForwarded(write: ForwardedWrite): void {
    const now = this.options.clock.nowMs();
    let request: ClientRequest;
    if (write.type === opCodes.createSession) {
      // The follower created the session id and negotiated the timeout; the leader's tracker owns it from now on.
      const timeOutMs = write.body.length >= 4 ? write.body.readInt32BE(0) : this.options.minSessionTimeoutMs;
      this.sessions.add(write.sessionId, timeOutMs, now);
      request = { op: "createSession", timeOutMs };
    } else if (write.type === opCodes.closeSession) {
      request = { op: "closeSession" };
    } else {
      const decoded = decodeRequest(write.type, new JuteReader(write.body, this.options.maxFrameBytes));
      if ("kind" in decoded || !isWriteOp(decoded.op)) {
        this.options.logger.warn(`dropping a forwarded request of session 0x${hex(write.sessionId)} (type ${write.type}): not a write this server can prepare`);
        return;
      }
      request = decoded;
      this.sessions.touch(write.sessionId, now);
    }
    this.submit({ conn: null, xid: write.cxid, sessionId: write.sessionId, request, receivedAtMs: now, authIds: write.authIds, durable: false });
  }

  /**
   * Follower/observer: a txn the leader committed. It is applied now — the tree follows the commit order — and,
   * if it is one of this server's forwarded writes, its reply goes out when the FIFO reaches it.
   */
  applyCommitted(header: TxnHeader, txn: Txn): void {
    const result = applyCommittedTxn(this.tree, this.sessions, header, txn, this.options.clock.nowMs());
    this.preparer.applied(header.zxid);
    this.metrics.recordTxn(result.txn);
    const waiting = this.fifo.find((p) => p.awaitingCommit === true);
    if (waiting !== undefined && waiting.sessionId === header.sessionId && waiting.xid === header.cxid) {
      waiting.awaitingCommit = false;
      waiting.header = header;
      waiting.txn = txn;
      waiting.result = result;
      waiting.durable = true;
    } else if (txn.kind === "closeSession") {
      // Another server's client closed its session, or the leader expired it: a connection here must go.
      const owner = this.sessionConnections.get(header.sessionId);
      if (owner !== undefined) this.closeConnection(owner, "its session expired");
    }
    this.drain();
  }

  /** Takes a request into the FIFO; a write is prepared and handed to the log now (or forwarded to the leader). */
  private submit(pending: Pending): void {
    const { request } = pending;
    this.metrics.requestsQueued++;
    const learner = this.learnerRole;
    if (learner !== null && request.op !== "check" && (isWriteOp(request.op) || request.op === "sync")) {
      this.forward(pending, learner);
    } else if (isWriteOp(request.op) && !(request.op === "check")) {
      const session = this.sessions.get(pending.sessionId);
      const zxid = this.nextZxid();
      const header: TxnHeader = {
        sessionId: pending.sessionId,
        cxid: pending.xid,
        zxid,
        timeMs: BigInt(this.options.clock.wallMs()),
        type: (request.op === "malformedWrite" ? request.of : request.op) as OpName,
      };
      const prepared = this.preparer.prepare(request, {
        zxid,
        timeMs: header.timeMs,
        sessionId: pending.sessionId,
        authIds: pending.authIds ?? pending.conn?.authIds ?? [],
        sessionIsLive: request.op === "deleteContainer" || (session !== undefined && (!session.closing || request.op === "closeSession")),
        reconfigEnabled: this.options.reconfigEnabled,
      });
      if (request.op === "closeSession") this.sessions.setClosing(pending.sessionId);
      // A failed write is logged as an error txn with type "error" (it still consumes the zxid).
      pending.header = prepared.txn.kind === "error" ? { ...header, type: "error" } : header;
      pending.txn = prepared.txn;
      this.fifo.push(pending);
      const sink = this.options.txnSink;
      if (sink === undefined) pending.durable = true;
      else sink.append(pending.header, pending.txn, () => {
        pending.durable = true;
        this.drain();
      });
    } else {
      // A multi with a null path took a zxid in Apache before failing without a txn: the next txn skips one.
      if (request.op === "multiNullPath") this.nextZxid();
      pending.durable = true;
      this.fifo.push(pending);
    }
    this.throttleIfNeeded();
    this.drain();
  }

  /** Follower/observer: a write goes to the leader; a sync waits for the leader's SYNC. */
  private forward(pending: Pending, quorum: Extract<QuorumRole, { mode: "follower" | "observer" }>): void {
    const { request } = pending;
    this.fifo.push(pending);
    if (request.op === "sync") {
      quorum.sync((ok) => {
        if (!ok && pending.conn !== null) this.closeConnection(pending.conn, "the leader did not answer a sync");
        pending.durable = true;
        this.drain();
      });
      return;
    }
    pending.awaitingCommit = true;
    if (request.op === "closeSession") this.sessions.setClosing(pending.sessionId);
    let body = pending.body ?? Buffer.alloc(0);
    if (request.op === "createSession") {
      // Apache forwards the negotiated timeout as the createSession request's body.
      body = Buffer.alloc(4);
      body.writeInt32BE(request.timeOutMs, 0);
    }
    const type = request.op === "malformedWrite" ? opCodes[request.of as OpName] : opCodes[request.op as OpName];
    quorum.forward({ sessionId: pending.sessionId, cxid: pending.xid, type, body, authIds: pending.conn?.authIds ?? [] });
  }

  private draining = false;

  private drain(): void {
    if (this.draining) return; // re-entered from a synchronous `done`: the outer loop continues
    this.draining = true;
    try {
      while (this.fifo.length > 0 && this.fifo[0]!.durable) this.finish(this.fifo.shift()!);
    } finally {
      this.draining = false;
    }
    this.throttleIfNeeded();
  }

  /** globalOutstandingLimit: stop reading from every client while too much is in flight. */
  private throttleIfNeeded(): void {
    const over = this.fifo.length > this.options.globalOutstandingLimit;
    if (over === this.throttled) return;
    this.throttled = over;
    for (const conn of this.connections) {
      if (over) conn.transport.pause();
      else if (conn.phase !== "handshaking") conn.transport.resume();
    }
  }

  /** Apply (for a write) and reply (Apache FinalRequestProcessor). */
  private finish(p: Pending): void {
    let result: TxnResult | undefined = p.result;
    if (result !== undefined) {
      this.afterApply(p, result);
    } else if (p.header !== undefined && p.txn !== undefined) {
      result = this.tree.processTxn(p.header, p.txn);
      this.preparer.applied(p.header.zxid);
      this.metrics.recordTxn(result.txn);
      this.afterApply(p, result);
    }
    const conn = p.conn;
    if (conn === null || !conn.isOpen) return;
    if (p.request.op === "createSession") {
      // FinalRequestProcessor counts the session's creation as a request (lop=SESS, cxid 0) with its latency.
      this.recordLatency(conn, p, null);
      return;
    }
    conn.outstanding--;
    const reply = result !== undefined ? this.writeReply(p, result) : this.readReply(conn, p);
    if (reply !== null) conn.send(reply);
    // Apache answers auth packets outside the request pipeline: they count in no latency or last-op statistics.
    if (p.request.op !== "auth") this.recordLatency(conn, p, reply);
    if (p.request.op === "closeSession") this.closeConnection(conn, "client closed its session");
  }

  /** FinalRequestProcessor.updateStats + ServerCnxn.updateStatsForResponse + ServerStats.updateClientResponseSize. */
  private recordLatency(conn: ClientConnection, p: Pending, reply: Buffer | null): void {
    const now = this.options.clock.nowMs();
    const latencyMs = now - p.receivedAtMs;
    const s = this.stats;
    s.requestsCompleted++;
    s.totalLatencyMs += latencyMs;
    if (latencyMs < s.minLatencyMs) s.minLatencyMs = latencyMs;
    if (latencyMs > s.maxLatencyMs) s.maxLatencyMs = latencyMs;
    const c = conn.stats;
    c.requestsCompleted++;
    c.totalLatencyMs += latencyMs;
    if (latencyMs < c.minLatencyMs) c.minLatencyMs = latencyMs;
    if (latencyMs > c.maxLatencyMs) c.maxLatencyMs = latencyMs;
    c.lastLatencyMs = latencyMs;
    c.lastOp = lastOpNames[p.request.op] ?? "NA";
    c.lastZxid = this.lastZxid;
    c.lastResponseMs = now;
    if (p.xid >= 0) c.lastCxid = p.xid;
    (p.header !== undefined ? this.metrics.updateLatency : this.metrics.readLatency).add(latencyMs);
    if (reply !== null && p.request.op !== "ping") this.metrics.recordResponse(reply.length - 4);
  }

  private afterApply(p: Pending, result: TxnResult): void {
    switch (p.request.op) {
      case "createSession":
        if (p.conn !== null && p.conn.isOpen) this.finishHandshake(p.conn, true);
        return;
      case "closeSession": {
        this.sessions.remove(p.sessionId);
        const owner = this.sessionConnections.get(p.sessionId);
        // An expired session's connection is closed; a client's own closeSession is closed after its reply.
        if (owner !== undefined && owner !== p.conn) this.closeConnection(owner, "its session expired");
        return;
      }
      default:
        void result;
    }
  }

  // ---------------------------------------------------------------- replies

  private writeReply(p: Pending, result: TxnResult): Buffer {
    const zxid = this.lastZxid;
    const err = errorCodes[result.err];
    const xid = p.xid;
    switch (p.request.op) {
      case "create":
        return encodeReply(xid, zxid, err, (w) => PathResponse.write(w, { path: result.path ?? null }));
      case "create2":
      case "createContainer":
      case "createTTL":
        return encodeReply(xid, zxid, err, (w) => Create2Response.write(w, { path: result.path ?? null, stat: result.stat! }));
      case "setData":
      case "setACL":
        return encodeReply(xid, zxid, err, (w) => Stat.write(w, result.stat!));
      case "multi":
        // A multi Apache could not even prepare (an unreadable op, a TTL mode without a ttl field) is an error txn.
        if (result.txn.kind === "error") return encodeReply(xid, zxid, err);
        // A failed multi still has err 0 in its header; each op carries its own code (MultiResponse).
        return encodeReply(xid, zxid, 0, (w) => writeMultiResults(w, result.multi ?? []));
      default:
        return encodeReply(xid, zxid, err);
    }
  }

  private readReply(conn: ClientConnection, p: Pending): Buffer | null {
    const zxid = this.lastZxid;
    const { request, xid } = p;
    switch (request.op) {
      case "ping":
        return encodeReply(xids.ping, zxid, 0);
      case "exists": {
        // A null path: Apache's path.indexOf throws, answered as MARSHALLINGERROR (so for the reads below, whose
        // ConcurrentHashMap lookup throws on null).
        if (request.path === null) return failure(xid, zxid, "marshallingError");
        const path = request.path;
        if (path.includes("\u0000")) return failure(xid, zxid, "badArguments");
        // An exists watch is set whether or not the node exists: that is how one waits for a creation.
        if (request.watch) this.watches.addWatch("data", path, conn);
        const node = this.tree.getNode(path);
        if (node === undefined) return failure(xid, zxid, "noNode");
        this.metrics.recordRead(path, 0);
        return encodeReply(xid, zxid, 0, (w) => StatResponse.write(w, { stat: this.tree.statOf(node) }));
      }
      case "getData":
      case "getChildren":
      case "getChildren2": {
        if (request.path === null) return failure(xid, zxid, "marshallingError");
        const path = request.path;
        const node = this.tree.getNode(path);
        if (node === undefined) return failure(xid, zxid, "noNode");
        if (!this.acl.allows(node.acl, perms.read, conn.authIds)) return failure(xid, zxid, "noAuth");
        if (request.watch) this.watches.addWatch(request.op === "getData" ? "data" : "child", path, conn);
        const stat = this.tree.statOf(node);
        if (request.op === "getData") {
          this.metrics.recordRead(path, node.data?.length ?? 0);
          return encodeReply(xid, zxid, 0, (w) => GetDataResponse.write(w, { data: node.data, stat }));
        }
        // In Apache's HashSet order (DataTree.childNames).
        const children = this.tree.childNames(node);
        let childBytes = 0;
        for (const child of children) childBytes += child.length;
        this.metrics.recordRead(path, childBytes);
        if (request.op === "getChildren") return encodeReply(xid, zxid, 0, (w) => GetChildrenResponse.write(w, { children }));
        return encodeReply(xid, zxid, 0, (w) => GetChildren2Response.write(w, { children, stat }));
      }
      case "getACL": {
        if (request.path === null) return failure(xid, zxid, "marshallingError");
        const node = this.tree.getNode(request.path);
        if (node === undefined) return failure(xid, zxid, "noNode");
        if (!this.acl.allows(node.acl, perms.read | perms.admin, conn.authIds)) return failure(xid, zxid, "noAuth");
        const acl = this.acl.allows(node.acl, perms.admin, conn.authIds) ? [...node.acl] : maskDigests(node.acl);
        return encodeReply(xid, zxid, 0, (w) => GetACLResponse.write(w, { acl, stat: this.tree.statOf(node) }));
      }
      case "sync":
        return encodeReply(xid, zxid, 0, (w) => PathResponse.write(w, { path: request.path }));
      case "getAllChildrenNumber": {
        if (request.path === null) return failure(xid, zxid, "marshallingError");
        const path = request.path;
        const node = this.tree.getNode(path);
        if (node === undefined) return failure(xid, zxid, "noNode");
        if (!this.acl.allows(node.acl, perms.read, conn.authIds)) return failure(xid, zxid, "noAuth");
        const totalNumber = this.tree.descendantCount(path);
        return encodeReply(xid, zxid, 0, (w) => GetAllChildrenNumberResponse.write(w, { totalNumber }));
      }
      case "getEphemerals": {
        const prefix = (request.path ?? "").trim();
        // A clone of the session's ephemeral HashSet, iterated (FinalRequestProcessor: DataTree.getEphemerals).
        const all = this.tree.ephemeralNames(conn.sessionId);
        const ephemerals = prefix === "" || prefix === "/" ? all : all.filter((path) => path.startsWith(request.path!));
        return encodeReply(xid, zxid, 0, (w) => GetEphemeralsResponse.write(w, { ephemerals }));
      }
      case "whoAmI":
        return encodeReply(xid, zxid, 0, (w) =>
          // AuthUtil.getClientInfos: the provider's user name (a digest id's user part), "" for super.
          WhoAmIResponse.write(w, { clientInfo: conn.authIds.map((id) => ({ authScheme: id.scheme, user: authUserName(id) })) }),
        );
      case "multiRead": {
        // Where Apache's loop throws (a null path makes its node lookup throw; a write op is "Invalid type of
        // readOp"), the reply is MARSHALLINGERROR — and, since its MultiResponse already existed, it carries the
        // results of the ops before (ServerCnxn.sendResponse writes a body whatever the error).
        const nullAt = request.ops.findIndex((op) => op.path === null);
        const brokenAt = nullAt >= 0 ? nullAt : request.brokenAt;
        if (brokenAt !== undefined) {
          return encodeFrame((w) => {
            ReplyHeader.write(w, { xid, zxid, err: errorCodes.marshallingError });
            this.writeMultiRead(w, conn, request.ops.slice(0, brokenAt));
          });
        }
        return encodeReply(xid, zxid, 0, (w) => this.writeMultiRead(w, conn, request.ops));
      }
      case "multiNullPath":
        // See requests.ts: MARSHALLINGERROR with an empty MultiResponse (its zxid was skipped in submit).
        return encodeFrame((w) => {
          ReplyHeader.write(w, { xid, zxid, err: errorCodes.marshallingError });
          MultiHeader.write(w, { type: -1, done: true, err: -1 });
        });
      case "setWatches":
      case "setWatches2":
        this.setWatches(conn, request);
        // Echo the xid that came: the Java client uses -8, node-zookeeper-client a positive one.
        return encodeReply(xid, zxid, 0);
      case "addWatch": {
        const path = request.path ?? "";
        // WatcherMode.fromZooDef throws IllegalArgumentException for another mode: MARSHALLINGERROR.
        if (request.mode !== addWatchModes.persistent && request.mode !== addWatchModes.persistentRecursive) return failure(xid, zxid, "marshallingError");
        this.watches.addPersistentWatch(path, conn, request.mode === addWatchModes.persistentRecursive);
        return encodeReply(xid, zxid, 0, (w) => ErrorResponse.write(w, { err: 0 }));
      }
      case "checkWatches":
      case "removeWatches": {
        // WatcherType.fromInt throws a RuntimeException for a type other than 1, 2, 3: MARSHALLINGERROR.
        if (request.type < 1 || request.type > 3) return failure(xid, zxid, "marshallingError");
        const path = request.path;
        if (request.op === "removeWatches") {
          const found = path !== null && this.watches.remove(path, conn, request.type);
          return found ? encodeReply(xid, zxid, 0) : failure(xid, zxid, "noWatcher");
        }
        // checkWatches walks the path with Apache's PathParentIterator, which throws on null and on a path with no
        // "/" (MARSHALLINGERROR); then Apache 3.8.0 answers for *any* watcher of the path (WatchManager.anyWatches).
        if (path === null || (path !== "" && !path.includes("/"))) return failure(xid, zxid, "marshallingError");
        return this.watches.anyWatches(path, request.type) ? encodeReply(xid, zxid, 0) : failure(xid, zxid, "noWatcher");
      }
      case "auth": {
        const outcome = authenticate(request.scheme, request.auth, conn.transport.remoteAddress, this.options.superDigest);
        if (!outcome.ok) {
          // AUTHFAILED, then the connection is closed (reference §1, [checked]).
          this.metrics.authFailures++;
          conn.send(encodeReply(xid, 0n, errorCodes.authFailed));
          this.closeConnection(conn, `authentication with scheme ${JSON.stringify(request.scheme)} failed`);
          return null;
        }
        for (const id of outcome.ids) {
          if (!conn.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) conn.authIds.push(id);
        }
        // Kept in Apache's order (a ConcurrentHashMap key set): whoAmI and `auth:` ACLs show it.
        conn.authIds.splice(0, conn.authIds.length, ...authInfoOrder(conn.authIds));
        return encodeReply(xid, 0n, 0);
      }
      case "check":
        // A top-level check breaks Apache 3.8.0 (a txn with no reply); it is only meaningful inside a multi.
        return failure(xid, zxid, "unimplemented");
      case "malformedRead":
        return failure(xid, zxid, "marshallingError");
      default:
        throw new Error(`no reply for ${request.op}`);
    }
  }

  /** setWatches(relativeZxid): re-arm the watches a reconnecting client had, or fire what it missed. */
  private setWatches(conn: ClientConnection, request: Extract<ClientRequest, { op: "setWatches" | "setWatches2" }>): void {
    const rel = request.relativeZxid;
    const fire = (type: EventTypeName, path: string) => conn.notify(type, path);
    for (const path of request.dataWatches) {
      const node = this.tree.getNode(path);
      if (node === undefined) fire("nodeDeleted", path);
      else if (node.stat.mzxid > rel) fire("nodeDataChanged", path);
      else this.watches.addWatch("data", path, conn);
    }
    for (const path of request.existWatches) {
      if (this.tree.getNode(path) !== undefined) fire("nodeCreated", path);
      else this.watches.addWatch("data", path, conn);
    }
    for (const path of request.childWatches) {
      const node = this.tree.getNode(path);
      if (node === undefined) fire("nodeDeleted", path);
      else if (node.stat.pzxid > rel) fire("nodeChildrenChanged", path);
      else this.watches.addWatch("child", path, conn);
    }
    for (const path of request.persistentWatches) this.watches.addPersistentWatch(path, conn, false);
    for (const path of request.persistentRecursiveWatches) this.watches.addPersistentWatch(path, conn, true);
  }

  private writeMultiRead(w: JuteWriter, conn: ClientConnection, ops: readonly ReadOp[]): void {
    for (const op of ops) {
      // getData/getChildren answer NONODE, NOAUTH, or their data, each on its own (FinalRequestProcessor, multiRead).
      const node = op.path === null ? undefined : this.tree.getNode(op.path);
      const err = node === undefined ? errorCodes.noNode : this.acl.allows(node.acl, perms.read, conn.authIds) ? 0 : errorCodes.noAuth;
      if (err !== 0 || node === undefined) {
        MultiHeader.write(w, { type: opCodes.error, done: false, err });
        ErrorResponse.write(w, { err });
      } else if (op.op === "getData") {
        MultiHeader.write(w, { type: opCodes.getData, done: false, err: 0 });
        GetDataResponse.write(w, { data: node.data, stat: this.tree.statOf(node) });
      } else {
        MultiHeader.write(w, { type: opCodes.getChildren, done: false, err: 0 });
        GetChildrenResponse.write(w, { children: this.tree.childNames(node) });
      }
    }
    MultiHeader.write(w, { type: -1, done: true, err: -1 });
  }

  // ---------------------------------------------------------------- time-driven work

  /** Expires sessions whose time is up (SessionTrackerImpl's expirer) and sessionless connections. Call at least every tick. */
  tick(): void {
    const now = this.options.clock.nowMs();
    // Every server closes its own connections that never sent a ConnectRequest (NIOServerCnxnFactory's
    // ConnectionExpirerThread). An established connection goes when its session expires.
    this.expireSessionlessConnections(now);
    // In an ensemble only the leader expires sessions (it hears every server's touches); the others learn of an
    // expiry from its closeSession txn.
    if (this.learnerRole !== null) return;
    for (const sessionId of this.sessions.expire(now)) {
      const timeout = this.sessions.get(sessionId)?.timeoutMs;
      this.options.logger.info(`expiring session 0x${hex(sessionId)}, timeout of ${timeout} ms exceeded`);
      this.submit({ conn: null, xid: 0, sessionId, request: { op: "closeSession" }, receivedAtMs: now, durable: false });
    }
  }

  /** Closes connections still without a ConnectRequest when their expiry time (connectionExpiresAtMs) has passed. */
  private expireSessionlessConnections(now: number): void {
    for (const conn of this.connections) {
      if (conn.phase !== "fresh" || now < connectionExpiresAtMs(conn)) continue;
      this.metrics.sessionlessConnectionsExpired++;
      this.closeConnection(conn, `no ConnectRequest within ${sessionlessConnectionTimeoutMs} ms (zookeeper.nio.sessionlessCnxnTimeout)`);
    }
  }

  /**
   * Deletes empty containers that once had a child, and childless TTL nodes older than their ttl
   * (Apache ContainerManager), at most `containerMaxPerMinute` a minute.
   */
  checkContainers(): void {
    // Apache runs the ContainerManager on the leader only: its deletions are txns like any other write.
    if (this.learnerRole !== null) return;
    const now = this.options.clock.nowMs();
    if (now - this.containerMinuteStartMs >= 60_000) {
      this.containerMinuteStartMs = now;
      this.containerDeletesThisMinute = 0;
    }
    const wall = BigInt(this.options.clock.wallMs());
    // Apache's order (ContainerManager.getCandidates): containers, then TTL nodes, each set a ConcurrentHashMap key
    // set, gathered into a HashSet that is then iterated — watchers hear the deletions in that order.
    const candidates: string[] = [];
    for (const path of concurrentKeySetOrder([...this.tree.containerPaths()], javaStringHash)) {
      const node = this.tree.getNode(path);
      if (node !== undefined && node.children.size === 0 && node.stat.cversion > 0) candidates.push(path);
    }
    for (const path of concurrentKeySetOrder([...this.tree.ttlPaths()], javaStringHash)) {
      const node = this.tree.getNode(path);
      if (node === undefined || node.children.size > 0) continue;
      const ttl = ttlOfOwner(node.stat.ephemeralOwner);
      if (ttl !== 0n && wall - node.stat.mtime > ttl) candidates.push(path);
    }
    for (const path of new JavaHashSetOrder().order(candidates)) {
      if (this.containerDeletesThisMinute >= this.options.containerMaxPerMinute) return;
      this.containerDeletesThisMinute++;
      this.submit({ conn: null, xid: 0, sessionId: 0n, request: { op: "deleteContainer", path }, receivedAtMs: now, durable: false });
    }
  }

  /** Closes every connection (server shutdown). Sessions stay in the tree, as after a crash. */
  closeAll(): void {
    for (const conn of [...this.connections]) this.disconnected(conn);
  }

  /** The connection currently attached to a session, if any. */
  connectionOf(sessionId: bigint): ClientConnection | undefined {
    return this.sessionConnections.get(sessionId);
  }
}

/** xid (int) + type (int): the RequestHeader in front of every request body. */
const requestHeaderBytes = 8;

/**
 * Applies a committed txn to an ensemble member's state: the tree, and the session table every member keeps
 * (Apache ZKDatabase.sessionsWithTimeouts) so that a client can re-attach anywhere and snapshots carry sessions.
 */
export function applyCommittedTxn(tree: DataTree, sessions: SessionTracker, header: TxnHeader, txn: Txn, nowMs: number): TxnResult {
  const result = tree.processTxn(header, txn);
  if (txn.kind === "createSession") sessions.add(header.sessionId, txn.timeOutMs, nowMs);
  else if (txn.kind === "closeSession") sessions.remove(header.sessionId);
  return result;
}

/** An error reply: the header alone (a module function, not a closure made per request). */
function failure(xid: number, zxid: bigint, name: ErrorName): Buffer {
  return encodeReply(xid, zxid, errorCodes[name]);
}

function writeMultiResults(w: JuteWriter, results: readonly TxnResult[]): void {
  for (const result of results) {
    const txn = result.txn;
    if (txn.kind === "error") {
      const err = errorCodes[txn.err];
      MultiHeader.write(w, { type: opCodes.error, done: false, err });
      ErrorResponse.write(w, { err });
      continue;
    }
    switch (txn.kind) {
      case "create":
        // A create in a multi is a plain create (type 1, path only) unless its mode made it a container or TTL node:
        // the op is chosen by the mode (Op.create), and 15 never survives (decodeMultiCreate).
        MultiHeader.write(w, { type: opCodes.create, done: false, err: 0 });
        PathResponse.write(w, { path: result.path ?? null });
        break;
      case "createContainer":
      case "createTTL":
        // FinalRequestProcessor: a createContainer/createTTL sub-result is a CreateResult(path, stat), type 15.
        MultiHeader.write(w, { type: opCodes.create2, done: false, err: 0 });
        Create2Response.write(w, { path: result.path ?? null, stat: result.stat! });
        break;
      case "delete":
        MultiHeader.write(w, { type: opCodes.delete, done: false, err: 0 });
        break;
      case "setData":
        MultiHeader.write(w, { type: opCodes.setData, done: false, err: 0 });
        Stat.write(w, result.stat!);
        break;
      case "check":
        MultiHeader.write(w, { type: opCodes.check, done: false, err: 0 });
        break;
      default:
        throw new Error(`${txn.kind} cannot be inside a multi`);
    }
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
}

/** Apache's 4-letter op names for `cons` (FinalRequestProcessor lastOp). */
const lastOpNames: Partial<Record<ClientRequest["op"], string>> = {
  createSession: "SESS", ping: "PING", create: "CREA", create2: "CREA", createContainer: "CREA", createTTL: "CREA", delete: "DELE",
  exists: "EXIS", getData: "GETD", setData: "SETD", getACL: "GACL", setACL: "SACL", getChildren: "GETC",
  getChildren2: "GETC", sync: "SYNC", multi: "MULT", multiRead: "MLTR", closeSession: "CLOS", setWatches: "SETW",
  setWatches2: "STW2", addWatch: "ADDW", checkWatches: "CHKW", removeWatches: "REMW", whoAmI: "HOMI",
  getEphemerals: "GETE", getAllChildrenNumber: "GETACN", auth: "AUTH",
};

export function hex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}

