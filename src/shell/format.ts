/**
 * The shell's formatter: results → the text Apache 3.8 zkCli prints for them. Pure functions, one per kind of
 * output; every format here was compared with the real zkCli (test/interop/shell.test.ts).
 */
import type { ACL, ClientInfo, Stat } from "../proto/index.ts";
import { errorMessages, errorName, perms } from "../proto/index.ts";
import type { ConnectionStateKind, WatchedEvent } from "../client/index.ts";
import { ZooKeeperError } from "../client/index.ts";

/** Java's `Long.toHexString`: a long as unsigned 64-bit hex, no leading zeros. */
export function javaHex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}

const javaDateParts: Intl.DateTimeFormatOptions = {
  weekday: "short",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
  year: "numeric",
  timeZoneName: "short",
};

/**
 * Java's `new Date(ms).toString()`: "Thu Jan 01 00:00:00 UTC 1970", in `timeZone` (default: this process's).
 * The zone name is Intl's short name, which is Java's for UTC; elsewhere they may differ ("GMT+1" vs "CET").
 */
export function javaDate(ms: number, timeZone?: string): string {
  const format = new Intl.DateTimeFormat("en-US", { ...javaDateParts, ...(timeZone ? { timeZone } : {}) });
  const part = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${part.weekday} ${part.month} ${part.day} ${part.hour}:${part.minute}:${part.second} ${part.timeZoneName} ${part.year}`;
}

/** `StatPrinter.print`. */
export function formatStat(stat: Stat, timeZone?: string): string[] {
  return [
    `cZxid = 0x${javaHex(stat.czxid)}`,
    `ctime = ${javaDate(Number(stat.ctime), timeZone)}`,
    `mZxid = 0x${javaHex(stat.mzxid)}`,
    `mtime = ${javaDate(Number(stat.mtime), timeZone)}`,
    `pZxid = 0x${javaHex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = 0x${javaHex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ];
}

/** Java's `List.toString()`: "[a, b]". */
export function javaList(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}

/** `ls`: the children sorted (Java String order, which is JavaScript's default sort). */
export function formatChildren(children: readonly string[]): string {
  return javaList([...children].sort());
}

/** `get`: the data as UTF-8, "null" for null data. */
export function formatData(data: Buffer | null): string {
  return data === null ? "null" : data.toString("utf8");
}

/** `ZKUtil.getPermString`: the letters of the permissions in the order c, d, r, w, a. */
export function permString(bits: number): string {
  const letters: Array<[number, string]> = [
    [perms.create, "c"],
    [perms.delete, "d"],
    [perms.read, "r"],
    [perms.write, "w"],
    [perms.admin, "a"],
  ];
  return letters.map(([bit, letter]) => ((bits & bit) !== 0 ? letter : "")).join("");
}

/** `getAcl`: two lines per entry, "'world,'anyone" then ": cdrwa". */
export function formatAcl(acl: readonly ACL[]): string[] {
  return acl.flatMap((entry) => [`'${entry.id.scheme},'${entry.id.id}`, `: ${permString(entry.perms)}`]);
}

/** `whoami`. */
export function formatWhoAmI(infos: readonly ClientInfo[]): string[] {
  return ["Auth scheme: User", ...infos.map((info) => `${info.authScheme}: ${info.user}`)];
}

const capitalize = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * What zkCli's watcher prints for an event (`ZooKeeperMain.MyWatcher` and `WatchedEvent.toString`): an empty line,
 * "WATCHER::", an empty line, "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x".
 */
export function formatEvent(event: WatchedEvent): string[] {
  const text = `WatchedEvent state:${capitalize(event.state)} type:${capitalize(event.type)} path:${event.path ?? "null"}`;
  return ["", "WATCHER::", "", text];
}

/** The session event zkCli's default watcher would get for a change of connection state, or null for none. */
export function sessionEventFor(state: ConnectionStateKind, previous: ConnectionStateKind): WatchedEvent | null {
  // lab 2.4: the session state machine: which state changes a watcher hears, and as which event
  //   The client moves notConnected → connecting ⇄ connected → closing → closed, or ends in expired / authFailed
  //   (chapter 2, "The states of a session"). Return the event Java's default watcher gets for the change from
  //   `previous` to `state` — { type: "none", state: <keeper state>, path: null } — or null when there is none:
  //   connected is "syncConnected"; connecting is "disconnected" only when the client was connected (another
  //   failed attempt tells nothing new); expired, closed and authFailed are told once, by their own name;
  //   notConnected and closing are not told.
  const event = (s: WatchedEvent["state"]): WatchedEvent => ({ type: "none", state: s, path: null });
  switch (state) {
    case "connected":
      return event("syncConnected");
    case "connecting":
      return previous === "connected" ? event("disconnected") : null;
    case "expired":
      return event("expired");
    case "closed":
      return event("closed");
    case "authFailed":
      return event("authFailed");
    case "notConnected":
    case "closing":
      return null;
  }
  // end lab 2.4
}

/** `ZooKeeper.States` names, as zkCli's prompt shows them. */
export function stateName(state: ConnectionStateKind): string {
  switch (state) {
    case "notConnected":
      return "NOT_CONNECTED";
    case "connecting":
      return "CONNECTING";
    case "connected":
      return "CONNECTED";
    case "authFailed":
      return "AUTH_FAILED";
    case "closing":
    case "closed":
    case "expired":
      return "CLOSED";
  }
}

/** `ZooKeeperMain.getPrompt`: "[zk: 127.0.0.1:2181(CONNECTED) 3] ". */
export function prompt(host: string, state: ConnectionStateKind, commandCount: number): string {
  return `[zk: ${host}(${stateName(state)}) ${commandCount}] `;
}

/** `history`: the last eleven commands, "N - command". */
export function formatHistory(history: ReadonlyMap<number, string>, commandCount: number): string[] {
  const lines: string[] = [];
  for (let i = Math.max(0, commandCount - 10); i <= commandCount; i++) lines.push(`${i} - ${history.get(i) ?? "null"}`);
  return lines;
}

/**
 * `KeeperException.getCodeMessage` of Apache 3.8.0, where it differs from `errorMessages` in src/proto (which
 * says e.g. "Insufficient permission" where Apache says "NoAuth"); codes Apache's switch misses print as
 * "Unknown error <code>".
 */
const apacheCodeMessages: Readonly<Record<number, string>> = {
  [-102]: "NoAuth",
  [-114]: "InvalidACL",
  [-115]: "AuthFailed",
  [-12]: "Unknown error -12",
  [-122]: "Unknown error -122",
};

/** `KeeperException.getMessage()`: "KeeperErrorCode = NoNode for /x", without " for" when there is no path. */
export function keeperMessage(code: number, path: string | undefined | null): string {
  const name = errorName(code);
  const text = apacheCodeMessages[code] ?? (name === undefined ? `Unknown error ${code}` : errorMessages[name]);
  return `KeeperErrorCode = ${text}${path ? ` for ${path}` : ""}`;
}

/**
 * The line zkCli prints for a failed call (`CliWrapperException.getMessage`): its own wording for the common
 * errors, `KeeperException.getMessage()` for the rest; the error's own message for anything that is not a
 * ZooKeeper error (an invalid path says what is wrong with it).
 */
export function errorLine(error: unknown): string {
  if (!(error instanceof ZooKeeperError)) return error instanceof Error ? error.message : String(error);
  const path = error.path ?? "null";
  switch (error.codeName) {
    case "noNode":
      return `Node does not exist: ${path}`;
    case "noChildrenForEphemerals":
      return `Ephemerals cannot have children: ${path}`;
    case "nodeExists":
      return `Node already exists: ${path}`;
    case "notEmpty":
      return `Node not empty: ${path}`;
    case "notReadOnly":
      return `Not a read-only call: ${path}`;
    case "invalidACL":
      return `Acl is not valid : ${path}`;
    case "noAuth":
      return `Insufficient permission : ${path}`;
    case "badArguments":
      return `Arguments are not valid : ${path}`;
    case "badVersion":
      return `version No is not valid : ${path}`;
    case "quotaExceeded":
      return `Quota has exceeded : ${path}`;
    case "reconfigInProgress":
      return "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)";
    case "newConfigNoQuorum":
      return (
        "No quorum of new config is connected and up-to-date with the leader of last committed config - " +
        "try invoking reconfiguration after new servers are connected and synced"
      );
    default:
      return keeperMessage(error.code, error.path);
  }
}
