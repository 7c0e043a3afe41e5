// The connection/session state machine on its own: no sockets, a fake clock, a scripted server (fake-wire.ts).
// The rules come from Apache `ClientCnxn` (handshake, ping and read timeouts, reconnect, SetWatches) and the
// book's chapter 5 (CONNECTIONLOSS is recoverable, session expiry is not).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  GetChildrenResponse,
  GetDataResponse,
  PathResponse,
  PathWatchRequest,
  StatResponse,
  SetWatches,
  SetWatches2,
  opCodes,
} from "../../src/proto/index.ts";
import { Chroot } from "../../src/client/paths.ts";
import {
  Driver,
  connectResponse,
  decodeConnectRequest,
  decodeRequest,
  emptyStat,
  kinds,
  makeCore,
  notification,
  reply,
  type Output,
} from "./fake-wire.ts";

const completions = (outs: Output[]) =>
  outs.flatMap((o) => (o.kind === "requestCompleted" ? [{ id: o.requestId, outcome: o.outcome }] : []));

describe("handshake", () => {
  it("opens the first host, sends a ConnectRequest, and is connected on the ConnectResponse", () => {
    const d = new Driver(makeCore());
    expect(kinds(d.feed({ kind: "connectRequested", nowMs: 0 }))).toEqual(["openSocket", "state:connecting"]);
    const id = d.lastConnectionId;
    d.feed({ kind: "socketConnected", connectionId: id, nowMs: 5 });
    const [frame] = d.sentOn(id);
    expect(decodeConnectRequest(frame!)).toEqual({
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 9000,
      sessionId: 0n,
      passwd: Buffer.alloc(16),
      readOnly: false,
    });
    d.fresh();
    const outs = d.feed({ kind: "bytesReceived", connectionId: id, bytes: connectResponse({ timeOut: 6000 }), nowMs: 10 });
    expect(kinds(outs)).toEqual(["state:connected"]);
    expect(d.core.session).toEqual({ sessionId: 0x1234n, passwd: Buffer.alloc(16, 7), negotiatedTimeoutMs: 6000 });
    // Apache ClientCnxn: readTimeout = 2/3 of the negotiated timeout; connectTimeout = timeout / hosts.
    expect(d.core.readTimeoutMs).toBe(4000);
    expect(d.core.pingIntervalMs).toBe(2000);
    expect(d.core.connectTimeoutMs).toBe(2000);
  });

  it("a handshake that takes longer than connectTimeout moves on to the next host", () => {
    const d = new Driver(makeCore());
    d.feed({ kind: "connectRequested", nowMs: 0 });
    expect(d.lastStep!.wakeAtMs).toBe(3000); // 9000 ms asked / 3 hosts
    d.feed({ kind: "tick", nowMs: 2999 });
    expect(d.core.state).toMatchObject({ kind: "connecting", hostIndex: 0 });
    const outs = d.feed({ kind: "tick", nowMs: 3000 });
    expect(kinds(outs)).toEqual(["closeSocket"]);
    expect(d.core.state).toMatchObject({ kind: "connecting", hostIndex: 1, phase: "waiting" });
    const reopened = d.feed({ kind: "tick", nowMs: 3000 });
    expect(reopened).toEqual([{ kind: "openSocket", connectionId: 2, hostIndex: 1, host: { host: "b", port: 2 } }]);
  });

  it("after trying every host in a row, waits hostCycleDelayMs before starting over", () => {
    const d = new Driver(makeCore({ random: () => 0.5 }));
    d.feed({ kind: "connectRequested", nowMs: 0 });
    const delays: number[] = [];
    let now = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      d.feed({ kind: "socketClosed", connectionId: d.lastConnectionId, nowMs: now }); // connection refused
      const wake = d.lastStep!.wakeAtMs!;
      delays.push(wake - now);
      now = wake;
      d.feed({ kind: "tick", nowMs: now });
    }
    // random 0.5 × 1000 ms of jitter each time, plus 1000 ms after the third failure (3 hosts).
    expect(delays).toEqual([500, 500, 1500, 500]);
  });
});

