/**
 * Runs a script of steps against one server (host:port) over raw sockets and records, per step, everything each
 * session received, in order: connect responses (with their exact byte length), replies (err name, decoded body,
 * undecoded trailing bytes), notifications, closes and timeouts.
 *
 * After every step a *barrier* pings every open session and waits for the pongs. A server sends the notifications a
 * txn causes before the reply to the request that made it, and per socket in order, so once the pongs are in, every
 * notification caused by the step has arrived: each one is recorded under the step that caused it, on both servers.
 */
import { ConnectRequest, ConnectResponse, JuteReader, ReplyHeader, WatcherEvent, errorName } from "../../../src/proto/index.ts";
import { RawConnection } from "./wire.ts";
import { opcodeOf, readBody, writeBody, type Body, type PathRef, type RelZxid, type Resolver, type Step } from "./ops.ts";

export type Msg =
  | {
      readonly t: "connect";
      readonly bytes: number;
      readonly protocolVersion: number;
      readonly timeOut: number;
      readonly sessionId: bigint;
      readonly passwd: string;
      readonly readOnly: boolean | undefined;
    }
  | { readonly t: "reply"; readonly xid: number; readonly zxid: bigint; readonly err: string; readonly body: Body | null; readonly extra: string }
  | { readonly t: "event"; readonly xid: number; readonly zxid: bigint; readonly err: number; readonly type: number; readonly state: number; readonly path: string | null }
  | { readonly t: "closed" }
  | { readonly t: "timeout" }
  /** The TCP connect itself failed: the server is gone. */
  | { readonly t: "refused"; readonly error: string }
  | { readonly t: "undecodable"; readonly hex: string; readonly why: string };

export interface SlotMsgs {
  readonly slot: number;
  /** "step" = what the step itself waited for; "barrier" = what came before the pong; "old" = a replaced socket. */
  readonly phase: "step" | "barrier" | "old";
  readonly msgs: Msg[];
}

export interface StepRecord {
  readonly index: number;
  readonly step: Step;
  readonly received: SlotMsgs[];
}

export interface RunOptions {
  /** How long to wait for a reply (or a close) before recording a timeout. */
  readonly replyTimeoutMs?: number;
  /** Called after each step (progress, debugging). */
  readonly onStep?: (record: StepRecord) => void;
}

interface Slot {
  conn: RawConnection | null;
  sessionId: bigint;
  passwd: Buffer;
  nextXid: number;
  /** The highest zxid this session has seen in a reply header (what a client sends as lastZxidSeen). */
  lastZxid: bigint;
  /** xid → opcode of requests in flight, to decode their replies. */
  readonly pending: Map<number, number>;
}

const pingXid = -2;

