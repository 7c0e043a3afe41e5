/**
 * The simulator's parts: virtual time, the network (datagrams vs. TCP-like quorum connections), the disk (fsync,
 * crash, torn writes — reference §5: "a short read … means end of log") and the timeline.
 */
import { describe, expect, it } from "vitest";
import { EventQueue, SimDisk, SimNetwork, Timeline, calmNetwork, seededRandom, type SimTypes } from "../../src/sim/index.ts";
import { makeZxid } from "../../src/tree/txn.ts";

describe("EventQueue", () => {
  it("takes events by time, ties in the order they were scheduled, and moves the clock", () => {
    const q = new EventQueue<string>();
    q.schedule(5, "c");
    q.schedule(1, "a");
    q.schedule(5, "d");
    q.schedule(1, "b");
    const seen: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) seen.push(`${e}@${q.nowMs}`);
    expect(seen).toEqual(["a@1", "b@1", "c@5", "d@5"]);
  });

  it("never schedules into the past", () => {
    const q = new EventQueue<string>();
    q.schedule(10, "x");
    q.pop();
    q.schedule(3, "late");
    expect(q.peekTimeMs()).toBe(10);
  });
});

describe("SimNetwork", () => {
  it("quorum connections are FIFO even when a later packet draws a shorter delay", () => {
    const net = new SimNetwork(seededRandom(1), { ...calmNetwork, delayMsMin: 0, delayMsMax: 50 });
    net.connect(2, 1);
    const arrivals: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = net.streamSend(2, 1, i);
      if (s.ok) arrivals.push(s.atMs);
    }
    expect(arrivals).toHaveLength(50);
    expect([...arrivals].sort((a, b) => a - b)).toEqual(arrivals);
  });

  it("a packet that meets a partition breaks its connection: it and later ones are lost until a new connection", () => {
    const net = new SimNetwork(seededRandom(1), calmNetwork);
    net.connect(2, 1);
    const first = net.streamSend(2, 1, 0);
    expect(first.ok).toBe(true);
    net.partition([[1], [2]]);
    expect(net.streamSend(2, 1, 1)).toEqual({ ok: false, why: "partitioned: connection broken" });
    net.heal();
    expect(net.streamSend(2, 1, 2)).toEqual({ ok: false, why: "no connection" });
    // The packet sent before the break does not arrive either: its connection is gone.
    expect(first.ok && net.streamArrives(2, 1, first.gen)).toBe(false);
    net.connect(2, 1);
    expect(net.streamSend(2, 1, 3).ok).toBe(true);
  });

  it("one-way blocks cut one direction only", () => {
    const net = new SimNetwork(seededRandom(1), calmNetwork);
    net.block(1, 2);
    expect(net.canReach(1, 2)).toBe(false);
    expect(net.canReach(2, 1)).toBe(true);
    expect(net.datagram(1, 2, 0)).toEqual([]);
    expect(net.datagram(2, 1, 0)).toHaveLength(1);
  });

  it("notifications may be lost, duplicated or reordered, the same way for the same seed", () => {
    const faults = { ...calmNetwork, dropProbability: 0.2, duplicateProbability: 0.2, reorderProbability: 0.3, reorderDelayMsMax: 50 };
    const run = () => {
      const net = new SimNetwork(seededRandom(42), faults);
      return Array.from({ length: 200 }, (_, i) => net.datagram(1, 2, i));
    };
    const a = run();
    expect(run()).toEqual(a);
    expect(a.filter((t) => t.length === 0).length).toBeGreaterThan(10);
    expect(a.filter((t) => t.length === 2).length).toBeGreaterThan(10);
    const firsts = a.filter((t) => t.length > 0).map((t) => t[0]!);
    expect([...firsts].sort((x, y) => x - y)).not.toEqual(firsts);
  });
});

