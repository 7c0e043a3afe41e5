/**
 * The four-letter words against this project's server, byte for byte where Apache 3.8's output is deterministic
 * (`srvr` of a fresh server, the whitelist answer, `wchs` after a watch fired) and line by line otherwise.
 * Reference: Apache 3.8 `server/command/*` (StatCommand, ConsCommand, WatchCommand, DumpCommand, MonitorCommand,
 * EnvCommand, ConfCommand, NopCommand), ServerCnxn.dumpConnectionInfo, ExpiryQueue.dump, WatchManager.toString;
 * the formats were checked against a running Apache 3.8.0 (test/interop/four-letter.test.ts does it live).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { fullVersion, javaDate, javaDouble, monitorKeys } from "../../src/server/four-letter.ts";
import { PercentileSummary } from "../../src/server/metrics.ts";
import { fourLetterWord } from "../interop/harness/fourLetter.ts";
import { startTestServer } from "../support/zk-server.ts";
import { body, opCodes } from "./support/requests.ts";
import { RawClient } from "./support/tcp.ts";

const hex = (id: bigint) => BigInt.asUintN(64, id).toString(16);

describe("four-letter words", () => {
  let server: RunningServer;
  const clients: RawClient[] = [];
  const word = (w: string) => fourLetterWord("127.0.0.1", server.port, w);
  const session = async () => {
    const client = await RawClient.session(server.port);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    server = await startTestServer({ tickTimeMs: 2000 });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await server.close();
  });

  it("ruok is imok and isro is rw, with no newline", async () => {
    expect(await word("ruok")).toBe("imok");
    expect(await word("isro")).toBe("rw");
  });

  it("srvr on a fresh server: StatCommand's lines, the word itself counted as received (Apache: Received 1, Sent 0)", async () => {
    expect(await word("srvr")).toBe(
      `Zookeeper version: ${fullVersion}\n` +
        "Latency min/avg/max: 0/0.0/0\n" +
        "Received: 1\n" +
        "Sent: 0\n" +
        "Connections: 1\n" +
        "Outstanding: 0\n" +
        "Zxid: 0x0\n" +
        "Mode: standalone\n" +
        // Apache's node map holds the root as "" and "/": a fresh tree counts 5.
        "Node count: 5\n",
    );
    // The previous answer is now a packet sent.
    expect(await word("srvr")).toMatch(/\nReceived: 2\nSent: 1\n/);
  });

  it("the version line has Apache's shape with our name in place of the commit id", () => {
    expect(fullVersion).toMatch(/^3\.8\.0-zkbook, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  });

  it("srvr counts packets both ways, the handshake and its latency included", async () => {
    const c = await session();
    await c.call(opCodes.create, body.create("/a", "x"));
    await c.call(opCodes.getData, body.pathWatch("/a"));
    const text = await word("srvr");
    // connect + create + getData + this srvr in; ConnectResponse + 2 replies out.
    expect(text).toMatch(/\nReceived: 4\nSent: 3\nConnections: 2\nOutstanding: 0\nZxid: 0x2\nMode: standalone\nNode count: 6\n$/);
    expect(text).toMatch(/\nLatency min\/avg\/max: \d+\/\d+\.\d+\/\d+\n/);
    expect(server.zk.stats.requestsCompleted).toBe(3); // createSession, create, getData
  });

  it("stat lists every connection briefly, the asking one as not selectable [0] with its word received", async () => {
    const c = await session();
    await c.call(opCodes.exists, body.pathWatch("/"));
    const text = await word("stat");
    const lines = text.split("\n");
    expect(lines[0]).toBe(`Zookeeper version: ${fullVersion}`);
    expect(lines[1]).toBe("Clients:");
    expect(lines[2]).toMatch(/^ \/127\.0\.0\.1:\d+\[1\]\(queued=0,recved=2,sent=2\)$/);
    expect(lines[3]).toMatch(/^ \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)$/);
    expect(lines[4]).toBe("");
    expect(lines[5]).toMatch(/^Latency min\/avg\/max: /);
    expect(lines.slice(6, 13).map((l) => l.split(":")[0])).toEqual(["Received", "Sent", "Connections", "Outstanding", "Zxid", "Mode", "Node count"]);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("cons: a session's full statistics (ServerCnxn.dumpConnectionInfo), then an empty line", async () => {
    const c = await session();
    await c.call(opCodes.create, body.create("/a", "x")); // xid 1
    await c.call(opCodes.getData, body.pathWatch("/a")); // xid 2
    const text = await word("cons");
    const lines = text.split("\n");
    const sid = hex(c.sessionId);
    expect(lines[0]).toMatch(
      new RegExp(
        `^ /127\\.0\\.0\\.1:\\d+\\[1\\]\\(queued=0,recved=3,sent=3,sid=0x${sid},lop=GETD,est=\\d{13},to=30000,` +
          `lcxid=0x2,lzxid=0x2,lresp=\\d+,llat=\\d+,minlat=\\d+,avglat=\\d+,maxlat=\\d+\\)$`,
      ),
    );
    // est is the wall-clock time the connection was accepted.
    const est = Number(/est=(\d+)/.exec(lines[0]!)![1]);
    expect(Math.abs(est - Date.now())).toBeLessThan(60_000);
    expect(lines[1]).toMatch(/^ \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)$/);
    expect(lines.slice(2)).toEqual(["", ""]);
  });

  it("cons after only the handshake: lop=SESS and lcxid=0x0 (the createSession request has cxid 0)", async () => {
    await session();
    expect(await word("cons")).toMatch(/,lop=SESS,est=\d+,to=30000,lcxid=0x0,lzxid=0x1,/);
  });

  it("wchs, wchc and wchp show the data watches (getData/exists), not the child ones", async () => {
    const a = await session();
    const b = await session();
    await a.call(opCodes.create, body.create("/a", "x"));
    await a.call(opCodes.getData, body.pathWatch("/a", true));
    await a.call(opCodes.exists, body.pathWatch("/missing", true));
    await a.call(opCodes.getChildren, body.pathWatch("/a", true)); // a child watch: not shown
    await b.call(opCodes.getData, body.pathWatch("/a", true));
    const [sa, sb] = [hex(a.sessionId), hex(b.sessionId)];
    expect(await word("wchs")).toBe("2 connections watching 2 paths\nTotal watches:3\n");
    expect(await word("wchc")).toBe(`0x${sa}\n\t/a\n\t/missing\n0x${sb}\n\t/a\n\n`);
    expect(await word("wchp")).toBe(`/a\n\t0x${sa}\n\t0x${sb}\n/missing\n\t0x${sa}\n\n`);
    const mntr = await word("mntr");
    expect(mntr).toMatch(/\nzk_watch_count\t4\n/); // both tables
  });

  it("a fired watch leaves its connection among the watchers with no paths, as Apache's watch2Paths does", async () => {
    const a = await session();
    await a.call(opCodes.create, body.create("/w", "x"));
    await a.call(opCodes.getData, body.pathWatch("/w", true));
    await a.call(opCodes.setData, body.setData("/w", "y"));
    expect(await word("wchs")).toBe("1 connections watching 0 paths\nTotal watches:0\n");
    expect(await word("wchc")).toBe(`0x${hex(a.sessionId)}\n\n`);
    expect(await word("wchp")).toBe("\n");
    a.destroy();
    await a.waitClosed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await word("wchs")).toBe("0 connections watching 0 paths\nTotal watches:0\n");
  });

  it("dump: session expiry buckets, ephemerals per session, connection expiry buckets", async () => {
    const a = await session();
    await a.call(opCodes.create, body.create("/e", "x", 1)); // ephemeral
    const text = await word("dump");
    const sid = hex(a.sessionId);
    const date = "[A-Z][a-z]{2} [A-Z][a-z]{2} \\d\\d \\d\\d:\\d\\d:\\d\\d \\S+ \\d{4}";
    expect(text).toMatch(
      new RegExp(
        "^SessionTracker dump:\\n" +
          "Session Sets \\((\\d+)\\)/\\(1\\):\\n" +
          `(0 expire at ${date}:\\n)*` +
          `1 expire at ${date}:\\n\\t0x${sid}\\n` +
          "ephemeral nodes dump:\\n" +
          "Sessions with Ephemerals \\(1\\):\\n" +
          `0x${sid}:\\n\\t/e\\n` +
          "Connections dump:\\n" +
          "Connections Sets \\(2\\)/\\(2\\):\\n" +
          `1 expire at ${date}:\\n\\tip: /127\\.0\\.0\\.1:\\d+ sessionId: 0x0\\n` +
          `1 expire at ${date}:\\n\\tip: /127\\.0\\.0\\.1:\\d+ sessionId: 0x${sid}\\n$`,
      ),
    );
  });

  it("conf: key=value lines with Apache's standalone keys, in order", async () => {
    const keys = (await word("conf"))
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("=")[0]);
    expect(keys).toEqual([
      "clientPort", "secureClientPort", "dataDir", "dataDirSize", "dataLogDir", "dataLogSize", "tickTime",
      "maxClientCnxns", "minSessionTimeout", "maxSessionTimeout", "clientPortListenBacklog", "serverId",
    ]);
  });

  it("envi: `Environment:` then Apache's 18 key=value lines, Node's process in place of the JVM", async () => {
    const lines = (await word("envi")).split("\n");
    expect(lines[0]).toBe("Environment:");
    expect(lines.at(-1)).toBe("");
    const entries = lines.slice(1, -1).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]);
    expect(entries).toHaveLength(18);
    const env = Object.fromEntries(entries);
    expect(env["zookeeper.version"]).toBe(fullVersion);
    expect(env["node.version"]).toBe(process.versions.node);
    expect(env["user.dir"]).toBe(process.cwd());
    expect(env["os.memory.total"]).toMatch(/^\d+MB$/);
    expect(Object.keys(env).filter((k) => k.startsWith("os.") || k.startsWith("user.") || k === "host.name")).toEqual([
      "host.name", "os.tmpdir", "os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir",
      "os.memory.free", "os.memory.max", "os.memory.total",
    ]);
  });

  it("mntr: zk_<key>\\t<value> lines, Apache's keys in Apache's order, then the per-namespace summaries", async () => {
    const a = await session();
    await a.call(opCodes.create, body.create("/w", "x")); // write /w: 2 + 1 bytes
    await a.call(opCodes.create, body.create("/w/e", "xy", 1)); // write /w: 4 + 2 bytes; an ephemeral
    await a.call(opCodes.getData, body.pathWatch("/w", true)); // read /w: 2 + 1 + 68 bytes
    await a.call(opCodes.setData, body.setData("/w", "z")); // fires the watch: 1 watcher
    const text = await word("mntr");
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    for (const line of lines) expect(line).toMatch(/^zk_[a-z0-9_]+\t\S.*$/);
    const values = new Map(lines.map((l) => l.split("\t") as [string, string]));
    const keys = lines.map((l) => l.split("\t")[0]!.slice(3));
    const hasFds = values.has("zk_open_file_descriptor_count");
    const expected = monitorKeys().filter((k) => hasFds || !k.endsWith("file_descriptor_count"));
    expect(keys.slice(0, expected.length)).toEqual(expected);
    expect(keys.slice(expected.length)).toEqual(
      ["w_read_per_namespace", "w_write_per_namespace"].flatMap((n) => ["avg", "min", "max", "cnt", "sum"].map((p) => `${p}_${n}`)),
    );
    expect(keys).not.toContain("avg_jvm_pause_time_ms");
    expect(values.get("zk_version")).toBe(fullVersion);
    expect(values.get("zk_server_state")).toBe("standalone");
    expect(values.get("zk_znode_count")).toBe("7");
    expect(values.get("zk_ephemerals_count")).toBe("1");
    expect(values.get("zk_global_sessions")).toBe("1");
    expect(values.get("zk_num_alive_connections")).toBe("2");
    // Apache's DataTree.approximateDataSize: paths + data, 44 for the initial tree.
    expect(values.get("zk_approximate_data_size")).toBe(String(44 + "/w".length + 1 + "/w/e".length + 2));
    expect(values.get("zk_watch_count")).toBe("0");
    expect(values.get("zk_cnt_node_changed_watch_count")).toBe("1");
    expect(values.get("zk_cnt_node_created_watch_count")).toBe("0");
    expect(values.get("zk_watch_bytes")).toBe("30"); // 16 header + 12 + "/w"
    expect(values.get("zk_sum_w_read_per_namespace")).toBe("71");
    expect(values.get("zk_cnt_w_write_per_namespace")).toBe("3");
    expect(values.get("zk_sum_w_write_per_namespace")).toBe(String(3 + 6 + 3));
    expect(values.get("zk_cnt_updatelatency")).toBe("4"); // createSession, 2 creates, setData
    expect(values.get("zk_cnt_readlatency")).toBe("1");
    // setData's reply is the last: header 16 + Stat 68; create "/w" is the smallest: 16 + 4 + 2.
    expect(values.get("zk_last_client_response_size")).toBe("84");
    expect(values.get("zk_min_client_response_size")).toBe("22");
    expect(values.get("zk_connection_request_count")).toBe("1");
    expect(values.get("zk_prep_processor_request_queued")).toBe("5");
    expect(values.get("zk_avg_latency")).toMatch(/^\d+\.\d+$/);
    expect(values.get("zk_connection_drop_probability")).toBe("0.0");
  });

  it("mntr on a fresh server: response sizes -1 before any reply (BufferStats), empty summaries 0.0/0", async () => {
    const values = new Map((await word("mntr")).trim().split("\n").map((l) => l.split("\t") as [string, string]));
    expect(values.get("zk_last_client_response_size")).toBe("-1");
    expect(values.get("zk_min_client_response_size")).toBe("-1");
    expect(values.get("zk_avg_readlatency")).toBe("0.0");
    expect(values.get("zk_p99_readlatency")).toBe("0");
    expect(values.get("zk_znode_count")).toBe("5");
    expect(values.get("zk_approximate_data_size")).toBe("44");
  });
});

describe("the four-letter whitelist (FourLetterCommands.isEnabled)", () => {
  let server: RunningServer;
  afterEach(async () => {
    await server.close();
  });

  it("answers a word that is not listed with NopCommand's line; srvr is always allowed", async () => {
    server = await startTestServer({ fourLetterWordWhitelist: ["ruok", "cons"] });
    const word = (w: string) => fourLetterWord("127.0.0.1", server.port, w);
    expect(await word("ruok")).toBe("imok");
    expect(await word("cons")).toMatch(/^ \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)\n\n$/);
    expect(await word("srvr")).toMatch(/^Zookeeper version: /);
    for (const w of ["stat", "mntr", "wchs", "wchc", "wchp", "dump", "conf", "envi", "isro"]) {
      expect(await word(w)).toBe(`${w} is not executed because it is not in the whitelist.\n`);
    }
  });

  it("the default whitelist is srvr only", async () => {
    server = await startTestServer({ fourLetterWordWhitelist: ["srvr"] });
    expect(await fourLetterWord("127.0.0.1", server.port, "ruok")).toBe("ruok is not executed because it is not in the whitelist.\n");
    expect(await fourLetterWord("127.0.0.1", server.port, "srvr")).toMatch(/\nMode: standalone\n/);
  });
});

describe("Java formatting used by the four-letter words", () => {
  it("javaDouble prints like Double.toString", () => {
    expect(javaDouble(0)).toBe("0.0");
    expect(javaDouble(3.25)).toBe("3.25");
    expect(javaDouble(7)).toBe("7.0");
    expect(javaDouble(9.3333)).toBe("9.3333");
    expect(javaDouble(1e7)).toBe("1.0E7");
    expect(javaDouble(12345678.5)).toBe("1.23456785E7");
    expect(javaDouble(0.0001)).toBe("1.0E-4");
  });

  it("javaDate prints like java.util.Date.toString", () => {
    expect(javaDate(new Date(2026, 10, 22, 0, 1, 9))).toMatch(/^Sun Nov 22 00:01:09 \S+ 2026$/);
  });

  it("percentiles follow Dropwizard's UniformSnapshot (pos = q * (n + 1), interpolated, truncated)", () => {
    const summary = new PercentileSummary();
    for (const v of [6, 11, 11]) summary.add(v);
    expect(summary.percentile(0.5)).toBe(11);
    const other = new PercentileSummary();
    for (const v of [5, 10, 11]) other.add(v);
    expect(other.percentile(0.5)).toBe(10);
    expect(other.percentile(0.999)).toBe(11);
    expect(other.avg).toBe(8.6667);
    expect(new PercentileSummary().percentile(0.5)).toBe(0);
  });
});
