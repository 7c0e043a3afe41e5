// The shell on a terminal (issue 3: "completes commands and paths with Tab, keeps history, shows the connection
// state in the prompt, prints watch notifications as they arrive"): `npm run zk` on a pseudo-terminal, typed into
// key by key by test/shell/pty-driver.py. The other shell tests feed scripts through a pipe, which takes the
// non-terminal path of src/cli/zk.ts; this one takes the readline path.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd } from "../interop/harness/children.ts";
import { startTestServer } from "../support/zk-server.ts";
import type { RunningServer } from "../../src/server/index.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const zk = `${root}src/cli/zk.ts`;
const driver = `${root}test/shell/pty-driver.py`;
const python = spawnSync("python3", ["-c", "import pty"]).status === 0;

type Step = { send: string } | { expect: string } | { run: string[] };

describe.skipIf(!python)(python ? "the zk shell on a terminal" : "the zk shell on a terminal (skipped: python3 with pty is missing)", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("prompt with the connection state and a counter, Tab completion of commands and paths, watch events while it waits, history kept in a file", async () => {
    const historyFile = path.join(mkdtempSync(path.join(os.tmpdir(), "zk-history-")), "history");
    const host = server.connectString;
    const prompt = (n: number) => `[zk: ${host}(CONNECTED) ${n}] `;
    const steps: Step[] = [
      { expect: prompt(0) },
      { send: "create /pty-a hello\r" },
      { expect: "Created /pty-a" },
      { expect: prompt(1) },
      { send: "get -w /pty-a\r" },
      { expect: "hello" },
      { expect: prompt(2) },
      // Another client changes the node while this shell sits at its prompt: the event is printed at once.
      { run: [tsx, zk, host, "set", "/pty-a", "changed"] },
      { expect: "WatchedEvent state:SyncConnected type:NodeDataChanged path:/pty-a" },
      { expect: prompt(2) },
      // "sta" + Tab → "stat"; "/pty-" + Tab → "/pty-a" (the server's children of /).
      { send: "sta\t" },
      { expect: "stat" },
      { send: " /pty-\t" },
      { expect: "/pty-a" },
      { send: "\r" },
      { expect: "dataLength = 7" },
      { expect: prompt(3) },
      { send: "history\r" },
      { expect: "2 - stat /pty-a" },
      { expect: "3 - history" },
      { expect: prompt(4) },
      { send: "quit\r" },
    ];
    const run = await runToEnd("python3", [driver, JSON.stringify(steps), tsx, zk, host], {
      timeoutMs: 120_000,
      env: { ...process.env, ZKBOOK_HISTORY: historyFile, TERM: "xterm" },
    });
    expect(run.stderr, run.stdout).toBe("");
    expect(run.code, run.stdout).toBe(0);
    // The stat command ran on the completed path, and the history outlives the shell.
    expect(readFileSync(historyFile, "utf8").split("\n")).toEqual(expect.arrayContaining(["create /pty-a hello", "stat /pty-a", "quit"]));
  }, 150_000);
});
