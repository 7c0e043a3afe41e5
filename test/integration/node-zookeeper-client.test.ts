/**
 * The server through node-zookeeper-client 1.1.3 (npm), a client this project did not write: an "old" client
 * (no readOnly byte, getChildren2, multi, a positive xid on setWatches), reference §2. If our server answered a
 * record in a shape this client does not expect, it would fail to parse it or destroy its socket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { parseZooCfg } from "../../src/config/index.ts";
import { digestId } from "../../src/tree/acl.ts";
import { startTestServer } from "../support/zk-server.ts";
import { codeOf, connect, long, nextState, zookeeper, type Event, type Nzk } from "./support/nzk.ts";

const { ACL, Id, Permission, CreateMode, Exception } = zookeeper;
let server: RunningServer;
let a: Nzk;
let b: Nzk;

beforeAll(async () => {
  server = await startTestServer();
  a = await connect(server.connectString);
  b = await connect(server.connectString);
});

afterAll(async () => {
  a.close();
  b.close();
  await server.close();
});

describe("znode operations", () => {
  it("create, getData, setData with versions, exists, delete", async () => {
    expect(await a.create("/ops", "v0")).toBe("/ops");
    const got = await b.getData("/ops");
    expect(got.data!.toString()).toBe("v0");
    expect(got.stat.version).toBe(0);
    expect(long(got.stat.czxid)).toBe(long(got.stat.mzxid));
    const set = await a.setData("/ops", "v1", 0);
    expect(set.version).toBe(1);
    expect(long(set.mzxid)).toBeGreaterThan(long(got.stat.mzxid));
    expect(await codeOf(a.setData("/ops", "v2", 0))).toBe(Exception.BAD_VERSION);
    expect(await codeOf(a.create("/ops"))).toBe(Exception.NODE_EXISTS);
    expect(await codeOf(a.create("/missing/child"))).toBe(Exception.NO_NODE);
    expect((await b.exists("/ops"))!.dataLength).toBe(2);
    await a.remove("/ops", 1);
    expect(await b.exists("/ops")).toBeNull();
    expect(await codeOf(b.getData("/ops"))).toBe(Exception.NO_NODE);
  });

  it("getChildren (opcode 12, getChildren2) returns the children and the parent's Stat", async () => {
    await a.create("/kids");
    for (const name of ["x", "y", "z"]) await a.create(`/kids/${name}`);
    await a.remove("/kids/y");
    const { children, stat } = await b.getChildren("/kids");
    expect(children.sort()).toEqual(["x", "z"]);
    expect(stat.numChildren).toBe(2);
    expect(stat.cversion).toBe(4); // 3 creates + 1 delete (stored 3 → 3*2 - 2)
    expect(await codeOf(a.remove("/kids"))).toBe(Exception.NOT_EMPTY);
  });

  it("ephemeral sequential names come from the parent's cversion; ephemerals go with their session", async () => {
    await a.create("/seq");
    const c = await connect(server.connectString);
    const first = await c.create("/seq/lock-", null, CreateMode.EPHEMERAL_SEQUENTIAL);
    const second = await c.create("/seq/lock-", null, CreateMode.EPHEMERAL_SEQUENTIAL);
    await c.remove(second);
    const third = await c.create("/seq/lock-", null, CreateMode.EPHEMERAL_SEQUENTIAL);
    expect([first, second, third]).toEqual(["/seq/lock-0000000000", "/seq/lock-0000000001", "/seq/lock-0000000002"]);
    const persistent = await a.create("/seq/p-", null, CreateMode.PERSISTENT_SEQUENTIAL);
    expect(persistent).toBe("/seq/p-0000000003");
    const stat = (await b.exists(first))!;
    expect(long(stat.ephemeralOwner)).toBe(c.sessionId());
    expect(await codeOf(c.create(`${first}/child`))).toBe(-108); // NOCHILDRENFOREPHEMERALS
    const gone = new Promise<Event>((resolve) => void b.exists(first, resolve));
    c.close(); // closeSession: ephemerals are deleted in the same txn
    expect((await gone).name).toBe("NODE_DELETED");
    expect((await b.getChildren("/seq")).children).toEqual(["p-0000000003"]);
  });
});

describe("ACLs and addAuthInfo", () => {
  it("digest ACLs: only the authenticated user gets in; others see the hash masked in getACL", async () => {
    const alice = await connect(server.connectString);
    alice.addAuthInfo("digest", "alice:secret");
    const aliceAcl = [new ACL(Permission.ALL, new Id("auth", "")), new ACL(Permission.READ, new Id("world", "anyone"))];
    await alice.create("/alice", "hers", CreateMode.PERSISTENT, aliceAcl);
    expect((await b.getData("/alice")).data!.toString()).toBe("hers"); // world READ
    expect(await codeOf(b.setData("/alice", "mine"))).toBe(Exception.NO_AUTH);
    expect(await codeOf(b.create("/alice/child"))).toBe(Exception.NO_AUTH);
    const masked = await b.getACL("/alice");
    expect(masked.acls.map((x) => `${x.id.scheme}:${x.id.id}:${x.permission}`)).toEqual(["digest:alice:x:31", "world:anyone:1"]);
    const full = await alice.getACL("/alice");
    expect(full.acls[0]!.id.id).toBe(digestId("alice:secret"));
    await alice.setData("/alice", "still hers");
    // The same user on another connection is the same id.
    const again = await connect(server.connectString);
    again.addAuthInfo("digest", "alice:secret");
    await again.setData("/alice", "from elsewhere");
    expect(await codeOf(again.setACL("/alice", [new ACL(Permission.READ, new Id("world", "anyone"))], 5))).toBe(Exception.BAD_VERSION);
    expect((await again.setACL("/alice", [new ACL(Permission.READ, new Id("world", "anyone"))], 0)).aversion).toBe(1);
    expect(await codeOf(again.setData("/alice", "no longer"))).toBe(Exception.NO_AUTH);
    alice.close();
    again.close();
  });

  it("an auth ACL without an authenticated user is INVALIDACL; an ip ACL matches 127.0.0.1", async () => {
    expect(await codeOf(b.create("/noauth", null, CreateMode.PERSISTENT, [new ACL(Permission.ALL, new Id("auth", ""))]))).toBe(Exception.INVALID_ACL);
    await b.create("/local", "x", CreateMode.PERSISTENT, [new ACL(Permission.ALL, new Id("ip", "127.0.0.0/8"))]);
    expect((await a.getData("/local")).data!.toString()).toBe("x");
    await b.create("/remote", "x", CreateMode.PERSISTENT, [new ACL(Permission.ALL, new Id("ip", "10.0.0.0/8"))]);
    expect(await codeOf(a.getData("/remote"))).toBe(Exception.NO_AUTH);
  });

  it("a super user set by zoo.cfg's DigestAuthenticationProvider.superDigest passes every ACL (ZooKeeperServer.checkACL)", async () => {
    const { config } = parseZooCfg(`dataDir=./unused\nDigestAuthenticationProvider.superDigest=${digestId("super:superpw")}\n`);
    const withSuper = await startTestServer({ superDigest: config.superDigest });
    const alice = await connect(withSuper.connectString);
    const stranger = await connect(withSuper.connectString);
    const impostor = await connect(withSuper.connectString);
    const root = await connect(withSuper.connectString);
    try {
      alice.addAuthInfo("digest", "alice:secret");
      await alice.create("/hers", "x", CreateMode.PERSISTENT, [new ACL(Permission.ALL, new Id("auth", ""))]);
      expect(await codeOf(stranger.getData("/hers"))).toBe(Exception.NO_AUTH);
      // The super name with a wrong password is just another digest user.
      impostor.addAuthInfo("digest", "super:guess");
      expect(await codeOf(impostor.getData("/hers"))).toBe(Exception.NO_AUTH);
      root.addAuthInfo("digest", "super:superpw");
      expect((await root.getData("/hers")).data!.toString()).toBe("x");
      await root.setData("/hers", "y");
      await root.create("/hers/child");
      // ADMIN through super: getACL shows the digest unmasked.
      expect((await root.getACL("/hers")).acls[0]!.id.id).toBe(digestId("alice:secret"));
      await root.remove("/hers/child");
      await root.remove("/hers");
      expect(await root.exists("/hers")).toBeNull();
    } finally {
      for (const c of [alice, stranger, impostor, root]) c.close();
      await withSuper.close();
    }
  });

  it("addAuthInfo with an unknown scheme fails the session's authentication (AUTH_FAILED, connection closed)", async () => {
    const c = await connect(server.connectString);
    const failed = nextState(c.client, "authenticationFailed");
    c.addAuthInfo("kerberos", "whatever");
    await failed;
    expect(await codeOf(c.exists("/"))).toBe(Exception.AUTH_FAILED);
    c.close();
  });
});

describe("transactions (multi)", () => {
  it("commits every op, each answered in the shape the client parses", async () => {
    await a.create("/tx", "0");
    const results = await new Promise<unknown[]>((resolve, reject) =>
      a.client
        .transaction()
        .create("/tx/a", Buffer.from("a"))
        .setData("/tx", Buffer.from("1"), 0)
        .check("/tx", 1)
        .create("/tx/s-", undefined, undefined, CreateMode.PERSISTENT_SEQUENTIAL)
        .remove("/tx/a", 0)
        .commit((error, res) => (error ? reject(error) : resolve(res))),
    );
    expect(results).toHaveLength(5);
    expect(results[0]).toMatchObject({ type: 1, path: "/tx/a" });
    expect(results[3]).toMatchObject({ type: 1, path: "/tx/s-0000000001" });
    expect((await b.getChildren("/tx")).children).toEqual(["s-0000000001"]);
    expect((await b.getData("/tx")).data!.toString()).toBe("1");
  });

  it("applies nothing when one op fails, and reports that op's error", async () => {
    await a.create("/tx2", "0");
    const error = await new Promise<unknown>((resolve) =>
      a.client
        .transaction()
        .create("/tx2/a")
        .setData("/tx2", Buffer.from("x"), 7)
        .create("/tx2/b")
        .commit((e) => resolve(e)),
    );
    expect((error as { getCode(): number }).getCode()).toBe(Exception.BAD_VERSION);
    expect((await b.getChildren("/tx2")).children).toEqual([]);
    expect((await b.getData("/tx2")).stat.version).toBe(0);
  });
});

describe("watches", () => {
  it("a data watch fires once, and before the new data is visible to its client ([checked])", async () => {
    await a.create("/w", "old");
    const order: string[] = [];
    const fired: Event[] = [];
    await b.getData("/w", (event) => {
      fired.push(event);
      order.push(`event ${event.name}`);
    });
    // a writes; as soon as a has its reply, b reads: b's notification must already be ahead of b's read reply.
    await a.setData("/w", "new");
    const read = await b.getData("/w");
    order.push(`read ${read.data!.toString()}`);
    expect(order).toEqual(["event NODE_DATA_CHANGED", "read new"]);
    await a.setData("/w", "newer");
    await b.exists("/"); // a round trip after the second change
    expect(fired).toHaveLength(1);
    expect(fired[0]!.path).toBe("/w");
  });

  it("a client's own write: its watch event arrives before its write's reply", async () => {
    await a.create("/own", "1");
    const order: string[] = [];
    await a.getData("/own", (event) => order.push(event.name));
    // Callbacks, not promises: both run synchronously as the client parses each frame, so this is wire order.
    await new Promise<void>((resolve, reject) =>
      a.client.setData("/own", Buffer.from("2"), -1, (error) => {
        order.push("setData reply");
        if (error) reject(error);
        else resolve();
      }),
    );
    expect(order).toEqual(["NODE_DATA_CHANGED", "setData reply"]);
  });

  it("exists on a missing node watches for its creation; child watches see creates and deletes", async () => {
    const created = new Promise<Event>((resolve) => void b.exists("/later", resolve));
    await a.create("/later");
    expect((await created).name).toBe("NODE_CREATED");
    const childChanged = new Promise<Event>((resolve) => void b.getChildren("/later", resolve));
    await a.create("/later/kid");
    expect(await childChanged).toMatchObject({ name: "NODE_CHILDREN_CHANGED", path: "/later" });
    const deleted = new Promise<Event>((resolve) => void b.getData("/later/kid", resolve));
    await a.remove("/later/kid");
    expect(await deleted).toMatchObject({ name: "NODE_DELETED", path: "/later/kid" });
  });
});
