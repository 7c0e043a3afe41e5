/**
 * The thin part that does I/O: it drives a `ClientCore` with real TCP sockets (`net.Socket`) and a real timer.
 * Everything that decides anything lives in the core; this file only carries messages both ways.
 *
 * Ordering: the core's outputs are carried out strictly in order and synchronously — a watch event's watchers are
 * called before the next output, e.g. the completion of the request whose reply followed the event, resolves its
 * promise. (Resolving a promise only queues its `then` callbacks, so they run after the watchers.) Inputs that
 * arrive while outputs are being carried out (a watcher that submits a request, say) are queued and handled after,
 * so that the core is never re-entered and packets leave in the order the core chose.
 */
import net from "node:net";
import type { ClientCore, CoreInput, CoreOutput, ConnectionState, RequestOutcome, WatchedEvent } from "./core.ts";

/** What the runtime needs from the world besides sockets: a monotonic clock. */
export interface Clock {
  now(): number;
}

export const monotonicClock: Clock = { now: () => performance.now() };

export interface RuntimeHandlers<W> {
  stateChanged(state: ConnectionState, previous: ConnectionState): void;
  /** Call the watchers; must not throw. */
  watchEvent(event: WatchedEvent, watchers: readonly W[]): void;
  requestCompleted(requestId: number, outcome: RequestOutcome): void;
}

/** Opens a TCP connection; replaceable so tests can wrap or break sockets. */
export type SocketFactory = (host: string, port: number) => net.Socket;

export const tcpSocketFactory: SocketFactory = (host, port) => net.connect({ host, port });

/** A core input without its time: the runtime stamps it with the clock. (Distributes over the union.) */
type Untimed<T> = T extends unknown ? Omit<T, "nowMs"> : never;

export class SocketRuntime<W> {
  private readonly sockets = new Map<number, net.Socket>();
  private readonly corked = new Set<net.Socket>();
  private readonly inbox: CoreInput<W>[] = [];
  private dispatching = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs: number | null = null;

  constructor(
    private readonly core: ClientCore<W>,
    private readonly handlers: RuntimeHandlers<W>,
    private readonly clock: Clock = monotonicClock,
    private readonly socketFactory: SocketFactory = tcpSocketFactory,
  ) {}

  /** Hands an input to the core, stamped with the current time. */
  feed(input: Untimed<CoreInput<W>>): void {
    this.inbox.push({ ...input, nowMs: this.clock.now() } as CoreInput<W>);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.inbox.shift(); next !== undefined; next = this.inbox.shift()) {
        const step = this.core.handle(next);
        for (const output of step.outputs) this.perform(output);
      }
    } finally {
      this.dispatching = false;
    }
    this.scheduleTick();
  }

  /**
   * Breaks the current connection as a network failure would (for tests: Apache's `testableCloseSocket`).
   * The core sees the socket close and reconnects, keeping the session.
   */
  destroyCurrentSocket(): void {
    const id = this.core.connectionId;
    if (id === null) return;
    this.sockets.get(id)?.destroy();
    // Tell the core now rather than when Node reports "close": when this returns, the client is disconnected.
    // (The later "close" event names a connection the core has left, and is ignored.)
    this.feed({ kind: "socketClosed", connectionId: id });
  }

  private perform(output: CoreOutput<W>): void {
    switch (output.kind) {
      case "openSocket":
        this.open(output.connectionId, output.host.host, output.host.port);
        break;
      case "send": {
        const socket = this.sockets.get(output.connectionId);
        if (socket === undefined) break;
        // Everything sent in one event-loop turn (pipelined calls) leaves in one writev, not one syscall each:
        // cork at the turn's first write, uncork on the next tick (as the server does).
        if (!this.corked.has(socket)) {
          this.corked.add(socket);
          socket.cork();
          process.nextTick(() => {
            this.corked.delete(socket);
            socket.uncork();
          });
        }
        socket.write(output.bytes);
        break;
      }
      case "closeSocket": {
        const socket = this.sockets.get(output.connectionId);
        this.sockets.delete(output.connectionId);
        // Nothing written is left to flush: the core closes a socket only after closeSession was answered, or
        // when the connection is already considered broken.
        socket?.destroy();
        break;
      }
      case "stateChanged":
        this.handlers.stateChanged(output.state, output.previous);
        break;
      case "watchEvent":
        this.handlers.watchEvent(output.event, output.watchers);
        break;
      case "requestCompleted":
        this.handlers.requestCompleted(output.requestId, output.outcome);
        break;
    }
  }

  private open(connectionId: number, host: string, port: number): void {
    const socket = this.socketFactory(host, port);
    socket.setNoDelay(true);
    this.sockets.set(connectionId, socket);
    socket.on("connect", () => this.feed({ kind: "socketConnected", connectionId }));
    socket.on("data", (bytes: Buffer) => this.feed({ kind: "bytesReceived", connectionId, bytes }));
    // "close" always follows "error"; the core learns of both as one socketClosed.
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.sockets.get(connectionId) === socket) this.sockets.delete(connectionId);
      this.feed({ kind: "socketClosed", connectionId });
    });
  }

  private scheduleTick(): void {
    const wakeAtMs = this.core.wakeAtMs();
    if (wakeAtMs === this.timerAtMs && this.timer !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAtMs = wakeAtMs;
    if (wakeAtMs === null) return;
    const delayMs = Math.max(0, Math.ceil(wakeAtMs - this.clock.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAtMs = null;
      this.feed({ kind: "tick" });
    }, delayMs);
  }
}
