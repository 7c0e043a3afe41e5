// The runner in-process (no terminal, no child process), against this project's server: what ZooKeeperMain keeps
// between commands — the prompt and its counter, history and redo, printwatches, close and connect — and the
// session events zkCli's default watcher prints when the connection changes.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Shell, type ShellIO } from "../../src/shell/shell.ts";
import type { RunningServer } from "../../src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";

let server: RunningServer;
const shells: Shell[] = [];

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await Promise.all(shells.splice(0).map((shell) => shell.shutdown()));
  await server?.close();
});

/** A shell printing into one transcript; stderr lines are marked "!" so that tests see which stream was used. */
async function openShell(connectString = server.connectString, waitForConnection = true) {
  const lines: string[] = [];
  const io: ShellIO = {
    out: (text) => lines.push(...text.split("\n")),
    err: (text) => lines.push(...text.split("\n").map((line) => `! ${line}`)),
  };
  const shell = new Shell({
    connectString,
    io,
    waitForConnection,
    sessionTimeoutMs: 4000,
    timeZone: "UTC",
    clientOptions: { reconnectDelayMsMax: 50, hostCycleDelayMs: 50 },
  });
  shells.push(shell);
  await shell.start();
  const take = (): string[] => lines.splice(0);
  take(); // the SyncConnected of the start
  const run = async (...commands: string[]): Promise<string[]> => {
    for (const command of commands) await shell.executeLine(command);
    return take();
  };
  return { shell, run, take };
}

const sessionEvent = (state: string) => ["", "WATCHER::", "", `WatchedEvent state:${state} type:None path:null`];

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("prompt, history and redo (ZooKeeperMain)", () => {
  it("shows the host, the state and a counter that counts every non-blank line", async () => {
    const { shell, run } = await openShell();
    expect(shell.prompt).toBe(`[zk: ${server.connectString}(CONNECTED) 0] `);
    await run("ls /", "", "bogus", "  ");
    expect(shell.prompt).toBe(`[zk: ${server.connectString}(CONNECTED) 2] `);
  });

  it("shows CONNECTING until the session is there when it does not wait for it (interactive)", async () => {
    const { shell } = await openShell(server.connectString, false);
    expect(shell.prompt).toMatch(/\(CONNECTING\) 0\] $/);
    await until(() => shell.prompt.includes("CONNECTED"));
  });

  it("redo runs a past command again and puts it in the history in place of the redo", async () => {
    const { run } = await openShell();
    expect(await run("create -s /q- x", "redo 0", "history")).toEqual([
      "! Created /q-0000000000",
      "! Created /q-0000000001",
      "0 - create -s /q- x",
      "1 - create -s /q- x",
      "2 - history",
    ]);
    expect(await run("redo 9")).toEqual(["! Command index out of range"]);
    expect(await run("redo 4")).toEqual(["! Command index out of range"]); // itself
    expect(await run("redo 3")).toEqual(["! No redoing redos"]);
  });

  it("prints printwatches' state and honours it for watch and session events", async () => {
    const { run } = await openShell();
    await run("create /p", "printwatches off");
    expect(await run("printwatches", "get -w /p", "set /p 1", "close")).toEqual(["printwatches is off", "null"]);
  });
});

describe("close and connect", () => {
  it("close ends the session (its Closed event is printed); commands then print Not connected", async () => {
    const { shell, run } = await openShell();
    await run(`create -e /eph ""`);
    expect(await run("close")).toEqual(sessionEvent("Closed"));
    expect(shell.prompt).toMatch(/\(CLOSED\) 2\] $/);
    expect(await run("ls /", "whoami")).toEqual(["Not connected", "Not connected"]);
    expect(await run("connect", "ls /")).toEqual([...sessionEvent("SyncConnected"), "[zookeeper]"]);
  });

  it("connect host:port moves to another server: Closed for the old session, SyncConnected for the new", async () => {
    const other = await startTestServer();
    try {
      const { shell, run } = await openShell();
      await run("create /on-first");
      expect(await run(`connect ${other.connectString}`, "ls /")).toEqual([
        ...sessionEvent("Closed"),
        ...sessionEvent("SyncConnected"),
        "[zookeeper]",
      ]);
      expect(shell.prompt).toBe(`[zk: ${other.connectString}(CONNECTED) 3] `);
    } finally {
      await Promise.all(shells.splice(0).map((shell) => shell.shutdown()));
      await other.close();
    }
  });

  it("prints Disconnected when the server goes away and ConnectionLoss for a command meanwhile", async () => {
    const { shell, run, take } = await openShell();
    await server.close();
    await until(() => shell.prompt.includes("CONNECTING"));
    expect(take()).toEqual(sessionEvent("Disconnected"));
    expect(await run("ls /")).toEqual(["! KeeperErrorCode = ConnectionLoss for /"]);
    expect(shell.exitCode).toBe(1);
  });

  it("prints Expired when a server that lost the session answers, then Not connected (book chapter 5)", async () => {
    const { shell, run, take } = await openShell();
    const port = server.port;
    await server.close();
    await until(() => shell.prompt.includes("CONNECTING"));
    server = await startTestServer({ clientPort: port }); // a fresh server: it has never heard of the session
    await until(() => shell.prompt.includes("CLOSED"));
    expect(take()).toEqual([...sessionEvent("Disconnected"), ...sessionEvent("Expired")]);
    expect(await run("ls /")).toEqual(["Not connected"]);
  });

  it("quit says nothing and asks the runner to stop", async () => {
    const { shell, take } = await openShell();
    expect(await shell.executeLine("quit")).toBe("quit");
    await shell.shutdown();
    expect(take()).toEqual([]);
  });
});

