// Recipes under contention and under connection loss (book chapters 6 and 8; ZooKeeper's recipes page;
// Curator's protected mode for CONNECTIONLOSS on a sequential create).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  Barrier,
  DoubleBarrier,
  LeaderElection,
  Lock,
  Queue,
  ReadWriteLock,
  RecipeTimeoutError,
  lockContenders,
  type ZooKeeperClient,
} from "../../src/client/index.ts";
import { connect, eventually, sleep, uniquePath } from "./helpers.ts";
import { FaultyProxy } from "../support/proxy.ts";
import { describeWithServer, startServerForClientTests, type TestServer } from "./server.ts";

describeWithServer("recipes against a live server", () => {
  let server: TestServer;
  let proxy: FaultyProxy | undefined;
  beforeAll(async () => {
    server = await startServerForClientTests();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  /**
   * Makes the next call of `method` on `client` lose its reply: the request reaches the server and is executed, the
   * answer is dropped, and then the connection breaks, so the call fails with ConnectionLossError.
   */
  function loseNextReply(client: ZooKeeperClient, method: "create" | "multi", via: FaultyProxy): { lost: () => boolean } {
    const original = (client[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
    let armed = true;
    (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      if (!armed) return original(...args);
      armed = false;
      via.dropReplies(true);
      const result = original(...args);
      setTimeout(() => {
        via.cut();
        via.dropReplies(false);
      }, 200);
      return result;
    };
    return { lost: () => !armed };
  }

  async function connectMany(count: number): Promise<ZooKeeperClient[]> {
    return Promise.all(Array.from({ length: count }, () => connect(server.connectString)));
  }

  describe("Lock", () => {
    it("10 clients, one lock: mutual exclusion, FIFO order, and each waiter watches only its predecessor", async () => {
      const path = uniquePath("lock");
      const clients = await connectMany(10);
      const locks = clients.map((c, i) => new Lock(c, path, { identifier: `client-${i}` }));
      await locks[0]!.acquire();

      let inside = 0;
      let maxInside = 0;
      const order: number[] = [];
      const runs = locks.slice(1).map(async (lock, j) => {
        await lock.acquire();
        inside++;
        maxInside = Math.max(maxInside, inside);
        order.push(j + 1);
        await sleep(5);
        inside--;
        await lock.release();
      });

      // Everyone queued: 10 contenders, and each waiter holds exactly one watch, on the node just before its own.
      await eventually(async () => (await clients[0]!.getChildren(path)).length === 10, 10_000, "10 contenders");
      await eventually(() => clients.slice(1).every((c) => c.testing.watches().length === 1), 10_000, "waiter watches");
      const sorted = (await clients[0]!.getChildren(path)).sort((a, b) => Number(a.slice(-10)) - Number(b.slice(-10)));
      for (const lock of locks.slice(1)) {
        const client = clients[locks.indexOf(lock)]!;
        const ours = lock.nodePath!.slice(path.length + 1);
        const predecessor = sorted[sorted.indexOf(ours) - 1]!;
        expect(client.testing.watches()).toEqual([{ kind: "data", path: `${path}/${predecessor}` }]);
      }
      expect(await lockContenders(clients[0]!, path)).toEqual(
        sorted.map((name) => `client-${locks.findIndex((l) => l.nodePath?.endsWith(name))}`),
      );

      const queueOrder = sorted.slice(1).map((name) => locks.findIndex((l) => l.nodePath?.endsWith(name)));
      await locks[0]!.release();
      await Promise.all(runs);
      expect(maxInside).toBe(1);
      expect(order).toEqual(queueOrder);
      expect(await clients[0]!.getChildren(path)).toEqual([]);
    });

    it("a shared counter incremented under the lock by 5 clients loses no update", async () => {
      const path = uniquePath("lock");
      const counter = uniquePath("counter");
      const clients = await connectMany(5);
      await clients[0]!.create(counter, "0");
      await Promise.all(
        clients.map(async (client) => {
          const lock = new Lock(client, path);
          for (let i = 0; i < 4; i++) {
            await lock.withLock(async () => {
              // read-modify-write without a version check: only the lock keeps it correct
              const value = Number((await client.getData(counter)).data!.toString());
              await client.setData(counter, String(value + 1));
            });
          }
        }),
      );
      expect((await clients[0]!.getData(counter)).data!.toString()).toBe("20");
    });

    it("acquire with a timeout gives up with RecipeTimeoutError and leaves the queue", async () => {
      const [a, b] = await connectMany(2);
      const path = uniquePath("lock");
      await new Lock(a!, path).acquire();
      const waiter = new Lock(b!, path);
      await expect(waiter.acquire({ timeoutMs: 200 })).rejects.toBeInstanceOf(RecipeTimeoutError);
      expect(await a!.getChildren(path)).toHaveLength(1);
    });

    it("CONNECTIONLOSS on the create: the lock finds its own node by GUID instead of leaving an orphan", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString);
      const observer = await connect(server.connectString);
      const path = uniquePath("lock");
      await observer.create(path);
      const lost = loseNextReply(client, "create", proxy);
      const lock = new Lock(client, path);
      await lock.acquire();
      expect(lost.lost()).toBe(true);
      const children = await observer.getChildren(path);
      expect(children).toHaveLength(1);
      expect(lock.nodePath).toBe(`${path}/${children[0]}`);
      await lock.release();
      expect(await observer.getChildren(path)).toEqual([]);
    });

    it("a waiter keeps its place through a disconnect, and gets the lock released while it was away", async () => {
      proxy = await FaultyProxy.start(server.port);
      const holderClient = await connect(server.connectString);
      const waiterClient = await connect(proxy.connectString);
      const path = uniquePath("lock");
      const holder = new Lock(holderClient, path);
      await holder.acquire();
      const waiter = new Lock(waiterClient, path);
      const acquired = waiter.acquire();
      await eventually(() => waiterClient.testing.watches().length === 1, 5000, "waiter watch");
      proxy.refuse(true);
      proxy.cut();
      await holder.release(); // while the waiter is disconnected
      await sleep(100);
      proxy.refuse(false);
      await acquired; // SetWatches on reconnect reports the predecessor's deletion
      expect(waiter.isAcquired).toBe(true);
    });

    it("a holder whose session expires loses the lock to the next waiter", async () => {
      proxy = await FaultyProxy.start(server.port);
      const holderClient = await connect(proxy.connectString, { sessionTimeoutMs: 1000 });
      const waiterClient = await connect(server.connectString);
      const path = uniquePath("lock");
      await new Lock(holderClient, path).acquire();
      const waiter = new Lock(waiterClient, path);
      const acquired = waiter.acquire();
      proxy.refuse(true);
      proxy.cut();
      await acquired;
      expect(waiter.isAcquired).toBe(true);
    });
  });

  describe("ReadWriteLock", () => {
    it("readers share; a writer waits for them; a later reader waits for the writer", async () => {
      const [r1, r2, w, r3] = await connectMany(4);
      const path = uniquePath("rw");
      const read1 = new ReadWriteLock(r1!, path).readLock;
      const read2 = new ReadWriteLock(r2!, path).readLock;
      await read1.acquire();
      await read2.acquire({ timeoutMs: 5000 }); // no writer before it: granted at once
      const write = new ReadWriteLock(w!, path).writeLock;
      let writerIn = false;
      const writing = write.acquire().then(() => (writerIn = true));
      await eventually(async () => (await r1!.getChildren(path)).length === 3, 5000, "writer queued");
      const read3 = new ReadWriteLock(r3!, path).readLock;
      let reader3In = false;
      const reading = read3.acquire().then(() => (reader3In = true));
      await sleep(200);
      expect([writerIn, reader3In]).toEqual([false, false]);
      await read1.release();
      await read2.release();
      await writing;
      await sleep(100);
      expect(reader3In).toBe(false);
      await write.release();
      await reading;
    });
  });

  describe("LeaderElection", () => {
    it("exactly one leader; when it leaves, its successor takes over", async () => {
      const clients = await connectMany(3);
      const path = uniquePath("election");
      const elections = clients.map((c, i) => new LeaderElection(c, path, { id: `p${i}` }));
      for (const e of elections) await e.start();
      expect(elections.map((e) => e.isLeader)).toEqual([true, false, false]);
      expect(await elections[2]!.leaderId()).toBe("p0");
      expect(await elections[1]!.participants()).toEqual(["p0", "p1", "p2"]);
      await elections[0]!.close();
      await elections[1]!.waitForLeadership(5000);
      expect(elections.map((e) => e.isLeader)).toEqual([false, true, false]);
      expect(await elections[2]!.leaderId()).toBe("p1");
    });

    it("a leader that loses its connection stops claiming leadership until it is connected again", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString);
      const election = new LeaderElection(client, uniquePath("election"), { id: "solo" });
      const changes: boolean[] = [];
      election.onChange((isLeader) => changes.push(isLeader));
      await election.start();
      expect(election.isLeader).toBe(true);
      proxy.refuse(true);
      proxy.cut();
      await eventually(() => !election.isLeader, 5000, "leadership dropped");
      proxy.refuse(false);
      await election.waitForLeadership(10_000);
      expect(changes).toEqual([true, false, true]);
    });

    it("CONNECTIONLOSS on the create: the participant finds its own node by GUID and leads with it, no orphan", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString);
      const observer = await connect(server.connectString);
      const path = uniquePath("election");
      await observer.create(path);
      const lost = loseNextReply(client, "create", proxy);
      const election = new LeaderElection(client, path, { id: "only" });
      await election.start();
      expect(lost.lost()).toBe(true);
      const children = await observer.getChildren(path);
      expect(children).toHaveLength(1); // an orphan would sit first in line and no one could ever lead
      expect(election.nodePath).toBe(`${path}/${children[0]}`);
      expect(election.isLeader).toBe(true);
      await election.close();
      expect(await observer.getChildren(path)).toEqual([]);
    });

    it("a follower takes over when the leader's session expires", async () => {
      proxy = await FaultyProxy.start(server.port);
      const leaderClient = await connect(proxy.connectString, { sessionTimeoutMs: 1000 });
      const followerClient = await connect(server.connectString);
      const path = uniquePath("election");
      const leader = new LeaderElection(leaderClient, path, { id: "a" });
      const follower = new LeaderElection(followerClient, path, { id: "b" });
      await leader.start();
      await follower.start();
      proxy.refuse(true);
      proxy.cut();
      await follower.waitForLeadership(10_000);
      await eventually(() => leaderClient.state.kind !== "connected", 5000, "leader disconnected");
      expect(leader.isLeader).toBe(false);
    });
  });

  describe("Barrier and DoubleBarrier", () => {
    it("waiters block while the barrier is up and all pass when it is removed", async () => {
      const [a, b, c] = await connectMany(3);
      const path = uniquePath("barrier");
      await new Barrier(a!, path).set();
      let passed = 0;
      const waits = [b!, c!].map((client) => new Barrier(client, path).wait().then(() => passed++));
      await sleep(200);
      expect(passed).toBe(0);
      await new Barrier(a!, path).remove();
      await Promise.all(waits);
      expect(passed).toBe(2);
      await expect(new Barrier(a!, path).wait(100)).resolves.toBeUndefined();
    });

    it("a double barrier lets nobody in before all arrive, and nobody out before all leave", async () => {
      const clients = await connectMany(3);
      const path = uniquePath("double");
      const barriers = clients.map((c, i) => new DoubleBarrier(c, path, 3, { id: `m${i}` }));
      const entered: number[] = [];
      const first = barriers.slice(0, 2).map((b, i) => b.enter(10_000).then(() => entered.push(i)));
      await sleep(200);
      expect(entered).toEqual([]);
      await barriers[2]!.enter(10_000);
      await Promise.all(first);
      expect(entered.sort()).toEqual([0, 1]);

      const left: number[] = [];
      const leaving = barriers.slice(0, 2).map((b, i) => b.leave(10_000).then(() => left.push(i)));
      await sleep(200);
      expect(left).toEqual([]);
      await barriers[2]!.leave(10_000);
      await Promise.all(leaving);
      expect(await clients[0]!.getChildren(path)).toEqual([]);
    });

    it("a waiter disconnected while the barrier comes down passes once it is back (its watch is re-registered)", async () => {
      proxy = await FaultyProxy.start(server.port);
      const owner = await connect(server.connectString);
      const waiterClient = await connect(proxy.connectString);
      const path = uniquePath("barrier");
      await new Barrier(owner, path).set();
      const waiting = new Barrier(waiterClient, path).wait();
      await eventually(() => waiterClient.testing.watches().length === 1, 5000, "waiter watch");
      proxy.refuse(true);
      proxy.cut();
      await new Barrier(owner, path).remove();
      proxy.refuse(false);
      await waiting;
    });

    it("CONNECTIONLOSS on a double barrier's create: the retry's NodeExists is recognised as our own node", async () => {
      proxy = await FaultyProxy.start(server.port);
      const lossy = await connect(proxy.connectString);
      const other = await connect(server.connectString);
      const path = uniquePath("double");
      await other.create(path);
      const lost = loseNextReply(lossy, "create", proxy);
      const entering = [new DoubleBarrier(lossy, path, 2, { id: "a" }).enter(10_000), new DoubleBarrier(other, path, 2, { id: "b" }).enter(10_000)];
      await Promise.all(entering);
      expect(lost.lost()).toBe(true);
      expect((await other.getChildren(path)).sort()).toEqual(["a", "b", "ready"]);
      expect((await other.exists(`${path}/a`))!.ephemeralOwner).toBe(lossy.session!.sessionId);
    });

    it("the time limit applies to entering", async () => {
      const [client] = await connectMany(1);
      await expect(new DoubleBarrier(client!, uniquePath("double"), 2).enter(150)).rejects.toBeInstanceOf(RecipeTimeoutError);
    });
  });

  describe("Queue", () => {
    it("is first in, first out", async () => {
      const [client] = await connectMany(1);
      const queue = new Queue(client!, uniquePath("queue"));
      for (const item of ["a", "b", "c"]) await queue.put(item);
      expect(await queue.size()).toBe(3);
      expect((await queue.take()).toString()).toBe("a");
      expect((await queue.poll())?.toString()).toBe("b");
      expect((await queue.take()).toString()).toBe("c");
      expect(await queue.poll()).toBeNull();
    });

    it("a consumer that comes before the queue exists waits for the first item", async () => {
      const [consumer, producer] = await connectMany(2);
      const path = uniquePath("queue");
      const taking = new Queue(consumer!, path).take(10_000);
      await sleep(100);
      await new Queue(producer!, path).put("first");
      expect((await taking).toString()).toBe("first");
    });

    it("3 producers and 3 consumers: every item is taken exactly once", async () => {
      const clients = await connectMany(6);
      const path = uniquePath("queue");
      const perProducer = 10;
      const producing = clients.slice(0, 3).map(async (client, p) => {
        const queue = new Queue(client, path);
        for (let i = 0; i < perProducer; i++) await queue.put(`${p}:${i}`);
      });
      const taken: string[] = [];
      const consuming = clients.slice(3).map(async (client) => {
        const queue = new Queue(client, path);
        while (taken.length < 3 * perProducer) {
          const item = await queue.take(2000).catch((e: unknown) => {
            if (e instanceof RecipeTimeoutError) return null;
            throw e;
          });
          if (item !== null) taken.push(item.toString());
        }
      });
      await Promise.all([...producing, ...consuming]);
      expect(taken).toHaveLength(30);
      expect(new Set(taken).size).toBe(30);
      // Each producer's items come out in the order it put them.
      for (let p = 0; p < 3; p++) {
        const mine = taken.filter((t) => t.startsWith(`${p}:`)).map((t) => Number(t.split(":")[1]));
        expect(mine).toEqual([...mine].sort((x, y) => x - y));
      }
    });

    it("CONNECTIONLOSS on put makes no duplicate; on take loses no item", async () => {
      proxy = await FaultyProxy.start(server.port);
      const client = await connect(proxy.connectString);
      const observer = await connect(server.connectString);
      const path = uniquePath("queue");
      const queue = new Queue(client, path);
      await queue.put("warm-up");
      await new Queue(observer, path).take();

      const lostPut = loseNextReply(client, "create", proxy);
      await queue.put("only-once");
      expect(lostPut.lost()).toBe(true);
      expect(await new Queue(observer, path).size()).toBe(1);

      const lostTake = loseNextReply(client, "multi", proxy);
      expect((await queue.take()).toString()).toBe("only-once");
      expect(lostTake.lost()).toBe(true);
      expect(await observer.getChildren(path)).toEqual([]);
    });
  });
});
