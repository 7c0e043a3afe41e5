/**
 * The standalone server's runtime: a TCP listener, real time, and the timers that drive session expiry and the
 * container manager. Everything ZooKeeper-specific lives in `ZooKeeperServer`; this file only moves bytes and
 * ticks (Apache `NIOServerCnxnFactory` + `ZooKeeperServerMain`).
 */
import net from "node:net";
import { performance } from "node:perf_hooks";
import type { ZooConfig } from "../config/index.ts";
import type { Transport } from "./connection.ts";
import { ZooKeeperServer, type Clock, type Logger, type ServerOptions, type TxnSink } from "./server.ts";
import { fourLetterWordOf } from "./four-letter.ts";

export const realClock: Clock = {
  nowMs: () => Math.floor(performance.now()),
  wallMs: () => Date.now(),
};

export const consoleLogger: Logger = {
  info: (message) => console.log(`${new Date().toISOString()} INFO  ${message}`),
  warn: (message) => console.warn(`${new Date().toISOString()} WARN  ${message}`),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {} };

export interface StartOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly txnSink?: TxnSink;
  /** Called with the ZooKeeperServer before it listens (storage uses it to load recovered state). */
  readonly beforeListen?: (server: ZooKeeperServer) => void | Promise<void>;
  /** Replaces parts of the server core (labs plug the learner's pieces in here). */
  readonly overrides?: Partial<ServerOptions>;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly connectString: string;
  readonly zk: ZooKeeperServer;
  /** Stops listening, closes every connection and the timers. */
  close(): Promise<void>;
}

/** Builds the server core's options from a zoo.cfg. */
export function serverOptionsFrom(config: ZooConfig, clock: Clock, logger: Logger, txnSink?: TxnSink) {
  return {
    serverId: config.myId ?? 1,
    tickTimeMs: config.tickTimeMs,
    minSessionTimeoutMs: config.minSessionTimeoutMs,
    maxSessionTimeoutMs: config.maxSessionTimeoutMs,
    maxFrameBytes: config.juteMaxBufferBytes,
    superDigest: config.superDigest,
    extendedTypesEnabled: config.extendedTypesEnabled,
    globalOutstandingLimit: config.globalOutstandingLimit,
    fourLetterWords: config.fourLetterWordWhitelist,
    containerMaxPerMinute: config.containerMaxPerMinute,
    reconfigEnabled: config.reconfigEnabled,
    describeConfig: () => describeConfig(config),
    clock,
    logger,
    txnSink,
  };
}

/** `conf`: the settings as Apache's ServerConfig/ZKConfig print them. */
function describeConfig(config: ZooConfig): Array<[string, string]> {
  return [
    ["clientPort", String(config.clientPort)],
    ["secureClientPort", "-1"],
    ["dataDir", `${config.dataDir}/version-2`],
    ["dataDirSize", "0"],
    ["dataLogDir", `${config.dataLogDir}/version-2`],
    ["dataLogSize", "0"],
    ["tickTime", String(config.tickTimeMs)],
    ["maxClientCnxns", String(config.maxClientCnxns)],
    ["minSessionTimeout", String(config.minSessionTimeoutMs)],
    ["maxSessionTimeout", String(config.maxSessionTimeoutMs)],
    ["clientPortListenBacklog", "-1"],
    ["serverId", String(config.myId ?? 0)],
  ];
}

