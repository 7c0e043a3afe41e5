/**
 * zoo.cfg loading, Apache ZooKeeper 3.8 format.
 *
 *   const { config, unusedKeys, warnings } = await loadZooCfg("conf/zoo.cfg");
 *
 * See parse.ts for the order of the steps, keys.ts for the keys we know and
 * limits.ts for every default.
 */
export { ConfigError } from "./errors.ts";
export { parseZooCfg } from "./parse.ts";
export { loadZooCfg } from "./load.ts";
export { defaultConfig } from "./defaults.ts";
export { checkDataDirectories } from "./directories.ts";
export type {
  ParsedZooCfg,
  ParseOptions,
  PeerRole,
  QuorumGroup,
  ServerSpec,
  ServerWeight,
  ZooConfig,
} from "./types.ts";