describe("requests and replies", () => {
  it("sends a request with the next xid and completes it from the matching reply", () => {
    const d = new Driver(makeCore());
    const id = d.connectTo(0);
    d.fresh();
    d.feed({ kind: "requestSubmitted", requestId: 7, request: { op: "getData", path: "/a" }, nowMs: 1 });
    const sent = decodeRequest(d.sentOn(id).at(-1)!);
    expect(sent.xid).toBe(1);
    expect(sent.type).toBe(opCodes.getData);
    expect(PathWatchRequest.read(sent.reader)).toEqual({ path: "/a", watch: false });
    const outs = d.feed({
      kind: "bytesReceived",
      connectionId: id,
      bytes: reply(1, 0x42n, 0, GetDataResponse, { data: Buffer.from("x"), stat: emptyStat }),
      nowMs: 2,
    });
    expect(completions(outs)).toEqual([{ id: 7, outcome: { ok: true, value: { data: Buffer.from("x"), stat: emptyStat } } }]);
    expect(d.core.lastZxidSeen).toBe(0x42n);
  });

  it("an error reply completes the request with the code and path", () => {
    const d = new Driver(makeCore());
    const id = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "delete", path: "/a", version: -1 }, nowMs: 1 });
    const outs = d.feed({ kind: "bytesReceived", connectionId: id, bytes: reply(1, 5n, -101), nowMs: 2 });
    expect(completions(outs)).toEqual([{ id: 1, outcome: { ok: false, code: -101, path: "/a" } }]);
  });

  it("a reply out of xid order breaks the connection: everything outstanding fails with CONNECTIONLOSS", () => {
    const d = new Driver(makeCore());
    const id = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "sync", path: "/" }, nowMs: 1 });
    d.feed({ kind: "requestSubmitted", requestId: 2, request: { op: "sync", path: "/" }, nowMs: 1 });
    const outs = d.feed({ kind: "bytesReceived", connectionId: id, bytes: reply(2, 5n, 0), nowMs: 2 });
    expect(kinds(outs)).toEqual(["closeSocket", "requestCompleted", "requestCompleted", "state:connecting"]);
    expect(completions(outs).map((c) => c.outcome)).toEqual([
      { ok: false, code: -4, path: "/" },
      { ok: false, code: -4, path: "/" },
    ]);
  });

  it("a watch notification is reported before the reply that follows it in the same bytes", () => {
    const d = new Driver(makeCore());
    const id = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "getData", path: "/a", watcher: "w1" }, nowMs: 1 });
    d.feed({
      kind: "bytesReceived",
      connectionId: id,
      bytes: reply(1, 5n, 0, GetDataResponse, { data: null, stat: emptyStat }),
      nowMs: 2,
    });
    d.feed({ kind: "requestSubmitted", requestId: 2, request: { op: "setData", path: "/a", data: null, version: -1 }, nowMs: 3 });
    // The server sends the notification, then the reply, often in one TCP segment.
    const bytes = Buffer.concat([notification("nodeDataChanged", "/a"), reply(2, 6n, 0, StatResponse, { stat: emptyStat })]);
    const outs = d.feed({ kind: "bytesReceived", connectionId: id, bytes, nowMs: 4 });
    expect(kinds(outs)).toEqual(["watchEvent", "requestCompleted"]);
    expect(outs[0]).toMatchObject({ event: { type: "nodeDataChanged", path: "/a" }, watchers: ["w1"] });
  });

  it("requests submitted while connecting wait for the handshake; a failed attempt fails them", () => {
    const d = new Driver(makeCore());
    d.feed({ kind: "connectRequested", nowMs: 0 });
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "sync", path: "/" }, nowMs: 1 });
    expect(d.log.some((o) => o.kind === "send")).toBe(false);
    const outs = d.feed({ kind: "socketClosed", connectionId: d.lastConnectionId, nowMs: 2 });
    expect(completions(outs)).toEqual([{ id: 1, outcome: { ok: false, code: -4, path: "/" } }]);

    d.feed({ kind: "requestSubmitted", requestId: 2, request: { op: "sync", path: "/" }, nowMs: 3 });
    d.feed({ kind: "tick", nowMs: 3 });
    const id = d.connectTo(4);
    const sent = d.sentOn(id).slice(1).map(decodeRequest);
    expect(sent.map((s) => [s.xid, s.type])).toEqual([[1, opCodes.sync]]);
  });

  it("a request past its own timeout fails with REQUESTTIMEOUT and the connection is dropped", () => {
    const d = new Driver(makeCore());
    d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "sync", path: "/x" }, timeoutMs: 500, nowMs: 100 });
    d.feed({ kind: "requestSubmitted", requestId: 2, request: { op: "sync", path: "/y" }, nowMs: 100 });
    expect(d.lastStep!.wakeAtMs).toBe(600);
    const outs = d.feed({ kind: "tick", nowMs: 600 });
    expect(completions(outs)).toEqual([
      { id: 1, outcome: { ok: false, code: -122, path: "/x" } },
      { id: 2, outcome: { ok: false, code: -4, path: "/y" } },
    ]);
    expect(d.core.state.kind).toBe("connecting");
  });

  it("chroot: paths go out prefixed and come back stripped", () => {
    const d = new Driver(makeCore({ chroot: new Chroot("/app") }));
    const id = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "exists", path: "/a", watcher: "w" }, nowMs: 1 });
    expect(PathWatchRequest.read(decodeRequest(d.sentOn(id).at(-1)!).reader)).toEqual({ path: "/app/a", watch: true });
    d.feed({ kind: "bytesReceived", connectionId: id, bytes: reply(1, 2n, -101), nowMs: 2 });
    const outs = d.feed({ kind: "bytesReceived", connectionId: id, bytes: notification("nodeCreated", "/app/a"), nowMs: 3 });
    expect(outs[0]).toMatchObject({ kind: "watchEvent", event: { type: "nodeCreated", path: "/a" }, watchers: ["w"] });
  });
});

