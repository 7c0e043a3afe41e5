// The server with durable storage, in-process: writes are acknowledged only once their batch is on disk (book
// chapter 9: log before ack), state survives restarts, sessions come back and expire, snapshots come every
// snapCount/2 + random(snapCount/2) txns (Apache SyncRequestProcessor), and autopurge keeps what recovery needs.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/index.ts";
import type { RunningServer } from "../../src/server/index.ts";
import { DurableStore, type SnapshotTaken } from "../../src/storage/durable-store.ts";
import { MemoryDisk, type Disk, type WritableFile } from "../../src/storage/disk.ts";
import { startTestServer } from "../support/zk-server.ts";
import { RawClient } from "./support/raw-client.ts";
import { recordingLogger } from "./support/harnesses.ts";
import { dumpDataTree } from "./support/tree-dump.ts";

/** A disk whose fsyncs wait until `release()` — to see what a client is told before its write is durable. */
class GatedDisk implements Disk {
  private gate: Promise<void> = Promise.resolve();
  private openGate: (() => void) | null = null;
  syncsWaiting = 0;
  constructor(private readonly inner: Disk) {}
  get location() {
    return this.inner.location;
  }
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }
  release(): void {
    this.openGate?.();
    this.gate = Promise.resolve();
  }
  create(name: string): WritableFile {
    const file = this.inner.create(name);
    return {
      name,
      write: (position, bytes) => file.write(position, bytes),
      extend: (size) => file.extend(size),
      close: () => file.close(),
      datasync: async () => {
        this.syncsWaiting++;
        await this.gate;
        this.syncsWaiting--;
        await file.datasync();
      },
    };
  }
  ensure = () => this.inner.ensure();
  list = () => this.inner.list();
  open = (name: string) => this.inner.open(name);
  readAll = (name: string) => this.inner.readAll(name);
  info = (name: string) => this.inner.info(name);
  rename = (from: string, to: string) => this.inner.rename(from, to);
  remove = (name: string) => this.inner.remove(name);
  truncate = (name: string, size: number) => this.inner.truncate(name, size);
  syncDir = () => this.inner.syncDir();
}

interface Node {
  readonly server: RunningServer;
  readonly store: DurableStore;
  readonly snapshots: SnapshotTaken[];
  client(options?: { timeoutMs?: number; sessionId?: bigint; passwd?: Buffer }): Promise<RawClient>;
  stop(): Promise<void>;
}

const running: Node[] = [];
afterEach(async () => {
  for (const node of running.splice(0)) await node.stop();
});

async function start(
  disk: Disk | { dataDir: string; dataLogDir: string },
  settings: { snapCount?: number; tickTimeMs?: number; random?: () => number; purgeHours?: number; retain?: number } = {},
): Promise<Node> {
  const logger = recordingLogger();
  const snapshots: SnapshotTaken[] = [];
  const dirs = "dataDir" in disk ? disk : null;
  const config = defaultConfig({
    ...(dirs ?? {}),
    tickTimeMs: settings.tickTimeMs ?? 200,
    snapCount: settings.snapCount ?? 100_000,
    preAllocSizeKb: 64,
    autopurgePurgeIntervalHours: settings.purgeHours ?? 0,
    autopurgeSnapRetainCount: settings.retain ?? 3,
  });
  const disks = dirs === null ? { snapDisk: disk as Disk, logDisk: disk as Disk } : {};
  const store = new DurableStore(config, { logger, ...disks, random: settings.random ?? (() => 0.5), onSnapshot: (s) => snapshots.push(s) });
  const server = await startTestServer(
    { tickTimeMs: config.tickTimeMs, minSessionTimeoutMs: 2 * config.tickTimeMs },
    { txnSink: store, beforeListen: async (zk) => void (await store.recoverInto(zk)) },
  );
  let stopped = false;
  const node: Node = {
    server,
    store,
    snapshots,
    client: (options) => RawClient.connect(server.host, server.port, options),
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await store.close();
    },
  };
  running.push(node);
  return node;
}

