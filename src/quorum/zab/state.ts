/**
 * What a peer keeps across roles: its two epochs and its history. Every change goes through here so that the
 * in-memory view and the `persist` ops the driver makes durable never disagree.
 */
import type { QuorumVerifier } from "../verifier.ts";
import type { History } from "./history.ts";
import type { LogEntry, ZabTypes } from "./messages.ts";
import type { Ready } from "./ready.ts";

/** Timing and membership shared by all roles (zoo.cfg: tickTime, initLimit, syncLimit, server.x lines). */
export interface ZabConfig {
  readonly myId: number;
  readonly verifier: QuorumVerifier;
  readonly tickTimeMs: number;
  /** How long discovery and synchronization may take, in ticks. */
  readonly initLimitTicks: number;
  /** How long a learner may stay silent once in sync, in ticks. */
  readonly syncLimitTicks: number;
}

export class ZabState<T extends ZabTypes> {
  constructor(
    /** The epoch of the last NEWLEADER this server accepted (file `currentEpoch`). */
    public currentEpoch: number,
    /** The last epoch this server promised to follow (file `acceptedEpoch`), >= currentEpoch. */
    public acceptedEpoch: number,
    readonly history: History<T>,
  ) {}

  setAcceptedEpoch(epoch: number, out: Ready<T>): void {
    this.acceptedEpoch = epoch;
    out.persist.push({ kind: "acceptedEpoch", epoch });
  }

  setCurrentEpoch(epoch: number, out: Ready<T>): void {
    this.currentEpoch = epoch;
    out.persist.push({ kind: "currentEpoch", epoch });
  }

  append(entry: LogEntry<T>, out: Ready<T>): void {
    this.history.append(entry);
    out.persist.push({ kind: "append", entry });
  }

  truncate(zxid: bigint, out: Ready<T>): void {
    this.history.truncate(zxid);
    out.persist.push({ kind: "truncate", zxid });
  }

  installSnapshot(zxid: bigint, snapshot: T["snapshot"], out: Ready<T>): void {
    this.history.resetTo(zxid);
    out.persist.push({ kind: "snapshot", zxid, snapshot });
    out.deliver.push({ kind: "install", zxid, snapshot });
  }

  /** Hands every committed, undelivered txn to the state machine. */
  deliverCommitted(out: Ready<T>): void {
    for (const entry of this.history.takeDeliverable()) out.deliver.push({ kind: "commit", entry });
  }
}
