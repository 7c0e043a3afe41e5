/**
 * Four-letter words, this server against a live Apache ZooKeeper 3.8: the same two sessions make the same
 * requests (byte for byte: a raw client) on both, then every word's answer is compared line by line.
 *
 * Values that legitimately differ (session ids, ports, times, latencies, packet counts that include the harness's
 * own polling of Apache) are masked: numbers become <n>, hex <hex>, dates <date>, the version <version>. What is
 * left — line names, order, separators, tabs — must be identical. Where Apache's order is a Java HashSet's
 * (connections in `stat`/`cons`, watchers in `wchc`/`wchp`), lines are compared as sets. Values that are
 * deterministic on both (watch counts, node counts, data sizes, per-namespace bytes) are compared exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { body, opCodes } from "../server/support/requests.ts";
import { RawClient } from "../server/support/tcp.ts";
import { startTestServer } from "../support/zk-server.ts";
import { apacheAvailable, apacheSkipMessage, fourLetterWord, startApacheZooKeeper, type ApacheZooKeeper } from "./harness/index.ts";

const available = apacheAvailable();
// Only the server is needed here, not kazoo or the C client.
const canRun = available.has.java && available.has.zookeeperJars;
if (!canRun) console.warn(apacheSkipMessage(available));

/** One server under test: where it listens and the two sessions of the scenario. */
interface Side {
  readonly name: string;
  readonly port: number;
  a?: RawClient;
  b?: RawClient;
}

const javaDatePattern = "[A-Z][a-z]{2} [A-Z][a-z]{2} \\d\\d \\d\\d:\\d\\d:\\d\\d \\S+ \\d{4}";
const hex = (id: bigint) => BigInt.asUintN(64, id).toString(16);

/** Masks the values that may differ between two servers, keeping the layout. */
function shape(text: string): string {
  return text
    .replace(/3\.8\.0-\S+, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC/g, "<version>")
    .replace(/[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}/g, "<date>")
    .replace(/0x[0-9a-f]+/g, "<hex>")
    .replace(/-?\d+(\.\d+)?(E-?\d+)?/g, "<n>");
}

/** Session ids replaced by the scenario's names for them, so both servers' outputs can be compared exactly. */
function named(side: Side, text: string): string {
  return text.replaceAll(`0x${hex(side.a!.sessionId)}`, "<a>").replaceAll(`0x${hex(side.b!.sessionId)}`, "<b>");
}

/** `wchc`/`wchp`: blocks of a head line and tab-indented lines, in hash order in Apache: sorted, inside and out. */
function sortedBlocks(text: string): string[] {
  const blocks: string[][] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("\t")) blocks.at(-1)!.push(line);
    else blocks.push([line]);
  }
  return blocks.map(([head, ...rest]) => [head, ...rest.sort()].join("|")).sort();
}

/**
 * `dump`: the same structure on both, with the differences that are legitimate taken out — how sessions fall
 * into tick-wide buckets depends on timing, and Apache also lists buckets emptied by connections that left.
 */
function dumpParts(side: Side, text: string) {
  const lines = named(side, text).split("\n");
  const at = (line: string) => {
    const index = lines.indexOf(line);
    expect(index, `${side.name} dump has "${line}"`).toBeGreaterThanOrEqual(0);
    return index;
  };
  const sessions = lines.slice(at("SessionTracker dump:") + 1, at("ephemeral nodes dump:"));
  const ephemerals = lines.slice(at("ephemeral nodes dump:") + 1, at("Connections dump:"));
  const connections = lines.slice(at("Connections dump:") + 1, -1);
  const check = (section: string[], title: string, entry: RegExp) => {
    expect(section[0]).toMatch(new RegExp(`^${title} Sets \\(\\d+\\)/\\(\\d+\\):$`));
    const header = new RegExp(`^\\d+ expire at ${javaDatePattern}:$`);
    for (const line of section.slice(1)) {
      if (!line.startsWith("\t")) expect(line).toMatch(header);
      else expect(line.slice(1)).toMatch(new RegExp(`^(${entry.source})$`));
    }
    return section.filter((line) => line.startsWith("\t")).sort();
  };
  return {
    sessions: check(sessions, "Session", /<a>|<b>/),
    ephemerals,
    // A connection without a session (0x0) is a four-letter-word connection still open or still being closed:
    // whether Apache lists one depends on its selector thread's timing, so those lines are checked, then left out.
    connections: check(connections, "Connections", /ip: \/127\.0\.0\.1:\d+ sessionId: (0x0|<a>|<b>)/)
      .filter((l) => !l.endsWith("sessionId: 0x0"))
      .map((l) => l.replace(/:\d+ /, ":<port> ")),
  };
}

