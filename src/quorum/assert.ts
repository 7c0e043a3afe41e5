/**
 * Programmer errors crash with a message (TigerBeetle's TIGER_STYLE, DESIGN.md): a zxid going backwards, a commit
 * out of order, a truncation below what was already delivered. They mean the protocol's invariants are broken, and
 * the simulator turns them into a failing seed.
 */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === "string" ? message : message());
}

/** The `default` of an exhaustive switch: a new union member that is not handled fails to compile. */
export function assertNever(value: never, what = "value"): never {
  throw new InvariantError(`unexpected ${what}: ${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
}

/** zxids are printed the way Apache logs them: 0x plus lower-case hex. */
export function hexZxid(zxid: bigint): string {
  return zxid < 0n ? `-0x${(-zxid).toString(16)}` : `0x${zxid.toString(16)}`;
}
