// Every call of the Promise API against a live server (test/client/server.ts), with ZooKeeper's semantics as the
// expectation: reference §1 (wire), §3 (semantics), Apache `ZooKeeper` javadoc.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BadVersionError,
  ClientUsageError,
  ConnectionLossError,
  InvalidACLError,
  InvalidPathError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NoNodeError,
  NodeExistsError,
  NotEmptyError,
  SessionExpiredError,
  ZooKeeperError,
  acls,
  digestAcl,
  errorForCode,
  ttlMsMax,
  type ACL,
} from "../../src/client/index.ts";
import { connect, eventually, uniquePath, unconnected } from "./helpers.ts";
import { describeWithServer, startServerForClientTests, type TestServer } from "./server.ts";

describeWithServer("client API against a live server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServerForClientTests();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("create", () => {
    it("creates a persistent node and returns its path; create2 also returns the Stat", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath();
      expect(await client.create(base, "hello")).toBe(base);
      const { path, stat } = await client.create2(`${base}/child`, Buffer.from([1, 2, 3]));
      expect(path).toBe(`${base}/child`);
      expect(stat.dataLength).toBe(3);
      expect(stat.version).toBe(0);
      expect(stat.czxid).toBe(stat.mzxid);
      expect(stat.ephemeralOwner).toBe(0n);
      const read = await client.getData(base);
      expect(read.data?.toString()).toBe("hello");
    });

    it("stores null data as null, and no data as empty", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath();
      await client.create(base, null);
      await client.create(`${base}/empty`);
      expect((await client.getData(base)).data).toBeNull();
      expect((await client.getData(`${base}/empty`)).data).toEqual(Buffer.alloc(0));
    });

    it("ephemeral nodes belong to the session and vanish when it closes", async () => {
      const owner = await connect(server.connectString);
      const observer = await connect(server.connectString);
      const path = uniquePath("eph");
      await owner.create(path, "", { mode: "ephemeral" });
      const stat = await observer.exists(path);
      expect(stat?.ephemeralOwner).toBe(owner.session!.sessionId);
      expect(await owner.getEphemerals()).toContain(path);
      await owner.close();
      expect(await observer.exists(path)).toBeNull();
    });

    it("sequential nodes get a 10-digit suffix from the parent's cversion", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath();
      await client.create(base);
      const first = await client.create(`${base}/job-`, "", { mode: "persistentSequential" });
      const second = await client.create(`${base}/job-`, "", { mode: "ephemeralSequential" });
      expect(first).toBe(`${base}/job-0000000000`);
      expect(second).toBe(`${base}/job-0000000001`);
      expect((await client.exists(second))!.ephemeralOwner).toBe(client.session!.sessionId);
    });

    it("container nodes are deleted by the server once their last child goes", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath("container");
      const created = await client.create2(path, "", { mode: "container" });
      expect(created.path).toBe(path);
      await client.create(`${path}/child`);
      await client.delete(`${path}/child`);
      await eventually(async () => (await client.exists(path)) === null, 10_000, "container deletion");
    });

    it("TTL nodes are created with opcode createTTL and deleted after their ttl without children", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath("ttl");
      const { path: created } = await client.create2(path, "x", { mode: "persistentWithTtl", ttlMs: 300 });
      expect(created).toBe(path);
      const seq = await client.create(`${path}-seq-`, "x", { mode: "persistentSequentialWithTtl", ttlMs: 60_000 });
      expect(seq).toMatch(/-seq-\d{10}$/);
      await eventually(async () => (await client.exists(path)) === null, 10_000, "TTL expiry");
      expect(await client.exists(seq)).not.toBeNull();
    });

    it("checks mode and ttlMs before sending, as Apache's EphemeralType.validateTTL does", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath("ttl-bad");
      const refusal = (promise: Promise<unknown>) => promise.then(() => "created", (e: unknown) => e);
      // A TTL mode without a ttl, or with one out of 1..2^40-1: the message names the mode and the value.
      for (const ttlMs of [undefined, 0, -5, 1.5, ttlMsMax + 1]) {
        const error = await refusal(client.create(path, "", { mode: "persistentWithTtl", ...(ttlMs === undefined ? {} : { ttlMs }) }));
        expect(error).toBeInstanceOf(ClientUsageError);
        expect((error as Error).message).toContain(`mode persistentWithTtl needs ttlMs, an integer in 1..${ttlMsMax}; got ${ttlMs}`);
      }
      // A ttl with a mode that has none is not silently dropped.
      const dropped = await refusal(client.create(path, "", { mode: "persistent", ttlMs: 1000 }));
      expect(dropped).toBeInstanceOf(ClientUsageError);
      expect((dropped as Error).message).toContain("ttlMs is only for the modes persistentWithTtl and persistentSequentialWithTtl, not persistent");
      const unknownMode = await refusal(client.create(path, "", { mode: "ephemeralish" as never }));
      expect((unknownMode as Error).message).toContain('unknown mode "ephemeralish"');
      // Inside a transaction too; nothing was created by any of these.
      const inMulti = await refusal(client.transaction().create(path, "", { mode: "persistentSequentialWithTtl" }).commit());
      expect(inMulti).toBeInstanceOf(ClientUsageError);
      expect(await client.exists(path)).toBeNull();
      // The bounds themselves are accepted.
      expect(await client.create(path, "", { mode: "persistentWithTtl", ttlMs: ttlMsMax })).toBe(path);
    });

    it("refuses arguments the types would have refused, naming call, path, argument and value; the client carries on", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath("args");
      await client.create(path, "v0");
      const refusal = async (promise: Promise<unknown>): Promise<string> => {
        const error = await promise.then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(ClientUsageError);
        return (error as Error).message;
      };
      const any = <T>(value: unknown) => value as T;
      // Before: "x" went out as version 0 and the write succeeded; 1.5 as 1.
      expect(await refusal(client.setData(path, "v1", { version: any("x") }))).toBe(`setData ${path}: version must be an integer in -1..2147483647 (-1: any); got "x"`);
      expect(await refusal(client.delete(path, { version: 1.5 }))).toBe(`delete ${path}: version must be an integer in -1..2147483647 (-1: any); got 1.5`);
      expect(await refusal(client.setData(path, any(5)))).toBe(`setData ${path}: data must be a Buffer, a Uint8Array, a string or null; got 5`);
      expect(await refusal(client.getData(path, { watch: any("yes") }))).toBe(`getData ${path}: the watcher must be a function; got "yes"`);
      expect(await refusal(client.exists(path, { timeoutMs: -1 }))).toBe(`exists ${path}: timeoutMs must be a number of milliseconds, 0 or more; got -1`);
      expect(await refusal(client.setACL(path, any([{ perms: 31 }])))).toContain(`setACL ${path}: each ACL entry must be {perms: integer, id: {scheme: string, id: string}}`);
      // Before: an unknown addWatch mode was sent, and its reply threw inside the socket's data handler.
      expect(await refusal(client.addWatch(path, () => {}, any("forever")))).toBe(`addWatch ${path}: mode must be one of persistent, persistentRecursive; got "forever"`);
      expect(await refusal(client.removeWatches(path, any("all")))).toBe(`removeWatches ${path}: watcherType must be one of children, data, any; got "all"`);
      expect(await refusal(client.multi([any({ op: "rename", path })]))).toBe('multi: unknown op "rename" (create, delete, setData, check)');
      expect(await refusal(client.multi([{ op: "check", path, version: any(null) }]))).toBe(`multi check ${path}: version must be an integer in -1..2147483647 (-1: any); got null`);
      expect(() => client.transaction().setData(path, any({ text: "x" }))).toThrow(`transaction setData ${path}: data must be a Buffer, a Uint8Array, a string or null; got an object`);
      // Nothing was sent: the node is untouched, and the session works.
      const { data, stat } = await client.getData(path);
      expect([data?.toString(), stat.version]).toEqual(["v0", 0]);
      expect(client.state.kind).toBe("connected");
    });

    it("fails with typed errors: NodeExists, NoNode for a missing parent, NoChildrenForEphemerals", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath();
      await client.create(base);
      const exists = await client.create(base).catch((e: unknown) => e);
      expect(exists).toBeInstanceOf(NodeExistsError);
      expect(exists).toBeInstanceOf(ZooKeeperError);
      expect(exists).toMatchObject({ code: -110, codeName: "nodeExists", path: base });
      expect((exists as Error).message).toBe(`KeeperErrorCode = NodeExists for ${base}`);

      await expect(client.create(`${base}/missing/child`)).rejects.toBeInstanceOf(NoNodeError);
      await client.create(`${base}/eph`, "", { mode: "ephemeral" });
      await expect(client.create(`${base}/eph/child`)).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
      await expect(client.create(`${base}/bad`, "", { acl: [] })).rejects.toBeInstanceOf(InvalidACLError);
    });

    it("rejects malformed paths before sending anything", async () => {
      const client = await connect(server.connectString);
      await expect(client.create("relative")).rejects.toBeInstanceOf(InvalidPathError);
      await expect(client.create("/a/")).rejects.toBeInstanceOf(InvalidPathError);
      await expect(client.getData("/a//b")).rejects.toBeInstanceOf(InvalidPathError);
      await expect(client.getData("/a/./b")).rejects.toBeInstanceOf(InvalidPathError);
      // A sequential create may end in "/": the server appends the number.
      const base = uniquePath();
      await client.create(base);
      expect(await client.create(`${base}/`, "", { mode: "persistentSequential" })).toBe(`${base}/0000000000`);
    });
  });

  describe("reads and writes", () => {
    it("exists returns null for a missing node and the Stat for an existing one", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      expect(await client.exists(path)).toBeNull();
      await client.create(path, "abc");
      expect((await client.exists(path))!.dataLength).toBe(3);
    });

    it("setData bumps the version and checks the expected one", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path, "v0");
      const stat = await client.setData(path, "v1", { version: 0 });
      expect(stat.version).toBe(1);
      const bad = await client.setData(path, "v2", { version: 0 }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(BadVersionError);
      expect((bad as BadVersionError).message).toBe(`KeeperErrorCode = BadVersion for ${path}`);
      expect((await client.setData(path, "v2")).version).toBe(2); // -1: any version
      await expect(client.setData(`${path}/nope`, "x")).rejects.toBeInstanceOf(NoNodeError);
    });

    it("delete checks the version, refuses a node with children, and NoNode for a missing one", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      await client.create(`${path}/c`);
      await expect(client.delete(path)).rejects.toBeInstanceOf(NotEmptyError);
      await expect(client.delete(`${path}/c`, { version: 5 })).rejects.toBeInstanceOf(BadVersionError);
      await client.delete(`${path}/c`, { version: 0 });
      await client.delete(path);
      await expect(client.delete(path)).rejects.toBeInstanceOf(NoNodeError);
    });

    it("getChildren lists names; getChildren2 adds the parent's Stat", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      for (const name of ["b", "a", "c"]) await client.create(`${path}/${name}`);
      expect((await client.getChildren(path)).sort()).toEqual(["a", "b", "c"]);
      const { children, stat } = await client.getChildren2(path);
      expect(children.sort()).toEqual(["a", "b", "c"]);
      expect(stat.numChildren).toBe(3);
      expect(stat.cversion).toBe(3);
      await expect(client.getChildren(`${path}/none`)).rejects.toBeInstanceOf(NoNodeError);
    });

    it("getAllChildrenNumber counts every descendant", async () => {
      const client = await connect(server.connectString);
      const path = uniquePath();
      await client.create(path);
      await client.create(`${path}/a`);
      await client.create(`${path}/a/b`);
      await client.create(`${path}/c`);
      expect(await client.getAllChildrenNumber(path)).toBe(3);
    });

    it("sync answers with the path", async () => {
      const client = await connect(server.connectString);
      expect(await client.sync("/")).toBe("/");
    });

    it("calls before connect() are refused", async () => {
      const client = unconnected(server.connectString);
      await expect(client.getData("/")).rejects.toBeInstanceOf(ClientUsageError);
    });

    it("a client closed before it connected refuses calls too", async () => {
      const client = unconnected(server.connectString);
      await client.close();
      expect(client.state.kind).toBe("closed");
      await expect(client.getData("/")).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(client.connect()).rejects.toBeInstanceOf(ConnectionLossError);
    });

    it("calls after close() fail with SessionExpiredError, as Apache's client does", async () => {
      const client = await connect(server.connectString);
      await client.close();
      expect(client.state.kind).toBe("closed");
      await expect(client.getData("/")).rejects.toBeInstanceOf(SessionExpiredError);
    });
  });

  describe("ACLs and auth", () => {
    it("getACL/setACL with versions, NoAuth for others, access after addAuthInfo; whoAmI shows the identity", async () => {
      const owner = await connect(server.connectString);
      const other = await connect(server.connectString);
      const path = uniquePath("acl");
      await owner.create(path, "secret");
      const before = await owner.getACL(path);
      expect(before.acl).toEqual(acls.openAclUnsafe);
      expect(before.stat.aversion).toBe(0);

      const acl: ACL[] = [digestAcl("alice", "pw")];
      await expect(owner.setACL(path, acl, { version: 3 })).rejects.toBeInstanceOf(BadVersionError);
      const stat = await owner.setACL(path, acl, { version: 0 });
      expect(stat.aversion).toBe(1);
      // The owner gave the node away: without alice's identity it may not even change the ACL back.
      await expect(owner.setACL(path, acls.openAclUnsafe)).rejects.toBeInstanceOf(NoAuthError);

      const denied = await other.getData(path).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(NoAuthError);
      expect((denied as Error).message).toBe(`KeeperErrorCode = NoAuth for ${path}`);

      await other.addAuthInfo("digest", "alice:pw");
      expect((await other.getData(path)).data?.toString()).toBe("secret");
      expect((await other.getACL(path)).acl).toEqual(acl);
      const identities = await other.whoAmI();
      expect(identities).toContainEqual({ authScheme: "digest", user: "alice" });
      expect(identities).toContainEqual({ authScheme: "ip", user: "127.0.0.1" });
    });

    it("creatorAllAcl gives the node to the authenticated creator", async () => {
      const client = await connect(server.connectString);
      await client.addAuthInfo("digest", "bob:pw");
      const path = uniquePath("creator");
      await client.create(path, "x", { acl: acls.creatorAllAcl });
      expect((await client.getACL(path)).acl[0]!.id.scheme).toBe("digest");
      const stranger = await connect(server.connectString);
      await expect(stranger.setData(path, "y")).rejects.toBeInstanceOf(NoAuthError);
    });
  });

  describe("transactions", () => {
    it("commits all operations atomically and reports per-op results", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath("txn");
      await client.create(base, "v0");
      const results = await client
        .transaction()
        .check(base, 0)
        .create(`${base}/a`, "A")
        .create(`${base}/seq-`, "", { mode: "persistentSequential" })
        .setData(base, "v1", { version: 0 })
        .delete(`${base}/a`)
        .commit();
      expect(results).toEqual([
        { op: "check" },
        { op: "create", path: `${base}/a`, stat: null },
        { op: "create", path: `${base}/seq-0000000001`, stat: null },
        { op: "setData", stat: expect.objectContaining({ version: 1 }) },
        { op: "delete" },
      ]);
    });

    it("on failure applies nothing and rejects with the failing op's typed error and index", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath("txn");
      await client.create(base);
      await client.create(`${base}/taken`);
      const error = await client
        .transaction()
        .create(`${base}/new`)
        .create(`${base}/taken`)
        .setData(base, "x")
        .commit()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NodeExistsError);
      const failure = (error as NodeExistsError).transaction!;
      expect(failure.failedOpIndex).toBe(1);
      expect(failure.failedOpKind).toBe("create");
      expect(failure.codes).toEqual([0, -110, -2]);
      expect((error as Error).message).toBe(`KeeperErrorCode = NodeExists for ${base}/taken (transaction op 1: create)`);
      expect(await client.exists(`${base}/new`)).toBeNull();
      expect((await client.getData(base)).stat.version).toBe(0);
    });

    it("a failed check fails the transaction with BadVersion", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath("txn");
      await client.create(base);
      await expect(client.transaction().check(base, 7).delete(base).commit()).rejects.toBeInstanceOf(BadVersionError);
      expect(await client.exists(base)).not.toBeNull();
    });

    it("multi() takes a list of ops; container and TTL creates inside a transaction return a Stat", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath("txn");
      const results = await client.multi([
        { op: "create", path: base, data: null, acl: acls.openAclUnsafe, mode: "container" },
        { op: "create", path: `${base}-ttl`, data: null, acl: acls.openAclUnsafe, mode: "persistentWithTtl", ttlMs: 60_000 },
      ]);
      expect(results[0]).toMatchObject({ op: "create", path: base, stat: expect.objectContaining({ version: 0 }) });
      expect(results[1]).toMatchObject({ op: "create", path: `${base}-ttl` });
    });

    it("multiRead returns data, children, or an error code per op", async () => {
      const client = await connect(server.connectString);
      const base = uniquePath("mr");
      await client.create(base, "d");
      await client.create(`${base}/x`);
      const results = await client.multiRead([
        { op: "getData", path: base },
        { op: "getChildren", path: base },
        { op: "getData", path: `${base}/missing` },
      ]);
      expect(results[0]).toMatchObject({ op: "getData", data: Buffer.from("d") });
      expect(results[1]).toEqual({ op: "getChildren", children: ["x"] });
      expect(results[2]).toEqual({ op: "error", code: -101 });
    });
  });

  describe("typed errors", () => {
    it("one class per code, carrying code, name and Apache's message", () => {
      const e = errorForCode(-101, "/x");
      expect(e).toBeInstanceOf(NoNodeError);
      expect(e.name).toBe("NoNodeError");
      expect(e.codeName).toBe("noNode");
      expect(e.message).toBe("KeeperErrorCode = NoNode for /x");
      expect(errorForCode(-4).message).toBe("KeeperErrorCode = ConnectionLoss");
      const unknown = errorForCode(-999, "/y");
      expect(unknown).toBeInstanceOf(ZooKeeperError);
      expect(unknown.codeName).toBe("unknown");
    });
  });
});
