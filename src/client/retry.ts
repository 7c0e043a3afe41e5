/**
 * Retrying calls that failed because the connection did, with exponential backoff and jitter (Curator
 * `ExponentialBackoffRetry`, kazoo `KazooRetry`).
 *
 * Only for calls that are safe to repeat. After a ConnectionLossError the call may have been executed or not
 * (book chapter 3, "CONNECTIONLOSS"): repeating getData or setData with a version is harmless; repeating a
 * sequential create may make a second node (the recipes solve that by putting a GUID in the name, see
 * `createProtected` in `recipes/support.ts`).
 *
 * What is retried: ConnectionLossError, OperationTimeoutError, and RequestTimeoutError (the client's own per-request
 * timeout, which also leaves the outcome unknown and drops the connection). Never SessionExpiredError: a dead
 * session does not come back by waiting.
 */
import { ConnectionLossError, OperationTimeoutError, RequestTimeoutError } from "./errors.ts";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retriesMax: number;
  /** Give up once this long has passed since the first attempt (no retry starts after it). */
  readonly elapsedMsMax: number;
  /** Delay before the first retry, before jitter. */
  readonly delayMsInitial: number;
  /** The delay stops growing here. */
  readonly delayMsMax: number;
  /** Each retry waits this many times longer than the one before. */
  readonly multiplier: number;
  /** "equal": wait between half and all of the delay (no two clients retry in lock-step); "none": exactly the delay. */
  readonly jitter: "equal" | "none";
  readonly isRetryable: (error: unknown) => boolean;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

export const retriesMaxDefault = 10;
export const retryElapsedMsMaxDefault = 60_000;
export const retryDelayMsInitialDefault = 100;
export const retryDelayMsMaxDefault = 10_000;

export function isRetryableError(error: unknown): boolean {
  return (
    error instanceof ConnectionLossError || error instanceof OperationTimeoutError || error instanceof RequestTimeoutError
  );
}

export const defaultRetryPolicy: RetryPolicy = {
  retriesMax: retriesMaxDefault,
  elapsedMsMax: retryElapsedMsMaxDefault,
  delayMsInitial: retryDelayMsInitialDefault,
  delayMsMax: retryDelayMsMaxDefault,
  multiplier: 2,
  jitter: "equal",
  isRetryable: isRetryableError,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => performance.now(),
};

/** The wait before retry number `retry` (0-based). */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  // lab 8.4: the retry delay: exponential backoff, capped, with jitter
  //   Without jitter: delayMsInitial × multiplier^retry, but never more than delayMsMax (100, 200, 400, ... 10000).
  //   With jitter "equal": take that delay d and wait a random time between d/2 and d: d/2 + random × d/2, with
  //   one call of policy.random() (in [0, 1)) — so clients that lost their connection together do not all come
  //   back in the same millisecond. With jitter "none", call no random at all.
  const base = Math.min(policy.delayMsMax, policy.delayMsInitial * policy.multiplier ** retry);
  return policy.jitter === "none" ? base : base / 2 + policy.random() * (base / 2);
  // end lab 8.4
}

/**
 * Calls `fn` until it succeeds, fails with an error that is not retryable, or the policy's limits are reached;
 * then rethrows the last error. `fn` gets the attempt number (0 for the first).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: Partial<RetryPolicy> = {}): Promise<T> {
  const p: RetryPolicy = { ...defaultRetryPolicy, ...policy };
  const startedMs = p.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!p.isRetryable(error) || attempt >= p.retriesMax) throw error;
      const delayMs = retryDelayMs(p, attempt);
      if (p.now() + delayMs - startedMs > p.elapsedMsMax) throw error;
      await p.sleep(delayMs);
    }
  }
}
