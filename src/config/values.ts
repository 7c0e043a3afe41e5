/**
 * zod schemas for single zoo.cfg values.
 *
 * Every schema takes the trimmed text from the file and either returns the
 * typed value or fails with a message that says what is allowed
 * ("expected a port number from 1 to 65535"). `parseValue` turns such a
 * failure into a ConfigError that also names the file, key and value.
 */
import { isIP, isIPv4 } from "node:net";
import { z } from "zod";
import { invalidValue } from "./errors.ts";
import { electionAlgFastLeaderElection, javaIntMax, portMax, portMin } from "./limits.ts";

/** A schema from the text in zoo.cfg to a typed value. */
export type ValueSchema<T> = z.ZodType<T, z.ZodTypeDef, string>;

/** Where a value came from, for error messages. */
export interface ValueOrigin {
  readonly source: string;
  readonly key: string;
  readonly value: string;
  readonly line?: number;
}

/** Runs a schema; on failure throws a ConfigError with the schema's own message. */
export function parseValue<T>(schema: ValueSchema<T>, origin: ValueOrigin): T {
  // lab 10.1: a zoo.cfg value: run the key's zod schema; the error names the key, the value and what is allowed
  //   Give the text to `schema.safeParse` (never `parse`: we want the issue, not zod's own error). On success return
  //   the typed data. On failure throw `invalidValue(source, key, value, problem, line)` (errors.ts), where
  //   `problem` is the first issue's message — the schema's own "expected a port number from 1 to 65535".
  const result = schema.safeParse(origin.value);
  if (result.success) return result.data;
  const problem = result.error.issues[0]?.message ?? "not accepted";
  throw invalidValue(origin.source, origin.key, origin.value, problem, origin.line);
  // end lab 10.1
}

/**
 * A decimal integer between min and max. Apache reads these with Java's
 * `Integer.parseInt`, which also refuses "1.5", "1e3", "0x10" and spaces.
 */
export function integerBetween(min: number, max: number, expected: string): ValueSchema<number> {
  return z
    .string()
    .regex(/^[+-]?\d+$/, expected)
    .transform(Number)
    .pipe(z.number().int().min(min, expected).max(max, expected));
}

/** A whole number of `unit` that is at least 1. */
export function positiveInteger(unit?: string): ValueSchema<number> {
  return integerBetween(1, javaIntMax, `expected a positive integer${unit ? ` (${unit})` : ""}`);
}

/** A whole number of `unit` that is at least 0. */
export function nonNegativeInteger(unit?: string, zeroMeans?: string): ValueSchema<number> {
  const zero = zeroMeans ? `; 0 means ${zeroMeans}` : "";
  return integerBetween(0, javaIntMax, `expected an integer 0 or more${unit ? ` (${unit})` : ""}${zero}`);
}

/** Any Java int. Used where Apache accepts any number and then corrects it. */
export const anyInteger: ValueSchema<number> = integerBetween(-javaIntMax - 1, javaIntMax, "expected an integer");

export const port: ValueSchema<number> = integerBetween(
  portMin,
  portMax,
  `expected a port number from ${portMin} to ${portMax}`,
);

/**
 * minSessionTimeout / maxSessionTimeout: milliseconds, or -1 for "use the
 * tickTime-based default", the value Apache itself uses for "not set".
 */
export function sessionTimeout(defaultTicks: number): ValueSchema<number> {
  const expected = `expected a positive integer (milliseconds), or -1 for the default (${defaultTicks} × tickTime)`;
  return integerBetween(-1, javaIntMax, expected).refine((ms) => ms !== 0, expected);
}

/** Apache's parseBoolean: "true" or "false", any case. */
export const javaBoolean: ValueSchema<boolean> = z
  .string()
  .regex(/^(true|false)$/i, "expected true or false")
  .transform((text) => text.toLowerCase() === "true");

/** leaderServes is read as "yes"/"no" by Apache; we also take true/false. */
export const yesOrNo: ValueSchema<boolean> = z
  .string()
  .regex(/^(yes|no|true|false)$/i, "expected yes or no (true or false also work)")
  .transform((text) => ["yes", "true"].includes(text.toLowerCase()));

export const peerRole: ValueSchema<"participant" | "observer"> = z
  .string()
  .transform((text) => text.toLowerCase())
  .pipe(z.enum(["participant", "observer"], { message: "expected participant or observer" }));

/** Apache 3.8 removed every election algorithm but fast leader election. */
export const electionAlg: ValueSchema<3> = z
  .string()
  .refine((text) => text === String(electionAlgFastLeaderElection), {
    message: `only electionAlg=${electionAlgFastLeaderElection} (fast leader election) is supported`,
  })
  .transform(() => electionAlgFastLeaderElection as 3);

/** A directory, as written. Relative paths are resolved by the loader. */
export const directoryPath: ValueSchema<string> = z
  .string()
  .min(1, "expected a directory path")
  .refine((text) => !text.includes("\0"), "expected a directory path");

/** One DNS name: letters, digits, '-' (and '_', which Docker names use). */
const hostNameLabel = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
const hostNamePattern = new RegExp(`^${hostNameLabel}(?:\\.${hostNameLabel})*\\.?$`);
const hostNameMaxLength = 253;

function isHostName(text: string): boolean {
  // "300.1.1.1" fits the DNS pattern but is a mistyped IPv4 address.
  if (/^[\d.]+$/.test(text)) return isIPv4(text);
  return text.length <= hostNameMaxLength && hostNamePattern.test(text);
}

/**
 * A host name or IP address. IPv6 may be written in brackets ("[::1]", as
 * Java's InetAddress allows); the brackets are removed.
 */
export const host: ValueSchema<string> = z
  .string()
  .transform((text) => (text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text))
  .refine((text) => isIP(text) !== 0 || isHostName(text), "expected a host name or IP address");

/**
 * 4lw.commands.whitelist: Apache splits on ",", trims, skips empty entries,
 * and treats "*" anywhere as "every command". We keep "*" as ["*"] and leave
 * the rest as written; the command table decides what each word does.
 * (Apache always allows "srvr" on top of the list; that is the command
 * table's business too.)
 */
export const fourLetterWords: ValueSchema<readonly string[]> = z
  .string()
  .transform((text) => text.split(",").map((word) => word.trim()).filter((word) => word !== ""))
  .pipe(
    z.array(
      z.string().regex(/^([a-z]{4}|\*)$/, "expected a comma-separated list of four-letter commands (like srvr,stat,ruok) or *"),
    ),
  )
  .transform((words) => (words.includes("*") ? ["*"] : [...new Set(words)]));

/**
 * DigestAuthenticationProvider.superDigest: "user:digest", where digest is
 * base64(sha1("user:password")), as printed by
 * `java org.apache.zookeeper.server.auth.DigestAuthenticationProvider user:password`
 * (the part after "->").
 */
export const superDigest: ValueSchema<string> = z
  .string()
  .regex(/^[^:\s]+:[A-Za-z0-9+/]+={0,2}$/, "expected user:base64digest (the output of DigestAuthenticationProvider.generateDigest)");
