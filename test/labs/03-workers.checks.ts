// Lab 3 (book chapter 3; notes §3 注册从节点, updateStatus): idempotent bootstrap and registration, status updates
// that survive CONNECTIONLOSS.
import assert from "node:assert/strict";
import { ConnectionLossError, NoNodeError, NodeExistsError, type ZooKeeperClient } from "#src/client/index.ts";
import { StatusReporter as ReferenceStatusReporter } from "#src/apps/master-worker/worker.ts";
import type { Random } from "#src/sim/random.ts";
import { defineChecks } from "#src/workbook/checks.ts";
import { clientFor, serverFor, sleep, withConnectionLoss } from "./support.ts";

type Bootstrap = typeof import("#src/apps/master-worker/bootstrap.ts");
type WorkerModule = typeof import("#src/apps/master-worker/worker.ts");

/** One generated run of status updates: for each, when it starts and how its setData calls are lost. */
interface StatusStep {
  readonly status: string;
  readonly startAfterMs: number;
  /** For each setData call of this status, in order: lost before the server sees it after `delayMs`, or sent. */
  readonly losses: readonly number[];
}

function statusSchedule(random: Random): StatusStep[] {
  return Array.from({ length: random.int(3, 6) }, (_v, i) => ({
    status: `s${i}`,
    startAfterMs: random.int(0, 25),
    losses: Array.from({ length: random.int(0, 2) }, () => random.int(0, 60)),
  }));
}

/**
 * Plays `schedule` through a StatusReporter on `client`; returns the statuses the server applied, in order. A
 * status's setData calls fail as its `losses` say (ConnectionLossError after the delay, before the server sees it).
 */
async function playStatuses(Reporter: typeof ReferenceStatusReporter, client: ZooKeeperClient, schedule: readonly StatusStep[]): Promise<string[]> {
  const applied: string[] = [];
  const calls = new Map<string, number>();
  const lossy = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== "setData") return typeof value === "function" ? value.bind(target) : value;
      return async (path: string, data: Buffer | string, ...rest: unknown[]) => {
        const status = data.toString();
        const call = calls.get(status) ?? 0;
        calls.set(status, call + 1);
        const delay = schedule.find((s) => s.status === status)?.losses[call];
        if (delay !== undefined) {
          await sleep(delay);
          throw new ConnectionLossError(path);
        }
        const stat = await (target.setData as (...a: unknown[]) => Promise<unknown>)(path, data, ...rest);
        applied.push(status);
        return stat;
      };
    },
  }) as ZooKeeperClient;
  const reporter = new Reporter(lossy, "w1", "Idle");
  const pending: Promise<void>[] = [];
  for (const step of schedule) {
    await sleep(step.startAfterMs);
    pending.push(reporter.setStatus(step.status));
  }
  await Promise.all(pending);
  return applied;
}