describe("SimDisk", () => {
  const append = (counter: number) => ({ kind: "append" as const, entry: { zxid: makeZxid(1, counter), txn: { id: counter } } });

  it("keeps what was synced; a crash keeps only a prefix of what was not", () => {
    for (let seed = 0; seed < 50; seed++) {
      const disk = new SimDisk<SimTypes>();
      disk.write({ kind: "acceptedEpoch", epoch: 1 });
      disk.write(append(1));
      disk.syncThrough(disk.lastWritten);
      for (let i = 2; i <= 6; i++) disk.write(append(i));
      const damage = disk.crash(seededRandom(seed), 0);
      const rec = disk.recover();
      expect(rec.state.acceptedEpoch).toBe(1);
      const counters = rec.state.log.map((e) => e.txn.id);
      expect(counters).toEqual(Array.from({ length: 1 + damage.kept }, (_, i) => i + 1));
    }
  });

  it("a torn last append is found at recovery and dropped", () => {
    let tornSeen = false;
    for (let seed = 0; seed < 50 && !tornSeen; seed++) {
      const disk = new SimDisk<SimTypes>();
      disk.write(append(1));
      disk.write(append(2));
      const damage = disk.crash(seededRandom(seed), 1);
      if (!damage.torn) continue;
      tornSeen = true;
      expect(disk.durable.log.at(-1)?.torn).toBe(true);
      const rec = disk.recover();
      expect(rec.tornDropped).toBe(1);
      expect(rec.state.log).toHaveLength(damage.kept);
      expect(disk.durablyHas(makeZxid(1, damage.kept + 1))).toBe(false);
    }
    expect(tornSeen).toBe(true);
  });

  it("truncate and snapshot rewrite the durable log", () => {
    const disk = new SimDisk<SimTypes>();
    for (let i = 1; i <= 4; i++) disk.write(append(i));
    disk.write({ kind: "truncate", zxid: makeZxid(1, 2) });
    disk.syncThrough(disk.lastWritten);
    expect(disk.recover().state.log.map((e) => e.txn.id)).toEqual([1, 2]);
    disk.write({ kind: "snapshot", zxid: makeZxid(1, 9), snapshot: { applied: [] } });
    disk.syncThrough(disk.lastWritten);
    const rec = disk.recover();
    expect(rec.state.appliedZxid).toBe(makeZxid(1, 9));
    expect(rec.state.log).toEqual([]);
    expect(disk.durablyHas(makeZxid(1, 5))).toBe(true); // under the snapshot
  });
});

describe("Timeline", () => {
  it("renders messages, losses and notes as text and as an SVG sequence diagram", () => {
    const t = new Timeline([1, 2]);
    const a = t.newMessageId();
    t.add({ t: 0, kind: "send", id: a, from: 1, to: 2, channel: "zab", label: "PROPOSAL 0x100000001" });
    t.add({ t: 1.5, kind: "recv", id: a, from: 1, to: 2, channel: "zab", label: "PROPOSAL 0x100000001" });
    const b = t.newMessageId();
    t.add({ t: 2, kind: "send", id: b, from: 2, to: 1, channel: "zab", label: "ACK 0x100000001" });
    t.add({ t: 2, kind: "lost", id: b, from: 2, to: 1, channel: "zab", label: "ACK 0x100000001", why: "partitioned" });
    t.note(3, 1, "LOOKING — lost quorum");
    const text = t.toText();
    expect(text).toContain("s1 → s2  #1 PROPOSAL 0x100000001");
    expect(text).toContain("s2 ⇐ s1  #1 PROPOSAL 0x100000001");
    expect(text).toContain("s2 ✗ s1  #2 ACK 0x100000001  (partitioned)");
    const svg = t.toSvg();
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<line /g)!.length).toBeGreaterThanOrEqual(4); // 2 lifelines + 2 messages
    expect(svg).toContain("✗");
    expect(t.toHtml("run <1>")).toContain("run &lt;1&gt;");
  });
});
