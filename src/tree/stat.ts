/**
 * Znode metadata. The server stores a `StatPersisted` per node; clients see a `Stat` derived from it
 * (Apache `DataNode.copyStat`). Two derivations matter for exactness:
 * - the stored cversion counts child *creates* (it also names sequential children), but clients see the
 *   number of child *changes*: `cversion = stored*2 - numChildren` (every create has a delete, except for the
 *   children still present). A fresh root with only /zookeeper shows -1.
 * - container and TTL nodes encode their type in ephemeralOwner; clients see 0 there.
 */
import type { Stat, StatPersisted } from "../proto/records.ts";

export type MutableStatPersisted = { -readonly [K in keyof StatPersisted]: StatPersisted[K] };

/** Long.MIN_VALUE: the ephemeralOwner that marks a container node (EphemeralType.CONTAINER_EPHEMERAL_OWNER). */
export const containerOwner = -0x8000000000000000n;
const extendedMask = -0x0100000000000000n; // 0xff00000000000000 as a signed long
const reservedBitsMask = 0x00ffff0000000000n;
/** The largest TTL a node may have, in ms (EphemeralType.TTL.maxValue(): about 34 years). */
export const ttlMsMax = 0x000000ffffffffffn;

/** What kind of node an ephemeralOwner describes (EphemeralType.get). */
export type OwnerKind = "none" | "ephemeral" | "container" | "ttl";

export function ownerKind(owner: bigint, extendedTypesEnabled: boolean): OwnerKind {
  if (extendedTypesEnabled && (owner & extendedMask) === extendedMask && (owner & reservedBitsMask) === 0n) return "ttl";
  if (owner === containerOwner) return "container";
  return owner === 0n ? "none" : "ephemeral";
}

/** EphemeralType.TTL.toEphemeralOwner: 0xff00_0000_0000_0000 | ttl. */
export function ttlOwner(ttlMs: bigint): bigint {
  return BigInt.asIntN(64, extendedMask | ttlMs);
}

export function ttlOfOwner(owner: bigint): bigint {
  return owner & ttlMsMax;
}

export function newStat(zxid: bigint, timeMs: bigint, ephemeralOwner: bigint): MutableStatPersisted {
  return {
    czxid: zxid,
    mzxid: zxid,
    ctime: timeMs,
    mtime: timeMs,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner,
    pzxid: zxid,
  };
}

/** The client's view of a node's stat (DataNode.copyStat). */
export function clientStat(
  stat: StatPersisted,
  dataLength: number,
  numChildren: number,
  extendedTypesEnabled: boolean,
): Stat {
  // lab 2.3: the Stat a client sees: cversion and numChildren derived from what is stored
  //   Copy the stored fields, with three changes. The stored cversion counts child creates; clients see child
  //   changes, so cversion = stored * 2 - numChildren (each create has a delete, except for living children).
  //   dataLength and numChildren are given. ephemeralOwner is shown only for ephemeral nodes
  //   (ownerKind(...) === "ephemeral"); containers and TTL nodes keep their kind there, and clients see 0.
  return {
    czxid: stat.czxid,
    mzxid: stat.mzxid,
    ctime: stat.ctime,
    mtime: stat.mtime,
    version: stat.version,
    cversion: stat.cversion * 2 - numChildren,
    aversion: stat.aversion,
    ephemeralOwner: ownerKind(stat.ephemeralOwner, extendedTypesEnabled) === "ephemeral" ? stat.ephemeralOwner : 0n,
    dataLength,
    numChildren,
    pzxid: stat.pzxid,
  };
  // end lab 2.3
}
