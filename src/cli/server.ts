/**
 * `npm run server [-- path/to/zoo.cfg]`: a standalone ZooKeeper on 127.0.0.1:2181 with its data under ./data, or
 * configured by an Apache zoo.cfg. The only place that reads argv for the server.
 *
 * Data is durable: snapshots in `<dataDir>/version-2`, the txn log in `<dataLogDir>/version-2`, in Apache 3.8's
 * format — Apache ZooKeeper can start from this server's dataDir and the other way round.
 */
import { ConfigError, checkDataDirectories, defaultConfig, loadZooCfg } from "../config/index.ts";
import { ClientPortError, consoleLogger, startStandaloneServer } from "../server/index.ts";
import { DurableStore, RecoveryError, TxnLogCorruptError } from "../storage/index.ts";
import { QuorumMember } from "../ensemble/member.ts";
import type { ZooConfig } from "../config/index.ts";

async function main(): Promise<void> {
  const cfgPath = process.argv[2];
  let config = defaultConfig();
  if (cfgPath !== undefined) {
    const parsed = await loadZooCfg(cfgPath);
    config = parsed.config;
    for (const warning of parsed.warnings) consoleLogger.warn(warning);
    if (parsed.unusedKeys.length > 0) {
      consoleLogger.warn(`zoo.cfg keys this server does not use (ignored): ${parsed.unusedKeys.join(", ")}`);
    }
  }
  await checkDataDirectories(config, cfgPath ?? "the default settings");
  if (config.distributed) {
    await runEnsembleMember(config);
    return;
  }
  const store = new DurableStore(config, {
    logger: consoleLogger,
    // Apache exits when it cannot write its log or a snapshot: acknowledging writes it may lose would be worse.
    onFatal: () => process.exit(2),
  });
  const server = await startStandaloneServer(config, {
    txnSink: store,
    beforeListen: async (zk) => void (await store.recoverInto(zk)),
  });
  consoleLogger.info(`zkbook ZooKeeper (standalone) serving clients at ${server.connectString}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    consoleLogger.info(`${signal} received, shutting down`);
    void server
      .close()
      .then(() => store.close())
      .then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** With server.N lines and a myid file: one member of an ensemble, as Apache's QuorumPeerMain. */
async function runEnsembleMember(config: ZooConfig): Promise<void> {
  const member = await QuorumMember.start(config, {
    logger: consoleLogger,
    onFatal: (error) => {
      consoleLogger.warn(`Severe unrecoverable error, exiting: ${error.message}`);
      process.exit(2);
    },
  });
  const peers = config.servers.map((s) => `server.${s.id}=${s.host}:${s.quorumPort}:${s.electionPort}${s.role === "observer" ? ":observer" : ""}`);
  consoleLogger.info(`zkbook ZooKeeper (ensemble member ${config.myId}) serving clients at ${config.clientPortAddress}:${member.status.clientPort}; ${peers.join(" ")}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    consoleLogger.info(`${signal} received, shutting down`);
    void member.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof RecoveryError || error instanceof ClientPortError) {
    console.error(`error: ${error.message}`);
  } else if (error instanceof TxnLogCorruptError) {
    console.error(`error: ${error.message}`);
    console.error(`The server will not start on a damaged log. To see what truncating it at the last good transaction would drop:`);
    console.error(`  npm run zk-repair -- ${error.location}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