describe("commands not in the walk-through", () => {
  it("whoami, addauth and digest ACLs", async () => {
    const { run } = await openShell();
    expect(await run("whoami")).toEqual(["Auth scheme: User", "ip: 127.0.0.1"]);
    expect(await run("addauth digest bob:secret", "create /mine x auth::cdrwa", "getAcl /mine")).toEqual([
      "! Created /mine",
      "'digest,'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=",
      ": cdrwa",
    ]);
  });

  it("setAcl with -s and -v, and its errors", async () => {
    const { run } = await openShell();
    await run("create /acl");
    const withStat = await run("setAcl -s /acl world:anyone:cdrwa");
    expect(withStat).toContain("aclVersion = 1");
    expect(await run("setAcl -v 0 /acl world:anyone:r")).toEqual(["! version No is not valid : /acl"]);
    expect(await run("setAcl /acl nope")).toEqual(["! nope does not have the form scheme:id:perm", "! Acl is not valid : null"]);
    expect(await run("setAcl /acl world:anyone:r", "setAcl /acl world:anyone:cdrwa")).toEqual([
      "! Insufficient permission : /acl",
    ]);
  });

  it("setAcl -R changes every node of the subtree and reports each failure on its own line", async () => {
    const { run } = await openShell();
    await run("create /b", "create /b/c", "create /b/c/d");
    expect(await run("setAcl -R /b world:anyone:r", "getAcl /b/c/d")).toEqual(["'world,'anyone", ": r"]);
    expect(await run("setAcl -R /b world:anyone:cdrwa")).toEqual([
      "KeeperErrorCode = NoAuth for /b",
      "KeeperErrorCode = NoAuth for /b/c",
      "KeeperErrorCode = NoAuth for /b/c/d",
    ]);
  });

  it("sync, getEphemerals, ls -s, ls2 and removewatches of a data watch", async () => {
    const { run } = await openShell();
    expect(await run("sync /", "sync /missing")).toEqual(["Sync is OK", "Sync is OK"]);
    expect(await run(`create -e /e1 ""`, `create -e /e2 ""`, "getEphemerals /e2")).toEqual([
      "! Created /e1",
      "! Created /e2",
      "[/e2]",
    ]);
    expect((await run("ls -s /")).slice(0, 2)).toEqual(["[e1, e2, zookeeper]", "cZxid = 0x0"]);
    const ls2 = await run("ls2 /");
    expect(ls2[0]).toBe("! 'ls2' has been deprecated. Please use 'ls [-s] path' instead.");
    expect(ls2).toContain("numChildren = 3");
    expect(await run("get -w /e1", "removewatches /e1 -d")).toEqual([
      "",
      "",
      "WATCHER::",
      "",
      "WatchedEvent state:SyncConnected type:DataWatchRemoved path:/e1",
    ]);
  });

  it("completes paths from the server", async () => {
    const { shell, run } = await openShell();
    await run("create /tasks", "create /tasks/task-1", "create /tasks/task-2", "create /tmp");
    expect(await shell.complete("get /t")).toEqual([["/tasks", "/tmp"], "/t"]);
    expect(await shell.complete("get /tasks/")).toEqual([["/tasks/task-1", "/tasks/task-2"], "/tasks/"]);
    expect(await shell.complete("get /nope/")).toEqual([[], "/nope/"]);
  });
});
