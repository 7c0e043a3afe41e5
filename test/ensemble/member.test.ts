/**
 * Ensemble members over real TCP on loopback, in one process: election, Zab's broadcast through followers,
 * catching up with DIFF and SNAP, sessions owned by the leader, client failover, sync, observers, leaderServes.
 * (The simulator tests in test/sim check the same cores over thousands of seeds; these check the runtime.)
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type ZooKeeperClient } from "../../src/client/index.ts";
import { fourLetterWord } from "../interop/harness/fourLetter.ts";
import { startTestEnsemble, type TestEnsemble } from "../support/ensemble.ts";
import { sessionPassword } from "../../src/server/sessions.ts";
import { RawClient } from "../server/support/tcp.ts";
import { body, opCodes } from "../server/support/requests.ts";

let ensemble: TestEnsemble | null = null;
const clients: ZooKeeperClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await ensemble?.close();
  ensemble = null;
});

async function clientOf(ports: readonly number[], sessionTimeoutMs = 4_000): Promise<ZooKeeperClient> {
  const client = createClient(ports.map((p) => `127.0.0.1:${p}`).join(","), { sessionTimeoutMs });
  clients.push(client);
  await client.connect();
  return client;
}

async function srvr(port: number): Promise<Map<string, string>> {
  const text = await fourLetterWord("127.0.0.1", port, "srvr");
  return new Map(text.trim().split("\n").filter((l) => l.includes(": ")).map((l) => l.split(": ", 2) as [string, string]));
}

function portOf(e: TestEnsemble, id: number): number {
  return e.clientPorts.get(id)!;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("an ensemble of three members over TCP", () => {
  it("elects one leader; a write through a follower commits on every member in the same zxid order; srvr shows the roles", async () => {
    ensemble = await startTestEnsemble();
    const leader = await ensemble.waitForQuorum();
    const followers = ensemble.ids.filter((id) => id !== leader);
    const modes = await Promise.all(ensemble.ids.map(async (id) => (await srvr(portOf(ensemble!, id))).get("Mode")));
    expect(modes.filter((m) => m === "leader")).toHaveLength(1);
    expect(modes.filter((m) => m === "follower")).toHaveLength(2);
    expect(modes[leader - 1]).toBe("leader");
    // Like Apache: once epoch 1 is established every member reports its first zxid, before any txn.
    for (const id of ensemble.ids) expect((await srvr(portOf(ensemble, id))).get("Zxid")).toBe("0x100000000");

    const writer = await clientOf([portOf(ensemble, followers[0]!)]);
    for (let i = 0; i < 20; i++) await writer.create(`/n${i}`, Buffer.from(`v${i}`));
    await writer.setData("/n3", Buffer.from("changed"));
    const lastZxid = (await writer.exists("/n3"))!.mzxid;

    for (const id of ensemble.ids) {
      const reader = await clientOf([portOf(ensemble, id)]);
      await reader.sync("/");
      expect((await reader.getData("/n3")).data!.toString()).toBe("changed");
      const children = (await reader.getChildren("/")).filter((c) => c.startsWith("n"));
      expect(children.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`).sort());
      // Every member applied the same txns under the same zxids.
      expect((await reader.exists("/n3"))!.mzxid).toBe(lastZxid);
      expect((await reader.exists("/n19"))!.czxid).toBe((await writer.exists("/n19"))!.czxid);
    }
    const zxids = await Promise.all(ensemble.ids.map(async (id) => (await srvr(portOf(ensemble!, id))).get("Zxid")));
    expect(new Set(zxids).size).toBe(1);
    const mntr = await fourLetterWord("127.0.0.1", portOf(ensemble, leader), "mntr");
    expect(mntr).toContain("zk_server_state\tleader");
    // The leader's gauges, as Apache's LeaderZooKeeperServer registers them: both followers are in sync.
    expect(mntr).toContain("zk_quorum_size\t3");
    expect(mntr).toContain("zk_learners\t2");
    expect(mntr).toContain("zk_synced_followers\t2");
    // Apache's leader adds the sizes of its serialized proposals: 21 writes happened, so none is -1.
    expect((await srvr(portOf(ensemble, leader))).get("Proposal sizes last/min/max")).toMatch(/^\d+\/\d+\/\d+$/);
  });

  it("a session lives on the leader: a client idle on a follower keeps its ephemeral; closing it removes the node everywhere", async () => {
    ensemble = await startTestEnsemble();
    const leader = await ensemble.waitForQuorum();
    const follower = ensemble.ids.find((id) => id !== leader)!;
    const owner = await clientOf([portOf(ensemble, follower)], 1_000);
    await owner.create("/owned", null, { mode: "ephemeral" });
    // Three session timeouts without a request: only the follower's PINGs to the leader keep the session alive.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const onLeader = await clientOf([portOf(ensemble, leader)]);
    expect(await onLeader.exists("/owned")).not.toBeNull();
    expect(owner.state.kind).toBe("connected");
    await owner.close();
    await onLeader.sync("/");
    expect(await onLeader.exists("/owned")).toBeNull();
  });

  it("a client that moves to a follower is revalidated by the leader (REVALIDATE), even before the follower applied its session", async () => {
    ensemble = await startTestEnsemble();
    const leader = await ensemble.waitForQuorum();
    const [f1, f2] = ensemble.ids.filter((id) => id !== leader);
    const raws: RawClient[] = [];
    try {
      const first = await RawClient.session(portOf(ensemble, leader));
      raws.push(first);
      // At once, with no request in between: the followers may not have applied the createSession yet.
      for (const follower of [f1!, f2!]) {
        const moved = await RawClient.open(portOf(ensemble, follower));
        raws.push(moved);
        const response = await moved.handshake({ sessionId: first.sessionId, passwd: first.passwd, timeOut: 3_000 });
        expect(response.sessionId).toBe(first.sessionId);
        expect(response.timeOut).toBe(3_000);
        expect((await moved.call(opCodes.exists, body.pathWatch("/"))).header.err).toBe(0);
      }
      // A session the leader never created, with the right password for its id: the leader says no.
      const stranger = 0x7700000000000001n;
      const refused = await RawClient.open(portOf(ensemble, f1!));
      raws.push(refused);
      expect((await refused.handshake({ sessionId: stranger, passwd: sessionPassword(stranger) })).timeOut).toBe(0);
      expect(await refused.waitClosed()).toBe(true);
      const mntr = await fourLetterWord("127.0.0.1", portOf(ensemble, leader), "mntr");
      expect(mntr).toContain("zk_revalidate_count\t3");
    } finally {
      for (const raw of raws) raw.destroy();
    }
  });

  it("the leader expires the session of a client whose follower died; its ephemeral goes on every member", async () => {
    ensemble = await startTestEnsemble();
    const leader = await ensemble.waitForQuorum();
    const [f1, f2] = ensemble.ids.filter((id) => id !== leader);
    const doomed = await clientOf([portOf(ensemble, f1!)], 1_000);
    await doomed.create("/doomed", null, { mode: "ephemeral" });
    const watcher = await clientOf([portOf(ensemble, f2!)]);
    const deleted = new Promise<string>((resolve) => void watcher.exists("/doomed", { watch: (e) => resolve(e.type) }));
    await ensemble.stop(f1!); // the client can reach no other server: its session times out
    expect(await deleted).toBe("nodeDeleted");
  });
});

describe("failures", () => {
  it("client failover: the member a client is on stops; the client resumes its session elsewhere with its ephemeral and watch", async () => {
    ensemble = await startTestEnsemble();
    await ensemble.waitForQuorum();
    const client = await clientOf(ensemble.ids.map((id) => portOf(ensemble!, id)), 4_000);
    const sessionId = client.session!.sessionId;
    await client.create("/mine", null, { mode: "ephemeral" });
    await client.create("/watched", Buffer.from("1"));
    const changed = new Promise<string>((resolve) => void client.getData("/watched", { watch: (e) => resolve(e.type) }));
    // Find the member the client is connected to (its session is in that member's `cons`).
    const hex = `0x${sessionId.toString(16)}`;
    let on = -1;
    for (const id of ensemble.ids) if ((await fourLetterWord("127.0.0.1", portOf(ensemble, id), "cons")).includes(`sid=${hex}`)) on = id;
    expect(on).toBeGreaterThan(0);
    await ensemble.stop(on);
    await ensemble.waitForQuorum();
    const other = await clientOf(ensemble.ids.filter((id) => id !== on).map((id) => portOf(ensemble!, id)));
    await other.setData("/watched", Buffer.from("2"));
    expect(await changed).toBe("nodeDataChanged");
    expect(client.session!.sessionId).toBe(sessionId);
    expect(await client.exists("/mine")).not.toBeNull();
  });

  it("the leader stops: a new leader is elected, writes go on; the old leader restarts and catches up", async () => {
    ensemble = await startTestEnsemble();
    const first = await ensemble.waitForQuorum();
    const all = ensemble.ids.map((id) => portOf(ensemble!, id));
    const client = await clientOf(all);
    await client.create("/before", Buffer.from("x"));
    await ensemble.stop(first);
    const second = await ensemble.waitForQuorum();
    expect(second).not.toBe(first);
    // The client lost its connection when its server stopped serving (a recoverable ConnectionLoss); it is back
    // once connected to a member of the new epoch.
    await waitFor("the client to reconnect", () => (client.state.kind === "connected" ? true : undefined));
    await client.create("/after", Buffer.from("y"));
    await ensemble.start(first);
    await ensemble.waitForQuorum();
    const onOld = await clientOf([portOf(ensemble, first)]);
    await onOld.sync("/");
    expect((await onOld.getData("/after")).data!.toString()).toBe("y");
    expect((await srvr(portOf(ensemble, first))).get("Mode")).toBe("follower");
  });

  it("the whole ensemble restarts with one member behind: it is synchronized with a DIFF of PROPOSALs and all serve", async () => {
    // The leader's discovery persists its epoch in the same step that synchronizes the learners: that step's
    // DIFF and its PROPOSALs must reach the learner in order (a PROPOSAL sent ahead of the DIFF made the learner
    // drop out of every round).
    ensemble = await startTestEnsemble();
    const leader = await ensemble.waitForQuorum();
    const behind = ensemble.ids.find((id) => id !== leader)!;
    const client = await clientOf([portOf(ensemble, leader)]);
    await client.create("/first", null);
    await ensemble.stop(behind);
    for (let i = 0; i < 20; i++) await client.create(`/missed${i}`, null);
    await client.close();
    for (const id of ensemble.ids) await ensemble.stop(id);
    // Only the two: the one behind must ACK the new epoch for there to be a quorum, so the leader synchronizes
    // it in the very step that persists the epoch.
    await ensemble.start(leader);
    await ensemble.start(behind);
    await ensemble.waitForQuorum();
    await ensemble.start(ensemble.ids.find((id) => id !== leader && id !== behind)!);
    await ensemble.waitForQuorum();
    const onBehind = await clientOf([portOf(ensemble, behind)]);
    await onBehind.sync("/");
    expect(await onBehind.exists("/missed19")).not.toBeNull();
  });

  it("a member whose dataDir was wiped is rebuilt with a SNAP of the leader's state", async () => {
    ensemble = await startTestEnsemble();
    const leader = await ensemble.waitForQuorum();
    const wiped = ensemble.ids.find((id) => id !== leader)!;
    await ensemble.stop(wiped);
    await ensemble.wipe(wiped);
    const client = await clientOf([portOf(ensemble, leader)]);
    // More txns than the leader keeps for DIFFs (committedLogCountMax = 500): only a SNAP can catch up.
    const writes: Promise<string>[] = [];
    for (let i = 0; i < 600; i++) writes.push(client.create(`/bulk${i}`, Buffer.from(String(i))));
    await Promise.all(writes);
    await ensemble.start(wiped);
    await ensemble.waitForQuorum();
    const onWiped = await clientOf([portOf(ensemble, wiped)]);
    await onWiped.sync("/");
    expect((await onWiped.getData("/bulk599")).data!.toString()).toBe("599");
    expect(await onWiped.getAllChildrenNumber("/")).toBe(await client.getAllChildrenNumber("/"));
  });
});

describe("observers and options", () => {
  it("snapshots every snapCount txns and autopurge keeps the newest snapRetainCount of them", async () => {
    ensemble = await startTestEnsemble({ extraConfig: ["snapCount=10", "autopurge.snapRetainCount=3", "autopurge.purgeInterval=1"] });
    const leader = await ensemble.waitForQuorum();
    const client = await clientOf([portOf(ensemble, leader)]);
    for (let i = 0; i < 60; i++) await client.create(`/snap${i}`, null);
    const follower = ensemble.ids.find((id) => id !== leader)!;
    const versionDir = join(ensemble.dir, String(follower), "version-2");
    const snapshots = async () => (await readdir(versionDir)).filter((f) => f.startsWith("snapshot."));
    await waitFor("the follower's snapshots", async () => ((await snapshots()).length >= 5 ? true : undefined));
    await ensemble.stop(follower);
    await ensemble.start(follower); // autopurge runs once at start, then every purgeInterval hours
    await waitFor("autopurge", async () => ((await snapshots()).length === 3 ? true : undefined));
    await ensemble.waitForQuorum();
    const onFollower = await clientOf([portOf(ensemble, follower)]);
    await onFollower.sync("/");
    expect(await onFollower.exists("/snap59")).not.toBeNull();
  });

  it("an observer serves reads and forwards writes but never votes: srvr says observer", async () => {
    ensemble = await startTestEnsemble({ participants: 3, observers: 1 });
    await ensemble.waitForQuorum();
    const observerPort = portOf(ensemble, 4);
    expect((await srvr(observerPort)).get("Mode")).toBe("observer");
    const client = await clientOf([observerPort]);
    await client.create("/from-observer", Buffer.from("o"));
    const elsewhere = await clientOf([portOf(ensemble, 1)]);
    await elsewhere.sync("/");
    expect((await elsewhere.getData("/from-observer")).data!.toString()).toBe("o");
  });

  it("hierarchical quorums: a server of weight 0 is never elected and is not needed for a quorum", async () => {
    ensemble = await startTestEnsemble({ extraConfig: ["group.1=1:2:3", "weight.1=1", "weight.2=1", "weight.3=0"] });
    const leader = await ensemble.waitForQuorum();
    expect(leader).not.toBe(3);
    await ensemble.stop(3);
    const client = await clientOf([portOf(ensemble, 1), portOf(ensemble, 2)]);
    await client.create("/weighted", Buffer.from("w"));
    expect((await client.getData("/weighted")).data!.toString()).toBe("w");
  });

  it("leaderServes=no: the leader takes no clients; srvr there says it is not serving", async () => {
    ensemble = await startTestEnsemble({ extraConfig: ["leaderServes=no"] });
    const leader = await ensemble.waitForQuorum();
    expect(await fourLetterWord("127.0.0.1", portOf(ensemble, leader), "srvr")).toBe("This ZooKeeper instance is not currently serving requests\n");
    const client = await clientOf(ensemble.ids.map((id) => portOf(ensemble!, id)));
    await client.create("/x", null);
    expect(await client.exists("/x")).not.toBeNull();
  });

  it("a read after sync on one follower sees a write just made through another", async () => {
    ensemble = await startTestEnsemble();
    const leader = await ensemble.waitForQuorum();
    const [f1, f2] = ensemble.ids.filter((id) => id !== leader);
    const writer = await clientOf([portOf(ensemble, f1!)]);
    const reader = await clientOf([portOf(ensemble, f2!)]);
    for (let i = 0; i < 20; i++) {
      await writer.create(`/s${i}`, Buffer.from(String(i)));
      await reader.sync("/");
      expect((await reader.getData(`/s${i}`)).data!.toString()).toBe(String(i));
    }
  });
});
