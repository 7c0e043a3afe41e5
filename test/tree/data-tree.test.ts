/**
 * DataTree: how transactions change znodes. Each test cites the Apache 3.8 behaviour it pins down
 * (DataTree.processTxn / createNode / deleteNode / setData / setACL / killSession, DataNode.copyStat,
 * EphemeralType) — reference §3 "Semantics that conformance depends on".
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataTree, type TreeEvent } from "../../src/tree/data-tree.ts";
import { openAclUnsafe, readAclUnsafe } from "../../src/tree/acl.ts";
import { containerOwner, ttlOwner } from "../../src/tree/stat.ts";
import type { Txn, TxnHeader } from "../../src/tree/txn.ts";
import type { ACL } from "../../src/proto/records.ts";

const t0 = 1_700_000_000_000n;

function hdr(zxid: bigint, sessionId = 0x100n, type: TxnHeader["type"] = "create"): TxnHeader {
  return { sessionId, cxid: Number(zxid), zxid, timeMs: t0 + zxid * 10n, type };
}

function create(path: string, options: { ephemeral?: boolean; data?: string; parentCVersion?: number; acl?: readonly ACL[] } = {}): Txn {
  return {
    kind: "create",
    path,
    data: Buffer.from(options.data ?? ""),
    acl: options.acl ?? openAclUnsafe,
    ephemeral: options.ephemeral ?? false,
    parentCVersion: options.parentCVersion ?? -1,
  };
}

function newTree(extendedTypesEnabled = false): { tree: DataTree; events: TreeEvent[] } {
  const tree = new DataTree({ extendedTypesEnabled });
  const events: TreeEvent[] = [];
  tree.setWatchTrigger((e) => events.push(e));
  return { tree, events };
}

function statOf(tree: DataTree, path: string) {
  const node = tree.getNode(path);
  if (node === undefined) throw new Error(`no node ${path}`);
  return tree.statOf(node);
}

describe("DataTree: the initial tree (DataTree constructor)", () => {
  it("holds /, /zookeeper, /zookeeper/quota and a read-only /zookeeper/config", () => {
    const { tree } = newTree();
    expect([...tree.paths()]).toEqual(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]);
    expect(tree.getNode("/zookeeper/config")!.acl).toEqual(readAclUnsafe);
    // Apache sets the config node's ACL with setACL(version -1), which leaves aversion at -1.
    expect(statOf(tree, "/zookeeper/config").aversion).toBe(-1);
    expect(tree.lastProcessedZxid).toBe(0n);
  });

  it("shows a fresh root with cversion -1: stored 0, one child (reference §3, [checked])", () => {
    const { tree } = newTree();
    const root = statOf(tree, "/");
    expect(root.numChildren).toBe(1);
    expect(root.cversion).toBe(-1);
    expect(root.czxid).toBe(0n);
    expect(root.pzxid).toBe(0n);
  });
});

describe("DataTree: create (DataTree.createNode)", () => {
  it("stamps czxid = mzxid = pzxid = zxid and ctime = mtime = txn time", () => {
    const { tree } = newTree();
    const result = tree.processTxn(hdr(5n), create("/a", { data: "hello" }));
    expect(result.err).toBe("ok");
    const stat = statOf(tree, "/a");
    expect(stat).toMatchObject({ czxid: 5n, mzxid: 5n, pzxid: 5n, ctime: t0 + 50n, mtime: t0 + 50n });
    expect(stat).toMatchObject({ version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 5, numChildren: 0 });
    expect(result.stat).toEqual(stat);
  });

  it("raises the parent's stored cversion by one and sets its pzxid, but not its mzxid", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), create("/p"));
    tree.processTxn(hdr(2n), create("/p/c1"));
    tree.processTxn(hdr(3n), create("/p/c2"));
    const p = tree.getNode("/p")!;
    expect(p.stat.cversion).toBe(2);
    expect(p.stat.pzxid).toBe(3n);
    expect(p.stat.mzxid).toBe(1n);
    expect(statOf(tree, "/p").cversion).toBe(2 * 2 - 2);
  });

  it("uses the parentCVersion carried by the txn (the prepare step chose it)", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), create("/p"));
    tree.processTxn(hdr(2n), create("/p/a", { parentCVersion: 7 }));
    expect(tree.getNode("/p")!.stat.cversion).toBe(7);
  });

  it("never lowers cversion/pzxid when an older create is replayed over a fuzzy snapshot", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), create("/p"));
    tree.processTxn(hdr(9n), create("/p/b", { parentCVersion: 5 }));
    tree.processTxn(hdr(4n), create("/p/a", { parentCVersion: 3 }));
    const p = tree.getNode("/p")!;
    expect(p.stat.cversion).toBe(5);
    expect(p.stat.pzxid).toBe(9n);
    expect(tree.getNode("/p/a")).toBeDefined();
    expect(tree.lastProcessedZxid).toBe(9n);
  });

  it("answers NONODE for a missing parent and NODEEXISTS for an existing node, changing nothing", () => {
    const { tree, events } = newTree();
    expect(tree.processTxn(hdr(1n), create("/x/y")).err).toBe("noNode");
    tree.processTxn(hdr(2n), create("/a", { data: "one" }));
    events.length = 0;
    expect(tree.processTxn(hdr(3n), create("/a", { data: "two" })).err).toBe("nodeExists");
    expect(tree.getNode("/a")!.data!.toString()).toBe("one");
    expect(events).toEqual([]);
  });

  it("announces NodeCreated on the node and NodeChildrenChanged on the parent", () => {
    const { tree, events } = newTree();
    tree.processTxn(hdr(1n), create("/a"));
    expect(events).toEqual([
      { type: "nodeCreated", path: "/a" },
      { type: "nodeChildrenChanged", path: "/" },
    ]);
  });
});

describe("DataTree: delete (DataTree.deleteNode)", () => {
  it("sets only the parent's pzxid; its stored cversion is unchanged", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), create("/p"));
    tree.processTxn(hdr(2n), create("/p/c"));
    tree.processTxn(hdr(3n, 0x100n, "delete"), { kind: "delete", path: "/p/c" });
    const p = tree.getNode("/p")!;
    expect(p.stat.pzxid).toBe(3n);
    expect(p.stat.cversion).toBe(1);
    expect(p.stat.mzxid).toBe(1n);
    expect(tree.getNode("/p/c")).toBeUndefined();
  });

  it("shows cversion 2 after create+delete of a child: stored*2 - numChildren (DataNode.copyStat, [checked])", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), create("/p"));
    tree.processTxn(hdr(2n), create("/p/c"));
    tree.processTxn(hdr(3n, 0x100n, "delete"), { kind: "delete", path: "/p/c" });
    expect(statOf(tree, "/p")).toMatchObject({ cversion: 2, numChildren: 0 });
  });

  it("announces NodeDeleted on the node and NodeChildrenChanged on the parent; NONODE when missing", () => {
    const { tree, events } = newTree();
    tree.processTxn(hdr(1n), create("/a"));
    events.length = 0;
    tree.processTxn(hdr(2n, 0x100n, "delete"), { kind: "delete", path: "/a" });
    expect(events).toEqual([
      { type: "nodeDeleted", path: "/a" },
      { type: "nodeChildrenChanged", path: "/" },
    ]);
    expect(tree.processTxn(hdr(3n, 0x100n, "delete"), { kind: "delete", path: "/a" }).err).toBe("noNode");
  });

  it("property: the client cversion counts child changes (creates + deletes) for any history", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 })), { maxLength: 40 }), (steps) => {
        const { tree } = newTree();
        let zxid = 1n;
        tree.processTxn(hdr(zxid++), create("/p"));
        let changes = 0;
        for (const [isCreate, n] of steps) {
          const path = `/p/c${n}`;
          const result = isCreate
            ? tree.processTxn(hdr(zxid++), create(path))
            : tree.processTxn(hdr(zxid++, 0x100n, "delete"), { kind: "delete", path });
          if (result.err === "ok") changes++;
        }
        const stat = statOf(tree, "/p");
        expect(stat.cversion).toBe(changes);
        expect(stat.numChildren).toBe(tree.getNode("/p")!.children.size);
      }),
    );
  });
});

describe("DataTree: setData and setACL", () => {
  it("setData stores the txn's version, mtime and mzxid; ctime/czxid stay (DataTree.setData)", () => {
    const { tree, events } = newTree();
    tree.processTxn(hdr(1n), create("/a", { data: "x" }));
    events.length = 0;
    const result = tree.processTxn(hdr(4n, 0x100n, "setData"), { kind: "setData", path: "/a", data: Buffer.from("hello!"), version: 1 });
    expect(result.err).toBe("ok");
    expect(statOf(tree, "/a")).toMatchObject({ version: 1, mzxid: 4n, mtime: t0 + 40n, czxid: 1n, ctime: t0 + 10n, dataLength: 6, pzxid: 1n });
    expect(events).toEqual([{ type: "nodeDataChanged", path: "/a" }]);
  });

  it("setACL stores the ACL and the txn's version as aversion, and announces nothing", () => {
    const { tree, events } = newTree();
    tree.processTxn(hdr(1n), create("/a"));
    events.length = 0;
    const acl: ACL[] = [{ perms: 1, id: { scheme: "world", id: "anyone" } }];
    const result = tree.processTxn(hdr(2n, 0x100n, "setACL"), { kind: "setACL", path: "/a", acl, version: 1 });
    expect(result.err).toBe("ok");
    expect(tree.getNode("/a")!.acl).toEqual(acl);
    expect(statOf(tree, "/a")).toMatchObject({ aversion: 1, mzxid: 1n, version: 0 });
    expect(events).toEqual([]);
  });

  it("an error txn changes nothing but still advances lastProcessedZxid (a failed write consumes a zxid)", () => {
    const { tree } = newTree();
    const before = [...tree.paths()];
    expect(tree.processTxn(hdr(7n, 0x100n, "error"), { kind: "error", err: "noNode" }).err).toBe("noNode");
    expect([...tree.paths()]).toEqual(before);
    expect(tree.lastProcessedZxid).toBe(7n);
  });
});

describe("DataTree: ephemerals per session (DataTree.killSession)", () => {
  it("records ephemerals under their owner and shows the owner in ephemeralOwner", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n, 0xaan), create("/e1", { ephemeral: true }));
    tree.processTxn(hdr(2n, 0xbbn), create("/e2", { ephemeral: true }));
    tree.processTxn(hdr(3n, 0xaan), create("/p"));
    expect([...tree.ephemeralsOf(0xaan)]).toEqual(["/e1"]);
    expect([...tree.ephemeralsOf(0xbbn)]).toEqual(["/e2"]);
    expect(statOf(tree, "/e1").ephemeralOwner).toBe(0xaan);
    expect(statOf(tree, "/p").ephemeralOwner).toBe(0n);
  });

  it("closeSession deletes that session's ephemerals in the same txn, and only those", () => {
    const { tree, events } = newTree();
    tree.processTxn(hdr(1n), create("/p"));
    tree.processTxn(hdr(2n, 0xaan), create("/p/e1", { ephemeral: true }));
    tree.processTxn(hdr(3n, 0xaan), create("/e2", { ephemeral: true }));
    tree.processTxn(hdr(4n, 0xbbn), create("/e3", { ephemeral: true }));
    events.length = 0;
    tree.processTxn(hdr(5n, 0xaan, "closeSession"), { kind: "closeSession", paths2Delete: ["/e2", "/p/e1"] });
    expect(tree.getNode("/p/e1")).toBeUndefined();
    expect(tree.getNode("/e2")).toBeUndefined();
    expect(tree.getNode("/e3")).toBeDefined();
    expect(tree.ephemeralsOf(0xaan).size).toBe(0);
    expect(tree.getNode("/p")!.stat.pzxid).toBe(5n);
    expect(events.filter((e) => e.type === "nodeDeleted").map((e) => e.path).sort()).toEqual(["/e2", "/p/e1"]);
  });

  it("closeSession also deletes ephemerals the txn did not list (killSession's local set)", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n, 0xaan), create("/e", { ephemeral: true }));
    tree.processTxn(hdr(2n, 0xaan, "closeSession"), { kind: "closeSession", paths2Delete: [] });
    expect(tree.getNode("/e")).toBeUndefined();
  });

  it("deleting an ephemeral by hand forgets it for its session", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n, 0xaan), create("/e", { ephemeral: true }));
    tree.processTxn(hdr(2n, 0xaan, "delete"), { kind: "delete", path: "/e" });
    expect(tree.ephemeralsOf(0xaan).size).toBe(0);
    expect(tree.ephemeralsBySession().has(0xaan)).toBe(false);
  });
});

describe("DataTree: containers and TTL nodes (EphemeralType)", () => {
  it("encodes a container as ephemeralOwner Long.MIN_VALUE and shows 0 to clients", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), { kind: "createContainer", path: "/c", data: null, acl: openAclUnsafe, parentCVersion: -1 });
    expect(tree.getNode("/c")!.stat.ephemeralOwner).toBe(containerOwner);
    expect(containerOwner).toBe(-(2n ** 63n));
    expect(statOf(tree, "/c").ephemeralOwner).toBe(0n);
    expect([...tree.containerPaths()]).toEqual(["/c"]);
    // A container may have children (only a normal ephemeral refuses them).
    expect(tree.processTxn(hdr(2n), create("/c/child")).err).toBe("ok");
    expect(tree.ephemeralsBySession().size).toBe(0);
  });

  it("encodes a TTL node as 0xff00_0000_0000_0000 | ttl and shows 0 to clients", () => {
    const { tree } = newTree(true);
    tree.processTxn(hdr(1n), { kind: "createTTL", path: "/t", data: null, acl: openAclUnsafe, parentCVersion: -1, ttlMs: 5000n });
    const owner = tree.getNode("/t")!.stat.ephemeralOwner;
    expect(BigInt.asUintN(64, owner)).toBe(0xff00_0000_0000_1388n);
    expect(owner).toBe(ttlOwner(5000n));
    expect(statOf(tree, "/t").ephemeralOwner).toBe(0n);
    expect([...tree.ttlPaths()]).toEqual(["/t"]);
    tree.processTxn(hdr(2n, 0n, "delete"), { kind: "delete", path: "/t" });
    expect(tree.ttlPaths().size).toBe(0);
  });
});

describe("DataTree: multi (all or nothing)", () => {
  it("a successful multi applies every op, each stamped with the multi's zxid", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), create("/a", { data: "x" }));
    const result = tree.processTxn(hdr(2n, 0x100n, "multi"), {
      kind: "multi",
      txns: [create("/b"), { kind: "setData", path: "/a", data: Buffer.from("y"), version: 1 }, { kind: "delete", path: "/b" }],
    });
    expect(result.err).toBe("ok");
    expect(result.multi!.map((r) => r.err)).toEqual(["ok", "ok", "ok"]);
    expect(tree.getNode("/b")).toBeUndefined();
    expect(statOf(tree, "/a")).toMatchObject({ version: 1, mzxid: 2n });
    expect(tree.getNode("/")!.stat.pzxid).toBe(2n);
  });

  it("a failed multi applies nothing: ops before report ok, the failure its code, later ops RUNTIMEINCONSISTENCY", () => {
    const { tree, events } = newTree();
    tree.processTxn(hdr(1n), create("/a"));
    events.length = 0;
    const rootBefore = { ...tree.getNode("/")!.stat };
    const result = tree.processTxn(hdr(2n, 0x100n, "multi"), {
      kind: "multi",
      txns: [create("/b"), { kind: "error", err: "nodeExists" }, { kind: "error", err: "runtimeInconsistency" }],
    });
    expect(result.multi!.map((r) => r.err)).toEqual(["ok", "nodeExists", "runtimeInconsistency"]);
    // The op before the failure is answered as an error txn with code 0, not as a create.
    expect(result.multi![0]!.txn).toEqual({ kind: "error", err: "ok" });
    expect(result.err).toBe("nodeExists");
    expect(tree.getNode("/b")).toBeUndefined();
    expect(tree.getNode("/")!.stat).toEqual(rootBefore);
    expect(events).toEqual([]);
    expect(tree.lastProcessedZxid).toBe(2n);
  });
});

describe("DataTree: bookkeeping", () => {
  it("counts descendants (getAllChildrenNumber) and walks paths parents-first", () => {
    const { tree } = newTree();
    tree.processTxn(hdr(1n), create("/a"));
    tree.processTxn(hdr(2n), create("/a/b"));
    tree.processTxn(hdr(3n), create("/a/b/c"));
    expect(tree.descendantCount("/a")).toBe(2);
    expect(tree.descendantCount("/missing")).toBe(0);
    const paths = [...tree.paths()];
    expect(paths.indexOf("/a")).toBeLessThan(paths.indexOf("/a/b"));
    expect(paths.indexOf("/a/b")).toBeLessThan(paths.indexOf("/a/b/c"));
    expect(tree.nodeCount).toBe(7);
  });
});