export default defineChecks(3, {
  "3.1": async (lab) => {
    const { bootstrap, createParent } = await lab.load<Bootstrap>("bootstrap.ts");
    const server = await serverFor(lab);
    const client = await clientFor(lab, server.connectString);
    await bootstrap(client);
    assert.deepEqual((await client.getChildren("/")).sort(), ["assign", "status", "tasks", "workers", "zookeeper"], "bootstrap creates the four parents");
    await bootstrap(client);
    await client.setData("/tasks", "keep me");
    await createParent(client, "/tasks");
    assert.equal((await client.getData("/tasks")).data?.toString(), "keep me", "an existing parent is left alone");
    const lostReply = withConnectionLoss(client, [{ method: "create", at: "afterApply" }]);
    await createParent(lostReply, "/lost-reply");
    assert.equal(lostReply.injected, 1, "the injected loss happened");
    assert.notEqual(await client.exists("/lost-reply"), null, "created, even though the first reply was lost");
    const lostRequest = withConnectionLoss(client, [{ method: "create", at: "beforeApply", times: 2 }]);
    await createParent(lostRequest, "/lost-request");
    assert.notEqual(await client.exists("/lost-request"), null, "created after two lost requests");
    await assert.rejects(createParent(client, "/missing/child"), NoNodeError, "other errors are not swallowed");
  },

  "3.2": async (lab) => {
    const { registerWorker } = await lab.load<WorkerModule>("worker.ts");
    const server = await serverFor(lab);
    const me = await clientFor(lab, server.connectString);
    const other = await clientFor(lab, server.connectString);
    await me.create("/workers", "");
    await registerWorker(me, "w1", "Idle");
    const w1 = await me.getData("/workers/w1");
    assert.equal(w1.data?.toString(), "Idle", "the worker's znode holds its status");
    assert.equal(w1.stat.ephemeralOwner, me.session!.sessionId, "the worker's znode is ephemeral, owned by its session");

    const lostReply = withConnectionLoss(me, [{ method: "create", at: "afterApply" }]);
    await registerWorker(lostReply, "w2", "Idle");
    assert.equal(lostReply.injected, 1, "the injected loss happened");
    assert.equal((await me.exists("/workers/w2"))?.ephemeralOwner, me.session!.sessionId, "a lost reply: our own node counts as registered");

    await other.create("/workers/w3", "Idle", { mode: "ephemeral" });
    await assert.rejects(registerWorker(me, "w3", "Idle"), NodeExistsError, "a name held by another session is not ours");
    const lostTaken = withConnectionLoss(me, [{ method: "create", at: "beforeApply" }]);
    await assert.rejects(registerWorker(lostTaken, "w3", "Idle"), NodeExistsError, "after a loss, someone else's node is still not ours");
  },

  "3.3": async (lab) => {
    const { StatusReporter } = await lab.load<WorkerModule>("worker.ts");
    const server = await serverFor(lab);
    const client = await clientFor(lab, server.connectString);
    await client.create("/workers", "");
    await client.create("/workers/w1", "Idle", { mode: "ephemeral" });

    const twiceLost = withConnectionLoss(client, [{ method: "setData", at: "beforeApply", times: 2 }]);
    await new StatusReporter(twiceLost, "w1", "Idle").setStatus("Working");
    assert.equal((await client.getData("/workers/w1")).data?.toString(), "Working", "a lost status update is retried");

    // "A" is lost slowly; "B" is written meanwhile. Retrying "A" now would overwrite the newer status.
    const slowLoss = withConnectionLoss(client, [{ method: "setData", at: "beforeApply", delayMs: 150 }]);
    const reporter = new StatusReporter(slowLoss, "w1", "Idle");
    const first = reporter.setStatus("A");
    await sleep(20);
    await reporter.setStatus("B");
    await first;
    await sleep(50);
    assert.equal((await client.getData("/workers/w1")).data?.toString(), "B", "an update older than the latest status is dropped, not retried");
    assert.equal(reporter.current, "B");

    // Generated runs: updates that overlap, each lost a random number of times after random delays. The learner's
    // reporter and the reference play the same schedule; whatever the timing, the server must end with the latest
    // status, and once the latest is written no older one may follow it.
    for (let run = 0; run < 4; run++) {
      const schedule = statusSchedule(lab.random);
      const latest = schedule[schedule.length - 1]!.status;
      const what = `statuses ${JSON.stringify(schedule)} (seed ${lab.random.seed})`;
      const results: Array<{ final: string | undefined; afterLatest: string[] }> = [];
      for (const Reporter of [ReferenceStatusReporter, StatusReporter as typeof ReferenceStatusReporter]) {
        await client.setData("/workers/w1", "Idle");
        const applied = await playStatuses(Reporter, client, schedule);
        const final = (await client.getData("/workers/w1")).data?.toString();
        results.push({ final, afterLatest: applied.slice(applied.lastIndexOf(latest) + 1) });
      }
      assert.deepEqual(results[1], results[0], `the same updates through yours and the reference: the latest status stays, nothing older is written after it; ${what}`);
      assert.deepEqual(results[0], { final: latest, afterLatest: [] }, `the reference keeps the latest status; ${what}`);
    }
  },
});
