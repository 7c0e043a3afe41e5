/** Shared pieces of the client tests: connected clients that are closed after each test, unique paths, waiting. */
import { afterEach } from "vitest";
import { createClient, type ClientOptions, type ZooKeeperClient } from "../../src/client/index.ts";

/** Fast reconnects so tests do not wait Apache's 1 s pauses. */
export const fastReconnect = { reconnectDelayMsMax: 20, hostCycleDelayMs: 50 } as const;

const openClients = new Set<ZooKeeperClient>();

afterEach(async () => {
  const clients = [...openClients];
  openClients.clear();
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
});

/** A connected client, closed automatically after the test. */
export async function connect(connectString: string, options: ClientOptions = {}): Promise<ZooKeeperClient> {
  const client = createClient(connectString, { sessionTimeoutMs: 10_000, ...fastReconnect, ...options });
  openClients.add(client);
  await client.connect({ timeoutMs: 15_000 });
  return client;
}

/** A client not yet connected (still closed after the test). */
export function unconnected(connectString: string, options: ClientOptions = {}): ZooKeeperClient {
  const client = createClient(connectString, { sessionTimeoutMs: 10_000, ...fastReconnect, ...options });
  openClients.add(client);
  return client;
}

let counter = 0;
/** A fresh path under the root for one test, e.g. "/t-3-1700000000000". */
export function uniquePath(prefix = "t"): string {
  counter += 1;
  return `/${prefix}-${counter}-${process.pid}-${Date.now()}`;
}

export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the first value a callback gets. */
export function nextCall<T>(): { callback: (value: T) => void; promise: Promise<T>; calls: T[] } {
  const calls: T[] = [];
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return {
    calls,
    promise,
    callback: (value: T) => {
      calls.push(value);
      resolve(value);
    },
  };
}
