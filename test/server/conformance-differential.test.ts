/**
 * Conformance fixes found by the differential interop test (test/interop/differential.test.ts): each case pins one
 * place where our server answered differently from Apache ZooKeeper 3.8.0, with the Apache behaviour it now follows
 * (the class that does it, read in 3.8.0's decompiled jar, and seen live on the wire).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ZooKeeperServer, type ServerOptions } from "../../src/server/server.ts";
import {
  Create2Response,
  ErrorResponse,
  GetAllChildrenNumberResponse,
  GetChildrenResponse,
  GetDataResponse,
  MultiHeader,
  PathResponse,
  WhoAmIResponse,
  errorCodes,
  perms,
  type JuteReader,
} from "../../src/proto/index.ts";
import { digestId } from "../../src/tree/acl.ts";
import { FakeClient, FakeClock, HeldSink, RecordingLogger, coreOptions } from "./support/fake.ts";
import { body, opCodes } from "./support/requests.ts";
import { frame, requestFrame } from "./support/wire.ts";

let loggers: RecordingLogger[] = [];
afterEach(() => {
  for (const logger of loggers) expect(logger.lines.filter((l) => l.includes("internal error"))).toEqual([]);
  loggers = [];
});

function makeServer(overrides: Partial<ServerOptions> = {}) {
  const logger = new RecordingLogger();
  loggers.push(logger);
  return new ZooKeeperServer(coreOptions({ clock: new FakeClock(), logger, extendedTypesEnabled: true, ...overrides }));
}

function connected(server: ZooKeeperServer): FakeClient {
  const c = new FakeClient(server);
  c.connect();
  return c;
}

const u1 = { scheme: "digest", id: digestId("u1:p1") };
const errOf = (c: FakeClient, type: number, b?: Parameters<FakeClient["call"]>[1]) => c.call(type, b).header.err;

/** MultiResponse: (type, err, body) per result. */
function readMulti(r: JuteReader): Array<{ type: number; err: number; path?: string | null; stat?: boolean }> {
  const out: Array<{ type: number; err: number; path?: string | null; stat?: boolean }> = [];
  for (;;) {
    const h = MultiHeader.read(r);
    if (h.done) return out;
    if (h.type === 1) out.push({ type: 1, err: h.err, path: PathResponse.read(r).path });
    else if (h.type === 15) out.push({ type: 15, err: h.err, path: Create2Response.read(r).path, stat: true });
    else if (h.type === 4) (GetDataResponse.read(r), out.push({ type: 4, err: h.err }));
    else if (h.type === 8) (GetChildrenResponse.read(r), out.push({ type: 8, err: h.err }));
    else if (h.type === -1) out.push({ type: -1, err: ErrorResponse.read(r).err });
    else out.push({ type: h.type, err: h.err });
  }
}

describe("paths", () => {
  it('reads of "" find the root: Apache keeps the root under "" as well as "/" (DataTree.nodes)', () => {
    const server = makeServer();
    const c = connected(server);
    expect(errOf(c, opCodes.getData, body.pathWatch(""))).toBe(0);
    expect(errOf(c, opCodes.exists, body.pathWatch(""))).toBe(0);
    expect(GetChildrenResponse.read(c.call(opCodes.getChildren, body.pathWatch("")).reader).children).toEqual(["zookeeper"]);
    // getAllChildrenNumber counts the node-map keys under ""+"/": every node but "" itself — one more than for "/".
    const count = (p: string) => GetAllChildrenNumberResponse.read(c.call(opCodes.getAllChildrenNumber, body.path(p)).reader).totalNumber;
    expect(count("/")).toBe(3);
    expect(count("")).toBe(4);
    // Writes still refuse it.
    expect(errOf(c, opCodes.setData, body.setData("", "x"))).toBe(errorCodes.badArguments);
  });

  it("a null path: reads and create/delete answer MARSHALLINGERROR (a NullPointerException), setData BADARGUMENTS", () => {
    const server = makeServer();
    const c = connected(server);
    const nul = null as unknown as string;
    expect(errOf(c, opCodes.getData, body.pathWatch(nul))).toBe(errorCodes.marshallingError);
    expect(errOf(c, opCodes.exists, body.pathWatch(nul))).toBe(errorCodes.marshallingError);
    expect(errOf(c, opCodes.getACL, body.path(nul))).toBe(errorCodes.marshallingError);
    const before = server.lastZxid;
    expect(errOf(c, opCodes.create, body.create(nul))).toBe(errorCodes.marshallingError);
    expect(server.lastZxid).toBe(before + 1n); // a write: it still took a zxid (error txn)
    expect(errOf(c, opCodes.delete, body.delete(nul))).toBe(errorCodes.marshallingError);
    expect(errOf(c, opCodes.setData, body.setData(nul, "x"))).toBe(errorCodes.badArguments);
  });
});

