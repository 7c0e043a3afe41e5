/**
 * Checks of a call's arguments, made before anything is queued, for callers that the type checker does not reach
 * (plain JavaScript, `as` casts, values read from a file). Without them a bad value reached the jute encoder and
 * either went out as something else — version "x" encoded as 0, so setData succeeded against version 0; 1.5 as 1 —
 * or threw inside the connection's byte handler: addWatch with an unknown mode crashed the process when its reply
 * came. Each failure is a ClientUsageError that names the call, the path, the argument and the value.
 *
 * (Paths have their own check, `validatePath` in paths.ts, with Apache's wording; create modes and TTLs theirs in
 * create-mode.ts.)
 */
import { addWatchModes, watcherTypes } from "../proto/index.ts";
import { ClientUsageError } from "./errors.ts";
import type { NodeData, WatchMode, WatcherTypeName } from "./operations.ts";

/** Versions are jute ints; -1 means "any version". */
export const versionMin = -1;
export const versionMax = 0x7fff_ffff;

function refuse(call: string, path: string | undefined, what: string): never {
  throw new ClientUsageError(`${call}${path === undefined ? "" : ` ${path}`}: ${what}`);
}

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  return String(value);
}

export function checkVersion(call: string, path: string, version: unknown): void {
  if (version === undefined) return;
  if (typeof version !== "number" || !Number.isInteger(version) || version < versionMin || version > versionMax) {
    refuse(call, path, `version must be an integer in ${versionMin}..${versionMax} (-1: any); got ${shown(version)}`);
  }
}

/** A per-call timeout: a number of milliseconds, 0 for none. */
export function checkTimeout(call: string, path: string | undefined, timeoutMs: unknown): void {
  if (timeoutMs === undefined) return;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    refuse(call, path, `timeoutMs must be a number of milliseconds, 0 or more; got ${shown(timeoutMs)}`);
  }
}

export function checkData(call: string, path: string, data: unknown): asserts data is NodeData | undefined {
  if (data === undefined || data === null || typeof data === "string" || data instanceof Uint8Array) return;
  refuse(call, path, `data must be a Buffer, a Uint8Array, a string or null; got ${typeof data === "object" ? "an object" : shown(data)}`);
}

export function checkWatcher(call: string, path: string, watcher: unknown, required: boolean): void {
  if (watcher === undefined && !required) return;
  if (typeof watcher !== "function") refuse(call, path, `the watcher must be a function; got ${shown(watcher)}`);
}

export function checkWatchMode(path: string, mode: unknown): asserts mode is WatchMode {
  if (typeof mode === "string" && Object.hasOwn(addWatchModes, mode)) return;
  refuse("addWatch", path, `mode must be one of ${Object.keys(addWatchModes).join(", ")}; got ${shown(mode)}`);
}

export function checkWatcherType(path: string, watcherType: unknown): asserts watcherType is WatcherTypeName {
  if (typeof watcherType === "string" && Object.hasOwn(watcherTypes, watcherType)) return;
  refuse("removeWatches", path, `watcherType must be one of ${Object.keys(watcherTypes).join(", ")}; got ${shown(watcherType)}`);
}

export function checkAcl(call: string, path: string, acl: unknown): void {
  if (!Array.isArray(acl)) refuse(call, path, `the ACL must be an array of {perms, id: {scheme, id}}; got ${shown(acl)}`);
  for (const entry of acl as unknown[]) {
    const e = entry as { perms?: unknown; id?: { scheme?: unknown; id?: unknown } } | null;
    const ok =
      e !== null &&
      typeof e === "object" &&
      typeof e.perms === "number" &&
      Number.isInteger(e.perms) &&
      typeof e.id?.scheme === "string" &&
      typeof e.id.id === "string";
    if (!ok) refuse(call, path, `each ACL entry must be {perms: integer, id: {scheme: string, id: string}}; got ${JSON.stringify(entry)}`);
  }
}
