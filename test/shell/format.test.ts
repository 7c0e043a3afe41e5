// The shell's formatter as a pure unit: each output format against text printed by Apache 3.8.0's zkCli
// (StatPrinter, LsCommand.printChildren, GetAclCommand, WhoAmICommand, WatchedEvent.toString, CliWrapperException,
// ZooKeeperMain.getPrompt and history).
import { describe, expect, it } from "vitest";
import {
  BadVersionError,
  ConnectionLossError,
  InvalidACLError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NoNodeError,
  NoWatcherError,
  NodeExistsError,
  NotEmptyError,
} from "../../src/client/index.ts";
import type { Stat } from "../../src/proto/index.ts";
import {
  errorLine,
  formatAcl,
  formatChildren,
  formatData,
  formatEvent,
  formatHistory,
  formatStat,
  formatWhoAmI,
  javaDate,
  javaHex,
  javaList,
  keeperMessage,
  permString,
  prompt,
  sessionEventFor,
} from "../../src/shell/format.ts";

const stat: Stat = {
  czxid: 8n,
  mzxid: 9n,
  ctime: BigInt(Date.UTC(2026, 10, 22, 0, 5, 39)),
  mtime: BigInt(Date.UTC(2026, 10, 22, 0, 5, 39, 500)),
  version: 1,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 4,
  numChildren: 0,
  pzxid: 8n,
};

describe("stat (StatPrinter)", () => {
  it("prints the eleven lines of zkCli, times as Java's Date.toString", () => {
    expect(formatStat(stat, "UTC")).toEqual([
      "cZxid = 0x8",
      "ctime = Sun Nov 22 00:05:39 UTC 2026",
      "mZxid = 0x9",
      "mtime = Sun Nov 22 00:05:39 UTC 2026",
      "pZxid = 0x8",
      "cversion = 0",
      "dataVersion = 1",
      "aclVersion = 0",
      "ephemeralOwner = 0x0",
      "dataLength = 4",
      "numChildren = 0",
    ]);
  });

  it("pads the day with a zero (the root's times: the epoch)", () => {
    expect(javaDate(0, "UTC")).toBe("Thu Jan 01 00:00:00 UTC 1970");
    expect(javaDate(Date.UTC(2024, 6, 4, 9, 5, 7), "UTC")).toBe("Thu Jul 04 09:05:07 UTC 2024");
  });

  it("prints longs as Java's Long.toHexString: unsigned, no leading zeros", () => {
    expect(javaHex(0n)).toBe("0");
    expect(javaHex(0x100000a3b9c0003n)).toBe("100000a3b9c0003");
    expect(javaHex(-1n)).toBe("ffffffffffffffff");
  });
});

describe("lists, data, ACLs", () => {
  it("ls sorts the children, Java's List.toString format", () => {
    expect(formatChildren([])).toBe("[]");
    expect(formatChildren(["workers", "assign", "Zed", "tasks"])).toBe("[Zed, assign, tasks, workers]");
    expect(javaList(["/workers/worker1.example.com", "/master"])).toBe("[/workers/worker1.example.com, /master]");
  });

  it("get prints null data as null and empty data as an empty line", () => {
    expect(formatData(null)).toBe("null");
    expect(formatData(Buffer.alloc(0))).toBe("");
    expect(formatData(Buffer.from("héllo ✓"))).toBe("héllo ✓");
  });

  it("getAcl prints two lines per entry, permissions in the order c d r w a", () => {
    expect(permString(31)).toBe("cdrwa");
    expect(permString(1 | 2)).toBe("rw");
    expect(permString(0)).toBe("");
    expect(
      formatAcl([
        { perms: 3, id: { scheme: "digest", id: "bob:x" } },
        { perms: 1, id: { scheme: "world", id: "anyone" } },
      ]),
    ).toEqual(["'digest,'bob:x", ": rw", "'world,'anyone", ": r"]);
  });

  it("whoami", () => {
    expect(formatWhoAmI([{ authScheme: "ip", user: "127.0.0.1" }])).toEqual(["Auth scheme: User", "ip: 127.0.0.1"]);
  });
});