/** The client port: a TCP listener whose connections go to the server that serves right now. */
export interface ClientPort {
  readonly host: string;
  readonly port: number;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/**
 * Listens on clientPort and hands each accepted connection to `current()`. An ensemble member that is not
 * serving (electing, synchronizing) has no server: its connections are answered like Apache's do — a
 * four-letter word gets `notServingAnswer`, anything else is closed, and the client tries another server.
 */
export async function openClientPort(config: ZooConfig, logger: Logger, current: () => ZooKeeperServer | null): Promise<ClientPort> {
  const connectionsPerIp = new Map<string, number>();
  const sockets = new Set<net.Socket>();

  const listener = net.createServer({ noDelay: true }, (socket) => {
    const address = socket.remoteAddress ?? "unknown";
    const count = connectionsPerIp.get(address) ?? 0;
    // maxClientCnxns: a limit per client address (0 = unlimited), checked before anything is read.
    if (config.maxClientCnxns > 0 && count >= config.maxClientCnxns) {
      logger.warn(`too many connections from ${address} - max is ${config.maxClientCnxns}`);
      socket.destroy();
      return;
    }
    socket.on("error", () => {});
    const zk = current();
    if (zk === null) {
      answerWhileNotServing(socket);
      return;
    }
    connectionsPerIp.set(address, count + 1);
    sockets.add(socket);
    // Everything written to a socket in one event-loop turn (the replies to a chunk full of pipelined requests,
    // their notifications) leaves in one writev: cork at the turn's first write, uncork on the next tick. One
    // system call per turn instead of one per reply; the bytes and their order are the same.
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    const transport: Transport = {
      remoteAddress: address.startsWith("::ffff:") ? address.slice(7) : address,
      remotePort: socket.remotePort ?? 0,
      write: (bytes) => {
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(uncork);
        }
        socket.write(bytes);
      },
      close: () => void socket.end(),
      pause: () => void socket.pause(),
      resume: () => void socket.resume(),
    };
    const conn = zk.accept(transport);
    socket.on("data", (chunk) => zk.receive(conn, chunk));
    socket.on("close", () => {
      sockets.delete(socket);
      const left = (connectionsPerIp.get(address) ?? 1) - 1;
      if (left > 0) connectionsPerIp.set(address, left);
      else connectionsPerIp.delete(address);
      zk.disconnected(conn);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) => reject(new ClientPortError(config.clientPortAddress, config.clientPort, error));
    listener.once("error", refused);
    listener.listen(config.clientPort, config.clientPortAddress, () => {
      listener.off("error", refused);
      resolve();
    });
  });
  const bound = listener.address() as net.AddressInfo;
  logger.info(`binding to port ${bound.address}:${bound.port}`);
  return {
    host: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * The client port could not be opened. Apache dies with a bare java.net.BindException ("Address already in use");
 * this error names the address, the zoo.cfg keys that chose it, and what to change.
 */
export class ClientPortError extends Error {
  override readonly name = "ClientPortError";
  /** The system's error code (EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND...). */
  readonly code: string | undefined;

  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    super(`cannot listen for clients on ${host}:${port} (clientPortAddress:clientPort): ${clientPortProblem(cause)}`);
    this.code = cause.code;
  }
}

/** Why listen failed, in the words of a zoo.cfg: which key to change. */
function clientPortProblem(cause: NodeJS.ErrnoException): string {
  switch (cause.code) {
    case "EADDRINUSE":
      return "the address is already in use (another ZooKeeper, Apache's or this one, is probably running there); stop it or choose another clientPort";
    case "EACCES":
      return "permission denied (ports below 1024 need privileges); choose a clientPort of 1024 or more";
    case "EADDRNOTAVAIL":
      return "no network interface of this machine has that address; set clientPortAddress to one it has (127.0.0.1 for loopback)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name in clientPortAddress does not resolve";
    default:
      return cause.message;
  }
}

/**
 * Apache's answer while no ZooKeeperServer runs (NIOServerCnxn with zkServer not running): `ruok` still says
 * imok (the process is alive), other four-letter words say the instance is not serving, a client is closed.
 */
function answerWhileNotServing(socket: net.Socket): void {
  socket.once("data", (chunk) => {
    const word = chunk.length >= 4 ? fourLetterWordOf(chunk.readInt32BE(0)) : undefined;
    if (word === "ruok") socket.end("imok");
    else if (word !== undefined) socket.end(`${notServingMessage}\n`);
    else socket.destroy();
  });
}

/** ZooKeeperServer not running: what four-letter words answer (Apache CommandExecutor / NIOServerCnxn). */
export const notServingMessage = "This ZooKeeper instance is not currently serving requests";

/**
 * The time-driven work of whichever server serves now: session expiry every half tick (ExpiryQueue buckets are
 * tickTime wide) and the container manager. (In an ensemble the server itself does either only on the leader.)
 * Returns the function that stops both.
 */
export function startServerTimers(config: ZooConfig, current: () => ZooKeeperServer | null): () => void {
  const expiryTimer = setInterval(() => current()?.tick(), Math.max(1, Math.floor(config.tickTimeMs / 2)));
  const containerTimer = setInterval(() => current()?.checkContainers(), config.containerCheckIntervalMs);
  expiryTimer.unref();
  containerTimer.unref();
  return () => {
    clearInterval(expiryTimer);
    clearInterval(containerTimer);
  };
}

export async function startStandaloneServer(config: ZooConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? consoleLogger;
  const clock = options.clock ?? realClock;
  const zk = new ZooKeeperServer({ ...serverOptionsFrom(config, clock, logger, options.txnSink), ...options.overrides });
  await options.beforeListen?.(zk);
  const clientPort = await openClientPort(config, logger, () => zk);
  const stopTimers = startServerTimers(config, () => zk);

  return {
    host: clientPort.host,
    port: clientPort.port,
    connectString: `${clientPort.host}:${clientPort.port}`,
    zk,
    async close() {
      stopTimers();
      await clientPort.close();
      zk.closeAll();
    },
  };
}