describe("liveness: pings and the read timeout", () => {
  it("pings after readTimeout/2 without sending, and a reply keeps the connection alive", () => {
    const d = new Driver(makeCore());
    const id = d.connectTo(0); // negotiated 6000: readTimeout 4000, ping every 2000
    expect(d.lastStep!.wakeAtMs).toBe(2000);
    d.fresh();
    d.feed({ kind: "tick", nowMs: 1999 });
    expect(d.fresh()).toEqual([]);
    d.feed({ kind: "tick", nowMs: 2000 });
    const ping = decodeRequest(d.sentOn(id).at(-1)!);
    expect([ping.xid, ping.type]).toEqual([-2, opCodes.ping]);
    d.feed({ kind: "bytesReceived", connectionId: id, bytes: reply(-2, 9n, 0), nowMs: 2100 });
    expect(d.core.lastZxidSeen).toBe(0n); // pings do not move lastZxidSeen (Apache)
    d.feed({ kind: "tick", nowMs: 4000 });
    d.feed({ kind: "bytesReceived", connectionId: id, bytes: reply(-2, 9n, 0), nowMs: 4050 });
    d.feed({ kind: "tick", nowMs: 7000 });
    expect(d.core.state.kind).toBe("connected");
  });

  it("declares the connection lost after readTimeout of silence, then reconnects to the next host with the session", () => {
    const d = new Driver(makeCore());
    d.connectTo(0);
    d.feed({ kind: "tick", nowMs: 2000 }); // ping, never answered
    d.feed({ kind: "tick", nowMs: 3999 });
    expect(d.core.state.kind).toBe("connected");
    d.fresh();
    d.feed({ kind: "tick", nowMs: 4000 });
    expect(kinds(d.fresh())).toEqual(["closeSocket", "state:connecting"]);
    d.feed({ kind: "tick", nowMs: 4000 }); // random() = 0: no jitter
    const open = d.log.find((o, i) => i > 0 && o.kind === "openSocket" && o.hostIndex === 1);
    expect(open).toBeDefined();
    d.feed({ kind: "socketConnected", connectionId: d.lastConnectionId, nowMs: 4001 });
    const request = decodeConnectRequest(d.sentOn(d.lastConnectionId)[0]!);
    expect(request.sessionId).toBe(0x1234n);
    expect(request.passwd).toEqual(Buffer.alloc(16, 7));
  });
});

