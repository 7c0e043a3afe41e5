/**
 * QuorumTransport over loopback TCP: the election port (Apache QuorumCnxManager: notifications, one frame naming
 * the sender first) and the quorum port (Learner.connectToLeader / LearnerHandler: the leader learns a learner's
 * sid from its FOLLOWERINFO/OBSERVERINFO, a learner connecting again replaces its old connection).
 */
import { connect as connectTcp, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { decodeQuorumPacket, encodeQuorumPacket } from "../../src/ensemble/quorum-codec.ts";
import { QuorumTransport, type PeerAddress, type QuorumTransportEvents } from "../../src/ensemble/transport.ts";
import type { MemberTypes, Revalidation, SessionTouch } from "../../src/ensemble/types.ts";
import type { Notification, QuorumPacket } from "../../src/quorum/index.ts";
import { FrameDecoder } from "../../src/proto/frame.ts";

type Packet = QuorumPacket<MemberTypes>;

type Event =
  | { readonly kind: "notification"; readonly from: number; readonly n: Notification }
  | { readonly kind: "packet"; readonly from: number; readonly packet: Packet; readonly touches: readonly SessionTouch[] }
  | { readonly kind: "revalidation"; readonly from: number; readonly revalidation: Revalidation }
  | { readonly kind: "disconnected"; readonly sid: number };

const host = "127.0.0.1";
const waitLimitMs = 4_000;

/** Ports the kernel just handed out and we released (the usual race with other processes is acceptable in tests). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, host, () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function addresses(count: number): Promise<PeerAddress[]> {
  const ports = await freePorts(count * 2);
  return Array.from({ length: count }, (_, i) => ({ sid: i + 1, host, quorumPort: ports[2 * i]!, electionPort: ports[2 * i + 1]! }));
}

/** A transport whose events land in a list that tests can wait on. */
class Member {
  readonly events: Event[] = [];
  readonly transport: QuorumTransport;
  readonly warnings: string[] = [];
  /** Called on each event, after it is recorded (lets a test act inside the callback). */
  onEvent: (e: Event) => void = () => {};

  constructor(readonly sid: number, peers: PeerAddress[]) {
    const record = (e: Event) => {
      this.events.push(e);
      this.onEvent(e);
    };
    const events: QuorumTransportEvents = {
      notification: (from, n) => record({ kind: "notification", from, n }),
      packet: (from, packet, touches) => record({ kind: "packet", from, packet, touches }),
      revalidation: (from, revalidation) => record({ kind: "revalidation", from, revalidation }),
      disconnected: (sid) => record({ kind: "disconnected", sid }),
    };
    this.transport = new QuorumTransport({ myId: sid, peers, events, logger: { info: () => {}, warn: (m) => this.warnings.push(m) } });
    running.add(this.transport);
  }

  of<K extends Event["kind"]>(kind: K): Extract<Event, { kind: K }>[] {
    return this.events.filter((e): e is Extract<Event, { kind: K }> => e.kind === kind);
  }

  async until(what: string, done: () => boolean): Promise<void> {
    const deadline = Date.now() + waitLimitMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`server ${this.sid}: timed out waiting for ${what}; events: ${describeEvents(this.events)}`);
      await sleep(5);
    }
  }
}

