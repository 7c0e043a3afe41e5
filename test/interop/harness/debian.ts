// Where Debian (bookworm) puts the Apache ZooKeeper pieces the interop tests use, and a check that
// they are all there. Found with `dpkg -L zookeeper zookeeper-bin libzookeeper-java python3-kazoo`.
//
//   zookeeper      -> depends on libzookeeper-java (the jars in /usr/share/java) and default-jre;
//                     ships /usr/share/zookeeper/bin/zkCli.sh and zkServer.sh (meant for the
//                     system-wide service, with config in /etc/zookeeper: we do not use them
//                     for the server).
//   zookeeper-bin  -> the C client's sample shell /usr/lib/zookeeper/bin/cli_mt (not on PATH).
//   python3-kazoo  -> kazoo for Debian's own /usr/bin/python3 (a pyenv `python3` on PATH does
//                     not see it, which is why we name the interpreter by its full path).

import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** The ZooKeeper jar. Its manifest's Class-Path names netty, jute, slf4j-api, ... in /usr/share/java. */
export const ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar";
/** slf4j -> log4j 1.2 binding and log4j itself, so the server writes a log file we control. */
export const SERVER_LOG_JARS = ["/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"];
/** slf4j's no-op binding: keeps zkCli's output free of "SLF4J: Failed to load class" warnings. */
export const CLI_LOG_JARS = ["/usr/share/java/slf4j-nop.jar"];
export const CLI_MT = "/usr/lib/zookeeper/bin/cli_mt";
export const ZKCLI_SH = "/usr/share/zookeeper/bin/zkCli.sh";
export const PYTHON = process.env.ZKBOOK_PYTHON ?? "/usr/bin/python3";
export const JAVA = process.env.ZKBOOK_JAVA ?? (existsSync("/usr/bin/java") ? "/usr/bin/java" : "java");

export interface Availability {
  ok: boolean;
  /** One entry per missing piece, naming the Debian package that provides it. */
  missing: string[];
  /** Per piece, so a test that needs only kazoo (say) can check just that. */
  has: { java: boolean; zookeeperJars: boolean; cliMt: boolean; kazoo: boolean };
}

let cached: Availability | undefined;

/**
 * Which of the Debian-packaged pieces are usable here. Synchronous (and cached) so that a test
 * file can call it at load time for `describe.skipIf`.
 */
export function apacheAvailable(): Availability {
  if (cached) return cached;
  const ran = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { stdio: "ignore", timeout: 20_000 }).status === 0;
  const has = {
    java: ran(JAVA, ["-version"]),
    zookeeperJars: [ZOOKEEPER_JAR, ...SERVER_LOG_JARS, ...CLI_LOG_JARS].every((f) => existsSync(f)),
    cliMt: existsSync(CLI_MT),
    kazoo: ran(PYTHON, ["-c", "import kazoo.client"]),
  };
  const missing = missingPieces(has);
  cached = { ok: missing.length === 0, missing, has };
  return cached;
}

/** One entry per piece that is not there, naming the Debian package that provides it. */
export function missingPieces(has: Availability["has"]): string[] {
  const missing: string[] = [];
  if (!has.zookeeperJars) missing.push(`zookeeper (${ZOOKEEPER_JAR} and its log jars)`);
  if (!has.java) missing.push(`java (${JAVA}; Debian package default-jre, pulled in by zookeeper)`);
  if (!has.cliMt) missing.push(`zookeeper-bin (${CLI_MT})`);
  if (!has.kazoo) missing.push(`python3-kazoo (${PYTHON} -c "import kazoo")`);
  return missing;
}

/** The line a skipped interop suite prints, so whoever reads the log knows what to install. */
export function apacheSkipMessage(a: Availability = apacheAvailable()): string {
  return (
    "Apache ZooKeeper interop skipped: install Debian packages zookeeper, zookeeper-bin, python3-kazoo " +
    `(missing: ${a.missing.join("; ")})`
  );
}
