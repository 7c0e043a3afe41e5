/**
 * A small raw-protocol load generator for the benchmark: sessions over plain sockets, requests encoded once with
 * the project's jute records (src/proto) and stamped with an xid per send, replies parsed only as far as the
 * ReplyHeader. No client library sits between the clock and the server, so the client is not what is measured.
 *
 * A run keeps `depth` requests outstanding on each of `connections` sessions (depth 1 = one at a time), until
 * `maxOps` requests are done or `seconds` have passed, and records every request's latency. Requests written
 * in one event-loop turn go out in one socket write; replies come back in order per session (ZooKeeper's
 * guarantee), so a FIFO of send times per connection gives each reply its latency.
 */
import net from "node:net";
import { performance } from "node:perf_hooks";
import { ConnectRequest, ConnectResponse, CreateRequest, JuteReader, JuteWriter, PathWatchRequest, RequestHeader, SetDataRequest, opCodes } from "../src/proto/index.ts";
import { openAclUnsafe } from "../src/tree/acl.ts";

/** A request frame with a placeholder xid at byte 4 (right after the length prefix). */
export type Template = Buffer;

const xidOffset = 4;

function frameOf(type: number, write: (w: JuteWriter) => void): Template {
  const w = new JuteWriter();
  RequestHeader.write(w, { xid: 0, type });
  write(w);
  return w.toFrame();
}

export const requests = {
  getData: (path: string): Template => frameOf(opCodes.getData, (w) => PathWatchRequest.write(w, { path, watch: false })),
  exists: (path: string): Template => frameOf(opCodes.exists, (w) => PathWatchRequest.write(w, { path, watch: false })),
  setData: (path: string, data: Buffer): Template =>
    frameOf(opCodes.setData, (w) => SetDataRequest.write(w, { path, data, version: -1 })),
  create: (path: string, data: Buffer): Template =>
    frameOf(opCodes.create, (w) => CreateRequest.write(w, { path, data, acl: [...openAclUnsafe], flags: 0 })),
};

/** What a run sends: the request for the `seq`-th request of connection `conn` (seq counts from 0 per run). */
export type Workload = (conn: number, seq: number) => Template;

export interface RunOptions {
  readonly connections: number;
  readonly depth: number;
  readonly maxOps: number;
  readonly seconds: number;
}

