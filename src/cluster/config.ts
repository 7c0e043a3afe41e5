/**
 * Each member's files, and the text that goes in them. Pure: paths and strings; launch.ts writes them.
 *
 *   <dir>/cluster.json            the state file (state.ts): what was started, with which pids
 *   <dir>/server.N/zoo.cfg        the member's config: the same server.N lines in every member's file
 *   <dir>/server.N/data/myid      "N": which of the server.N lines is this member (Apache reads it from dataDir)
 *   <dir>/server.N/data/version-2 snapshots and the transaction log
 *   <dir>/server.N/server.log     everything the member prints (Apache: log4j to the console, redirected here)
 *   <dir>/server.N/log4j.properties  Apache only
 *
 * The zoo.cfg is exactly what an Apache ZooKeeper 3.8 member wants (QuorumPeerConfig), so `--apache` runs the
 * very same files through Apache's QuorumPeerMain.
 */
import { join } from "node:path";
import { clusterHost, shapeOf, type ClusterSpec, type MemberSpec } from "./spec.ts";

/** Timing, from Apache's conf/zoo_sample.cfg: a 2 s tick; followers get 10 ticks to sync, 5 to stay in step. */
export const tickTimeMs = 2000;
export const initLimitTicks = 10;
export const syncLimitTicks = 5;

export const stateFileName = "cluster.json";

export interface MemberPaths {
  readonly dir: string;
  readonly zooCfg: string;
  readonly dataDir: string;
  readonly myid: string;
  readonly log: string;
  readonly log4j: string;
}

export function memberPaths(clusterDir: string, id: number): MemberPaths {
  const dir = join(clusterDir, `server.${id}`);
  const dataDir = join(dir, "data");
  return {
    dir,
    zooCfg: join(dir, "zoo.cfg"),
    dataDir,
    myid: join(dataDir, "myid"),
    log: join(dir, "server.log"),
    log4j: join(dir, "log4j.properties"),
  };
}

/** `server.N=127.0.0.1:quorumPort:electionPort[:observer]` (Apache QuorumPeer.QuorumServer). */
export function serverLine(m: MemberSpec): string {
  const observer = m.kind === "observer" ? ":observer" : "";
  return `server.${m.id}=${clusterHost}:${m.quorumPort}:${m.electionPort}${observer}`;
}

/** `member`'s zoo.cfg; `dataDir` must be absolute (the member's working directory is not the cluster's). */
export function memberZooCfg(spec: ClusterSpec, member: MemberSpec, dataDir: string): string {
  const { servers, observers } = shapeOf(spec);
  const lines = [
    `# Server ${member.id} of a local ensemble (${servers} voting servers, ${observers} observers), written by \`npm run cluster\`.`,
    `# Every member's zoo.cfg has the same server.N lines; dataDir/myid says which one is this member.`,
    `tickTime=${tickTimeMs}`,
    `initLimit=${initLimitTicks}`,
    `syncLimit=${syncLimitTicks}`,
    `dataDir=${dataDir}`,
    `clientPort=${member.clientPort}`,
    // Loopback only: these servers have no authentication and must not be reachable from the network.
    `clientPortAddress=${clusterHost}`,
    // Every four letter word: status and tests read srvr, stat, mntr.
    "4lw.commands.whitelist=*",
    // Apache's AdminServer is an HTTP server on port 8080: all members would want it.
    "admin.enableServer=false",
    // Benchmarks and tests open many sessions from 127.0.0.1; the default allows 60 per address.
    "maxClientCnxns=0",
  ];
  // An observer says so twice, as Apache asks: in its own server.N line and with peerType.
  if (member.kind === "observer") lines.push("peerType=observer");
  for (const m of spec.members) lines.push(serverLine(m));
  return lines.join("\n") + "\n";
}

/** log4j 1.2 (what Debian's ZooKeeper logs through): INFO to the console, which launch.ts sends to server.log. */
export function apacheLog4jProperties(): string {
  return [
    "log4j.rootLogger=INFO, CONSOLE",
    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender",
    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] %-5p [%t:%C{1}@%L] - %m%n",
    "",
  ].join("\n");
}
