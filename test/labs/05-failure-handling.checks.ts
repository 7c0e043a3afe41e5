// Lab 5 (book chapter 5 "Dealing with Failure"; notes §5 故障处理): the client's side of failures. Each check runs the
// learner's client core in the deterministic simulator (src/sim/client-harness.ts) against this project's server
// cores — disconnects, partitions, server restarts, a server that is behind, session expiry — and asserts what
// chapter 5 promises: a recoverable failure keeps the session, watches survive a disconnection and fire exactly
// once for what changed meanwhile, every call completes, the client never attaches to a server behind what it has
// seen, and expiry is final and reported. Every message carries the seed: `npm run lab 5 -- --seed N` replays it.
import assert from "node:assert/strict";
import net from "node:net";
import { createClient, type ZooKeeperClient } from "#src/client/index.ts";
import type { SocketFactory } from "#src/client/runtime.ts";
import { setWatchesPackets as referenceSetWatchesPackets, type WatchedPaths } from "#src/client/set-watches.ts";
import { bootstrap } from "#src/apps/master-worker/bootstrap.ts";
import { SetWatches, SetWatches2, JuteReader, opCodes, xids, type EventTypeName, type Stat } from "#src/proto/index.ts";
import {
  ClientHarness,
  describeOutcome,
  hex,
  ops,
  type CoreClass,
  type HeardEvent,
  type SimCall,
  type SimClient,
} from "#src/sim/client-harness.ts";
import type { Random } from "#src/sim/random.ts";
import { defineChecks, type CheckContext } from "#src/workbook/checks.ts";
import { clientFor, eventually, serverFor } from "./support.ts";

type CoreModule = typeof import("#src/client/core.ts");
type SetWatchesModule = typeof import("#src/client/set-watches.ts");
type SupervisorModule = typeof import("#src/apps/master-worker/supervisor.ts");

async function learnerCore(lab: CheckContext): Promise<CoreClass> {
  const { ClientCore } = await lab.load<CoreModule>("core.ts");
  return ClientCore;
}

const connected = (c: SimClient) => c.state.kind === "connected";
const outcomeOf = (call: SimCall) => describeOutcome(call.outcome);

function connectAll(h: ClientHarness, ...clients: SimClient[]): void {
  for (const c of clients) c.connect();
  h.runUntil(() => clients.every(connected), `${clients.map((c) => c.name).join(", ")} connect`);
}

/** The sessions every server granted this client, in order. */
const sessionsGranted = (c: SimClient) =>
  c.attempts.flatMap((a) => (a.connectResponse !== null && a.connectResponse.timeOut > 0 ? [a.connectResponse.sessionId] : []));

// ---------------------------------------------------------------------------------------------------------------
// 5.3 helpers: generated watch sets

function randomPaths(random: Random, max: number): string[] {
  const alphabet = ["a", "b", "z", "0", "-", "é", "中", "😀"];
  const paths: string[] = [];
  for (let n = random.int(0, max); n > 0; n--) {
    let name = "";
    for (let k = random.int(1, 12); k > 0; k--) name += random.pick(alphabet);
    paths.push(random.chance(0.3) ? `/${name}/${name}` : `/${name}`);
  }
  return paths;
}

function randomWatchedPaths(random: Random): WatchedPaths {
  const persistent = random.chance(0.5);
  return {
    data: randomPaths(random, 6),
    exist: randomPaths(random, 4),
    child: randomPaths(random, 6),
    persistent: persistent ? randomPaths(random, 3) : [],
    persistentRecursive: persistent && random.chance(0.5) ? randomPaths(random, 3) : [],
  };
}

