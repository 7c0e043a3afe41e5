/**
 * A minimal pipelining ZooKeeper client on the project's jute records: the crash tests and the storage benchmark
 * need to know exactly which requests were sent and which were answered, and to have thousands in flight at once,
 * against our server and Apache's alike. No reconnects, no watches: a lost connection fails every pending request
 * with `connectionLoss`, and that is the signal the tests want.
 */
import net from "node:net";
import {
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  DeleteRequest,
  ErrorResponse,
  FrameDecoder,
  GetChildrenResponse,
  GetDataResponse,
  JuteReader,
  JuteWriter,
  MultiHeader,
  PathResponse,
  PathWatchRequest,
  ReplyHeader,
  RequestHeader,
  SetDataRequest,
  Stat,
  CheckVersionRequest,
  errorName,
  opCodes,
  type ACL,
  type ErrorName,
} from "../../../src/proto/index.ts";

export const openAcl: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

export type ClientOp =
  | { readonly op: "create"; readonly path: string; readonly data: Buffer | null; readonly flags?: number }
  | { readonly op: "delete"; readonly path: string; readonly version?: number }
  | { readonly op: "setData"; readonly path: string; readonly data: Buffer | null; readonly version?: number }
  | { readonly op: "check"; readonly path: string; readonly version: number };

export interface Reply {
  readonly err: ErrorName | "connectionLoss";
  readonly zxid: bigint;
  readonly body: JuteReader | null;
}

interface PendingRequest {
  readonly resolve: (reply: Reply) => void;
}

const maxFrameBytes = 16 * 1024 * 1024;

export class RawClient {
  private readonly pending = new Map<number, PendingRequest>();
  private readonly order: number[] = [];
  private xid = 0;
  private closed = false;
  private pinger: NodeJS.Timeout | null = null;
  lastZxid = 0n;

  private constructor(
    private readonly socket: net.Socket,
    private readonly decoder: FrameDecoder,
    readonly sessionId: bigint,
    readonly passwd: Buffer,
    readonly timeoutMs: number,
  ) {
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("close", () => this.fail());
    socket.on("error", () => this.fail());
    this.pinger = setInterval(() => this.send(-2, opCodes.ping, () => {}).catch(() => {}), Math.max(100, Math.floor(timeoutMs / 3)));
    this.pinger.unref();
  }

