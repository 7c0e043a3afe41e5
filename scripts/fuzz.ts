/**
 * `npm run fuzz [-- --seed N] [--packets N] [--minutes M] [--concurrency C]`: fuzz sessions against a fresh
 * in-process server, one seed after another (the first is --seed or SEED, or random; then seed+1, ...), until
 * --minutes have passed (default: one session). Each session sends at least --packets mutated packets (default
 * 1,000,000) and then checks the server (see test/fuzz/session.ts). Prints every seed; exits 1 on the first
 * session with a problem, after printing how to replay it.
 */
import { seedFrom } from "../test/fuzz/prng.ts";
import { runFuzzSession } from "../test/fuzz/session.ts";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  let seed = seedFrom(flag("seed") ?? process.env.SEED);
  const mutatedPackets = Number(flag("packets") ?? process.env.FUZZ_PACKETS ?? 1_000_000);
  const minutes = Number(flag("minutes") ?? 0);
  const concurrency = Number(flag("concurrency") ?? 24);
  const deadline = Date.now() + minutes * 60_000;
  let sessions = 0;
  do {
    console.log(`fuzz session ${++sessions}: SEED=${seed}, ${mutatedPackets} mutated packets`);
    const { problems } = await runFuzzSession({ seed, mutatedPackets, concurrency, log: (line) => console.log(line) });
    if (problems.length > 0) {
      console.log(`FAILED (seed ${seed}):\n  ${problems.join("\n  ")}`);
      console.log(`replay: npm run fuzz -- --seed ${seed} --packets ${mutatedPackets}`);
      process.exit(1);
    }
    console.log(`ok`);
    seed = (seed + 1) >>> 0;
  } while (Date.now() < deadline);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
