/**
 * What the simulated servers replicate: tiny requests and txns, and a state machine that is simply the list of
 * txns applied so far — the most telling state machine there is, since the checkers can compare it exactly.
 */
import type { ZabTypes } from "../quorum/index.ts";

export interface SimRequest {
  readonly id: number;
}
export interface SimTxn {
  readonly id: number;
}
export interface SimApplied {
  readonly zxid: bigint;
  readonly id: number;
}
/** A snapshot is the applied list itself. */
export interface SimSnapshot {
  readonly applied: readonly SimApplied[];
}

export interface SimTypes extends ZabTypes {
  readonly request: SimRequest;
  readonly txn: SimTxn;
  readonly snapshot: SimSnapshot;
}
