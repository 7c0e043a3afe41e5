/**
 * A real 3-server ensemble (processes on loopback) under kill -9 of its members, the leader among them, while
 * clients read, write and compare-and-set: the recorded history is linearizable (ZooKeeper's plain reads judged
 * as sequentially consistent, which is what ZooKeeper promises), each client's operations complete in order, and
 * every acknowledged create survives on every member. `npm run ensemble-crash` runs the same for longer.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createClient } from "../../src/client/index.ts";
import { fourLetterWord } from "../interop/harness/fourLetter.ts";
import { startEnsemble, type Ensemble } from "../../src/cluster/ensemble.ts";
import { checkClientOrder, checkLinearizable } from "../../src/sim/linearizability.ts";
import { seedFromEnv } from "../../src/sim/random.ts";
import { runKill9Workload } from "../support/kill9-workload.ts";

let ensemble: Ensemble | null = null;
beforeAll(async () => {
  ensemble = await startEnsemble({ impl: "zkbook", servers: 3 });
}, 60_000);
afterAll(async () => {
  await ensemble?.stop();
});

it("client failover: kill -9 of the server a client is on; it resumes its session elsewhere, ephemeral and watch intact", { timeout: 60_000 }, async () => {
  const e = ensemble!;
  const client = createClient(e.connectString, { sessionTimeoutMs: 6_000 });
  const other = createClient(e.connectString, { sessionTimeoutMs: 6_000 });
  try {
    await client.connect();
    await other.connect();
    const sessionId = client.session!.sessionId;
    await client.create("/failover-ephemeral", null, { mode: "ephemeral" });
    await client.create("/failover-watched", Buffer.from("1"));
    const fired = new Promise<string>((resolve) => void client.getData("/failover-watched", { watch: (event) => resolve(event.type) }));
    let victim = -1;
    for (const member of e.members) {
      const cons = await fourLetterWord("127.0.0.1", member.clientPort, "cons").catch(() => "");
      if (cons.includes(`sid=0x${sessionId.toString(16)}`)) victim = member.id;
    }
    expect(victim).toBeGreaterThan(0);
    await e.kill(victim);
    await e.leader();
    // Written through a server that is still up, once the ensemble serves again (a ConnectionLoss is retried).
    for (let attempt = 0; ; attempt++) {
      try {
        await other.setData("/failover-watched", Buffer.from("2"));
        break;
      } catch (error) {
        if (attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(await fired).toBe("nodeDataChanged");
    expect(client.session!.sessionId).toBe(sessionId);
    expect(await client.exists("/failover-ephemeral")).not.toBeNull();
    await e.restart(victim);
  } finally {
    await client.close().catch(() => {});
    await other.close().catch(() => {});
  }
});

it("kill -9 of members and of the leader: linearizable history, client order kept, no acknowledged write lost", { timeout: 120_000 }, async () => {
  const seed = seedFromEnv();
  console.log(`kill -9 workload seed ${seed} (SEED=${seed} replays the nemesis's choices)`);
  const result = await runKill9Workload({
    ensemble: ensemble!,
    seed,
    durationMs: 6_000,
    kills: 3,
    clients: 4,
    keys: ["/k0", "/k1"],
    killEveryMs: 1_000,
    downMs: 500,
    log: (line) => console.log(line),
  });
  console.log(`${result.history.length} operations (${result.counts.ok} ok, ${result.counts.failed} failed, ${result.counts.unknown} unknown), ${result.acked.length} acknowledged creates, ${result.kills.length} kills`);
  expect(result.kills).toHaveLength(3);
  expect(result.counts.ok).toBeGreaterThan(50);
  expect(checkClientOrder(result.history)).toEqual([]);
  const verdict = checkLinearizable(result.history, { initial: result.initial, reads: "sequential" });
  if (!verdict.ok) console.log(verdict.explanation);
  expect(verdict.verdict).toBe("linearizable");
});
