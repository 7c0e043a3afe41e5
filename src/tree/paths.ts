/**
 * Znode paths (Apache `PathUtils.validatePath`): absolute, '/'-separated, no empty names, no "." or "..",
 * no trailing '/' (except that a sequential create may end in '/', the server appends the counter), and no
 * control or reserved Unicode characters.
 */

/** Why `path` is not a valid znode path, or null when it is. */
export function pathProblem(path: string | null, isSequential = false): string | null {
  // PathUtils.validatePath(path, isSequential) validates `path + "1"`: the counter will follow.
  if (isSequential && path !== null) return pathProblem(path + "1");
  if (path === null) return "Path cannot be null";
  if (path.length === 0) return "Path length must be > 0";
  if (path[0] !== "/") return "Path must start with / character";
  if (path.length === 1) return null;
  if (path[path.length - 1] === "/") return "Path must not end with / character";
  let previous = "/";
  let reason: string | null = null;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const ch = path[i]!;
    if (c === 0) {
      reason = `null character not allowed @${i}`;
    } else if (ch === "/" && previous === "/") {
      reason = `empty node name specified @${i}`;
    } else if (ch === "." && previous === "." && path[i - 2] === "/" && (i + 1 === path.length || path[i + 1] === "/")) {
      reason = `relative paths not allowed @${i}`;
    } else if (ch === "." && previous === "/" && (i + 1 === path.length || path[i + 1] === "/")) {
      reason = `relative paths not allowed @${i}`;
    } else if (
      (c > 0x0000 && c <= 0x001f) ||
      (c >= 0x007f && c <= 0x009f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      reason = `invalid character @${i}`;
    }
    if (reason !== null) return `Invalid path string "${path}" caused by ${reason}`;
    previous = ch;
  }
  return null;
}

/** "/a/b" → "/a"; "/a" → "/". Assumes a valid path other than "/". */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.substring(0, slash);
}

/** "/a/b" → "b". */
export function nameOf(path: string): string {
  return path.substring(path.lastIndexOf("/") + 1);
}

/** "/" + "b" → "/b"; "/a" + "b" → "/a/b". */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}
