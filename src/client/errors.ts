/**
 * Typed errors for failed ZooKeeper calls, one class per error code of `src/proto/errors.ts`, like Apache's
 * `KeeperException` subclasses (`KeeperException.NoNodeException`, ...) and kazoo's `NoNodeError`.
 *
 *   try { await client.getData("/x"); }
 *   catch (e) { if (e instanceof NoNodeError) ...; else throw e; }
 *
 * Every error carries the numeric `code`, its name (`codeName`, e.g. "noNode") and the `path` of the call, and its
 * message is Apache's: `KeeperErrorCode = NoNode for /x` (`KeeperException.getMessage`).
 *
 * Two codes deserve a note because they decide what an application must do (book chapter 5, "failure handling"):
 * - `ConnectionLossError` (-4) is *recoverable*: the session may still be alive, the client is reconnecting, and the
 *   call may or may not have been executed by the server. Idempotent calls can be retried (see `retry.ts`).
 * - `SessionExpiredError` (-112) is *not*: the session and its ephemeral nodes and watches are gone, and this client
 *   will never reconnect. Start again with a new client.
 */
import { errorCodes, errorMessages, errorName, type FailureName } from "../proto/index.ts";

/** Where a failed transaction (multi) failed: kazoo's `RolledBackError` and Java's `KeeperException.getResults()`. */
export interface TransactionFailure {
  /** Index of the operation that failed, in the order the operations were added. */
  readonly failedOpIndex: number;
  /** The operation kind at that index ("create", "delete", "setData", "check"). */
  readonly failedOpKind: string;
  /**
   * One code per operation, as the server reported it: 0 for the ops before the failing one (they were rolled
   * back), the failing op's own code, and -2 (runtimeInconsistency) for the ops after it, which never ran.
   */
  readonly codes: readonly number[];
}

export class ZooKeeperError extends Error {
  override name = "ZooKeeperError";
  /** `KeeperException.Code`, e.g. -101. */
  readonly code: number;
  /** The code's name in `src/proto/errors.ts`, e.g. "noNode"; "unknown" for a code ZooKeeper 3.8 does not define. */
  readonly codeName: FailureName | "unknown";
  /** The path of the call that failed (the client's path, without chroot), when there was one. */
  readonly path: string | undefined;
  /** Set when this error is the failure of a transaction (multi). */
  readonly transaction: TransactionFailure | undefined;

  constructor(code: number, path?: string, transaction?: TransactionFailure) {
    const known = errorName(code);
    const codeMessage = known === undefined ? `Unknown error ${code}` : errorMessages[known];
    let message = `KeeperErrorCode = ${codeMessage}${path ? ` for ${path}` : ""}`;
    if (transaction !== undefined) {
      message += ` (transaction op ${transaction.failedOpIndex}: ${transaction.failedOpKind})`;
    }
    super(message);
    this.code = code;
    this.codeName = known === undefined || known === "ok" ? "unknown" : known;
    this.path = path;
    this.transaction = transaction;
  }
}

/**
 * Makes the subclass for one code. `codeName` gets the literal type `N`, which makes every subclass a distinct
 * type, so `instanceof` narrows correctly.
 */
function errorClass<N extends FailureName>(codeName: N, className: string) {
  const code = errorCodes[codeName];
  const cls = class extends ZooKeeperError {
    override name = className;
    declare readonly codeName: N;
    constructor(path?: string, transaction?: TransactionFailure) {
      super(code, path, transaction);
    }
  };
  Object.defineProperty(cls, "name", { value: className });
  return cls;
}

