import { describe, expect, it } from "vitest";
import { ConfigError, parseZooCfg } from "../../src/config/index.ts";

/** Apache ZooKeeper 3.8's conf/zoo_sample.cfg. */
const apacheSampleZooCfg = `# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial 
# synchronization phase can take
initLimit=10
# The number of ticks that can pass between 
# sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
# do not use /tmp for storage, /tmp here is just 
# example sakes.
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
# the maximum number of client connections.
# increase this if you need to handle more clients
#maxClientCnxns=60
#
# Be sure to read the maintenance section of the 
# administrator guide before turning on autopurge.
#
# https://zookeeper.apache.org/doc/current/zookeeperAdmin.html#sc_maintenance
#
# The number of snapshots to retain in dataDir
#autopurge.snapRetainCount=3
# Purge task interval in hours
# Set to "0" to disable auto purge feature
#autopurge.purgeInterval=1

## Metrics Providers
#
# https://prometheus.io Metrics Exporter
#metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
#metricsProvider.httpHost=0.0.0.0
#metricsProvider.httpPort=7000
#metricsProvider.exportJvmInfo=true
`;

/** Runs parseZooCfg and returns the ConfigError it throws (fails the test if none). */
function configErrorOf(text: string): ConfigError {
  try {
    parseZooCfg(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for:\n${text}`);
}

describe("parseZooCfg: Apache's sample zoo.cfg", () => {
  const { config, unusedKeys, warnings } = parseZooCfg(apacheSampleZooCfg);

  it("reads every setting it contains", () => {
    expect(config.tickTimeMs).toBe(2000);
    expect(config.initLimitTicks).toBe(10);
    expect(config.syncLimitTicks).toBe(5);
    expect(config.dataDir).toBe("/tmp/zookeeper");
    expect(config.clientPort).toBe(2181);
  });

  it("has nothing unused, nothing to warn about, and no ensemble", () => {
    expect(unusedKeys).toEqual([]);
    expect(warnings).toEqual([]);
    expect(config.servers).toEqual([]);
    expect(config.distributed).toBe(false);
    expect(config.myId).toBeUndefined();
  });

  it("returns a frozen config, lists included", () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.servers)).toBe(true);
    expect(Object.isFrozen(config.fourLetterWordWhitelist)).toBe(true);
  });
});

describe("parseZooCfg: defaults (Apache 3.8's, loopback client address)", () => {
  const { config } = parseZooCfg("dataDir=/var/zk");

  it("fills every unset key with its default", () => {
    expect(config).toEqual({
      clientPort: 2181,
      clientPortAddress: "127.0.0.1",
      maxClientCnxns: 60,
      dataDir: "/var/zk",
      dataLogDir: "/var/zk",
      preAllocSizeKb: 65536,
      snapCount: 100000,
      autopurgeSnapRetainCount: 3,
      autopurgePurgeIntervalHours: 0,
      fsyncWarningThresholdMs: 1000,
      tickTimeMs: 2000,
      minSessionTimeoutMs: 4000,
      maxSessionTimeoutMs: 40000,
      globalOutstandingLimit: 1000,
      juteMaxBufferBytes: 0xfffff,
      initLimitTicks: 10,
      syncLimitTicks: 5,
      leaderServes: true,
      cnxTimeoutMs: 5000,
      electionAlg: 3,
      peerType: "participant",
      standaloneEnabled: true,
      syncEnabled: true,
      quorumListenOnAllIPs: false,
      reconfigEnabled: false,
      servers: [],
      quorumGroups: [],
      serverWeights: [],
      myId: undefined,
      distributed: false,
      fourLetterWordWhitelist: ["srvr"],
      superDigest: undefined,
      extendedTypesEnabled: false,
      localSessionsEnabled: false,
      containerCheckIntervalMs: 60000,
      containerMaxPerMinute: 10000,
    });
  });

  it("requires dataDir, as Apache does, and names it", () => {
    const error = configErrorOf("tickTime=2000\nclientPort=2181");
    expect(error.key).toBe("dataDir");
    expect(error.message).toMatch(/^zoo\.cfg: dataDir is not set/);
  });

  it("uses opts.source in messages", () => {
    expect(() => parseZooCfg("tickTime=x", { source: "/etc/zk/zoo.cfg" })).toThrow(/^\/etc\/zk\/zoo\.cfg: tickTime="x"/);
  });
});

describe("parseZooCfg: every key sets its field", () => {
  it("reads each supported key", () => {
    const { config, unusedKeys } = parseZooCfg(`
dataDir=/d
dataLogDir=/l
clientPort=2281
clientPortAddress=0.0.0.0
maxClientCnxns=0
tickTime=1000
preAllocSize=1024
snapCount=500
autopurge.snapRetainCount=5
autopurge.purgeInterval=24
fsync.warningthresholdms=50
globalOutstandingLimit=200
minSessionTimeout=3000
maxSessionTimeout=9000
initLimit=20
syncLimit=7
leaderServes=no
cnxTimeout=1500
electionAlg=3
jute.maxbuffer=4194304
4lw.commands.whitelist=stat, ruok,conf
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
extendedTypesEnabled=TRUE
znode.container.checkIntervalMs=1000
znode.container.maxPerMinute=50
peerType=Observer
standaloneEnabled=false
syncEnabled=false
quorumListenOnAllIPs=true
reconfigEnabled=true
localSessionsEnabled=true
admin.enableServer=false
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpPort=7000
server.1=a:2888:3888
server.2=b:2888:3888
server.3=c:2888:3888
`);
    expect(unusedKeys).toEqual([]);
    expect(config).toMatchObject({
      dataDir: "/d",
      dataLogDir: "/l",
      clientPort: 2281,
      clientPortAddress: "0.0.0.0",
      maxClientCnxns: 0,
      tickTimeMs: 1000,
      preAllocSizeKb: 1024,
      snapCount: 500,
      autopurgeSnapRetainCount: 5,
      autopurgePurgeIntervalHours: 24,
      fsyncWarningThresholdMs: 50,
      globalOutstandingLimit: 200,
      minSessionTimeoutMs: 3000,
      maxSessionTimeoutMs: 9000,
      initLimitTicks: 20,
      syncLimitTicks: 7,
      leaderServes: false,
      cnxTimeoutMs: 1500,
      electionAlg: 3,
      juteMaxBufferBytes: 4194304,
      fourLetterWordWhitelist: ["stat", "ruok", "conf"],
      superDigest: "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
      extendedTypesEnabled: true,
      containerCheckIntervalMs: 1000,
      containerMaxPerMinute: 50,
      peerType: "observer",
      standaloneEnabled: false,
      syncEnabled: false,
      quorumListenOnAllIPs: true,
      reconfigEnabled: true,
      localSessionsEnabled: true,
      distributed: true,
    });
  });

  it("accepts leaderServes=yes and true/false in any case", () => {
    expect(parseZooCfg("dataDir=/d\nleaderServes=yes").config.leaderServes).toBe(true);
    expect(parseZooCfg("dataDir=/d\nleaderServes=FALSE").config.leaderServes).toBe(false);
    expect(parseZooCfg("dataDir=/d\nsyncEnabled=False").config.syncEnabled).toBe(false);
  });

  it("accepts zookeeper.extendedTypesEnabled as a second name", () => {
    expect(parseZooCfg("dataDir=/d\nzookeeper.extendedTypesEnabled=true").config.extendedTypesEnabled).toBe(true);
  });

  it("refuses the two names of extendedTypesEnabled when they disagree", () => {
    const error = configErrorOf("dataDir=/d\nextendedTypesEnabled=true\nzookeeper.extendedTypesEnabled=false");
    expect(error.key).toBe("zookeeper.extendedTypesEnabled");
    expect(error.message).toContain("extendedTypesEnabled=true on line 2");
  });

  it("keeps a 4lw whitelist with * as just [\"*\"]", () => {
    expect(parseZooCfg("dataDir=/d\n4lw.commands.whitelist=stat, *").config.fourLetterWordWhitelist).toEqual(["*"]);
    expect(parseZooCfg("dataDir=/d\n4lw.commands.whitelist=*").config.fourLetterWordWhitelist).toEqual(["*"]);
  });

  it("reads an empty 4lw whitelist as no commands", () => {
    expect(parseZooCfg("dataDir=/d\n4lw.commands.whitelist=").config.fourLetterWordWhitelist).toEqual([]);
  });

  it("removes the brackets of an IPv6 clientPortAddress", () => {
    expect(parseZooCfg("dataDir=/d\nclientPortAddress=[::1]").config.clientPortAddress).toBe("::1");
    expect(parseZooCfg("dataDir=/d\nclientPortAddress=::1").config.clientPortAddress).toBe("::1");
    expect(parseZooCfg("dataDir=/d\nclientPortAddress=zk-1.example.com").config.clientPortAddress).toBe("zk-1.example.com");
  });
});

describe("parseZooCfg: session timeouts follow tickTime", () => {
  it("defaults to 2 and 20 ticks", () => {
    const { config } = parseZooCfg("dataDir=/d\ntickTime=500");
    expect(config.minSessionTimeoutMs).toBe(1000);
    expect(config.maxSessionTimeoutMs).toBe(10000);
  });

  it("treats -1 as 'use the default'", () => {
    const { config } = parseZooCfg("dataDir=/d\ntickTime=3000\nminSessionTimeout=-1\nmaxSessionTimeout=-1");
    expect(config.minSessionTimeoutMs).toBe(6000);
    expect(config.maxSessionTimeoutMs).toBe(60000);
  });

  it("derives only the bound that is not written", () => {
    const { config } = parseZooCfg("dataDir=/d\ntickTime=1000\nmaxSessionTimeout=5000");
    expect(config.minSessionTimeoutMs).toBe(2000);
    expect(config.maxSessionTimeoutMs).toBe(5000);
  });

  it("allows min equal to max", () => {
    const { config } = parseZooCfg("dataDir=/d\nminSessionTimeout=7000\nmaxSessionTimeout=7000");
    expect([config.minSessionTimeoutMs, config.maxSessionTimeoutMs]).toEqual([7000, 7000]);
  });

  it("refuses a written min above a written max, blaming minSessionTimeout", () => {
    const error = configErrorOf("dataDir=/d\nminSessionTimeout=9000\nmaxSessionTimeout=8000");
    expect(error.key).toBe("minSessionTimeout");
    expect(error.value).toBe("9000");
    expect(error.message).toBe(
      'zoo.cfg: minSessionTimeout="9000" is not valid: it must not be larger than maxSessionTimeout (8000 ms)',
    );
  });

  it("refuses a written min above the derived max", () => {
    const error = configErrorOf("dataDir=/d\ntickTime=100\nminSessionTimeout=5000");
    expect(error.key).toBe("minSessionTimeout");
    expect(error.message).toContain("(2000 ms, 20 × tickTime)");
  });

  it("refuses a written max below the derived min, blaming maxSessionTimeout", () => {
    const error = configErrorOf("dataDir=/d\ntickTime=2000\nmaxSessionTimeout=3000");
    expect(error.key).toBe("maxSessionTimeout");
    expect(error.value).toBe("3000");
    expect(error.message).toContain("(4000 ms, 2 × tickTime)");
  });
});

describe("parseZooCfg: Apache's quiet corrections become warnings", () => {
  it("raises autopurge.snapRetainCount below 3 to 3", () => {
    const { config, warnings } = parseZooCfg("dataDir=/d\nautopurge.snapRetainCount=1");
    expect(config.autopurgeSnapRetainCount).toBe(3);
    expect(warnings).toEqual(["zoo.cfg: autopurge.snapRetainCount=1 is below the minimum 3; using 3, as Apache does"]);
  });

  it("raises snapCount below 2 to 2", () => {
    const { config, warnings } = parseZooCfg("dataDir=/d\nsnapCount=-5");
    expect(config.snapCount).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("snapCount=-5");
  });

  it("keeps the last of two equal keys and warns about it", () => {
    const { config, warnings } = parseZooCfg("dataDir=/d\ntickTime=1000\ntickTime=3000");
    expect(config.tickTimeMs).toBe(3000);
    expect(warnings).toEqual(["zoo.cfg: tickTime is set on line 2 and again on line 3; the last value wins, as in Apache"]);
  });
});

describe("parseZooCfg: unused keys", () => {
  it("lists unknown keys and Apache keys zkbook does not act on, once each, in file order, without failing", () => {
    const { config, unusedKeys } = parseZooCfg(`
dataDir=/d
secureClientPort=2281
admin.serverPort=8080
ssl.keyStore.location=/ks
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
sessionRequireClientSASLAuth=true
madeUpKey=1
secureClientPort=2282
ticktime=5000
`);
    expect(unusedKeys).toEqual([
      "secureClientPort",
      "admin.serverPort",
      "ssl.keyStore.location",
      "authProvider.1",
      "sessionRequireClientSASLAuth",
      "madeUpKey",
      "ticktime",
    ]);
    // Keys are case-sensitive: "ticktime" did not set tickTime.
    expect(config.tickTimeMs).toBe(2000);
  });

  it("does not list accepted-but-ignored keys (admin.enableServer, metricsProvider.*)", () => {
    const { unusedKeys } = parseZooCfg("dataDir=/d\nadmin.enableServer=false\nmetricsProvider.httpHost=0.0.0.0");
    expect(unusedKeys).toEqual([]);
  });

  it("refuses dynamicConfigFile instead of silently ignoring the servers in it", () => {
    const error = configErrorOf("dataDir=/d\ndynamicConfigFile=/etc/zk/zoo.cfg.dynamic");
    expect(error.key).toBe("dynamicConfigFile");
    expect(error.value).toBe("/etc/zk/zoo.cfg.dynamic");
  });
});

describe("parseZooCfg: every invalid value is reported with its key, its value and what is allowed", () => {
  const cases: ReadonlyArray<[key: string, value: string, allowed: string]> = [
    ["tickTime", "abc", "expected a positive integer (milliseconds)"],
    ["tickTime", "0", "expected a positive integer (milliseconds)"],
    ["tickTime", "1.5", "expected a positive integer (milliseconds)"],
    ["tickTime", "99999999999", "expected a positive integer (milliseconds)"],
    ["tickTime", "", "expected a positive integer (milliseconds)"],
    ["clientPort", "0", "expected a port number from 1 to 65535"],
    ["clientPort", "65536", "expected a port number from 1 to 65535"],
    ["clientPort", "http", "expected a port number from 1 to 65535"],
    ["clientPortAddress", "not a host", "expected a host name or IP address"],
    ["clientPortAddress", "300.1.1.1", "expected a host name or IP address"],
    ["dataDir", "", "expected a directory path"],
    ["dataLogDir", "", "expected a directory path"],
    ["maxClientCnxns", "-1", "expected an integer 0 or more (connections per client IP); 0 means no limit"],
    ["preAllocSize", "0", "expected a positive integer (kilobytes)"],
    ["snapCount", "many", "expected an integer"],
    ["autopurge.snapRetainCount", "three", "expected an integer"],
    ["autopurge.purgeInterval", "-1", "expected an integer 0 or more (hours); 0 means autopurge is off"],
    ["fsync.warningthresholdms", "1s", "expected an integer 0 or more (milliseconds)"],
    ["globalOutstandingLimit", "0", "expected a positive integer (requests)"],
    ["minSessionTimeout", "0", "expected a positive integer (milliseconds), or -1 for the default (2 × tickTime)"],
    ["maxSessionTimeout", "-2", "expected a positive integer (milliseconds), or -1 for the default (20 × tickTime)"],
    ["initLimit", "0", "expected a positive integer (ticks)"],
    ["syncLimit", "five", "expected a positive integer (ticks)"],
    ["leaderServes", "maybe", "expected yes or no"],
    ["cnxTimeout", "-5", "expected a positive integer (milliseconds)"],
    ["electionAlg", "0", "only electionAlg=3 (fast leader election) is supported"],
    ["electionAlg", "1", "only electionAlg=3 (fast leader election) is supported"],
    ["jute.maxbuffer", "1MB", "expected a positive integer (bytes)"],
    ["4lw.commands.whitelist", "stat ruok", "expected a comma-separated list of four-letter commands"],
    ["4lw.commands.whitelist", "stat,dump;", "expected a comma-separated list of four-letter commands"],
    ["DigestAuthenticationProvider.superDigest", "super", "expected user:base64digest"],
    ["DigestAuthenticationProvider.superDigest", "super:not base64!", "expected user:base64digest"],
    ["extendedTypesEnabled", "yes", "expected true or false"],
    ["zookeeper.extendedTypesEnabled", "1", "expected true or false"],
    ["znode.container.checkIntervalMs", "0", "expected a positive integer (milliseconds)"],
    ["znode.container.maxPerMinute", "x", "expected a positive integer (containers per minute)"],
    ["peerType", "leader", "expected participant or observer"],
    ["standaloneEnabled", "no", "expected true or false"],
    ["syncEnabled", "on", "expected true or false"],
    ["quorumListenOnAllIPs", "1", "expected true or false"],
    ["reconfigEnabled", "enabled", "expected true or false"],
    ["localSessionsEnabled", "t", "expected true or false"],
  ];

  it.each(cases)("%s=%j", (key, value, allowed) => {
    const text = key === "dataDir" ? `${key}=${value}` : `dataDir=/d\n${key}=${value}`;
    const error = configErrorOf(text);
    expect(error.key).toBe(key);
    expect(error.value).toBe(value);
    expect(error.message).toContain(`zoo.cfg: ${key}="${value}" is not valid: `);
    expect(error.message).toContain(allowed);
  });

  it("reports the line of the bad value", () => {
    expect(configErrorOf("dataDir=/d\n\n# c\ntickTime=oops").line).toBe(4);
  });
});
