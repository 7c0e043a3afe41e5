/**
 * The prepare step against Apache 3.8 `PrepRequestProcessor` (pRequest2Txn, pRequest2TxnCreate, fixupACL,
 * getRecordForPath and the outstandingChanges list, multi rollback). Writes are checked against the tree *plus*
 * every write prepared before them and not yet applied (group commit, Zab).
 */
import { describe, expect, it } from "vitest";
import { Preparer, formatSequence, type PrepareContext } from "../../src/server/prepare.ts";
import type { ClientRequest, CreateRequestBody, MultiOp } from "../../src/server/requests.ts";
import { DataTree } from "../../src/tree/data-tree.ts";
import { digestId, openAclUnsafe } from "../../src/tree/acl.ts";
import type { Txn } from "../../src/tree/txn.ts";
import type { ACL, Id } from "../../src/proto/records.ts";

const session = 0x42n;
const ipId: Id = { scheme: "ip", id: "127.0.0.1" };

function setup(extendedTypesEnabled = false) {
  const tree = new DataTree({ extendedTypesEnabled });
  const preparer = new Preparer(tree, extendedTypesEnabled);
  let zxid = 0n;
  const prepared: Array<{ zxid: bigint; txn: Txn }> = [];
  /** Prepares one request with the next zxid; it stays outstanding until `applyAll`. */
  const prepare = (request: ClientRequest, over: Partial<PrepareContext> = {}) => {
    const ctx: PrepareContext = { zxid: ++zxid, timeMs: 1000n + zxid, sessionId: session, authIds: [ipId], sessionIsLive: true, ...over };
    const result = preparer.prepare(request, ctx);
    prepared.push({ zxid: ctx.zxid, txn: result.txn });
    return result;
  };
  const applyAll = () => {
    for (const { zxid: z, txn } of prepared.splice(0)) {
      tree.processTxn({ sessionId: session, cxid: 0, zxid: z, timeMs: 1000n + z, type: txn.kind === "error" ? "error" : "create" }, txn);
      preparer.applied(z);
    }
  };
  return { tree, preparer, prepare, applyAll };
}

function create(path: string, flags = 0, acl: ACL[] | null = [...openAclUnsafe], ttlMs = -1n): CreateRequestBody {
  return { op: ttlMs >= 0n ? "createTTL" : "create", path, data: Buffer.from("d"), acl, flags, ttlMs };
}
const del = (path: string, version = -1): MultiOp => ({ op: "delete", path, version });
const setData = (path: string, version = -1): MultiOp => ({ op: "setData", path, data: Buffer.from("v"), version });
const check = (path: string, version: number): MultiOp => ({ op: "check", path, version });
const pathOf = (txn: Txn) => ("path" in txn ? txn.path : undefined);

describe("sequential names: path + %010d of the parent's stored cversion", () => {
  it("two sequential creates prepared before either is applied get consecutive names", () => {
    const { prepare, applyAll, tree } = setup();
    prepare(create("/q"));
    applyAll();
    const a = prepare(create("/q/job-", 2));
    const b = prepare(create("/q/job-", 2));
    expect(pathOf(a.txn)).toBe("/q/job-0000000000");
    expect(pathOf(b.txn)).toBe("/q/job-0000000001");
    applyAll();
    expect([...tree.getNode("/q")!.children]).toEqual(["job-0000000000", "job-0000000001"]);
    expect(tree.getNode("/q")!.stat.cversion).toBe(2);
  });

  it("counts creates, not children: after create + delete the next suffix is 0000000001 (reference §3, [checked])", () => {
    const { prepare, applyAll } = setup();
    prepare(create("/p"));
    prepare(create("/p/x"));
    prepare(del("/p/x"));
    expect(pathOf(prepare(create("/p/s", 2)).txn)).toBe("/p/s0000000001");
    applyAll();
    expect(pathOf(prepare(create("/p/s", 2)).txn)).toBe("/p/s0000000002");
  });

  it("a sequential create under / with a trailing slash names the child directly", () => {
    const { prepare } = setup();
    prepare(create("/d"));
    expect(pathOf(prepare(create("/d/", 2)).txn)).toBe("/d/0000000000");
    expect(pathOf(prepare(create("/", 2)).txn)).toBe("/0000000001");
  });

  it("formats like Java's String.format(\"%010d\"), negatives included (JDK: -5 → -000000005)", () => {
    expect(formatSequence(0)).toBe("0000000000");
    expect(formatSequence(42)).toBe("0000000042");
    expect(formatSequence(2147483647)).toBe("2147483647");
    expect(formatSequence(-5)).toBe("-000000005");
  });
});

