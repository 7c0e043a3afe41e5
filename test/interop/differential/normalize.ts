/**
 * Turns what one server answered into a form where two servers' answers can be compared with `===`, by rewriting
 * only what legitimately differs between two correct servers:
 * - session ids → S0, S1, ... in the order the connect responses handed them out (ephemeralOwner likewise);
 *   a session password is checked to be Apache's `generatePasswd(id)` and becomes "pw(S0)";
 * - zxids → deltas from the first zxid the server put in a reply header ("z+5"); 0 and -1 stay;
 * - ctime/mtime → "T" when plausible (inside the run's wall-clock window), 0 stays 0;
 * - nothing else: children and getEphemerals lists come in Apache's HashSet order, which our server reproduces
 *   (SORT_CHILDREN=1 compares them as sets).
 * Everything else (error names, versions, data, ACLs, event types and paths, byte lengths) is compared as is.
 */
import { sessionPassword } from "../../../src/server/sessions.ts";
import type { Msg, StepRecord } from "./driver.ts";

const sortChildren = process.env.SORT_CHILDREN === "1";

export type Normal = null | boolean | number | string | Normal[] | { [key: string]: Normal };

export interface NormalizeContext {
  /** Wall-clock window of the run (ms): a ctime/mtime outside it is reported as is. */
  readonly startMs: number;
  readonly endMs: number;
}

class Normalizer {
  private readonly sessions = new Map<bigint, string>();
  private zxidBase: bigint | null = null;

  constructor(private readonly ctx: NormalizeContext) {}

  session(id: bigint): string {
    if (id === 0n) return "0";
    const name = this.sessions.get(id);
    return name ?? `unknown-session-0x${BigInt.asUintN(64, id).toString(16)}`;
  }

  learnSession(id: bigint): void {
    if (id !== 0n && !this.sessions.has(id)) this.sessions.set(id, `S${this.sessions.size}`);
  }

  headerZxid(zxid: bigint): string {
    if (zxid === 0n || zxid === -1n) return String(zxid);
    if (this.zxidBase === null) this.zxidBase = zxid;
    return this.zxid(zxid);
  }

  zxid(zxid: bigint): string {
    if (zxid === 0n || zxid === -1n) return String(zxid);
    if (this.zxidBase === null) return `abs:${zxid}`;
    const delta = zxid - this.zxidBase;
    return delta >= 0n ? `z+${delta}` : `z${delta}`;
  }

  time(ms: bigint): string {
    if (ms === 0n) return "0";
    const t = Number(ms);
    return t >= this.ctx.startMs - 60_000 && t <= this.ctx.endMs + 60_000 ? "T" : `implausible:${t}`;
  }

  value(key: string, v: unknown): Normal {
    if (v === null || v === undefined) return null;
    if (typeof v === "bigint") {
      if (key === "czxid" || key === "mzxid" || key === "pzxid") return this.zxid(v);
      if (key === "ctime" || key === "mtime") return this.time(v);
      if (key === "ephemeralOwner") return this.session(v);
      return `${v}n`;
    }
    if (Buffer.isBuffer(v)) return `data:${v.toString("utf8")}`;
    if (Array.isArray(v)) {
      // Apache lists children (and a session's ephemerals) in HashSet order. We reproduce that order, so lists are
      // compared as they come (SORT_CHILDREN=1 compares them as sets instead).
      const items = v.map((item) => this.value(key, item));
      if (sortChildren && (key === "children" || key === "ephemerals")) return [...items].sort((a, b) => String(a).localeCompare(String(b)));
      return items;
    }
    if (typeof v === "object") {
      const out: { [key: string]: Normal } = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) out[k] = this.value(k, item);
      return out;
    }
    return v as Normal;
  }

  msg(m: Msg): Normal {
    switch (m.t) {
      case "connect": {
        this.learnSession(m.sessionId);
        let passwd: string;
        if (m.sessionId === 0n) passwd = /^0*$/.test(m.passwd) ? `zeros(${m.passwd.length / 2})` : `nonzero:${m.passwd}`;
        else passwd = sessionPassword(m.sessionId).toString("hex") === m.passwd ? `pw(${this.session(m.sessionId)})` : `unexpected-pw:${m.passwd}`;
        return {
          t: "connect",
          bytes: m.bytes,
          protocolVersion: m.protocolVersion,
          timeOut: m.timeOut,
          session: this.session(m.sessionId),
          // The top byte of a session id is the server id (1 for a standalone server).
          serverIdByte: m.sessionId === 0n ? 0 : Number(BigInt.asUintN(64, m.sessionId) >> 56n),
          passwd,
          readOnly: m.readOnly === undefined ? "absent" : m.readOnly,
        };
      }
      case "reply":
        return { t: "reply", xid: m.xid, zxid: this.headerZxid(m.zxid), err: m.err, body: this.value("body", m.body), extra: m.extra };
      case "event":
        return { t: "event", xid: m.xid, zxid: this.zxid(m.zxid), err: m.err, type: m.type, state: m.state, path: m.path };
      case "closed":
      case "timeout":
        return { t: m.t };
      case "refused":
        return { t: m.t, error: m.error.replace(/:\d+$/, "") };
      case "undecodable":
        return { t: m.t, hex: m.hex, why: m.why };
    }
  }
}

export interface NormalStep {
  readonly index: number;
  readonly what: string;
  readonly received: Normal;
}

export function normalize(records: readonly StepRecord[], ctx: NormalizeContext): NormalStep[] {
  const n = new Normalizer(ctx);
  return records.map((record) => ({
    index: record.index,
    what: describeStep(record.step),
    received: record.received.map((r) => ({ slot: r.slot, phase: r.phase, msgs: r.msgs.map((m) => n.msg(m)) })) as Normal,
  }));
}

export function describeStep(step: StepRecord["step"]): string {
  return JSON.stringify(step, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
}

export interface Difference {
  readonly index: number;
  readonly what: string;
  readonly apache: Normal;
  readonly ours: Normal;
}

/** Steps whose normalised answers differ, in order. */
export function compare(apache: readonly NormalStep[], ours: readonly NormalStep[]): Difference[] {
  const diffs: Difference[] = [];
  const length = Math.max(apache.length, ours.length);
  for (let i = 0; i < length; i++) {
    const a = apache[i];
    const o = ours[i];
    const aText = JSON.stringify(a?.received ?? null);
    const oText = JSON.stringify(o?.received ?? null);
    if (aText !== oText) diffs.push({ index: i, what: (a ?? o)!.what, apache: a?.received ?? null, ours: o?.received ?? null });
  }
  return diffs;
}

/** A human-readable report of the first differences (the test prints it when it fails): only what differs. */
export function formatDifferences(diffs: readonly Difference[], limit = 6): string {
  const lines: string[] = [];
  for (const d of diffs.slice(0, limit)) {
    lines.push(`step ${d.index}: ${d.what}`);
    const a = Array.isArray(d.apache) ? d.apache : [d.apache];
    const o = Array.isArray(d.ours) ? d.ours : [d.ours];
    for (let i = 0; i < Math.max(a.length, o.length); i++) {
      const at = JSON.stringify(a[i] ?? null);
      const ot = JSON.stringify(o[i] ?? null);
      if (at === ot) continue;
      lines.push(`  apache: ${at}`, `  ours:   ${ot}`);
    }
  }
  if (diffs.length > limit) lines.push(`... and ${diffs.length - limit} more steps`);
  return lines.join("\n");
}
