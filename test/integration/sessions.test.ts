/**
 * Sessions across connections, with node-zookeeper-client behind a proxy the test can cut (book chapter 2 and 5,
 * reference §3 "Sessions"): a dropped socket is not a lost session — the client re-attaches with its id and password
 * and re-sends its watches (setWatches, with a positive xid from this client); a session whose client stays away
 * past its timeout expires, its ephemerals are deleted, and the client learns it when it comes back.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import { connect, nextState, zookeeper, type Event, type Nzk } from "./support/nzk.ts";
import { FaultyProxy as Proxy } from "../support/proxy.ts";

const { CreateMode, Exception } = zookeeper;
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(config: Parameters<typeof startTestServer>[0] = {}) {
  const server: RunningServer = await startTestServer(config);
  cleanups.push(() => server.close());
  const proxy = await Proxy.start(server.port);
  cleanups.push(() => proxy.close());
  return { server, proxy };
}

async function client(connectString: string, options: { sessionTimeout?: number } = {}): Promise<Nzk> {
  const c = await connect(connectString, options);
  cleanups.push(() => c.close());
  return c;
}

describe("re-attaching after the socket is dropped", () => {
  it("keeps the session and its ephemerals, and fires the watches it missed via setWatches", async () => {
    const { server, proxy } = await setup();
    const direct = await client(server.connectString);
    const roaming = await client(proxy.connectString, { sessionTimeout: 10_000 });
    const sessionId = roaming.sessionId();

    await direct.create("/ra");
    await direct.create("/ra/data", "v1");
    await roaming.create("/ra/eph", "mine", CreateMode.EPHEMERAL);
    const events: Event[] = [];
    await roaming.getData("/ra/data", (e) => events.push(e));
    await roaming.getChildren("/ra", (e) => events.push(e));
    await roaming.exists("/ra/unborn", (e) => events.push(e));
    await roaming.getData("/ra/eph", (e) => events.push(e)); // unchanged: re-armed, not fired

    const disconnected = nextState(roaming.client, "disconnected");
    proxy.partition();
    await disconnected;
    // While it is away: its server-side watches went with the connection, so only setWatches can bring them back.
    await direct.setData("/ra/data", "v2");
    await direct.create("/ra/kid");
    expect(events).toEqual([]);

    const reconnected = nextState(roaming.client, "connected");
    proxy.heal();
    await reconnected;
    expect(roaming.sessionId()).toBe(sessionId);
    await roaming.exists("/"); // a round trip: setWatches was queued before it, its events came before its reply
    expect(events.map((e) => `${e.name} ${e.path}`).sort()).toEqual(["NODE_CHILDREN_CHANGED /ra", "NODE_DATA_CHANGED /ra/data"]);
    expect((await direct.getData("/ra/eph")).data!.toString()).toBe("mine");
    expect(server.zk.sessions.get(sessionId)).toBeDefined();

    // The re-armed watches are live again on the new connection.
    await direct.create("/ra/unborn");
    await direct.setData("/ra/eph", "touched");
    await roaming.exists("/");
    expect(events.slice(2).map((e) => `${e.name} ${e.path}`).sort()).toEqual(["NODE_CREATED /ra/unborn", "NODE_DATA_CHANGED /ra/eph"]);
  });

  it("keeps working across several drops in a row", async () => {
    const { proxy } = await setup();
    const roaming = await client(proxy.connectString);
    const sessionId = roaming.sessionId();
    await roaming.create("/many", "0");
    for (let i = 1; i <= 5; i++) {
      const back = nextState(roaming.client, "connected");
      proxy.partition();
      proxy.heal();
      await back;
      await roaming.setData("/many", String(i));
    }
    expect(roaming.sessionId()).toBe(sessionId);
    expect((await roaming.getData("/many")).stat.version).toBe(5);
  });
});

describe("session expiry", () => {
  it("deletes the ephemerals of a client that stays away past its timeout; the client learns it on return", async () => {
    // tickTime 100: timeouts are clamped to [200, 2000] ms and expiry is checked every 50 ms.
    const { server, proxy } = await setup({ tickTimeMs: 100 });
    const observer = await client(server.connectString, { sessionTimeout: 2000 });
    const doomed = await client(proxy.connectString, { sessionTimeout: 600 });
    expect(doomed.client.getSessionTimeout()).toBe(600);
    await doomed.create("/lock", "held", CreateMode.EPHEMERAL);
    const deleted = new Promise<Event>((resolve) => void observer.exists("/lock", resolve));

    const cutAt = Date.now();
    proxy.partition();
    const event = await Promise.race([
      deleted,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the session never expired")), 5000)),
    ]);
    const elapsed = Date.now() - cutAt;
    expect(event).toMatchObject({ name: "NODE_DELETED", path: "/lock" });
    // Never before the timeout. (The exact window, timeout..timeout+tickTime, is pinned with a fake clock in
    // test/server/core.test.ts; here the upper bound only allows for a busy machine.)
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(4000);
    expect(await observer.exists("/lock")).toBeNull();

    const expired = nextState(doomed.client, "expired");
    proxy.heal();
    await expired;
    expect(doomed.client.getState().name).toBe("EXPIRED");
    await expect(doomed.exists("/")).rejects.toMatchObject({ code: Exception.SESSION_EXPIRED });
  });

  it("does not expire a session whose client keeps pinging", async () => {
    const { server } = await setup({ tickTimeMs: 100 });
    const alive = await client(server.connectString, { sessionTimeout: 1000 });
    await alive.create("/alive", null, CreateMode.EPHEMERAL);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // idle: node-zookeeper-client pings every timeout/3
    expect(await alive.exists("/alive")).not.toBeNull();
  });
});