function monitorValues(text: string): Map<string, string> {
  return new Map(text.trimEnd().split("\n").map((line) => line.split("\t") as [string, string]));
}

describe.skipIf(!canRun)(canRun ? "four-letter words: this server vs Apache ZooKeeper 3.8" : apacheSkipMessage(available), () => {
  let apache: ApacheZooKeeper;
  let ours: RunningServer;
  let sides: Side[];
  const both = async (w: string) => {
    const [theirs, mine] = await Promise.all(sides.map((side) => fourLetterWord("127.0.0.1", side.port, w)));
    return { theirs: theirs!, mine: mine! };
  };

  beforeAll(async () => {
    [apache, ours] = await Promise.all([startApacheZooKeeper({ tickTimeMs: 2000 }), startTestServer({ tickTimeMs: 2000 })]);
    sides = [
      { name: "Apache", port: apache.port },
      { name: "zkbook", port: ours.port },
    ];
    // The scenario, identical bytes on both: two sessions, an ephemeral, data, child and exists watches.
    for (const side of sides) {
      const a = (side.a = await RawClient.session(side.port));
      const b = (side.b = await RawClient.session(side.port));
      await a.call(opCodes.create, body.create("/a", "x"));
      await a.call(opCodes.create, body.create("/a/e", "xy", 1));
      await a.call(opCodes.getData, body.pathWatch("/a", true));
      await a.call(opCodes.getChildren, body.pathWatch("/a", true));
      await a.call(opCodes.exists, body.pathWatch("/missing", true));
      await b.call(opCodes.create, body.create("/b", "bbb"));
      await b.call(opCodes.getData, body.pathWatch("/a", true));
      await b.call(opCodes.getData, body.pathWatch("/b", true));
      await b.call(opCodes.setData, body.setData("/b", "c")); // fires b's own watch on /b
    }
  });

  afterAll(async () => {
    for (const side of sides ?? []) {
      side.a?.destroy();
      side.b?.destroy();
    }
    await Promise.all([apache?.stop(), ours?.close()]);
  });

  it("ruok and isro answer exactly alike", async () => {
    for (const w of ["ruok", "isro"]) {
      const { theirs, mine } = await both(w);
      expect(mine).toBe(theirs);
    }
  });

  it("srvr: the same lines", async () => {
    const { theirs, mine } = await both("srvr");
    expect(shape(mine)).toBe(shape(theirs));
    // Same requests, same zxids and node count.
    for (const line of ["Zxid: ", "Node count: ", "Mode: ", "Connections: ", "Outstanding: "]) {
      expect(mine.split("\n").find((l) => l.startsWith(line))).toBe(theirs.split("\n").find((l) => l.startsWith(line)));
    }
  });

  it("stat: the same lines, clients in any order", async () => {
    const { theirs, mine } = await both("stat");
    const canonical = (text: string) => {
      const lines = shape(text).split("\n");
      const start = lines.indexOf("Clients:") + 1;
      const end = lines.indexOf("", start);
      return [...lines.slice(0, start), ...lines.slice(start, end).sort(), ...lines.slice(end)];
    };
    expect(canonical(mine)).toEqual(canonical(theirs));
  });

  it("cons: the same lines, connections in any order", async () => {
    const { theirs, mine } = await both("cons");
    expect(shape(mine).split("\n").sort()).toEqual(shape(theirs).split("\n").sort());
    // The op names agree too: a's last request was an exists, b's a setData.
    const lop = (side: Side, text: string) => named(side, text).match(/sid=<[ab]>,lop=[A-Z]+/g)?.sort();
    expect(lop(sides[1]!, mine)).toEqual(lop(sides[0]!, theirs));
  });

  it("wchs: exactly alike, including the connection whose only data watch already fired", async () => {
    const { theirs, mine } = await both("wchs");
    expect(theirs).toBe("2 connections watching 2 paths\nTotal watches:3\n");
    expect(mine).toBe(theirs);
  });

  it("wchc and wchp: exactly alike once session ids are named and hash order is sorted out", async () => {
    for (const w of ["wchc", "wchp"]) {
      const { theirs, mine } = await both(w);
      expect(mine.endsWith("\n\n") || mine === "\n").toBe(theirs.endsWith("\n\n") || theirs === "\n");
      expect(sortedBlocks(named(sides[1]!, mine))).toEqual(sortedBlocks(named(sides[0]!, theirs)));
    }
  });

  it("dump: the same sections, sessions, ephemerals and connections", async () => {
    const { theirs, mine } = await both("dump");
    expect(dumpParts(sides[1]!, mine)).toEqual(dumpParts(sides[0]!, theirs));
  });

  it("conf: the same keys in the same order", async () => {
    const { theirs, mine } = await both("conf");
    const keys = (text: string) => text.split("\n").map((line) => line.split("=")[0]);
    expect(keys(mine)).toEqual(keys(theirs));
    expect(mine.endsWith("\n")).toBe(true);
  });

  it("envi: Environment: and as many key=value lines; the OS and user lines agree", async () => {
    const { theirs, mine } = await both("envi");
    const entries = (text: string) => new Map(text.trimEnd().split("\n").slice(1).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(mine.split("\n")[0]).toBe("Environment:");
    expect(mine.split("\n").length).toBe(theirs.split("\n").length);
    const [t, m] = [entries(theirs), entries(mine)];
    expect([...m.keys()].filter((k) => t.has(k))).toEqual(
      ["zookeeper.version", "host.name", "os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir", "os.memory.free", "os.memory.max", "os.memory.total"],
    );
    for (const key of ["os.name", "os.arch", "os.version", "user.name", "user.home"]) expect(m.get(key), key).toBe(t.get(key));
    expect(shape(m.get("zookeeper.version")!)).toBe(shape(t.get("zookeeper.version")!));
  });

  it("mntr: Apache's keys in Apache's order (less the JVM's), tab-separated, and the same values where both are deterministic", async () => {
    const { theirs, mine } = await both("mntr");
    const jvmOnly = /^zk_(avg|min|max|cnt|sum|p50|p95|p99|p999)_(jvm_pause_time_ms|netty_queued_buffer_capacity)$/;
    const [t, m] = [monitorValues(theirs), monitorValues(mine)];
    expect([...m.keys()]).toEqual([...t.keys()].filter((key) => !jvmOnly.test(key)));
    for (const line of mine.trimEnd().split("\n")) expect(line).toMatch(/^zk_[a-z0-9_]+\t[^\t]+$/);
    const same = [
      "zk_server_state", "zk_ephemerals_count", "zk_num_alive_connections", "zk_outstanding_requests", "zk_znode_count",
      "zk_global_sessions", "zk_watch_count", "zk_approximate_data_size", "zk_watch_bytes", "zk_local_sessions",
      "zk_last_client_response_size", "zk_max_client_response_size", "zk_min_client_response_size", "zk_response_bytes",
      "zk_connection_request_count", "zk_prep_processor_request_queued", "zk_outstanding_changes_queued",
      "zk_cnt_updatelatency", "zk_cnt_readlatency",
      ...["node_created", "node_deleted", "node_changed", "node_children"].flatMap((n) => [`zk_cnt_${n}_watch_count`, `zk_sum_${n}_watch_count`]),
      ...[...t.keys()].filter((key) => key.endsWith("_per_namespace")),
    ];
    for (const key of same) expect(`${key}=${m.get(key)}`).toBe(`${key}=${t.get(key)}`);
    // Apache's line that prints a double prints one here too.
    for (const [key, value] of t) if (m.has(key) && /^-?\d+\.\d+(E-?\d+)?$/.test(value)) expect(m.get(key), key).toMatch(/^-?\d+\.\d+(E-?\d+)?$/);
  });

  it("a word that is not whitelisted gets the same answer", async () => {
    const [strictApache, strictOurs] = await Promise.all([
      startApacheZooKeeper({ extraCfg: { "4lw.commands.whitelist": "ruok, cons" } }),
      startTestServer({ fourLetterWordWhitelist: ["ruok", "cons"] }),
    ]);
    try {
      for (const w of ["stat", "mntr", "isro", "envi", "ruok"]) {
        const [theirs, mine] = await Promise.all([
          fourLetterWord("127.0.0.1", strictApache.port, w),
          fourLetterWord("127.0.0.1", strictOurs.port, w),
        ]);
        expect(mine).toBe(theirs);
      }
      const [theirs, mine] = await Promise.all([
        fourLetterWord("127.0.0.1", strictApache.port, "srvr"),
        fourLetterWord("127.0.0.1", strictOurs.port, "srvr"),
      ]);
      expect(shape(mine)).toBe(shape(theirs));
    } finally {
      await Promise.all([strictApache.stop(), strictOurs.close()]);
    }
  });
});
