/**
 * Which zoo.cfg keys zkbook understands, and what each one sets.
 *
 * Keys are case-sensitive, as in Apache. A key that is not listed here (and
 * does not start with an accepted prefix) is not an error: Apache passes such
 * keys on as Java system properties, so a real zoo.cfg is full of them. We
 * report them as "unused" instead.
 */
import type { ZooConfig } from "./types.ts";
import {
  anyInteger,
  directoryPath,
  electionAlg,
  fourLetterWords,
  host,
  javaBoolean,
  nonNegativeInteger,
  peerRole,
  port,
  positiveInteger,
  sessionTimeout,
  superDigest,
  yesOrNo,
  type ValueSchema,
} from "./values.ts";
import { maxSessionTimeoutTicksDefault, minSessionTimeoutTicksDefault } from "./limits.ts";

/**
 * The ZooConfig fields a single key can set on its own. Fields that depend
 * on several keys (servers, myId, distributed...) are built afterwards.
 * superDigest is a plain string here: "not set" is expressed by its absence.
 */
export type FileSettings = Omit<
  ZooConfig,
  "servers" | "quorumGroups" | "serverWeights" | "myId" | "distributed" | "superDigest"
> & { superDigest: string };

/** A key and the schema that turns its text into a FileSettings field. */
export type KeyRule = {
  [F in keyof FileSettings]: { readonly field: F; readonly schema: ValueSchema<FileSettings[F]> };
}[keyof FileSettings];

function rule<F extends keyof FileSettings>(field: F, schema: ValueSchema<FileSettings[F]>): KeyRule {
  return { field, schema } as KeyRule;
}

export const keyRules: ReadonlyMap<string, KeyRule> = new Map<string, KeyRule>([
  ["clientPort", rule("clientPort", port)],
  ["clientPortAddress", rule("clientPortAddress", host)],
  ["maxClientCnxns", rule("maxClientCnxns", nonNegativeInteger("connections per client IP", "no limit"))],

  ["dataDir", rule("dataDir", directoryPath)],
  ["dataLogDir", rule("dataLogDir", directoryPath)],
  ["preAllocSize", rule("preAllocSizeKb", positiveInteger("kilobytes"))],
  // snapCount and snapRetainCount take any integer: like Apache we raise
  // values below the minimum, with a warning, instead of refusing them.
  ["snapCount", rule("snapCount", anyInteger)],
  ["autopurge.snapRetainCount", rule("autopurgeSnapRetainCount", anyInteger)],
  ["autopurge.purgeInterval", rule("autopurgePurgeIntervalHours", nonNegativeInteger("hours", "autopurge is off"))],
  ["fsync.warningthresholdms", rule("fsyncWarningThresholdMs", nonNegativeInteger("milliseconds"))],

  ["tickTime", rule("tickTimeMs", positiveInteger("milliseconds"))],
  ["minSessionTimeout", rule("minSessionTimeoutMs", sessionTimeout(minSessionTimeoutTicksDefault))],
  ["maxSessionTimeout", rule("maxSessionTimeoutMs", sessionTimeout(maxSessionTimeoutTicksDefault))],

  ["globalOutstandingLimit", rule("globalOutstandingLimit", positiveInteger("requests"))],
  ["jute.maxbuffer", rule("juteMaxBufferBytes", positiveInteger("bytes"))],

  ["initLimit", rule("initLimitTicks", positiveInteger("ticks"))],
  ["syncLimit", rule("syncLimitTicks", positiveInteger("ticks"))],
  ["leaderServes", rule("leaderServes", yesOrNo)],
  ["cnxTimeout", rule("cnxTimeoutMs", positiveInteger("milliseconds"))],
  ["electionAlg", rule("electionAlg", electionAlg)],
  ["peerType", rule("peerType", peerRole)],
  ["standaloneEnabled", rule("standaloneEnabled", javaBoolean)],
  ["syncEnabled", rule("syncEnabled", javaBoolean)],
  ["quorumListenOnAllIPs", rule("quorumListenOnAllIPs", javaBoolean)],
  ["reconfigEnabled", rule("reconfigEnabled", javaBoolean)],

  ["4lw.commands.whitelist", rule("fourLetterWordWhitelist", fourLetterWords)],
  ["DigestAuthenticationProvider.superDigest", rule("superDigest", superDigest)],
  // Apache reads the system property zookeeper.extendedTypesEnabled; in
  // zoo.cfg that is written without the prefix. We take both spellings.
  ["extendedTypesEnabled", rule("extendedTypesEnabled", javaBoolean)],
  ["zookeeper.extendedTypesEnabled", rule("extendedTypesEnabled", javaBoolean)],
  ["localSessionsEnabled", rule("localSessionsEnabled", javaBoolean)],
  ["znode.container.checkIntervalMs", rule("containerCheckIntervalMs", positiveInteger("milliseconds"))],
  ["znode.container.maxPerMinute", rule("containerMaxPerMinute", positiveInteger("containers per minute"))],
]);

/** Keys we accept without complaint but do not act on (not reported as unused). */
export const acceptedButIgnoredKeys: ReadonlySet<string> = new Set(["admin.enableServer"]);
export const acceptedButIgnoredPrefixes: readonly string[] = ["metricsProvider."];

/** Keys that describe the ensemble; parsed together by ensemble.ts. */
export const ensemblePrefixes = ["server.", "weight.", "group."] as const;

/**
 * Apache reads server.N lines from this other file when it is set. Ignoring
 * it would silently turn a quorum member into a standalone server, so we
 * refuse it instead.
 */
export const dynamicConfigFileKey = "dynamicConfigFile";
