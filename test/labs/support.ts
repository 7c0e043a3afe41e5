/**
 * What the lab checks share: a server and clients that clean up after the exercise, a wait helper, and a
 * client wrapper that injects CONNECTIONLOSS where the book says it can happen (a request lost before or
 * after the server applied it).
 */
import { createClient, ConnectionLossError, type ZooKeeperClient } from "#src/client/index.ts";
import type { CheckContext } from "#src/workbook/checks.ts";
import type { ServerOptions } from "#src/server/index.ts";
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
