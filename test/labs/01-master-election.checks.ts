// Lab 1 (book chapter 1, notes §1.2 主节点选举): master election with an ephemeral /master.
import assert from "node:assert/strict";
import { NoNodeError } from "#src/client/index.ts";
import { checkMaster as referenceCheckMaster } from "#src/apps/master-worker/election.ts";
import { defineChecks } from "#src/workbook/checks.ts";
import { clientFor, eventually, serverFor, sleep, withConnectionLoss } from "./support.ts";

type Election = typeof import("#src/apps/master-worker/election.ts");

export default defineChecks(1, {
  "1.1": async (lab) => {
    const { runForMaster } = await lab.load<Election>("election.ts");
    const server = await serverFor(lab);
    const a = await clientFor(lab, server.connectString);
    const b = await clientFor(lab, server.connectString);

    assert.equal(await runForMaster(a, "master-a"), "elected", "the first to run for master is elected");
    const { data, stat } = await a.getData("/master");
    assert.equal(data?.toString(), "master-a", "/master holds the master's id");
    assert.equal(stat.ephemeralOwner, a.session!.sessionId, "/master is ephemeral, owned by the master's session");
    assert.equal(await runForMaster(b, "master-b"), "notElected", "a second candidate finds /master taken");
    assert.equal((await b.getData("/master")).data?.toString(), "master-a", "the loser must not change /master");

    await a.close();
    assert.equal(await runForMaster(b, "master-b"), "elected", "once the master's session is closed, /master is free");

    const lossy = withConnectionLoss(b, [{ method: "create", at: "beforeApply" }]);
    await assert.rejects(runForMaster(lossy, "master-b"), (e: Error) => e.name === "ConnectionLossError", "a connection loss is for the caller: propagate it");
  },

  "1.2": async (lab) => {
    const { checkMaster } = await lab.load<Election>("election.ts");
    const server = await serverFor(lab);
    const a = await clientFor(lab, server.connectString);
    const b = await clientFor(lab, server.connectString);
    assert.equal(await checkMaster(a, "master-a"), "noMaster", "no /master yet");
    await a.create("/master", Buffer.from("master-a"), { mode: "ephemeral" });
    assert.equal(await checkMaster(a, "master-a"), "elected", "/master holds my id: I am the master");
    assert.equal(await checkMaster(b, "master-b"), "notElected", "/master holds someone else's id");
    const flaky = withConnectionLoss(b, [{ method: "getData", at: "beforeApply", times: 2 }]);
    assert.equal(await checkMaster(flaky, "master-b"), "notElected", "after connection losses, ask again until there is an answer");
    assert.equal(flaky.injected, 2, "both injected losses were met (and retried)");
    await assert.rejects(b.getData("/nope"), NoNodeError);

    // Generated cases, yours against the reference: who holds /master (nobody, me, someone else), and how many of
    // the reads are lost first, before or after the server answered.
    for (let i = 0; i < 12; i++) {
      const holder = lab.random.pick(["nobody", "me", "other"] as const);
      const losses = lab.random.int(0, 3);
      const at = lab.random.pick(["beforeApply", "afterApply"] as const);
      await a.delete("/master").catch(() => {});
      if (holder !== "nobody") await a.create("/master", Buffer.from(holder === "me" ? "master-b" : "master-a"), { mode: "ephemeral" });
      const answers: string[] = [];
      for (const check of [referenceCheckMaster, checkMaster]) {
        answers.push(await check(withConnectionLoss(b, [{ method: "getData", at, times: losses }]), "master-b"));
      }
      assert.equal(answers[1], answers[0], `checkMaster("master-b") with /master held by ${holder}, ${losses} lost read(s) (${at}) (seed ${lab.random.seed})`);
    }
  },

  "1.3": async (lab) => {
    const { watchMaster } = await lab.load<Election>("election.ts");
    const server = await serverFor(lab);
    const master = await clientFor(lab, server.connectString);
    const backup = await clientFor(lab, server.connectString);
    await master.create("/master", Buffer.from("m"), { mode: "ephemeral" });
    let calls = 0;
    await watchMaster(backup, () => calls++);
    await sleep(200);
    assert.equal(calls, 0, "while the master lives, the backup waits");
    await master.close(); // the master's session ends; /master goes with it
    await eventually(() => calls > 0, "the backup hears that /master is gone");
    await sleep(100);
    assert.equal(calls, 1, "onMasterGone is called once");

    let early = 0;
    await watchMaster(backup, () => early++); // /master is already gone
    assert.equal(early, 1, "if /master is already gone when the watch is set, run again at once");
    await backup.create("/master", Buffer.from("b"), { mode: "ephemeral" });
    await backup.delete("/master");
    await sleep(100);
    assert.equal(early, 1, "and never a second time");
  },
});
