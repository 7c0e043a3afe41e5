/**
 * The servers the benchmark measures, each started on loopback with its files in a fresh temp dir and stopped
 * (and the dir removed) at the end:
 * - ours: `node --import tsx src/cli/server.ts <zoo.cfg>` in a child process, so it has its own CPU as Apache does;
 * - Apache ZooKeeper 3.8 (the Debian package), from the interop harness's pieces. By default with a production
 *   JVM — full tiered JIT and the 1000 MB heap of zkServer.sh — because the harness's launcher is tuned for
 *   tests that start many servers (C1 only, 256 MB), which would slow Apache down; `--apache-harness` uses the
 *   harness's launcher as is.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync, type ChildProcess } from "node:child_process";
import { fourLetterWord, freePort, spawnTracked, startApacheZooKeeper } from "../test/interop/harness/index.ts";
import { JAVA, SERVER_LOG_JARS, ZOOKEEPER_JAR } from "../test/interop/harness/debian.ts";

export interface Target {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** A line or two about what runs: version, runtime, durability. */
  describe(): Promise<string>;
  stop(): Promise<void>;
}

const repoRoot = resolve(import.meta.dirname, "..");

/** The `Zookeeper version:` line of `srvr` (always allowed). */
async function versionOf(host: string, port: number): Promise<string> {
  const srvr = await fourLetterWord(host, port, "srvr");
  return /^Zookeeper version: (.*)$/m.exec(srvr)?.[1] ?? "unknown";
}

/** Polls `srvr` until it reports a Mode (Apache answers ruok before it serves). */
async function waitServing(host: string, port: number, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
    try {
      const srvr = await fourLetterWord(host, port, "srvr", 1000);
      if (/^Mode: /m.test(srvr)) return;
      last = srvr;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not serving on ${host}:${port} within ${timeoutMs} ms (${last})\n${log()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill("SIGTERM");
  });
}

export interface OursOptions {
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=..."]. */
  readonly nodeFlags?: readonly string[];
}

export async function startOurs(options: OursOptions = {}): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "zkbook-bench-ours-"));
  const port = await freePort();
  const cfg = join(dir, "zoo.cfg");
  writeFileSync(
    cfg,
    [
      "tickTime=2000",
      `dataDir=${join(dir, "data")}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "maxClientCnxns=0",
      "4lw.commands.whitelist=*",
      "",
    ].join("\n"),
  );
  const child = spawnTracked(process.execPath, [...(options.nodeFlags ?? []), "--import", "tsx", "src/cli/server.ts", cfg], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-10_000)));
  try {
    await waitServing("127.0.0.1", port, child, 30_000, () => stderr);
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`our server did not start: ${(error as Error).message}`);
  }
  return {
    name: "ours",
    host: "127.0.0.1",
    port,
    async describe() {
      const dataDir = join(dir, "data");
      const logged = existsSync(dataDir) && readdirSync(dataDir, { recursive: true }).some((f) => /(^|\/)log\.[0-9a-f]+$/.test(String(f)));
      const flags = options.nodeFlags?.length ? ` ${options.nodeFlags.join(" ")}` : "";
      return `${await versionOf("127.0.0.1", port)}; node ${process.version}${flags}; txn log on disk: ${logged ? "yes (fsync per write batch)" : "no (in memory)"}`;
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ApacheBenchOptions {
  /** Use the interop harness's launcher unchanged (C1-only JIT, 256 MB heap). */
  readonly harness?: boolean;
}

export async function startApache(options: ApacheBenchOptions = {}): Promise<Target> {
  const javaVersion = () => {
    const out = spawnSyncText(JAVA, ["-version"]);
    return out.split("\n")[0]?.trim() ?? "java";
  };
  if (options.harness) {
    const zk = await startApacheZooKeeper({ tickTimeMs: 2000 });
    return {
      name: "apache",
      host: zk.host,
      port: zk.port,
      async describe() {
        return `${await versionOf(zk.host, zk.port)}; ${javaVersion()}; harness JVM (-Xmx256m -XX:TieredStopAtLevel=1); forceSync=yes`;
      },
      stop: () => zk.stop(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "zkbook-bench-apache-"));
  const port = await freePort();
  const cfg = join(dir, "zoo.cfg");
  const log4j = join(dir, "log4j.properties");
  const logFile = join(dir, "zookeeper.log");
  writeFileSync(
    cfg,
    [
      "tickTime=2000",
      `dataDir=${join(dir, "data")}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "maxClientCnxns=0",
      "4lw.commands.whitelist=*",
      "admin.enableServer=false",
      "",
    ].join("\n"),
  );
  writeFileSync(
    log4j,
    [
      "log4j.rootLogger=INFO, FILE",
      "log4j.appender.FILE=org.apache.log4j.FileAppender",
      `log4j.appender.FILE.File=${logFile}`,
      "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n",
      "",
    ].join("\n"),
  );
  const jvmFlags = ["-Xmx1000m", "-Dzookeeper.jmx.log4j.disable=true"];
  const child = spawnTracked(
    JAVA,
    [...jvmFlags, `-Dlog4j.configuration=file:${log4j}`, "-cp", [ZOOKEEPER_JAR, ...SERVER_LOG_JARS].join(":"), "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-10_000)));
  const log = () => `${stderr}\n${existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : ""}`;
  try {
    await waitServing("127.0.0.1", port, child, 60_000, log);
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Apache ZooKeeper did not start: ${(error as Error).message}`);
  }
  return {
    name: "apache",
    host: "127.0.0.1",
    port,
    async describe() {
      return `${await versionOf("127.0.0.1", port)}; ${javaVersion()} ${jvmFlags[0]}; forceSync=yes (txn log fsync per write batch)`;
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Any running server, e.g. `--target 10.0.0.5:2181`. */
export function external(hostPort: string): Target {
  const colon = hostPort.lastIndexOf(":");
  const host = colon > 0 ? hostPort.slice(0, colon) : hostPort;
  const port = colon > 0 ? Number(hostPort.slice(colon + 1)) : 2181;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--target ${hostPort}: not a host:port`);
  return {
    name: hostPort,
    host,
    port,
    describe: () => versionOf(host, port),
    stop: async () => {},
  };
}

function spawnSyncText(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`;
}