function describeEvents(events: Event[]): string {
  const one = (e: Event): string => {
    switch (e.kind) {
      case "packet":
        return `packet ${e.packet.kind} from ${e.from}`;
      case "revalidation":
        return `REVALIDATE ${e.revalidation.kind} from ${e.from}`;
      case "notification":
        return `notification from ${e.from}`;
      case "disconnected":
        return `disconnected ${e.sid}`;
    }
  };
  return events.map(one).join(", ");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const running = new Set<QuorumTransport>();

afterEach(async () => {
  await Promise.all([...running].map((t) => t.stop()));
  running.clear();
});

async function ensemble(count: number): Promise<{ peers: PeerAddress[]; members: Member[] }> {
  const peers = await addresses(count);
  const members = peers.map((p) => new Member(p.sid, peers));
  await Promise.all(members.map((m) => m.transport.start()));
  return { peers, members };
}

const vote = (leader: number, electionEpoch: number): Notification => ({ state: "LOOKING", leader, zxid: 0x100000005n, electionEpoch, peerEpoch: 1 });

/** A raw learner connection speaking the wire directly, to control exactly when it connects. */
async function rawLearner(peer: PeerAddress): Promise<{ socket: Socket; received: Packet[] }> {
  const socket = connectTcp({ host, port: peer.quorumPort });
  await new Promise((resolve) => socket.once("connect", resolve));
  const received: Packet[] = [];
  const decoder = new FrameDecoder(1 << 20);
  socket.on("data", (chunk: Buffer) => {
    for (const e of decoder.push(chunk)) if (e.kind === "frame") received.push(decodeQuorumPacket(e.body).packet);
  });
  return { socket, received };
}

function frame(packet: Packet, learnerSid: number): Buffer {
  const body = encodeQuorumPacket(packet, { learnerSid });
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;

/**
 * The number of TCP handles once closing ones are gone: Node emits a server's or socket's "close" before libuv
 * runs the handle's close callback, so a handle stays listed for a turn or two of the event loop.
 */
async function settledTcpHandles(): Promise<number> {
  let previous = -1;
  for (let turn = 0; turn < 20; turn++) {
    const now = tcpHandles();
    if (now === previous) return now;
    previous = now;
    await sleep(5);
  }
  return tcpHandles();
}

// ------------------------------------------------------------------ election port

describe("election port", () => {
  it("delivers notifications between three transports, naming the sender", async () => {
    const { members } = await ensemble(3);
    for (const m of members) {
      for (const other of members) if (other !== m) m.transport.notify(other.sid, vote(m.sid, 1));
    }
    for (const m of members) {
      await m.until("two notifications", () => m.of("notification").length === 2);
      const got = m.of("notification").map((e) => [e.from, e.n] as const).sort((a, b) => a[0] - b[0]);
      expect(got).toEqual(members.filter((o) => o !== m).map((o) => [o.sid, vote(o.sid, 1)]));
    }
  });

  it("keeps a peer's notifications in the order they were sent", async () => {
    const { members } = await ensemble(2);
    const [a, b] = members as [Member, Member];
    for (let round = 1; round <= 50; round++) a.transport.notify(2, vote(1, round));
    await b.until("50 notifications", () => b.of("notification").length === 50);
    expect(b.of("notification").map((e) => e.n.electionEpoch)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("reconnects after a peer's transport is stopped and restarted on the same ports", async () => {
    const { peers, members } = await ensemble(2);
    const [a, b] = members as [Member, Member];
    a.transport.notify(2, vote(1, 1));
    await b.until("the first notification", () => b.of("notification").length === 1);

    await b.transport.stop();
    a.transport.notify(2, vote(1, 2)); // lost: nobody listens (best effort, no error)
    const b2 = new Member(2, peers);
    await b2.transport.start();

    // The core re-sends its vote until answered; the transport reconnects on a later notify.
    let round = 3;
    while (b2.of("notification").length === 0) {
      a.transport.notify(2, vote(1, round++));
      await sleep(20);
      if (round > 200) throw new Error("no notification reached the restarted peer");
    }
    expect(b2.of("notification")[0]!.from).toBe(1);
    // And the other direction, to the transport that never stopped.
    b2.transport.notify(1, vote(2, 9));
    await a.until("a notification from the restarted peer", () => a.of("notification").some((e) => e.n.electionEpoch === 9));
  });

  it("drops notifications to a peer that is down, without an error or an event", async () => {
    const peers = await addresses(2);
    const a = new Member(1, peers);
    await a.transport.start();
    a.transport.notify(2, vote(1, 1));
    a.transport.notify(1, vote(1, 1)); // to ourselves: the core counts its own vote
    a.transport.notify(7, vote(1, 1)); // unknown server
    await sleep(50);
    expect(a.events).toEqual([]);
  });
});

// ------------------------------------------------------------------ quorum port

describe("quorum port", () => {
  it("carries packets both ways in FIFO order; the leader learns the learner's sid from FOLLOWERINFO", async () => {
    const { members } = await ensemble(2);
    const [leader, learner] = members as [Member, Member];
    learner.transport.connect(1);
    // Sent before the connection is up: queued, not dropped.
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 3 });
    learner.transport.send(1, { kind: "ACKEPOCH", currentEpoch: -1, lastZxid: 0x300000002n });
    for (let i = 1; i <= 200; i++) learner.transport.send(1, { kind: "ACK", zxid: BigInt(i) });
    const touches = [{ sessionId: 0x100000001n, timeoutMs: 30000 }];
    learner.transport.send(1, { kind: "PING" }, touches);

    await leader.until("203 packets", () => leader.of("packet").length === 203);
    const got = leader.of("packet");
    expect(got.every((e) => e.from === 2)).toBe(true);
    expect(got[0]!.packet).toEqual({ kind: "FOLLOWERINFO", acceptedEpoch: 3 });
    expect(got[1]!.packet).toEqual({ kind: "ACKEPOCH", currentEpoch: -1, lastZxid: 0x300000002n });
    expect(got.slice(2, 202).map((e) => (e.packet as { zxid: bigint }).zxid)).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
    expect(got[202]).toMatchObject({ packet: { kind: "PING" }, touches });

    // Leader → learner, by sid, including a SNAP of a few MiB (split over many TCP reads).
    const snapshot = Buffer.alloc(4 * 1024 * 1024, 7);
    leader.transport.send(2, { kind: "LEADERINFO", newEpoch: 4 });
    leader.transport.send(2, { kind: "SNAP", zxid: 0x300000002n, snapshot });
    for (let i = 1; i <= 100; i++) leader.transport.send(2, { kind: "COMMIT", zxid: BigInt(i) });
    leader.transport.send(2, { kind: "UPTODATE" });
    await learner.until("103 packets", () => learner.of("packet").length === 103);
    const back = learner.of("packet").map((e) => e.packet);
    expect(learner.of("packet").every((e) => e.from === 1)).toBe(true);
    expect(back[0]).toEqual({ kind: "LEADERINFO", newEpoch: 4 });
    // (Buffer.equals: vitest's deep equality walks a 4 MiB buffer byte by byte, for many seconds.)
    const snap = back[1]!;
    expect(snap.kind === "SNAP" && snap.zxid === 0x300000002n && snap.snapshot.equals(snapshot)).toBe(true);
    expect(back.slice(2, 102).map((p) => (p as { zxid: bigint }).zxid)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
    expect(back[102]).toEqual({ kind: "UPTODATE" });
    expect(leader.of("disconnected")).toEqual([]);
    expect(learner.of("disconnected")).toEqual([]);
  });

  it("carries REVALIDATE beside the Zab packets: a learner's question, the leader's answer, each in order with the rest", async () => {
    const { members } = await ensemble(2);
    const [leader, learner] = members as [Member, Member];
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    learner.transport.sendRevalidation(1, { kind: "ask", sessionId: 0x200000000000007n, timeoutMs: 12_000 });
    learner.transport.send(1, { kind: "ACK", zxid: 5n });
    await leader.until("a question between two packets", () => leader.events.length === 3);
    expect(leader.events.map((e) => e.kind)).toEqual(["packet", "revalidation", "packet"]);
    expect(leader.of("revalidation")).toEqual([{ kind: "revalidation", from: 2, revalidation: { kind: "ask", sessionId: 0x200000000000007n, timeoutMs: 12_000 } }]);

    leader.transport.sendRevalidation(2, { kind: "answer", sessionId: 0x200000000000007n, valid: true });
    leader.transport.sendRevalidation(2, { kind: "answer", sessionId: 0x200000000000008n, valid: false });
    await learner.until("two answers", () => learner.of("revalidation").length === 2);
    expect(learner.of("revalidation").map((e) => e.revalidation)).toEqual([
      { kind: "answer", sessionId: 0x200000000000007n, valid: true },
      { kind: "answer", sessionId: 0x200000000000008n, valid: false },
    ]);
  });

  it("an observer is named by its OBSERVERINFO; a leader serves several learners by sid", async () => {
    const { members } = await ensemble(3);
    const [leader, follower, observer] = members as [Member, Member, Member];
    follower.transport.connect(1);
    follower.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    observer.transport.connect(1);
    observer.transport.send(1, { kind: "OBSERVERINFO", acceptedEpoch: 1 });
    await leader.until("both learners", () => leader.of("packet").length === 2);
    expect(new Map(leader.of("packet").map((e) => [e.from, e.packet.kind]))).toEqual(new Map([[2, "FOLLOWERINFO"], [3, "OBSERVERINFO"]]));
    leader.transport.send(2, { kind: "COMMIT", zxid: 5n });
    leader.transport.send(3, { kind: "PING" });
    await follower.until("COMMIT", () => follower.of("packet").length === 1);
    await observer.until("PING", () => observer.of("packet").length === 1);
    expect(follower.of("packet")[0]!.packet).toEqual({ kind: "COMMIT", zxid: 5n });
    expect(observer.of("packet")[0]!.packet).toEqual({ kind: "PING" });
  });

  it("a learner that connects again replaces its old connection: disconnected(sid) comes before the new connection's first packet", async () => {
    const { peers, members } = await ensemble(2);
    const [leader, learner] = members as [Member, Member];
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    await leader.until("the first FOLLOWERINFO", () => leader.of("packet").length === 1);

    // Server 2 again, on a second connection, while the first is still open (e.g. after a restart whose old
    // socket the leader has not noticed yet).
    const again = await rawLearner(peers[0]!);
    again.socket.write(frame({ kind: "FOLLOWERINFO", acceptedEpoch: 2 }, 2));
    await leader.until("the second FOLLOWERINFO", () => leader.of("packet").length === 2);
    expect(leader.events.slice(1)).toEqual([
      { kind: "disconnected", sid: 2 },
      { kind: "packet", from: 2, packet: { kind: "FOLLOWERINFO", acceptedEpoch: 2 }, touches: [] },
    ]);

    // Sends to server 2 go to the new connection; the old one is closed, and its owner hears about it.
    leader.transport.send(2, { kind: "LEADERINFO", newEpoch: 3 });
    await learner.until("its connection dropped", () => learner.of("disconnected").length === 1);
    expect(learner.of("disconnected")).toEqual([{ kind: "disconnected", sid: 1 }]);
    const deadline = Date.now() + waitLimitMs;
    while (again.received.length === 0 && Date.now() < deadline) await sleep(5);
    expect(again.received).toEqual([{ kind: "LEADERINFO", newEpoch: 3 }]);
    expect(learner.of("packet")).toEqual([]);
    // No second disconnected for the replaced connection when its socket finally closes.
    await sleep(30);
    expect(leader.of("disconnected")).toHaveLength(1);
    again.socket.destroy();
    await leader.until("the new connection dropped", () => leader.of("disconnected").length === 2);
  });

  it("refuses a quorum connection whose first packet is not FOLLOWERINFO/OBSERVERINFO, or names no peer", async () => {
    const { peers, members } = await ensemble(2);
    const leader = members[0]!;
    for (const bytes of [frame({ kind: "ACK", zxid: 1n }, 2), frame({ kind: "FOLLOWERINFO", acceptedEpoch: 1 }, 9)]) {
      const raw = await rawLearner(peers[0]!);
      const closed = new Promise((resolve) => raw.socket.once("close", resolve));
      raw.socket.write(bytes);
      await closed;
    }
    expect(leader.events).toEqual([]);
  });

  it("drops sends with no connection, and close() ends a connection without a disconnected event", async () => {
    const { members } = await ensemble(3);
    const [leader, learner] = members as [Member, Member];
    leader.transport.send(3, { kind: "PING" }); // nobody connected
    learner.transport.send(1, { kind: "ACK", zxid: 1n }); // not connected yet

    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    await leader.until("FOLLOWERINFO", () => leader.of("packet").length === 1);
    leader.transport.close(2);
    leader.transport.send(2, { kind: "PING" }); // dropped: we closed it
    await learner.until("the leader's close", () => learner.of("disconnected").length === 1);
    learner.transport.send(1, { kind: "ACK", zxid: 2n }); // dropped: the connection is gone
    await sleep(30);
    expect(leader.of("packet")).toHaveLength(1);
    expect(leader.of("disconnected")).toEqual([]);
    expect(learner.of("packet")).toEqual([]);

    // A learner's own close() (it stops following) is silent on its side, seen as a drop on the leader's.
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    await leader.until("FOLLOWERINFO again", () => leader.of("packet").length === 2);
    learner.transport.close(1);
    await leader.until("the learner's close", () => leader.of("disconnected").length === 1);
    expect(learner.of("disconnected")).toHaveLength(1);
  });

  it("a connect to a server that does not listen ends in disconnected(leader)", async () => {
    const peers = await addresses(2);
    const learner = new Member(2, peers);
    await learner.transport.start();
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    await learner.until("disconnected", () => learner.of("disconnected").length === 1);
    expect(learner.events).toEqual([{ kind: "disconnected", sid: 1 }]);
  });

  it("connect() to a new leader closes the connection to the old one, silently on our side", async () => {
    const { members } = await ensemble(3);
    const [one, two, learner] = members as [Member, Member, Member];
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    await one.until("FOLLOWERINFO", () => one.of("packet").length === 1);
    learner.transport.connect(2);
    learner.transport.send(2, { kind: "FOLLOWERINFO", acceptedEpoch: 2 });
    await two.until("FOLLOWERINFO", () => two.of("packet").length === 1);
    await one.until("the old connection dropped", () => one.of("disconnected").length === 1);
    learner.transport.send(1, { kind: "ACK", zxid: 1n }); // no connection to 1 any more
    await sleep(30);
    expect(one.of("packet")).toHaveLength(1);
    expect(learner.events).toEqual([]);
  });

  it("a leader stopped and restarted on the same ports: the learner hears disconnected, then connects again", async () => {
    const { peers, members } = await ensemble(2);
    const [leader, learner] = members as [Member, Member];
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    await leader.until("FOLLOWERINFO", () => leader.of("packet").length === 1);
    await leader.transport.stop();
    await learner.until("disconnected", () => learner.of("disconnected").length === 1);

    const leader2 = new Member(1, peers);
    await leader2.transport.start();
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 2 });
    await leader2.until("FOLLOWERINFO", () => leader2.of("packet").length === 1);
    leader2.transport.send(2, { kind: "LEADERINFO", newEpoch: 3 });
    await learner.until("LEADERINFO", () => learner.of("packet").length === 1);
  });
});

// ------------------------------------------------------------------ stop

describe("stop()", () => {
  it("delivers no event after stop and leaves no TCP handle behind", async () => {
    const before = await settledTcpHandles();
    const { members } = await ensemble(3);
    const [leader, learner, third] = members as [Member, Member, Member];
    learner.transport.connect(1);
    learner.transport.send(1, { kind: "FOLLOWERINFO", acceptedEpoch: 1 });
    learner.transport.notify(1, vote(2, 1));
    third.transport.notify(2, vote(3, 1));
    await leader.until("FOLLOWERINFO and a notification", () => leader.events.length === 2);
    expect(tcpHandles()).toBeGreaterThan(before);

    // An event handler that stops its own transport: the rest of the chunk is not delivered.
    leader.onEvent = () => void leader.transport.stop();
    for (let i = 1; i <= 50; i++) learner.transport.send(1, { kind: "ACK", zxid: BigInt(i) });
    await leader.until("one ACK", () => leader.events.length === 3);
    await sleep(30);
    expect(leader.events).toHaveLength(3);

    await Promise.all(members.map((m) => m.transport.stop()));
    const counts = members.map((m) => m.events.length);
    learner.transport.notify(3, vote(2, 2));
    learner.transport.connect(3);
    learner.transport.send(3, { kind: "PING" });
    await sleep(30);
    expect(members.map((m) => m.events.length)).toEqual(counts);
    expect(await settledTcpHandles()).toBe(before);
  });

  it("start() fails on a port in use and releases the other", async () => {
    const peers = await addresses(1);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(peers[0]!.quorumPort, host, () => resolve()));
    const before = await settledTcpHandles();
    const m = new Member(1, peers);
    await expect(m.transport.start()).rejects.toThrow(/EADDRINUSE/);
    expect(await settledTcpHandles()).toBe(before);
    await new Promise((resolve) => blocker.close(resolve));
  });
});
