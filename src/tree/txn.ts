/**
 * Transactions: what a write becomes once the server has decided its outcome (Apache `org.apache.zookeeper.txn`).
 * A txn is deterministic — it carries the sequential name already chosen, the new version, the expanded ACL — so
 * applying the same txn to the same tree always gives the same tree. That is what lets a transaction log and Zab
 * replay it (notes §9: "事物执行是幂等的").
 */
import type { ACL } from "../proto/records.ts";
import type { ErrorName, OpName } from "../proto/index.ts";

export type Txn =
  | { readonly kind: "create"; readonly path: string; readonly data: Buffer | null; readonly acl: readonly ACL[]; readonly ephemeral: boolean; readonly parentCVersion: number }
  | { readonly kind: "createContainer"; readonly path: string; readonly data: Buffer | null; readonly acl: readonly ACL[]; readonly parentCVersion: number }
  | { readonly kind: "createTTL"; readonly path: string; readonly data: Buffer | null; readonly acl: readonly ACL[]; readonly parentCVersion: number; readonly ttlMs: bigint }
  | { readonly kind: "delete"; readonly path: string }
  | { readonly kind: "setData"; readonly path: string; readonly data: Buffer | null; readonly version: number }
  | { readonly kind: "setACL"; readonly path: string; readonly acl: readonly ACL[]; readonly version: number }
  | { readonly kind: "check"; readonly path: string; readonly version: number }
  | { readonly kind: "createSession"; readonly timeOutMs: number }
  | { readonly kind: "closeSession"; readonly paths2Delete: readonly string[] }
  /** A write that failed still consumes its zxid and is logged as an error txn (Apache `ErrorTxn`). */
  | { readonly kind: "error"; readonly err: ErrorName }
  | { readonly kind: "multi"; readonly txns: readonly Txn[] };

export type TxnKind = Txn["kind"];

/** Apache `TxnHeader`: who asked (session, cxid), when (wall-clock ms), the zxid, and the request's opcode. */
export interface TxnHeader {
  readonly sessionId: bigint;
  readonly cxid: number;
  readonly zxid: bigint;
  readonly timeMs: bigint;
  readonly type: OpName;
}

/** zxid = epoch << 32 | counter (notes §9). */
export function makeZxid(epoch: number, counter: number): bigint {
  // lab 9.1: a zxid is the epoch in the high 32 bits and the counter in the low 32
  //   Shift the epoch left by 32 bits and OR in the counter as an unsigned 32-bit number (`counter >>> 0`), all in
  //   bigint. Then every zxid of a newer epoch is larger than any zxid of an older one, whatever its counter, and a
  //   new leader starts at makeZxid(epoch, 0).
  return (BigInt(epoch) << 32n) | BigInt(counter >>> 0);
  // end lab 9.1
}
export function zxidEpoch(zxid: bigint): number {
  return Number(zxid >> 32n);
}
export function zxidCounter(zxid: bigint): number {
  return Number(zxid & 0xffffffffn);
}