describe("order of lists (Apache's HashSets, as a JVM iterates them)", () => {
  it("getChildren lists children in their DataNode HashSet's order, not creation order", () => {
    const server = makeServer();
    const c = connected(server);
    c.call(opCodes.create, body.create("/c"));
    c.call(opCodes.create, body.create("/c/e", "", 1));
    c.call(opCodes.create, body.create("/c/s-", "", 2));
    c.call(opCodes.create, body.create("/c/es-", "", 3));
    const names = () => GetChildrenResponse.read(c.call(opCodes.getChildren, body.pathWatch("/c")).reader).children;
    expect(names()).toEqual(["s-0000000001", "es-0000000002", "e"]);
    // Ten children grow the table past its 8 buckets; a removal does not shrink it.
    c.call(opCodes.create, body.create("/g"));
    for (let i = 0; i < 10; i++) c.call(opCodes.create, body.create(`/g/c${i}`));
    c.call(opCodes.delete, body.delete("/g/c3"));
    c.call(opCodes.create, body.create("/g/zz"));
    expect(GetChildrenResponse.read(c.call(opCodes.getChildren, body.pathWatch("/g")).reader).children).toEqual([
      "zz", "c4", "c5", "c6", "c7", "c8", "c9", "c0", "c1", "c2",
    ]);
  });

  it("getEphemerals lists a clone of the session's ephemeral HashSet", () => {
    const server = makeServer();
    const c = connected(server);
    c.call(opCodes.create, body.create("/s"));
    for (const p of ["/s/e1", "/s/e2-0000000001", "/s/p/e3"]) {
      if (p === "/s/p/e3") c.call(opCodes.create, body.create("/s/p"));
      c.call(opCodes.create, body.create(p, "", 1));
    }
    const listed = c.call(opCodes.getEphemerals, body.path("/")).reader;
    expect(GetChildrenResponse.read(listed).children).toEqual(["/s/p/e3", "/s/e1", "/s/e2-0000000001"]);
  });
});

describe("ACLs and auth", () => {
  it("delete checks DELETE on the parent before looking the node up: NOAUTH for a missing child (PrepRequestProcessor)", () => {
    const server = makeServer();
    const owner = connected(server);
    owner.call(opCodes.auth, body.auth("digest", "u1:p1"));
    owner.call(opCodes.create, body.create("/locked", "", 0, [{ perms: perms.all, id: u1 }]));
    const other = connected(server);
    expect(errOf(other, opCodes.delete, body.delete("/locked/missing"))).toBe(errorCodes.noAuth);
    expect(errOf(owner, opCodes.delete, body.delete("/locked/missing"))).toBe(errorCodes.noNode);
  });

  it("whoAmI lists authInfo in ConcurrentHashMap order with the provider's user name (AuthUtil.getClientInfos)", () => {
    const server = makeServer();
    const c = connected(server);
    c.request(opCodes.auth, body.auth("digest", "u1:p1"), -4);
    const info = WhoAmIResponse.read(c.call(opCodes.whoAmI).reader).clientInfo;
    expect(info).toEqual([
      { authScheme: "digest", user: "u1" },
      { authScheme: "ip", user: "127.0.0.1" },
    ]);
  });

  it("a watcher that may not READ the node is not told of its change, and its one-time watch is used up (NIOServerCnxn.process)", () => {
    const server = makeServer();
    const owner = connected(server);
    owner.call(opCodes.auth, body.auth("digest", "u1:p1"));
    owner.call(opCodes.create, body.create("/secret", "", 0, [{ perms: perms.all, id: u1 }]));
    const stranger = connected(server);
    stranger.call(opCodes.exists, body.pathWatch("/secret", true));
    owner.request(opCodes.setData, body.setData("/secret", "x"));
    expect(stranger.takeReplies()).toEqual([]);
    expect(server.watches.contains("/secret", stranger.conn, 2)).toBe(false);
  });
});

