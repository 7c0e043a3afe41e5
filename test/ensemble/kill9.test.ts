/**
 * A real 3-server ensemble (processes on loopback) under kill -9 of its members, the leader among them, while
 * clients read, write and compare-and-set: the recorded history is linearizable (ZooKeeper's plain reads judged
 * as sequentially consistent, which is what ZooKeeper promises), each client's operations complete in order, and
 * every acknowledged create survives on every member. `npm run ensemble-crash` runs the same for longer.
 */
import { afterAll, expect, it } from "vitest";
import { startEnsemble, type Ensemble } from "../../src/cluster/ensemble.ts";
import { checkClientOrder, checkLinearizable } from "../../src/sim/linearizability.ts";
import { seedFromEnv } from "../../src/sim/random.ts";
import { runKill9Workload } from "../support/kill9-workload.ts";

let ensemble: Ensemble | null = null;
afterAll(async () => {
  await ensemble?.stop();
});

it("kill -9 of members and of the leader: linearizable history, client order kept, no acknowledged write lost", { timeout: 120_000 }, async () => {
  const seed = seedFromEnv();
  console.log(`kill -9 workload seed ${seed} (SEED=${seed} replays the nemesis's choices)`);
  ensemble = await startEnsemble({ impl: "zkbook", servers: 3 });
  const result = await runKill9Workload({
    ensemble,
    seed,
    durationMs: 9_000,
    clients: 4,
    keys: ["/k0", "/k1"],
    killEveryMs: 1_500,
    downMs: 800,
    log: (line) => console.log(line),
  });
  console.log(`${result.history.length} operations (${result.counts.ok} ok, ${result.counts.failed} failed, ${result.counts.unknown} unknown), ${result.acked.length} acknowledged creates, ${result.kills.length} kills`);
  expect(result.kills.length).toBeGreaterThanOrEqual(2);
  expect(result.counts.ok).toBeGreaterThan(50);
  expect(checkClientOrder(result.history)).toEqual([]);
  const verdict = checkLinearizable(result.history, { initial: result.initial, reads: "sequential" });
  if (!verdict.ok) console.log(verdict.explanation);
  expect(verdict.verdict).toBe("linearizable");
});
