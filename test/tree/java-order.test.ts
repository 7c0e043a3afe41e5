/**
 * Java's hash-collection iteration orders, as Apache ZooKeeper lets them reach the wire (src/tree/java-order.ts).
 * The expected orders were printed by a JVM (OpenJDK 17, jshell) from the same inserts; the differential interop
 * test checks the same thing end to end against Apache 3.8.0.
 */
import { describe, expect, it } from "vitest";
import { JavaHashSetOrder, concurrentKeySetOrder, javaIdHash, javaStringHash } from "../../src/tree/java-order.ts";
import { authInfoOrder, authUserName, digestId } from "../../src/tree/acl.ts";

describe("String.hashCode", () => {
  it("matches Java's", () => {
    expect(javaStringHash("")).toBe(0);
    expect(javaStringHash("hello")).toBe(99162322);
    expect(javaStringHash("/s/p/e3")).toBe(2102142840);
  });
});

describe("HashSet<String> iteration, and its clone's (a session's ephemerals, deleted in this order on close)", () => {
  it("three ephemerals: the order Apache deleted them in, and the JVM printed", () => {
    const set = new JavaHashSetOrder();
    const inserted = ["/s/e1", "/s/e2-0000000001", "/s/p/e3"];
    inserted.forEach((_, i) => set.added(i + 1));
    expect(set.cloneOrder(inserted)).toEqual(["/s/p/e3", "/s/e1", "/s/e2-0000000001"]);
  });

  it("a set that grew to 32 buckets keeps them after removals; its clone is re-bucketed for its size", () => {
    const set = new JavaHashSetOrder();
    const live: string[] = [];
    for (let i = 0; i < 20; i++) {
      live.push(`/d/e${i}`);
      set.added(live.length);
    }
    live.splice(0, 15); // removed /d/e0 .. /d/e14
    for (const path of ["/d/x", "/a", "/d/e2-0000000001"]) {
      live.push(path);
      set.added(live.length);
    }
    expect(set.order(live)).toEqual(["/d/e15", "/d/x", "/d/e2-0000000001", "/a", "/d/e19", "/d/e18", "/d/e17", "/d/e16"]);
    expect(set.cloneOrder(live)).toEqual(["/a", "/d/e15", "/d/x", "/d/e19", "/d/e18", "/d/e2-0000000001", "/d/e17", "/d/e16"]);
  });
});

describe("ConcurrentHashMap key set of Ids (a connection's authInfo: whoAmI and auth: ACLs)", () => {
  const ip = { scheme: "ip", id: "127.0.0.1" };
  const u1 = { scheme: "digest", id: digestId("u1:p1") };
  const u2 = { scheme: "digest", id: digestId("u2:p2") };
  const superId = { scheme: "super", id: "" };
  const superDigest = { scheme: "digest", id: digestId("super:superpw") };

  it("orders ids by hash bucket, as the JVM printed them", () => {
    expect(javaIdHash("x", "y")).toBe((37 * (37 * 17 + javaStringHash("x")) + javaStringHash("y")) | 0);
    expect(authInfoOrder([ip, u1])).toEqual([u1, ip]);
    expect(authInfoOrder([ip, u1, u2, superId, superDigest])).toEqual([u2, superDigest, u1, superId, ip]);
    expect(concurrentKeySetOrder([], () => 0)).toEqual([]);
  });

  it("reports the provider's user name (AuthUtil.getUser): a digest id's user part, an ip's address, '' for super", () => {
    expect(authUserName(u1)).toBe("u1");
    expect(authUserName(ip)).toBe("127.0.0.1");
    expect(authUserName(superId)).toBe("");
  });
});
