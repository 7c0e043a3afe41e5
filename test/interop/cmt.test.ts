/**
 * The C client (Apache's libzookeeper_mt, through its sample shell cli_mt from Debian's zookeeper-bin) against OUR
 * server, and the same script against Apache ZooKeeper 3.8: everything the shell prints must be the same, once
 * what no two servers share is masked (wall-clock times, session ids; cli_mt's "time = N msec" is uninitialised
 * garbage). The C client is strict in ways the others are not: it reads the handshake into a fixed-size buffer and
 * drops the connection on a reply xid it does not expect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import {
  apacheAvailable,
  apacheSkipMessage,
  cliMtChildren,
  cliMtRc,
  cliMtValue,
  runCliMt,
  startApacheZooKeeper,
  type ApacheZooKeeper,
  type CliMtResult,
} from "./harness/index.ts";

const available = apacheAvailable();
const canRun = available.has.cliMt && available.has.java && available.has.zookeeperJars;

/** One session's commands: every create flag, reads that leave watches, the watches firing, errors, myid. */
const script = [
  "create /c",
  "create +e /c/e",
  "create +s /c/s-",
  "create +es /c/es-",
  "get /c", // leaves a data watch on /c
  "set /c hello", // fires it: "Watcher CHANGED_EVENT ... for path /c"
  "get /c",
  "ls /c", // leaves a child watch on /c
  "ls2 /c",
  "exists /c",
  "exists /nope",
  "create /c",
  "delete /c",
  "get /missing",
  "create /c/new", // fires the child watch
  "delete /c/new",
  "delete /c/e",
  "ls /c",
  "sync /c",
  "create +c /box",
  "create +c /box/child",
  "create +t=60000 /ttl",
  "ls /",
  "ls /zookeeper",
  "get /zookeeper/config",
  "set /zookeeper/config x",
  "delete /zookeeper",
  "myid",
];

/** What differs between two correct servers, masked: times, session ids (cli_mt prints them in hex). */
export function normalizeCliMt(output: string): string {
  return output
    .replace(/^time = \d+ msec\n/gm, "")
    .replace(/^(\tctime = |\tmtime=).*$/gm, "$1<time>")
    .replace(/^(\tephemeralOwner = )(?!0$)[0-9a-f]+$/gm, "$1<session>")
    .replace(/^session Id = [0-9a-f]+$/gm, "session Id = <session>");
}

describe.skipIf(!canRun)(canRun ? "cli_mt (the C client) against our server and Apache 3.8" : apacheSkipMessage(available), () => {
  let apache: ApacheZooKeeper;
  let ours: RunningServer;
  let onApache: CliMtResult;
  let onOurs: CliMtResult;

  beforeAll(async () => {
    const settings = { tickTimeMs: 1_000 };
    [apache, ours] = await Promise.all([
      startApacheZooKeeper({ ...settings, jvmProperties: { "zookeeper.extendedTypesEnabled": "true" } }),
      startTestServer({ ...settings, extendedTypesEnabled: true }),
    ]);
    [onApache, onOurs] = await Promise.all([runCliMt(apache.hostPort, script), runCliMt(ours.connectString, script)]);
  });
  afterAll(async () => {
    await Promise.all([apache?.stop(), ours?.close()]);
  });

  it("connects, runs every command without a timeout and quits cleanly, on both servers", () => {
    for (const run of [onApache, onOurs]) {
      expect(run.connected).toBe(true);
      expect(run.steps.filter((s) => s.timedOut).map((s) => s.command)).toEqual([]);
      expect(run.steps.map((s) => s.command)).toEqual(script);
      expect(run.code).toBe(0);
    }
    // The session id the shell printed: server id 1 in the top byte (cli_mt drops leading zeros).
    expect(onOurs.sessionId).toMatch(/^0x1[0-9a-f]{14}$/);
  });

  it.each(script.map((command, index) => [index, command] as const))("step %i, `%s`: the same output as Apache", (index) => {
    expect(normalizeCliMt(onOurs.steps[index]!.output)).toBe(normalizeCliMt(onApache.steps[index]!.output));
  });

  it("says what the C client must see from our server (so that a shared mistake cannot pass)", () => {
    /** The output of the last step running `command`. */
    const out = (command: string) => onOurs.steps[script.lastIndexOf(command)]!.output;
    expect(out("create +s /c/s-")).toMatch(/\[\/c\/s-\]: rc = 0\n\tname = \/c\/s-0000000001/);
    expect(out("create +es /c/es-")).toMatch(/name = \/c\/es-0000000002/);
    expect(cliMtValue(out("get /c"))).toBe("hello");
    expect(out("set /c hello")).toMatch(/^Watcher CHANGED_EVENT state = CONNECTED_STATE for path \/c\n\/c: rc = 0 Stat:/);
    expect(out("create /c/new")).toMatch(/Watcher CHILD_EVENT state = CONNECTED_STATE for path \/c\n\[\/c\/new\]: rc = 0/);
    expect(cliMtChildren(out("ls2 /c"))).toEqual(["s-0000000001", "es-0000000002", "e"]);
    expect(out("exists /nope")).toBe("Error -101 for /nope\n");
    expect(cliMtRc(out("create /c"))).toBe(-110);
    expect(cliMtRc(out("delete /c"))).toBe(-111);
    expect(cliMtRc(out("get /missing"))).toBe(-101);
    expect(cliMtRc(out("set /zookeeper/config x"))).toBe(-102);
    expect(cliMtRc(out("delete /zookeeper"))).toBe(-8);
    expect(cliMtRc(out("create +c /box"))).toBe(0);
    expect(cliMtRc(out("create +t=60000 /ttl"))).toBe(0);
    expect(out("get /c")).toMatch(/\tephemeralOwner = 0\n/);
    expect(out("myid")).toMatch(new RegExp(`session Id = ${onOurs.sessionId!.slice(2)}`));
  });
});
