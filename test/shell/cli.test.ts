// The shell end to end: `tsx src/cli/zk.ts <connect>` with a script on stdin, against this project's server
// (test/support/zk-server.ts), output compared with what Apache 3.8.0's zkCli prints for the same script against
// Apache ZooKeeper (recorded from it; test/interop/shell.test.ts re-checks it live). Times and session ids are
// normalised; zxids are not: both servers number the same transactions alike.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer } from "../support/zk-server.ts";
import type { RunningServer } from "../../src/server/index.ts";
import { normalize, runShell, sessionEvent } from "./helpers.ts";
import { deleteAll, errors, sameWatchTwice, walkthrough, watches } from "./scripts.ts";

let server: RunningServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server?.close();
});

const stat = (s: { czxid: number; mzxid: number; pzxid: number; cversion: number; version: number; dataLength: number; numChildren: number }) =>
  [
    `cZxid = 0x${s.czxid.toString(16)}`,
    "ctime = <time>",
    `mZxid = 0x${s.mzxid.toString(16)}`,
    "mtime = <time>",
    `pZxid = 0x${s.pzxid.toString(16)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    "aclVersion = 0",
    "ephemeralOwner = 0x0",
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ].join("\n") + "\n";

const event = (type: string, path: string) => `\nWATCHER::\n\nWatchedEvent state:SyncConnected type:${type} path:${path}\n`;

describe("a script on standard input", () => {
  it("runs the book's master–worker walk-through with zkCli's output, events before the command's own output", async () => {
    const run = await runShell([server.connectString], walkthrough, { merge: true });
    const task = { czxid: 8, pzxid: 0xa, cversion: 1, numChildren: 1 };
    expect(normalize(run.merged)).toBe(
      sessionEvent("SyncConnected") +
        "Created /master\nCreated /workers\nCreated /tasks\nCreated /assign\n" +
        "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.\n" +
        "[]\n[]\n" +
        event("NodeChildrenChanged", "/workers") +
        "Created /workers/worker1.example.com\n" +
        "Created /assign/worker1.example.com\n" +
        "[]\n" +
        event("NodeChildrenChanged", "/tasks") +
        "Created /tasks/task-0000000000\n" +
        "[]\n[task-0000000000]\n[task-0000000000]\n" +
        event("NodeChildrenChanged", "/assign/worker1.example.com") +
        "Created /assign/worker1.example.com/task-0000000000\n" +
        "[task-0000000000]\n" +
        event("NodeChildrenChanged", "/tasks/task-0000000000") +
        "Created /tasks/task-0000000000/status\n" +
        "done\n" +
        "cmd\n" +
        stat({ ...task, mzxid: 8, version: 0, dataLength: 3 }) +
        stat({ ...task, mzxid: 0xb, version: 1, dataLength: 6 }) +
        "version No is not valid : /tasks/task-0000000000\n" +
        stat({ ...task, mzxid: 0xb, version: 1, dataLength: 6 }) +
        "Node does not exist: /tasks/task-0000000001\n" +
        "[/workers/worker1.example.com]\n" +
        "12\n" +
        "/assign\n/assign/worker1.example.com\n/assign/worker1.example.com/task-0000000000\n" +
        "'world,'anyone\n: cdrwa\n" +
        "Node not empty: /tasks/task-0000000000\n" +
        event("NodeChildrenChanged", "/tasks") +
        "[]\n" +
        "Node already exists: /workers\n" +
        sessionEvent("Closed") +
        "Not connected\n" +
        sessionEvent("SyncConnected") +
        "[]\n" +
        "Node does not exist: /master\n",
    );
    expect(run.code).toBe(1); // the last command failed, as zkCli's exit status says
  });

  it("sends results to stdout and Created, errors and usage to stderr, like zkCli", async () => {
    const run = await runShell([server.connectString], ["create /x data", "get /x", "get /nope", "ls", "stat /x", "bogus"]);
    expect(normalize(run.stdout)).toBe(
      sessionEvent("SyncConnected") + "data\n" + stat({ czxid: 2, mzxid: 2, pzxid: 2, cversion: 0, version: 0, dataLength: 4, numChildren: 0 }),
    );
    expect(run.stderr.split("\n").filter((l) => !l.startsWith("\t"))).toEqual([
      "Created /x",
      "Node does not exist: /nope",
      "ls [-s] [-w] [-R] path",
      "ZooKeeper -server host:port cmd args",
      "Command not found: Command not found bogus",
      "",
    ]);
    expect(run.code).toBe(1);
  });

  it("prints no prompt or banner, skips blank lines, stops at quit, and exits 0 when the last command worked", async () => {
    const run = await runShell([server.connectString], ["", "create /a", "   ", "history", "quit", "create /never"], { merge: true });
    expect(run.merged).toBe(sessionEvent("SyncConnected") + "Created /a\n0 - create /a\n1 - history\n");
    expect(run.code).toBe(0);
  });

  it("ends the session at the end of input, so its ephemeral nodes go at once", async () => {
    await runShell([server.connectString], [`create -e /eph ""`]);
    const run = await runShell([server.connectString], ["ls /"], { merge: true });
    expect(run.merged).toBe(sessionEvent("SyncConnected") + "[zookeeper]\n");
  });

  it("prints watch events in zkCli's format for every kind of watch, and stops with printwatches off", async () => {
    const run = await runShell(
      [server.connectString],
      watches,
      { merge: true },
    );
    expect(run.merged).toBe(
      sessionEvent("SyncConnected") +
        "Created /w\nCreated /r\n" +
        "null\n" +
        event("NodeDataChanged", "/w") +
        "Node does not exist: /w/missing\n" +
        event("NodeCreated", "/w/missing") +
        "Created /w/missing\n" +
        event("NodeDataChanged", "/w") +
        event("NodeChildrenChanged", "/w") +
        event("PersistentWatchRemoved", "/w") +
        "KeeperErrorCode = No such watcher for /w\n" +
        event("NodeCreated", "/r/deep") +
        "Created /r/deep\n" +
        "printwatches is on\n" +
        "printwatches is off\n" +
        event("NodeDataChanged", "/r/deep") +
        event("NodeCreated", "/w/deep") +
        "Created /w/deep\n",
    );
  });

  it("keeps watches set twice on one node as one, as zkCli's single default watcher does", async () => {
    const run = await runShell([server.connectString], sameWatchTwice, { merge: true });
    expect(normalize(run.merged)).toContain(event("NodeChildrenChanged", "/d") + "Created /d/c\n" + event("NodeDataChanged", "/d"));
    expect(run.merged.match(/WATCHER::/g)).toHaveLength(3);
  });

  it("says what zkCli says for bad paths, ACLs and versions, without stack traces", async () => {
    const run = await runShell(
      [server.connectString],
      // zkCli dies with a NumberFormatException stack trace on -v abc; this line is ours.
      [...errors.slice(0, 8), "set -v abc /eph x", ...errors.slice(8)],
      { merge: true },
    );
    expect(run.merged).toBe(
      sessionEvent("SyncConnected") +
        [
          "Path must start with / character",
          "Path must not end with / character",
          'Invalid path string "/a//b" caused by empty node name specified @3',
          "nope does not have the form scheme:id:perm",
          "KeeperErrorCode = InvalidACL",
          "Acl is not valid : null",
          "Unknown perm type: x",
          "Unknown perm type: y",
          "Unknown perm type: z",
          "Created /g",
          "Insufficient permission : /g",
          "Created /eph",
          "Ephemerals cannot have children: /eph/child",
          "-v argument must be an int value",
          "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v",
          "KeeperErrorCode = Unimplemented for /ttl",
          "KeeperErrorCode = InvalidACL for /a3",
          "Acl is not valid : /a3",
          "Node does not exist: /nope",
          "Node does not exist: /nope",
          "Node does not exist: /nope",
          "Sync is OK",
          "Node does not exist: /nope",
        ].join("\n") +
        "\n",
    );
    expect(run.merged).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("deletes a subtree with deleteall in batches, and reports a partial failure as zkCli does", async () => {
    const run = await runShell(
      [server.connectString],
      deleteAll,
      { merge: true },
    );
    expect(run.merged).toBe(
      sessionEvent("SyncConnected") +
        "Created /t\nCreated /t/a\nCreated /t/a/b\nCreated /t/c\n3\n[zookeeper]\nNode does not exist: /nope\n" +
        "Created /locked\nCreated /locked/child\nFailed to delete some node(s) in the subtree!\n/locked\n/locked/child\n",
    );
  });

  it("runs one command given on the command line, like zkCli.sh -server h:p cmd args", async () => {
    await runShell([server.connectString], [`create /one "hello world"`]);
    const run = await runShell(["-server", server.connectString, "get", "/one"], "", { merge: true });
    expect(run.merged).toBe(sessionEvent("SyncConnected") + "hello world\n");
    expect(run.code).toBe(0);
  });

  it("refuses bad arguments with exit status 2, saying what was wrong, before connecting anywhere", async () => {
    const badTimeout = await runShell(["-timeout", "soon", server.connectString], ["ls /"]);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr.split("\n")[0]).toBe('zk: -timeout "soon" is not a positive whole number of milliseconds');
    const noServer = await runShell(["-server"], ["ls /"]);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr.split("\n")[0]).toBe("zk: -server needs a host:port");
    const badPort = await runShell(["127.0.0.1:99999"], ["ls /"]);
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toBe('bad port in "127.0.0.1:99999"\n');
  });

  it("fails with exit status 1 when the server cannot be reached", async () => {
    const port = server.port;
    await server.close();
    const run = await runShell(["-timeout", "1000", `127.0.0.1:${port}`], ["ls /"], { merge: true });
    expect(run.merged).toBe("KeeperErrorCode = ConnectionLoss\n");
    expect(run.code).toBe(1);
    server = await startTestServer();
  });
});