describe("watch and session events (ZooKeeperMain.MyWatcher, WatchedEvent.toString)", () => {
  it("prints a blank line, WATCHER::, a blank line, then the event with Java's enum names", () => {
    expect(formatEvent({ type: "nodeDataChanged", state: "syncConnected", path: "/x" })).toEqual([
      "",
      "WATCHER::",
      "",
      "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x",
    ]);
    expect(formatEvent({ type: "none", state: "closed", path: null }).at(-1)).toBe("WatchedEvent state:Closed type:None path:null");
    expect(formatEvent({ type: "persistentWatchRemoved", state: "syncConnected", path: "/w" }).at(-1)).toBe(
      "WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/w",
    );
  });

  it("turns connection state changes into the session events zkCli's default watcher gets", () => {
    expect(sessionEventFor("connected", "connecting")?.state).toBe("syncConnected");
    expect(sessionEventFor("connecting", "connected")?.state).toBe("disconnected");
    expect(sessionEventFor("connecting", "notConnected")).toBeNull();
    expect(sessionEventFor("expired", "connecting")?.state).toBe("expired");
    expect(sessionEventFor("closed", "closing")?.state).toBe("closed");
    expect(sessionEventFor("authFailed", "connected")?.state).toBe("authFailed");
    expect(sessionEventFor("closing", "connected")).toBeNull();
  });
});

describe("errors (CliWrapperException.getMessage, KeeperException.getMessage)", () => {
  it("uses zkCli's wording for the common errors", () => {
    expect(errorLine(new NoNodeError("/x"))).toBe("Node does not exist: /x");
    expect(errorLine(new NodeExistsError("/x"))).toBe("Node already exists: /x");
    expect(errorLine(new BadVersionError("/x"))).toBe("version No is not valid : /x");
    expect(errorLine(new NotEmptyError("/tasks"))).toBe("Node not empty: /tasks");
    expect(errorLine(new NoAuthError("/tasks"))).toBe("Insufficient permission : /tasks");
    expect(errorLine(new NoChildrenForEphemeralsError("/eph/child"))).toBe("Ephemerals cannot have children: /eph/child");
    expect(errorLine(new InvalidACLError("/a3"))).toBe("Acl is not valid : /a3");
  });

  it("falls back on KeeperErrorCode = ... with Apache 3.8.0's code messages", () => {
    expect(errorLine(new NoWatcherError("/w"))).toBe("KeeperErrorCode = No such watcher for /w");
    expect(errorLine(new ConnectionLossError("/"))).toBe("KeeperErrorCode = ConnectionLoss for /");
    expect(errorLine(new ConnectionLossError())).toBe("KeeperErrorCode = ConnectionLoss");
    expect(keeperMessage(-102, "/b")).toBe("KeeperErrorCode = NoAuth for /b");
    expect(keeperMessage(-114, null)).toBe("KeeperErrorCode = InvalidACL");
    expect(keeperMessage(-6, "/ttl")).toBe("KeeperErrorCode = Unimplemented for /ttl");
  });

  it("prints other errors' messages, never a stack trace", () => {
    expect(errorLine(new Error("Path must start with / character"))).toBe("Path must start with / character");
  });
});

describe("prompt and history (ZooKeeperMain)", () => {
  it("shows host, state and the command counter", () => {
    expect(prompt("127.0.0.1:2181", "connected", 3)).toBe("[zk: 127.0.0.1:2181(CONNECTED) 3] ");
    expect(prompt("h:1", "connecting", 0)).toBe("[zk: h:1(CONNECTING) 0] ");
    expect(prompt("h:1", "closed", 5)).toBe("[zk: h:1(CLOSED) 5] ");
    expect(prompt("h:1", "expired", 5)).toBe("[zk: h:1(CLOSED) 5] ");
    expect(prompt("h:1", "authFailed", 5)).toBe("[zk: h:1(AUTH_FAILED) 5] ");
  });

  it("history lists the last eleven commands, the current one included", () => {
    const history = new Map(Array.from({ length: 14 }, (_, i) => [i, `cmd ${i}`] as const));
    expect(formatHistory(history, 13)).toEqual(Array.from({ length: 11 }, (_, i) => `${i + 3} - cmd ${i + 3}`));
    expect(formatHistory(new Map([[0, "history"]]), 0)).toEqual(["0 - history"]);
  });
});
