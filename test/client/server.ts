/**
 * The one place the client tests get a server from.
 *
 * By default: this project's server, in-process, with durable storage in a temp dataDir (so a restart keeps
 * sessions and data, as Apache's does). `npm run test:interop` sets ZKBOOK_CLIENT_TEST_SERVER=apache and runs the
 * same tests against Apache ZooKeeper 3.8 standalone from the Debian package (jars in /usr/share/java).
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
const againstApache = () => process.env.ZKBOOK_CLIENT_TEST_SERVER === "apache";

export function clientTestServerMissing(): string | null {
  if (!againstApache()) return null;
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

/** This project's server, or with ZKBOOK_CLIENT_TEST_SERVER=apache, Apache ZooKeeper 3.8. */
export async function startServerForClientTests(): Promise<TestServer> {
  if (!againstApache()) return startProjectServer();
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
  const { DurableStore } = await import("../../src/storage/index.ts");
  const { silentLogger } = await import("../../src/server/index.ts");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "zkbook-client-test-"));
  const settings = {
    clientPortAddress: "127.0.0.1",
    tickTimeMs,
    minSessionTimeoutMs,
    maxSessionTimeoutMs,
    extendedTypesEnabled: true,
    containerCheckIntervalMs: 200,
    fourLetterWordWhitelist: ["*"],
    dataDir,
    dataLogDir: dataDir,
  };
  const start = async (clientPort: number) => {
    const { defaultConfig } = await import("../../src/config/index.ts");
    const store = new DurableStore(defaultConfig({ ...settings, clientPort }), { logger: silentLogger, onFatal: () => {} });
    const server = await startTestServer({ ...settings, clientPort }, { txnSink: store, beforeListen: async (zk) => void (await store.recoverInto(zk)) });
    return { server, store };
  };
  let running: Awaited<ReturnType<typeof start>> | null = await start(0);
  const port = running.server.port;
  const stop = async () => {
    await running?.server.close();
    await running?.store.close();
    running = null;
  };
  return {
    connectString: `127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      running = await start(port);
    },
    fourLetterWord: (word) => fourLetterWord(port, word),
  };
}
