/**
 * ACL helpers: Apache's ready-made ACL lists (`ZooDefs.Ids`) and the digest scheme's id
 * (`DigestAuthenticationProvider.generateDigest`).
 */
import { createHash } from "node:crypto";
import { perms, type ACL } from "../proto/index.ts";

export const acls = {
  /** world:anyone with every permission (`OPEN_ACL_UNSAFE`). */
  openAclUnsafe: [{ perms: perms.all, id: { scheme: "world", id: "anyone" } }] as readonly ACL[],
  /** world:anyone may read (`READ_ACL_UNSAFE`). */
  readAclUnsafe: [{ perms: perms.read, id: { scheme: "world", id: "anyone" } }] as readonly ACL[],
  /** Every permission for whoever this connection authenticated as, via the `auth` scheme (`CREATOR_ALL_ACL`). */
  creatorAllAcl: [{ perms: perms.all, id: { scheme: "auth", id: "" } }] as readonly ACL[],
} as const;

/** The digest scheme's id for a user: "user:base64(sha1('user:password'))". */
export function digestId(user: string, password: string): string {
  const hash = createHash("sha1").update(`${user}:${password}`, "utf8").digest("base64");
  return `${user}:${hash}`;
}

/** An ACL entry granting `permissions` (default all) to a digest user. */
export function digestAcl(user: string, password: string, permissions: number = perms.all): ACL {
  return { perms: permissions, id: { scheme: "digest", id: digestId(user, password) } };
}
