// The book's master–worker application end to end (book chapters 1–4; notes §1.2, §2 主从模式例子的实现, §6: a
// recovered master must not assume it is still master). A master and a worker crash mid-run (their network is cut
// for good, so their sessions expire); the backup takes over, the dead worker's tasks are reassigned, and every task
// is completed exactly once.
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type ZooKeeperClient } from "../../src/client/index.ts";
import { Master, Worker, assignmentPath, assignmentsOf, bootstrap, submitTask, waitForStatus } from "../../src/apps/master-worker/index.ts";
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

describe("master–worker: assignments that race with a worker's death (book chapter 4, 'Master Waits for Changes in the List of Workers')", () => {
  const within = <T>(promise: Promise<T>, what: string) =>
    Promise.race([promise, sleep(15_000).then(() => `still waiting for ${what}`)]);

  it("a task given to a worker whose /assign folder is gone goes to another worker, not back to wait in /tasks", async () => {
    const server = await startTestServer({ tickTimeMs: 200 });
    cleanups.push(() => server.close());
    const masterClient = await client(server.connectString);
    // "ghost" is in /workers but has no /assign/ghost: a worker that died and whose folder was already removed
    // while this master's list of workers still names it. The master's choice prefers it.
    await bootstrap(masterClient);
    const ghostClient = await client(server.connectString);
    await ghostClient.create("/workers/ghost", "Idle", { mode: "ephemeral" });
    const master = new Master(masterClient, { id: "m", choose: (_task, live) => (live.includes("ghost") ? "ghost" : live[0]!) });
    await master.run();
    const worker = new Worker(await client(server.connectString), { name: "w1", execute: async (task) => `done ${task}` });
    await worker.start();

    const submitter = await client(server.connectString);
    const task = await submitTask(submitter, "job");
    expect(await within(waitForStatus(submitter, task), `/status/${task}`)).toBe(`done ${task}`);
    expect(master.assigned).toEqual([{ task, worker: "w1" }]);
  }, 30_000);

  it("an assignment that lands after the dead worker's folder was listed is handed back too, not stranded", async () => {
    const server = await startTestServer({ tickTimeMs: 200 });
    cleanups.push(() => server.close());
    const masterClient = await client(server.connectString);
    await bootstrap(masterClient);
    // When the master starts handing back the dead worker's tasks, one more assignment to it arrives — sent on the
    // master's own session, so the server applies it after the master's listing and before its delete of the folder.
    const report = (line: string) => {
      if (line.includes("w-dead is gone")) void masterClient.create(assignmentPath("w-dead", "task-late"), "late job");
    };
    const master = new Master(masterClient, { id: "m", report });
    await master.run();
    const execute = async (task: string) => `done ${task}`;
    const live = new Worker(await client(server.connectString), { name: "w-live", execute });
    await live.start();
    const deadClient = await client(server.connectString);
    await new Worker(deadClient, { name: "w-dead", execute }).start();
    await deadClient.close(); // its ephemeral /workers/w-dead goes at once

    const observer = await client(server.connectString);
    expect(await within(waitForStatus(observer, "task-late"), "/status/task-late")).toBe("done task-late");
    expect(await observer.exists(assignmentsOf("w-dead"))).toBeNull();
    expect(live.completed).toEqual(["task-late"]);
  }, 30_000);
});
