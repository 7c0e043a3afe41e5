// Lab 4 (book chapter 4 "Dealing with State Change"; notes §4 单次触发器, 监视点): one-time watches in the server
// (Apache WatchManager) and the master's re-registering loop.
import assert from "node:assert/strict";
import { WatchManager as ReferenceWatchManager, type Watcher } from "#src/server/watches.ts";
import type { TreeEvent } from "#src/tree/data-tree.ts";
import type { Random } from "#src/sim/random.ts";
import { defineChecks, type CheckContext } from "#src/workbook/checks.ts";
import { bootstrap } from "#src/apps/master-worker/bootstrap.ts";
import { clientFor, eventually, serverFor, settles, sleep, withConnectionLoss } from "./support.ts";

type WatchesModule = typeof import("#src/server/watches.ts");
type MasterModule = typeof import("#src/apps/master-worker/master.ts");

/** A watcher that writes what it hears into a shared log. */
function recorder(name: string, log: string[]): Watcher {
  return { notify: (type, path) => void log.push(`${name} ${type} ${path}`) };
}

type Step =
  | { kind: "watch"; table: "data" | "child"; path: string; watcher: number }
  | { kind: "persistent"; path: string; watcher: number; recursive: boolean }
  | { kind: "event"; event: TreeEvent }
  | { kind: "drop"; watcher: number };

const paths = ["/", "/a", "/a/b", "/c"];

function randomSteps(random: Random, count: number, allow: { deletes: boolean; drops: boolean }): Step[] {
  const steps: Step[] = [];
  const events: TreeEvent["type"][] = ["nodeCreated", "nodeDataChanged", "nodeChildrenChanged", ...(allow.deletes ? (["nodeDeleted"] as const) : [])];
  for (let i = 0; i < count; i++) {
    const roll = random.int(0, 9);
    if (roll < 4) steps.push({ kind: "watch", table: random.pick(["data", "child"] as const), path: random.pick(paths), watcher: random.int(0, 2) });
    else if (roll < 5) steps.push({ kind: "persistent", path: random.pick(paths), watcher: random.int(0, 2), recursive: random.chance(0.5) });
    else if (roll < 6 && allow.drops) steps.push({ kind: "drop", watcher: random.int(0, 2) });
    else steps.push({ kind: "event", event: { type: random.pick(events), path: random.pick(paths) } as TreeEvent });
  }
  return steps;
}

/** Runs the same steps on the learner's watch manager and the reference's; the notifications must match. */
function compareWithReference(Learner: WatchesModule["WatchManager"], random: Random, allow: { deletes: boolean; drops: boolean }): void {
  const steps = randomSteps(random, 400, allow);
  const run = (manager: ReferenceWatchManager) => {
    const log: string[] = [];
    const watchers = [0, 1, 2].map((i) => recorder(`w${i}`, log));
    steps.forEach((step, index) => {
      switch (step.kind) {
        case "watch":
          manager.addWatch(step.table, step.path, watchers[step.watcher]!);
          break;
        case "persistent":
          manager.addPersistentWatch(step.path, watchers[step.watcher]!, step.recursive);
          break;
        case "drop":
          manager.removeWatcher(watchers[step.watcher]!);
          break;
        case "event":
          log.push(`-- step ${index}: ${step.event.type} ${step.event.path}`);
          manager.onTreeEvent(step.event);
          break;
      }
    });
    // Watchers are notified in no particular order within one event (Apache uses a HashSet): compare sorted.
    return log.join("\n").split("-- ").map((chunk) => chunk.split("\n").sort().join("\n"));
  };
  const expected = run(new ReferenceWatchManager());
  const actual = run(new Learner() as unknown as ReferenceWatchManager);
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(actual[i], expected[i], `notifications differ at event ${i} (seed ${random.seed}); steps so far: ${JSON.stringify(steps.slice(0, 40))}`);
  }
}

async function serverWithLearnerWatches(lab: CheckContext) {
  const { WatchManager } = await lab.load<WatchesModule>("watches.ts");
  const server = await serverFor(lab, { watchManager: new WatchManager() as unknown as ReferenceWatchManager });
  return { server, a: await clientFor(lab, server.connectString), b: await clientFor(lab, server.connectString) };
}

