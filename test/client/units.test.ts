// The client's small pure parts: connect strings, paths and chroot, the watch table, SetWatches batching,
// retry backoff and the event queue. No server needed.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JuteReader, SetWatches, SetWatches2, opCodes } from "../../src/proto/index.ts";
import { parseConnectString, seededRandom, shuffleHosts } from "../../src/client/connect-string.ts";
import { ConnectionLossError, InvalidPathError, NoNodeError, RequestTimeoutError, SessionExpiredError } from "../../src/client/errors.ts";
import { EventQueue, EventQueueOverflowError } from "../../src/client/event-queue.ts";
import { Chroot, pathAndAncestors, validatePath } from "../../src/client/paths.ts";
import { retry, retryDelayMs, defaultRetryPolicy } from "../../src/client/retry.ts";
import { setWatchesPackets } from "../../src/client/set-watches.ts";
import { WatchRegistry } from "../../src/client/watch-registry.ts";

describe("connect string (Apache ConnectStringParser)", () => {
  it("parses hosts, default ports, IPv6 and a chroot", () => {
    const parsed = parseConnectString("h1:2181,h2,[::1]:2182/app/sub");
    expect(parsed.hosts).toEqual([
      { host: "h1", port: 2181 },
      { host: "h2", port: 2181 },
      { host: "::1", port: 2182 },
    ]);
    expect(parsed.chroot.prefix).toBe("/app/sub");
    expect(parseConnectString("h:1/").chroot.prefix).toBe("");
    expect(() => parseConnectString("h:99999")).toThrow(/bad port/);
    expect(() => parseConnectString("/app")).toThrow(/no host/);
    expect(() => parseConnectString("h:1/app/")).toThrow(InvalidPathError);
  });

  it("shuffles with the injected randomness: same seed, same order; every host kept", () => {
    const hosts = Array.from({ length: 8 }, (_, i) => `h${i}`);
    const a = shuffleHosts(hosts, seededRandom(42));
    expect(shuffleHosts(hosts, seededRandom(42))).toEqual(a);
    expect([...a].sort()).toEqual([...hosts].sort());
    expect(shuffleHosts(hosts, () => 0.999)).toEqual(hosts);
  });
});

