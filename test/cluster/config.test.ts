// A local ensemble's plan and each member's files (src/cluster/spec.ts, config.ts), the srvr parser and the status
// table: pure. The generated zoo.cfg is checked against our own zoo.cfg loader, which follows Apache's
// QuorumPeerConfig (reference §6: server.N lines, observers, myid).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseZooCfg } from "../../src/config/index.ts";
import {
  ClusterError,
  connectStringOf,
  formatStatusTable,
  memberPaths,
  memberZooCfg,
  parseSrvr,
  planFromBasePort,
  planWithPorts,
  quorumSize,
  type MemberStatus,
} from "../../src/cluster/index.ts";
import { memberCommand } from "../../src/cluster/launch.ts";
import { readState } from "../../src/cluster/state.ts";

describe("planning a local ensemble", () => {
  it("gives member N Apache's documented ports plus N-1: 2181/2888/3888, 2182/2889/3889, ...", () => {
    const spec = planFromBasePort("zkbook", { servers: 3, observers: 0 });
    expect(spec.members).toEqual([
      { id: 1, kind: "participant", clientPort: 2181, quorumPort: 2888, electionPort: 3888 },
      { id: 2, kind: "participant", clientPort: 2182, quorumPort: 2889, electionPort: 3889 },
      { id: 3, kind: "participant", clientPort: 2183, quorumPort: 2890, electionPort: 3890 },
    ]);
    expect(connectStringOf(spec)).toBe("127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183");
    expect(quorumSize(spec)).toBe(2);
  });

  it("numbers observers after the voting servers, and --base-port moves all three port ranges", () => {
    const spec = planFromBasePort("apache", { servers: 3, observers: 2 }, 12181);
    expect(spec.members.map((m) => [m.id, m.kind, m.clientPort, m.quorumPort, m.electionPort])).toEqual([
      [1, "participant", 12181, 12888, 13888],
      [2, "participant", 12182, 12889, 13889],
      [3, "participant", 12183, 12890, 13890],
      [4, "observer", 12184, 12891, 13891],
      [5, "observer", 12185, 12892, 13892],
    ]);
    // Observers vote for nobody and count towards no quorum.
    expect(quorumSize(spec)).toBe(2);
  });

  it("refuses a base port whose election ports would pass 65535", () => {
    expect(() => planFromBasePort("zkbook", { servers: 3, observers: 0 }, 64000)).toThrow(/--base-port 64000 does not fit: 3 members need ports up to 65709/);
  });

  it("refuses a port used twice", () => {
    expect(() => planWithPorts("zkbook", { servers: 2, observers: 0 }, () => ({ clientPort: 1000, quorumPort: 1001, electionPort: 1002 }))).toThrow(
      /port 1000 is both the client port of server 1 and the client port of server 2/,
    );
  });
});

