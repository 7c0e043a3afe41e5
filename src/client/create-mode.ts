/**
 * Checking a create's mode and TTL before anything is sent, as Apache's client does (`EphemeralType.validateTTL`,
 * called by `ZooKeeper.create`): a TTL belongs to the two TTL modes and to nothing else, and must be in
 * 1..ttlMsMax. Without this check a TTL mode with no ttlMs went out as ttl 0 and came back as a bare
 * BadArguments, and a ttlMs given with another mode was silently dropped.
 */
import { createMode, createModes, type CreateModeName } from "../proto/index.ts";
import { ClientUsageError } from "./errors.ts";

/** Apache `EphemeralType.TTL.maxValue()`: a TTL is stored in the low 40 bits of ephemeralOwner (about 34 years). */
export const ttlMsMax = 0xff_ffff_ffff;

const ttlModes: ReadonlySet<CreateModeName> = new Set(["persistentWithTtl", "persistentSequentialWithTtl"]);

/** True for the modes that need a TTL. */
export function isTtlMode(mode: CreateModeName): boolean {
  return ttlModes.has(mode);
}

/** True for the modes whose node name gets the 10-digit counter appended. */
export function isSequentialMode(mode: CreateModeName): boolean {
  return createMode(createModes[mode])?.sequential ?? false;
}

/**
 * Throws ClientUsageError, naming the path, the mode and the value, when `mode` is not a create mode or `ttlMs`
 * does not fit it.
 */
export function validateCreateMode(path: string, mode: CreateModeName, ttlMs: number | undefined): void {
  if (!Object.hasOwn(createModes, mode)) {
    throw new ClientUsageError(`create ${path}: unknown mode ${JSON.stringify(mode)} (one of ${Object.keys(createModes).join(", ")})`);
  }
  if (isTtlMode(mode)) {
    if (ttlMs === undefined || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > ttlMsMax) {
      throw new ClientUsageError(`create ${path}: mode ${mode} needs ttlMs, an integer in 1..${ttlMsMax}; got ${String(ttlMs)}`);
    }
  } else if (ttlMs !== undefined) {
    throw new ClientUsageError(`create ${path}: ttlMs is only for the modes persistentWithTtl and persistentSequentialWithTtl, not ${mode}`);
  }
}
