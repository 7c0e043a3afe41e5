/**
 * Where Debian's Apache ZooKeeper 3.8 lives (package `zookeeper`, which pulls in libzookeeper-java and a JRE),
 * for `npm run cluster -- --apache` and the ensemble harness. The interop tests' harness
 * (test/interop/harness/debian.ts) names the same files.
 *
 * A member runs as zkServer.sh would run it, minus the script (it reads /etc/zookeeper and daemonizes):
 *   java -Xmx1000m -Dlog4j.configuration=file:<member>/log4j.properties -Dzookeeper.jmx.log4j.disable=true \
 *        -cp /usr/share/java/zookeeper.jar:<slf4j-log4j12>:<log4j-1.2> \
 *        org.apache.zookeeper.server.quorum.QuorumPeerMain <member>/zoo.cfg
 */
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** Its manifest's Class-Path brings in netty, jute, slf4j-api, ... from /usr/share/java. */
export const zookeeperJar = "/usr/share/java/zookeeper.jar";
/** slf4j → log4j 1.2, so that the member's log4j.properties decides where its log goes. */
export const serverLogJars = ["/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"];
export const javaCommand = existsSync("/usr/bin/java") ? "/usr/bin/java" : "java";
/** The class zkServer.sh starts: it reads server.N lines and myid, and runs election and Zab. */
export const quorumPeerMainClass = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

/** zkServer.sh's heap (ZK_SERVER_HEAP=1000 MB) and its full JIT: what an operator runs. */
export const apacheJvmFlagsDefault: readonly string[] = ["-Xmx1000m"];
/**
 * For tests that start many members: the client JIT (C1) starts a JVM faster, and a small heap is plenty.
 * Not for benchmarks — C1-only code is slower.
 */
export const apacheJvmFlagsQuickStart: readonly string[] = ["-Xmx256m", "-XX:TieredStopAtLevel=1"];

let cached: string | null | undefined;

/** Why Apache ZooKeeper cannot run here, or null when it can. Synchronous and cached (for `it.skipIf`). */
export function apacheMissing(): string | null {
  if (cached !== undefined) return cached;
  const jars = [zookeeperJar, ...serverLogJars].filter((f) => !existsSync(f));
  const javaRuns = spawnSync(javaCommand, ["-version"], { stdio: "ignore", timeout: 20_000 }).status === 0;
  const problems: string[] = [];
  if (jars.length > 0) problems.push(`missing ${jars.join(", ")} (Debian package zookeeper)`);
  if (!javaRuns) problems.push(`cannot run ${javaCommand} -version (Debian package default-jre)`);
  cached = problems.length === 0 ? null : `Apache ZooKeeper 3.8 is not installed: ${problems.join("; ")}`;
  return cached;
}