describe("moving between servers", () => {
  it("never attaches to a server behind lastZxidSeen: one that closes the handshake is skipped", () => {
    const d = new Driver(makeCore());
    const first = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "sync", path: "/" }, nowMs: 1 });
    d.feed({ kind: "bytesReceived", connectionId: first, bytes: reply(1, 0x50n, 0, PathResponse, { path: "/" }), nowMs: 2 });
    expect(d.core.lastZxidSeen).toBe(0x50n);
    d.feed({ kind: "socketClosed", connectionId: first, nowMs: 10 });
    d.feed({ kind: "tick", nowMs: 10 });
    // Host b is behind: it reads lastZxidSeen 0x50 and closes without a reply (Apache ZooKeeperServer).
    const behind = d.lastConnectionId;
    d.feed({ kind: "socketConnected", connectionId: behind, nowMs: 11 });
    expect(decodeConnectRequest(d.sentOn(behind)[0]!).lastZxidSeen).toBe(0x50n);
    d.fresh();
    d.feed({ kind: "socketClosed", connectionId: behind, nowMs: 12 });
    expect(d.core.state).toMatchObject({ kind: "connecting", hostIndex: 2 });
    d.feed({ kind: "tick", nowMs: 12 });
    const next = d.lastConnectionId;
    d.feed({ kind: "socketConnected", connectionId: next, nowMs: 13 });
    d.feed({ kind: "bytesReceived", connectionId: next, bytes: connectResponse(), nowMs: 14 });
    expect(d.core.state).toMatchObject({ kind: "connected", hostIndex: 2 });
    expect(d.fresh().filter((o) => o.kind === "stateChanged").map((o) => (o as { state: { kind: string } }).state.kind)).toEqual([
      "connected",
    ]);
  });

  it("re-sends auth, then SetWatches with lastZxidSeen, then queued requests, after a reconnect", () => {
    const d = new Driver(makeCore());
    const first = d.connectTo(0);
    d.feed({ kind: "authSubmitted", requestId: 100, auth: { scheme: "digest", auth: Buffer.from("u:p") }, nowMs: 1 });
    d.feed({ kind: "bytesReceived", connectionId: first, bytes: reply(-4, 0n, 0), nowMs: 2 });
    const watch = (requestId: number, request: Parameters<typeof d.feed>[0]) => {
      d.feed(request);
      d.feed({ kind: "bytesReceived", connectionId: first, bytes: reply(requestId, 0x77n, -101), nowMs: 3 });
    };
    watch(1, { kind: "requestSubmitted", requestId: 1, request: { op: "exists", path: "/gone", watcher: "w" }, nowMs: 3 });
    d.feed({ kind: "requestSubmitted", requestId: 2, request: { op: "getChildren", path: "/kids", withStat: false, watcher: "w" }, nowMs: 4 });
    d.feed({ kind: "bytesReceived", connectionId: first, bytes: reply(2, 0x78n, 0, GetChildrenResponse, { children: [] }), nowMs: 5 });
    expect(d.core.watches.entries().map((e) => `${e.kind} ${e.path}`)).toEqual(["exist /gone", "child /kids"]);

    d.feed({ kind: "socketClosed", connectionId: first, nowMs: 10 });
    d.feed({ kind: "requestSubmitted", requestId: 3, request: { op: "sync", path: "/" }, nowMs: 10 });
    d.feed({ kind: "tick", nowMs: 10 });
    const second = d.connectTo(11);
    const sent = d.sentOn(second).slice(1).map(decodeRequest);
    expect(sent.map((s) => [s.xid, s.type])).toEqual([
      [-4, opCodes.auth],
      [-8, opCodes.setWatches],
      [3, opCodes.sync],
    ]);
    expect(SetWatches.read(sent[1]!.reader)).toEqual({
      relativeZxid: 0x78n,
      dataWatches: [],
      existWatches: ["/gone"],
      childWatches: ["/kids"],
    });
  });

  it("uses SetWatches2 when persistent watches exist", () => {
    const d = new Driver(makeCore());
    const first = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "addWatch", path: "/p", mode: "persistentRecursive", watcher: "w" }, nowMs: 1 });
    d.feed({ kind: "bytesReceived", connectionId: first, bytes: reply(1, 0x10n, 0), nowMs: 2 });
    d.feed({ kind: "socketClosed", connectionId: first, nowMs: 3 });
    d.feed({ kind: "tick", nowMs: 3 });
    const second = d.connectTo(4);
    const setWatches = decodeRequest(d.sentOn(second)[1]!);
    expect([setWatches.xid, setWatches.type]).toEqual([-8, opCodes.setWatches2]);
    expect(SetWatches2.read(setWatches.reader)).toMatchObject({ relativeZxid: 0x10n, persistentRecursiveWatches: ["/p"] });
  });
});

