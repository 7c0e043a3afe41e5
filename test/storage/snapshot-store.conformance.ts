/**
 * The contract of a snapshot store (`SnapshotStore`), run against every implementation (snapshot-store.test.ts).
 * Reference: Apache FileSnap (file names, newest first) and SnapStream; a snapshot is all there or not there.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiskSnapshotStore } from "../../src/storage/snapshot-store.ts";
import type { DiskHarness, DiskKind } from "./support/harnesses.ts";

export function snapshotStoreConformance(kind: DiskKind): void {
  describe(`SnapshotStore conformance: ${kind.name}`, () => {
    let h: DiskHarness;
    let store: DiskSnapshotStore;
    beforeEach(async () => {
      h = kind.create();
      await h.disk.ensure();
      store = new DiskSnapshotStore(h.disk);
    });
    afterEach(() => h.cleanup());

    it("saves snapshot.<hex zxid> whole and lists snapshots newest first", async () => {
      await store.save(0x10n, [Buffer.from("first"), Buffer.from(" part")]);
      await store.save(0x2n, [Buffer.from("older")]);
      await store.save(0x1_0000_0003n, [Buffer.from("epoch 1")]);
      expect((await store.list()).map((s) => s.name)).toEqual(["snapshot.100000003", "snapshot.10", "snapshot.2"]);
      expect((await store.list()).map((s) => s.zxid)).toEqual([0x1_0000_0003n, 0x10n, 0x2n]);
      expect((await store.read("snapshot.10")).toString()).toBe("first part");
    });

    it("a second snapshot of the same zxid replaces the first", async () => {
      await store.save(5n, [Buffer.from("one")]);
      await store.save(5n, [Buffer.from("two")]);
      expect(await store.list()).toHaveLength(1);
      expect((await store.read("snapshot.5")).toString()).toBe("two");
    });

    it("removes", async () => {
      await store.save(5n, [Buffer.from("x")]);
      await store.remove("snapshot.5");
      expect(await store.list()).toEqual([]);
    });

    it("ignores files that are not snapshots, and a snapshot still being written", async () => {
      h.disk.create("log.1").close();
      h.disk.create("tmp.snapshot.9").close();
      h.disk.create("myid").close();
      expect(await store.list()).toEqual([]);
      expect(await store.removeLeftovers()).toEqual(["tmp.snapshot.9"]);
      expect((await h.disk.list()).sort()).toEqual(["log.1", "myid"]);
    });

    it.skipIf(kind.create().crash === undefined)("a crash in the middle of writing leaves no snapshot behind", async () => {
      const saving = store.save(7n, Array.from({ length: 10 }, () => Buffer.alloc(1000, 1)));
      await new Promise((resolve) => setImmediate(resolve));
      h.crash!({ kind: "processCrash" });
      await saving.catch(() => {});
      const after = new DiskSnapshotStore(h.disk);
      expect(await after.list()).toEqual([]);
      expect(await after.removeLeftovers()).toEqual(["tmp.snapshot.7"]);
    });

    it.skipIf(kind.create().crash === undefined)("a snapshot that was saved survives a power loss", async () => {
      await store.save(7n, [Buffer.from("kept")]);
      h.crash!({ kind: "powerLoss" });
      expect((await new DiskSnapshotStore(h.disk).read("snapshot.7")).toString()).toBe("kept");
    });
  });
}