describe("writes in flight (pipelined, the log not yet durable)", () => {
  it("a setACL in flight leaves its node's old ACL in force for the writes prepared after it (Apache's ChangeRecord)", () => {
    const sink = new HeldSink();
    const server = makeServer({ txnSink: sink });
    const c = connected(server);
    c.call(opCodes.create, body.create("/n"));
    sink.holding = true;
    c.send(requestFrame(10, opCodes.setACL, body.setACL("/n", [{ perms: perms.read, id: { scheme: "world", id: "anyone" } }])));
    c.send(requestFrame(11, opCodes.create, body.create("/n/child")));
    sink.holding = false;
    sink.release();
    expect(c.takeReplies().map((r) => [r.header.xid, r.header.err])).toEqual([[10, 0], [11, 0]]);
    // Once applied, the new ACL rules.
    expect(c.call(opCodes.create, body.create("/n/other")).header.err).toBe(errorCodes.noAuth);
  });
});

describe("watch management requests", () => {
  it("checkWatches answers for any watcher of the path, as Apache 3.8.0's WatchManager.containsWatcher does", () => {
    const server = makeServer();
    const watcher = connected(server);
    const other = connected(server);
    watcher.call(opCodes.exists, body.pathWatch("/w", true));
    const check = (c: FakeClient, path: string, type: number) => errOf(c, opCodes.checkWatches, (w) => void w.writeString(path).writeInt(type));
    expect(check(other, "/w", 2)).toBe(0);
    expect(check(other, "/w", 1)).toBe(errorCodes.noWatcher);
    expect(check(other, "", 2)).toBe(errorCodes.noWatcher);
    // PathParentIterator throws on a path without "/" and WatcherType.fromInt on a type other than 1..3.
    expect(check(other, "w", 2)).toBe(errorCodes.marshallingError);
    expect(check(other, "/w", 0)).toBe(errorCodes.marshallingError);
    // removeWatches stays precise: only the connection's own watch.
    expect(errOf(other, opCodes.removeWatches, (w) => void w.writeString("/w").writeInt(2))).toBe(errorCodes.noWatcher);
    expect(errOf(other, opCodes.removeWatches, (w) => void w.writeString("/w").writeInt(9))).toBe(errorCodes.marshallingError);
  });

  it("addWatch with a mode other than 0/1 is MARSHALLINGERROR (WatcherMode.fromZooDef throws)", () => {
    const c = connected(makeServer());
    expect(errOf(c, opCodes.addWatch, body.addWatch("/", 2))).toBe(errorCodes.marshallingError);
  });
});