export default defineChecks(4, {
  "4.1": async (lab) => {
    const { WatchManager } = await lab.load<WatchesModule>("watches.ts");
    const log: string[] = [];
    const manager = new WatchManager();
    const once = recorder("once", log);
    const always = recorder("always", log);
    manager.addWatch("data", "/x", once);
    manager.addPersistentWatch("/x", always, false);
    manager.onTreeEvent({ type: "nodeDataChanged", path: "/x" });
    manager.onTreeEvent({ type: "nodeDataChanged", path: "/x" });
    assert.deepEqual(log.sort(), ["always nodeDataChanged /x", "always nodeDataChanged /x", "once nodeDataChanged /x"], "a standard watch fires once, a persistent one every time");
    compareWithReference(WatchManager, lab.random, { deletes: false, drops: false });

    const { a, b } = await serverWithLearnerWatches(lab);
    await a.create("/x", "1");
    const events: string[] = [];
    await b.getData("/x", { watch: (e) => events.push(e.type) });
    await b.exists("/y", { watch: (e) => events.push(`${e.type} /y`) });
    await a.setData("/x", "2");
    await a.setData("/x", "3");
    await a.create("/y", "");
    await eventually(() => events.length >= 2, "both watches fired");
    await sleep(100);
    assert.deepEqual(events, ["nodeDataChanged", "nodeCreated /y"], "through a real client: each watch fires once");
  },

  "4.2": async (lab) => {
    const { WatchManager } = await lab.load<WatchesModule>("watches.ts");
    const log: string[] = [];
    const manager = new WatchManager();
    const both = recorder("both", log);
    manager.addWatch("data", "/x", both);
    manager.addWatch("child", "/x", both);
    manager.onTreeEvent({ type: "nodeDeleted", path: "/x" });
    assert.deepEqual(log, ["both nodeDeleted /x"], "a watcher with a data and a child watch on a deleted node hears it once");
    manager.onTreeEvent({ type: "nodeDeleted", path: "/x" });
    assert.deepEqual(log, ["both nodeDeleted /x"], "both watches were one-time: nothing more");
    compareWithReference(WatchManager, lab.random, { deletes: true, drops: false });

    const { server, a, b } = await serverWithLearnerWatches(lab);
    await a.create("/x", "");
    const events: string[] = [];
    await b.getData("/x", { watch: (e) => events.push(`data ${e.type}`) });
    await b.getChildren("/x", { watch: (e) => events.push(`child ${e.type}`) });
    await a.delete("/x");
    await eventually(() => events.length >= 2, "both of the client's watchers were called");
    assert.deepEqual(events.sort(), ["child nodeDeleted", "data nodeDeleted"]);
    assert.equal(server.zk.watches.data.watchCount + server.zk.watches.child.watchCount, 0, "fired watches are gone from the server");

    // Notification first (notes §4 通知优先): the server sends the notification while it applies the change, before
    // the reply to the request that made it — so even the client that deletes a node it watches hears the
    // notification before its delete completes, and no client can see the node gone while its watch is pending.
    await a.create("/mine", "");
    const order: string[] = [];
    await a.exists("/mine", { watch: (e) => order.push(`watcher: ${e.type}`) });
    await a.delete("/mine");
    order.push("delete resolved");
    assert.deepEqual(order, ["watcher: nodeDeleted", "delete resolved"], "the notification comes before the reply to the delete that caused it");
  },

  "4.3": async (lab) => {
    const { WatchManager } = await lab.load<WatchesModule>("watches.ts");
    const log: string[] = [];
    const manager = new WatchManager();
    const leaving = recorder("leaving", log);
    const staying = recorder("staying", log);
    for (const path of ["/a", "/b", "/c"]) {
      manager.addWatch("data", path, leaving);
      manager.addWatch("child", path, leaving);
    }
    manager.addPersistentWatch("/a", leaving, true);
    manager.addWatch("data", "/a", staying);
    manager.removeWatcher(leaving);
    manager.onTreeEvent({ type: "nodeDataChanged", path: "/a" });
    manager.onTreeEvent({ type: "nodeChildrenChanged", path: "/b" });
    assert.deepEqual(log, ["staying nodeDataChanged /a"], "a closed connection's watches are gone; others stay");
    compareWithReference(WatchManager, lab.random, { deletes: true, drops: true });

    const { server, a, b } = await serverWithLearnerWatches(lab);
    await a.create("/w", "");
    await b.getData("/w", { watch: () => {} });
    await b.getChildren("/w", { watch: () => {} });
    await b.exists("/nothing", { watch: () => {} });
    assert.equal(server.zk.watches.data.watchCount + server.zk.watches.child.watchCount, 3, "the server holds the three watches");
    await b.close();
    await eventually(() => server.zk.watches.data.watchCount + server.zk.watches.child.watchCount === 0, "the closed client's watches are dropped by the server");
  },

  "4.4": async (lab) => {
    const { watchWorkers } = await lab.load<MasterModule>("master.ts");
    const server = await serverFor(lab);
    const master = await clientFor(lab, server.connectString);
    await master.create("/workers", "");
    const seen: string[][] = [];
    let active = true;
    const flaky = withConnectionLoss(master, [{ method: "getChildren", at: "beforeApply" }]);
    await watchWorkers(flaky, (workers) => seen.push([...workers].sort()), () => active);
    const w1 = await clientFor(lab, server.connectString);
    const w2 = await clientFor(lab, server.connectString);
    await w1.create("/workers/w1", "", { mode: "ephemeral" });
    await eventually(() => seen.some((l) => l.join() === "w1"), "the master sees w1 arrive");
    await w2.create("/workers/w2", "", { mode: "ephemeral" });
    await eventually(() => seen.some((l) => l.join() === "w1,w2"), "…and then w2: the watch was set again");
    await w1.close();
    await eventually(() => seen.some((l) => l.join() === "w2"), "…and w1 leave when its session closes");
    active = false;
    const before = seen.length;
    await w2.create("/workers/w3", "", { mode: "ephemeral" });
    await sleep(200);
    assert.equal(seen.length, before, "once inactive, the loop stops");
    assert.deepEqual(seen[0], [], "the first call lists the workers at once (none yet)");
  },

  "4.5": async (lab) => {
    // The learner's whole Master (its /workers loop is 4.4) with a real client: tasks that are there when it is
    // elected, and tasks submitted one by one afterwards, each of which only the re-set /tasks watch can announce.
    const { Master } = await lab.load<MasterModule>("master.ts");
    const server = await serverFor(lab);
    const setup = await clientFor(lab, server.connectString);
    const worker = await clientFor(lab, server.connectString);
    const masterClient = await clientFor(lab, server.connectString);
    await bootstrap(setup);
    await worker.create("/workers/w1", "Idle", { mode: "ephemeral" });
    await worker.create("/assign/w1", "");
    const submitted = [await setup.create("/tasks/task-", "before", { mode: "persistentSequential" })];
    const master = new Master(masterClient, { id: "master-1" });
    lab.cleanup(() => master.stop());
    await master.run();
    assert.equal(master.currentState, "elected", "the master was elected");
    const assignedNow = async () => ({
      actual: { assigned: (await setup.getChildren("/assign/w1")).sort(), waiting: await setup.getChildren("/tasks") },
      expected: { assigned: submitted.map((p) => p.slice("/tasks/".length)).sort(), waiting: [] as string[] },
    });
    await settles(assignedNow, "a task waiting in /tasks when the master starts is assigned to the live worker");
    for (const data of ["later-1", "later-2", "later-3"]) {
      submitted.push(await setup.create("/tasks/task-", data, { mode: "persistentSequential" }));
      await settles(assignedNow, `a task submitted after the master started (${data}) is assigned: the /tasks watch was set again`);
    }
    const { data } = await setup.getData(`/assign/w1/${submitted[2]!.slice("/tasks/".length)}`);
    assert.equal(data?.toString(), "later-2", "the assignment carries the task's data");
  },
});