export async function runScript(host: string, port: number, steps: readonly Step[], options: RunOptions = {}): Promise<StepRecord[]> {
  const replyTimeoutMs = options.replyTimeoutMs ?? 5_000;
  const slots = new Map<number, Slot>();
  const records: StepRecord[] = [];
  let lastCreated: string | null = null;
  const sequentialCreated: string[] = [];
  let maxZxid = 0n;

  const slotOf = (index: number): Slot => {
    let slot = slots.get(index);
    if (slot === undefined) {
      slot = { conn: null, sessionId: 0n, passwd: Buffer.alloc(16), nextXid: 1, lastZxid: 0n, pending: new Map() };
      slots.set(index, slot);
    }
    return slot;
  };

  const resolverFor = (slot: Slot): Resolver => ({
    path(ref: PathRef): string | null {
      if (ref === null || typeof ref === "string") return ref;
      if (ref.ref === "last") return lastCreated ?? "/no-create-yet";
      if (sequentialCreated.length === 0) return "/no-sequential-yet";
      return sequentialCreated[ref.index % sequentialCreated.length]!;
    },
    relZxid(rel: RelZxid): bigint {
      if (rel === "zero") return 0n;
      if (rel === "last") return slot.lastZxid;
      const z = slot.lastZxid - BigInt(rel.minus);
      return z < 0n ? 0n : z;
    },
  });

  /** Notes what a reply teaches the resolver: paths created, zxids seen. */
  const learn = (slot: Slot, msg: Msg, sequential: boolean): void => {
    if (msg.t !== "reply") return;
    if (msg.zxid > slot.lastZxid) slot.lastZxid = msg.zxid;
    if (msg.zxid > maxZxid) maxZxid = msg.zxid;
    const created = (path: unknown, seq: boolean) => {
      if (typeof path !== "string") return;
      lastCreated = path;
      if (seq) sequentialCreated.push(path);
    };
    if (msg.err === "ok" && msg.body !== null) {
      if ("path" in msg.body && "stat" in msg.body === false && typeof msg.body.path === "string") created(msg.body.path, sequential);
      if ("path" in msg.body && "stat" in msg.body) created(msg.body.path, sequential);
      const results = msg.body.results as Array<Record<string, unknown>> | undefined;
      if (Array.isArray(results)) for (const r of results) if (r.type === 1 || r.type === 15) created(r.path, /\d{10}$/.test(String(r.path)));
    }
  };

  /** Reads one frame of an established session and turns it into a message. */
  const decodeFrame = (slot: Slot, body: Buffer): Msg => {
    try {
      const r = new JuteReader(body);
      const h = ReplyHeader.read(r);
      if (h.xid === -1) {
        const e = WatcherEvent.read(r);
        return { t: "event", xid: h.xid, zxid: h.zxid, err: h.err, type: e.type, state: e.state, path: e.path };
      }
      const code = h.xid === pingXid ? 11 : slot.pending.get(h.xid);
      slot.pending.delete(h.xid);
      let decoded: Body | null = null;
      let end = r.position;
      if (h.err === 0 && code !== undefined) {
        decoded = readBody(code, r);
        end = r.position;
      } else if (code !== undefined && r.remaining > 0) {
        // Apache sometimes sends a body with an error (a multi that broke half-way): decode it when we can, so
        // that the times and zxids in it are normalised like any others.
        try {
          decoded = readBody(code, r);
          end = r.position;
        } catch {
          decoded = null;
        }
      }
      const extra = body.subarray(end).toString("hex");
      return { t: "reply", xid: h.xid, zxid: h.zxid, err: errorName(h.err) ?? String(h.err), body: decoded, extra };
    } catch (error) {
      return { t: "undecodable", hex: body.toString("hex"), why: (error as Error).message };
    }
  };

  /** Takes frames until a reply with `xid` (or a close, or a timeout), recording everything on the way. */
  const readUntilReply = async (slot: Slot, xid: number, into: Msg[], sequential = false): Promise<void> => {
    const conn = slot.conn!;
    for (;;) {
      const got = await conn.next(replyTimeoutMs);
      if (got.kind === "closed") {
        into.push({ t: "closed" });
        slot.conn = null;
        return;
      }
      if (got.kind === "timeout") {
        into.push({ t: "timeout" });
        return;
      }
      const msg = decodeFrame(slot, got.body);
      into.push(msg);
      learn(slot, msg, sequential);
      if (msg.t === "reply" && msg.xid === xid) return;
      if (msg.t === "undecodable") return;
    }
  };

  const handshake = async (slot: Slot, request: ConnectRequest, into: Msg[]): Promise<void> => {
    slot.conn?.destroy();
    slot.pending.clear();
    let conn: RawConnection;
    try {
      conn = await RawConnection.open(host, port);
    } catch (error) {
      into.push({ t: "refused", error: (error as Error).message });
      slot.conn = null;
      return;
    }
    slot.conn = conn;
    conn.send((w) => ConnectRequest.write(w, request));
    const got = await conn.next(replyTimeoutMs);
    if (got.kind !== "frame") {
      into.push({ t: got.kind });
      if (got.kind === "closed") slot.conn = null;
      return;
    }
    const response = ConnectResponse.read(new JuteReader(got.body));
    into.push({
      t: "connect",
      bytes: got.body.length,
      protocolVersion: response.protocolVersion,
      timeOut: response.timeOut,
      sessionId: response.sessionId,
      passwd: (response.passwd ?? Buffer.alloc(0)).toString("hex"),
      readOnly: response.readOnly,
    });
    if (response.sessionId !== 0n) {
      slot.sessionId = response.sessionId;
      slot.passwd = response.passwd ?? Buffer.alloc(16);
    }
  };

  /**
   * After an answer that ends the connection (UNIMPLEMENTED, AUTHFAILED, closeSession, a refused handshake), wait
   * for the close itself instead of pinging: Apache closes a moment after it answers, and may still answer a ping
   * sent in between — a race of its threads, not a behaviour to compare.
   */
  const awaitClose = async (slot: Slot, into: Msg[]): Promise<void> => {
    const conn = slot.conn;
    if (conn === null) return;
    for (;;) {
      const got = await conn.next(replyTimeoutMs);
      if (got.kind === "frame") into.push(decodeFrame(slot, got.body));
      else {
        into.push({ t: got.kind });
        if (got.kind === "closed") slot.conn = null;
        return;
      }
    }
  };
  const endsConnection = (msgs: readonly Msg[]): boolean => {
    const last = msgs.at(-1);
    if (last === undefined) return false;
    if (last.t === "connect") return last.sessionId === 0n;
    return last.t === "reply" && (last.err === "unimplemented" || last.err === "authFailed");
  };

  const sendRequest = (slot: Slot, xid: number, code: number, write: Parameters<typeof writeBody>[1] | null): void => {
    slot.pending.set(xid, code);
    slot.conn!.send((w) => {
      w.writeInt(xid).writeInt(code);
      if (write !== null) writeBody(w, write, resolverFor(slot));
    });
  };

  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!;
    const received: SlotMsgs[] = [];
    const slot = slotOf(step.slot);
    const mine: Msg[] = [];
    received.push({ slot: step.slot, phase: "step", msgs: mine });

    switch (step.kind) {
      case "open": {
        const lastZxidSeen = step.lastZxid === "zero" ? 0n : step.lastZxid === "seen" ? maxZxid : maxZxid + 1000n;
        slot.sessionId = 0n;
        slot.lastZxid = 0n;
        await handshake(
          slot,
          { protocolVersion: 0, lastZxidSeen, timeOut: step.timeoutMs, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: step.readOnlyByte ? false : undefined },
          mine,
        );
        slot.nextXid = 1;
        break;
      }
      case "reattach": {
        // The old socket is left open on purpose: the server must close it (CLIENT_RECONNECT) — recorded below.
        const old = slot.conn;
        const oldSlotMsgs: Msg[] = [];
        slot.conn = null;
        const passwd = step.password === "right" ? slot.passwd : Buffer.from(slot.passwd.map((b) => b ^ 0x5a));
        await handshake(
          slot,
          { protocolVersion: 0, lastZxidSeen: slot.lastZxid, timeOut: 30_000, sessionId: slot.sessionId, passwd, readOnly: step.readOnlyByte ? false : undefined },
          mine,
        );
        if (step.setWatches !== null && slot.conn !== null && mine.at(-1)?.t === "connect") {
          sendRequest(slot, -8, step.setWatches.code, step.setWatches);
          await readUntilReply(slot, -8, mine);
        }
        if (old !== null) {
          // What the old connection got before the server closed it (nothing, normally), then the close.
          received.push({ slot: step.slot, phase: "old", msgs: oldSlotMsgs });
          for (;;) {
            const got = await old.next(replyTimeoutMs);
            if (got.kind === "frame") oldSlotMsgs.push(decodeFrame(slot, got.body));
            else {
              oldSlotMsgs.push({ t: got.kind });
              break;
            }
          }
          old.destroy();
        }
        break;
      }
      case "drop":
        slot.conn?.destroy();
        slot.conn = null;
        break;
      case "sleep":
        await new Promise((resolve) => setTimeout(resolve, step.ms));
        break;
      case "request": {
        if (slot.conn === null) {
          mine.push({ t: "closed" });
          break;
        }
        const req = step.req;
        const code = opcodeOf(req);
        const xid =
          step.xid ?? (req.op === "auth" ? -4 : req.op === "ping" ? pingXid : req.op === "setWatches" ? -8 : slot.nextXid++);
        sendRequest(slot, xid, code, req);
        const sequential = req.op === "create" && (req.flags === 2 || req.flags === 3 || req.flags === 6);
        // A ping is answered with xid -2 whatever xid it came with.
        await readUntilReply(slot, code === 11 ? pingXid : xid, mine, sequential);
        if (req.op === "closeSession" && mine.at(-1)?.t === "reply") await awaitClose(slot, mine);
        break;
      }
      case "pipeline":
        break; // below
    }

    if ((step.kind === "open" || step.kind === "reattach" || step.kind === "request") && endsConnection(mine)) await awaitClose(slot, mine);

    if (step.kind === "pipeline") {
      if (slot.conn === null) mine.push({ t: "closed" });
      else {
        const sent: Array<{ xid: number; sequential: boolean }> = [];
        for (const req of step.reqs) {
          const xid = slot.nextXid++;
          sendRequest(slot, xid, opcodeOf(req), req);
          sent.push({ xid, sequential: req.op === "create" && (req.flags === 2 || req.flags === 3 || req.flags === 6) });
        }
        for (const { xid, sequential } of sent) {
          if (slot.conn === null) break;
          await readUntilReply(slot, xid, mine, sequential);
        }
      }
    }

    // The barrier: a ping on every open session; everything before its pong belongs to this step.
    const open = [...slots.entries()].filter(([, s]) => s.conn !== null && s.sessionId !== 0n).sort(([a], [b]) => a - b);
    for (const [, s] of open) s.conn!.send((w) => w.writeInt(pingXid).writeInt(11));
    for (const [index, s] of open) {
      const msgs: Msg[] = [];
      await readUntilReply(s, pingXid, msgs);
      // The pong itself carries only the server's last zxid; keep it (zxid deltas are compared) but mark it.
      received.push({ slot: index, phase: "barrier", msgs });
    }
    const record: StepRecord = { index, step, received };
    records.push(record);
    options.onStep?.(record);
  }
  for (const s of slots.values()) s.conn?.destroy();
  return records;
}
