/**
 * The ensemble's network: TCP between the members (Apache `QuorumCnxManager` for the election port,
 * `Learner.connectToLeader` / `LearnerHandler` for the quorum port). It moves bytes and names senders; it decides
 * nothing. The election and Zab cores (src/quorum) decide, and their timeouts cover every message this layer drops.
 *
 * Two ports per member, always listening while the transport runs (the cores refuse what they must):
 *  - election port: each member keeps one outgoing connection per peer for sending its notifications and accepts
 *    incoming ones for receiving. Apache keeps a single connection per pair (the larger sid wins); two one-way
 *    connections are simpler and enough, because notifications are idempotent and the core re-sends them.
 *  - quorum port: a learner connects to its leader; the leader learns who connected from the first packet
 *    (FOLLOWERINFO/OBSERVERINFO carries LearnerInfo.serverid) and from then on sends to it by sid.
 *
 * Every frame is a 4-byte length and a record (src/ensemble/quorum-codec.ts). The first frame on an election
 * connection names the sender (QuorumCnxManager's initial message).
 *
 * Events are delivered from socket callbacks, never from inside a call the runtime made (except the
 * replacement rule below, which is also inside a socket callback), and never after `stop()`.
 */
import { connect as connectTcp, createServer, type Server, type Socket } from "node:net";
import { FrameDecoder } from "../proto/frame.ts";
import { assert, type Notification, type QuorumPacket } from "../quorum/index.ts";
import {
  decodeElectionHello,
  decodeNotification,
  decodeQuorumPacket,
  decodeQuorumRecord,
  type DecodedQuorumPacket,
  type DecodedQuorumRecord,
  encodeElectionHello,
  encodeNotification,
  encodeQuorumPacket,
  encodeRevalidation,
  QuorumCodecError,
} from "./quorum-codec.ts";
import type { MemberTypes, Revalidation, SessionTouch } from "./types.ts";

// ------------------------------------------------------------------ limits

/** The largest election message (Apache QuorumCnxManager.PACKETMAXSIZE, 512 KiB); ours are 44 bytes. */
export const electionFrameBytesMax = 512 * 1024;
/** The largest quorum packet: a SNAP carries the whole state machine, so this is generous (1 GiB). */
export const quorumFrameBytesMax = 1024 * 1024 * 1024;
/**
 * Notifications queued on one election connection (not yet written to the kernel) beyond which new ones are
 * dropped: a peer that does not read is down or partitioned, and the core re-sends anyway.
 */
export const electionQueuedBytesMax = 1024 * 1024;
/**
 * Quorum bytes queued on one connection beyond which it is closed (the core then sees `disconnected`): a learner
 * this far behind resyncs from scratch rather than pinning the leader's memory (Apache's LearnerHandler queue is
 * unbounded). Room for a full-size SNAP and what follows it.
 */
export const quorumQueuedBytesMax = 2 * quorumFrameBytesMax;
/** How long a connect may take before it counts as failed (Apache `zookeeper.cnxTimeout`, 5 s). */
export const connectTimeoutMs = 5_000;
/** How long an accepted connection may stay silent before its first frame says who it is (also cnxTimeout). */
export const identifyTimeoutMs = 5_000;

const lengthPrefixBytes = 4;

// ------------------------------------------------------------------ the interface

export interface PeerAddress {
  readonly sid: number;
  readonly host: string;
  readonly quorumPort: number;
  readonly electionPort: number;
}

export interface QuorumTransportEvents {
  /** A notification arrived on the election port from server `from`. */
  notification(from: number, n: Notification): void;
  /** A quorum packet arrived from `from` (the leader we connected to, or a learner that connected to us). */
  packet(from: number, packet: QuorumPacket<MemberTypes>, touches: readonly SessionTouch[]): void;
  /** A REVALIDATE arrived: a learner's question (`ask`) or the leader's answer. It passes no Zab core. */
  revalidation(from: number, revalidation: Revalidation): void;
  /**
   * A quorum connection (to the leader, or from a learner) dropped, failed to connect, or was replaced by a newer
   * connection of the same learner. Not emitted for `close()`, `connect()` or `stop()` that we asked for.
   */
  disconnected(sid: number): void;
}

