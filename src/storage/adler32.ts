/**
 * Adler-32 (RFC 1950), the checksum Apache puts on every txn log entry and at the end of every snapshot
 * (java.util.zip.Adler32). Values are unsigned 32-bit numbers. All pure functions except the last one, which
 * asks zlib to compute the checksum in libuv's thread pool.
 */
import zlib from "node:zlib";

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

/** Room for zlib's header, block headers and trailer around a stored (uncompressed) copy of the input. */
const deflateOverheadBytes = 64 * 1024;

/**
 * Adler-32 of `bytes`, computed off the event loop. Node has no adler32 function, but the zlib format (RFC 1950)
 * ends with the Adler-32 of the uncompressed data: a deflate at level 0 (stored, no compression: little more than
 * a copy), run in libuv's thread pool as every async zlib call is, yields it. A fuzzy snapshot checksums tens of
 * megabytes this way while the event loop keeps serving clients.
 */
export function adler32InThreadPool(bytes: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    // One output chunk for the whole input: no callback per 16 KB on the event loop.
    zlib.deflate(bytes, { level: 0, chunkSize: bytes.length + deflateOverheadBytes }, (error, out) => {
      if (error !== null) reject(error);
      else resolve(out.readUInt32BE(out.length - 4));
    });
  });
}
