/**
 * Adler-32 (RFC 1950), the checksum Apache puts on every txn log entry and at the end of every snapshot
 * (java.util.zip.Adler32). Pure functions; values are unsigned 32-bit numbers.
 */

const modulus = 65521;
/**
 * Bytes summed before reducing. zlib uses 5552 (b < 2^32); 3800 keeps b < 2^31, so V8 stays in small integers.
 */
const blockBytes = 3800;

/** Adler-32 of `bytes[start, end)`, continuing from `seed` (1 for a fresh checksum). */
export function adler32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 1): number {
  let a = seed & 0xffff;
  let b = (seed >>> 16) & 0xffff;
  let i = start;
  while (i < end) {
    const stop = Math.min(end, i + blockBytes);
    for (; i < stop; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= modulus;
    b %= modulus;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * The checksum of A followed by B, from the checksums of A and B and B's length (zlib's adler32_combine). A
 * fuzzy snapshot checksums its pieces as it produces them and combines them once it knows their final order.
 */
export function adler32Combine(adlerA: number, adlerB: number, lengthB: number): number {
  const rem = lengthB % modulus;
  let sum1 = adlerA & 0xffff;
  let sum2 = (rem * sum1) % modulus;
  sum1 += (adlerB & 0xffff) + modulus - 1;
  sum2 += ((adlerA >>> 16) & 0xffff) + ((adlerB >>> 16) & 0xffff) + modulus - rem;
  if (sum1 >= modulus) sum1 -= modulus;
  if (sum1 >= modulus) sum1 -= modulus;
  if (sum2 >= modulus * 2) sum2 -= modulus * 2;
  if (sum2 >= modulus) sum2 -= modulus;
  return ((sum2 << 16) | sum1) >>> 0;
}
