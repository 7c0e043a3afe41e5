/**
 * Fuzzing a live server with at least 100,000 mutated packets (bit flips, overwritten ints, junk, truncation, length
 * lies, random opcodes, splices, random bytes) over a few thousand connections, then checking that it never
 * crashed, never hit an internal error, never sat on a connection, kept its tree sound, expired the fuzzers'
 * sessions with their ephemerals, and still serves a normal client correctly. Bad input closes only the offending
 * connection (reference §1).
 *
 * The seed is printed; `SEED=n npx vitest run test/fuzz` replays the same packets (`FUZZ_PACKETS=n` changes the
 * count). Longer runs over many seeds: `npm run fuzz`.
 */
import { describe, expect, it } from "vitest";
import { seedFrom } from "./prng.ts";
import { runFuzzSession } from "./session.ts";

const seed = seedFrom(process.env.SEED);
const mutatedPackets = Number(process.env.FUZZ_PACKETS ?? 100_000);

describe(`fuzz (SEED=${seed})`, () => {
  it(`survives ${mutatedPackets} mutated packets and still serves a normal client`, async () => {
    console.log(`fuzz: SEED=${seed} (replay: SEED=${seed} npx vitest run test/fuzz)`);
    const { stats, framesDecoded, problems } = await runFuzzSession({ seed, mutatedPackets, log: (line) => console.log(line) });
    expect(problems).toEqual([]);
    expect(stats.mutatedPackets).toBeGreaterThanOrEqual(mutatedPackets);
    // Both paths were exercised: bad input closed connections, and connections survived their mutations.
    expect(stats.closedByServer).toBeGreaterThan(0);
    expect(stats.survived).toBeGreaterThan(0);
    expect(framesDecoded).toBeGreaterThan(stats.connections);
  }, 60_000);
});