describe("the server with durable storage", () => {
  it("answers a write only once its batch is fsynced", async () => {
    const disk = new GatedDisk(new MemoryDisk());
    const node = await start(disk);
    const client = await node.client();
    const reader = await node.client();
    disk.hold();
    try {
      let answered = false;
      const reply = client.create("/durable", Buffer.from("x")).then((r) => ((answered = true), r));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(disk.syncsWaiting).toBeGreaterThan(0);
      expect(answered).toBe(false);
      // Nor is the write visible to anyone before it is durable: a read behind it waits too.
      let readAnswered = false;
      const read = reader.getData("/durable").then((r) => ((readAnswered = true), r));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(readAnswered).toBe(false);
      disk.release();
      expect((await reply).err).toBe("ok");
      expect((await read).err).toBe("ok");
    } finally {
      disk.release();
    }
  });

  it("restarts with the same tree, sessions and ephemerals; a session whose client does not return expires", async () => {
    const disk = new MemoryDisk();
    const first = await start(disk);
    const client = await first.client({ timeoutMs: 1000 });
    await client.create("/app", Buffer.from("root"));
    for (let i = 0; i < 20; i++) await client.create("/app/s-", Buffer.from(`${i}`), 2);
    await client.setData("/app", Buffer.from("v1"), 0);
    await client.create("/app/eph", Buffer.from("mine"), 1);
    await client.multi([{ op: "create", path: "/m1", data: null }, { op: "delete", path: "/app/s-0000000003" }]);
    const before = dumpDataTree(first.server.zk.tree);
    client.destroy();
    await first.stop();

    const second = await start(disk);
    expect(dumpDataTree(second.server.zk.tree)).toEqual(before);
    expect(second.store.recovery?.sessions.get(client.sessionId)).toBe(1000);
    expect(second.server.zk.tree.getNode("/app/eph")).toBeDefined();
    // The client could come back with its session...
    const back = await second.client({ sessionId: client.sessionId, passwd: client.passwd, timeoutMs: 1000 });
    expect((await back.getData("/app/eph")).err).toBe("ok");
    back.destroy();
    // ...but it does not: its ephemeral goes when the session expires.
    const watcher = await second.client();
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect((await watcher.getData("/app/eph")).err).toBe("noNode");
    expect((await watcher.getData("/app")).data?.toString()).toBe("v1");
  });

  it("snapshots after snapCount/2 + random(snapCount/2) txns, rolling the log, while writes go on", async () => {
    const disk = new MemoryDisk();
    // random() = 0.5 → the next snapshot after more than 10 + 5 txns.
    const node = await start(disk, { snapCount: 20 });
    const client = await node.client();
    // The client's createSession is txn 1: 99 creates make 100 txns, a snapshot after every 16.
    for (let round = 0; round < 3; round++) {
      const writes = [];
      for (let i = 0; i < 33; i++) writes.push(client.create(`/n${round}-${i}`, Buffer.alloc(100, i)));
      await Promise.all(writes);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await node.store.close();
    const files = await disk.list();
    const fuzzy = node.snapshots.filter((s) => !s.atStartup);
    const triggers = Math.floor(100 / 16);
    // A snapshot asked for while one still runs is skipped ("Too busy to snap"); the log rolls either way.
    expect(fuzzy.length + node.store.stats.snapshotsSkipped).toBe(triggers);
    expect(fuzzy.length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => f.startsWith("log.")).length).toBe(triggers + 1);
    expect(files.filter((f) => f.startsWith("snapshot.")).length).toBe(fuzzy.length + 1);
    // Each snapshot is named after the last zxid applied when it started.
    for (const s of fuzzy) expect(files).toContain(`snapshot.${s.zxid.toString(16)}`);
  });

  it("autopurge keeps autopurge.snapRetainCount snapshots and the logs they need", async () => {
    const disk = new MemoryDisk();
    const node = await start(disk, { snapCount: 10 });
    const client = await node.client();
    for (let i = 0; i < 80; i++) await client.create(`/p${i}`, null);
    const report = await node.store.purgeNow(3);
    expect(report.plan.retained).toHaveLength(3);
    expect(report.removed.length).toBeGreaterThan(0);
    const before = dumpDataTree(node.server.zk.tree);
    await node.stop();
    const again = await start(disk);
    expect(dumpDataTree(again.server.zk.tree)).toEqual(before);
  });

  it("keeps the log in dataLogDir and snapshots in dataDir, each under version-2", async () => {
    const root = mkdtempSync(join(tmpdir(), "zkbook-dirs-"));
    try {
      const dirs = { dataDir: join(root, "snaps"), dataLogDir: join(root, "logs") };
      const node = await start(dirs, { snapCount: 10 });
      const client = await node.client();
      for (let i = 0; i < 30; i++) await client.create(`/d${i}`, null);
      await node.stop();
      const snaps = readdirSync(join(dirs.dataDir, "version-2"));
      const logs = readdirSync(join(dirs.dataLogDir, "version-2"));
      expect(snaps.length).toBeGreaterThan(1);
      expect(snaps.every((f) => f.startsWith("snapshot."))).toBe(true);
      expect(logs.length).toBeGreaterThan(1);
      expect(logs.every((f) => f.startsWith("log."))).toBe(true);
      const again = await start(dirs);
      expect(again.server.zk.tree.getNode("/d29")).toBeDefined();
      await again.stop();
      // Apache refuses mixed-up directories (FileTxnSnapLog): so do we.
      await expect(start({ dataDir: dirs.dataLogDir, dataLogDir: dirs.dataDir })).rejects.toThrow(/Log directory .* has snapshot files/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("autopurge.purgeInterval runs the purge at start and then every interval", async () => {
    const disk = new MemoryDisk();
    const first = await start(disk, { snapCount: 10 });
    const client = await first.client();
    for (let i = 0; i < 60; i++) await client.create(`/p${i}`, null);
    await first.stop();
    const before = (await disk.list()).filter((f) => f.startsWith("snapshot.")).length;
    expect(before).toBeGreaterThan(4);
    const second = await start(disk, { purgeHours: 1, retain: 3 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(second.store.stats.purges).toBe(1);
    expect((await disk.list()).filter((f) => f.startsWith("snapshot."))).toHaveLength(3);
  });
});
