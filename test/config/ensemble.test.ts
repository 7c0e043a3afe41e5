import { describe, expect, it } from "vitest";
import { ConfigError, parseZooCfg } from "../../src/config/index.ts";
import type { ParseOptions } from "../../src/config/index.ts";

const base = "dataDir=/d\n";

function configErrorOf(text: string, opts?: ParseOptions): ConfigError {
  try {
    parseZooCfg(text, opts);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for:\n${text}`);
}

const threeServers = `${base}server.1=zk1:2888:3888
server.2=zk2:2888:3888
server.3=zk3:2888:3888
`;

describe("server.N lines", () => {
  it("parses host, ports and the default role", () => {
    const { config } = parseZooCfg(threeServers);
    expect(config.servers).toEqual([
      { id: 1, host: "zk1", quorumPort: 2888, electionPort: 3888, role: "participant" },
      { id: 2, host: "zk2", quorumPort: 2888, electionPort: 3888, role: "participant" },
      { id: 3, host: "zk3", quorumPort: 2888, electionPort: 3888, role: "participant" },
    ]);
    expect(config.distributed).toBe(true);
    expect(config.quorumGroups).toEqual([]);
    expect(config.serverWeights).toEqual([]);
  });

  it("parses roles (any case) and client addresses, IPv6 in brackets, and sorts by id", () => {
    const { config } = parseZooCfg(`${base}
server.3=10.0.0.3:2890:3890:OBSERVER;10.0.0.3:2183
server.1=127.0.0.1:2888:3888:participant;2181
server.2=[::1]:2889:3889;[::1]:2182
`);
    expect(config.servers).toEqual([
      { id: 1, host: "127.0.0.1", quorumPort: 2888, electionPort: 3888, role: "participant", clientPort: 2181 },
      { id: 2, host: "::1", quorumPort: 2889, electionPort: 3889, role: "participant", clientHost: "::1", clientPort: 2182 },
      {
        id: 3,
        host: "10.0.0.3",
        quorumPort: 2890,
        electionPort: 3890,
        role: "observer",
        clientHost: "10.0.0.3",
        clientPort: 2183,
      },
    ]);
  });

  it("ignores an empty client part, as Apache's split(';') does", () => {
    const { config } = parseZooCfg(`${base}server.1=a:1:2;\nserver.2=b:1:2`);
    expect(config.servers[0]).toEqual({ id: 1, host: "a", quorumPort: 1, electionPort: 2, role: "participant" });
  });

  const badLines: ReadonlyArray<[key: string, value: string, problem: string]> = [
    ["server.1", "zk1:2888", "expected host:quorumPort:electionPort"],
    ["server.1", "zk1", "expected host:quorumPort:electionPort"],
    ["server.1", "zk1:2888:3888:observer:extra", "expected host:quorumPort:electionPort"],
    ["server.1", "zk1:2888:3888:leader", 'the 4th field "leader" must be participant or observer'],
    ["server.1", "zk1:0:3888", 'quorumPort "0": expected a port number from 1 to 65535'],
    ["server.1", "zk1:2888:70000", 'electionPort "70000": expected a port number from 1 to 65535'],
    ["server.1", "bad host:2888:3888", 'host "bad host": expected a host name or IP address'],
    ["server.1", "zk1:2888:3888;a:b:c", "the client part after ';' must be clientPort or clientHost:clientPort"],
    ["server.1", "zk1:2888:3888;x", 'clientPort "x": expected a port number'],
    ["server.1", "zk1:2888:3888;1;2", "too many ';'"],
    ["server.1", "zk1:2888:3888|zk1b:2888:3888", "multiAddress"],
    ["server.1", "::1:2888:3888", "write an IPv6 host in brackets"],
    ["server.1", "[::1:2888:3888", "starts with '[' but has no matching ']:'"],
    ["server.1", "zk1:2888:2888", "quorumPort and electionPort are both 2888"],
    ["server.0", "zk1:2888:3888", 'the number after "server." is wrong: expected a server id, an integer from 1 to 255'],
    ["server.256", "zk1:2888:3888", "an integer from 1 to 255"],
    ["server.abc", "zk1:2888:3888", "an integer from 1 to 255"],
  ];

  it.each(badLines)("refuses %s=%s, naming the key and value", (key, value, problem) => {
    const error = configErrorOf(`${base}${key}=${value}`);
    expect(error.key).toBe(key);
    expect(error.value).toBe(value);
    expect(error.line).toBe(2);
    expect(error.message).toContain(`zoo.cfg: ${key}="${value}" is not valid: `);
    expect(error.message).toContain(problem);
  });

  it("refuses a repeated server id, naming the second line and the first", () => {
    const error = configErrorOf(`${threeServers}server.2=zk4:2888:3888`);
    expect(error.key).toBe("server.2");
    expect(error.value).toBe("zk4:2888:3888");
    expect(error.line).toBe(5);
    expect(error.message).toContain("server id 2 is already used on line 3");
  });

  it("treats server.02 as the same id as server.2", () => {
    expect(configErrorOf(`${threeServers}server.02=zk4:2888:3888`).message).toContain("server id 2 is already used");
  });

  it("refuses an address used by two servers", () => {
    const error = configErrorOf(`${base}server.1=zk1:2888:3888\nserver.2=ZK1:3888:4888`);
    expect(error.key).toBe("server.2");
    expect(error.message).toContain("address zk1:3888 is already used by server.1 on line 2");
  });

  it("allows the same ports on different hosts and different ports on one host", () => {
    const { config } = parseZooCfg(`${base}server.1=localhost:2888:3888\nserver.2=localhost:2889:3889\nserver.3=other:2888:3888`);
    expect(config.servers.map((server) => server.id)).toEqual([1, 2, 3]);
  });
});

describe("the mix of participants and observers (Apache's parseDynamicConfig)", () => {
  it("runs standalone with a single server line, with a warning", () => {
    const { config, warnings } = parseZooCfg(`${base}server.1=zk1:2888:3888`);
    expect(config.distributed).toBe(false);
    expect(config.servers).toHaveLength(1);
    expect(warnings.some((warning) => warning.includes("only one server.N line"))).toBe(true);
  });

  it("is distributed with one participant when standaloneEnabled=false", () => {
    const { config } = parseZooCfg(`${base}standaloneEnabled=false\nserver.1=zk1:2888:3888`);
    expect(config.distributed).toBe(true);
  });

  it("refuses standaloneEnabled=false without any participant", () => {
    const error = configErrorOf(`${base}standaloneEnabled=false`);
    expect(error.key).toBe("standaloneEnabled");
    expect(error.value).toBe("false");
    expect(error.message).toContain("at least one participant");
  });

  it("refuses observers without participants", () => {
    const error = configErrorOf(`${base}server.1=zk1:2888:3888:observer`);
    expect(error.key).toBe("server.1");
    expect(error.message).toContain("observers need participants");
  });

  it("refuses an observer next to a single participant in standalone mode", () => {
    const error = configErrorOf(`${base}server.1=zk1:2888:3888\nserver.2=zk2:2888:3888:observer`);
    expect(error.key).toBe("server.2");
    expect(error.message).toContain("an observer needs a quorum");
  });

  it("warns about two participants and about an even number", () => {
    expect(parseZooCfg(`${base}server.1=a:1:2\nserver.2=b:1:2`).warnings[0]).toContain("no server failure will be tolerated");
    const four = parseZooCfg(`${threeServers}server.4=zk4:2888:3888`);
    expect(four.warnings[0]).toContain("4 participants");
    expect(parseZooCfg(threeServers).warnings).toEqual([]);
  });
});

describe("weight.N and group.G (Apache's QuorumHierarchical)", () => {
  const sixServers = `${base}${[1, 2, 3, 4, 5, 6].map((id) => `server.${id}=zk${id}:2888:3888`).join("\n")}\n`;

  it("parses groups, and gives weight 1 to participants without a weight line", () => {
    const { config } = parseZooCfg(`${sixServers}group.2=4:5:6\ngroup.1=1:2:3\nweight.1=3\nweight.4=0\n`);
    expect(config.quorumGroups).toEqual([
      { groupId: 1, serverIds: [1, 2, 3] },
      { groupId: 2, serverIds: [4, 5, 6] },
    ]);
    expect(config.serverWeights).toEqual([
      { serverId: 1, weight: 3 },
      { serverId: 2, weight: 1 },
      { serverId: 3, weight: 1 },
      { serverId: 4, weight: 0 },
      { serverId: 5, weight: 1 },
      { serverId: 6, weight: 1 },
    ]);
  });

  it("does not require observers to be in a group", () => {
    const { config } = parseZooCfg(`${threeServers}server.4=zk4:2888:3888:observer\ngroup.1=1:2:3`);
    expect(config.serverWeights.map((weight) => weight.serverId)).toEqual([1, 2, 3]);
  });

  it("refuses weights or groups without server lines", () => {
    for (const line of ["weight.1=1", "group.1=1:2:3"]) {
      const error = configErrorOf(`${base}${line}`);
      expect(error.key).toBe(line.split("=")[0]);
      expect(error.message).toContain("need server.N lines");
    }
  });

  it("refuses a participant that is in no group", () => {
    const error = configErrorOf(`${threeServers}group.1=1:2`);
    expect(error.key).toBe("server.3");
    expect(error.value).toBe("zk3:2888:3888");
    expect(error.message).toContain("server 3 is a participant but is in no group.G line");
  });

  it("refuses weights alone: with weights every participant needs a group", () => {
    expect(configErrorOf(`${threeServers}weight.1=2`).message).toContain("is in no group.G line");
  });

  it("refuses a server in two groups", () => {
    const error = configErrorOf(`${sixServers}group.1=1:2:3\ngroup.2=3:4:5:6`);
    expect(error.key).toBe("group.2");
    expect(error.value).toBe("3:4:5:6");
    expect(error.message).toContain("server 3 is already in group.1");
  });

  it("refuses a server listed twice in one group", () => {
    expect(configErrorOf(`${threeServers}group.1=1:2:3:3`).message).toContain("server 3 is already in group.1");
  });

  it("refuses group members and weights for servers that do not exist", () => {
    const group = configErrorOf(`${threeServers}group.1=1:2:3:9`);
    expect(group.key).toBe("group.1");
    expect(group.message).toContain("there is no server.9 line (servers in this file: 1, 2, 3)");
    const weight = configErrorOf(`${threeServers}group.1=1:2:3\nweight.9=1`);
    expect(weight.key).toBe("weight.9");
    expect(weight.message).toContain("there is no server.9 line");
  });

  it("refuses bad weights and group lists, naming key and value", () => {
    const cases: ReadonlyArray<[lines: string, key: string, value: string, problem: string]> = [
      ["group.1=1:2:3\nweight.1=-1", "weight.1", "-1", "expected an integer 0 or more"],
      ["group.1=1:2:3\nweight.1=heavy", "weight.1", "heavy", "expected an integer 0 or more"],
      ["group.1=1:2:3\nweight.x=1", "weight.x", "1", 'the number after "weight." is wrong'],
      ["group.1=1,2,3", "group.1", "1,2,3", "expected server ids separated by ':'"],
      ["group.0=1:2:3", "group.0", "1:2:3", 'the number after "group." is wrong'],
    ];
    for (const [lines, key, value, problem] of cases) {
      const error = configErrorOf(`${threeServers}${lines}`);
      expect(error.key, lines).toBe(key);
      expect(error.value, lines).toBe(value);
      expect(error.message, lines).toContain(`zoo.cfg: ${key}="${value}" is not valid: `);
      expect(error.message, lines).toContain(problem);
    }
  });

  it("refuses a weight set twice and a group defined twice", () => {
    expect(configErrorOf(`${threeServers}group.1=1:2:3\nweight.1=1\nweight.1=2`).message).toContain(
      "the weight of server 1 is already set on line 6",
    );
    expect(configErrorOf(`${threeServers}group.1=1:2\ngroup.1=3`).message).toContain("group 1 is defined twice");
  });
});

describe("placing this server with opts.myId", () => {
  it("records myId", () => {
    expect(parseZooCfg(threeServers, { myId: 2 }).config.myId).toBe(2);
  });

  it("refuses a myid with no server line in a quorum", () => {
    const error = configErrorOf(threeServers, { myId: 7 });
    expect(error.key).toBe("myid");
    expect(error.value).toBe("7");
    expect(error.message).toContain("there is no server.7 line; myid must be one of the server ids (1, 2, 3)");
  });

  it("refuses a myid out of range, and 255 when extended types (TTL) are on", () => {
    expect(configErrorOf(threeServers, { myId: 0 }).message).toContain("an integer from 1 to 255");
    const error = configErrorOf(`${base}extendedTypesEnabled=true`, { myId: 255 });
    expect(error.message).toContain("an integer from 1 to 254");
  });

  it("takes the role from the server list, warning about a different peerType", () => {
    const text = `${threeServers}server.4=zk4:2888:3888:observer\n`;
    const observer = parseZooCfg(text, { myId: 4 });
    expect(observer.config.peerType).toBe("observer");
    expect(observer.warnings.some((warning) => warning.includes("peerType=participant but the server.4 line says observer"))).toBe(true);
    const participant = parseZooCfg(`${text}peerType=observer`, { myId: 1 });
    expect(participant.config.peerType).toBe("participant");
  });

  it("takes the client address from its own server line", () => {
    const text = `${base}server.1=zk1:2888:3888;0.0.0.0:2191\nserver.2=zk2:2888:3888;2192\nserver.3=zk3:2888:3888`;
    expect(parseZooCfg(text, { myId: 1 }).config).toMatchObject({ clientPort: 2191, clientPortAddress: "0.0.0.0" });
    expect(parseZooCfg(text, { myId: 2 }).config).toMatchObject({ clientPort: 2192, clientPortAddress: "127.0.0.1" });
    expect(parseZooCfg(text, { myId: 3 }).config).toMatchObject({ clientPort: 2181, clientPortAddress: "127.0.0.1" });
  });

  it("refuses a server line whose client port disagrees with clientPort", () => {
    const error = configErrorOf(`${threeServers.replace("zk1:2888:3888", "zk1:2888:3888;2200")}clientPort=2181`, { myId: 1 });
    expect(error.key).toBe("server.1");
    expect(error.value).toBe("zk1:2888:3888;2200");
    expect(error.message).toContain("its client port differs from clientPort=2181 on line 5");
  });

  it("refuses a server line whose client host disagrees with clientPortAddress", () => {
    const text = `${threeServers.replace("zk1:2888:3888", "zk1:2888:3888;10.0.0.1:2181")}clientPortAddress=10.0.0.2`;
    expect(configErrorOf(text, { myId: 1 }).message).toContain("its client host differs from clientPortAddress=10.0.0.2");
    // A wildcard clientPortAddress does not conflict, as in Apache.
    const wildcard = text.replace("clientPortAddress=10.0.0.2", "clientPortAddress=0.0.0.0");
    expect(parseZooCfg(wildcard, { myId: 1 }).config.clientPortAddress).toBe("10.0.0.1");
  });
});