describe("bounds and chroot on reconnect", () => {
  it("refuses a request beyond outstandingRequestsMax at once (THROTTLEDOP) instead of queueing without bound", () => {
    const d = new Driver(makeCore({ outstandingRequestsMax: 2 }));
    d.feed({ kind: "connectRequested", nowMs: 0 });
    for (const requestId of [1, 2, 3]) d.feed({ kind: "requestSubmitted", requestId, request: { op: "sync", path: "/" }, nowMs: 0 });
    expect(completions(d.log)).toEqual([{ id: 3, outcome: { ok: false, code: -127, path: "/" } }]);
  });

  it("SetWatches carries the server's paths (chroot prepended)", () => {
    const d = new Driver(makeCore({ chroot: new Chroot("/app") }));
    const first = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "getData", path: "/a", watcher: "w" }, nowMs: 1 });
    d.feed({ kind: "bytesReceived", connectionId: first, bytes: reply(1, 3n, 0, GetDataResponse, { data: null, stat: emptyStat }), nowMs: 2 });
    d.feed({ kind: "socketClosed", connectionId: first, nowMs: 3 });
    d.feed({ kind: "tick", nowMs: 3 });
    const second = d.connectTo(4);
    expect(SetWatches.read(decodeRequest(d.sentOn(second)[1]!).reader)).toMatchObject({ relativeZxid: 3n, dataWatches: ["/app/a"] });
  });
});

