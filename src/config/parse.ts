/**
 * parseZooCfg: zoo.cfg text in, a frozen ZooConfig out.
 *
 * The steps, in order:
 * 1. read the Java properties lines (properties.ts);
 * 2. give each known key's value to its zod schema (keys.ts, values.ts),
 *    set aside server./weight./group. lines, list the keys we don't use;
 * 3. parse the ensemble lines (ensemble.ts);
 * 4. fill in defaults and apply the rules that involve several keys.
 */
import { invalidValue, missingKey } from "./errors.ts";
import { parseEnsemble } from "./ensemble.ts";
import {
  acceptedButIgnoredKeys,
  acceptedButIgnoredPrefixes,
  dynamicConfigFileKey,
  ensemblePrefixes,
  keyRules,
  type FileSettings,
} from "./keys.ts";
import { freezeConfig, independentDefaults, sessionTimeoutDefaultsMs } from "./defaults.ts";
import {
  autopurgeSnapRetainCountMin,
  maxSessionTimeoutTicksDefault,
  minSessionTimeoutTicksDefault,
  sessionTimeoutUseDefault,
  snapCountMin,
} from "./limits.ts";
import { readJavaProperties, type PropertyEntry } from "./properties.ts";
import { applyMyId, checkQuorumShape } from "./quorum.ts";
import type { ParsedZooCfg, ParseOptions, ZooConfig } from "./types.ts";
import { parseValue, type ValueSchema } from "./values.ts";

const defaultSource = "zoo.cfg";

/** Which line set a field, and to what, so later rules can point at it. */
type SetBy = Map<keyof FileSettings, { readonly entry: PropertyEntry; readonly value: unknown }>;

interface ReadKeys {
  readonly settings: Partial<FileSettings>;
  readonly setBy: SetBy;
  readonly ensembleEntries: PropertyEntry[];
  readonly unusedKeys: string[];
}

/**
 * Parses the text of a zoo.cfg. Throws ConfigError on the first invalid
 * value. Unknown keys are not errors: they come back in `unusedKeys`.
 *
 * Pass `myId` (the content of `<dataDir>/myid`) to place this server in its
 * ensemble; loadZooCfg does this for you. Paths are kept as written.
 */
export function parseZooCfg(text: string, opts: ParseOptions = {}): ParsedZooCfg {
  const source = opts.source ?? defaultSource;
  const warnings: string[] = [];
  const read = readKeys(readJavaProperties(text), source, warnings);
  const config = buildConfig(read, source, opts.myId, warnings);
  return { config, unusedKeys: read.unusedKeys, warnings };
}

function readKeys(entries: readonly PropertyEntry[], source: string, warnings: string[]): ReadKeys {
  const settings: Partial<FileSettings> = {};
  const setBy: SetBy = new Map();
  const ensembleEntries: PropertyEntry[] = [];
  const unusedKeys: string[] = [];

  for (const entry of entries) {
    const { key } = entry;
    if (key === dynamicConfigFileKey) {
      throw invalidValue(source, key, entry.value, "zkbook reads server.N lines only from zoo.cfg itself; move them here and remove dynamicConfigFile", entry.line);
    }
    if (ensemblePrefixes.some((prefix) => key.startsWith(prefix))) {
      ensembleEntries.push(entry);
      continue;
    }
    const rule = keyRules.get(key);
    if (rule) {
      const value = parseValue(rule.schema as ValueSchema<unknown>, { source, key, value: entry.value, line: entry.line });
      noteRepeatedSetting(setBy.get(rule.field), entry, value, source, warnings);
      // One cast: the rule table guarantees value has the type of settings[rule.field].
      (settings as Record<string, unknown>)[rule.field] = value;
      setBy.set(rule.field, { entry, value });
      continue;
    }
    if (acceptedButIgnoredKeys.has(key) || acceptedButIgnoredPrefixes.some((prefix) => key.startsWith(prefix))) continue;
    if (!unusedKeys.includes(key)) unusedKeys.push(key);
  }
  return { settings, setBy, ensembleEntries, unusedKeys };
}

/**
 * java.util.Properties keeps the last of two equal keys, so Apache does too;
 * we warn. Two different spellings of one setting that disagree
 * (extendedTypesEnabled and zookeeper.extendedTypesEnabled) are an error.
 */
