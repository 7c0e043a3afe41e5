/**
 * The one place the client tests get a server from.
 *
 * For now: Apache ZooKeeper 3.8 standalone from the Debian package (`apt-get install zookeeper`: jars in
 * /usr/share/java). When the project's own server is ready, only this file changes.
 *
 * Each call starts its own server on a free loopback port with its own data directory, so test files can run in
 * parallel. `stop()` kills the server (like a crash: sessions are not closed); `restart()` starts it again on the
 * same port with the same data, so sessions that have not timed out are still known.
 *
 * Apache accepts connections a little before it serves them, and may then leave a handshake unanswered until the
 * client's connect timeout (sessionTimeout / hosts) runs out. Tests that restart the server keep their clients
 * away meanwhile (FaultyProxy.refuse) so that this start-up window does not eat their session timeout.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { describe } from "vitest";
import { closeSync, existsSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface TestServer {
  readonly connectString: string;
  readonly port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Sends a four-letter word (e.g. "wchc") and returns the answer. */
  fourLetterWord(word: string): Promise<string>;
}

/** tickTime 500 ms: sessions can be as short as 1 s, and expire within about a tick after their timeout. */
const tickTimeMs = 500;
const minSessionTimeoutMs = 1000;
const maxSessionTimeoutMs = 60_000;
const startWaitMs = 30_000;

const jarDir = "/usr/share/java";
const classPath = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar"]
  .map((jar) => path.join(jarDir, jar))
  .join(":");

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export function fourLetterWord(port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${word}`));
    }, timeoutMs);
    socket.on("connect", () => socket.write(word));
    socket.on("data", (b: Buffer) => chunks.push(b));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Why the live tests cannot run here, or null when they can. */
export function clientTestServerMissing(): string | null {
  if (process.env.ZKBOOK_CLIENT_TEST_SERVER === "zkbook") return null;
  if (!existsSync(path.join(jarDir, "zookeeper.jar"))) return "Apache ZooKeeper 3.8 is not installed (apt-get install zookeeper)";
  if (spawnSync("java", ["-version"]).status !== 0) return "java is not installed (apt-get install zookeeper pulls it in)";
  return null;
}

/**
 * A describe block that needs a live server: skipped, with the reason as its title, where none can be started
 * (like the interop suites), instead of failing on a machine without Apache ZooKeeper.
 */
export function describeWithServer(title: string, body: () => void): void {
  const missing = clientTestServerMissing();
  describe.skipIf(missing !== null)(missing === null ? title : `${title} (skipped: ${missing})`, body);
}

/**
 * `ZKBOOK_CLIENT_TEST_SERVER=zkbook` runs the same tests against this project's server instead (in-process; its
 * restart keeps the port but, if the server keeps no data on disk, not the sessions).
 */
export async function startServerForClientTests(): Promise<TestServer> {
  if (process.env.ZKBOOK_CLIENT_TEST_SERVER === "zkbook") return startProjectServer();
  if (!existsSync(path.join(jarDir, "zookeeper.jar"))) {
    throw new Error("Apache ZooKeeper is not installed (apt-get install zookeeper)");
  }
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "zkbook-client-test-"));
  const dataDir = path.join(dir, "data");
  const config = path.join(dir, "zoo.cfg");
  writeFileSync(
    config,
    [
      `tickTime=${tickTimeMs}`,
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      `minSessionTimeout=${minSessionTimeoutMs}`,
      `maxSessionTimeout=${maxSessionTimeoutMs}`,
      "4lw.commands.whitelist=*",
      "admin.enableServer=false",
      "maxClientCnxns=0",
      "",
    ].join("\n"),
  );
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    const log = openSync(path.join(dir, "server.log"), "a");
    child = spawn(
      "java",
      [
        "-Xmx256m",
        "-Dzookeeper.extendedTypesEnabled=true",
        "-Dznode.container.checkIntervalMs=200",
        "-Dzookeeper.admin.enableServer=false",
        "-cp",
        classPath,
        "org.apache.zookeeper.server.ZooKeeperServerMain",
        config,
      ],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    const started = child;
    await waitUntil(
      async () => {
        if (started.exitCode !== null) throw new Error(`ZooKeeper exited early; see ${dir}/server.log`);
        // ruok answers as soon as the port is open; srvr reports a Mode only once the server serves sessions.
        return (await fourLetterWord(port, "srvr", 500)).includes("Mode:");
      },
      startWaitMs,
      `ZooKeeper on port ${port} (log: ${dir}/server.log)`,
    );
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGKILL");
    await exited;
  };

  await start();
  process.once("exit", () => {
    (child as ChildProcess | null)?.kill("SIGKILL");
  });

  return {
    connectString: `127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stop();
    },
    restart: async () => {
      await stop();
      await start();
    },
    fourLetterWord: (word) => fourLetterWord(port, word),
  };
}

async function startProjectServer(): Promise<TestServer> {
  const { startTestServer } = await import("../support/zk-server.ts");
  const settings = {
    clientPortAddress: "127.0.0.1",
    tickTimeMs,
    minSessionTimeoutMs,
    maxSessionTimeoutMs,
    extendedTypesEnabled: true,
    containerCheckIntervalMs: 200,
    fourLetterWordWhitelist: ["*"],
  };
  let running: Awaited<ReturnType<typeof startTestServer>> | null = await startTestServer(settings);
  const port = running.port;
  return {
    connectString: `127.0.0.1:${port}`,
    port,
    stop: async () => {
      await running?.close();
      running = null;
    },
    restart: async () => {
      await running?.close();
      running = await startTestServer({ ...settings, clientPort: port });
    },
    fourLetterWord: (word) => fourLetterWord(port, word),
  };
}
