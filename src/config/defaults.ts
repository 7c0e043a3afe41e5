/**
 * Built-in values: what a setting is when zoo.cfg does not mention it, and
 * the whole config of a standalone server started without any file.
 */
import type { FileSettings } from "./keys.ts";
import * as limits from "./limits.ts";
import type { ZooConfig } from "./types.ts";

/** Settings whose default does not depend on another setting. */
export type IndependentSettings = Omit<
  FileSettings,
  "dataDir" | "dataLogDir" | "minSessionTimeoutMs" | "maxSessionTimeoutMs" | "superDigest"
>;

export const independentDefaults: Readonly<IndependentSettings> = Object.freeze({
  clientPort: limits.clientPortDefault,
  clientPortAddress: limits.clientPortAddressDefault,
  maxClientCnxns: limits.maxClientCnxnsDefault,
  preAllocSizeKb: limits.preAllocSizeKbDefault,
  snapCount: limits.snapCountDefault,
  autopurgeSnapRetainCount: limits.autopurgeSnapRetainCountDefault,
  autopurgePurgeIntervalHours: limits.autopurgePurgeIntervalHoursDefault,
  fsyncWarningThresholdMs: limits.fsyncWarningThresholdMsDefault,
  tickTimeMs: limits.tickTimeMsDefault,
  globalOutstandingLimit: limits.globalOutstandingLimitDefault,
  juteMaxBufferBytes: limits.juteMaxBufferBytesDefault,
  initLimitTicks: limits.initLimitTicksDefault,
  syncLimitTicks: limits.syncLimitTicksDefault,
  leaderServes: true,
  cnxTimeoutMs: limits.cnxTimeoutMsDefault,
  electionAlg: limits.electionAlgFastLeaderElection as 3,
  peerType: "participant",
  standaloneEnabled: true,
  syncEnabled: true,
  quorumListenOnAllIPs: false,
  reconfigEnabled: false,
  fourLetterWordWhitelist: limits.fourLetterWordWhitelistDefault,
  extendedTypesEnabled: false,
  localSessionsEnabled: false,
  containerCheckIntervalMs: limits.containerCheckIntervalMsDefault,
  containerMaxPerMinute: limits.containerMaxPerMinuteDefault,
});

/** Apache: minSessionTimeout defaults to 2 × tickTime, maxSessionTimeout to 20 × tickTime. */
export function sessionTimeoutDefaultsMs(tickTimeMs: number): { min: number; max: number } {
  return {
    min: tickTimeMs * limits.minSessionTimeoutTicksDefault,
    max: tickTimeMs * limits.maxSessionTimeoutTicksDefault,
  };
}

/**
 * The config of a standalone server started with no zoo.cfg: port 2181 on
 * 127.0.0.1, data in ./data, tickTime 2000 ms. `overrides` replaces fields;
 * the session timeout bounds follow an overridden tickTimeMs unless they are
 * overridden too, and dataLogDir follows dataDir.
 */
export function defaultConfig(overrides: Partial<ZooConfig> = {}): ZooConfig {
  const tickTimeMs = overrides.tickTimeMs ?? limits.tickTimeMsDefault;
  const dataDir = overrides.dataDir ?? limits.dataDirDefault;
  const sessionTimeouts = sessionTimeoutDefaultsMs(tickTimeMs);
  return freezeConfig({
    ...independentDefaults,
    dataDir,
    dataLogDir: dataDir,
    minSessionTimeoutMs: sessionTimeouts.min,
    maxSessionTimeoutMs: sessionTimeouts.max,
    superDigest: undefined,
    servers: [],
    quorumGroups: [],
    serverWeights: [],
    myId: undefined,
    distributed: false,
    ...overrides,
  });
}

/** Freezes the config and every list in it, so no part of the server can change it. */
export function freezeConfig(config: ZooConfig): ZooConfig {
  return Object.freeze({
    ...config,
    servers: Object.freeze(config.servers.map((server) => Object.freeze({ ...server }))),
    quorumGroups: Object.freeze(
      config.quorumGroups.map((group) => Object.freeze({ ...group, serverIds: Object.freeze([...group.serverIds]) })),
    ),
    serverWeights: Object.freeze(config.serverWeights.map((weight) => Object.freeze({ ...weight }))),
    fourLetterWordWhitelist: Object.freeze([...config.fourLetterWordWhitelist]),
  });
}