  /** Connects and creates (or resumes) a session. Rejects when the server refuses or does not answer. */
  static connect(host: string, port: number, options: { timeoutMs?: number; sessionId?: bigint; passwd?: Buffer; connectTimeoutMs?: number } = {}): Promise<RawClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const decoder = new FrameDecoder(maxFrameBytes);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no handshake from ${host}:${port}`));
      }, options.connectTimeoutMs ?? 10_000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once("error", fail);
      socket.once("close", () => fail(new Error(`connection to ${host}:${port} closed during the handshake`)));
      socket.once("connect", () => {
        const w = new JuteWriter();
        ConnectRequest.write(w, {
          protocolVersion: 0,
          lastZxidSeen: 0n,
          timeOut: timeoutMs,
          sessionId: options.sessionId ?? 0n,
          passwd: options.passwd ?? Buffer.alloc(16),
          readOnly: false,
        });
        socket.write(w.toFrame());
      });
      const onData = (chunk: Buffer) => {
        for (const event of decoder.push(chunk)) {
          if (event.kind !== "frame") return fail(new Error("oversize handshake frame"));
          socket.off("data", onData);
          socket.removeAllListeners("close");
          socket.removeAllListeners("error");
          clearTimeout(timer);
          const response = ConnectResponse.read(new JuteReader(event.body));
          if (response.sessionId === 0n) {
            socket.destroy();
            return reject(new Error("session expired or refused"));
          }
          const client = new RawClient(socket, decoder, response.sessionId, response.passwd ?? Buffer.alloc(16), response.timeOut);
          resolve(client);
          return;
        }
      };
      socket.on("data", onData);
    });
  }

  /** The connection is gone: every request now fails with connectionLoss. */
  get isClosed(): boolean {
    return this.closed;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  private onData(chunk: Buffer): void {
    for (const event of this.decoder.push(chunk)) {
      if (event.kind !== "frame") {
        this.socket.destroy();
        return;
      }
      const reader = new JuteReader(event.body, maxFrameBytes);
      const header = ReplyHeader.read(reader);
      if (header.xid === -1) continue; // a watch notification
      if (header.zxid > 0n) this.lastZxid = header.zxid;
      const request = this.pending.get(header.xid);
      if (request === undefined) continue;
      this.pending.delete(header.xid);
      const err = header.err === 0 ? "ok" : (errorName(header.err) ?? "systemError");
      request.resolve({ err, zxid: header.zxid, body: header.err === 0 ? reader : null });
    }
  }

  private fail(): void {
    if (this.pinger !== null) clearInterval(this.pinger);
    this.closed = true;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) request.resolve({ err: "connectionLoss", zxid: -1n, body: null });
  }

  private send(xid: number, type: number, body: (w: JuteWriter) => void): Promise<Reply> {
    if (this.closed) return Promise.resolve({ err: "connectionLoss", zxid: -1n, body: null });
    const w = new JuteWriter();
    RequestHeader.write(w, { xid, type });
    body(w);
    return new Promise((resolve) => {
      if (xid >= 0) this.pending.set(xid, { resolve });
      else resolve({ err: "ok", zxid: 0n, body: null });
      this.socket.write(w.toFrame());
    });
  }

  private request(type: number, body: (w: JuteWriter) => void): Promise<Reply> {
    return this.send(++this.xid, type, body);
  }

  create(path: string, data: Buffer | null, flags = 0, acl: ACL[] = openAcl): Promise<Reply & { path?: string }> {
    return this.request(opCodes.create, (w) => CreateRequest.write(w, { path, data, acl, flags })).then((r) => ({
      ...r,
      path: r.body === null ? undefined : (PathResponse.read(r.body).path ?? undefined),
    }));
  }

  delete(path: string, version = -1): Promise<Reply> {
    return this.request(opCodes.delete, (w) => DeleteRequest.write(w, { path, version }));
  }

  setData(path: string, data: Buffer | null, version = -1): Promise<Reply & { stat?: Stat }> {
    return this.request(opCodes.setData, (w) => SetDataRequest.write(w, { path, data, version })).then((r) => ({
      ...r,
      stat: r.body === null ? undefined : Stat.read(r.body),
    }));
  }

  getData(path: string): Promise<Reply & { data?: Buffer | null; stat?: Stat }> {
    return this.request(opCodes.getData, (w) => PathWatchRequest.write(w, { path, watch: false })).then((r) => {
      if (r.body === null) return r;
      const response = GetDataResponse.read(r.body);
      return { ...r, data: response.data, stat: response.stat };
    });
  }

  getChildren(path: string): Promise<Reply & { children?: string[] }> {
    return this.request(opCodes.getChildren, (w) => PathWatchRequest.write(w, { path, watch: false })).then((r) => ({
      ...r,
      children: r.body === null ? undefined : (GetChildrenResponse.read(r.body).children ?? []).map((c) => c ?? ""),
    }));
  }

  /** A multi; the reply's `results` are the per-op codes ("ok" for each op of a committed multi). */
  multi(ops: readonly ClientOp[]): Promise<Reply & { results?: ErrorName[] }> {
    return this.request(opCodes.multi, (w) => {
      for (const op of ops) {
        MultiHeader.write(w, { type: opCodes[op.op], done: false, err: -1 });
        switch (op.op) {
          case "create":
            CreateRequest.write(w, { path: op.path, data: op.data, acl: openAcl, flags: op.flags ?? 0 });
            break;
          case "delete":
            DeleteRequest.write(w, { path: op.path, version: op.version ?? -1 });
            break;
          case "setData":
            SetDataRequest.write(w, { path: op.path, data: op.data, version: op.version ?? -1 });
            break;
          case "check":
            CheckVersionRequest.write(w, { path: op.path, version: op.version });
            break;
        }
      }
      MultiHeader.write(w, { type: -1, done: true, err: -1 });
    }).then((r) => {
      if (r.body === null) return r;
      const results: ErrorName[] = [];
      for (;;) {
        const h = MultiHeader.read(r.body);
        if (h.done) break;
        if (h.type === opCodes.error) {
          results.push(errorName(ErrorResponse.read(r.body).err) ?? "systemError");
          continue;
        }
        results.push("ok");
        if (h.type === opCodes.create) PathResponse.read(r.body);
        else if (h.type === opCodes.setData) Stat.read(r.body);
      }
      return { ...r, results };
    });
  }

  /** closeSession, then the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.request(opCodes.closeSession, () => {});
    this.destroy();
  }

  /** Drops the connection without closing the session (as a crashed client would). */
  destroy(): void {
    this.socket.destroy();
    this.fail();
  }
}
