// Start a real Apache ZooKeeper 3.8 (the Debian package) as a child process, on a free loopback
// port, with all its files in a fresh temp dir. It is the reference our server is compared to.
//
// The command line is (setpriv: see children.ts):
//   setpriv --pdeathsig KILL /usr/bin/java -Xmx256m -XX:TieredStopAtLevel=1 \
//        -Dlog4j.configuration=file:<dir>/log4j.properties -Dzookeeper.jmx.log4j.disable=true \
//        -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar \
//        org.apache.zookeeper.server.ZooKeeperServerMain <dir>/zoo.cfg
// zookeeper.jar's manifest Class-Path brings in the rest (netty, jute, slf4j-api, ...).
//
// Why not Debian's zkServer.sh or the systemd service? They read /etc/zookeeper (one shared config,
// port 2181, /var/lib/zookeeper) and daemonize; a test wants a private, throwaway server whose pid
// it owns. ZooKeeperServerMain is what QuorumPeerMain ends up running for a config without
// server.N lines, minus a warning.

import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { atExit, spawnTracked, waitForExit } from "./children.ts";
import { JAVA, SERVER_LOG_JARS, ZOOKEEPER_JAR } from "./debian.ts";
import { fourLetterWord } from "./fourLetter.ts";

export { apacheAvailable, apacheSkipMessage, missingPieces, type Availability } from "./debian.ts";
export { runZkCli, runZkCliCommand, zkCliPath } from "./zkCli.ts";

export interface ApacheOptions {
  /** ZooKeeper's tick; session timeouts are bounded to 2..20 ticks. Default 2000 (Apache's default). */
  tickTimeMs?: number;
  /** More zoo.cfg lines, e.g. { maxClientCnxns: "0" }. They override the harness's own. */
  extraCfg?: Record<string, string>;
  /** Keep the data here (and keep it after stop), e.g. to restart on the same data after kill9. */
  dataDir?: string;
  /** How long to wait for the server to serve (see waitUntilServing). Default 60 s: CI boxes are slow. */
  startTimeoutMs?: number;
  /**
   * JVM system properties (`-Dkey=value`), for settings Apache reads only from System properties, e.g.
   * { "zookeeper.extendedTypesEnabled": "true" } (TTL nodes) or { "znode.container.checkIntervalMs": "3600000" }.
   */
  jvmProperties?: Record<string, string>;
}

export interface ApacheZooKeeper {
  host: "127.0.0.1";
  port: number;
  /** "127.0.0.1:<port>", the connect string clients want. */
  hostPort: string;
  dataDir: string;
  /** The server's log file (log4j, INFO). */
  logFile: string;
  pid: number;
  /** The last lines of the server's log and console output, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL if it lingers; removes the temp dir (never a dataDir you passed in). */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing flushed or closed. Cleans up like stop(). */
  kill9(): Promise<void>;
}

