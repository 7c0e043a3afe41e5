/**
 * The one error the config loader throws.
 *
 * Apache's messages are often terse ("Invalid electionAlg value. Only 3 is
 * supported."). Ours always say which file, which key, which value and what
 * would have been accepted, so a learner can fix zoo.cfg without reading code.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    message: string,
    /** The zoo.cfg key at fault ("tickTime", "server.2", "myid"...), if any. */
    readonly key: string | undefined,
    /** The value as written in the file, if there was one. */
    readonly value: string | undefined,
    /** 1-based line in the file, when we know it. */
    readonly line?: number,
  ) {
    super(message);
  }
}

/** `zoo.cfg: tickTime="abc" is not valid: expected a positive integer (milliseconds)` */
export function invalidValue(
  source: string,
  key: string,
  value: string,
  problem: string,
  line?: number,
): ConfigError {
  return new ConfigError(`${source}: ${key}="${value}" is not valid: ${problem}`, key, value, line);
}

/** `zoo.cfg: dataDir is not set: ...` */
export function missingKey(source: string, key: string, why: string): ConfigError {
  return new ConfigError(`${source}: ${key} is not set: ${why}`, key, undefined);
}