describe("outstanding changes: later writes see earlier unapplied ones (getRecordForPath)", () => {
  it("a second create of the same path is NODEEXISTS before the first is applied", () => {
    const { prepare } = setup();
    expect(prepare(create("/a")).err).toBe("ok");
    expect(prepare(create("/a")).err).toBe("nodeExists");
  });

  it("a child of a pending node can be created; the pending parent cannot be deleted then (NOTEMPTY)", () => {
    const { prepare, applyAll, tree } = setup();
    prepare(create("/a"));
    expect(prepare(create("/a/b")).err).toBe("ok");
    expect(prepare(del("/a")).err).toBe("notEmpty");
    applyAll();
    expect(tree.getNode("/a/b")).toBeDefined();
  });

  it("a pending delete makes the path free for a create and missing for a setData", () => {
    const { prepare, applyAll } = setup();
    prepare(create("/a"));
    applyAll();
    prepare(del("/a"));
    expect(prepare(setData("/a")).err).toBe("noNode");
    expect(prepare(create("/a")).err).toBe("ok");
  });

  it("versions chain through pending setData: each expects the version the previous one produced", () => {
    const { prepare, applyAll, tree } = setup();
    prepare(create("/a"));
    expect(prepare(setData("/a", 0)).err).toBe("ok");
    expect(prepare(setData("/a", 1)).err).toBe("ok");
    expect(prepare(setData("/a", 1)).err).toBe("badVersion");
    expect(prepare(setData("/a", -1)).txn).toMatchObject({ kind: "setData", version: 3 });
    applyAll();
    expect(tree.getNode("/a")!.stat.version).toBe(3);
  });

  it("applied(zxid) drops the records of applied txns; the tree answers again", () => {
    const { prepare, applyAll, preparer } = setup();
    prepare(create("/a"));
    expect(preparer.hasOutstandingChanges).toBe(true);
    applyAll();
    expect(preparer.hasOutstandingChanges).toBe(false);
    expect(prepare(create("/a")).err).toBe("nodeExists");
  });

  it("closeSession deletes the session's ephemerals as they will be, pending ones included", () => {
    const { prepare, applyAll } = setup();
    prepare(create("/e1", 1));
    prepare(create("/e2", 1));
    applyAll();
    prepare(create("/e3", 1));
    prepare(del("/e1"));
    prepare(create("/other", 1), { sessionId: 0x99n });
    const closing = prepare({ op: "closeSession" });
    expect(closing.txn).toEqual({ kind: "closeSession", paths2Delete: ["/e2", "/e3"] });
  });
});

