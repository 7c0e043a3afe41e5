// Failure handling against a live server (book chapter 5; notes §5 故障处理): a lost connection is recoverable —
// the session, its ephemerals, its watches and its auth survive a reconnect — while an expired session is not.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ConnectionLossError,
  RequestTimeoutError,
  SessionExpiredError,
  digestAcl,
  retry,
  type ConnectionState,
  type WatchedEvent,
} from "../../src/client/index.ts";
import { connect, eventually, nextCall, sleep, uniquePath, unconnected } from "./helpers.ts";
import { FaultyProxy } from "../support/proxy.ts";
import { describeWithServer, startServerForClientTests, type TestServer } from "./server.ts";

describeWithServer("failure handling against a live server", () => {
  let server: TestServer;
  let proxy: FaultyProxy;
  beforeAll(async () => {
    server = await startServerForClientTests();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await proxy?.close();
  });

  async function reconnected(client: { state: ConnectionState; waitForState(kind: "connected"): Promise<void> }) {
    await client.waitForState("connected");
  }

  describe("a lost connection is recoverable", () => {
    it("a call in flight when the socket breaks fails with ConnectionLossError; the session carries on", async () => {
      const client = await connect(server.connectString);
      const sessionId = client.session!.sessionId;
      const states: string[] = [];
      client.onStateChange((s) => states.push(s.kind));
      const inFlight = client.getData("/");
      client.testing.destroySocket();
      await expect(inFlight).rejects.toBeInstanceOf(ConnectionLossError);
      await reconnected(client);
      expect(client.session!.sessionId).toBe(sessionId);
      expect(states).toEqual(["connecting", "connected"]);
      expect((await client.getChildren("/")).length).toBeGreaterThan(0);
    });

    it("ephemerals and watches survive a forced disconnect (SetWatches re-registers them)", async () => {
      const client = await connect(server.connectString);
      const writer = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path, "0", { mode: "ephemeral" });
      const fired = nextCall<WatchedEvent>();
      await client.getData(path, { watch: fired.callback });
      client.testing.destroySocket();
      await reconnected(client);
      await writer.setData(path, "1");
      expect(await fired.promise).toEqual({ type: "nodeDataChanged", state: "syncConnected", path });
      expect((await writer.exists(path))!.ephemeralOwner).toBe(client.session!.sessionId);
    });

    it("changes made while the client was away fire its watches on reconnect (relativeZxid = lastZxidSeen)", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString);
      const writer = await connect(server.connectString);
      const base = uniquePath();
      await writer.create(base, "0");
      await writer.create(`${base}/unchanged`, "0");
      const events: string[] = [];
      const record = (e: WatchedEvent): void => void events.push(`${e.type} ${e.path}`);
      await client.getData(base, { watch: record });
      await client.exists(`${base}/later`, { watch: record });
      await client.getChildren(base, { watch: record });
      await client.getData(`${base}/unchanged`, { watch: record });
      await client.addWatch(`${base}/p`, record, "persistent");

      proxy.refuse(true);
      proxy.cut();
      await eventually(() => client.state.kind === "connecting", 5000, "disconnect");
      await writer.setData(base, "1");
      await writer.create(`${base}/later`);
      await writer.create(`${base}/p`);
      expect(events).toEqual([]);
      proxy.refuse(false);
      await reconnected(client);
      await client.sync("/");
      // Persistent watches are re-added without comparing zxids (Apache 3.8 `DataTree.setWatches`), so the creation
      // of /p while the client was away is not reported: only the standard watches catch up.
      expect(events.sort()).toEqual([`nodeDataChanged ${base}`, `nodeCreated ${base}/later`, `nodeChildrenChanged ${base}`].sort());
      // The untouched node's watch was re-armed, not fired; the persistent one stays.
      await writer.setData(`${base}/unchanged`, "1");
      await eventually(() => events.includes(`nodeDataChanged ${base}/unchanged`), 5000, "re-armed watch");
      expect(client.testing.watches()).toEqual([{ kind: "persistent", path: `${base}/p` }]);
    });

    it("auth is sent again after a reconnect", async () => {
      const client = await connect(server.connectString);
      await client.addAuthInfo("digest", "carol:pw");
      const path = uniquePath("auth");
      await client.create(path, "mine", { acl: [digestAcl("carol", "pw")] });
      client.testing.destroySocket();
      await reconnected(client);
      expect((await client.getData(path)).data?.toString()).toBe("mine");
      expect(await client.whoAmI()).toContainEqual({ authScheme: "digest", user: "carol" });
    });

    it("the session, its ephemerals and watches survive a server restart within the session timeout", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString, { sessionTimeoutMs: 10_000 });
      const path = uniquePath();
      await client.create(path, "", { mode: "ephemeral" });
      const fired = nextCall<WatchedEvent>();
      await client.exists(path, { watch: fired.callback });
      const sessionId = client.session!.sessionId;
      proxy.refuse(true); // see server.ts: keep the client out of Apache's start-up window
      await server.restart();
      proxy.refuse(false);
      await reconnected(client);
      expect(client.session!.sessionId).toBe(sessionId);
      expect(await client.exists(path)).not.toBeNull();
      const other = await connect(server.connectString);
      await other.delete(path);
      expect((await fired.promise).type).toBe("nodeDeleted");
    });

    it("retry() carries an idempotent call across a server restart", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString, { sessionTimeoutMs: 10_000 });
      const path = uniquePath();
      await client.create(path, "v");
      proxy.refuse(true);
      proxy.cut();
      const restarting = server.restart().then(() => proxy.refuse(false));
      const attempts: number[] = [];
      const data = await retry(
        async (attempt) => {
          attempts.push(attempt);
          return (await client.getData(path)).data?.toString();
        },
        { delayMsInitial: 50, delayMsMax: 500, retriesMax: 100 },
      );
      await restarting;
      expect(data).toBe("v");
      expect(attempts.length).toBeGreaterThan(1); // it did fail with ConnectionLoss first
    });

    it("a request past its timeout fails with RequestTimeoutError and the client reconnects", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString);
      proxy.freeze(true);
      await expect(client.getData("/", { timeoutMs: 300 })).rejects.toBeInstanceOf(RequestTimeoutError);
      expect(client.state.kind).toBe("connecting");
      proxy.freeze(false);
      proxy.cut();
      await reconnected(client);
      expect(await client.exists("/")).not.toBeNull();
    });

    it("a silent server is detected by the read timeout (2/3 of the session timeout)", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString, { sessionTimeoutMs: 3000 });
      const lost = new Promise<number>((resolve) => {
        const started = performance.now();
        client.onStateChange((s) => s.kind === "connecting" && resolve(performance.now() - started));
      });
      proxy.freeze(true);
      const afterMs = await lost;
      expect(afterMs).toBeLessThan(2000 + 500);
      proxy.freeze(false);
      proxy.cut();
      await reconnected(client);
    });
  });

  describe("session expiry is not recoverable", () => {
    it("a session closed elsewhere: the client learns SESSIONEXPIRED on reconnect, calls fail, watchers hear Expired", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path, "", { mode: "ephemeral" });
      const expired = nextCall<WatchedEvent>();
      await client.exists(path, { watch: expired.callback });
      const stream = client.watchData(path);
      await stream.next();
      const streamEnd = stream.next();
      // Its rejection may come before the assertion below looks at it: mark it handled now.
      streamEnd.catch(() => {});

      // Another handle on the same session (id + password) closes it, as a second process could.
      const twin = unconnected(server.connectString, { session: client.session! });
      await twin.connect();
      expect(twin.session!.sessionId).toBe(client.session!.sessionId);
      await twin.close();

      client.testing.destroySocket();
      await expect(client.waitForState("connected")).rejects.toBeInstanceOf(SessionExpiredError);
      expect(client.state.kind).toBe("expired");
      expect(await expired.promise).toEqual({ type: "none", state: "expired", path: null });
      await expect(streamEnd).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(client.getData("/")).rejects.toBeInstanceOf(SessionExpiredError);
      expect(client.testing.watches()).toEqual([]);
    });

    it("a client cut off for longer than its session timeout finds its session expired", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString, { sessionTimeoutMs: 1000 });
      const observer = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path, "", { mode: "ephemeral" });
      proxy.refuse(true);
      proxy.cut();
      await eventually(async () => (await observer.exists(path)) === null, 10_000, "ephemeral removal by expiry");
      proxy.refuse(false);
      await eventually(() => client.state.kind === "expired", 10_000, "expired state");
    });
  });

  describe("several servers", () => {
    it("never attaches to a server that is behind what the client has seen", async () => {
      const other = await startServerForClientTests(); // independent, fresh: its zxid is far behind
      try {
        // random() = 0.99 keeps the host order: this server first, the fresh one second.
        proxy = await FaultyProxy.start(server.port);
        const client = await connect(`${proxy.connectString},${other.connectString}`, {
          random: () => 0.99,
          sessionTimeoutMs: 20_000,
        });
        const path = uniquePath();
        for (let i = 0; i < 5; i++) await client.create(`${path}-${i}`);
        const states: string[] = [];
        client.onStateChange((s) => states.push(s.kind === "connected" ? `connected:${s.hostIndex}` : s.kind));
        proxy.refuse(true);
        await server.stop();
        // The client now alternates: this server (down) and the fresh one, which closes the handshake because the
        // client's lastZxidSeen is ahead of it. Had it attached, the fresh server would have said "expired".
        await sleep(2000);
        expect(client.state.kind).toBe("connecting");
        await server.restart();
        proxy.refuse(false);
        await reconnected(client);
        expect(client.state).toMatchObject({ kind: "connected", hostIndex: 0 });
        expect(states.filter((s) => s.startsWith("connected"))).toEqual(["connected:0"]);
        expect(await client.exists(`${path}-4`)).not.toBeNull();
      } finally {
        await other.stop();
      }
    });
  });
});
