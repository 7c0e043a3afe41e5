/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that every randomized run can be replayed from its seed
 * (DESIGN.md "Seeded simulation").
 */
const cumulativeTables = new WeakMap<object, { keys: string[]; bounds: number[]; total: number }>();

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    let table = cumulativeTables.get(weights);
    if (table === undefined) {
      const keys = Object.keys(weights);
      let total = 0;
      const bounds = keys.map((k) => (total += (weights as Record<string, number>)[k]!));
      cumulativeTables.set(weights, (table = { keys, bounds, total }));
    }
    const x = (this.u32() / 0x1_0000_0000) * table.total;
    for (let i = 0; i < table.bounds.length; i++) if (x < table.bounds[i]!) return table.keys[i] as K;
    return table.keys[table.keys.length - 1] as K;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** An independent generator derived from this one and a label (e.g. a connection index). */
  fork(label: number): Prng {
    return new Prng((this.u32() ^ Math.imul(label + 1, 0x27d4eb2d)) >>> 0);
  }
}

/** The seed to use: `SEED=n` replays a run, otherwise a fresh one. */
export function seedFrom(value: string | undefined): number {
  if (value !== undefined && value.trim() !== "") {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`SEED must be an integer in 0..2^32-1, got ${value}`);
    return n;
  }
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}