describe("multi: atomic prepare with rollback", () => {
  it("ops see the ops before them inside the same multi", () => {
    const { prepare, applyAll, tree } = setup();
    const result = prepare({
      op: "multi",
      ops: [create("/m"), create("/m/c"), setData("/m", 0), check("/m", 1), del("/m/c"), create("/m/s", 2)],
    });
    expect(result.err).toBe("ok");
    const txns = (result.txn as Extract<Txn, { kind: "multi" }>).txns;
    expect(txns.map((t) => t.kind)).toEqual(["create", "create", "setData", "check", "delete", "create"]);
    // The multi's own creates count: /m/c was create #1 of /m, so the sequential child is #2 → suffix 1.
    expect(pathOf(txns[5]!)).toBe("/m/s0000000001");
    applyAll();
    expect([...tree.getNode("/m")!.children]).toEqual(["s0000000001"]);
  });

  it("a failing op marks itself with its code and every later op RUNTIMEINCONSISTENCY", () => {
    const { prepare } = setup();
    const result = prepare({ op: "multi", ops: [create("/a"), check("/a", 5), create("/b")] });
    expect(result.txn).toEqual({
      kind: "multi",
      txns: [expect.objectContaining({ kind: "create", path: "/a" }), { kind: "error", err: "badVersion" }, { kind: "error", err: "runtimeInconsistency" }],
    });
  });

  it("rolls back the change records of a failed multi: its creates never happened for later writes", () => {
    const { prepare, applyAll, tree } = setup();
    prepare({ op: "multi", ops: [create("/x"), create("/missing/y")] });
    expect(prepare(create("/x")).err).toBe("ok");
    applyAll();
    expect(tree.getNode("/x")).toBeDefined();
    expect(tree.getNode("/missing")).toBeUndefined();
  });

  it("rollback restores the newest surviving record of a path (a pending setData before the multi)", () => {
    const { prepare } = setup();
    prepare(create("/a"));
    prepare(setData("/a", 0)); // /a will be at version 1
    prepare({ op: "multi", ops: [setData("/a", 1), del("/nope")] }); // would take it to 2, then fails
    expect(prepare(setData("/a", 1)).err).toBe("ok");
  });

  it("a failed single write is an error txn and leaves no change record behind", () => {
    const { prepare, preparer } = setup();
    const failed = prepare(create("/no/parent"));
    expect(failed).toEqual({ txn: { kind: "error", err: "noNode" }, err: "noNode" });
    expect(preparer.hasOutstandingChanges).toBe(false);
  });
});

describe("create checks, in Apache's order (pRequest2TxnCreate)", () => {
  it.each([
    ["an unknown create flag", "badArguments", create("/a", 9)],
    ["a relative path", "badArguments", create("a")],
    ["a path with an empty name", "badArguments", create("//a")],
    // The parent is looked up (NONODE) before the full path is validated.
    ["a path ending in / under a missing parent", "noNode", create("/nope/")],
    ["a path ending in / (not sequential)", "badArguments", create("/zookeeper/")],
    ["a path with a . name", "badArguments", create("/zookeeper/.")],
    ["a null ACL", "invalidACL", create("/a", 0, null)],
    ["an empty ACL", "invalidACL", create("/a", 0, [])],
    ["an ACL checked before the parent", "invalidACL", create("/nope/a", 0, [])],
    ["a missing parent", "noNode", create("/a/b")],
    ["the root", "nodeExists", create("/")],
    ["/zookeeper", "nodeExists", create("/zookeeper")],
  ] as Array<[string, string, CreateRequestBody]>)("%s → %s", (_what, err, request) => {
    const { prepare } = setup();
    expect(prepare(request).err).toBe(err);
  });

  it("a child of a normal ephemeral is NOCHILDRENFOREPHEMERALS; of a container it is fine", () => {
    const { prepare } = setup();
    prepare(create("/e", 1));
    expect(prepare(create("/e/c")).err).toBe("noChildrenForEphemerals");
    prepare({ ...create("/c", 4), op: "createContainer" });
    expect(prepare(create("/c/x")).err).toBe("ok");
  });

  it("needs CREATE on the parent; the auth scheme expands to the caller's digest", () => {
    const { prepare } = setup();
    const alice: Id = { scheme: "digest", id: digestId("alice:pw") };
    expect(prepare(create("/locked", 0, [{ perms: 31, id: { scheme: "auth", id: "" } }]), { authIds: [ipId, alice] }).txn).toMatchObject({
      acl: [{ perms: 31, id: alice }],
    });
    expect(prepare(create("/locked/x")).err).toBe("noAuth");
    expect(prepare(create("/locked/x"), { authIds: [ipId, alice] }).err).toBe("ok");
    expect(prepare(create("/locked/y"), { authIds: [{ scheme: "super", id: "" }] }).err).toBe("ok");
  });

  it("TTL nodes: need extendedTypesEnabled (UNIMPLEMENTED), a ttl in 1..2^40-1, and a TTL mode to go with opcode 21", () => {
    expect(setup(false).prepare(create("/t", 5, [...openAclUnsafe], 1000n)).err).toBe("unimplemented");
    const { prepare } = setup(true);
    expect(prepare(create("/t", 5, [...openAclUnsafe], 0n)).err).toBe("badArguments");
    expect(prepare(create("/t", 5, [...openAclUnsafe], 0x10000000000n)).err).toBe("badArguments");
    expect(prepare(create("/t", 0, [...openAclUnsafe], 1000n)).err).toBe("badArguments"); // createTTL, non-TTL mode
    expect(prepare(create("/t", 5)).err).toBe("badArguments"); // a TTL mode through plain create (no ttl)
    // Opcode 21 with a non-TTL mode and a negative ttl: Apache's apply would throw; it must never become a node
    // whose ephemeralOwner (-1) names no session (found by the fuzzer).
    expect(prepare({ ...create("/t", 1), op: "createTTL", ttlMs: -1n }).err).toBe("badArguments");
    expect(prepare(create("/t", 5, [...openAclUnsafe], 1000n)).txn).toMatchObject({ kind: "createTTL", path: "/t", ttlMs: 1000n });
    expect(pathOf(prepare(create("/ts-", 6, [...openAclUnsafe], 1000n)).txn)).toBe("/ts-0000000001");
  });

  it("a write from a session that is not live is SESSIONEXPIRED", () => {
    const { prepare } = setup();
    expect(prepare(create("/a"), { sessionIsLive: false }).err).toBe("sessionExpired");
  });
});

