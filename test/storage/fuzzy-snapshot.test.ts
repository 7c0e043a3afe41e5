// Fuzzy snapshots under load (book chapter 9, notes §9): the server keeps serving while a snapshot is written, so
// the snapshot is no single moment of the tree; recovery from it — replaying every txn after its TS — must still
// give exactly the live tree.
import { afterEach, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/index.ts";
import type { RunningServer } from "../../src/server/index.ts";
import { DataTree } from "../../src/tree/data-tree.ts";
import { MemoryDisk } from "../../src/storage/disk.ts";
import { DurableStore, type SnapshotTaken } from "../../src/storage/durable-store.ts";
import { recover } from "../../src/storage/recovery.ts";
import { DiskSnapshotStore, type SnapshotStore } from "../../src/storage/snapshot-store.ts";
import { DiskTxnLog } from "../../src/storage/txn-log.ts";
import { treeDigest } from "../../src/storage/digest.ts";
import { startTestServer } from "../support/zk-server.ts";
import { mulberry32 } from "./support/random-txns.ts";
import { RawClient } from "./support/raw-client.ts";
import { recordingLogger } from "./support/harnesses.ts";
import { dumpDataTree } from "./support/tree-dump.ts";

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Only one of the snapshots, as if it were the newest. */
function onlySnapshot(store: SnapshotStore, name: string): SnapshotStore {
  return { location: store.location, save: store.save.bind(store), read: store.read.bind(store), remove: store.remove.bind(store), list: async () => (await store.list()).filter((s) => s.name === name) };
}

it("snapshots taken while clients write rebuild, with the log, exactly the live tree", async () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  console.log(`fuzzy snapshot test seed ${seed}`);
  const rand = mulberry32(seed);
  const disk = new MemoryDisk();
  const snapshots: SnapshotTaken[] = [];
  const logger = recordingLogger();
  const config = defaultConfig({ snapCount: 400, preAllocSizeKb: 16 });
  // A few nodes per event-loop turn: every snapshot spans many turns of writes.
  const store = new DurableStore(config, { logger, snapDisk: disk, logDisk: disk, random: rand, nodesPerTurn: 40, onSnapshot: (s) => snapshots.push(s) });
  server = await startTestServer({}, { txnSink: store, beforeListen: async (zk) => void (await store.recoverInto(zk)) });
  const port = server.port;

  // Steady load: several clients, each with a window of writes in flight, on a shared tree.
  const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect("127.0.0.1", port)));
  for (const dir of ["/load", "/load/a", "/load/b", "/load/c"]) await clients[0]!.create(dir, null);
  const deadline = Date.now() + 3000;
  await Promise.all(
    clients.map(async (client, c) => {
      let i = 0;
      while (Date.now() < deadline) {
        const batch = [];
        for (let j = 0; j < 40; j++, i++) {
          const dir = ["/load/a", "/load/b", "/load/c"][Math.floor(rand() * 3)]!;
          const path = `${dir}/c${c}-${i}`;
          const roll = rand();
          if (roll < 0.5) batch.push(client.create(path, Buffer.from(`${i}`), rand() < 0.2 ? 1 : 0));
          else if (roll < 0.7) batch.push(client.setData(dir, Buffer.from(`set ${c} ${i}`)));
          else if (roll < 0.85) batch.push(client.delete(`${dir}/c${c}-${Math.floor(rand() * i)}`));
          else batch.push(client.multi([{ op: "create", path: `${path}m`, data: null }, { op: "setData", path: dir, data: Buffer.from(`multi ${i}`) }]));
        }
        await Promise.all(batch);
      }
    }),
  );
  // One client goes away without closing: its session (and ephemerals) must be in what recovery rebuilds.
  clients[3]!.destroy();
  for (const client of clients.slice(0, 3)) await client.close();
  await store.log.flush();
  const live = dumpDataTree(server.zk.tree, []);
  const liveDigest = treeDigest(server.zk.tree);
  const liveSessions = [...server.zk.sessions.all()].map((s) => s.id).sort();

  const fuzzy = snapshots.filter((s) => !s.atStartup);
  console.log(`fuzzy snapshots: ${fuzzy.map((s) => `0x${s.zxid.toString(16)}..0x${s.endZxid.toString(16)} (${s.nodeCount} nodes)`).join(", ")}`);
  expect(fuzzy.length).toBeGreaterThanOrEqual(2);
  // Writes really went on while they were written.
  expect(fuzzy.some((s) => s.endZxid > s.zxid)).toBe(true);

  for (const snapshot of fuzzy) {
    const tree = new DataTree({ extendedTypesEnabled: false });
    const log = new DiskTxnLog(disk, { preAllocSizeBytes: 0, fsyncWarningThresholdMs: 1000, logger });
    const result = await recover(tree, onlySnapshot(new DiskSnapshotStore(disk), snapshot.name), log, { logger });
    expect(result.snapshot?.name).toBe(snapshot.name);
    expect(dumpDataTree(tree, [])).toEqual(live);
    expect(treeDigest(tree)).toBe(liveDigest);
    // The snapshot's own digest (taken when it ended) was checked once replay reached it.
    expect(result.firstDigestMismatch).toBeNull();
    expect([...result.sessions.keys()].sort()).toEqual(liveSessions);
  }
}, 60_000);

it("writes the nodes in pre-order, as Apache's DataTree.serializeNode: a node's subtree before its next sibling", async () => {
  const { serializeTree } = await import("../../src/storage/fuzzy-snapshot.ts");
  const { decodeSnapshot } = await import("../../src/storage/snapshot-format.ts");
  const tree = new DataTree({ extendedTypesEnabled: false });
  const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
  let zxid = 0n;
  // Created in the order /a, /b, /a/x: creation order would put /b before /a/x, pre-order does not.
  for (const [path, parentCVersion] of [["/a", 0], ["/b", 1], ["/a/x", 0]] as const) {
    zxid++;
    tree.processTxn({ sessionId: 1n, cxid: Number(zxid), zxid, timeMs: 0n, type: "create" }, { kind: "create", path, data: null, acl, ephemeral: false, parentCVersion });
  }
  const serialized = await serializeTree(tree, [], () => null, { nodesPerTurn: Infinity });
  const paths = decodeSnapshot(Buffer.concat(serialized.pieces)).nodes.map((n) => n.path);
  expect(paths.indexOf("/a/x")).toBe(paths.indexOf("/a") + 1);
  expect(paths.indexOf("/b")).toBeGreaterThan(paths.indexOf("/a/x"));
});