export interface RunResult {
  readonly ops: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly elapsedMs: number;
  /** Latencies in microseconds, sorted. */
  readonly latenciesUs: Float64Array;
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One session on its own socket. */
export class Session {
  private buffered: Buffer | null = null;
  private onFrame: (frame: Buffer, offset: number, length: number) => void = () => {};
  private closedError: Error | null = null;
  sessionId = 0n;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error) => (this.closedError = error));
    socket.on("close", () => {
      this.closedError ??= new Error("connection closed by the server");
      this.onClose?.();
    });
  }

  onClose?: () => void;

  static async open(host: string, port: number, timeoutMs = 30_000): Promise<Session> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(s));
      s.once("error", reject);
    });
    const session = new Session(socket);
    const response = await new Promise<Buffer>((resolve, reject) => {
      session.onFrame = (frame, offset, length) => resolve(frame.subarray(offset, offset + length));
      session.onClose = () => reject(new Error("closed during the handshake"));
      const w = new JuteWriter();
      ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: timeoutMs, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
      socket.write(w.toFrame());
    });
    session.onClose = undefined;
    session.sessionId = ConnectResponse.read(new JuteReader(response)).sessionId;
    return session;
  }

  get error(): Error | null {
    return this.closedError;
  }

  private receive(chunk: Buffer): void {
    let data = chunk;
    if (this.buffered !== null) {
      data = Buffer.concat([this.buffered, chunk]);
      this.buffered = null;
    }
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readInt32BE(offset);
      if (data.length - offset - 4 < length) break;
      this.onFrame(data, offset + 4, length);
      offset += 4 + length;
    }
    if (offset < data.length) this.buffered = data.subarray(offset);
  }

  /**
   * Runs `workload` on this session with `depth` requests in flight, sharing `budget` with the other sessions of
   * the run; resolves when the budget is spent (or time is up) and every reply is in.
   */
  drive(workload: Workload, conn: number, depth: number, budget: Budget, latencies: Latencies): Promise<void> {
    return new Promise((resolve, reject) => {
      const sendTimes = new Float64Array(depth);
      let head = 0; // the oldest outstanding request in sendTimes (a ring)
      let inFlight = 0;
      let seq = 0;
      let xid = 1;
      const expectedXids = new Int32Array(depth);
      const pump = () => {
        let wanted = 0;
        while (inFlight + wanted < depth && budget.take()) wanted++;
        if (wanted === 0) {
          if (inFlight === 0) {
            this.onFrame = () => {};
            resolve();
          }
          return;
        }
        const templates: Template[] = new Array(wanted);
        let bytes = 0;
        for (let i = 0; i < wanted; i++) {
          const t = workload(conn, seq++);
          templates[i] = t;
          bytes += t.length;
        }
        const batch = Buffer.allocUnsafe(bytes);
        const now = performance.now();
        let at = 0;
        for (const t of templates) {
          t.copy(batch, at);
          batch.writeInt32BE(xid, at + xidOffset);
          const slot = (head + inFlight) % depth;
          sendTimes[slot] = now;
          expectedXids[slot] = xid;
          xid++;
          inFlight++;
          at += t.length;
        }
        this.socket.write(batch);
      };
      this.onFrame = (frame, offset, length) => {
        const replyXid = frame.readInt32BE(offset);
        if (replyXid !== expectedXids[head]) {
          // Notifications (xid -1) are not expected: the benchmark sets no watches.
          reject(new Error(`reply xid ${replyXid}, expected ${expectedXids[head]}`));
          return;
        }
        const err = length >= 16 ? frame.readInt32BE(offset + 12) : -1;
        latencies.add((performance.now() - sendTimes[head]!) * 1000);
        if (err !== 0) budget.error(`error ${err} for xid ${replyXid}`);
        head = (head + 1) % depth;
        inFlight--;
        // Refill once per received chunk: the writes of one turn go out together.
        if (!refillScheduled) {
          refillScheduled = true;
          queueMicrotask(() => {
            refillScheduled = false;
            pump();
          });
        }
      };
      let refillScheduled = false;
      this.onClose = () => reject(this.closedError ?? new Error("closed"));
      pump();
    });
  }

  /** A request/reply, one at a time, for setup. */
  async call(template: Template): Promise<number> {
    const latencies = new Latencies(1);
    const budget = new Budget(1, Infinity);
    await this.drive(() => template, 0, 1, budget, latencies);
    return budget.errors;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** How many requests a run may still start (shared by its sessions), and until when. */
export class Budget {
  private left: number;
  private readonly deadline: number;
  errors = 0;
  firstError?: string;

  constructor(maxOps: number, seconds: number) {
    this.left = maxOps;
    this.deadline = performance.now() + seconds * 1000;
  }

  take(): boolean {
    if (this.left <= 0) return false;
    // Checking the clock on every request would cost more than the check is worth; every 64th is enough.
    if ((this.left & 63) === 0 && performance.now() > this.deadline) {
      this.left = 0;
      return false;
    }
    this.left--;
    return true;
  }

  error(message: string): void {
    this.errors++;
    this.firstError ??= message;
  }
}

export class Latencies {
  private readonly values: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  add(us: number): void {
    if (this.count < this.values.length) this.values[this.count++] = us;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }
}

/** Opens `connections` sessions, drives `workload` on all of them at once, closes them. */
export function run(host: string, port: number, workload: Workload, options: RunOptions): Promise<RunResult> {
  return runSpread([{ host, port }], workload, options);
}

/** Like `run`, but session i goes to server i mod n: the load is spread over an ensemble's servers. */
export async function runSpread(servers: readonly { host: string; port: number }[], workload: Workload, options: RunOptions): Promise<RunResult> {
  const sessions = await Promise.all(
    Array.from({ length: options.connections }, (_, i) => Session.open(servers[i % servers.length]!.host, servers[i % servers.length]!.port)),
  );
  try {
    const budget = new Budget(options.maxOps, options.seconds);
    const latencies = new Latencies(options.maxOps);
    const started = performance.now();
    await Promise.all(sessions.map((s, i) => s.drive(workload, i, options.depth, budget, latencies)));
    const elapsedMs = performance.now() - started;
    return { ops: latencies.count, errors: budget.errors, firstError: budget.firstError, elapsedMs, latenciesUs: latencies.sorted() };
  } finally {
    for (const s of sessions) s.close();
  }
}