describe("delete, setData, setACL checks", () => {
  it("delete refuses special paths and relative paths (BADARGUMENTS), children (NOTEMPTY), wrong versions", () => {
    const { prepare, applyAll } = setup();
    for (const path of ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "rel"]) expect(prepare(del(path)).err).toBe("badArguments");
    prepare(create("/a"));
    prepare(create("/a/b"));
    applyAll();
    expect(prepare(del("/a")).err).toBe("notEmpty");
    expect(prepare(del("/a/b", 3)).err).toBe("badVersion");
    expect(prepare(del("/a/b", 0)).err).toBe("ok");
    expect(prepare(del("/nope")).err).toBe("noNode");
  });

  it("delete needs DELETE on the parent, setData WRITE on the node", () => {
    const { prepare, applyAll } = setup();
    prepare(create("/ro", 0, [{ perms: 1 | 4, id: { scheme: "world", id: "anyone" } }]));
    prepare(create("/ro/c"));
    applyAll();
    expect(prepare(del("/ro/c")).err).toBe("noAuth");
    expect(prepare(setData("/ro")).err).toBe("noAuth");
    expect(prepare(setData("/ro/c")).err).toBe("ok");
  });

  it("setACL checks ADMIN, the ACL, and the aversion; it bumps aversion only", () => {
    const { prepare, applyAll } = setup();
    prepare(create("/a"));
    applyAll();
    const readOnly: ACL[] = [{ perms: 1, id: { scheme: "world", id: "anyone" } }];
    expect(prepare({ op: "setACL", path: "/a", acl: [], version: -1 }).err).toBe("invalidACL");
    expect(prepare({ op: "setACL", path: "/a", acl: readOnly, version: 3 }).err).toBe("badVersion");
    expect(prepare({ op: "setACL", path: "/a", acl: readOnly, version: 0 }).txn).toEqual({ kind: "setACL", path: "/a", acl: readOnly, version: 1 });
    // While it is in flight, Apache still checks later writes against the old ACL (its setACL ChangeRecord keeps it).
    expect(prepare({ op: "setACL", path: "/a", acl: readOnly, version: 1 }).err).toBe("ok");
    applyAll();
    // Now only READ is granted: a further setACL lacks ADMIN.
    expect(prepare({ op: "setACL", path: "/a", acl: readOnly, version: -1 }).err).toBe("noAuth");
  });
});