export interface TransportLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface QuorumTransportOptions {
  readonly myId: number;
  /** Every member, this one included (its ports are the ones we listen on). */
  readonly peers: readonly PeerAddress[];
  readonly events: QuorumTransportEvents;
  readonly logger: TransportLogger;
}

// ------------------------------------------------------------------ one framed connection

/**
 * A TCP connection carrying length-prefixed frames, in either direction. `onEnd` runs once when the connection
 * ends by itself (peer closed, error, timeout, bad frame) — never after `close()`.
 */
class FramedConnection {
  private closed = false;
  private corked = false;
  private lastError: string | null = null;
  private readonly decoder: FrameDecoder;
  /** Resolves once the socket's handle is released (its "close" event), whoever ended it. */
  readonly released: Promise<void>;

  constructor(
    readonly socket: Socket,
    maxFrameBytes: number,
    private readonly onFrame: (body: Buffer) => void,
    private readonly onEnd: (reason: string) => void,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.released = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error: Error) => {
      this.lastError = (error as NodeJS.ErrnoException).code ?? error.message;
    });
    socket.on("timeout", () => this.fail("timed out"));
    socket.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      this.onEnd(this.lastError ?? "closed by the peer");
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Bytes handed to the socket and not yet to the kernel: what a slow reader makes pile up. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** Queues one frame. Frames written in the same tick go out in one write (cork until the next tick). */
  write(body: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        if (!this.socket.destroyed) this.socket.uncork();
      });
    }
    const prefix = Buffer.allocUnsafe(lengthPrefixBytes);
    prefix.writeInt32BE(body.length, 0);
    this.socket.write(prefix);
    this.socket.write(body);
  }

  /** Ends the connection from our side: no `onEnd`, no more frames. */
  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Ends the connection because something went wrong: `onEnd(reason)` runs now. */
  fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onEnd(reason);
  }

  /**
   * Ends the connection from inside a call the runtime made (e.g. `send`): `onEnd` runs later, from the socket's
   * close callback, so the runtime never sees an event in the middle of its own step.
   */
  abort(reason: string): void {
    if (this.closed) return;
    this.lastError = reason;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    for (const event of this.decoder.push(chunk)) {
      // A frame handler may have closed us (or stopped the transport): drop the rest of the chunk.
      if (this.closed) return;
      if (event.kind === "oversize") {
        this.fail(`a frame of ${event.length} bytes is over the limit`);
        return;
      }
      this.onFrame(event.body);
    }
  }
}

// ------------------------------------------------------------------ the transport

/** A quorum connection that knows its peer: one we opened to a leader, or one a learner opened to us. */
interface QuorumLink {
  readonly sid: number;
  readonly direction: "to-leader" | "from-learner";
  readonly conn: FramedConnection;
}

export class QuorumTransport {
  private readonly myId: number;
  private readonly me: PeerAddress;
  private readonly peers: ReadonlyMap<number, PeerAddress>;
  private readonly events: QuorumTransportEvents;
  private readonly logger: TransportLogger;

  private state: "new" | "running" | "stopped" = "new";
  private stopping: Promise<void> | null = null;
  private readonly servers: Server[] = [];

  /** Election: our sending connection to each peer (made on the first notify, remade after it drops). */
  private readonly electionOut = new Map<number, FramedConnection>();
  /** Election: connections peers opened to us, for receiving. */
  private readonly electionIn = new Set<FramedConnection>();
  /** Peers whose election connection failed and was logged: quiet until one succeeds again. */
  private readonly electionDownLogged = new Set<number>();

  /** Quorum: at most one connection per peer sid, whichever direction. */
  private readonly quorumLinks = new Map<number, QuorumLink>();
  /** Quorum: accepted connections whose first packet (who they are) has not arrived yet. */
  private readonly unidentified = new Set<FramedConnection>();
  /** Every connection whose socket handle is not released yet, closing ones included: what stop() waits for. */
  private readonly sockets = new Set<FramedConnection>();

