/**
 * Access control (book chapter 6, notes §6 "ACL"): which authenticated ids may do what to a znode.
 * Apache: `ZooKeeperServer.checkACL`, `PrepRequestProcessor.fixupACL`, the `digest` and `ip` providers.
 *
 * An ACL entry is (perms, scheme:id). A request carries the ids its connection authenticated as: always
 * `ip:<address>`, plus `digest:user:hash` after `addauth digest user:password`, plus `super:` for the super user.
 */
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { ACL, Id } from "../proto/records.ts";
import { perms } from "../proto/opcodes.ts";
import { concurrentKeySetOrder, javaIdHash } from "./java-order.ts";

export const openAclUnsafe: readonly ACL[] = Object.freeze([{ perms: perms.all, id: { scheme: "world", id: "anyone" } }]);
export const readAclUnsafe: readonly ACL[] = Object.freeze([{ perms: perms.read, id: { scheme: "world", id: "anyone" } }]);

/** `user:password` → `user:base64(sha1("user:password"))` (DigestAuthenticationProvider.generateDigest). */
export function digestId(userAndPassword: string): string {
  const user = userAndPassword.split(":", 1)[0]!;
  const hash = createHash("sha1").update(userAndPassword, "utf8").digest("base64");
  return `${user}:${hash}`;
}

/** Schemes a client may `addauth` with; anything else fails with AUTHFAILED and the connection is closed. */
export type AuthOutcome = { readonly ok: true; readonly ids: readonly Id[] } | { readonly ok: false };

/**
 * What `addauth scheme auth` adds to a connection. `superDigest` is the zoo.cfg key
 * `DigestAuthenticationProvider.superDigest` (`super:base64hash`): matching it also grants `super`.
 */
export function authenticate(scheme: string | null, auth: Buffer | null, remoteAddress: string, superDigest: string | undefined): AuthOutcome {
  switch (scheme) {
    case "digest": {
      const digest = digestId((auth ?? Buffer.alloc(0)).toString("utf8"));
      const ids: Id[] = [];
      if (superDigest !== undefined && digest === superDigest) ids.push({ scheme: "super", id: "" });
      ids.push({ scheme: "digest", id: digest });
      return { ok: true, ids };
    }
    case "ip":
      // IPAuthenticationProvider ignores the payload and (re)adds the peer's address.
      return { ok: true, ids: [{ scheme: "ip", id: remoteAddress }] };
    default:
      return { ok: false };
  }
}

/** Is `address` inside `aclExpr` (`a.b.c.d` or `a.b.c.d/bits`, IPv4 or IPv6)? (IPAuthenticationProvider.matches) */
export function ipMatches(address: string, aclExpr: string): boolean {
  const [network, bitsText] = aclExpr.split("/", 2) as [string, string | undefined];
  const a = addressBytes(address);
  const n = addressBytes(network);
  if (a === null || n === null || a.length !== n.length) return false;
  const bits = bitsText === undefined ? a.length * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > a.length * 8) return false;
  for (let i = 0; i < a.length; i++) {
    const maskBits = Math.max(0, Math.min(8, bits - i * 8));
    const mask = (0xff << (8 - maskBits)) & 0xff;
    if ((a[i]! & mask) !== (n[i]! & mask)) return false;
  }
  return true;
}

function addressBytes(address: string): number[] | null {
  const bare = address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(bare) === 4) return bare.split(".").map(Number);
  if (isIP(bare) === 6) {
    const [head, tail] = bare.split("::") as [string, string | undefined];
    const left = head ? head.split(":") : [];
    const right = tail ? tail.split(":") : [];
    const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
    return groups.flatMap((g) => {
      const v = parseInt(g, 16);
      return [v >> 8, v & 0xff];
    });
  }
  return null;
}

function validIpAclExpr(id: string): boolean {
  const [network, bits] = id.split("/", 2) as [string, string | undefined];
  if (isIP(network) === 0) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (isIP(network) === 4 ? 32 : 128));
}

/** `s.split(sep).length` in Java: trailing empty strings are removed (and "" splits into [""]). */
function javaSplitLength(s: string, sep: string): number {
  const parts = s.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts.length === 1 && parts[0] === "" && s.length > 0 ? 0 : parts.length;
}

/** Schemes that can appear in a stored ACL, and whether an id is well-formed for them. */
function validStoredId(id: Id): boolean {
  switch (id.scheme) {
    case "world":
      return id.id === "anyone";
    case "digest":
      // DigestAuthenticationProvider.isValid: Java's id.split(":").length == 2, which drops trailing empty parts.
      return javaSplitLength(id.id ?? "", ":") === 2;
    case "ip":
      return validIpAclExpr(id.id ?? "");
    case "super":
      return false; // no provider is registered for "super": Apache refuses it in an ACL
    default:
      return false;
  }
}