function describePackets(packets: ReturnType<typeof referenceSetWatchesPackets>): string[] {
  return packets.map((p) => `${p.opCode === opCodes.setWatches ? "SetWatches" : p.opCode === opCodes.setWatches2 ? "SetWatches2" : `opcode ${p.opCode}`} ${p.body.toString("hex")}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Watches across an outage (5.3, 5.5)

interface WatchExpectation {
  readonly label: string;
  readonly path: string;
  /** The event a change made during the outage must fire, or null: it must stay silent (and armed). */
  readonly during: EventTypeName | null;
}

function assertHeard(h: ClientHarness, c: SimClient, expectations: readonly WatchExpectation[], since: number, when: string): void {
  for (const e of expectations) {
    const heard = c.eventsFor(e.label).filter((x) => x.atMs >= since);
    const what = heard.map((x) => `${x.type} ${x.path}`).join(", ") || "nothing";
    if (e.during === null) {
      assert.equal(heard.length, 0, `${when}: the watch ${e.label} on ${e.path} heard ${what}, but nothing it watches changed ${h.where()}`);
    } else {
      assert.equal(heard.length, 1, `${when}: the watch ${e.label} on ${e.path} must fire exactly once (${e.during}); it heard ${what} ${h.where()}`);
      assert.deepEqual([heard[0]!.type, heard[0]!.path], [e.during, e.path], `${when}: the watch ${e.label} heard the wrong event ${h.where()}`);
    }
  }
}

/**
 * Cuts `c` off while `during()` runs (keep it short: with n hosts an attempt that hangs in the partition is given
 * up only after sessionTimeout / n, and the session must outlive that) (the writer makes its changes then), then heals. "drop" also resets c's
 * connection, so that it notices at once; "restart" also crashes and restarts the server c was on, which forgets
 * every watch it held.
 */
function outage(h: ClientHarness, c: SimClient, writer: SimClient, kind: "partition" | "drop" | "restart", during: () => void): void {
  const server = c.currentAttempt?.server ?? 0;
  h.partition(c);
  if (kind === "drop") h.drop(c);
  if (kind === "restart") h.stop(server);
  h.run(h.random.int(50, 300));
  if (kind === "restart") h.start(server);
  h.runUntil(() => connected(writer), "the writer is connected", 10_000);
  during();
  h.heal(c);
  const attachedBefore = c.attempts.filter((a) => a.attached).length;
  h.runUntil(() => connected(c) && c.attempts.filter((a) => a.attached).length > attachedBefore, `${c.name} reconnects after the ${kind}`, 20_000);
  h.run(300);
}

// ---------------------------------------------------------------------------------------------------------------
// 5.4 helpers: a network between the supervisor's clients and the server that can be cut

class Link {
  refusing = false;
  private readonly sockets = new Set<net.Socket>();
  readonly factory: SocketFactory = (host, port) => {
    if (this.refusing) {
      const refused = new net.Socket();
      setImmediate(() => refused.destroy(new Error("connection refused (test network is down)")));
      return refused;
    }
    const socket = net.connect({ host, port });
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    return socket;
  };

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/** Like support's `eventually`, for a condition that needs a call to the server. */
async function eventuallyAsync(condition: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new assert.AssertionError({ message: `timed out after ${timeoutMs} ms waiting until ${what}` });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `${what}: not within ${ms} ms` })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------

export default defineChecks(5, {
  "5.1": async (lab) => {
    const Core = await learnerCore(lab);
    const h = new ClientHarness({ seed: lab.random.seed, servers: 1 });
    const server = h.server(0);

    // A new session: auth and calls made before connecting wait for the handshake, then go out, auth first.
    const c1 = h.client("c1", { core: Core, sessionTimeoutMs: 100_000 });
    const auth = c1.addAuth("digest", "alice:secret");
    const early = [c1.submit(ops.create("/a", "1")), c1.submit(ops.getData("/a")), c1.submit(ops.exists("/nothing"))];
    c1.connect();
    h.runUntil(() => connected(c1), "c1 connects: the ConnectResponse makes it connected", 5_000);
    const first = c1.attempts[0]!;
    const granted = first.connectResponse!;
    assert.deepEqual(
      c1.state,
      { kind: "connected", hostIndex: 0, session: c1.core.session },
      `the state after the handshake: connected, to host 0, with the session ${h.where()}`,
    );
    assert.deepEqual(
      c1.core.session,
      { sessionId: granted.sessionId, passwd: granted.passwd, negotiatedTimeoutMs: granted.timeOut },
      `the session is the one the server granted: its id, its password, and the timeout it chose (${granted.timeOut} ms, not the 100000 asked for) ${h.where()}`,
    );
    h.runUntil(() => [auth, ...early].every((call) => call.done), "the auth and the calls made before connecting complete", 5_000);
    assert.deepEqual(
      first.sent.slice(0, 4).map((s) => [s.xid, s.type]),
      [[xids.auth, opCodes.auth], [1, opCodes.create], [2, opCodes.getData], [3, opCodes.exists]],
      `after the ConnectResponse: the auth packet (xid -4), then the calls queued while connecting, in the order they were made ${h.where()}`,
    );
    assert.deepEqual([auth, ...early].map(outcomeOf), ["ok", "ok", "ok", "ok"], `the auth and the queued calls succeed ${h.where()}`);

    // The negotiated timeout is what counts: the client pings in time for it, so an idle session lives on.
    h.run(20_000);
    assert.equal(c1.state.kind, "connected", `after 20 s idle, c1 is still connected (it pings within the ${granted.timeOut} ms the server granted) ${h.where()}`);
    assert.ok(server.core.sessions.get(granted.sessionId) !== undefined, `after 20 s idle, the server still has c1's session ${h.where()}`);
    assert.equal(c1.attempts.length, 1, `an idle connection is not lost ${h.where()}`);

    // Resuming the session from another handle (id + password): the same session, its ephemeral still there.
    h.expectOk(c1, ops.create("/e", "", "ephemeral"));
    h.partition(c1);
    const c2 = h.client("c2", { core: Core, session: { sessionId: granted.sessionId, passwd: granted.passwd! }, sessionTimeoutMs: 1_000 });
    const auth2 = c2.addAuth("digest", "alice:secret");
    const queued2 = c2.submit(ops.exists("/e"));
    c2.connect();
    h.runUntil(() => connected(c2) && queued2.done, "c2 resumes c1's session", 5_000);
    assert.equal(c2.core.session?.sessionId, granted.sessionId, `c2 resumed session 0x${granted.sessionId.toString(16)} ${h.where()}`);
    assert.equal(c2.core.session?.negotiatedTimeoutMs, 1_000, `on resuming, the timeout is the one granted now (c2 asked for 1000 ms) ${h.where()}`);
    assert.deepEqual(c2.attempts[0]!.sent.slice(0, 2).map((s) => s.xid), [xids.auth, 1], `c2 re-sends its auth before its queued call ${h.where()}`);
    assert.equal(outcomeOf(auth2), "ok");
    const ephemeral = queued2.outcome?.ok ? (queued2.outcome.value as Stat | null) : null;
    assert.equal(ephemeral?.ephemeralOwner, granted.sessionId, `the resumed session still owns its ephemeral /e ${h.where()}`);

    // Expiry: c2 goes silent; the server ends the session. A handle that resumes it now learns that, for good.
    h.partition(c2);
    h.runUntil(() => server.core.sessions.get(granted.sessionId) === undefined, "the server expires the silent session", 10_000);
    const c3 = h.client("c3", { core: Core, session: { sessionId: granted.sessionId, passwd: granted.passwd! } });
    c3.core.watches.add("data", "/a", "w-a");
    c3.core.watches.add("exist", "/b", "w-b");
    const doomed = c3.submit(ops.getData("/a"));
    c3.connect();
    h.runUntil(() => c3.state.kind === "expired", "c3 is told its session expired (ConnectResponse with timeOut 0)", 5_000);
    assert.equal(outcomeOf(doomed), "sessionExpired", `a call waiting for the handshake fails with SESSIONEXPIRED ${h.where()}`);
    const told = c3.events.map((e: HeardEvent) => `${e.watcher} ${e.type} ${e.state}`).sort();
    assert.deepEqual(told, ["w-a none expired", "w-b none expired"], `every watcher hears, once, that the session expired ${h.where()}`);
    h.run(30_000); // (the harness fails at once if c3 opens another connection)
    assert.deepEqual(c3.states.map((s) => s.kind).filter((k) => k === "expired"), ["expired"], `expired is reported once ${h.where()}`);
    assert.equal(c3.attempts.length, 1, `an expired client does not reconnect: it is over ${h.where()}`);
    const late = c3.submit(ops.exists("/a"));
    assert.equal(outcomeOf(late), "sessionExpired", `a call on an expired client fails at once with SESSIONEXPIRED ${h.where()}`);

    // After a handshake that resumes a session with watches: auth, then SetWatches (xid -8), then queued calls.
    // (This part runs your set-watches.ts, exercise 5.3.)
    const c4 = h.client("c4", { core: Core });
    connectAll(h, c4);
    h.expectOk(c4, ops.create("/w", "0"));
    const c4Session = c4.core.session!;
    h.partition(c4);
    const c5 = h.client("c5", { core: Core, session: { sessionId: c4Session.sessionId, passwd: c4Session.passwd } });
    c5.core.watches.add("data", "/w", "w5");
    c5.addAuth("digest", "bob:secret");
    const queued5 = c5.submit(ops.setData("/w", "1"));
    c5.connect();
    h.runUntil(() => queued5.done, "c5's queued setData completes", 5_000);
    assert.deepEqual(
      c5.attempts[0]!.sent.slice(0, 3).map((s) => s.xid),
      [xids.auth, xids.setWatches, 1],
      `after the handshake: auth (-4), then the watches (SetWatches, -8), then the queued call ${h.where()}`,
    );
    assert.equal(outcomeOf(queued5), "ok");
    h.runUntil(() => c5.eventsFor("w5").length > 0, "c5's re-registered watch on /w fires (/w changed after the zxid c5 has seen)", 2_000);
  },

  "5.2": async (lab) => {
    const Core = await learnerCore(lab);
    const seed = lab.random.seed;

    // (a) A lost connection fails what is in flight at once, with CONNECTIONLOSS; the session stays.
    {
      const h = new ClientHarness({ seed, servers: 2 });
      const c = h.client("c1", { core: Core, hosts: [0, 1] });
      connectAll(h, c);
      const session = c.core.session!.sessionId;
      h.partition(c);
      const inFlight = [c.submit(ops.create("/x", "")), c.submit(ops.getData("/")), c.submit(ops.sync("/"))];
      h.run(20);
      const lostAt = h.nowMs;
      h.drop(c);
      h.run(0);
      assert.deepEqual(inFlight.map(outcomeOf), ["connectionLoss", "connectionLoss", "connectionLoss"], `calls in flight when the connection is lost fail with CONNECTIONLOSS ${h.where()}`);
      for (const call of inFlight) assert.equal(call.completedAtMs, lostAt, `…at once, when the loss is noticed (not later) ${h.where()}`);
      assert.equal(c.state.kind, "connecting", `after a lost connection the client is connecting again, not ${c.state.kind} ${h.where()}`);
      assert.equal(c.core.session?.sessionId, session, `the session is kept for the next server ${h.where()}`);
      const waiting = c.submit(ops.exists("/"));
      h.runUntil(() => waiting.done, "a call made while reconnecting completes (it fails when the attempt fails)", 10_000);
      assert.equal(outcomeOf(waiting), "connectionLoss", `the attempt hangs (partition): the queued call fails when the attempt is given up (after connectTimeout = session timeout / hosts) ${h.where()}`);
      h.heal(c);
      h.runUntil(() => connected(c), "c1 reconnects after the partition heals", 10_000);
      assert.deepEqual(new Set(sessionsGranted(c)), new Set([session]), `one session throughout ${h.where()}`);
      // Closing, and the connection is lost before the server answers the closeSession: closed, not reconnecting.
      h.partition(c);
      c.close();
      h.run(10);
      h.drop(c);
      h.run(10_000); // (the harness fails at once if c1 opens another connection)
      assert.equal(c.state.kind, "closed", `a connection lost while closing ends the close: closed, no reconnecting ${h.where()}`);
    }

    // (b) Hosts in turn: a server behind (frozen), one down, and the primary restarting. The client moves to the
    // next host each time, waits a random delay, and an extra hostCycleDelayMs after every full cycle of failures.
    {
      const h = new ClientHarness({ seed, servers: 3 });
      const c = h.client("c1", { core: Core, hosts: [0, 1, 2], reconnectDelayMsMax: 100, hostCycleDelayMs: 200 });
      connectAll(h, c);
      h.freeze(1);
      h.expectOk(c, ops.create("/e", "", "ephemeral"));
      const session = c.core.session!.sessionId;
      h.stop(2);
      h.run(50);
      const outstanding = [c.submit(ops.setData("/e", "1")), c.submit(ops.getChildren("/"))];
      h.stop(0);
      h.run(2_000);
      h.start(0);
      h.runUntil(() => connected(c), "c1 gets back to s0 once it restarts", 10_000);
      assert.deepEqual(outstanding.map(outcomeOf), ["connectionLoss", "connectionLoss"], `calls outstanding when s0 crashed fail with CONNECTIONLOSS ${h.where()}`);
      const attempts = c.attempts;
      let failedInRow = 0;
      let cycles = 0;
      const jitter: number[] = [];
      for (let i = 1; i < attempts.length; i++) {
        const previous = attempts[i - 1]!;
        const next = attempts[i]!;
        if (previous.attached) failedInRow = 0;
        else failedInRow++;
        assert.equal(next.hostIndex, (previous.hostIndex + 1) % 3, `attempt ${i + 1} goes to the host after the last one tried (host ${previous.hostIndex}) ${h.where()}`);
        const delay = next.openedAtMs - previous.closedAtMs!;
        if (failedInRow > 0 && failedInRow % 3 === 0) {
          cycles++;
          assert.ok(delay >= 200 && delay < 300, `after ${failedInRow} failed attempts in a row (every host tried), attempt ${i + 1} waits hostCycleDelayMs (200) + a random delay < 100: it waited ${delay} ms ${h.where()}`);
        } else {
          jitter.push(delay);
          assert.ok(delay >= 0 && delay < 100, `attempt ${i + 1} waits a random delay below reconnectDelayMsMax (100 ms), and no more: it waited ${delay} ms ${h.where()}`);
        }
      }
      assert.ok(cycles >= 2, `s0 was down 2 s: the client should have cycled through the hosts at least twice (cycles: ${cycles}) ${h.where()}`);
      assert.ok(new Set(jitter).size >= 2, `the delays before reconnecting are random (seeded by config.random), not all ${jitter[0]} ms ${h.where()}`);
      const onLaggard = attempts.filter((a) => a.server === 1);
      assert.ok(onLaggard.length >= 2 && onLaggard.every((a) => !a.attached && a.connectResponse === null), `s1 is behind: it closes every handshake unanswered, and c1 never attaches to it ${h.where()}`);
      assert.deepEqual(new Set(sessionsGranted(c)), new Set([session]), `one session throughout ${h.where()}`);
      const owner = h.expectOk(c, ops.exists("/e")).outcome;
      assert.equal(owner?.ok && (owner.value as Stat | null)?.ephemeralOwner, session, `the ephemeral /e survived the restart with its session ${h.where()}`);
    }

    // (c) A seeded schedule of recoverable faults under a steady load, on three servers (the third one behind).
    const runSchedule = () => {
      const h = new ClientHarness({ seed, servers: 3 });
      const c = h.client("c1", { core: Core, hosts: [0, 1, 2] });
      const checker = h.client("checker", { hosts: [0, 1] });
      connectAll(h, c, checker);
      h.expectOk(c, ops.create("/counter", "0"));
      h.expectOk(c, ops.create("/jobs", ""));
      h.expectOk(c, ops.create("/e", "", "ephemeral"));
      h.freeze(2);
      h.expectOk(c, ops.setData("/counter", "1"));
      const session = c.core.session!.sessionId;
      const calls: SimCall[] = [];
      const faults: string[] = [];
      let nextFaultAt = h.nowMs + h.random.int(1_000, 2_000);
      const end = h.nowMs + 30_000;
      while (h.nowMs < end) {
        const roll = h.random.int(0, 5);
        const request = [
          ops.setData("/counter", String(h.nowMs)),
          ops.create("/jobs/job-", "", "persistentSequential"),
          ops.getData("/counter"),
          ops.exists("/e"),
          ops.getChildren("/jobs"),
          ops.sync("/"),
        ][roll]!;
        calls.push(c.submit(request));
        if (h.nowMs >= nextFaultAt) {
          const kind = h.random.pick(["drop", "partition", "restart s0", "restart s1"] as const);
          faults.push(`${h.nowMs} ${kind}`);
          if (kind === "drop") h.drop(c);
          else if (kind === "partition") {
            h.partition(c);
            h.run(h.random.int(100, 900));
            h.heal(c);
          } else {
            const index = kind === "restart s0" ? 0 : 1;
            h.stop(index);
            h.run(h.random.int(100, 1_500));
            h.start(index);
          }
          nextFaultAt = h.nowMs + h.random.int(2_500, 4_000);
        }
        h.run(h.random.int(40, 150));
      }
      h.runUntil(() => connected(c) && c.pendingCalls.length === 0, "after the last fault, c1 reconnects and every call completes", 20_000);
      return { h, c, checker, calls, faults, session, trace: [...h.trace] };
    };
    const { h, c, checker, calls, faults, session, trace } = runSchedule();
    const where = `${h.where()}; faults: ${faults.join(", ")}`;
    const unexpected = calls.filter((call) => !["ok", "connectionLoss"].includes(outcomeOf(call)));
    assert.deepEqual(unexpected.map((call) => `#${call.id} ${outcomeOf(call)}`), [], `every call succeeds or fails with CONNECTIONLOSS, nothing else ${where}`);
    const lostWhileConnected = calls.filter((call) => outcomeOf(call) === "connectionLoss" && call.completedIn !== "connecting");
    assert.deepEqual(lostWhileConnected.map((call) => `#${call.id} in ${call.completedIn}`), [], `CONNECTIONLOSS only when a connection is lost (the client is then connecting) ${where}`);
    assert.ok(calls.filter((call) => outcomeOf(call) === "ok").length > calls.length / 2, `most calls succeed between the faults ${where}`);
    assert.ok(!c.states.some((s) => s.kind === "expired"), `recoverable faults never expire the session ${where}`);
    assert.deepEqual(new Set(sessionsGranted(c)), new Set([session]), `one session through every fault ${where}`);
    const e = h.expectOk(checker, ops.exists("/e")).outcome;
    assert.equal(e?.ok && (e.value as Stat | null)?.ephemeralOwner, session, `c1's ephemeral /e is still there, still its own ${where}`);
    const again = runSchedule().trace;
    const differsAt = again.findIndex((line, i) => line !== trace[i]);
    if (differsAt >= 0) {
      assert.deepEqual(
        again.slice(Math.max(0, differsAt - 3), differsAt + 2),
        trace.slice(Math.max(0, differsAt - 3), differsAt + 2),
        `the same seed gives the same run, event for event: the second run differs at event ${differsAt + 1} (does the core use randomness other than config.random, or a clock?) ${where}`,
      );
    }
    assert.equal(again.length, trace.length, `the same seed gives the same run: as many events ${where}`);

    // (d) An outage longer than the session timeout: the server expires the session; the client cannot know until
    // it reaches a server again, then it is told, and that is final.
    {
      const h = new ClientHarness({ seed, servers: 2 });
      const c = h.client("c1", { core: Core, hosts: [0, 1] });
      const checker = h.client("checker", { hosts: [0] });
      connectAll(h, c, checker);
      h.expectOk(c, ops.create("/e", "", "ephemeral"));
      h.partition(c);
      const during = c.submit(ops.getData("/e"));
      h.runUntil(() => h.server(0).core.sessions.size === 1, "the server expires c1's session", 10_000);
      const gone = h.expectOk(checker, ops.exists("/e")).outcome;
      assert.equal(gone?.ok && gone.value, null, `c1's ephemeral went with its session ${h.where()}`);
      h.run(5_000);
      assert.equal(c.state.kind, "connecting", `cut off, c1 cannot know its session expired: it keeps trying (state connecting, not ${c.state.kind}) ${h.where()}`);
      assert.equal(outcomeOf(during), "connectionLoss", `its call in flight failed with CONNECTIONLOSS when the connection was given up ${h.where()}`);
      h.heal(c);
      h.runUntil(() => c.state.kind === "expired", "once it reaches a server, c1 is told its session expired", 10_000);
      h.run(20_000);
      assert.deepEqual(c.states.filter((s) => s.kind === "expired").length, 1, `expiry is reported once ${h.where()}`);
      assert.equal(outcomeOf(c.submit(ops.exists("/"))), "sessionExpired", `afterwards every call fails at once with SESSIONEXPIRED ${h.where()}`);
    }
  },

  "5.3": async (lab) => {
    const { setWatchesPackets } = await lab.load<SetWatchesModule>("set-watches.ts");
    const none: WatchedPaths = { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
    assert.deepEqual(setWatchesPackets(none, 5n), [], "no watches: no packets");
    const basic = setWatchesPackets({ ...none, data: ["/a"], exist: ["/b"], child: ["/c", "/d"] }, 0x15n);
    assert.deepEqual(basic.map((p) => p.opCode), [opCodes.setWatches], "data, exist and child watches: one SetWatches (opcode 101)");
    assert.deepEqual(
      SetWatches.read(new JuteReader(basic[0]!.body)),
      { relativeZxid: 0x15n, dataWatches: ["/a"], existWatches: ["/b"], childWatches: ["/c", "/d"] },
      "the SetWatches record: relativeZxid, then the three lists",
    );
    const persistent = setWatchesPackets({ ...none, data: ["/a"], persistentRecursive: ["/p"] }, 7n);
    assert.deepEqual(persistent.map((p) => p.opCode), [opCodes.setWatches2], "with a persistent watch: SetWatches2 (opcode 105)");
    assert.deepEqual(SetWatches2.read(new JuteReader(persistent[0]!.body)).persistentRecursiveWatches, ["/p"], "SetWatches2 carries the persistent ones");
    const split = setWatchesPackets({ ...none, data: ["/aaaa", "/bbbb", "/cccc"], persistent: ["/pppp"] }, 1n, 8);
    assert.deepEqual(
      split.map((p) => {
        if (p.opCode === opCodes.setWatches) return SetWatches.read(new JuteReader(p.body)).dataWatches;
        const r = SetWatches2.read(new JuteReader(p.body));
        return [...(r.dataWatches ?? []), ...(r.persistentWatches ?? [])];
      }),
      [["/aaaa", "/bbbb"], ["/cccc", "/pppp"]],
      "packetBytesMax 8: a batch takes paths while it holds fewer than 8 bytes (the one that crosses the limit included)",
    );
    assert.deepEqual(split.map((p) => p.opCode), [opCodes.setWatches, opCodes.setWatches2], "only the batch with a persistent watch is a SetWatches2");
    for (let i = 0; i < 400; i++) {
      const paths = randomWatchedPaths(lab.random);
      const zxid = BigInt(lab.random.int(0, 2 ** 31)) * BigInt(lab.random.int(1, 2 ** 31));
      const max = lab.random.chance(0.2) ? undefined : lab.random.int(1, 60);
      assert.deepEqual(
        describePackets(setWatchesPackets(paths, zxid, max)),
        describePackets(referenceSetWatchesPackets(paths, zxid, max)),
        `the packets for ${JSON.stringify(paths)}, relativeZxid ${hex(zxid)}, packetBytesMax ${max ?? "default"} (seed ${lab.random.seed})`,
      );
    }

    // In the simulator: watches set before a disconnection fire exactly once for what changed during it, and stay
    // armed (on whichever server the client comes back to) for what did not.
    const Core = await learnerCore(lab);
    const h = new ClientHarness({ seed: lab.random.seed, servers: 2 });
    const c = h.client("c1", { core: Core, hosts: [0, 1], setWatchesPacketBytesMax: 8 });
    const writer = h.client("writer", { hosts: [0] });
    connectAll(h, c, writer);
    const nodes = ["/n0", "/n1", "/n2", "/n3", "/n4", "/n5", "/n6", "/n7"];
    for (const n of nodes) h.expectOk(writer, ops.create(n, "v0"));
    h.expectOk(writer, ops.create("/p", ""));
    h.expectOk(c, ops.addWatch("/p", "persistent", "pers"));
    for (let round = 0; round < 6; round++) {
      const kind = (["partition", "drop", "restart"] as const)[round % 3]!;
      for (const n of nodes) {
        const stat = h.expectOk(writer, ops.exists(n)).outcome;
        if (stat?.ok && stat.value === null) h.expectOk(writer, ops.create(n, "v0"));
      }
      const watched: Array<{ label: string; path: string; kind: "data" | "child" }> = [];
      for (const n of nodes) {
        if (n === "/n0" || h.random.chance(0.7)) watched.push({ label: `r${round}-data${n}`, path: n, kind: "data" });
        if (n === "/n1" || h.random.chance(0.5)) watched.push({ label: `r${round}-child${n}`, path: n, kind: "child" });
      }
      for (const w of watched) h.expectOk(c, w.kind === "data" ? ops.getData(w.path, w.label) : ops.getChildren(w.path, w.label));
      const changes = new Map<string, "setData" | "child" | "delete">();
      for (const n of nodes) if (h.random.chance(0.5)) changes.set(n, h.random.pick(["setData", "child", "delete"] as const));
      const persBefore = c.eventsFor("pers").length;
      const since = h.nowMs;
      outage(h, c, writer, kind, () => {
        for (const [n, change] of changes) {
          if (change === "setData") h.expectOk(writer, ops.setData(n, `r${round}`));
          else if (change === "child") h.expectOk(writer, ops.create(`${n}/r${round}`, ""));
          else {
            const children = h.expectOk(writer, ops.getChildren(n)).outcome;
            for (const child of (children?.ok ? (children.value as { children: string[] }).children : [])) h.expectOk(writer, ops.delete(`${n}/${child}`));
            h.expectOk(writer, ops.delete(n));
          }
        }
        h.expectOk(writer, ops.setData("/p", `r${round}`));
      });
      const expectations: WatchExpectation[] = watched.map((w) => {
        const change = changes.get(w.path);
        const during: EventTypeName | null =
          change === "delete" ? "nodeDeleted" : change === "setData" && w.kind === "data" ? "nodeDataChanged" : change === "child" && w.kind === "child" ? "nodeChildrenChanged" : null;
        return { label: w.label, path: w.path, during };
      });
      const when = `round ${round + 1} (${kind}; changed while c1 was away: ${[...changes].map(([n, k]) => `${k} ${n}`).join(", ") || "nothing"})`;
      assertHeard(h, c, expectations, since, when);
      assert.equal(c.eventsFor("pers").length, persBefore, `${when}: a persistent watch is re-added without looking back (Apache 3.8): the change to /p made while away is not reported ${h.where()}`);
      // What did not fire is still armed, on the server c1 came back to: a change now fires it, once.
      const afterwards = h.nowMs;
      for (const e of expectations) {
        if (e.during !== null) continue;
        const w = watched.find((x) => x.label === e.label)!;
        if (w.kind === "data") h.expectOk(writer, ops.setData(w.path, `after ${round}`));
        else h.expectOk(writer, ops.create(`${w.path}/after-${round}-${e.label.length}-${h.nowMs}`, ""));
      }
      h.expectOk(writer, ops.setData("/p", `after ${round}`));
      h.run(200);
      assertHeard(
        h,
        c,
        expectations.filter((e) => e.during === null).map((e) => ({ ...e, during: watched.find((x) => x.label === e.label)!.kind === "data" ? "nodeDataChanged" : "nodeChildrenChanged" })),
        afterwards,
        `${when}, then changed after c1 came back`,
      );
      assert.equal(c.eventsFor("pers").length, persBefore + 1, `${when}: the persistent watch on /p is back: a change after the reconnect reaches it ${h.where()}`);
      const setWatches = c.attempts[c.attempts.length - 1]!.sent.filter((s) => s.xid === xids.setWatches);
      assert.ok(setWatches.length >= 2, `${when}: with setWatchesPacketBytesMax 8, the watches take several SetWatches packets (sent ${setWatches.length}) ${h.where()}`);
    }
  },

  "5.4": async (lab) => {
    const { WorkerSupervisor } = await lab.load<SupervisorModule>("supervisor.ts");
    const server = await serverFor(lab);
    const admin = await clientFor(lab, server.connectString);
    await bootstrap(admin);
    const link = new Link();
    const made: ZooKeeperClient[] = [];
    const supervisor = new WorkerSupervisor({
      name: "w1",
      execute: async (task) => `done ${task}`,
      connectTimeoutMs: 3_000,
      newClient: () => {
        const client = createClient(server.connectString, { sessionTimeoutMs: 1_000, reconnectDelayMsMax: 20, hostCycleDelayMs: 50, socketFactory: link.factory });
        made.push(client);
        lab.cleanup(() => client.close());
        return client;
      },
    });
    lab.cleanup(() => supervisor.stop());
    await within(supervisor.start(), 5_000, "supervisor.start() resolves once w1 is registered");
    assert.equal(made.length, 1, "start() makes one client");
    assert.equal(supervisor.sessions, 1, "…and counts one session");
    const first = made[0]!;
    const firstSession = first.session!.sessionId;
    assert.equal((await admin.exists("/workers/w1"))?.ephemeralOwner, firstSession, "w1 is registered with the first session");
    await admin.create("/assign/w1/t1", "one");
    await eventually(() => supervisor.completed.includes("t1"), "w1 executes t1");

    // A lost connection is recoverable: the client reconnects by itself, with the same session.
    const states: string[] = [];
    first.onStateChange((state) => states.push(state.kind));
    link.cut();
    await eventually(() => states.includes("connecting") && first.state.kind === "connected", "the client reconnects after its connection was cut");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(supervisor.sessions, 1, "a lost connection is not an expiry: the supervisor keeps the session (no new client)");
    assert.equal(made.length, 1, "…and makes no new client");
    assert.equal((await admin.exists("/workers/w1"))?.ephemeralOwner, firstSession, "w1 is still registered with its first session");
    await admin.create("/assign/w1/t2", "two");
    await eventually(() => supervisor.completed.includes("t2"), "w1 executes t2 after the reconnect");

    // Expiry: the network stays down past the session timeout. The server deletes /workers/w1; when the network
    // comes back the old client learns its session is gone, and the supervisor starts over with a new one.
    link.refusing = true;
    link.cut();
    await eventuallyAsync(async () => (await admin.exists("/workers/w1")) === null, "the server expires w1's session and deletes its ephemeral", 6_000);
    link.refusing = false;
    await eventually(() => first.state.kind === "expired", "the old client learns its session expired", 6_000);
    await eventually(() => supervisor.sessions === 2 && made.length >= 2 && made[made.length - 1]!.state.kind === "connected", "the supervisor starts a new session", 6_000);
    const second = made[made.length - 1]!;
    await eventuallyAsync(async () => (await admin.exists("/workers/w1"))?.ephemeralOwner === second.session?.sessionId, "w1 registers again, with the new session", 6_000);
    assert.notEqual(second.session?.sessionId, firstSession, "a new session, not the expired one");
    assert.equal(supervisor.currentClient, second, "the supervisor's client is the new one");
    await admin.create("/assign/w1/t3", "three");
    await eventually(() => supervisor.completed.includes("t3"), "the new session's worker watches /assign/w1 and executes t3", 6_000);
    assert.deepEqual([...supervisor.completed].sort(), ["t1", "t2", "t3"], "each task executed once");
  },

  "5.5": async (lab) => {
    const Core = await learnerCore(lab);
    const h = new ClientHarness({ seed: lab.random.seed, servers: 2 });
    const c = h.client("c1", { core: Core, hosts: [0, 1] });
    const writer = h.client("writer", { hosts: [0] });
    connectAll(h, c, writer);
    for (const path of ["/d", "/d2", "/d3"]) h.expectOk(writer, ops.create(path, "v0"));

    const missing = h.expectOk(c, ops.exists("/m", "wm")).outcome!;
    assert.deepEqual(missing, { ok: true, value: null }, `exists on a missing node answers null, successfully ${h.where()}`);
    const present = h.expectOk(c, ops.exists("/d", "wd")).outcome!;
    assert.ok(present.ok && (present.value as Stat | null)?.czxid !== undefined, `exists on a node answers its Stat ${h.where()}`);
    const bad = c.submit(ops.exists("/bad\u0000path", "wbad"));
    h.settle(bad);
    assert.equal(outcomeOf(bad), "badArguments", `an exists the server refuses fails with its error ${h.where()}`);
    const kinds = c.core.watches.entries().map((e) => `${e.kind} ${e.path} ${e.watcher}`).sort();
    assert.deepEqual(kinds, ["data /d wd", "exist /m wm"], `the client remembers an exist watch for /m (missing), a data watch for /d, none for the refused call ${h.where()}`);
    h.expectOk(writer, ops.create("/m", ""));
    h.expectOk(writer, ops.setData("/d", "v1"));
    h.run(100);
    assertHeard(h, c, [{ label: "wm", path: "/m", during: "nodeCreated" }, { label: "wd", path: "/d", during: "nodeDataChanged" }], 0, "connected");

    // Across a disconnection: SetWatches re-registers each watch as what it is. A node created *and deleted* while
    // the client was away leaves no trace (book chapter 5): that watch just stays armed.
    const expectations: WatchExpectation[] = [
      { label: "w-created", path: "/m2", during: "nodeCreated" },
      { label: "w-blink", path: "/m3", during: null },
      { label: "w-never", path: "/m4", during: null },
      { label: "w-deleted", path: "/d2", during: "nodeDeleted" },
      { label: "w-changed", path: "/d3", during: "nodeDataChanged" },
    ];
    for (const e of expectations) h.expectOk(c, ops.exists(e.path, e.label));
    const since = h.nowMs;
    outage(h, c, writer, "drop", () => {
      h.expectOk(writer, ops.create("/m2", ""));
      h.expectOk(writer, ops.create("/m3", ""));
      h.expectOk(writer, ops.delete("/m3"));
      h.expectOk(writer, ops.delete("/d2"));
      h.expectOk(writer, ops.setData("/d3", "v1"));
    });
    const never = c.eventsFor("w-never");
    assert.ok(
      !never.some((e) => e.type === "nodeDeleted"),
      `the new server reported /m4 deleted: an exists watch on a missing node must be re-registered as an exist watch, not a data watch ${h.where()}`,
    );
    assertHeard(h, c, expectations, since, "after the reconnect");
    const later = h.nowMs;
    h.expectOk(writer, ops.create("/m3", ""));
    h.expectOk(writer, ops.create("/m4", ""));
    h.run(100);
    assertHeard(
      h,
      c,
      [
        { label: "w-blink", path: "/m3", during: "nodeCreated" },
        { label: "w-never", path: "/m4", during: "nodeCreated" },
      ],
      later,
      "created after the reconnect (the exist watches stayed armed)",
    );
  },
});