describe("unreadable and unusual requests", () => {
  it("an unreadable read is MARSHALLINGERROR with no zxid; an unreadable write takes one; the connection stays", () => {
    const server = makeServer();
    const c = connected(server);
    const zxid = server.lastZxid;
    c.send(frame(Buffer.from("00000005000000040000", "hex"))); // getData, cut short
    expect(c.takeReplies().map((r) => r.header)).toEqual([{ xid: 5, zxid, err: errorCodes.marshallingError }]);
    c.send(frame(Buffer.from("00000006000000010000", "hex"))); // create, cut short
    expect(c.takeReplies().map((r) => r.header)).toEqual([{ xid: 6, zxid: zxid + 1n, err: errorCodes.marshallingError }]);
    expect(c.transport.closed).toBe(false);
  });

  it("an unreadable auth packet closes the connection unanswered (ZooKeeperServer.processPacket)", () => {
    const c = connected(makeServer());
    c.send(frame(Buffer.from("fffffffc0000006400", "hex")));
    expect(c.take()).toEqual([]);
    expect(c.transport.closed).toBe(true);
  });

  it("an unknown opcode is answered UNIMPLEMENTED with zxid -1 (UnimplementedRequestProcessor), then closed", () => {
    const c = connected(makeServer());
    const [reply] = c.request(200);
    expect(reply!.header).toEqual({ xid: 1, zxid: -1n, err: errorCodes.unimplemented });
    expect(c.transport.closed).toBe(true);
  });

  it("a reconfig is an error txn (RECONFIGDISABLED) with its own zxid; an unreadable one takes none", () => {
    const server = makeServer();
    const c = connected(server);
    const zxid = server.lastZxid;
    const reconfig = (w: Parameters<NonNullable<Parameters<FakeClient["call"]>[1]>>[0]) =>
      void w.writeString(null).writeString(null).writeString(null).writeLong(-1n);
    expect(c.call(opCodes.reconfig, reconfig).header).toMatchObject({ zxid: zxid + 1n, err: errorCodes.reconfigDisabled });
    expect(c.call(opCodes.reconfig).header).toMatchObject({ zxid: zxid + 1n, err: errorCodes.marshallingError });
  });

  it("deleteContainer (20) from a client is BADARGUMENTS with a zxid: Apache reads the whole packet as the path", () => {
    const server = makeServer();
    const c = connected(server);
    c.call(opCodes.createContainer, body.create("/box", "", 4));
    const zxid = server.lastZxid;
    expect(c.call(opCodes.deleteContainer, (w) => void w.writeRaw(Buffer.from("/box"))).header).toMatchObject({ zxid: zxid + 1n, err: errorCodes.badArguments });
    expect(server.tree.getNode("/box")).toBeDefined();
  });

  it("opcode 21 with a non-TTL mode and a negative ttl fails like any create until it would succeed, then BADARGUMENTS", () => {
    const server = makeServer();
    const c = connected(server);
    expect(errOf(c, opCodes.createTTL, body.createTTL("/missing/x", -5n, 0))).toBe(errorCodes.noNode);
    c.call(opCodes.create, body.create("/x"));
    expect(errOf(c, opCodes.createTTL, body.createTTL("/x", -5n, 0))).toBe(errorCodes.nodeExists);
    expect(errOf(c, opCodes.createTTL, body.createTTL("/y", -5n, 0))).toBe(errorCodes.badArguments);
    expect(errOf(c, opCodes.createTTL, body.createTTL("/y", 5n, 0))).toBe(errorCodes.badArguments);
  });
});

describe("multi and multiRead", () => {
  const create = (path: string, flags = 0): [number, Parameters<FakeClient["call"]>[1] & {}] => [opCodes.create, body.create(path, "", flags)];

  it("a create's op type comes from its mode (Op.create): 15 becomes 1, a container or TTL mode answers type 15 with a Stat", () => {
    const c = connected(makeServer());
    const reply = c.call(
      opCodes.multi,
      body.multi([
        [opCodes.create2, body.create("/a")],
        create("/c", 4),
        [opCodes.createTTL, body.createTTL("/t", 1000n, 5)],
        [opCodes.createTTL, body.createTTL("/p", 1000n, 0)], // a non-TTL mode through 21: plain create, ttl dropped
      ]),
    );
    expect(readMulti(reply.reader)).toEqual([
      { type: 1, err: 0, path: "/a" },
      { type: 15, err: 0, path: "/c", stat: true },
      { type: 15, err: 0, path: "/t", stat: true },
      { type: 1, err: 0, path: "/p" },
    ]);
  });

  it("a TTL mode through opcode 1 fails the whole multi with MARSHALLINGERROR (ClassCastException) — unless an op before it failed", () => {
    const server = makeServer();
    const c = connected(server);
    const zxid = server.lastZxid;
    expect(c.call(opCodes.multi, body.multi([create("/ok"), create("/t", 5)])).header).toMatchObject({ zxid: zxid + 1n, err: errorCodes.marshallingError });
    expect(server.tree.getNode("/ok")).toBeUndefined();
    const failed = c.call(opCodes.multi, body.multi([[opCodes.delete, body.delete("/none")], create("/t", 5)]));
    expect(failed.header.err).toBe(0);
    expect(readMulti(failed.reader)).toEqual([
      { type: -1, err: errorCodes.noNode },
      { type: -1, err: errorCodes.runtimeInconsistency },
    ]);
  });

  it("a null path skips a zxid and answers MARSHALLINGERROR with an empty MultiResponse (getPendingChanges throws)", () => {
    const server = makeServer();
    const c = connected(server);
    const zxid = server.lastZxid;
    const reply = c.call(opCodes.multi, body.multi([create("/a"), [opCodes.delete, body.delete(null as unknown as string)]]));
    expect(reply.header).toEqual({ xid: reply.header.xid, zxid, err: errorCodes.marshallingError });
    expect(readMulti(reply.reader)).toEqual([]);
    expect(c.call(opCodes.create, body.create("/b")).header.zxid).toBe(zxid + 2n);
  });

  it("multiRead reads each op's watch flag, answers each op on its own, and breaks off at a null path keeping what came before", () => {
    const c = connected(makeServer());
    const read = (path: string | null): [number, Parameters<FakeClient["call"]>[1] & {}] => [opCodes.getData, body.pathWatch(path as string)];
    const ok = c.call(opCodes.multiRead, body.multi([read("/"), read("/none"), [opCodes.getChildren, body.pathWatch("/")]]));
    expect(readMulti(ok.reader)).toEqual([{ type: 4, err: 0 }, { type: -1, err: errorCodes.noNode }, { type: 8, err: 0 }]);
    const broken = c.call(opCodes.multiRead, body.multi([read("/"), read(null), read("/")]));
    expect(broken.header.err).toBe(errorCodes.marshallingError);
    expect(readMulti(broken.reader)).toEqual([{ type: 4, err: 0 }]);
    // Writes only: "Invalid type of readOp" on the first, an empty MultiResponse with the error.
    const writes = c.call(opCodes.multiRead, body.multi([[opCodes.delete, body.delete("/x")]]));
    expect(writes.header.err).toBe(errorCodes.marshallingError);
    expect(readMulti(writes.reader)).toEqual([]);
  });
});