describe("the end of a session", () => {
  it("a ConnectResponse with timeOut 0 means expired: pending calls fail, watchers hear Expired, nothing more is sent", () => {
    const d = new Driver(makeCore());
    const first = d.connectTo(0);
    d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "getData", path: "/a", watcher: "w" }, nowMs: 1 });
    d.feed({ kind: "bytesReceived", connectionId: first, bytes: reply(1, 5n, 0, GetDataResponse, { data: null, stat: emptyStat }), nowMs: 2 });
    d.feed({ kind: "socketClosed", connectionId: first, nowMs: 3 });
    d.feed({ kind: "requestSubmitted", requestId: 2, request: { op: "sync", path: "/" }, nowMs: 3 });
    d.feed({ kind: "tick", nowMs: 3 });
    const second = d.lastConnectionId;
    d.feed({ kind: "socketConnected", connectionId: second, nowMs: 4 });
    d.fresh();
    const outs = d.feed({
      kind: "bytesReceived",
      connectionId: second,
      bytes: connectResponse({ timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16) }),
      nowMs: 5,
    });
    expect(kinds(outs)).toEqual(["closeSocket", "state:expired", "watchEvent", "requestCompleted"]);
    expect(outs[2]).toMatchObject({ event: { type: "none", state: "expired", path: null }, watchers: ["w"] });
    expect(completions(outs)).toEqual([{ id: 2, outcome: { ok: false, code: -112, path: "/" } }]);
    expect(d.lastStep!.wakeAtMs).toBeNull();
    const after = d.feed({ kind: "requestSubmitted", requestId: 3, request: { op: "sync", path: "/" }, nowMs: 6 });
    expect(completions(after)).toEqual([{ id: 3, outcome: { ok: false, code: -112, path: "/" } }]);
  });

  it("a refused auth is terminal: authFailed, and the waiting call fails with AUTHFAILED", () => {
    const d = new Driver(makeCore());
    const id = d.connectTo(0);
    d.feed({ kind: "authSubmitted", requestId: 9, auth: { scheme: "digest", auth: Buffer.from("bad") }, nowMs: 1 });
    const outs = d.feed({ kind: "bytesReceived", connectionId: id, bytes: reply(-4, 0n, -115), nowMs: 2 });
    expect(completions(outs)).toEqual([{ id: 9, outcome: { ok: false, code: -115, path: undefined } }]);
    expect(d.core.state.kind).toBe("authFailed");
  });

  it("close sends closeSession, waits for its reply, then closes the socket", () => {
    const d = new Driver(makeCore());
    const id = d.connectTo(0);
    d.feed({ kind: "closeRequested", nowMs: 1 });
    const close = decodeRequest(d.sentOn(id).at(-1)!);
    expect(close.type).toBe(opCodes.closeSession);
    expect(d.core.state.kind).toBe("closing");
    d.fresh();
    d.feed({ kind: "bytesReceived", connectionId: id, bytes: reply(close.xid, 9n, 0), nowMs: 2 });
    expect(kinds(d.fresh())).toEqual(["closeSocket", "state:closed", "watchEvent"]);
  });

  it("close while not connected does not reconnect just to say goodbye", () => {
    const d = new Driver(makeCore());
    d.feed({ kind: "connectRequested", nowMs: 0 });
    d.fresh();
    d.feed({ kind: "closeRequested", nowMs: 1 });
    expect(kinds(d.fresh())).toEqual(["closeSocket", "state:closed", "watchEvent"]);
  });
});

describe("the byte stream can be split anywhere", () => {
  it("gives the same outputs for any split of the server's bytes (randomised; prints its seed)", () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    console.log(`core split property: seed ${seed} (rerun with SEED=${seed})`);
    const run = (cuts: number[]): string[] => {
      const d = new Driver(makeCore());
      d.feed({ kind: "connectRequested", nowMs: 0 });
      const id = d.lastConnectionId;
      d.feed({ kind: "socketConnected", connectionId: id, nowMs: 0 });
      d.feed({ kind: "requestSubmitted", requestId: 1, request: { op: "getData", path: "/a", watcher: "w" }, nowMs: 0 });
      d.feed({ kind: "requestSubmitted", requestId: 2, request: { op: "delete", path: "/b", version: -1 }, nowMs: 0 });
      const stream = Buffer.concat([
        connectResponse(),
        reply(1, 3n, 0, GetDataResponse, { data: Buffer.from("hello"), stat: emptyStat }),
        notification("nodeDataChanged", "/a"),
        reply(-2, 3n, 0),
        reply(2, 4n, -101),
      ]);
      let at = 0;
      let i = 0;
      while (at < stream.length) {
        const size = cuts[i++ % cuts.length]!;
        d.feed({ kind: "bytesReceived", connectionId: id, bytes: stream.subarray(at, at + size), nowMs: 1 });
        at += size;
      }
      return d.log
        .filter((o) => o.kind !== "send")
        .map((o) => JSON.stringify(o, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
    };
    const whole = run([1 << 20]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }), (cuts) => {
        expect(run(cuts)).toEqual(whole);
      }),
      { seed },
    );
  });
});
