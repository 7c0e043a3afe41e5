/**
 * Human-readable renderings of txns, log files and snapshots, for `logdump` (Apache's TxnLogToolkit and
 * SnapshotFormatter do the same job) and for `zk-repair`'s account of what it drops. Pure: data in, lines out.
 */
import { errorCodes } from "../proto/errors.ts";
import type { ACL } from "../proto/records.ts";
import { ownerKind, ttlOfOwner } from "../tree/stat.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";
import type { DecodedSnapshot } from "./snapshot-format.ts";
import { hex, type TxnDigest } from "./txn-codec.ts";

const dataShownChars = 48;

/** Data as text when it is printable, else as hex; long values are cut. */
export function formatData(data: Buffer | null): string {
  if (data === null) return "null";
  if (data.length === 0) return '""';
  const printable = data.every((b) => b >= 0x20 && b < 0x7f);
  const shown = printable ? JSON.stringify(data.subarray(0, dataShownChars).toString("latin1")) : `0x${data.subarray(0, dataShownChars / 2).toString("hex")}`;
  const cut = printable ? data.length > dataShownChars : data.length > dataShownChars / 2;
  return `${shown}${cut ? "…" : ""} (${data.length} bytes)`;
}

export function formatAcl(acl: readonly ACL[]): string {
  return `[${acl.map((a) => `${a.id.scheme}:${a.id.id}:${permLetters(a.perms)}`).join(", ")}]`;
}

/** Perms as zkCli prints them: c(reate) d(elete) r(ead) w(rite) a(dmin). */
function permLetters(perms: number): string {
  return ["c", "d", "r", "w", "a"].filter((_, i) => perms & [4, 8, 1, 2, 16][i]!).join("") || "none";
}

export function formatTxn(txn: Txn): string {
  switch (txn.kind) {
    case "create":
      return `${txn.path} data=${formatData(txn.data)} acl=${formatAcl(txn.acl)}${txn.ephemeral ? " ephemeral" : ""} parentCVersion=${txn.parentCVersion}`;
    case "createContainer":
      return `${txn.path} data=${formatData(txn.data)} acl=${formatAcl(txn.acl)} container parentCVersion=${txn.parentCVersion}`;
    case "createTTL":
      return `${txn.path} data=${formatData(txn.data)} acl=${formatAcl(txn.acl)} ttl=${txn.ttlMs}ms parentCVersion=${txn.parentCVersion}`;
    case "delete":
      return txn.path;
    case "setData":
      return `${txn.path} data=${formatData(txn.data)} version=${txn.version}`;
    case "setACL":
      return `${txn.path} acl=${formatAcl(txn.acl)} aclVersion=${txn.version}`;
    case "check":
      return `${txn.path} version=${txn.version}`;
    case "createSession":
      return `timeout=${txn.timeOutMs}ms`;
    case "closeSession":
      return txn.paths2Delete.length === 0 ? "" : `deletes ${txn.paths2Delete.join(" ")}`;
    case "error":
      return `${txn.err} (${errorCodes[txn.err]})`;
    case "multi":
      return `[${txn.txns.map((sub) => `${sub.kind} ${formatTxn(sub)}`.trim()).join("; ")}]`;
  }
}

/** One line per txn: zxid, time, session, cxid, type, then what it does. */
export function formatEntry(header: TxnHeader, txn: Txn, digest: TxnDigest | null): string {
  const time = new Date(Number(header.timeMs)).toISOString();
  const what = formatTxn(txn);
  const digestText = digest === null ? "" : `  digest=${BigInt.asUintN(64, digest.treeDigest)}`;
  return `zxid 0x${hex(header.zxid)}  ${time}  session 0x${hex(header.sessionId)}  cxid 0x${(header.cxid >>> 0).toString(16)}  ${header.type}${what === "" ? "" : ` ${what}`}${digestText}`;
}

/** A snapshot as SnapshotFormatter shows it, a line per node. */
export function formatSnapshot(name: string, zxid: bigint | undefined, bytes: number, snapshot: DecodedSnapshot, extendedTypesEnabled = true): string[] {
  const lines: string[] = [];
  lines.push(`${name}: ZooKeeper snapshot, format version 2, dbid ${snapshot.dbid}, ${bytes} bytes`);
  if (zxid !== undefined) lines.push(`Last zxid when it started: 0x${hex(zxid)}`);
  lines.push(
    snapshot.digest === null
      ? "Digest: none"
      : `Digest: the tree at zxid 0x${hex(snapshot.digest.zxid)} has digest ${BigInt.asUintN(64, snapshot.digest.digest)} (version ${snapshot.digest.version})`,
  );
  const ephemerals = new Map<bigint, string[]>();
  for (const node of snapshot.nodes) {
    const owner = node.stat.ephemeralOwner;
    if (ownerKind(owner, extendedTypesEnabled) === "ephemeral") ephemerals.set(owner, [...(ephemerals.get(owner) ?? []), node.path]);
  }
  lines.push(`Sessions (${snapshot.sessions.length}): id, timeout, ephemerals`);
  for (const s of snapshot.sessions) {
    const owned = ephemerals.get(s.id) ?? [];
    lines.push(`  0x${hex(s.id)}  ${s.timeoutMs} ms  ${owned.length}${owned.length > 0 ? `  ${owned.join(" ")}` : ""}`);
  }
  lines.push(`ACL table (${snapshot.acls.size}):`);
  for (const [index, acl] of snapshot.acls) lines.push(`  ${index}: ${formatAcl(acl)}`);
  lines.push(`Nodes (${snapshot.nodes.length}), parents first:`);
  for (const node of snapshot.nodes) {
    const s = node.stat;
    const kind = ownerKind(s.ephemeralOwner, extendedTypesEnabled);
    const owner =
      kind === "ephemeral" ? `  ephemeralOwner 0x${hex(s.ephemeralOwner)}` : kind === "container" ? "  container" : kind === "ttl" ? `  ttl ${ttlOfOwner(s.ephemeralOwner)}ms` : "";
    lines.push(
      `  ${node.path}  czxid 0x${hex(s.czxid)}  mzxid 0x${hex(s.mzxid)}  pzxid 0x${hex(s.pzxid)}  ctime ${new Date(Number(s.ctime)).toISOString()}` +
        `  version ${s.version}  cversion ${s.cversion}  aversion ${s.aversion}${owner}  acl ${node.aclIndex}  data ${formatData(node.data)}`,
    );
  }
  return lines;
}
