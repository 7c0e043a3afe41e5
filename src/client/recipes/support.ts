/**
 * Pieces the recipes share: making parent nodes, the "protected" create that survives CONNECTIONLOSS, sorting
 * sequential nodes, and waiting for a one-time watch.
 */
import { randomUUID } from "node:crypto";
import type { ZooKeeperClient, Watcher } from "../client.ts";
import type { WatchedEvent } from "../core.ts";
import { AuthFailedError, ConnectionLossError, NoNodeError, NodeExistsError, SessionExpiredError } from "../errors.ts";
import type { CreateModeName } from "../../proto/index.ts";
import { joinPath } from "../paths.ts";
import { retry, type RetryPolicy } from "../retry.ts";

/** Options every recipe takes. */
export interface RecipeOptions {
  /** How calls that fail with connection loss are retried (see retry.ts). */
  readonly retryPolicy?: Partial<RetryPolicy>;
}

/** A recipe gave up waiting. */
export class RecipeTimeoutError extends Error {
  override name = "RecipeTimeoutError";
}

/** Sequential nodes end in a 10-digit counter (the parent's cversion, reference §3). */
export const sequenceDigits = 10;

export function sequenceOf(name: string): number {
  return Number(name.slice(-sequenceDigits));
}

export function bySequence(a: string, b: string): number {
  return sequenceOf(a) - sequenceOf(b);
}

/** Creates `path` and its missing ancestors as persistent nodes (kazoo `ensure_path`, Curator `creatingParentsIfNeeded`). */
export async function ensurePath(client: ZooKeeperClient, path: string, policy?: Partial<RetryPolicy>): Promise<void> {
  if (path === "/") return;
  if ((await retry(() => client.exists(path), policy)) !== null) return;
  const parts = path.split("/").slice(1);
  let current = "";
  for (const part of parts) {
    current += `/${part}`;
    try {
      await retry(() => client.create(current), policy);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }
}

/** The prefix that marks a protected node as ours: Curator's `_c_<guid>-`. */
export function protectedPrefix(guid: string): string {
  return `_c_${guid}-`;
}

export function newGuid(): string {
  return randomUUID();
}

/**
 * Creates a sequential node whose name carries a GUID, and survives CONNECTIONLOSS (Curator "protected mode").
 *
 * The problem (book chapter 3): a sequential create that fails with CONNECTIONLOSS may have been executed — the
 * reply was lost, not necessarily the request. Creating again would leave an orphan node (an orphan lock node
 * blocks everyone forever, until our session ends). Since the server picks the sequence number, we cannot ask
 * "does my node exist?" by name — unless the name carries something only we know: a GUID. After a connection
 * loss we list the parent's children and look for our GUID before trying again.
 */
export async function createProtected(
  client: ZooKeeperClient,
  parent: string,
  name: string,
  guid: string,
  data: Buffer | string | null,
  mode: CreateModeName,
  policy?: Partial<RetryPolicy>,
): Promise<string> {
  const prefix = protectedPrefix(guid);
  const path = joinPath(parent, `${prefix}${name}`);
  let attemptedBefore = false;
  return retry(async () => {
    if (attemptedBefore) {
      const mine = (await client.getChildren(parent)).find((child) => child.startsWith(prefix));
      if (mine !== undefined) return joinPath(parent, mine);
    }
    attemptedBefore = true;
    return await client.create(path, data, { mode });
  }, policy);
}

/**
 * The name of our own protected node among `children`, or undefined.
 */
export function findProtected(children: readonly string[], guid: string): string | undefined {
  const prefix = protectedPrefix(guid);
  return children.find((child) => child.startsWith(prefix));
}

/**
 * A one-time watcher and a promise of its event. Session events ("none") reject: expiry and auth failure with
 * their errors, close with ConnectionLossError, so a recipe waiting on a watch never hangs on a dead session.
 */
export function watchOnce(): { watcher: Watcher; fired: Promise<WatchedEvent> } {
  let resolve!: (event: WatchedEvent) => void;
  let reject!: (error: unknown) => void;
  const fired = new Promise<WatchedEvent>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  fired.catch(() => {}); // a recipe may stop waiting before the session ends: do not report it as unhandled
  const watcher: Watcher = (event) => {
    if (event.type !== "none") resolve(event);
    else if (event.state === "expired") reject(new SessionExpiredError(event.path ?? undefined));
    else if (event.state === "authFailed") reject(new AuthFailedError(event.path ?? undefined));
    else reject(new ConnectionLossError(event.path ?? undefined));
  };
  return { watcher, fired };
}

/** Waits for `promise`, or rejects with RecipeTimeoutError at `deadlineMs` (performance.now() time; null: never). */
export async function untilDeadline<T>(promise: Promise<T>, deadlineMs: number | null, what: string): Promise<T> {
  if (deadlineMs === null) return promise;
  const remainingMs = deadlineMs - performance.now();
  if (remainingMs <= 0) throw new RecipeTimeoutError(`timed out ${what}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RecipeTimeoutError(`timed out ${what}`)), remainingMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function deadlineFrom(timeoutMs: number | undefined): number | null {
  return timeoutMs === undefined ? null : performance.now() + timeoutMs;
}

/** Deletes a node, retrying connection loss; a node already gone is fine. */
export async function deleteIfExists(client: ZooKeeperClient, path: string, policy?: Partial<RetryPolicy>): Promise<void> {
  try {
    await retry(() => client.delete(path), policy);
  } catch (error) {
    if (!(error instanceof NoNodeError)) throw error;
  }
}
