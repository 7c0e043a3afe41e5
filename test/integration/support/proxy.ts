/**
 * A TCP proxy between a client and the server that the test can cut: `partition()` drops every connection and
 * refuses new ones (the client sees its socket close and keeps retrying), `heal()` lets connections through again.
 */
import net from "node:net";

export class Proxy {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private refusing = false;
  accepted = 0;

  private constructor(
    private readonly listener: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<Proxy> {
    let proxy!: Proxy;
    const listener = net.createServer((client) => {
      proxy.accepted++;
      client.on("error", () => {});
      if (proxy.refusing) {
        client.destroy();
        return;
      }
      const upstream = net.connect({ port: targetPort, host: targetHost });
      upstream.on("error", () => {});
      const pair: [net.Socket, net.Socket] = [client, upstream];
      proxy.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = () => {
        proxy.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("close", drop);
      upstream.on("close", drop);
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    proxy = new Proxy(listener, (listener.address() as net.AddressInfo).port);
    return proxy;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Drops every open connection and refuses new ones until `heal()`. */
  partition(): void {
    this.refusing = true;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  heal(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}
