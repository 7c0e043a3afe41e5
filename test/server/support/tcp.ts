/**
 * A raw TCP client for tests that speak the wire protocol by hand to a live server: it sends whatever bytes it is
 * given and collects frames, so that it can also send what no real client would.
 */
import net from "node:net";
import type { JuteWriter } from "../../../src/proto/index.ts";
import { connectFrame, readConnectResponse, readReply, requestFrame, type ConnectOptions, type Reply } from "./wire.ts";

export class RawClient {
  private buffer = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private xid = 1;
  /** Every byte received, in order. */
  received = 0;
  closed = false;
  sessionId = 0n;
  passwd: Buffer = Buffer.alloc(16);
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk) => {
      this.received += chunk.length;
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4) {
        const length = this.buffer.readInt32BE(0);
        if (length < 0 || this.buffer.length < 4 + length) break;
        this.frames.push(this.buffer.subarray(4, 4 + length));
        this.buffer = this.buffer.subarray(4 + length);
      }
      this.wake();
    });
    socket.on("error", () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true });
      socket.once("connect", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Opens a connection and completes the handshake (a new session unless options say otherwise). */
  static async session(port: number, options: ConnectOptions = {}): Promise<RawClient> {
    const client = await RawClient.open(port);
    await client.handshake(options);
    return client;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Resolves with the next frame, or null when the connection closes (or nothing comes within timeoutMs). */
  async nextFrame(timeoutMs = 2000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames.shift()!;
  }

  get pendingFrames(): number {
    return this.frames.length;
  }

  async handshake(options: ConnectOptions = {}) {
    this.write(connectFrame(options));
    const frame = await this.nextFrame();
    if (frame === null) throw new Error("no ConnectResponse");
    const response = readConnectResponse(frame);
    this.sessionId = response.sessionId;
    this.passwd = response.passwd ?? Buffer.alloc(16);
    return response;
  }

  nextXid(): number {
    return this.xid++;
  }

  /** Sends a request and resolves with its reply, collecting notifications that came first into `events`. */
  async call(type: number, body?: (w: JuteWriter) => void, events: Reply[] = []): Promise<Reply> {
    const xid = this.nextXid();
    this.write(requestFrame(xid, type, body));
    for (;;) {
      const frame = await this.nextFrame();
      if (frame === null) throw new Error(`connection closed before the reply to xid ${xid}`);
      const reply = readReply(frame);
      if (reply.header.xid === xid) return reply;
      events.push(reply);
    }
  }

  /** True once the server closed the connection (within timeoutMs). */
  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    if (this.closed) return true;
    await Promise.race([this.closedPromise, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Polls `condition` until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
