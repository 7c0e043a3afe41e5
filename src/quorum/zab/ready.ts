/**
 * What a step of a protocol core asks its driver to do (after etcd-io/raft's `Ready`). The simulator and a TCP
 * runtime carry out the same outputs.
 *
 * The driver's contract, which every ordering rule of Zab rests on:
 *  - Readys are carried out strictly in the order the core returned them;
 *  - within one Ready: `persist` (durably: write, then fsync) → `deliver` → `close` → `connect` → `send`/`notify`;
 *  - nothing of a later Ready may overtake the persist of an earlier one (a driver that fsyncs asynchronously
 *    queues later Readys behind it; group commit may cover several Readys with one fsync).
 * Crashing at any point is allowed: a crash loses what was not fsynced and everything not yet carried out.
 */
import type { Notification } from "../election/vote.ts";
import type { ForwardedRequest, LogEntry, OutgoingPacket, ZabTypes } from "./messages.ts";

/** One durable change. Apache keeps epochs in the files `currentEpoch`/`acceptedEpoch`, txns in `log.<zxid>`. */
export type PersistOp<T extends ZabTypes> =
  | { readonly kind: "acceptedEpoch"; readonly epoch: number }
  | { readonly kind: "currentEpoch"; readonly epoch: number }
  | { readonly kind: "append"; readonly entry: LogEntry<T> }
  /** Drop every logged txn after `zxid` (TRUNC). */
  | { readonly kind: "truncate"; readonly zxid: bigint }
  /** The state as of `zxid` replaces the whole log (SNAP): a snapshot file, and no txns up to it. */
  | { readonly kind: "snapshot"; readonly zxid: bigint; readonly snapshot: T["snapshot"] };

/** What the state machine must do, in order. Only committed state is ever delivered. */
export type Delivery<T extends ZabTypes> =
  /** Apply a committed txn (DataTree.processTxn); zxids strictly increase. */
  | { readonly kind: "commit"; readonly entry: LogEntry<T> }
  /** Replace the state machine by a leader's snapshot (SNAP). */
  | { readonly kind: "install"; readonly zxid: bigint; readonly snapshot: T["snapshot"] };

/** What changed in the peer, for logs, timelines and the simulator's checkers. */
export type PeerEvent =
  | { readonly kind: "role"; readonly role: "looking" | "following" | "leading" | "observing"; readonly leader: number | null; readonly reason: string }
  /** Leader: an ACKEPOCH quorum accepted `epoch`; this server's currentEpoch is now `epoch` (end of discovery). */
  | { readonly kind: "discovered"; readonly epoch: number; readonly quorum: readonly number[] }
  /** Leader: a quorum acked NEWLEADER; the leader's history is committed and it serves. */
  | { readonly kind: "established"; readonly epoch: number; readonly quorum: readonly number[] }
  /** Leader: how it synchronizes a learner. */
  | { readonly kind: "sync"; readonly learner: number; readonly mode: "DIFF" | "TRUNC" | "SNAP"; readonly fromZxid: bigint; readonly toZxid: bigint }
  /** Learner: UPTODATE received; it serves clients. */
  | { readonly kind: "uptodate"; readonly epoch: number }
  /** A client write or sync that could not be taken (not serving). */
  | { readonly kind: "rejected"; readonly what: "write" | "sync" };

export interface Ready<T extends ZabTypes> {
  /**
   * Make these durable, in order, and fsync, before anything else in this Ready (and in later ones) is carried out:
   * fsync before any ACK in `send` — Zab's log-before-ack rule — and before the leader counts its own ACK.
   */
  readonly persist: PersistOp<T>[];
  /** Committed txns (or a snapshot) to apply, after `persist`, in order. */
  readonly deliver: Delivery<T>[];
  /** Quorum connections to close (the other side sees the connection drop). */
  readonly close: number[];
  /** Open a new quorum connection to this server (the leader) before sending to it; any old one is gone. */
  connect: number | null;
  /** Zab packets, in order per receiver (a quorum connection is FIFO). */
  readonly send: { readonly to: number; readonly packet: OutgoingPacket<T> }[];
  /** Election notifications (any order; they may be lost and are re-sent). */
  readonly notify: { readonly to: number; readonly notification: Notification }[];
  /** Leader: client requests to run through the prepare step; then `propose` each txn. `from` may be this server. */
  readonly requests: { readonly from: number; readonly request: ForwardedRequest<T> & { readonly op: "write" } }[];
  /** Client syncs that finished (`ok`) or were abandoned. */
  readonly syncs: { readonly token: number; readonly ok: boolean }[];
  readonly events: PeerEvent[];
  /**
   * Call `tick` at this time at the latest. A driver keeps the earliest time asked for until that timer fires
   * (every `tick` reports the next one); Infinity asks for nothing new.
   */
  wakeAtMs: number;
}

export function emptyReady<T extends ZabTypes>(): Ready<T> {
  return { persist: [], deliver: [], close: [], connect: null, send: [], notify: [], requests: [], syncs: [], events: [], wakeAtMs: Number.POSITIVE_INFINITY };
}

/** Appends `more` to `into` (a role change inside one step produces outputs of two roles). */
export function mergeReady<T extends ZabTypes>(into: Ready<T>, more: Ready<T>): Ready<T> {
  into.persist.push(...more.persist);
  into.deliver.push(...more.deliver);
  into.close.push(...more.close);
  if (more.connect !== null) into.connect = more.connect;
  into.send.push(...more.send);
  into.notify.push(...more.notify);
  into.requests.push(...more.requests);
  into.syncs.push(...more.syncs);
  into.events.push(...more.events);
  into.wakeAtMs = Math.min(into.wakeAtMs, more.wakeAtMs);
  return into;
}

export function isEmptyReady<T extends ZabTypes>(r: Ready<T>): boolean {
  return (
    r.persist.length === 0 && r.deliver.length === 0 && r.close.length === 0 && r.connect === null && r.send.length === 0 &&
    r.notify.length === 0 && r.requests.length === 0 && r.syncs.length === 0 && r.events.length === 0
  );
}