describe("a member's zoo.cfg", () => {
  const spec = planFromBasePort("zkbook", { servers: 3, observers: 1 });
  const paths = memberPaths("/abs/cluster", 4);

  it("lists every member as server.N, the observer with :observer, and only the observer says peerType=observer", () => {
    const observer = memberZooCfg(spec, spec.members[3]!, paths.dataDir);
    expect(observer).toContain("server.1=127.0.0.1:2888:3888\n");
    expect(observer).toContain("server.4=127.0.0.1:2891:3891:observer\n");
    expect(observer).toContain("peerType=observer\n");
    expect(observer).toContain("clientPort=2184\n");
    expect(observer).toContain("clientPortAddress=127.0.0.1\n");
    expect(observer).toContain("dataDir=/abs/cluster/server.4/data\n");
    const follower = memberZooCfg(spec, spec.members[0]!, memberPaths("/abs/cluster", 1).dataDir);
    expect(follower).not.toContain("peerType");
    expect(follower).toContain("server.4=127.0.0.1:2891:3891:observer\n");
  });

  it("is a zoo.cfg our loader reads as Apache would: the servers, their roles, this member's id and role", () => {
    const text = memberZooCfg(spec, spec.members[3]!, paths.dataDir);
    const { config } = parseZooCfg(text, { myId: 4 });
    expect(config.servers.map((s) => [s.id, s.role, s.quorumPort, s.electionPort])).toEqual([
      [1, "participant", 2888, 3888],
      [2, "participant", 2889, 3889],
      [3, "participant", 2890, 3890],
      [4, "observer", 2891, 3891],
    ]);
    expect(config.peerType).toBe("observer");
    expect(config.clientPort).toBe(2184);
  });

  it("keeps each member's files in its own directory, myid in dataDir", () => {
    expect(paths).toEqual({
      dir: "/abs/cluster/server.4",
      zooCfg: "/abs/cluster/server.4/zoo.cfg",
      dataDir: "/abs/cluster/server.4/data",
      myid: "/abs/cluster/server.4/data/myid",
      log: "/abs/cluster/server.4/server.log",
      log4j: "/abs/cluster/server.4/log4j.properties",
    });
  });

  it("runs through npm run server's entry (ours) or Apache's QuorumPeerMain, with the same zoo.cfg", () => {
    const ours = memberCommand("zkbook", paths.zooCfg, paths.log4j);
    expect(ours.command).toBe(process.execPath);
    expect(ours.args.slice(0, 2)).toEqual(["--import", "tsx"]);
    expect(ours.args.at(-2)).toMatch(/src\/cli\/server\.ts$/);
    expect(ours.args.at(-1)).toBe(paths.zooCfg);
    const apache = memberCommand("apache", paths.zooCfg, paths.log4j, ["-Xmx256m"]);
    expect(apache.args.slice(-2)).toEqual(["org.apache.zookeeper.server.quorum.QuorumPeerMain", paths.zooCfg]);
    expect(apache.args).toContain("-Xmx256m");
    expect(apache.args).toContain(`-Dlog4j.configuration=file:${paths.log4j}`);
  });
});

describe("srvr", () => {
  // What Apache ZooKeeper 3.8's follower answers (captured from the Debian package).
  const follower = [
    "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC",
    "Latency min/avg/max: 0/0.0/0",
    "Received: 1",
    "Sent: 0",
    "Connections: 1",
    "Outstanding: 0",
    "Zxid: 0x200000003",
    "Mode: follower",
    "Node count: 5",
    "",
  ].join("\n");

  it("gives the member's role from the Mode line and its last zxid", () => {
    expect(parseSrvr(follower)).toEqual({ kind: "serving", mode: "follower", zxid: 0x200000003n, version: "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC" });
    expect(parseSrvr(follower.replace("follower", "leader"))).toMatchObject({ mode: "leader" });
  });

  it("tells a member that is up but has no quorum (electing) from one that serves", () => {
    expect(parseSrvr("This ZooKeeper instance is not currently serving requests\n")).toEqual({
      kind: "not-serving",
      answer: "This ZooKeeper instance is not currently serving requests",
    });
  });
});

describe("status table", () => {
  it("shows id, kind, ports, pid, up/down, role and zxid per member", () => {
    const [m1, m2] = planFromBasePort("zkbook", { servers: 2, observers: 0 }).members;
    const statuses: MemberStatus[] = [
      { member: m1!, pid: 4242, running: true, probe: { kind: "serving", mode: "leader", zxid: 0x100000002n, version: "3.8.0" } },
      { member: m2!, pid: undefined, running: false, probe: { kind: "unreachable", reason: "connection refused" } },
    ];
    expect(formatStatusTable(statuses).split("\n")).toEqual([
      "id  kind         client  quorum  election  pid   process  role    zxid",
      "1   participant  2181    2888    3888      4242  up       leader  0x100000002",
      "2   participant  2182    2889    3889      -     down     down    -",
    ]);
  });
});

describe("state file", () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("is absent, readable, or refused with a way out", () => {
    dir = mkdtempSync(join(tmpdir(), "zkbook-cluster-state-"));
    expect(readState(dir)).toBeUndefined();
    writeFileSync(join(dir, "cluster.json"), "{ not json");
    expect(() => readState(dir!)).toThrow(ClusterError);
    expect(() => readState(dir!)).toThrow(/is not valid JSON .* `npm run cluster -- clean --dir/);
    writeFileSync(join(dir, "cluster.json"), JSON.stringify({ format: 1, hello: "world" }));
    expect(() => readState(dir!)).toThrow(/is not a cluster state file/);
  });
});
