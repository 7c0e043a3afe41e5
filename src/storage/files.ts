/**
 * File names in `version-2/` (Apache Util): `log.<hex zxid of its first txn>` and `snapshot.<hex last zxid>`,
 * zxids in lower-case hex without leading zeros (Long.toHexString). Pure.
 */
import { logFilePrefix, snapshotFilePrefix } from "./limits.ts";

export function logFileName(zxid: bigint): string {
  return `${logFilePrefix}.${BigInt.asUintN(64, zxid).toString(16)}`;
}

export function snapshotFileName(zxid: bigint): string {
  return `${snapshotFilePrefix}.${BigInt.asUintN(64, zxid).toString(16)}`;
}

/**
 * The zxid in a `prefix.<hex>[.ext]` name, or undefined for any other name (Util.getZxidFromName, which also
 * accepts `snapshot.<hex>.gz`-style extensions; we never write those and cannot read compressed snapshots).
 */
export function zxidFromName(name: string, prefix: string): bigint | undefined {
  const parts = name.split(".");
  if (parts.length < 2 || parts[0] !== prefix || !/^[0-9a-fA-F]{1,16}$/.test(parts[1]!)) return undefined;
  return BigInt.asIntN(64, BigInt(`0x${parts[1]}`));
}

export interface NamedZxid {
  readonly name: string;
  readonly zxid: bigint;
}

/** The names that carry `prefix`, sorted by zxid, oldest first. */
export function sortByZxid(names: readonly string[], prefix: string): NamedZxid[] {
  const found: NamedZxid[] = [];
  for (const name of names) {
    const zxid = zxidFromName(name, prefix);
    if (zxid !== undefined) found.push({ name, zxid });
  }
  return found.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/**
 * The log files that can hold txns after `zxid`: the newest one that starts at or before it, and every later one
 * (FileTxnLog.getLogFiles). `logs` is sorted oldest first.
 */
export function logsFrom<T extends NamedZxid>(logs: readonly T[], zxid: bigint): T[] {
  let start = 0n;
  for (const log of logs) {
    if (log.zxid > zxid) break;
    if (log.zxid > start) start = log.zxid;
  }
  return logs.filter((log) => log.zxid >= start);
}