function noteRepeatedSetting(
  earlier: { entry: PropertyEntry; value: unknown } | undefined,
  entry: PropertyEntry,
  value: unknown,
  source: string,
  warnings: string[],
): void {
  if (!earlier) return;
  if (earlier.entry.key === entry.key) {
    warnings.push(`${source}: ${entry.key} is set on line ${earlier.entry.line} and again on line ${entry.line}; the last value wins, as in Apache`);
  } else if (JSON.stringify(earlier.value) !== JSON.stringify(value)) {
    throw invalidValue(
      source,
      entry.key,
      entry.value,
      `it contradicts ${earlier.entry.key}=${earlier.entry.value} on line ${earlier.entry.line}; both names set the same thing`,
      entry.line,
    );
  }
}

function buildConfig(read: ReadKeys, source: string, myIdFromFile: number | undefined, warnings: string[]): ZooConfig {
  const { settings, setBy } = read;
  const merged = { ...independentDefaults, ...settings };

  // QuorumPeerConfig: "dataDir is not set" is fatal; dataLogDir falls back to dataDir.
  const dataDir = settings.dataDir;
  if (dataDir === undefined) {
    throw missingKey(source, "dataDir", "every zoo.cfg must say where snapshots are kept, for example dataDir=/var/lib/zookeeper (Apache requires it too)");
  }
  const sessionTimeouts = resolveSessionTimeouts(merged.tickTimeMs, setBy, source);

  const ensemble = parseEnsemble(read.ensembleEntries, source);
  const { distributed } = checkQuorumShape(ensemble, merged.standaloneEnabled, setBy.get("standaloneEnabled")?.entry, source, warnings);

  let placement = {
    myId: undefined as number | undefined,
    peerType: merged.peerType,
    clientPort: merged.clientPort,
    clientPortAddress: merged.clientPortAddress,
  };
  if (myIdFromFile !== undefined) {
    placement = applyMyId(
      {
        ...placement,
        myId: myIdFromFile,
        ensemble,
        distributed,
        extendedTypesEnabled: merged.extendedTypesEnabled,
        clientPortEntry: setBy.get("clientPort")?.entry,
        clientPortAddressEntry: setBy.get("clientPortAddress")?.entry,
      },
      source,
      warnings,
    );
  }

  return freezeConfig({
    ...merged,
    ...placement,
    dataDir,
    dataLogDir: settings.dataLogDir ?? dataDir,
    snapCount: raiseToMinimum("snapCount", merged.snapCount, snapCountMin, source, warnings),
    autopurgeSnapRetainCount: raiseToMinimum(
      "autopurge.snapRetainCount",
      merged.autopurgeSnapRetainCount,
      autopurgeSnapRetainCountMin,
      source,
      warnings,
    ),
    minSessionTimeoutMs: sessionTimeouts.minMs,
    maxSessionTimeoutMs: sessionTimeouts.maxMs,
    superDigest: settings.superDigest,
    servers: ensemble.servers,
    quorumGroups: ensemble.quorumGroups,
    serverWeights: ensemble.serverWeights,
    distributed,
  });
}

/**
 * Apache does not refuse a too-small snapCount or autopurge.snapRetainCount:
 * it logs a warning and uses the minimum. We do the same.
 */
function raiseToMinimum(key: string, value: number, min: number, source: string, warnings: string[]): number {
  if (value >= min) return value;
  warnings.push(`${source}: ${key}=${value} is below the minimum ${min}; using ${min}, as Apache does`);
  return min;
}

/**
 * -1 (or no line) means 2 × tickTime for the minimum and 20 × tickTime for
 * the maximum. Apache then refuses min > max; we say which line is at fault:
 * the one that was written, or minSessionTimeout when both were.
 */
function resolveSessionTimeouts(tickTimeMs: number, setBy: SetBy, source: string): { minMs: number; maxMs: number } {
  const defaults = sessionTimeoutDefaultsMs(tickTimeMs);
  const written = (field: "minSessionTimeoutMs" | "maxSessionTimeoutMs") => {
    const set = setBy.get(field);
    return set && set.value !== sessionTimeoutUseDefault ? { entry: set.entry, ms: set.value as number } : undefined;
  };
  const min = written("minSessionTimeoutMs");
  const max = written("maxSessionTimeoutMs");
  const minMs = min?.ms ?? defaults.min;
  const maxMs = max?.ms ?? defaults.max;
  if (minMs <= maxMs) return { minMs, maxMs };

  if (min) {
    const maxText = max ? `${maxMs} ms` : `${maxMs} ms, ${maxSessionTimeoutTicksDefault} × tickTime`;
    throw invalidValue(source, "minSessionTimeout", min.entry.value, `it must not be larger than maxSessionTimeout (${maxText})`, min.entry.line);
  }
  throw invalidValue(source, "maxSessionTimeout", max!.entry.value, `it must not be smaller than minSessionTimeout (${minMs} ms, ${minSessionTimeoutTicksDefault} × tickTime)`, max!.entry.line);
}
