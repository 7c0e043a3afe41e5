/**
 * `npm run server [-- path/to/zoo.cfg]`: a standalone ZooKeeper on 127.0.0.1:2181 with its data under ./data, or
 * configured by an Apache zoo.cfg. The only place that reads argv for the server.
 */
import { ConfigError, defaultConfig, loadZooCfg } from "../config/index.ts";
import { consoleLogger, startStandaloneServer } from "../server/index.ts";

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
  const server = await startStandaloneServer(config);
  consoleLogger.info(`zkbook ZooKeeper (standalone) serving clients at ${server.connectString}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    consoleLogger.info(`${signal} received, shutting down`);
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