describe("paths and chroot", () => {
  it("validates like PathUtils.validatePath", () => {
    for (const ok of ["/", "/a", "/a/b", "/a-b.c_d", "/zookeeper/quota"]) expect(() => validatePath(ok)).not.toThrow();
    for (const bad of ["", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/a\u0000b", "/a\u0001"]) {
      expect(() => validatePath(bad), bad).toThrow(InvalidPathError);
    }
    expect(() => validatePath("/queue/", true)).not.toThrow();
  });

  it("prepends on the way out, strips on the way in", () => {
    const chroot = new Chroot("/app");
    expect(chroot.toServer("/")).toBe("/app");
    expect(chroot.toServer("/x/y")).toBe("/app/x/y");
    expect(chroot.toClient("/app")).toBe("/");
    expect(chroot.toClient("/app/x")).toBe("/x");
    expect(chroot.toClient("/apple")).toBe("/apple"); // not under the chroot: passed through, as Apache does
    expect(new Chroot("").toServer("/x")).toBe("/x");
  });

  it("lists a path and its ancestors", () => {
    expect(pathAndAncestors("/a/b/c")).toEqual(["/a/b/c", "/a/b", "/a", "/"]);
    expect(pathAndAncestors("/")).toEqual(["/"]);
  });
});

describe("watch registry (Apache ZKWatchManager.materialize)", () => {
  const setUp = () => {
    const r = new WatchRegistry<string>();
    r.add("data", "/a", "data-a");
    r.add("exist", "/a", "exist-a");
    r.add("child", "/a", "child-a");
    r.add("persistent", "/a", "persistent-a");
    r.add("persistentRecursive", "/", "recursive-root");
    return r;
  };

  it("nodeDataChanged: data and exist watches (once), persistent and recursive ones (kept)", () => {
    const r = setUp();
    expect(r.materialize("nodeDataChanged", "/a").sort()).toEqual(["data-a", "exist-a", "persistent-a", "recursive-root"]);
    expect(r.materialize("nodeDataChanged", "/a").sort()).toEqual(["persistent-a", "recursive-root"]);
    expect(r.paths("child")).toEqual(["/a"]);
  });

  it("nodeChildrenChanged: child watches and persistent ones, never recursive ones", () => {
    expect(setUp().materialize("nodeChildrenChanged", "/a").sort()).toEqual(["child-a", "persistent-a"]);
  });

  it("nodeDeleted: data, exist and child watches together", () => {
    const r = setUp();
    expect(r.materialize("nodeDeleted", "/a").sort()).toEqual(["child-a", "data-a", "exist-a", "persistent-a", "recursive-root"]);
    expect(r.entries().map((e) => e.kind).sort()).toEqual(["persistent", "persistentRecursive"]);
  });

  it("a watcher registered under two kinds hears an event once", () => {
    const r = new WatchRegistry<string>();
    r.add("data", "/a", "w");
    r.add("child", "/a", "w");
    expect(r.materialize("nodeDeleted", "/a")).toEqual(["w"]);
  });

  it("remove: 'data' takes data and exist watches, 'any' takes persistent ones too", () => {
    const r = setUp();
    expect(r.remove("/a", "data").map((x) => `${x.watcher}:${x.eventType}`).sort()).toEqual([
      "data-a:dataWatchRemoved",
      "exist-a:dataWatchRemoved",
    ]);
    expect(r.remove("/a", "any").map((x) => x.eventType).sort()).toEqual(["childWatchRemoved", "persistentWatchRemoved"]);
    expect(r.drain()).toEqual(["recursive-root"]);
    expect(r.isEmpty).toBe(true);
  });
});

describe("SetWatches batching (Apache primeConnection)", () => {
  const decode = (p: { opCode: number; body: Buffer }) =>
    p.opCode === opCodes.setWatches ? SetWatches.read(new JuteReader(p.body)) : SetWatches2.read(new JuteReader(p.body));

  it("one SetWatches for standard watches, SetWatches2 only for a batch with persistent ones", () => {
    const [only] = setWatchesPackets({ data: ["/d"], exist: ["/e"], child: ["/c"], persistent: [], persistentRecursive: [] }, 7n);
    expect(only!.opCode).toBe(opCodes.setWatches);
    expect(decode(only!)).toEqual({ relativeZxid: 7n, dataWatches: ["/d"], existWatches: ["/e"], childWatches: ["/c"] });
    const [two] = setWatchesPackets({ data: [], exist: [], child: [], persistent: ["/p"], persistentRecursive: ["/r"] }, 7n);
    expect(two!.opCode).toBe(opCodes.setWatches2);
    expect(setWatchesPackets({ data: [], exist: [], child: [], persistent: [], persistentRecursive: [] }, 1n)).toEqual([]);
  });

  it("splits into packets of about packetBytesMax, keeping every path exactly once (randomised; prints its seed)", () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    console.log(`SetWatches batching property: seed ${seed} (rerun with SEED=${seed})`);
    const pathArb = fc.stringMatching(/^\/[a-z]{1,30}$/);
    fc.assert(
      fc.property(
        fc.record({
          data: fc.array(pathArb, { maxLength: 40 }),
          exist: fc.array(pathArb, { maxLength: 40 }),
          child: fc.array(pathArb, { maxLength: 40 }),
          persistent: fc.array(pathArb, { maxLength: 10 }),
          persistentRecursive: fc.array(pathArb, { maxLength: 10 }),
        }),
        fc.integer({ min: 1, max: 200 }),
        (paths, limit) => {
          const packets = setWatchesPackets(paths, 5n, limit);
          const merged = { data: [] as string[], exist: [] as string[], child: [] as string[], persistent: [] as string[], persistentRecursive: [] as string[] };
          for (const packet of packets) {
            const d = decode(packet) as Partial<ReturnType<typeof SetWatches2.read>>;
            const sizes = [d.dataWatches, d.existWatches, d.childWatches, d.persistentWatches ?? [], d.persistentRecursiveWatches ?? []]
              .flat()
              .map((p) => Buffer.byteLength(p!));
            // Below the limit before the last path was added (Apache may overshoot by that one path).
            expect(sizes.reduce((a, b) => a + b, 0) - sizes.at(-1)!).toBeLessThan(limit);
            merged.data.push(...(d.dataWatches as string[]));
            merged.exist.push(...(d.existWatches as string[]));
            merged.child.push(...(d.childWatches as string[]));
            merged.persistent.push(...((d.persistentWatches ?? []) as string[]));
            merged.persistentRecursive.push(...((d.persistentRecursiveWatches ?? []) as string[]));
            expect(packet.opCode).toBe(
              (d.persistentWatches?.length ?? 0) + (d.persistentRecursiveWatches?.length ?? 0) > 0 ? opCodes.setWatches2 : opCodes.setWatches,
            );
          }
          expect(merged).toEqual(paths);
        },
      ),
      { seed },
    );
  });
});

