/**
 * `npm run ensemble-crash [-- --seconds S] [--seed S] [--clients N] [--servers N]`: the long version of
 * test/ensemble/kill9.test.ts. A real ensemble of this project's servers (processes on 127.0.0.1) is killed with
 * SIGKILL, leader included, and restarted while clients read, write and compare-and-set; then the history is
 * checked for linearizability, each client's order, and every acknowledged create on every member. Prints the seed
 * first; the same seed replays the nemesis's choices (real processes do not replay their interleaving).
 */
import { startEnsemble } from "../src/cluster/ensemble.ts";
import { checkClientOrder, checkLinearizable } from "../src/sim/linearizability.ts";
import { runKill9Workload } from "../test/support/kill9-workload.ts";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number, got ${JSON.stringify(process.argv[at + 1])}`);
  return value;
}

async function main(): Promise<number> {
  const seed = option("seed", Math.floor(Math.random() * 2 ** 31));
  const seconds = option("seconds", 120);
  const clients = option("clients", 6);
  const servers = option("servers", 3);
  console.log(`seed ${seed} (replay: npm run ensemble-crash -- --seed ${seed} --seconds ${seconds} --clients ${clients} --servers ${servers})`);
  const ensemble = await startEnsemble({ impl: "zkbook", servers });
  try {
    const result = await runKill9Workload({
      ensemble,
      seed,
      durationMs: seconds * 1000,
      // About one kill (and restart) every five seconds, which is what a restart takes with tsx's start-up.
      kills: Math.max(1, Math.floor(seconds / 5)),
      clients,
      keys: ["/k0", "/k1", "/k2"],
      killEveryMs: 2_000,
      downMs: 1_000,
      log: (line) => console.log(line),
    });
    const order = checkClientOrder(result.history);
    const verdict = checkLinearizable(result.history, { initial: result.initial, reads: "sequential", statesExploredMax: 2_000_000 });
    console.log(
      `${result.history.length} operations (${result.counts.ok} ok, ${result.counts.failed} failed, ${result.counts.unknown} unknown), ` +
        `${result.acked.length} acknowledged creates all present on every member, ${result.kills.length} kills`,
    );
    if (order.length > 0) console.error(`FAILED: client order broken: ${JSON.stringify(order.slice(0, 3))}`);
    if (!verdict.ok) console.error(`FAILED (${verdict.verdict}): ${verdict.explanation}`);
    else console.log(`linearizable (${verdict.statesExplored} search states)`);
    return order.length === 0 && verdict.ok ? 0 : 1;
  } catch (error) {
    console.error(error);
    console.error(`seed ${seed}`);
    return 1;
  } finally {
    await ensemble.stop();
  }
}

main().then((code) => process.exit(code));
