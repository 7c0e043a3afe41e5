// The book's master–worker application end to end (book chapters 1–4; notes §1.2, §2 主从模式例子的实现, §6: a
// recovered master must not assume it is still master). A master and a worker crash mid-run (their network is cut
// for good, so their sessions expire); the backup takes over, the dead worker's tasks are reassigned, and every task
// is completed exactly once.
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type ZooKeeperClient } from "../../src/client/index.ts";
import { Master, Worker, submitTask, waitForStatus } from "../../src/apps/master-worker/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import { FaultyProxy } from "../support/proxy.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const task of cleanups.splice(0).reverse()) await Promise.resolve(task()).catch(() => {});
});

async function client(connectString: string, sessionTimeoutMs = 1_500): Promise<ZooKeeperClient> {
  const c = createClient(connectString, { sessionTimeoutMs, reconnectDelayMsMax: 50 });
  cleanups.push(() => c.close());
  await c.connect({ timeoutMs: 5_000 });
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("master–worker", () => {
  it("survives a master crash and a worker crash, completing every task exactly once", async () => {
    const server = await startTestServer({ tickTimeMs: 200 });
    cleanups.push(() => server.close());
    const masterLink = await FaultyProxy.start(server.port);
    const workerLink = await FaultyProxy.start(server.port);
    cleanups.push(() => masterLink.close(), () => workerLink.close());

    const log: string[] = [];
    const report = (line: string) => log.push(line);
    const primary = new Master(await client(`127.0.0.1:${masterLink.port}`), { id: "master-1", report });
    await primary.run();
    expect(primary.currentState).toBe("elected");
    const backup = new Master(await client(server.connectString), { id: "master-2", report });
    const backupRun = backup.run();

    // Slow tasks, so that some are in flight on w3 when it dies.
    const execute = async (task: string) => {
      await sleep(150);
      return `done ${task}`;
    };
    const workers = [
      new Worker(await client(server.connectString), { name: "w1", execute, report }),
      new Worker(await client(server.connectString), { name: "w2", execute, report }),
      new Worker(await client(`127.0.0.1:${workerLink.port}`), { name: "w3", execute, report }),
    ];
    for (const w of workers) await w.start();

    const submitter = await client(server.connectString);
    const tasks: string[] = [];
    for (let i = 0; i < 6; i++) tasks.push(await submitTask(submitter, `job ${i}`));
    await sleep(100);

    // Crash: cut the network of master-1 and w3 for good. Their sessions expire; their ephemerals go.
    for (const link of [masterLink, workerLink]) {
      link.refuse(true);
      link.cut();
    }
    for (let i = 6; i < 12; i++) tasks.push(await submitTask(submitter, `job ${i}`));

    if (process.env.DEBUG_MW) setInterval(() => console.log(log.splice(0).join("\n")), 1000).unref();
    await backupRun;
    expect(backup.currentState).toBe("elected");
    const results = await Promise.all(tasks.map((t) => Promise.race([waitForStatus(submitter, t), sleep(20_000).then(() => `timeout ${t}`)])));
    expect(results).toEqual(tasks.map((t) => `done ${t}`));

    // Exactly once: one /status node per task, and the workers together recorded each task once.
    expect((await submitter.getChildren("/status")).sort()).toEqual([...tasks].sort());
    const completions = workers.flatMap((w) => w.completed).sort();
    expect(completions).toEqual([...tasks].sort());
    // The crashed master's network heals: it learns its session expired and stops acting as master (notes §6:
    // a recovered master must not assume it is still master).
    expect(primary.currentState).toBe("elected"); // cut off, it cannot know yet
    masterLink.refuse(false);
    await primary.stopped();
    expect(primary.currentState).toBe("stopped");
    expect(log.some((l) => l.includes("master-2: elected master"))).toBe(true);
  }, 60_000);
});