describe("retry", () => {
  const instant = { sleep: async () => {}, random: () => 0.5 };

  it("retries connection loss and request timeouts, never other errors", async () => {
    let calls = 0;
    const value = await retry(async () => {
      calls++;
      if (calls === 1) throw new ConnectionLossError("/x");
      if (calls === 2) throw new RequestTimeoutError("/x");
      return "ok";
    }, instant);
    expect([value, calls]).toEqual(["ok", 3]);
    for (const error of [new NoNodeError("/x"), new SessionExpiredError(), new Error("bug")]) {
      let n = 0;
      await expect(retry(async () => (n++, Promise.reject(error)), instant)).rejects.toBe(error);
      expect(n).toBe(1);
    }
  });

  it("stops after retriesMax retries, rethrowing the last error", async () => {
    let calls = 0;
    await expect(
      retry(async () => (calls++, Promise.reject(new ConnectionLossError())), { ...instant, retriesMax: 3 }),
    ).rejects.toBeInstanceOf(ConnectionLossError);
    expect(calls).toBe(4);
  });

  it("backs off exponentially with equal jitter, capped at delayMsMax, within elapsedMsMax", async () => {
    const policy = { ...defaultRetryPolicy, delayMsInitial: 100, delayMsMax: 1000, multiplier: 2, random: () => 0 };
    expect([0, 1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(retryDelayMs({ ...policy, jitter: "none" }, 2)).toBe(400);

    let nowMs = 0;
    const slept: number[] = [];
    await expect(
      retry(async () => Promise.reject(new ConnectionLossError()), {
        delayMsInitial: 100,
        jitter: "none",
        elapsedMsMax: 1000,
        retriesMax: 100,
        now: () => nowMs,
        sleep: async (ms) => {
          slept.push(ms);
          nowMs += ms;
        },
      }),
    ).rejects.toBeInstanceOf(ConnectionLossError);
    expect(slept).toEqual([100, 200, 400]); // the next (800) would end past 1000 ms
  });
});

describe("EventQueue", () => {
  it("hands pushed values to readers in order, then ends", async () => {
    const q = new EventQueue<number>();
    const first = q.next();
    q.push(1);
    q.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    q.end();
    expect((await q.next()).done).toBe(true);
  });

  it("fails a consumer that falls too far behind instead of growing without bound", async () => {
    const q = new EventQueue<number>(() => {}, 3);
    for (let i = 0; i < 4; i++) q.push(i);
    expect((await q.next()).value).toBe(0);
    await q.next();
    await q.next();
    await expect(q.next()).rejects.toBeInstanceOf(EventQueueOverflowError);
  });
});
