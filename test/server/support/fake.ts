/**
 * The server core without sockets or real time: a fake clock, an in-memory Transport that records what the
 * server wrote, and a controllable TxnSink. The core is a protocol core that does no I/O (DESIGN.md), so this
 * is all it needs.
 */
import type { Clock, Logger, ServerOptions, TxnSink } from "../../../src/server/server.ts";
import { ZooKeeperServer } from "../../../src/server/server.ts";
import type { ClientConnection, Transport } from "../../../src/server/connection.ts";
import type { Txn, TxnHeader } from "../../../src/tree/txn.ts";
import { JuteWriter, opCodes } from "../../../src/proto/index.ts";
import { connectFrame, readConnectResponse, readReply, requestFrame, splitFrames, type ConnectOptions, type Reply } from "./wire.ts";

export class FakeClock implements Clock {
  constructor(
    public monoMs = 1_000,
    /** A realistic wall clock: far from the monotonic one, so mixing them up shows. */
    public wallClockMs = 1_700_000_000_000,
  ) {}
  nowMs(): number {
    return this.monoMs;
  }
  wallMs(): number {
    return this.wallClockMs;
  }
  advance(ms: number): void {
    this.monoMs += ms;
    this.wallClockMs += ms;
  }
}

export class FakeTransport implements Transport {
  readonly writes: Buffer[] = [];
  closed = false;
  paused = false;
  pauseCount = 0;
  constructor(
    readonly remoteAddress = "127.0.0.1",
    readonly remotePort = 40_000,
  ) {}
  write(bytes: Buffer): void {
    if (this.closed) throw new Error("write after close");
    this.writes.push(Buffer.from(bytes));
  }
  close(): void {
    this.closed = true;
  }
  pause(): void {
    this.paused = true;
    this.pauseCount++;
  }
  resume(): void {
    this.paused = false;
  }
  /** Everything written so far, as one stream. */
  stream(): Buffer {
    return Buffer.concat(this.writes);
  }
  frames(): Buffer[] {
    return splitFrames(this.stream()).frames;
  }
}

/** A TxnSink that holds txns until the test releases them (a slow disk, or a quorum that has not acked yet). */
export class HeldSink implements TxnSink {
  readonly pending: Array<{ header: TxnHeader; txn: Txn; done: () => void }> = [];
  readonly appended: Array<{ header: TxnHeader; txn: Txn }> = [];
  /** When false, txns are durable at once. */
  holding = false;
  append(header: TxnHeader, txn: Txn, done: () => void): void {
    this.appended.push({ header, txn });
    if (this.holding) this.pending.push({ header, txn, done });
    else done();
  }
  release(count = this.pending.length): void {
    for (const entry of this.pending.splice(0, count)) entry.done();
  }
}

export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`INFO ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`WARN ${message}`);
  }
}

export function coreOptions(overrides: Partial<ServerOptions> = {}): ServerOptions {
  return {
    serverId: 1,
    tickTimeMs: 2000,
    minSessionTimeoutMs: 4000,
    maxSessionTimeoutMs: 40_000,
    maxFrameBytes: 0xfffff,
    superDigest: undefined,
    extendedTypesEnabled: false,
    globalOutstandingLimit: 1000,
    fourLetterWords: ["*"],
    containerMaxPerMinute: 10_000,
    reconfigEnabled: false,
    describeConfig: () => [],
    clock: new FakeClock(),
    logger: new RecordingLogger(),
    ...overrides,
  };
}

/** One client of the fake server: a transport plus helpers to send frames and read what came back. */
export class FakeClient {
  readonly transport: FakeTransport;
  readonly conn: ClientConnection;
  private read = 0;
  private xid = 1;
  sessionId = 0n;
  passwd: Buffer = Buffer.alloc(16);

  constructor(
    readonly server: ZooKeeperServer,
    remoteAddress = "127.0.0.1",
  ) {
    this.transport = new FakeTransport(remoteAddress);
    this.conn = server.accept(this.transport);
  }

  send(bytes: Buffer): void {
    this.server.receive(this.conn, bytes);
  }

  /** Frames written by the server and not yet taken. */
  take(): Buffer[] {
    const all = this.transport.frames();
    const fresh = all.slice(this.read);
    this.read = all.length;
    return fresh;
  }

  takeReplies(): Reply[] {
    return this.take().map(readReply);
  }

  /** Sends a ConnectRequest and returns the ConnectResponse (the handshake must complete synchronously). */
  connect(options: ConnectOptions = {}) {
    this.send(connectFrame(options));
    const frames = this.take();
    if (frames.length !== 1) throw new Error(`expected one ConnectResponse frame, got ${frames.length}`);
    const response = readConnectResponse(frames[0]!);
    this.sessionId = response.sessionId;
    this.passwd = response.passwd ?? Buffer.alloc(16);
    return { response, bodyBytes: frames[0]!.length };
  }

  nextXid(): number {
    return this.xid++;
  }

  /** Sends one request and returns every frame it caused (notifications first, then the reply). */
  request(type: number, body?: (w: JuteWriter) => void, xid = this.nextXid()): Reply[] {
    this.send(requestFrame(xid, type, body));
    return this.takeReplies();
  }

  /** A request whose only output must be its reply. */
  call(type: number, body?: (w: JuteWriter) => void): Reply {
    const xid = this.nextXid();
    const replies = this.request(type, body, xid);
    const reply = replies.find((r) => r.header.xid === xid);
    if (reply === undefined) throw new Error(`no reply to xid ${xid} (got ${replies.length} frames)`);
    return reply;
  }
}

export { opCodes };
