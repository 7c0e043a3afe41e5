// Lab 2 (book chapter 2 "ZooKeeper Basics"; notes §2 znode类型, 版本): versions, sequential names, the Stat clients see.
import assert from "node:assert/strict";
import { BadVersionError, SessionExpiredError, createClient, type ConnectionStateKind, type ZooKeeperClient } from "#src/client/index.ts";
import { sessionEventFor as referenceSessionEventFor } from "#src/shell/format.ts";
import { DataTree } from "#src/tree/data-tree.ts";
import { clientStat as referenceClientStat } from "#src/tree/stat.ts";
import { Preparer as ReferencePreparer, formatSequence as referenceFormat } from "#src/server/prepare.ts";
import { makeZxid, type TxnHeader } from "#src/tree/txn.ts";
import type { ClientRequest } from "#src/server/requests.ts";
import type { Random } from "#src/sim/random.ts";
import { defineChecks, type CheckContext } from "#src/workbook/checks.ts";
import { clientFor, serverFor } from "./support.ts";

type PrepareModule = typeof import("#src/server/prepare.ts");
type StatModule = typeof import("#src/tree/stat.ts");
type FormatModule = typeof import("#src/shell/format.ts");

const stateKinds: readonly ConnectionStateKind[] = ["notConnected", "connecting", "connected", "closing", "closed", "expired", "authFailed"];

/** A server whose prepare step is the learner's. */
async function serverWithPreparer(lab: CheckContext) {
  const { Preparer } = await lab.load<PrepareModule>("prepare.ts");
  const server = await serverFor(lab, { createPreparer: (tree, ext) => new Preparer(tree, ext) as unknown as ReferencePreparer });
  return { server, client: await clientFor(lab, server.connectString) };
}

/**
 * The same random writes through the learner's Preparer and the reference's, each over its own tree: the txns
 * (the decisions: names, versions, errors) must be identical.
 */
function comparePreparers(Learner: PrepareModule["Preparer"], random: Random, makeRequest: (random: Random, step: number) => ClientRequest, steps: number): void {
  const ours = new DataTree({ extendedTypesEnabled: false });
  const theirs = new DataTree({ extendedTypesEnabled: false });
  const reference = new ReferencePreparer(ours, false);
  const learner = new Learner(theirs, false);
  for (let step = 1; step <= steps; step++) {
    const request = makeRequest(random, step);
    const ctx = { zxid: makeZxid(0, step), timeMs: BigInt(step), sessionId: 1n, authIds: [], sessionIsLive: true };
    const expected = reference.prepare(request, ctx);
    const actual = learner.prepare(request, ctx);
    assert.deepEqual(actual, expected, `step ${step}: ${JSON.stringify(request, (_k, v) => (typeof v === "bigint" ? String(v) : v))} (seed ${random.seed})`);
    const header: TxnHeader = { sessionId: 1n, cxid: step, zxid: ctx.zxid, timeMs: ctx.timeMs, type: request.op as TxnHeader["type"] };
    ours.processTxn(header, expected.txn);
    reference.applied(ctx.zxid);
    theirs.processTxn(header, actual.txn);
    learner.applied(ctx.zxid);
  }
}

async function statOf(client: ZooKeeperClient, path: string) {
  return (await client.exists(path))!;
}

