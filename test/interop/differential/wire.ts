/**
 * A raw ZooKeeper client connection for the differential test: we choose every byte we send (xids, opcodes, flags,
 * the optional readOnly byte of the handshake) and keep every frame we receive, in arrival order. It knows nothing
 * about what a request means; `ops.ts` encodes requests and decodes replies with the records of src/proto.
 */
import net from "node:net";
import { FrameDecoder, JuteWriter } from "../../../src/proto/index.ts";

/** What a wait for the next frame can end with. */
export type Received = { readonly kind: "frame"; readonly body: Buffer } | { readonly kind: "closed" } | { readonly kind: "timeout" };

const maxFrameBytes = 0xfffff + 1024;

export class RawConnection {
  private readonly decoder = new FrameDecoder(maxFrameBytes);
  private readonly inbox: Buffer[] = [];
  private waiter: (() => void) | null = null;
  private closedByPeer = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      for (const event of this.decoder.push(chunk)) {
        if (event.kind === "frame") this.inbox.push(event.body);
        else this.closedByPeer = true; // a frame we cannot read: treat as a dead connection
      }
      this.wake();
    });
    // 'end' (FIN) or 'close' (RST, or our own destroy): either way no more frames will come.
    const closed = () => {
      this.closedByPeer = true;
      this.wake();
    };
    socket.on("end", closed);
    socket.on("close", closed);
    socket.on("error", () => {});
  }

  static open(host: string, port: number, timeoutMs = 5_000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** True once the peer closed (or reset) the connection and every frame it sent has been taken. */
  get closed(): boolean {
    return this.closedByPeer && this.inbox.length === 0;
  }

  get peerClosed(): boolean {
    return this.closedByPeer;
  }

  /** Sends one length-prefixed frame. */
  sendFrame(body: Buffer): void {
    if (this.socket.destroyed || this.closedByPeer) return;
    const frame = Buffer.allocUnsafe(4 + body.length);
    frame.writeInt32BE(body.length, 0);
    body.copy(frame, 4);
    this.socket.write(frame);
  }

  /** Builds a frame body with a jute writer and sends it. */
  send(write: (w: JuteWriter) => void): void {
    const w = new JuteWriter();
    write(w);
    this.sendFrame(Buffer.from(w.view()));
  }

  /** The next frame, or "closed" once the peer has closed and nothing is left, or "timeout". */
  async next(timeoutMs: number): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = this.inbox.shift();
      if (body !== undefined) return { kind: "frame", body };
      if (this.closedByPeer) return { kind: "closed" };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          if (this.waiter === wake) this.waiter = null;
          resolve();
        }, left);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiter = wake;
      });
    }
  }

  /** Drops the TCP connection from our side (a client that vanishes without closeSession). */
  destroy(): void {
    this.socket.destroy();
  }
}