export const SystemError = errorClass("systemError", "SystemError");
export type SystemError = InstanceType<typeof SystemError>;
export const RuntimeInconsistencyError = errorClass("runtimeInconsistency", "RuntimeInconsistencyError");
export type RuntimeInconsistencyError = InstanceType<typeof RuntimeInconsistencyError>;
export const DataInconsistencyError = errorClass("dataInconsistency", "DataInconsistencyError");
export type DataInconsistencyError = InstanceType<typeof DataInconsistencyError>;
export const ConnectionLossError = errorClass("connectionLoss", "ConnectionLossError");
export type ConnectionLossError = InstanceType<typeof ConnectionLossError>;
export const MarshallingError = errorClass("marshallingError", "MarshallingError");
export type MarshallingError = InstanceType<typeof MarshallingError>;
export const UnimplementedError = errorClass("unimplemented", "UnimplementedError");
export type UnimplementedError = InstanceType<typeof UnimplementedError>;
export const OperationTimeoutError = errorClass("operationTimeout", "OperationTimeoutError");
export type OperationTimeoutError = InstanceType<typeof OperationTimeoutError>;
export const BadArgumentsError = errorClass("badArguments", "BadArgumentsError");
export type BadArgumentsError = InstanceType<typeof BadArgumentsError>;
export const UnknownSessionError = errorClass("unknownSession", "UnknownSessionError");
export type UnknownSessionError = InstanceType<typeof UnknownSessionError>;
export const NewConfigNoQuorumError = errorClass("newConfigNoQuorum", "NewConfigNoQuorumError");
export type NewConfigNoQuorumError = InstanceType<typeof NewConfigNoQuorumError>;
export const ReconfigInProgressError = errorClass("reconfigInProgress", "ReconfigInProgressError");
export type ReconfigInProgressError = InstanceType<typeof ReconfigInProgressError>;
export const APIError = errorClass("apiError", "APIError");
export type APIError = InstanceType<typeof APIError>;
export const NoNodeError = errorClass("noNode", "NoNodeError");
export type NoNodeError = InstanceType<typeof NoNodeError>;
export const NoAuthError = errorClass("noAuth", "NoAuthError");
export type NoAuthError = InstanceType<typeof NoAuthError>;
export const BadVersionError = errorClass("badVersion", "BadVersionError");
export type BadVersionError = InstanceType<typeof BadVersionError>;
export const NoChildrenForEphemeralsError = errorClass("noChildrenForEphemerals", "NoChildrenForEphemeralsError");
export type NoChildrenForEphemeralsError = InstanceType<typeof NoChildrenForEphemeralsError>;
export const NodeExistsError = errorClass("nodeExists", "NodeExistsError");
export type NodeExistsError = InstanceType<typeof NodeExistsError>;
export const NotEmptyError = errorClass("notEmpty", "NotEmptyError");
export type NotEmptyError = InstanceType<typeof NotEmptyError>;
export const SessionExpiredError = errorClass("sessionExpired", "SessionExpiredError");
export type SessionExpiredError = InstanceType<typeof SessionExpiredError>;
export const InvalidCallbackError = errorClass("invalidCallback", "InvalidCallbackError");
export type InvalidCallbackError = InstanceType<typeof InvalidCallbackError>;
export const InvalidACLError = errorClass("invalidACL", "InvalidACLError");
export type InvalidACLError = InstanceType<typeof InvalidACLError>;
export const AuthFailedError = errorClass("authFailed", "AuthFailedError");
export type AuthFailedError = InstanceType<typeof AuthFailedError>;
export const SessionMovedError = errorClass("sessionMoved", "SessionMovedError");
export type SessionMovedError = InstanceType<typeof SessionMovedError>;
export const NotReadOnlyError = errorClass("notReadOnly", "NotReadOnlyError");
export type NotReadOnlyError = InstanceType<typeof NotReadOnlyError>;
export const EphemeralOnLocalSessionError = errorClass("ephemeralOnLocalSession", "EphemeralOnLocalSessionError");
export type EphemeralOnLocalSessionError = InstanceType<typeof EphemeralOnLocalSessionError>;
export const NoWatcherError = errorClass("noWatcher", "NoWatcherError");
export type NoWatcherError = InstanceType<typeof NoWatcherError>;
export const RequestTimeoutError = errorClass("requestTimeout", "RequestTimeoutError");
export type RequestTimeoutError = InstanceType<typeof RequestTimeoutError>;
export const ReconfigDisabledError = errorClass("reconfigDisabled", "ReconfigDisabledError");
export type ReconfigDisabledError = InstanceType<typeof ReconfigDisabledError>;
export const SessionClosedRequireSaslError = errorClass("sessionClosedRequireSasl", "SessionClosedRequireSaslError");
export type SessionClosedRequireSaslError = InstanceType<typeof SessionClosedRequireSaslError>;
export const QuotaExceededError = errorClass("quotaExceeded", "QuotaExceededError");
export type QuotaExceededError = InstanceType<typeof QuotaExceededError>;
export const ThrottledOpError = errorClass("throttledOp", "ThrottledOpError");
export type ThrottledOpError = InstanceType<typeof ThrottledOpError>;

type ErrorClass = new (path?: string, transaction?: TransactionFailure) => ZooKeeperError;

/** Every subclass by its code name. The `satisfies` makes the compiler check that no code was forgotten. */
const errorClassesByName = {
  systemError: SystemError,
  runtimeInconsistency: RuntimeInconsistencyError,
  dataInconsistency: DataInconsistencyError,
  connectionLoss: ConnectionLossError,
  marshallingError: MarshallingError,
  unimplemented: UnimplementedError,
  operationTimeout: OperationTimeoutError,
  badArguments: BadArgumentsError,
  unknownSession: UnknownSessionError,
  newConfigNoQuorum: NewConfigNoQuorumError,
  reconfigInProgress: ReconfigInProgressError,
  apiError: APIError,
  noNode: NoNodeError,
  noAuth: NoAuthError,
  badVersion: BadVersionError,
  noChildrenForEphemerals: NoChildrenForEphemeralsError,
  nodeExists: NodeExistsError,
  notEmpty: NotEmptyError,
  sessionExpired: SessionExpiredError,
  invalidCallback: InvalidCallbackError,
  invalidACL: InvalidACLError,
  authFailed: AuthFailedError,
  sessionMoved: SessionMovedError,
  notReadOnly: NotReadOnlyError,
  ephemeralOnLocalSession: EphemeralOnLocalSessionError,
  noWatcher: NoWatcherError,
  requestTimeout: RequestTimeoutError,
  reconfigDisabled: ReconfigDisabledError,
  sessionClosedRequireSasl: SessionClosedRequireSaslError,
  quotaExceeded: QuotaExceededError,
  throttledOp: ThrottledOpError,
} satisfies Record<FailureName, ErrorClass>;

/** The typed error for a code (Apache `KeeperException.create(code, path)`). */
export function errorForCode(code: number, path?: string, transaction?: TransactionFailure): ZooKeeperError {
  const name = errorName(code);
  if (name === undefined || name === "ok") return new ZooKeeperError(code, path, transaction);
  return new errorClassesByName[name](path, transaction);
}

/** A path that cannot be a znode path: a programming error, found before anything is sent (`PathUtils.validatePath`). */
export class InvalidPathError extends Error {
  override name = "InvalidPathError";
}

/** `connect()` or a call was used in a way the client cannot honour (e.g. a call before `connect()`). */
export class ClientUsageError extends Error {
  override name = "ClientUsageError";
}
