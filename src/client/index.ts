/**
 * zkbook's ZooKeeper client: a Promise API over a pure connection state machine, plus recipes.
 *
 * - `createClient` / `ZooKeeperClient`: the API (client.ts)
 * - typed errors, one per ZooKeeper error code (errors.ts)
 * - `retry`: backoff for calls that failed with connection loss (retry.ts)
 * - `ClientCore`: the state machine itself, for drivers other than TCP (the simulator) and for learning (core.ts)
 * - recipes: locks, leader election, barriers, queue (recipes/)
 */
export {
  createClient,
  ZooKeeperClient,
  sessionTimeoutMsDefault,
  type ClientOptions,
  type CreateOptions,
  type VersionOptions,
  type WatchOptions,
  type CallOptions,
  type DataSnapshot,
  type StateListener,
  type Watcher,
  type WatchStream,
} from "./client.ts";
export { Transaction } from "./transaction.ts";
export { ttlMsMax } from "./create-mode.ts";
export { acls, digestId, digestAcl } from "./acl.ts";
export {
  type NodeData,
  type TransactionOp,
  type TransactionResult,
  type ReadOp,
  type ReadResult,
  type WatchMode,
  type WatcherTypeName,
} from "./operations.ts";
export * from "./errors.ts";
export { retry, retryDelayMs, isRetryableError, defaultRetryPolicy, type RetryPolicy } from "./retry.ts";
export {
  ClientCore,
  type CoreConfig,
  type CoreInput,
  type CoreOutput,
  type CoreStep,
  type ConnectionState,
  type ConnectionStateKind,
  type SessionInfo,
  type WatchedEvent,
  type RequestOutcome,
  type AuthInfo,
} from "./core.ts";
export { parseConnectString, shuffleHosts, seededRandom, type HostAddress, type ConnectString } from "./connect-string.ts";
export { EventQueueOverflowError } from "./event-queue.ts";
export { setWatchesPacketBytesMax } from "./set-watches.ts";
export type { Clock, SocketFactory } from "./runtime.ts";
export type { ACL, Id, Stat, ClientInfo, CreateModeName } from "../proto/index.ts";
export * from "./recipes/index.ts";
