/**
 * Starts this project's standalone server in-process on a free loopback port, quiet, for tests.
 *   const server = await startTestServer({ tickTimeMs: 200 });
 *   ... server.connectString ...
 *   await server.close();
 */
import { defaultConfig, type ZooConfig } from "../../src/config/index.ts";
import { silentLogger, startStandaloneServer, type RunningServer, type StartOptions } from "../../src/server/index.ts";

export async function startTestServer(overrides: Partial<ZooConfig> = {}, options: StartOptions = {}): Promise<RunningServer> {
  const config = defaultConfig({ clientPort: 0, clientPortAddress: "127.0.0.1", fourLetterWordWhitelist: ["*"], ...overrides });
  return startStandaloneServer(config, { logger: silentLogger, ...options });
}
