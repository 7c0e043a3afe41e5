/**
 * Numeric constants of the client protocol, and the only place where they appear as numbers. Everywhere else the
 * code talks in names (`"create"`, `"nodeCreated"`), converted here at the codec boundary.
 * Source: Apache `ZooDefs.OpCode`, `ZooDefs.Perms`, `CreateMode`, `Watcher.Event`.
 */

export const opCodes = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

export type OpName = keyof typeof opCodes;

const opNamesByCode = new Map<number, OpName>(
  (Object.entries(opCodes) as Array<[OpName, number]>).map(([name, code]) => [code, name]),
);

/** The operation name for a wire opcode, or undefined for an opcode ZooKeeper 3.8 does not define. */
export function opName(code: number): OpName | undefined {
  return opNamesByCode.get(code);
}

/** Reserved xids (ClientCnxn): notifications, pings, auth and setWatches do not use the client's counter. */
export const xids = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** ZooDefs.Perms: a bit set. */
export const perms = {
  read: 1,
  write: 2,
  create: 4,
  delete: 8,
  admin: 16,
  all: 31,
} as const;
export type PermName = Exclude<keyof typeof perms, "all">;

/** CreateMode: the flags field of a create request. */
export const createModes = {
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
  container: 4,
  persistentWithTtl: 5,
  persistentSequentialWithTtl: 6,
} as const;
export type CreateModeName = keyof typeof createModes;

export interface CreateModeInfo {
  readonly name: CreateModeName;
  readonly ephemeral: boolean;
  readonly sequential: boolean;
  readonly container: boolean;
  readonly ttl: boolean;
}

const createModeInfos = new Map<number, CreateModeInfo>(
  (Object.entries(createModes) as Array<[CreateModeName, number]>).map(([name, flag]) => [
    flag,
    {
      name,
      ephemeral: name === "ephemeral" || name === "ephemeralSequential",
      sequential: name === "persistentSequential" || name === "ephemeralSequential" || name === "persistentSequentialWithTtl",
      container: name === "container",
      ttl: name === "persistentWithTtl" || name === "persistentSequentialWithTtl",
    },
  ]),
);

/** The create mode for a flags value, or undefined (Apache answers BADARGUMENTS for an unknown flag). */
export function createMode(flags: number): CreateModeInfo | undefined {
  return createModeInfos.get(flags);
}

/** Watcher.Event.EventType */
export const eventTypes = {
  none: -1,
  nodeCreated: 1,
  nodeDeleted: 2,
  nodeDataChanged: 3,
  nodeChildrenChanged: 4,
  dataWatchRemoved: 5,
  childWatchRemoved: 6,
  persistentWatchRemoved: 7,
} as const;
export type EventTypeName = keyof typeof eventTypes;
const eventNamesByCode = new Map<number, EventTypeName>(
  (Object.entries(eventTypes) as Array<[EventTypeName, number]>).map(([n, c]) => [c, n]),
);
export function eventTypeName(code: number): EventTypeName | undefined {
  return eventNamesByCode.get(code);
}

/** Watcher.Event.KeeperState */
export const keeperStates = {
  disconnected: 0,
  syncConnected: 3,
  authFailed: 4,
  connectedReadOnly: 5,
  saslAuthenticated: 6,
  expired: -112,
  closed: 7,
} as const;
export type KeeperStateName = keyof typeof keeperStates;

/** WatcherType of checkWatches/removeWatches. */
export const watcherTypes = { children: 1, data: 2, any: 3 } as const;

/** AddWatchMode. */
export const addWatchModes = { persistent: 0, persistentRecursive: 1 } as const;