describe("the container manager", () => {
  it("deletes its candidates in Apache's order: containers then TTL nodes, each in ConcurrentHashMap order, through a HashSet", () => {
    const clock = new FakeClock();
    const server = makeServer({ clock });
    const c = connected(server);
    c.call(opCodes.create, body.create("/k"));
    for (const p of ["/k/box", "/k/box3", "/k/bb", "/k/unused"]) c.call(opCodes.createContainer, body.create(p, "", 4));
    for (const p of ["/k/t1", "/k/t2", "/k/tt"]) c.call(opCodes.createTTL, body.createTTL(p, 1n));
    for (const p of ["/k/box/c", "/k/box3/c", "/k/bb/c", "/k/t2/kept"]) c.call(opCodes.create, body.create(p));
    for (const p of ["/k/box/c", "/k/box3/c", "/k/bb/c"]) c.call(opCodes.delete, body.delete(p));
    const watcher = connected(server);
    for (const p of ["/k/box", "/k/box3", "/k/bb", "/k/unused", "/k/t1", "/k/t2", "/k/tt"]) watcher.call(opCodes.exists, body.pathWatch(p, true));
    clock.advance(10);
    server.checkContainers();
    // What Apache 3.8.0 sent in the same case (differential interop test, "the container manager").
    expect(watcher.takeReplies().map((r) => r.event?.path)).toEqual(["/k/box3", "/k/bb", "/k/tt", "/k/box", "/k/t1"]);
  });
});

describe("sessions", () => {
  it("closing a session deletes its ephemerals in its HashSet clone's order, and watchers hear them in it", () => {
    const server = makeServer();
    const owner = connected(server);
    owner.call(opCodes.create, body.create("/s"));
    owner.call(opCodes.create, body.create("/s/e1", "", 1));
    owner.call(opCodes.create, body.create("/s/e2-", "", 3));
    owner.call(opCodes.create, body.create("/s/p"));
    owner.call(opCodes.create, body.create("/s/p/e3", "", 1));
    const watcher = connected(server);
    for (const p of ["/s/e1", "/s/e2-0000000001", "/s/p/e3"]) watcher.call(opCodes.exists, body.pathWatch(p, true));
    owner.request(opCodes.closeSession);
    // The order a JVM prints for a clone of a HashSet<String> of these three paths (and Apache 3.8.0 deleted them in).
    expect(watcher.takeReplies().map((r) => r.event?.path)).toEqual(["/s/p/e3", "/s/e1", "/s/e2-0000000001"]);
  });
});
