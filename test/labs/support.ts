/**
 * What the lab checks share: a server and clients that clean up after the exercise, a wait helper, and a
 * client wrapper that injects CONNECTIONLOSS where the book says it can happen (a request lost before or
 * after the server applied it).
 */
import assert from "node:assert/strict";
import { createClient, ConnectionLossError, type ZooKeeperClient } from "#src/client/index.ts";
import type { CheckContext } from "#src/workbook/checks.ts";
import type { RunningServer, ServerOptions } from "#src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";

export async function serverFor(lab: CheckContext, overrides: Partial<ServerOptions> = {}) {
  const server = await startTestServer({ tickTimeMs: 200 }, { overrides });
  lab.cleanup(() => server.close());
  return server;
}

export async function clientFor(lab: CheckContext, connectString: string, sessionTimeoutMs = 4_000): Promise<ZooKeeperClient> {
  const client = createClient(connectString, { sessionTimeoutMs, reconnectDelayMsMax: 50 });
  lab.cleanup(() => client.close());
  await client.connect({ timeoutMs: 5_000 });
  return client;
}

/** Waits until `condition()` holds (polling every 10 ms), or fails with `what` after `timeoutMs`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When an injected CONNECTIONLOSS happens: before the server saw the request, or after (reply lost). */
export type LossPoint = "beforeApply" | "afterApply";

export interface Fault {
  readonly method: "create" | "getData" | "setData" | "exists" | "getChildren" | "delete";
  readonly at: LossPoint;
  /** How many calls to fail (the first ones), default 1. */
  readonly times?: number;
  /** Delay before the failure is reported, to let other calls overtake (ms). */
  readonly delayMs?: number;
}

/**
 * A client whose chosen methods fail with ConnectionLossError on their first calls. "afterApply" performs the
 * call for real and then reports the loss — the case the book warns about: the create happened, the reply did not
 * arrive. Everything else is the real client.
 */
export function withConnectionLoss(client: ZooKeeperClient, faults: readonly Fault[]): ZooKeeperClient & { readonly injected: number } {
  const remaining = new Map(faults.map((f) => [f.method, { ...f, left: f.times ?? 1 }]));
  let injected = 0;
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "injected") return injected;
      const value = Reflect.get(target, property, receiver);
      const fault = remaining.get(property as Fault["method"]);
      if (typeof value !== "function") return value;
      if (fault === undefined) return value.bind(target);
      return async (...args: unknown[]) => {
        if (fault.left > 0) {
          fault.left--;
          injected++;
          if (fault.at === "afterApply") await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch(() => {});
          if (fault.delayMs) await sleep(fault.delayMs);
          throw new ConnectionLossError(typeof args[0] === "string" ? args[0] : undefined);
        }
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  }) as ZooKeeperClient & { readonly injected: number };
}

/** Waits until `probe()` gives equal actual and expected values; if it never does, fails showing the last pair. */
export async function settles<T>(probe: () => Promise<{ actual: T; expected: T }> | { actual: T; expected: T }, message: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { actual, expected } = await probe();
    try {
      assert.deepEqual(actual, expected, message);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        Error.captureStackTrace(error as Error, settles); // point at the check that waited, not at this helper
        throw error;
      }
    }
    await sleep(15);
  }
}

/** `promise`, or a failure saying what did not happen in time (sooner and clearer than the exercise's time limit). */
export async function within<T>(promise: Promise<T>, ms: number, what: string | (() => Promise<string> | string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  try {
    const result = await Promise.race([promise, late]);
    if (result === "late") {
      const error = new Error(`${typeof what === "string" ? what : await what()} (not within ${ms} ms)`);
      Error.captureStackTrace(error, within);
      throw error;
    }
    return result as T;
  } finally {
    clearTimeout(timer);
  }
}

/** The paths the server holds watches on for `client`'s session (data and child tables), existing nodes only. */
export function watchedBy(server: RunningServer, client: ZooKeeperClient): string[] {
  const sessionId = client.session?.sessionId;
  const paths = new Set<string>();
  for (const conn of server.zk.connections) {
    if (conn.sessionId !== sessionId) continue;
    for (const path of server.zk.watches.data.pathsOf(conn)) paths.add(path);
    for (const path of server.zk.watches.child.pathsOf(conn)) paths.add(path);
  }
  // A watch left on a node that is gone can never fire again: only watches on live nodes say who waits for whom.
  return [...paths].filter((path) => server.zk.tree.getNode(path) !== undefined).sort();
}
