/**
 * ACLs against Apache 3.8: DigestAuthenticationProvider (generateDigest, isValid), IPAuthenticationProvider
 * (matches with CIDR), PrepRequestProcessor.fixupACL (validation, the `auth` scheme), ZooKeeperServer.checkACL
 * (empty ACL, super, world:anyone) and FinalRequestProcessor's getACL masking. Book chapter 6.
 *
 * The digest vectors were computed with the JDK (MessageDigest SHA1 + Base64), independently of this code.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { aclAllows, authenticate, digestId, fixupAcl, ipMatches, maskDigests, openAclUnsafe } from "../../src/tree/acl.ts";
import { perms } from "../../src/proto/opcodes.ts";
import type { ACL, Id } from "../../src/proto/records.ts";

const acl = (p: number, scheme: string, id: string): ACL => ({ perms: p, id: { scheme, id } });
const ip = (address: string): Id => ({ scheme: "ip", id: address });

describe("digest ids: user:base64(sha1(user:password))", () => {
  it.each([
    ["super:admin", "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="],
    ["user:password", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="],
    // generateDigest splits on the first ':' only; the whole string is hashed.
    ["alice:s3cret:with:colons", "alice:iUk9g6nH7IDo10cQ5WXiCy5iPss="],
    ["nocolon", "nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g="],
  ])("%s → %s (JDK vector)", (input, expected) => {
    expect(digestId(input)).toBe(expected);
  });

  it("agrees with a direct sha1/base64 for UTF-8 input", () => {
    const input = "ü:pässwörd";
    expect(digestId(input)).toBe(`ü:${createHash("sha1").update(Buffer.from(input, "utf8")).digest("base64")}`);
  });
});

describe("authenticate (addauth)", () => {
  it("digest adds digest:user:hash; matching superDigest also adds super", () => {
    const plain = authenticate("digest", Buffer.from("user:password"), "10.0.0.1", "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=");
    expect(plain).toEqual({ ok: true, ids: [{ scheme: "digest", id: "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=" }] });
    const sup = authenticate("digest", Buffer.from("super:admin"), "10.0.0.1", "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=");
    expect(sup.ok && sup.ids.map((i) => i.scheme)).toEqual(["super", "digest"]);
  });

  it("ip re-adds the peer address whatever the payload; unknown schemes fail (AUTHFAILED)", () => {
    expect(authenticate("ip", Buffer.from("1.2.3.4"), "10.0.0.1", undefined)).toEqual({ ok: true, ids: [ip("10.0.0.1")] });
    expect(authenticate("kerberos", Buffer.from("x"), "10.0.0.1", undefined)).toEqual({ ok: false });
    expect(authenticate(null, null, "10.0.0.1", undefined)).toEqual({ ok: false });
  });
});

describe("ip ACLs with CIDR (IPAuthenticationProvider.matches)", () => {
  it.each([
    ["10.1.2.3", "10.1.2.3", true],
    ["10.1.2.4", "10.1.2.3", false],
    ["10.1.2.3", "10.1.0.0/16", true],
    ["10.2.2.3", "10.1.0.0/16", false],
    ["10.1.2.3", "10.1.2.0/24", true],
    ["10.1.3.3", "10.1.2.0/24", false],
    ["10.1.2.3", "10.1.2.2/31", true],
    ["10.1.2.3", "10.1.2.4/31", false],
    ["192.168.77.5", "192.168.64.0/19", true],
    ["192.168.96.5", "192.168.64.0/19", false],
    ["1.2.3.4", "0.0.0.0/0", true],
    ["1.2.3.4", "1.2.3.4/32", true],
    ["1.2.3.4", "1.2.3.4/33", false],
    ["1.2.3.4", "1.2.3.4/-1", false],
    ["1.2.3.4", "1.2.3.4/x", false],
    ["1.2.3.4", "1.2.3", false],
    ["not-an-ip", "0.0.0.0/0", false],
    // A v4-mapped peer address (a dual-stack listener) is the v4 address.
    ["::ffff:10.1.2.3", "10.1.0.0/16", true],
  ])("%s in %s → %s", (address, expr, expected) => {
    expect(ipMatches(address, expr)).toBe(expected);
  });
});

describe("fixupAcl (PrepRequestProcessor.fixupACL)", () => {
  const digestUser: Id = { scheme: "digest", id: "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=" };

  it("refuses a null or empty ACL list (INVALIDACL)", () => {
    expect(fixupAcl(null, [])).toBeNull();
    expect(fixupAcl([], [])).toBeNull();
  });

  it("expands auth to every authenticated (digest) id of the caller, with the entry's perms", () => {
    const other: Id = { scheme: "digest", id: "bob:xyz" };
    expect(fixupAcl([acl(perms.read | perms.write, "auth", "")], [ip("10.0.0.1"), digestUser, other])).toEqual([
      { perms: 3, id: digestUser },
      { perms: 3, id: other },
    ]);
  });

  it("refuses auth when the caller only has ip (ip is not an authenticated user)", () => {
    expect(fixupAcl([acl(perms.all, "auth", "")], [ip("10.0.0.1")])).toBeNull();
    expect(fixupAcl([acl(perms.all, "auth", "")], [])).toBeNull();
  });

  it("keeps valid world/digest/ip entries and drops exact duplicates", () => {
    const list = [acl(31, "world", "anyone"), acl(31, "world", "anyone"), acl(1, "ip", "10.0.0.0/8"), acl(2, "digest", "u:h")];
    expect(fixupAcl(list, [])).toEqual([acl(31, "world", "anyone"), acl(1, "ip", "10.0.0.0/8"), acl(2, "digest", "u:h")]);
  });

  it.each([
    ["world", "someone"],
    ["super", ""],
    ["unknown", "x"],
    ["ip", "1.2.3"],
    ["ip", "1.2.3.4/33"],
    ["ip", "1.2.3.4/x"],
    // DigestAuthenticationProvider.isValid: id.split(":").length == 2 (Java drops trailing empty strings).
    ["digest", "nocolon"],
    ["digest", "a:b:c"],
    ["digest", "user:"],
    ["digest", "user::"],
  ])("refuses %s:%s (no provider, or the provider's isValid says no)", (scheme, id) => {
    expect(fixupAcl([acl(31, scheme, id)], [])).toBeNull();
  });

  it("accepts digest ids Java's split sees as two parts", () => {
    expect(fixupAcl([acl(31, "digest", ":hash")], [])).not.toBeNull();
    expect(fixupAcl([acl(31, "digest", "user:hash")], [])).not.toBeNull();
  });

  it("refuses an entry with a null scheme", () => {
    expect(fixupAcl([{ perms: 31, id: { scheme: null, id: "x" } }], [])).toBeNull();
  });
});

describe("aclAllows (ZooKeeperServer.checkACL)", () => {
  const caller = [ip("10.1.2.3"), { scheme: "digest", id: "user:hash" }];

  it("an empty ACL allows everything", () => {
    expect(aclAllows([], perms.admin, [])).toBe(true);
  });

  it("world:anyone matches every caller for the perms it grants, and only those", () => {
    expect(aclAllows(openAclUnsafe, perms.delete, [])).toBe(true);
    expect(aclAllows([acl(perms.read, "world", "anyone")], perms.read, [])).toBe(true);
    expect(aclAllows([acl(perms.read, "world", "anyone")], perms.write, caller)).toBe(false);
  });

  it("super passes everything, even an ACL that grants nobody anything", () => {
    expect(aclAllows([acl(0, "digest", "x:y")], perms.admin, [{ scheme: "super", id: "" }])).toBe(true);
  });

  it("digest matches the exact id; ip matches by CIDR", () => {
    expect(aclAllows([acl(perms.write, "digest", "user:hash")], perms.write, caller)).toBe(true);
    expect(aclAllows([acl(perms.write, "digest", "user:other")], perms.write, caller)).toBe(false);
    expect(aclAllows([acl(perms.read, "ip", "10.1.0.0/16")], perms.read, caller)).toBe(true);
    expect(aclAllows([acl(perms.read, "ip", "10.2.0.0/16")], perms.read, caller)).toBe(false);
  });

  it("a perm mask passes when any of its bits is granted (getACL asks READ|ADMIN)", () => {
    expect(aclAllows([acl(perms.admin, "world", "anyone")], perms.read | perms.admin, [])).toBe(true);
    expect(aclAllows([acl(perms.write, "world", "anyone")], perms.read | perms.admin, [])).toBe(false);
  });

  it("a scheme must match: an ip id never satisfies a digest entry with the same text", () => {
    expect(aclAllows([acl(31, "digest", "10.1.2.3")], perms.read, [ip("10.1.2.3")])).toBe(false);
  });
});

describe("getACL masking without ADMIN (FinalRequestProcessor)", () => {
  it("replaces a digest's hash with x and leaves other schemes alone", () => {
    expect(maskDigests([acl(1, "digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="), acl(1, "ip", "10.0.0.1"), acl(1, "world", "anyone")])).toEqual([
      acl(1, "digest", "user:x"),
      acl(1, "ip", "10.0.0.1"),
      acl(1, "world", "anyone"),
    ]);
  });
});
