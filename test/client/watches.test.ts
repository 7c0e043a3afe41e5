// Watches: one-time semantics, the event-before-reply order, persistent watches, streams, and chroot.
// Book chapter 4 ("单次触发器", "通知优先"); reference §3 "Watch triggers" and "Ordering guarantee";
// Apache `ZKWatchManager.materialize`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NoWatcherError, type WatchedEvent } from "../../src/client/index.ts";
import { connect, eventually, nextCall, sleep, uniquePath } from "./helpers.ts";
import { describeWithServer, startServerForClientTests, type TestServer } from "./server.ts";

describeWithServer("watches against a live server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServerForClientTests();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("one-time watches", () => {
    it("a data watch fires once, on the first change only", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path, "0");
      const events: WatchedEvent[] = [];
      await client.getData(path, { watch: (e) => events.push(e) });
      await client.setData(path, "1");
      await client.setData(path, "2");
      await client.sync(path);
      expect(events).toEqual([{ type: "nodeDataChanged", state: "syncConnected", path }]);
      expect(client.testing.watches()).toEqual([]);
    });

    it("exists on a missing node watches for its creation; on an existing one, for deletion", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      const created = nextCall<WatchedEvent>();
      expect(await client.exists(path, { watch: created.callback })).toBeNull();
      expect(client.testing.watches()).toEqual([{ kind: "exist", path }]);
      await client.create(path);
      expect(created.calls).toEqual([{ type: "nodeCreated", state: "syncConnected", path }]);

      const deleted = nextCall<WatchedEvent>();
      await client.exists(path, { watch: deleted.callback });
      expect(client.testing.watches()).toEqual([{ kind: "data", path }]);
      await client.delete(path);
      expect(deleted.calls).toEqual([{ type: "nodeDeleted", state: "syncConnected", path }]);
    });

    it("a child watch fires on a child's creation, and NodeDeleted when the node itself goes", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const events: WatchedEvent[] = [];
      await client.getChildren(path, { watch: (e) => events.push(e) });
      await client.create(`${path}/c`);
      await client.setData(path, "data changes do not fire child watches");
      await client.getChildren(path, { watch: (e) => events.push(e) });
      await client.delete(`${path}/c`);
      await client.getChildren(path, { watch: (e) => events.push(e) });
      await client.delete(path);
      expect(events.map((e) => e.type)).toEqual(["nodeChildrenChanged", "nodeChildrenChanged", "nodeDeleted"]);
    });

    it("the same watcher set twice on one path is called once (Apache keeps a set)", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const events: WatchedEvent[] = [];
      const watch = (e: WatchedEvent): void => void events.push(e);
      await client.getData(path, { watch });
      await client.exists(path, { watch });
      await client.setData(path, "x");
      expect(events).toHaveLength(1);
    });

    it("a watcher that throws is reported and does not stop the others", async () => {
      const errors: unknown[] = [];
      const client = await connect(server.connectString, { onWatcherError: (e) => errors.push(e) });
      const path = uniquePath();
      await client.create(path);
      const good = nextCall<WatchedEvent>();
      await client.getData(path, {
        watch: () => {
          throw new Error("boom");
        },
      });
      await client.exists(path, { watch: good.callback });
      await client.setData(path, "x");
      expect(good.calls).toHaveLength(1);
      expect(errors).toHaveLength(1);
    });
  });

  describe("the event comes before the reply that can see the change", () => {
    it("the watcher runs before the promise of the change that fired it resolves", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path, "0");
      const order: string[] = [];
      await client.getData(path, { watch: () => order.push("event") });
      // The server sends the notification, then the reply; no `then` may run in between.
      const done = client.setData(path, "1").then(() => order.push("reply"));
      await done;
      expect(order).toEqual(["event", "reply"]);
    });

    it("another client never reads the new data before its watcher heard of the change", async () => {
      const writer = await connect(server.connectString);
      const reader = await connect(server.connectString);
      const path = uniquePath();
      await writer.create(path, "0");
      for (let round = 1; round <= 30; round++) {
        let notified = false;
        await reader.getData(path, { watch: () => (notified = true) });
        const write = writer.setData(path, String(round));
        // Read while the write is in flight: whenever the read sees the new version, the event came first.
        const { stat } = await reader.getData(path);
        if (stat.version === round) expect(notified).toBe(true);
        await write;
        await eventually(() => notified, 5000, "notification");
      }
    });
  });

  describe("persistent watches (addWatch)", () => {
    it("persistent: every change of the node and its children list, without re-registering", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const events: WatchedEvent[] = [];
      await client.addWatch(path, (e) => events.push(e), "persistent");
      await client.setData(path, "1");
      await client.setData(path, "2");
      await client.create(`${path}/c`);
      await client.create(`${path}/c/grandchild`);
      await client.delete(path + "/c/grandchild");
      await client.sync(path);
      expect(events.map((e) => `${e.type} ${e.path}`)).toEqual([
        `nodeDataChanged ${path}`,
        `nodeDataChanged ${path}`,
        `nodeChildrenChanged ${path}`,
      ]);
      expect(client.testing.watches()).toEqual([{ kind: "persistent", path }]);
    });

    it("persistentRecursive: created/changed/deleted for the whole subtree, never children-changed", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const events: WatchedEvent[] = [];
      await client.addWatch(path, (e) => events.push(e), "persistentRecursive");
      await client.create(`${path}/a`);
      await client.create(`${path}/a/b`, "x");
      await client.setData(`${path}/a/b`, "y");
      await client.delete(`${path}/a/b`);
      await client.sync(path);
      expect(events.map((e) => `${e.type} ${e.path}`)).toEqual([
        `nodeCreated ${path}/a`,
        `nodeCreated ${path}/a/b`,
        `nodeDataChanged ${path}/a/b`,
        `nodeDeleted ${path}/a/b`,
      ]);
    });

    it("watchPersistent is an async iterable of events; close() removes the watcher", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const stream = await client.watchPersistent(path, { recursive: true });
      await client.create(`${path}/x`);
      await client.setData(`${path}/x`, "1");
      const seen: string[] = [];
      for await (const event of stream) {
        seen.push(`${event.type} ${event.path}`);
        if (seen.length === 2) break; // break calls return(), which removes the watcher
      }
      expect(seen).toEqual([`nodeCreated ${path}/x`, `nodeDataChanged ${path}/x`]);
      await eventually(() => client.testing.watches().length === 0, 5000, "watcher removal");
    });
  });

  describe("removeWatches", () => {
    it("removes a data watch; its watcher gets dataWatchRemoved and never the change", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const events: WatchedEvent[] = [];
      await client.getData(path, { watch: (e) => events.push(e) });
      await client.removeWatches(path, "data");
      await client.setData(path, "x");
      expect(events).toEqual([{ type: "dataWatchRemoved", state: "syncConnected", path }]);
    });

    it("removes one watcher of several (checkWatches) and keeps the others", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const kept = nextCall<WatchedEvent>();
      const removed: WatchedEvent[] = [];
      const toRemove = (e: WatchedEvent): void => void removed.push(e);
      await client.getChildren(path, { watch: kept.callback });
      await client.getChildren(path, { watch: toRemove });
      await client.removeWatches(path, "children", toRemove);
      await client.create(`${path}/c`);
      expect(kept.calls.map((e) => e.type)).toEqual(["nodeChildrenChanged"]);
      expect(removed.map((e) => e.type)).toEqual(["childWatchRemoved"]);
    });

    it("fails with NoWatcherError when there is no such watch", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      await expect(client.removeWatches(path, "data")).rejects.toBeInstanceOf(NoWatcherError);
      await expect(client.removeWatches(path, "any", () => {})).rejects.toBeInstanceOf(NoWatcherError);
    });

    it("'any' removes persistent watches too", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      const events: WatchedEvent[] = [];
      await client.addWatch(path, (e) => events.push(e), "persistent");
      await client.removeWatches(path, "any");
      await client.setData(path, "x");
      await client.sync(path);
      expect(events.map((e) => e.type)).toEqual(["persistentWatchRemoved"]);
    });
  });

  describe("watch streams", () => {
    it("watchData yields the data now and after each change, null while the node is missing", async () => {
      const client = await connect(server.connectString);
      const writer = await connect(server.connectString);
      const path = uniquePath();
      const stream = client.watchData(path);
      const next = async (): Promise<string | null> => {
        const r = await stream.next();
        if (r.done) throw new Error("stream ended");
        return r.value === null ? null : (r.value.data?.toString() ?? "<null>");
      };
      expect(await next()).toBeNull();
      await writer.create(path, "a");
      expect(await next()).toBe("a");
      await writer.setData(path, "b");
      expect(await next()).toBe("b");
      await writer.delete(path);
      expect(await next()).toBeNull();
      await stream.return();
    });

    it("watchChildren yields the children after each change and ends when the client closes", async () => {
      const client = await connect(server.connectString);
      const writer = await connect(server.connectString);
      const path = uniquePath();
      await writer.create(path);
      const stream = client.watchChildren(path);
      expect((await stream.next()).value).toEqual([]);
      await writer.create(`${path}/one`);
      expect((await stream.next()).value).toEqual(["one"]);
      const pending = stream.next();
      await client.close();
      expect((await pending).done).toBe(true);
    });
  });

  describe("chroot", () => {
    it("paths go out with the chroot and come back without it, in replies and events", async () => {
      const root = await connect(server.connectString);
      const chroot = uniquePath("chroot");
      await root.create(chroot);
      const client = await connect(`${server.connectString}${chroot}`);
      expect(client.chroot.prefix).toBe(chroot);

      expect(await client.create("/a", "x")).toBe("/a");
      expect((await root.getData(`${chroot}/a`)).data?.toString()).toBe("x");
      expect(await client.create("/seq-", "", { mode: "ephemeralSequential" })).toBe("/seq-0000000001");
      expect(await client.getEphemerals("/")).toEqual(["/seq-0000000001"]);
      expect((await client.getChildren("/")).sort()).toEqual(["a", "seq-0000000001"]);
      expect(await client.sync("/a")).toBe("/a");
      const [created] = await client.transaction().create("/b").commit();
      expect(created).toEqual({ op: "create", path: "/b", stat: null });

      const events: WatchedEvent[] = [];
      await client.getChildren("/", { watch: (e) => events.push(e) });
      await client.getData("/a", { watch: (e) => events.push(e) });
      // Another connection: Apache 3.8 keeps one watch per path and connection, so a persistent watch on "/" here
      // would turn the child watch above into a persistent one (ZOOKEEPER-4466, fixed in 3.9).
      const other = await connect(`${server.connectString}${chroot}`);
      await other.addWatch("/", (e) => events.push(e), "persistentRecursive");
      await root.setData(`${chroot}/a`, "y");
      await root.create(`${chroot}/c`);
      await client.sync("/");
      await other.sync("/");
      await sleep(50);
      expect(events.map((e) => `${e.type} ${e.path}`).sort()).toEqual(
        ["nodeDataChanged /a", "nodeDataChanged /a", "nodeChildrenChanged /", "nodeCreated /c"].sort(),
      );
    });
  });
});