  constructor(options: QuorumTransportOptions) {
    this.myId = options.myId;
    this.peers = new Map(options.peers.map((p) => [p.sid, p]));
    assert(this.peers.size === options.peers.length, "two peers with the same sid");
    const me = this.peers.get(options.myId);
    assert(me !== undefined, () => `server ${options.myId} is not among the peers`);
    this.me = me;
    this.events = options.events;
    this.logger = options.logger;
  }

  /** Listens on my election port and my quorum port. */
  async start(): Promise<void> {
    assert(this.state === "new", "a QuorumTransport starts once");
    this.state = "running";
    const election = createServer((socket) => this.acceptElection(socket));
    const quorum = createServer((socket) => this.acceptQuorum(socket));
    this.servers.push(election, quorum);
    // allSettled, not all: when one port fails, wait for the other to be listening before closing it.
    const results = await Promise.allSettled([listen(election, this.me.host, this.me.electionPort), listen(quorum, this.me.host, this.me.quorumPort)]);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure !== undefined) {
      await this.stop();
      throw failure.reason;
    }
    for (const server of this.servers) server.on("error", (error) => this.logger.warn(`server ${this.myId}: listener error: ${error.message}`));
    this.logger.info(`server ${this.myId}: election port ${this.me.electionPort}, quorum port ${this.me.quorumPort}`);
  }

  /**
   * Closes every connection and both listeners; no event is delivered after this is called. Resolves once every
   * socket and listener handle is released (a second call returns the same promise).
   */
  stop(): Promise<void> {
    this.stopping ??= this.release();
    return this.stopping;
  }

  private async release(): Promise<void> {
    this.state = "stopped";
    const conns = [...this.sockets];
    for (const conn of conns) conn.close();
    this.electionOut.clear();
    this.electionIn.clear();
    this.quorumLinks.clear();
    this.unidentified.clear();
    // Resolve only when every handle is gone, so a stopped transport keeps no process alive and its ports are free.
    await Promise.all([
      ...conns.map((c) => c.released),
      ...this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    ]);
  }

  private track(conn: FramedConnection): void {
    this.sockets.add(conn);
    void conn.released.then(() => this.sockets.delete(conn));
  }

  private get running(): boolean {
    return this.state === "running";
  }

  // ---------------------------------------------------------------- election port

  /**
   * Sends a notification to `to`, best effort: connects in the background if needed, and drops it when the
   * connection is backed up or fails (the core re-sends). A notification to ourselves is dropped: the election
   * core counts its own vote.
   */
  notify(to: number, n: Notification): void {
    if (!this.running || to === this.myId) return;
    let conn = this.electionOut.get(to);
    if (conn === undefined) {
      const peer = this.peers.get(to);
      if (peer === undefined) {
        this.logger.warn(`server ${this.myId}: notification to unknown server ${to} dropped`);
        return;
      }
      conn = this.dialElection(peer);
    }
    if (conn.queuedBytes > electionQueuedBytesMax) return;
    conn.write(encodeNotification(n));
  }

  private dialElection(peer: PeerAddress): FramedConnection {
    const socket = connectTcp({ host: peer.host, port: peer.electionPort });
    socket.setTimeout(connectTimeoutMs);
    const conn = new FramedConnection(
      socket,
      electionFrameBytesMax,
      () => conn.fail("the peer sent on our sending connection"),
      (reason) => {
        if (this.electionOut.get(peer.sid) === conn) this.electionOut.delete(peer.sid);
        if (this.running && !this.electionDownLogged.has(peer.sid)) {
          this.electionDownLogged.add(peer.sid);
          this.logger.warn(`server ${this.myId}: election connection to server ${peer.sid} ended (${reason}); will reconnect on the next notification`);
        }
      },
    );
    socket.once("connect", () => {
      socket.setTimeout(0);
      this.electionDownLogged.delete(peer.sid);
    });
    this.track(conn);
    this.electionOut.set(peer.sid, conn);
    conn.write(encodeElectionHello({ sid: this.myId, address: `${this.me.host}:${this.me.electionPort}` }));
    return conn;
  }

  private acceptElection(socket: Socket): void {
    if (!this.running) {
      socket.destroy();
      return;
    }
    let from: number | null = null;
    socket.setTimeout(identifyTimeoutMs);
    const conn: FramedConnection = new FramedConnection(
      socket,
      electionFrameBytesMax,
      (body) => {
        try {
          if (from === null) {
            const hello = decodeElectionHello(body);
            if (!this.peers.has(hello.sid) || hello.sid === this.myId) {
              conn.fail(`server ${hello.sid} (${hello.address}) is not a peer`);
              return;
            }
            from = hello.sid;
            socket.setTimeout(0);
            return;
          }
          const n = decodeNotification(body);
          if (this.running) this.events.notification(from, n);
        } catch (error) {
          if (!(error instanceof QuorumCodecError)) throw error;
          conn.fail(error.message);
        }
      },
      (reason) => {
        this.electionIn.delete(conn);
        // A peer stopping or restarting is routine on this port: info, not warn.
        if (this.running) this.logger.info(`server ${this.myId}: election connection from ${from === null ? "an unknown peer" : `server ${from}`} ended (${reason})`);
      },
    );
    this.track(conn);
    this.electionIn.add(conn);
  }

  // ---------------------------------------------------------------- quorum port

  /**
   * Opens a quorum connection to `leader` (this member is a learner), closing any connection to a leader we had
   * and any other connection with that sid. Packets sent before it is up are queued; if it cannot be made,
   * `disconnected(leader)` follows.
   */
  connect(leader: number): void {
    if (!this.running) return;
    const peer = this.peers.get(leader);
    assert(peer !== undefined, () => `connect to unknown server ${leader}`);
    assert(leader !== this.myId, "a server does not connect to itself as a learner");
    for (const link of [...this.quorumLinks.values()]) {
      if (link.direction === "to-leader" || link.sid === leader) this.dropLink(link);
    }
    const socket = connectTcp({ host: peer.host, port: peer.quorumPort });
    socket.setTimeout(connectTimeoutMs);
    socket.once("connect", () => socket.setTimeout(0));
    const conn: FramedConnection = new FramedConnection(
      socket,
      quorumFrameBytesMax,
      (body) => this.receivePacket(link, body),
      (reason) => this.linkEnded(link, reason),
    );
    const link: QuorumLink = { sid: leader, direction: "to-leader", conn };
    this.track(conn);
    this.quorumLinks.set(leader, link);
  }

  /**
   * Sends a packet on the quorum connection with `to`, in order with the packets sent before it. Without such a
   * connection the packet is dropped silently: the core's timeouts notice. `touches` ride on a learner's PING.
   */
  send(to: number, packet: QuorumPacket<MemberTypes>, touches?: readonly SessionTouch[]): void {
    this.writeRecord(to, packet.kind, () => encodeQuorumPacket(packet, touches === undefined ? { learnerSid: this.myId } : { learnerSid: this.myId, touches }));
  }

  /** Sends a REVALIDATE question or answer on the quorum connection with `to`, like `send`. */
  sendRevalidation(to: number, revalidation: Revalidation): void {
    this.writeRecord(to, "REVALIDATE", () => encodeRevalidation(revalidation));
  }

  private writeRecord(to: number, kind: string, encode: () => Buffer): void {
    if (!this.running) return;
    const link = this.quorumLinks.get(to);
    if (link === undefined) return;
    const body = encode();
    if (body.length > quorumFrameBytesMax) {
      throw new RangeError(`${kind} of ${body.length} bytes exceeds quorumFrameBytesMax (${quorumFrameBytesMax})`);
    }
    if (link.conn.queuedBytes + body.length > quorumQueuedBytesMax) {
      this.logger.warn(`server ${this.myId}: ${link.conn.queuedBytes} bytes queued for server ${to}; closing its quorum connection`);
      link.conn.abort("send queue full");
      return;
    }
    link.conn.write(body);
  }

  /** Closes the quorum connection with `sid`, if any. No `disconnected` follows: we asked. */
  close(sid: number): void {
    const link = this.quorumLinks.get(sid);
    if (link !== undefined) this.dropLink(link);
  }

  private dropLink(link: QuorumLink): void {
    if (this.quorumLinks.get(link.sid) === link) this.quorumLinks.delete(link.sid);
    link.conn.close();
  }

  private acceptQuorum(socket: Socket): void {
    if (!this.running) {
      socket.destroy();
      return;
    }
    socket.setTimeout(identifyTimeoutMs);
    let link: QuorumLink | null = null;
    const conn: FramedConnection = new FramedConnection(
      socket,
      quorumFrameBytesMax,
      (body) => {
        if (link !== null) {
          this.receivePacket(link, body);
          return;
        }
        link = this.identifyLearner(conn, body);
      },
      (reason) => {
        if (link !== null) {
          this.linkEnded(link, reason);
          return;
        }
        this.unidentified.delete(conn);
        if (this.running) this.logger.warn(`server ${this.myId}: quorum connection from ${socket.remoteAddress}:${socket.remotePort} ended before naming its learner (${reason})`);
      },
    );
    this.track(conn);
    this.unidentified.add(conn);
  }

  /**
   * The first packet of an accepted quorum connection: FOLLOWERINFO/OBSERVERINFO says which learner this is.
   * A learner that connects again replaces its old connection, and the core hears `disconnected` for the old
   * one before any packet of the new one (else it would take the new FOLLOWERINFO for a duplicate and drop it).
   */
  private identifyLearner(conn: FramedConnection, body: Buffer): QuorumLink | null {
    let decoded: DecodedQuorumPacket;
    try {
      decoded = decodeQuorumPacket(body);
    } catch (error) {
      if (!(error instanceof QuorumCodecError)) throw error;
      conn.fail(error.message);
      return null;
    }
    const info = decoded.learnerInfo;
    if (info === null) {
      conn.fail(`the first packet on a quorum connection must be FOLLOWERINFO or OBSERVERINFO, got ${decoded.packet.kind}`);
      return null;
    }
    if (!this.peers.has(info.sid) || info.sid === this.myId) {
      conn.fail(`learner ${info.sid} is not a peer`);
      return null;
    }
    this.unidentified.delete(conn);
    conn.socket.setTimeout(0);
    const link: QuorumLink = { sid: info.sid, direction: "from-learner", conn };
    // The old link may also be one we opened to that server as our leader: it is a learner now, so that one is
    // dead too, and the core hears the same `disconnected`.
    const old = this.quorumLinks.get(info.sid);
    this.quorumLinks.set(info.sid, link);
    if (old !== undefined) {
      old.conn.close();
      this.logger.info(`server ${this.myId}: server ${info.sid} connected again; its old quorum connection is closed`);
      this.events.disconnected(info.sid);
    }
    if (this.running && conn.isOpen) this.events.packet(info.sid, decoded.packet, decoded.touches);
    return link;
  }

  private receivePacket(link: QuorumLink, body: Buffer): void {
    let decoded: DecodedQuorumRecord;
    try {
      decoded = decodeQuorumRecord(body, link.direction === "to-leader" ? "leader" : "learner");
    } catch (error) {
      if (!(error instanceof QuorumCodecError)) throw error;
      this.logger.warn(`server ${this.myId}: bad packet from server ${link.sid}: ${error.message}`);
      link.conn.fail(error.message);
      return;
    }
    if (!this.running) return;
    if (decoded.kind === "revalidation") this.events.revalidation(link.sid, decoded.revalidation);
    else this.events.packet(link.sid, decoded.decoded.packet, decoded.decoded.touches);
  }

  private linkEnded(link: QuorumLink, reason: string): void {
    if (this.quorumLinks.get(link.sid) !== link) return;
    this.quorumLinks.delete(link.sid);
    if (!this.running) return;
    this.logger.info(`server ${this.myId}: quorum connection ${link.direction === "to-leader" ? "to leader" : "from learner"} ${link.sid} ended (${reason})`);
    this.events.disconnected(link.sid);
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
