/**
 * Client-side path rules: validation before sending (Apache `PathUtils.validatePath`) and the chroot.
 *
 * A chroot ("h1:2181/app") makes the client see the subtree /app as its root: every path goes out with the chroot
 * in front and comes back (in create/sync replies and in watch events) with it stripped (Apache
 * `ZooKeeper.prependChroot`, `ClientCnxn.stripChroot`).
 */
import { InvalidPathError } from "./errors.ts";

/**
 * Throws `InvalidPathError` for a path ZooKeeper would reject: must be absolute, no empty, "." or ".." segment,
 * no trailing slash (except the root, or before the suffix a sequential create appends), no control characters.
 */
export function validatePath(path: string, isSequential = false): void {
  const fail = (why: string): never => {
    throw new InvalidPathError(`Invalid path string "${path}" caused by ${why}`);
  };
  if (typeof path !== "string" || path.length === 0) fail("empty path");
  if (path[0] !== "/") fail("path must start with / character");
  if (path.length === 1) return; // the root (or, for a sequential create, a name made of the suffix alone)
  const checked = isSequential && path.endsWith("/") ? path.slice(0, -1) : path;
  if (checked.length > 1 && checked.endsWith("/")) fail("must not end with / character");
  const segments = checked.split("/").slice(1);
  for (const segment of segments) {
    if (segment.length === 0) fail("empty node name specified");
    if (segment === "." || segment === "..") fail("relative paths not allowed");
  }
  for (const ch of checked) {
    const c = ch.codePointAt(0)!;
    if (c === 0) fail("null character not allowed");
    if ((c > 0x00 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)) fail("invalid character");
    if ((c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) fail("invalid character");
  }
}

/** A chroot: "" for none, else an absolute path without trailing slash ("/app"). */
export class Chroot {
  constructor(readonly prefix: string) {
    if (prefix !== "") validatePath(prefix);
    if (prefix === "/") throw new InvalidPathError('chroot "/" is no chroot: use ""');
  }

  /** The server's path for a client path. */
  toServer(clientPath: string): string {
    if (this.prefix === "") return clientPath;
    return clientPath === "/" ? this.prefix : this.prefix + clientPath;
  }

  /**
   * The client's path for a server path. A path outside the chroot cannot normally come back; Apache logs a
   * warning and passes it through unchanged, and so do we.
   */
  toClient(serverPath: string): string {
    if (this.prefix === "") return serverPath;
    if (serverPath === this.prefix) return "/";
    if (serverPath.startsWith(this.prefix + "/")) return serverPath.slice(this.prefix.length);
    return serverPath;
  }
}

/** "/a/b/c" → "/a/b"; "/a" → "/". */
export function parentPath(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

/** "/a/b/c" → "c". */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** joinPath("/a", "b") → "/a/b"; joinPath("/", "b") → "/b". */
export function joinPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}

/** The path itself and all its ancestors, nearest first: "/a/b" → ["/a/b", "/a", "/"] (Apache `PathParentIterator`). */
export function pathAndAncestors(path: string): string[] {
  const result = [path];
  let current = path;
  while (current !== "/") {
    current = parentPath(current);
    result.push(current);
  }
  return result;
}