export default defineChecks(2, {
  "2.1": async (lab) => {
    // First the learner's Preparer alone against the reference, then plugged into a live server.
    const { Preparer } = await lab.load<PrepareModule>("prepare.ts");
    const paths = ["/a", "/b", "/c"];
    comparePreparers(Preparer, lab.random, (random) => {
      const path = random.pick(paths);
      const version = random.int(-1, 3);
      switch (random.int(0, 3)) {
        case 0:
          return { op: "create", path, data: Buffer.from("x"), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttlMs: -1n };
        case 1:
          return { op: "setData", path, data: Buffer.from("y"), version };
        case 2:
          return { op: "delete", path, version };
        default:
          return { op: "setACL", path, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], version };
      }
    }, 300);
    const { client } = await serverWithPreparer(lab);
    await client.create("/v", "a");
    assert.equal((await client.setData("/v", "b", { version: 0 })).version, 1, "setData with the current version succeeds and bumps it");
    await assert.rejects(client.setData("/v", "c", { version: 0 }), BadVersionError, "a stale version is refused (BADVERSION)");
    assert.equal((await client.setData("/v", "d", { version: -1 })).version, 2, "version -1 matches any version");
    await assert.rejects(client.delete("/v", { version: 1 }), BadVersionError, "delete checks the version too");
    assert.equal((await client.setACL("/v", [{ perms: 31, id: { scheme: "world", id: "anyone" } }], { version: 0 })).aversion, 1, "setACL checks and bumps aversion");
    await client.delete("/v", { version: 2 });
    assert.equal(await client.exists("/v"), null, "delete with the right version removes the node");

  },

  "2.2": async (lab) => {
    const { formatSequence, Preparer } = await lab.load<PrepareModule>("prepare.ts");
    for (const n of [0, 7, 42, 1_234_567_890, 2_147_483_647, -1, -42]) {
      assert.equal(formatSequence(n), referenceFormat(n), `formatSequence(${n})`);
    }
    for (let i = 0; i < 200; i++) {
      const n = lab.random.int(-2_147_483_648, 2_147_483_647);
      assert.equal(formatSequence(n), referenceFormat(n), `formatSequence(${n}) (seed ${lab.random.seed})`);
    }
    const { client } = await serverWithPreparer(lab);
    await client.create("/q", "");
    const first = await client.create("/q/task-", "", { mode: "persistentSequential" });
    const second = await client.create("/q/task-", "", { mode: "ephemeralSequential" });
    assert.deepEqual([first, second], ["/q/task-0000000000", "/q/task-0000000001"], "the suffix counts the parent's child creates");
    await client.delete(first);
    await client.create("/q/other", "");
    assert.equal(await client.create("/q/task-", "", { mode: "persistentSequential" }), "/q/task-0000000003", "deletes do not rewind the counter; any child create advances it");
    comparePreparers(Preparer, lab.random, (random) =>
      random.chance(0.7)
        ? { op: "create", path: random.pick(["/s-", "/t/", "/"]), data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: random.pick([2, 3]), ttlMs: -1n }
        : { op: "create", path: "/t", data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttlMs: -1n },
    200);
  },

  "2.3": async (lab) => {
    const { clientStat } = await lab.load<StatModule>("stat.ts");
    for (let i = 0; i < 300; i++) {
      const r = lab.random;
      const stored = {
        czxid: BigInt(r.int(0, 1e6)), mzxid: BigInt(r.int(0, 1e6)), ctime: BigInt(r.int(0, 1e9)), mtime: BigInt(r.int(0, 1e9)),
        version: r.int(0, 100), cversion: r.int(0, 100), aversion: r.int(-1, 100),
        ephemeralOwner: r.pick([0n, 0x0100000000000001n, -0x8000000000000000n, -0x0100000000000000n + 5000n]), pzxid: BigInt(r.int(0, 1e6)),
      };
      const dataLength = r.int(0, 1000);
      const numChildren = r.int(0, stored.cversion);
      const ext = r.chance(0.5);
      assert.deepEqual(clientStat(stored, dataLength, numChildren, ext), referenceClientStat(stored, dataLength, numChildren, ext), `clientStat of ${JSON.stringify(stored, (_k, v) => (typeof v === "bigint" ? String(v) : v))}, ${numChildren} children, extended types ${ext} (seed ${r.seed})`);
    }
    const server = await serverFor(lab, { statView: clientStat as typeof referenceClientStat });
    const client = await clientFor(lab, server.connectString);
    assert.equal((await statOf(client, "/")).cversion, -1, "a fresh root (one child, /zookeeper, never created by a client) shows cversion -1");
    await client.create("/p", "");
    await client.create("/p/a", "");
    await client.create("/p/b", "12345");
    await client.delete("/p/a");
    const p = await statOf(client, "/p");
    assert.deepEqual([p.cversion, p.numChildren], [3, 1], "two creates and a delete are three child changes; one child is left");
    assert.equal((await statOf(client, "/p/b")).dataLength, 5, "dataLength is the data's length in bytes");
    await client.create("/e", "", { mode: "ephemeral" });
    assert.equal((await statOf(client, "/e")).ephemeralOwner, client.session!.sessionId, "an ephemeral node shows its session");
    await client.create("/c", "", { mode: "container" });
    assert.equal((await statOf(client, "/c")).ephemeralOwner, 0n, "a container shows ephemeralOwner 0");

  },

  "2.4": async (lab) => {
    const { sessionEventFor } = await lab.load<FormatModule>("format.ts");
    // Every change of state the client can make, against the reference.
    for (const previous of stateKinds) {
      for (const state of stateKinds) {
        assert.deepEqual(sessionEventFor(state, previous), referenceSessionEventFor(state, previous), `the event for ${previous} → ${state}`);
      }
    }
    // A real client's life, as its state listener sees it: connect, lose the connection and get it back, lose it
    // again while another handle closes the session (so the reconnect finds it expired); a second client is closed.
    const server = await serverFor(lab);
    const heard: string[] = [];
    const listen = (client: ZooKeeperClient) =>
      client.onStateChange((state, previous) => {
        const event = sessionEventFor(state.kind, previous.kind);
        if (event !== null) heard.push(event.state);
      });
    const client = createClient(server.connectString, { sessionTimeoutMs: 4_000, reconnectDelayMsMax: 50 });
    lab.cleanup(() => client.close());
    listen(client);
    await client.connect({ timeoutMs: 5_000 });
    client.testing.destroySocket();
    await client.waitForState("connected");
    const twin = createClient(server.connectString, { session: client.session!, reconnectDelayMsMax: 50 });
    await twin.connect({ timeoutMs: 5_000 });
    await twin.close();
    client.testing.destroySocket();
    await assert.rejects(client.waitForState("connected"), SessionExpiredError, "the reconnect finds the session closed elsewhere");
    const other = createClient(server.connectString, { reconnectDelayMsMax: 50 });
    listen(other);
    await other.connect({ timeoutMs: 5_000 });
    await other.close();
    assert.deepEqual(
      heard,
      ["syncConnected", "disconnected", "syncConnected", "disconnected", "expired", "syncConnected", "closed"],
      "the session events a real client's watcher gets: connected, disconnected and back, disconnected and expired; then a second client connected and closed",
    );
  },
});
