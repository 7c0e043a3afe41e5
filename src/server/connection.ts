/**
 * One client connection (Apache `NIOServerCnxn`): turns the byte stream into frames, recognises a four-letter
 * word on a fresh connection, holds the handshake state, the session it is attached to and its authenticated
 * ids, and writes replies and notifications. It does not interpret requests: the server does.
 */
import { FrameDecoder } from "../proto/frame.ts";
import type { ACL, Id } from "../proto/records.ts";
import { perms, type EventTypeName } from "../proto/opcodes.ts";
import { aclAllows } from "../tree/acl.ts";
import type { Watcher } from "./watches.ts";
import { encodeNotification } from "./replies.ts";

/** What a connection needs from the socket under it; the TCP listener and tests provide one. */
export interface Transport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  write(bytes: Buffer): void;
  /** Flushes what was written, then closes. */
  close(): void;
  pause(): void;
  resume(): void;
}

export type ConnectionPhase =
  /** Nothing received yet: the first 4 bytes may be a four-letter word. */
  | "fresh"
  /** ConnectRequest received; frames after it wait until the session is established (Apache disableRecv). */
  | "handshaking"
  | "established"
  | "closed";

export interface ConnectionStats {
  packetsReceived: number;
  packetsSent: number;
  readonly establishedAtMs: number;
  lastZxid: bigint;
  lastOp: string;
  lastLatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  requestsCompleted: number;
  /** The xid of the last answered request with xid >= 0, -1 before any (`cons` lcxid). */
  lastCxid: number;
  /** When the last reply went out (clock.nowMs; `cons` lresp). */
  lastResponseMs: number;
  /** When a packet last came in (clock.nowMs), for the connection expiry buckets of `dump`. */
  lastReceivedMs: number;
}

/** Server-wide counters every connection adds to as it sends (`srvr` Sent, `mntr` watch_bytes). */
export interface SentCounters {
  packets: number;
  watchBytes: number;
}

/**
 * How long a connection may stay without a session (nothing, or only part of a ConnectRequest, received), in ms:
 * Apache's zookeeper.nio.sessionlessCnxnTimeout, which is also the bucket width of NIOServerCnxnFactory's
 * connection expiry queue. Without it a client that opens a socket and sends nothing, or half a frame, would hold
 * the socket and its buffered bytes forever.
 */
export const sessionlessConnectionTimeoutMs = 10_000;

/**
 * When a connection expires if nothing more happens (NIOServerCnxnFactory.touchCnxn → ExpiryQueue.update): idle
 * for its session timeout once established, for sessionlessConnectionTimeoutMs before, rounded up to the next
 * bucket. `dump` lists connections by this time; the server closes sessionless ones when it passes.
 */
export function connectionExpiresAtMs(conn: ClientConnection): number {
  const timeoutMs = conn.phase === "established" ? conn.sessionTimeoutMs : sessionlessConnectionTimeoutMs;
  const lastActiveMs = Math.max(conn.stats.lastReceivedMs, conn.stats.lastResponseMs);
  const bucketMs = sessionlessConnectionTimeoutMs;
  return (Math.floor((lastActiveMs + timeoutMs) / bucketMs) + 1) * bucketMs;
}

let nextConnectionId = 1;

export class ClientConnection implements Watcher {
  readonly id = nextConnectionId++;
  phase: ConnectionPhase = "fresh";
  sessionId = 0n;
  sessionTimeoutMs = 0;
  /** Clients before 3.3 (node-zookeeper-client) send no readOnly byte and must not get one back. */
  oldClient = false;
  /** `ip:<addr>` always, plus what addauth added (ServerCnxn.authInfo). */
  readonly authIds: Id[];
  /** Frames that arrived while the handshake was pending. */
  readonly heldFrames: Buffer[] = [];
  /** Requests received and not yet answered. */
  outstanding = 0;
  readonly decoder: FrameDecoder;
  readonly stats: ConnectionStats;

  constructor(
    readonly transport: Transport,
    maxFrameBytes: number,
    nowMs: number,
    private readonly sentCounters: SentCounters = { packets: 0, watchBytes: 0 },
    private readonly allows: typeof aclAllows = aclAllows,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.authIds = [{ scheme: "ip", id: transport.remoteAddress }];
    this.stats = {
      packetsReceived: 0,
      packetsSent: 0,
      establishedAtMs: nowMs,
      lastZxid: -1n,
      lastOp: "NA",
      lastLatencyMs: 0,
      minLatencyMs: Number.MAX_SAFE_INTEGER,
      maxLatencyMs: 0,
      totalLatencyMs: 0,
      requestsCompleted: 0,
      lastCxid: -1,
      lastResponseMs: 0,
      lastReceivedMs: nowMs,
    };
  }

  get isOpen(): boolean {
    return this.phase !== "closed";
  }

  send(frame: Buffer): void {
    if (!this.isOpen) return;
    this.stats.packetsSent++;
    this.sentCounters.packets++;
    this.transport.write(frame);
  }

  /** Watcher: Apache checks READ on the node's ACL before delivering a notification (NIOServerCnxn.process). */
  mayRead(acl: readonly ACL[]): boolean {
    return this.allows(acl, perms.read, this.authIds);
  }

  /** Watcher: a notification goes out at once, ahead of the reply that caused it (the ordering guarantee). */
  notify(type: EventTypeName, path: string): void {
    const frame = encodeNotification(type, path);
    if (this.isOpen) this.sentCounters.watchBytes += frame.length - 4;
    this.send(frame);
  }

  close(): void {
    if (!this.isOpen) return;
    this.phase = "closed";
    this.transport.close();
  }

  describe(): string {
    return `${this.transport.remoteAddress}:${this.transport.remotePort}`;
  }
}