/**
 * Validates a requested ACL and expands the `auth` scheme into the caller's authenticated ids
 * (PrepRequestProcessor.fixupACL). Returns null for an invalid ACL (the caller answers INVALIDACL).
 */
export function fixupAcl(requested: readonly ACL[] | null, authIds: readonly Id[]): ACL[] | null {
  // lab 6.2: the auth scheme and ACL validation
  //   Return null (the server answers INVALIDACL) for a null or empty list, or if any entry is invalid; else the
  //   ACL to store. Drop duplicate entries first (dedupeAcl). An entry with a null id or scheme is invalid. An
  //   `auth` entry stands for "whoever I am authenticated as": replace it with one entry per digest id in authIds,
  //   with the same perms (an ip id does not count: it is not a user); no digest id at all → null. Any other entry
  //   is kept as it is if validStoredId(id) says it is well-formed (world:anyone, digest user:hash, ip addr[/bits];
  //   never super), and makes the whole ACL invalid otherwise.
  if (requested === null || requested.length === 0) return null;
  const unique = dedupeAcl(requested);
  const result: ACL[] = [];
  for (const entry of unique) {
    const { id } = entry;
    if (id === null || id.scheme === null) return null;
    if (id.scheme === "auth") {
      // Only providers that authenticate a *user* (digest) count; an ip id is not "authenticated" (isAuthenticated()).
      const users = authIds.filter((a) => a.scheme === "digest");
      if (users.length === 0) return null;
      for (const user of users) result.push({ perms: entry.perms, id: { scheme: user.scheme, id: user.id } });
    } else if (validStoredId(id)) {
      result.push(entry);
    } else {
      return null;
    }
  }
  return result;
  // end lab 6.2
}

function dedupeAcl(acl: readonly ACL[]): ACL[] {
  const seen = new Set<string>();
  const out: ACL[] = [];
  for (const entry of acl) {
    const key = `${entry.perms}\u0000${entry.id?.scheme}\u0000${entry.id?.id}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(entry);
    }
  }
  return out;
}

/**
 * May a caller with `authIds` do `perm` (a bit mask: any of its bits suffices) on a node with `acl`?
 * (ZooKeeperServer.checkACL: an empty ACL allows everything; `super` passes everything; `world:anyone` matches all.)
 */
export function aclAllows(acl: readonly ACL[], perm: number, authIds: readonly Id[]): boolean {
  // lab 6.1: checking an ACL: schemes, ids and permission bits
  //   An empty ACL allows everything, and a caller with a `super` id passes every check. Otherwise look for an
  //   entry that has at least one of the bits of `perm` (READ|ADMIN asks "either") and whose id matches one of
  //   the caller's: world:anyone matches everybody; digest matches an authenticated digest id exactly
  //   (user:hash); ip matches the caller's ip id if ipMatches(callerAddress, entryId) — the entry may be a
  //   network like 10.0.0.0/8. Schemes must be equal: a digest entry never matches an ip id.
  if (acl.length === 0) return true;
  for (const id of authIds) if (id.scheme === "super") return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    const { scheme, id } = entry.id;
    if (scheme === "world" && id === "anyone") return true;
    for (const auth of authIds) {
      if (auth.scheme !== scheme) continue;
      if (scheme === "digest" && auth.id === id) return true;
      if (scheme === "ip" && ipMatches(auth.id ?? "", id ?? "")) return true;
    }
  }
  return false;
  // end lab 6.1
}

/** getACL without ADMIN hides digest hashes: `user:hash` → `user:x` (FinalRequestProcessor). */
export function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) =>
    entry.id.scheme === "digest" ? { perms: entry.perms, id: { scheme: "digest", id: (entry.id.id ?? "").replace(/:.*/s, ":x") } } : entry,
  );
}

/**
 * A connection's authenticated ids in the order Apache keeps them: ServerCnxn.authInfo is a ConcurrentHashMap key
 * set, so `whoAmI` lists them — and an `auth:` ACL expands to them — in hash order, not in the order they were
 * added (see java-order.ts).
 */
export function authInfoOrder(ids: readonly Id[]): Id[] {
  return concurrentKeySetOrder(ids, (id) => javaIdHash(id.scheme ?? "", id.id ?? ""));
}

/**
 * The user `whoAmI` reports for an id (AuthUtil.getUser → AuthenticationProvider.getUserName): the user part of a
 * digest id, the address of an ip id; "" for a scheme with no provider, such as `super`.
 */
export function authUserName(id: Id): string {
  switch (id.scheme) {
    case "digest":
      return (id.id ?? "").split(":")[0]!;
    case "ip":
      return id.id ?? "";
    default:
      return "";
  }
}
