/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same sequence on every machine, so a
 * randomized test or simulation that fails can be replayed exactly from the seed it printed.
 */
export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

/** A fresh seed from the environment (`SEED=n` replays) or from the clock. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.SEED;
  if (given !== undefined && given !== "") {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0) throw new Error(`SEED must be a non-negative integer, got ${JSON.stringify(given)}`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