/** A port nobody listens on right now: bind 127.0.0.1:0, ask the kernel which port it picked, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function zooCfg(o: { tickTimeMs: number; dataDir: string; port: number; extra: Record<string, string> }): string {
  const cfg: Record<string, string> = {
    tickTime: String(o.tickTimeMs),
    dataDir: o.dataDir,
    clientPort: String(o.port),
    // Listen on loopback only: tests must never be reachable from outside.
    clientPortAddress: "127.0.0.1",
    // All four letter words (3.5+ allows only srvr by default); our tests compare them.
    "4lw.commands.whitelist": "*",
    // The AdminServer is an HTTP server on port 8080 by default: it would clash between runs.
    "admin.enableServer": "false",
    // Tests open many sessions from one address; the default caps that at 60.
    maxClientCnxns: "0",
    ...o.extra,
  };
  return Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

// log4j 1.2 (what Debian's ZooKeeper logs through): INFO to a file in our temp dir, nothing to
// the console, so a test run's output stays readable and the log is there when startup fails.
function log4jProperties(logFile: string): string {
  return [
    "log4j.rootLogger=INFO, FILE",
    "log4j.appender.FILE=org.apache.log4j.FileAppender",
    `log4j.appender.FILE.File=${logFile}`,
    "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n",
    "",
  ].join("\n");
}

function tail(text: string, lines: number): string {
  return text.split("\n").slice(-lines - 1).join("\n");
}

export async function startApacheZooKeeper(opts: ApacheOptions = {}): Promise<ApacheZooKeeper> {
  const root = mkdtempSync(join(tmpdir(), "zkbook-apache-"));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  // The JVM may be SIGKILLed while the files stay open; removing them is fine on Linux.
  const cancelAtExit = atExit(removeRoot);
  const dataDir = opts.dataDir ?? join(root, "data");
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(root, "zookeeper.log");
  const cfgFile = join(root, "zoo.cfg");
  const log4jFile = join(root, "log4j.properties");
  writeFileSync(log4jFile, log4jProperties(logFile));

  // Between freePort() closing its socket and the JVM binding, another process could take the
  // port. Unlikely, but cheap to survive: try a few ports.
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    writeFileSync(
      cfgFile,
      zooCfg({ tickTimeMs: opts.tickTimeMs ?? 2000, dataDir, port, extra: opts.extraCfg ?? {} }),
    );
    try {
      const zk = await launch({ root, dataDir, logFile, cfgFile, log4jFile, port, opts });
      // Once stopped, remove the temp dir: cfg, log, and the data unless the caller owns dataDir.
      const cleanup = () => {
        cancelAtExit();
        removeRoot();
      };
      return { ...zk, stop: () => zk.stop().then(cleanup), kill9: () => zk.kill9().then(cleanup) };
    } catch (err) {
      lastError = err as Error;
      if (!/Address already in use/i.test(lastError.message)) break;
    }
  }
  cancelAtExit();
  removeRoot();
  throw lastError;
}

async function launch(p: {
  root: string;
  dataDir: string;
  logFile: string;
  cfgFile: string;
  log4jFile: string;
  port: number;
  opts: ApacheOptions;
}): Promise<ApacheZooKeeper> {
  const args = [
    "-Xmx256m",
    // Started and stopped many times per run: the client JIT (C1) starts faster.
    "-XX:TieredStopAtLevel=1",
    `-Dlog4j.configuration=file:${p.log4jFile}`,
    // Without this ZooKeeper registers a log4j MBean; JMX is of no use to a test.
    "-Dzookeeper.jmx.log4j.disable=true",
    ...Object.entries(p.opts.jvmProperties ?? {}).map(([key, value]) => `-D${key}=${value}`),
    "-cp",
    [ZOOKEEPER_JAR, ...SERVER_LOG_JARS].join(":"),
    "org.apache.zookeeper.server.ZooKeeperServerMain",
    p.cfgFile,
  ];
  const child = spawnTracked(JAVA, args, { cwd: p.root, stdio: ["ignore", "pipe", "pipe"] });
  // The console gets only what escapes log4j (JVM errors, a bad config's stack trace): keep it.
  let consoleOut = "";
  const keep = (s: string) => (consoleOut = (consoleOut + s).slice(-20_000));
  child.stdout!.setEncoding("utf8").on("data", keep);
  child.stderr!.setEncoding("utf8").on("data", keep);
  let spawnError: Error | undefined;
  child.once("error", (e) => (spawnError = e));

  const logTail = (lines = 30) => {
    const log = existsSync(p.logFile) ? readFileSync(p.logFile, "utf8") : "";
    return [tail(log, lines), tail(consoleOut, lines)].filter((s) => s.trim()).join("\n--- console ---\n");
  };

  const kill = async (signal: NodeJS.Signals) => {
    child.kill(signal);
    if (!(await waitForExit(child, 10_000))) {
      child.kill("SIGKILL");
      await waitForExit(child, 10_000);
    }
  };

  const timeoutMs = p.opts.startTimeoutMs ?? 60_000;
  try {
    await waitUntilServing(child, p.port, timeoutMs, () => spawnError);
  } catch (err) {
    const why = (err as Error).message;
    const logs = logTail(40);
    await kill("SIGKILL"); // the caller removes the temp dir, or retries on another port in it
    throw new Error(`Apache ZooKeeper did not start on 127.0.0.1:${p.port}: ${why}\n--- server log (tail) ---\n${logs}`);
  }

  return {
    host: "127.0.0.1",
    port: p.port,
    hostPort: `127.0.0.1:${p.port}`,
    dataDir: p.dataDir,
    logFile: p.logFile,
    pid: child.pid!,
    logTail,
    stop: () => kill("SIGTERM"),
    kill9: () => kill("SIGKILL"),
  };
}

/**
 * Poll until the server serves; fail early if the JVM exits.
 *
 * `ruok` -> `imok` alone is not enough: Apache answers it as soon as the listening socket is up,
 * before the database is loaded; for a moment after that, `srvr` says "This ZooKeeper instance is
 * not currently serving requests" and client connections are dropped. So: imok, then a `srvr`
 * that reports a Mode.
 */
async function waitUntilServing(
  child: ChildProcess,
  port: number,
  timeoutMs: number,
  spawnError: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    const err = spawnError();
    if (err) throw new Error(`could not run ${JAVA}: ${err.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the JVM exited (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const ruok = await fourLetterWord("127.0.0.1", port, "ruok", 1_000);
      if (ruok !== "imok") {
        last = `ruok answered ${JSON.stringify(ruok)}`;
      } else {
        const srvr = await fourLetterWord("127.0.0.1", port, "srvr", 1_000);
        if (/^Mode: /m.test(srvr)) return;
        last = `srvr answered ${JSON.stringify(srvr.trim())}`;
      }
    } catch (e) {
      last = (e as Error).message; // ECONNREFUSED until the JVM has bound the port
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not serving within ${timeoutMs} ms (last: ${last})`);
}
