/**
 * ZooKeeper's error codes (Apache `KeeperException.Code`) with their names and the messages Apache's clients
 * print (`KeeperException.getCodeMessage`), e.g. "Node does not exist".
 */

export const errorCodes = {
  ok: 0,
  systemError: -1,
  runtimeInconsistency: -2,
  dataInconsistency: -3,
  connectionLoss: -4,
  marshallingError: -5,
  unimplemented: -6,
  operationTimeout: -7,
  badArguments: -8,
  unknownSession: -12,
  newConfigNoQuorum: -13,
  reconfigInProgress: -14,
  apiError: -100,
  noNode: -101,
  noAuth: -102,
  badVersion: -103,
  noChildrenForEphemerals: -108,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  invalidCallback: -113,
  invalidACL: -114,
  authFailed: -115,
  sessionMoved: -118,
  notReadOnly: -119,
  ephemeralOnLocalSession: -120,
  noWatcher: -121,
  requestTimeout: -122,
  reconfigDisabled: -123,
  sessionClosedRequireSasl: -124,
  quotaExceeded: -125,
  throttledOp: -127,
} as const;

export type ErrorName = keyof typeof errorCodes;
/** A non-zero error code name: what a failed operation reports. */
export type FailureName = Exclude<ErrorName, "ok">;

const errorNamesByCode = new Map<number, ErrorName>(
  (Object.entries(errorCodes) as Array<[ErrorName, number]>).map(([name, code]) => [code, name]),
);

export function errorName(code: number): ErrorName | undefined {
  return errorNamesByCode.get(code);
}

/**
 * Apache's `KeeperException.getCodeMessage` texts, as the 3.8.0 jar has them (read with javap). Two codes have no
 * text there and print as "Unknown error <code>".
 */
export const errorMessages: Record<ErrorName, string> = {
  ok: "ok",
  systemError: "SystemError",
  runtimeInconsistency: "RuntimeInconsistency",
  dataInconsistency: "DataInconsistency",
  connectionLoss: "ConnectionLoss",
  marshallingError: "MarshallingError",
  unimplemented: "Unimplemented",
  operationTimeout: "OperationTimeout",
  badArguments: "BadArguments",
  unknownSession: "Unknown error -12",
  newConfigNoQuorum: "NewConfigNoQuorum",
  reconfigInProgress: "ReconfigInProgress",
  apiError: "APIError",
  noNode: "NoNode",
  noAuth: "NoAuth",
  badVersion: "BadVersion",
  noChildrenForEphemerals: "NoChildrenForEphemerals",
  nodeExists: "NodeExists",
  notEmpty: "Directory not empty",
  sessionExpired: "Session expired",
  invalidCallback: "Invalid callback",
  invalidACL: "InvalidACL",
  authFailed: "AuthFailed",
  sessionMoved: "Session moved",
  notReadOnly: "Not a read-only call",
  ephemeralOnLocalSession: "Ephemeral node on local session",
  noWatcher: "No such watcher",
  requestTimeout: "Unknown error -122",
  reconfigDisabled: "Reconfig is disabled",
  sessionClosedRequireSasl: "Session closed because client failed to authenticate",
  quotaExceeded: "Quota has exceeded",
  throttledOp: "Op throttled due to high load",
};
