// Apache's Java shell, zkCli, run non-interactively: the reference for comparing our shell's output.
//
// Debian ships it as /usr/share/zookeeper/bin/zkCli.sh, which sources /etc/zookeeper/conf/environment
// and runs `java -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar org.apache.zookeeper.ZooKeeperMain`.
// We run that same main class ourselves, adding slf4j's no-op binding so the output is not
// preceded by six "SLF4J: Failed to load class ..." lines, and without depending on /etc.
//
// What zkCli prints, learned by running it (3.8.0):
//   - stdout starts with "Connecting to <hostPort>"; in script mode also "Welcome to ZooKeeper!" and
//     "JLine support is disabled" (Debian's jline.jar is not the jline2 zkCli wants);
//   - each watcher event prints "\nWATCHER::\n\nWatchedEvent state:... type:... path:...\n";
//     the first one is the session's SyncConnected event;
//   - some results go to stderr: "Created /x", "Node does not exist: /x", ... So we merge stderr
//     into stdout (2>&1, one pipe, so the order is the order they were printed);
//   - `get` of a node with no data prints "null";
//   - the exit code reflects a failed command in argument mode, not reliably in script mode.

import { existsSync } from "node:fs";
import { runToEnd } from "./children.ts";
import { CLI_LOG_JARS, JAVA, ZKCLI_SH, ZOOKEEPER_JAR } from "./debian.ts";

/** Debian's zkCli.sh, if installed (for a human to use; the helpers below run java directly). */
export function zkCliPath(): string | null {
  return existsSync(ZKCLI_SH) ? ZKCLI_SH : null;
}

export interface ZkCliResult {
  /** stdout and stderr merged, in order, with the connection banner and session events removed. */
  output: string;
  /** Everything printed, untouched. */
  raw: string;
  code: number | null;
  timedOut: boolean;
}

export interface ZkCliOptions {
  /** Session timeout passed as -timeout. Default 30000 (zkCli's own default). */
  sessionTimeoutMs?: number;
  /**
   * Wait for the session before running commands (-waitforconnection). Default true: then the
   * "SyncConnected" event is printed before any command's output and is cleanly removed. With it,
   * an unreachable server makes zkCli fail after the session timeout.
   */
  waitForConnection?: boolean;
  timeoutMs?: number;
}

function zkCliArgs(hostPort: string, o: ZkCliOptions): string[] {
  const javaArgs = [
    "-Xmx128m",
    "-XX:TieredStopAtLevel=1", // a short-lived JVM: fast startup beats peak speed
    "-cp",
    [ZOOKEEPER_JAR, ...CLI_LOG_JARS].join(":"),
    "org.apache.zookeeper.ZooKeeperMain",
    "-server",
    hostPort,
    "-timeout",
    String(o.sessionTimeoutMs ?? 30_000),
  ];
  if (o.waitForConnection ?? true) javaArgs.push("-waitforconnection");
  return javaArgs;
}

/** Remove what every zkCli run prints regardless of the commands: banner and session-state events. */
export function stripZkCliBanner(raw: string): string {
  return raw
    .replace(/^Connecting to \S+\n/m, "")
    .replace(/^Welcome to ZooKeeper!\n/m, "")
    .replace(/^JLine support is (?:disabled|enabled)\n/m, "")
    .replace(/\nWATCHER::\n\nWatchedEvent state:\w+ type:None path:null\n/g, "");
}

async function run(hostPort: string, extraArgs: string[], input: string, o: ZkCliOptions): Promise<ZkCliResult> {
  // `sh -c 'exec "$@" 2>&1'`: stdout and stderr into one pipe, so lines keep their order.
  const r = await runToEnd("sh", ["-c", 'exec "$@" 2>&1', "sh", JAVA, ...zkCliArgs(hostPort, o), ...extraArgs], {
    input,
    timeoutMs: o.timeoutMs ?? 60_000,
  });
  const raw = r.stdout + r.stderr; // stderr is empty unless sh itself complained
  return { output: stripZkCliBanner(raw), raw, code: r.code, timedOut: r.timedOut };
}

/** One command as arguments, like `zkCli.sh -server h:p get /x`. */
export function runZkCliCommand(hostPort: string, command: string[], opts: ZkCliOptions = {}): Promise<ZkCliResult> {
  return run(hostPort, command, "", opts);
}

/**
 * A script of commands, one per line, fed on stdin, like `zkCli.sh -server h:p < script`.
 * zkCli reads lines until end of input, then exits (no `quit` needed).
 */
export function runZkCli(hostPort: string, script: string | string[], opts: ZkCliOptions = {}): Promise<ZkCliResult> {
  const text = Array.isArray(script) ? script.join("\n") : script;
  return run(hostPort, [], text.endsWith("\n") ? text : text + "\n", opts);
}
