/**
 * The server core driven through an in-memory Transport and a fake clock: no sockets, no timers. Each test cites
 * the Apache 3.8 behaviour it pins down (reference §1 handshake and headers, §3 ordering, sessions, containers).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ZooKeeperServer, type ServerOptions } from "../../src/server/server.ts";
import { sessionPassword } from "../../src/server/sessions.ts";
import { sessionlessConnectionTimeoutMs } from "../../src/server/connection.ts";
import {
  Create2Response,
  ErrorResponse,
  GetDataResponse,
  MultiHeader,
  PathResponse,
  SetWatches2,
  Stat,
  StatResponse,
  errorCodes,
  type JuteReader,
} from "../../src/proto/index.ts";
import { FakeClient, FakeClock, HeldSink, RecordingLogger, coreOptions } from "./support/fake.ts";
import { body, opCodes } from "./support/requests.ts";
import { connectFrame, readConnectResponse, requestFrame, type Reply } from "./support/wire.ts";

let loggers: RecordingLogger[] = [];

function makeServer(overrides: Partial<ServerOptions> = {}) {
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  loggers.push(logger);
  const server = new ZooKeeperServer(coreOptions({ clock, logger, ...overrides }));
  return { server, clock, logger, client: () => new FakeClient(server) };
}

afterEach(() => {
  // A bug that throws inside the core is caught and turned into a closed connection; none may happen here.
  for (const logger of loggers) expect(logger.lines.filter((l) => l.includes("internal error"))).toEqual([]);
  loggers = [];
});

function connected(server: ZooKeeperServer, options: Parameters<FakeClient["connect"]>[0] = {}): FakeClient {
  const c = new FakeClient(server);
  c.connect(options);
  return c;
}

const readData = (r: JuteReader) => GetDataResponse.read(r);

describe("handshake (ZooKeeperServer.processConnectRequest / finishSessionInit)", () => {
  it("answers a client that sent readOnly with a 37-byte ConnectResponse, an old client with 36 ([checked])", () => {
    const { server } = makeServer();
    const modern = new FakeClient(server).connect({ readOnly: false });
    expect(modern.bodyBytes).toBe(37);
    expect(modern.response.readOnly).toBe(false);
    const old = new FakeClient(server).connect({ readOnly: undefined });
    expect(old.bodyBytes).toBe(36);
    expect(old.response.readOnly).toBeUndefined();
  });

  it("gives a new session an id with the server id on top and the password generatePasswd(id)", () => {
    const { server } = makeServer({ serverId: 3 });
    const { response } = new FakeClient(server).connect();
    expect(response.protocolVersion).toBe(0);
    expect(response.sessionId >> 56n).toBe(3n);
    expect(response.passwd).toEqual(sessionPassword(response.sessionId));
    expect(server.sessions.get(response.sessionId)).toBeDefined();
  });

  it.each([
    [1000, 4000],
    [4000, 4000],
    [10_000, 10_000],
    [40_000, 40_000],
    [1_000_000, 40_000],
  ])("clamps a requested timeout of %i ms to %i ms (tickTime 2000: [2×, 20×] tickTime, [checked])", (asked, negotiated) => {
    const { server } = makeServer();
    const { response } = new FakeClient(server).connect({ timeOut: asked });
    expect(response.timeOut).toBe(negotiated);
    expect(server.sessions.get(response.sessionId)!.timeoutMs).toBe(negotiated);
  });

  it("closes without any reply when the client has seen a later zxid than the server", () => {
    const { server } = makeServer();
    const writer = connected(server);
    writer.call(opCodes.create, body.create("/a")); // zxid 2 (the session was 1)
    const c = new FakeClient(server);
    c.send(connectFrame({ lastZxidSeen: server.lastZxid + 1n }));
    expect(c.transport.writes).toEqual([]);
    expect(c.transport.closed).toBe(true);
    // Equal is fine: the client has not seen anything the server lacks.
    const ok = new FakeClient(server);
    expect(ok.connect({ lastZxidSeen: server.lastZxid }).response.timeOut).toBeGreaterThan(0);
  });

  it("answers a bad password with timeOut 0, session 0, 16 zero bytes, then closes ([checked])", () => {
    const { server } = makeServer();
    const first = connected(server);
    const c = new FakeClient(server);
    const { response, bodyBytes } = c.connect({ sessionId: first.sessionId, passwd: Buffer.alloc(16, 7) });
    expect(bodyBytes).toBe(37);
    expect(response).toEqual({ protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
    expect(c.transport.closed).toBe(true);
    // As in Apache, the session's current connection was closed first (closeSession(CLIENT_RECONNECT) runs before
    // reopenSession checks the password), but the session itself lives on: its client re-attaches.
    expect(first.transport.closed).toBe(true);
    const back = new FakeClient(server);
    expect(back.connect({ sessionId: first.sessionId, passwd: first.passwd }).response.sessionId).toBe(first.sessionId);
    expect(back.call(opCodes.exists, body.pathWatch("/")).header.err).toBe(0);
  });

  it("answers an unknown session (right password for its id) with the zero reply too", () => {
    const { server } = makeServer();
    const c = new FakeClient(server);
    const { response } = c.connect({ sessionId: 0x0100000000000abcn, passwd: sessionPassword(0x0100000000000abcn) });
    expect(response.timeOut).toBe(0);
    expect(c.transport.closed).toBe(true);
  });

  it("re-attaches to a session with its password, renegotiates the timeout, and closes the old connection", () => {
    const { server } = makeServer();
    const first = connected(server, { timeOut: 10_000 });
    first.call(opCodes.create, body.create("/eph", "", 1));
    const second = new FakeClient(server);
    const { response } = second.connect({ sessionId: first.sessionId, passwd: first.passwd, timeOut: 20_000, lastZxidSeen: server.lastZxid });
    expect(response.sessionId).toBe(first.sessionId);
    expect(response.timeOut).toBe(20_000);
    expect(first.transport.closed).toBe(true);
    expect(server.tree.getNode("/eph")).toBeDefined();
    expect(second.call(opCodes.getData, body.pathWatch("/eph")).header.err).toBe(0);
  });

  it("holds requests that arrive during the handshake and answers them after the ConnectResponse, in order", () => {
    const sink = new HeldSink();
    const { server } = makeServer({ txnSink: sink });
    sink.holding = true;
    const c = new FakeClient(server);
    // One chunk: the ConnectRequest and two pipelined requests, as a client writes them.
    c.send(Buffer.concat([connectFrame(), requestFrame(1, opCodes.exists, body.pathWatch("/")), requestFrame(2, opCodes.getData, body.pathWatch("/zookeeper"))]));
    expect(c.transport.writes).toEqual([]); // the createSession txn is not durable yet
    sink.release();
    const frames = c.take();
    expect(frames).toHaveLength(3);
    expect(readConnectResponse(frames[0]!).timeOut).toBe(30_000);
    const replies = frames.slice(1).map((f) => f.readInt32BE(0));
    expect(replies).toEqual([1, 2]);
  });

  it("answers a four-letter word on a fresh connection and closes it", () => {
    const { server } = makeServer();
    const c = new FakeClient(server);
    c.send(Buffer.from("ruok"));
    expect(c.transport.stream().toString()).toBe("imok");
    expect(c.transport.closed).toBe(true);
  });

  it("does not take a four-letter word once the connection has a session", () => {
    const { server } = makeServer();
    const c = connected(server);
    c.send(Buffer.from("ruok")); // an oversize frame length (0x72756f6b) once established
    expect(c.transport.closed).toBe(true);
    expect(c.take()).toEqual([]);
  });
});

describe("replies (ReplyHeader, FinalRequestProcessor)", () => {
  it("carries the last processed zxid; a failed write consumes a zxid too; errors have no body", () => {
    const { server } = makeServer();
    const c = connected(server); // createSession is zxid 1
    const created = c.call(opCodes.create, body.create("/a"));
    expect(created.header).toMatchObject({ err: 0, zxid: 2n });
    expect(PathResponse.read(created.reader).path).toBe("/a");
    const failed = c.call(opCodes.create, body.create("/missing/child"));
    expect(failed.header).toMatchObject({ err: errorCodes.noNode, zxid: 3n });
    expect(failed.body.length).toBe(16); // xid + zxid + err, nothing else
    const again = c.call(opCodes.create, body.create("/b"));
    expect(again.header.zxid).toBe(4n);
    expect(server.tree.getNode("/b")!.stat.czxid).toBe(4n);
    // A read does not advance the zxid.
    expect(c.call(opCodes.exists, body.pathWatch("/b")).header.zxid).toBe(4n);
  });

  it("answers a ping with xid -2 and the last zxid", () => {
    const { server } = makeServer();
    const c = connected(server);
    const [reply] = c.request(opCodes.ping, undefined, -2);
    expect(reply!.header).toEqual({ xid: -2, zxid: server.lastZxid, err: 0 });
  });

  it("answers create2 with path and Stat", () => {
    const { server } = makeServer();
    const c = connected(server);
    const reply = c.call(opCodes.create2, body.create("/s-", "xy", 2));
    const { path, stat } = Create2Response.read(reply.reader);
    expect(path).toBe("/s-0000000000");
    expect(stat).toMatchObject({ czxid: reply.header.zxid, dataLength: 2 });
  });

  it("answers an unknown opcode with UNIMPLEMENTED (-6) and closes ([checked])", () => {
    const { server } = makeServer();
    const c = connected(server);
    const [reply] = c.request(999, body.path("/"), 5);
    expect(reply!.header).toMatchObject({ xid: 5, err: errorCodes.unimplemented });
    expect(c.transport.closed).toBe(true);
  });

  it("answers a request whose body is cut short with MARSHALLINGERROR (-5) and keeps the connection (Apache 3.8.0)", () => {
    const { server } = makeServer();
    const c = connected(server);
    const full = requestFrame(6, opCodes.create, body.create("/truncated", "data"));
    const cut = full.subarray(0, full.length - 6);
    cut.writeInt32BE(cut.length - 4, 0);
    c.send(cut);
    expect(c.takeReplies().map((r) => r.header)).toEqual([{ xid: 6, zxid: server.lastZxid, err: errorCodes.marshallingError }]);
    expect(c.transport.closed).toBe(false);
    expect(server.tree.getNode("/truncated")).toBeUndefined();
  });

  it("answers auth with (-4, 0, 0); an unknown scheme with (-4, 0, -115) and a closed connection ([checked])", () => {
    const { server } = makeServer();
    const c = connected(server);
    expect(c.request(opCodes.auth, body.auth("digest", "u:p"), -4)[0]!.header).toEqual({ xid: -4, zxid: 0n, err: 0 });
    expect(c.conn.authIds.map((id) => id.scheme)).toEqual(["ip", "digest"]);
    expect(c.request(opCodes.auth, body.auth("nosuch", "x"), -4)[0]!.header).toEqual({ xid: -4, zxid: 0n, err: errorCodes.authFailed });
    expect(c.transport.closed).toBe(true);
  });

  it("answers a failed multi with header err 0 and per-op results: -1/0 before, the code, then -2 ([checked])", () => {
    const { server } = makeServer();
    const c = connected(server);
    const reply = c.call(
      opCodes.multi,
      body.multi([
        [opCodes.create, body.create("/m1")],
        [opCodes.delete, body.delete("/nope")],
        [opCodes.setData, body.setData("/m1", "x")],
      ]),
    );
    expect(reply.header.err).toBe(0);
    const results: Array<[number, number]> = [];
    for (;;) {
      const h = MultiHeader.read(reply.reader);
      if (h.done) break;
      results.push([h.type, ErrorResponse.read(reply.reader).err]);
    }
    expect(results).toEqual([
      [-1, 0],
      [-1, errorCodes.noNode],
      [-1, errorCodes.runtimeInconsistency],
    ]);
    expect(server.tree.getNode("/m1")).toBeUndefined();
  });

  it("answers create2 inside a multi as a plain create (type 1, path only), as clients' parsers expect", () => {
    const { server } = makeServer();
    const c = connected(server);
    const reply = c.call(
      opCodes.multi,
      body.multi([
        [opCodes.create2, body.create("/c2")],
        [opCodes.setData, body.setData("/c2", "x", 0)],
        [opCodes.check, body.check("/c2", 1)],
        [opCodes.delete, body.delete("/c2", 1)],
      ]),
    );
    let h = MultiHeader.read(reply.reader);
    expect(h).toEqual({ type: opCodes.create, done: false, err: 0 });
    expect(PathResponse.read(reply.reader).path).toBe("/c2");
    h = MultiHeader.read(reply.reader);
    expect(h.type).toBe(opCodes.setData);
    expect(Stat.read(reply.reader).version).toBe(1);
    expect(MultiHeader.read(reply.reader).type).toBe(opCodes.check);
    expect(MultiHeader.read(reply.reader).type).toBe(opCodes.delete);
    expect(MultiHeader.read(reply.reader)).toEqual({ type: -1, done: true, err: -1 });
    expect(reply.reader.remaining).toBe(0);
  });

  it("answers a top-level check with UNIMPLEMENTED rather than Apache 3.8.0's silent txn (reference §3 trap)", () => {
    const { server } = makeServer();
    const c = connected(server);
    const before = server.lastZxid;
    expect(c.call(opCodes.check, body.check("/", -1)).header.err).toBe(errorCodes.unimplemented);
    expect(server.lastZxid).toBe(before);
  });
});

describe("ordering: one FIFO for every request", () => {
  it("sends the notification before the reply to the write that caused it, to every watcher ([checked])", () => {
    const { server } = makeServer();
    const order: string[] = [];
    const writer = connected(server);
    const watcher = connected(server);
    writer.call(opCodes.create, body.create("/a", "v1"));
    watcher.call(opCodes.getData, body.pathWatch("/a", true));
    writer.call(opCodes.getData, body.pathWatch("/a", true));
    for (const [name, c] of [["writer", writer], ["watcher", watcher]] as const) {
      const write = c.transport.write.bind(c.transport);
      c.transport.write = (bytes) => {
        order.push(`${name}:${bytes.readInt32BE(4)}`); // the xid
        write(bytes);
      };
    }
    const replies = writer.request(opCodes.setData, body.setData("/a", "v2"), 77);
    expect(replies.map((r) => r.header.xid)).toEqual([-1, 77]);
    expect(replies[0]!.event).toEqual({ type: 3, state: 3, path: "/a" });
    expect(replies[0]!.header.zxid).toBe(-1n);
    // The other session's notification also left before the writer's reply.
    expect(order.indexOf("watcher:-1")).toBeLessThan(order.indexOf("writer:77"));
    expect(watcher.takeReplies().map((r) => r.event)).toEqual([{ type: 3, state: 3, path: "/a" }]);
    // One-time: a second change sends nothing.
    writer.call(opCodes.setData, body.setData("/a", "v3"));
    expect(watcher.take()).toEqual([]);
  });

  it("answers pipelined requests in order: a read waits behind a write that is not durable yet", () => {
    const sink = new HeldSink();
    const { server } = makeServer({ txnSink: sink });
    const c = connected(server);
    c.call(opCodes.create, body.create("/a", "old"));
    sink.holding = true;
    c.send(Buffer.concat([requestFrame(10, opCodes.setData, body.setData("/a", "new")), requestFrame(11, opCodes.getData, body.pathWatch("/a"))]));
    expect(c.take()).toEqual([]); // the read is not answered ahead of the write
    expect(server.outstandingRequests).toBe(2);
    sink.release();
    const replies = c.takeReplies();
    expect(replies.map((r) => r.header.xid)).toEqual([10, 11]);
    expect(readData(replies[1]!.reader).data!.toString()).toBe("new");
  });

  it("keeps request order across many interleaved writes and reads released one txn at a time", () => {
    const sink = new HeldSink();
    const { server } = makeServer({ txnSink: sink });
    const c = connected(server);
    sink.holding = true;
    const frames: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      frames.push(i % 3 === 0 ? requestFrame(100 + i, opCodes.create, body.create(`/n${i}`)) : requestFrame(100 + i, opCodes.exists, body.pathWatch(`/n${i - (i % 3)}`)));
    }
    c.send(Buffer.concat(frames));
    const seen: Reply[] = [];
    while (sink.pending.length > 0) {
      sink.release(1);
      seen.push(...c.takeReplies());
    }
    expect(seen.map((r) => r.header.xid)).toEqual(frames.map((_, i) => 100 + i));
    // Every exists after its create saw the node.
    expect(seen.every((r) => r.header.err === 0)).toBe(true);
  });
});

describe("setWatches (re-arming after a reconnect)", () => {
  it("fires what was missed before its reply, re-arms the rest, and echoes a positive xid (node-zookeeper-client)", () => {
    const { server } = makeServer();
    const c = connected(server);
    c.call(opCodes.create, body.create("/same"));
    c.call(opCodes.create, body.create("/changed"));
    c.call(opCodes.create, body.create("/gone"));
    c.call(opCodes.create, body.create("/p"));
    const rel = server.lastZxid;
    c.call(opCodes.setData, body.setData("/changed", "x"));
    c.call(opCodes.delete, body.delete("/gone"));
    c.call(opCodes.create, body.create("/born"));
    c.call(opCodes.create, body.create("/p/kid"));
    const replies = c.request(
      opCodes.setWatches,
      body.setWatches(rel, ["/same", "/changed", "/gone"], ["/born", "/unborn"], ["/p", "/same"]),
      42,
    );
    expect(replies.map((r) => r.header.xid)).toEqual([-1, -1, -1, -1, 42]);
    expect(replies.slice(0, 4).map((r) => [r.event!.type, r.event!.path])).toEqual([
      [3, "/changed"],
      [2, "/gone"],
      [1, "/born"],
      [4, "/p"],
    ]);
    expect(replies[4]!.body.length).toBe(16);
    // Re-armed: /same (data and child) and /unborn (exists) fire later.
    c.request(opCodes.create, body.create("/unborn"));
    c.call(opCodes.setData, body.setData("/same", "y"));
    c.call(opCodes.create, body.create("/same/kid"));
    expect(server.watches.contains("/same", c.conn, 3)).toBe(false);
  });
});

describe("setWatches2 (opcode 105: a Java client's re-registration when it has persistent watches)", () => {
  it("applies setWatches' relative-zxid rules before its reply, and re-arms persistent and recursive watches without firing them", () => {
    // Apache DataTree.setWatches: data/exist/child lists follow the relZxid rules (reference §3); the persistent and
    // persistent-recursive lists are only added back, whatever changed while the client was away.
    const { server } = makeServer();
    const c = connected(server);
    for (const path of ["/same", "/changed", "/gone", "/p", "/per", "/rec", "/edge"]) c.call(opCodes.create, body.create(path));
    // /edge was made by the txn at relZxid itself: mzxid = pzxid = rel is not newer, so its watches are re-armed.
    const rel = server.lastZxid;
    c.call(opCodes.setData, body.setData("/changed", "x"));
    c.call(opCodes.delete, body.delete("/gone"));
    c.call(opCodes.create, body.create("/born"));
    c.call(opCodes.create, body.create("/p/kid"));
    c.call(opCodes.setData, body.setData("/per", "missed")); // a persistent watch does not report what it missed
    c.call(opCodes.create, body.create("/rec/missed"));
    const replies = c.request(
      opCodes.setWatches2,
      (w) =>
        SetWatches2.write(w, {
          relativeZxid: rel,
          dataWatches: ["/same", "/changed", "/gone", "/edge"],
          existWatches: ["/born", "/unborn"],
          childWatches: ["/p", "/same", "/edge"],
          persistentWatches: ["/per"],
          persistentRecursiveWatches: ["/rec"],
        }),
      -8,
    );
    expect(replies.map((r) => r.header.xid)).toEqual([-1, -1, -1, -1, -8]);
    expect(replies.slice(0, 4).map((r) => [r.event!.type, r.event!.path])).toEqual([
      [3, "/changed"],
      [2, "/gone"],
      [1, "/born"],
      [4, "/p"],
    ]);
    expect(replies[4]!.header).toEqual({ xid: -8, zxid: server.lastZxid, err: 0 });
    const eventsOf = (type: number, b: Parameters<FakeClient["request"]>[1]) =>
      c.request(type, b).flatMap((r) => (r.event === undefined ? [] : [[r.event.type, r.event.path]]));
    // Re-armed one-time watches fire on the next change; the persistent ones keep firing.
    expect(eventsOf(opCodes.create, body.create("/unborn"))).toEqual([[1, "/unborn"]]);
    expect(eventsOf(opCodes.setData, body.setData("/same", "y"))).toEqual([[3, "/same"]]);
    expect(eventsOf(opCodes.create, body.create("/same/kid"))).toEqual([[4, "/same"]]);
    expect(eventsOf(opCodes.create, body.create("/edge/kid"))).toEqual([[4, "/edge"]]);
    expect(eventsOf(opCodes.setData, body.setData("/edge", "e"))).toEqual([[3, "/edge"]]);
    expect(eventsOf(opCodes.setData, body.setData("/per", "1"))).toEqual([[3, "/per"]]);
    expect(eventsOf(opCodes.setData, body.setData("/per", "2"))).toEqual([[3, "/per"]]);
    expect(eventsOf(opCodes.create, body.create("/rec/missed/deep"))).toEqual([[1, "/rec/missed/deep"]]);
    expect(eventsOf(opCodes.setData, body.setData("/rec/missed", "z"))).toEqual([[3, "/rec/missed"]]);
  });
});

describe("sync (SyncRequest → {path})", () => {
  it("answers with its path, behind every write received before it (the same FIFO)", () => {
    // Standalone, a sync has nothing to wait for but the session's own earlier requests (FinalRequestProcessor
    // answers it with a SyncResponse carrying the path).
    const sink = new HeldSink();
    const { server } = makeServer({ txnSink: sink });
    const c = connected(server);
    sink.holding = true;
    c.send(Buffer.concat([requestFrame(10, opCodes.create, body.create("/w")), requestFrame(11, opCodes.sync, body.path("/w"))]));
    expect(c.take()).toEqual([]);
    sink.release();
    const replies = c.takeReplies();
    expect(replies.map((r) => [r.header.xid, r.header.err])).toEqual([
      [10, 0],
      [11, 0],
    ]);
    expect(replies[1]!.header.zxid).toBe(replies[0]!.header.zxid);
    expect(PathResponse.read(replies[1]!.reader).path).toBe("/w");
  });
});

describe("log lines: one readable line per important event", () => {
  it("a session established, a session expired, a refused handshake and a closed bad connection each say who and why", () => {
    const { server, clock, logger } = makeServer();
    const c = connected(server, { timeOut: 4000 });
    const id = c.sessionId.toString(16);
    expect(logger.lines).toContainEqual(`INFO session 0x${id} established for client 127.0.0.1:40000, negotiated timeout 4000 ms`);
    // lastZxidSeen ahead of the server: closed without a reply, and the log says why.
    const ahead = new FakeClient(server);
    ahead.send(connectFrame({ lastZxidSeen: server.lastZxid + 5n }));
    expect(ahead.transport.closed).toBe(true);
    expect(logger.lines.some((l) => l.includes("refusing session request") && l.includes(`our last zxid is 0x${server.lastZxid.toString(16)}`))).toBe(true);
    // A wrong password.
    const wrong = new FakeClient(server);
    wrong.send(connectFrame({ sessionId: c.sessionId, passwd: Buffer.alloc(16, 7) }));
    expect(logger.lines).toContainEqual(`INFO invalid session 0x${id} for client 127.0.0.1:40000, bad password`);
    // An oversize frame closes its connection with the length and the limit.
    const big = new FakeClient(server);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(0xfffff + 1);
    big.send(prefix);
    expect(big.transport.closed).toBe(true);
    expect(logger.lines.some((l) => l.includes("frame length 1048576 is outside 0..1048575 (jute.maxbuffer)"))).toBe(true);
    // Expiry.
    for (let i = 0; i < 8; i++) {
      clock.advance(1000);
      server.tick();
    }
    expect(logger.lines).toContainEqual(`INFO expiring session 0x${id}, timeout of 4000 ms exceeded`);
  });
});

describe("sessions over time (tick() with a fake clock)", () => {
  it("expires a silent session between timeout and timeout+tickTime, deleting its ephemerals and closing its connection", () => {
    const { server, clock } = makeServer();
    const owner = connected(server, { timeOut: 4000 });
    owner.call(opCodes.create, body.create("/lock", "", 1));
    const observer = connected(server, { timeOut: 40_000 });
    observer.call(opCodes.exists, body.pathWatch("/lock", true));
    const lastTouch = clock.monoMs;
    const tickTo = (target: number) => {
      while (clock.monoMs < target) {
        clock.advance(Math.min(1000, target - clock.monoMs)); // the runtime ticks every tickTime/2
        server.tick();
      }
    };
    tickTo(lastTouch + 4000);
    expect(server.tree.getNode("/lock")).toBeDefined();
    expect(owner.transport.closed).toBe(false);
    tickTo(lastTouch + 4000 + 2000);
    expect(server.tree.getNode("/lock")).toBeUndefined();
    expect(owner.transport.closed).toBe(true);
    expect(server.sessions.get(owner.sessionId)).toBeUndefined();
    expect(observer.takeReplies().map((r) => r.event)).toEqual([{ type: 2, state: 3, path: "/lock" }]);
    // The expired client learns it when it comes back: the zero reply.
    const back = new FakeClient(server);
    expect(back.connect({ sessionId: owner.sessionId, passwd: owner.passwd }).response.timeOut).toBe(0);
  });

  it("keeps a session alive while its client pings", () => {
    const { server, clock } = makeServer();
    const c = connected(server, { timeOut: 4000 });
    c.call(opCodes.create, body.create("/mine", "", 1));
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      server.tick();
      c.request(opCodes.ping, undefined, -2);
    }
    expect(server.tree.getNode("/mine")).toBeDefined();
    expect(c.transport.closed).toBe(false);
  });

  it("a closeSession is answered, then the connection closes and the ephemerals are gone", () => {
    const { server } = makeServer();
    const c = connected(server);
    c.call(opCodes.create, body.create("/e", "", 3));
    const [reply] = c.request(opCodes.closeSession, undefined, 9);
    expect(reply!.header).toMatchObject({ xid: 9, err: 0 });
    expect(c.transport.closed).toBe(true);
    expect(server.tree.ephemeralsOf(c.sessionId).size).toBe(0);
    expect(server.sessions.get(c.sessionId)).toBeUndefined();
  });
});

describe("connections without a session (NIOServerCnxnFactory's connection expiry)", () => {
  it("closes a connection that sent nothing, or half a ConnectRequest, once zookeeper.nio.sessionlessCnxnTimeout has passed", () => {
    // Apache puts every connection in an expiry queue with buckets sessionlessCnxnTimeout (10 s) wide; one that has
    // no session yet expires a bucket after its last activity. Without that, a socket that sends nothing (or half a
    // frame) would hold its buffers forever.
    const { server, clock, logger } = makeServer();
    const silent = new FakeClient(server);
    const half = new FakeClient(server);
    half.send(connectFrame().subarray(0, 20));
    const established = connected(server, { timeOut: 40_000 });
    const tickFor = (ms: number) => {
      const end = clock.monoMs + ms;
      while (clock.monoMs < end) {
        clock.advance(500); // the runtime ticks every tickTime/2
        server.tick();
      }
    };
    tickFor(sessionlessConnectionTimeoutMs - 500);
    expect([silent, half, established].map((c) => c.transport.closed)).toEqual([false, false, false]);
    tickFor(sessionlessConnectionTimeoutMs + 500);
    expect([silent, half, established].map((c) => c.transport.closed)).toEqual([true, true, false]);
    expect(server.connections.size).toBe(1);
    expect(server.metrics.sessionlessConnectionsExpired).toBe(2);
    expect(logger.lines.filter((l) => l.includes("no ConnectRequest within 10000 ms (zookeeper.nio.sessionlessCnxnTimeout)"))).toHaveLength(2);
    // The established session is untouched and still answers.
    expect(established.call(opCodes.exists, body.pathWatch("/")).header.err).toBe(0);
  });
});

describe("the container manager (checkContainers() with a fake clock)", () => {
  it("deletes an empty container that once had a child, and never one that had none", () => {
    const { server } = makeServer();
    const c = connected(server);
    c.call(opCodes.createContainer, body.create("/used", "", 4));
    c.call(opCodes.createContainer, body.create("/never", "", 4));
    c.call(opCodes.create, body.create("/used/child"));
    server.checkContainers();
    expect(server.tree.getNode("/used")).toBeDefined(); // it still has a child
    c.call(opCodes.delete, body.delete("/used/child"));
    server.checkContainers();
    expect(server.tree.getNode("/used")).toBeUndefined();
    expect(server.tree.getNode("/never")).toBeDefined();
  });

  it("deletes a childless TTL node once its ttl has passed since its last change", () => {
    const { server, clock } = makeServer({ extendedTypesEnabled: true });
    const c = connected(server);
    const created = c.call(opCodes.createTTL, body.createTTL("/ttl", 5000n));
    expect(created.header.err).toBe(0);
    expect(Create2Response.read(created.reader).stat.ephemeralOwner).toBe(0n);
    c.call(opCodes.createTTL, body.createTTL("/ttl-parent", 5000n));
    c.call(opCodes.create, body.create("/ttl-parent/kid"));
    clock.advance(3000);
    c.call(opCodes.setData, body.setData("/ttl", "touch")); // mtime moves: the ttl counts from here
    clock.advance(4000);
    server.checkContainers();
    expect(server.tree.getNode("/ttl")).toBeDefined();
    clock.advance(1500);
    server.checkContainers();
    expect(server.tree.getNode("/ttl")).toBeUndefined();
    expect(server.tree.getNode("/ttl-parent")).toBeDefined(); // it has a child
  });

  it("deletes at most containerMaxPerMinute nodes a minute", () => {
    const { server, clock } = makeServer({ containerMaxPerMinute: 2 });
    const c = connected(server);
    for (const name of ["a", "b", "c"]) {
      c.call(opCodes.createContainer, body.create(`/${name}`, "", 4));
      c.call(opCodes.create, body.create(`/${name}/x`));
      c.call(opCodes.delete, body.delete(`/${name}/x`));
    }
    server.checkContainers();
    expect(server.tree.containerPaths().size).toBe(1);
    clock.advance(60_000);
    server.checkContainers();
    expect(server.tree.containerPaths().size).toBe(0);
  });
});

describe("throttling (globalOutstandingLimit)", () => {
  it("pauses reading from every connection above the limit and resumes once the FIFO drains", () => {
    const sink = new HeldSink();
    const { server } = makeServer({ txnSink: sink, globalOutstandingLimit: 3 });
    const a = connected(server);
    const b = connected(server);
    sink.holding = true;
    for (let i = 0; i < 4; i++) a.send(requestFrame(i + 1, opCodes.create, body.create(`/t${i}`)));
    expect(server.outstandingRequests).toBe(4);
    expect(a.transport.paused).toBe(true);
    expect(b.transport.paused).toBe(true);
    sink.release();
    expect(a.transport.paused).toBe(false);
    expect(b.transport.paused).toBe(false);
    expect(a.takeReplies().map((r) => r.header.xid)).toEqual([1, 2, 3, 4]);
  });

  it("a connection accepted while the server is throttled is paused too", () => {
    const sink = new HeldSink();
    const { server } = makeServer({ txnSink: sink, globalOutstandingLimit: 1 });
    const a = connected(server);
    sink.holding = true;
    a.send(Buffer.concat([requestFrame(1, opCodes.create, body.create("/x")), requestFrame(2, opCodes.create, body.create("/y"))]));
    const late = new FakeClient(server);
    expect(late.transport.paused).toBe(true);
    sink.release();
    expect(late.transport.paused).toBe(false);
  });

  it("stops reading a connection whose handshake is pending, as Apache's disableRecv does", () => {
    const sink = new HeldSink();
    const { server } = makeServer({ txnSink: sink });
    sink.holding = true;
    const c = new FakeClient(server);
    c.send(connectFrame());
    expect(c.transport.paused).toBe(true);
    sink.release();
    expect(c.transport.paused).toBe(false);
    expect(c.take()).toHaveLength(1);
  });
});

describe("reads and ACLs through the core", () => {
  it("masks digest hashes in getACL without ADMIN and needs READ or ADMIN at all", () => {
    const { server } = makeServer();
    const owner = connected(server);
    owner.request(opCodes.auth, body.auth("digest", "alice:pw"), -4);
    owner.call(opCodes.create, body.create("/secret", "s", 0, [{ perms: 31, id: { scheme: "auth", id: "" } }, { perms: 1, id: { scheme: "world", id: "anyone" } }]));
    const other = connected(server);
    const reply = other.call(opCodes.getACL, body.path("/secret"));
    expect(reply.header.err).toBe(0);
    const count = reply.reader.readVectorLength();
    const ids: string[] = [];
    for (let i = 0; i < count!; i++) {
      reply.reader.readInt();
      ids.push(`${reply.reader.readString()}:${reply.reader.readString()}`);
    }
    expect(ids).toEqual(["digest:alice:x", "world:anyone"]);
    expect(other.call(opCodes.setData, body.setData("/secret", "no")).header.err).toBe(errorCodes.noAuth);
    expect(owner.call(opCodes.setData, body.setData("/secret", "yes")).header.err).toBe(0);
    const stat = StatResponse.read(other.call(opCodes.exists, body.pathWatch("/secret")).reader).stat;
    expect(stat.version).toBe(1);
  });
});
