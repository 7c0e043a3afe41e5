/**
 * A TCP proxy between a client and a server that can misbehave on request, to play network failures:
 * - `cut()`: break every open connection (both sides see the socket close);
 * - `refuse(true)`: new connections are closed at once (a partition, together with cut());
 * - `freeze(true)`: bytes stop flowing both ways but sockets stay open (a black hole: only timeouts notice);
 * - `dropReplies(true)`: requests still reach the server but its answers are dropped — with cut(), the classic
 *   "the request was executed but the reply was lost" CONNECTIONLOSS;
 * - `partition()` / `heal()`: refuse and cut, then let connections through again.
 */
import net from "node:net";

export class FaultyProxy {
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private refusing = false;
  private frozen = false;
  private droppingReplies = false;
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultyProxy> {
    let proxy!: FaultyProxy;
    const server = net.createServer((client) => {
      if (proxy.refusing) {
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: targetHost, port: targetPort });
      const pair = { client, upstream };
      proxy.pairs.add(pair);
      const end = (): void => {
        proxy.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("data", (b: Buffer) => {
        if (!proxy.frozen) upstream.write(b);
      });
      upstream.on("data", (b: Buffer) => {
        if (!proxy.frozen && !proxy.droppingReplies) client.write(b);
      });
      client.on("close", end);
      upstream.on("close", end);
      client.on("error", end);
      upstream.on("error", end);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new FaultyProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  cut(): void {
    for (const { client, upstream } of [...this.pairs]) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  refuse(on: boolean): void {
    this.refusing = on;
  }

  /** A network partition: every connection cut, new ones refused, until heal(). */
  partition(): void {
    this.refuse(true);
    this.cut();
  }

  heal(): void {
    this.refuse(false);
  }

  freeze(on: boolean): void {
    this.frozen = on;
  }

  dropReplies(on: boolean): void {
    this.droppingReplies = on;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
