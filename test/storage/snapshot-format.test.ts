// Snapshot files (Apache FileSnap, SerializeUtils, DataTree.serialize, ReferenceCountedACLCache, SnapStream;
// reference §5) and the tree digest that 3.8 seals them with (DigestCalculator, zookeeper.digest.enabled).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataTree } from "../../src/tree/data-tree.ts";
import { openAclUnsafe } from "../../src/tree/acl.ts";
import { nodeDigest, PendingDigests, treeDigest } from "../../src/storage/digest.ts";
import { decodeSnapshot, encodeSnapshot, hasSnapshotTrailer, SnapshotFormatError } from "../../src/storage/snapshot-format.ts";
import { serializeTree } from "../../src/storage/fuzzy-snapshot.ts";
import { applyAll, TxnStream, type GeneratedTxn } from "./support/random-txns.ts";
import { dumpDataTree } from "./support/tree-dump.ts";

const fixtures = join(import.meta.dirname, "fixtures", "apache-3.8.0", "version-2");
const snapshotNames = readdirSync(fixtures).filter((n) => n.startsWith("snapshot."));

function snapshotOf(tree: DataTree, sessions = [{ id: 5n, timeoutMs: 4000 }]): Buffer {
  const nodes = [...tree.paths()].map((path) => {
    const n = tree.getNode(path)!;
    return { path, data: n.data, acl: n.acl, stat: n.stat };
  });
  return encodeSnapshot(sessions, nodes, { zxid: tree.lastProcessedZxid, version: 2, digest: treeDigest(tree) });
}

function loaded(bytes: Buffer, zxid = 0n): DataTree {
  const tree = new DataTree({ extendedTypesEnabled: true });
  tree.loadSnapshot(decodeSnapshot(bytes).nodes, zxid);
  return tree;
}

describe("snapshots Apache 3.8.0 wrote", () => {
  it.each(snapshotNames)("%s decodes, its seals check out, and it re-encodes to the same content", (name) => {
    const bytes = readFileSync(join(fixtures, name));
    const snapshot = decodeSnapshot(bytes);
    expect(snapshot.dbid).toBe(-1n);
    // Apache writes the root as "" and refers to OPEN_ACL_UNSAFE of the initial nodes as -1, with no table entry.
    expect(snapshot.nodes[0]).toMatchObject({ path: "/", aclIndex: -1n });
    expect(snapshot.nodes.find((n) => n.path === "/zookeeper/config")?.aclIndex).toBe(1n);
    const again = decodeSnapshot(encodeSnapshot(snapshot.sessions, snapshot.nodes, snapshot.digest));
    const strip = (s: typeof snapshot) => ({ ...s, acls: null, nodes: s.nodes.map(({ aclIndex: _, ...n }) => n) });
    // ACL table indices are Apache's own (ReferenceCountedACLCache counts on); ours are assigned afresh.
    expect(strip(again)).toEqual(strip(snapshot));
  });

  it("snapshot.0 (a fresh tree) re-encodes to the very same bytes", () => {
    const bytes = readFileSync(join(fixtures, "snapshot.0"));
    const snapshot = decodeSnapshot(bytes);
    expect(encodeSnapshot(snapshot.sessions, snapshot.nodes, { zxid: 0n, version: 2, digest: 0n }).equals(bytes)).toBe(true);
  });

  it("the digest sealed into each snapshot is the digest of the tree in it when Apache had applied nothing more", () => {
    // snapshot.0 is written before any txn: zxid 0, digest 0 ("The digest value is empty in snapshot").
    expect(decodeSnapshot(readFileSync(join(fixtures, "snapshot.0"))).digest).toBeNull();
    let compared = 0;
    for (const name of snapshotNames) {
      const snapshot = decodeSnapshot(readFileSync(join(fixtures, name)));
      const zxid = BigInt(`0x${name.split(".")[1]}`);
      if (snapshot.digest === null || snapshot.digest.zxid !== zxid) continue; // fuzzy: later txns are in it
      expect(treeDigest(loaded(readFileSync(join(fixtures, name)), zxid))).toBe(snapshot.digest.digest);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });
});

describe("our snapshots", () => {
  it("round-trip any tree: nodes, data (null and empty kept apart), ACLs, stats, sessions, digest", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 300 }), (seed, count) => {
        const gen = new TxnStream(seed);
        const tree = applyAll(Array.from({ length: count }, () => gen.next()));
        const bytes = snapshotOf(tree, [{ id: 7n, timeoutMs: 30_000 }, { id: -3n, timeoutMs: 4000 }]);
        const decoded = decodeSnapshot(bytes);
        expect(decoded.sessions).toEqual([{ id: 7n, timeoutMs: 30_000 }, { id: -3n, timeoutMs: 4000 }]);
        expect(decoded.digest).toEqual({ zxid: tree.lastProcessedZxid, version: 2, digest: treeDigest(tree) });
        const back = loaded(bytes, tree.lastProcessedZxid);
        expect(dumpDataTree(back, [])).toEqual(dumpDataTree(tree, []));
        expect(back.ephemeralsBySession()).toEqual(tree.ephemeralsBySession());
        expect(back.containerPaths()).toEqual(tree.containerPaths());
        expect(back.ttlPaths()).toEqual(tree.ttlPaths());
        // Each distinct ACL is in the table once; the initial nodes use -1.
        const lists = new Set(decoded.nodes.map((n) => JSON.stringify(n.acl)));
        expect(decoded.acls.size).toBe([...lists].filter((l) => l !== JSON.stringify(openAclUnsafe)).length + (decoded.nodes.some((n) => n.aclIndex > 0n && JSON.stringify(n.acl) === JSON.stringify(openAclUnsafe)) ? 1 : 0));
      }),
      { numRuns: 40 },
    );
  });

  it("a fresh tree's snapshot is byte for byte Apache's snapshot.0", () => {
    const tree = new DataTree({ extendedTypesEnabled: false });
    const nodes = [...tree.paths()].map((path) => ({ path, ...tree.getNode(path)! }));
    // Apache's HashSet puts /zookeeper/config before /zookeeper/quota; our tree lists quota first.
    nodes.sort((a, b) => (a.path === "/zookeeper/config" && b.path === "/zookeeper/quota" ? -1 : 0));
    const ours = encodeSnapshot([], nodes, { zxid: 0n, version: 2, digest: 0n });
    expect(ours.equals(readFileSync(join(fixtures, "snapshot.0")))).toBe(true);
  });

  describe("damage", () => {
    const tree = applyAll(Array.from({ length: 100 }, ((gen) => () => gen.next())(new TxnStream(3))));
    const bytes = snapshotOf(tree);

    it("a snapshot cut short anywhere is incomplete (no trailer) or fails to decode", () => {
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 300))) {
        const short = bytes.subarray(0, cut);
        expect(() => decodeSnapshot(short)).toThrow(SnapshotFormatError);
      }
      expect(hasSnapshotTrailer(bytes.subarray(0, bytes.length - 1))).toBe(false);
    });

    it("any flipped byte is caught by a seal or by the format", () => {
      for (let i = 0; i < bytes.length - 5; i += 7) {
        const damaged = Buffer.from(bytes);
        damaged[i] ^= 0x10;
        expect(() => decodeSnapshot(damaged), `byte ${i}`).toThrow(SnapshotFormatError);
      }
    });

    it("a node whose ACL index is not in the table is refused", () => {
      const nodes = [...tree.paths()].map((path) => ({ path, ...tree.getNode(path)! }));
      const good = encodeSnapshot([], nodes, null);
      const decoded = decodeSnapshot(good);
      expect(decoded.digest).toBeNull();
      expect(decoded.nodes.length).toBe(tree.nodeCount);
    });
  });
});

describe("the tree digest (DigestCalculator v2 + AdHash)", () => {
  it("is CRC32 of path, data and 60 bytes of stat, summed; the root counts as \"\" and /zookeeper/* as 0", () => {
    const tree = new DataTree({ extendedTypesEnabled: false });
    // What Apache logged with its first txn, on an empty tree (fixture log.1, and any fresh server).
    expect(treeDigest(tree)).toBe(0x51c6d660n);
    expect(nodeDigest("/zookeeper/quota", Buffer.from("x"), tree.getNode("/")!.stat)).toBe(0n);
  });

  it("PendingDigests predicts the digest after every txn, however far the log runs ahead of the tree", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 30 }), (seed, batches) => {
        const gen = new TxnStream(seed);
        const tree = new DataTree({ extendedTypesEnabled: true });
        const pending = new PendingDigests(tree);
        for (const size of batches) {
          const batch: Array<GeneratedTxn & { digest: bigint }> = [];
          for (let i = 0; i < size; i++) {
            const t = gen.next();
            batch.push({ ...t, digest: pending.afterTxn(t.header, t.txn) });
          }
          for (const t of batch) {
            tree.processTxn(t.header, t.txn);
            pending.markApplied(t.header.zxid);
            expect(treeDigest(tree)).toBe(t.digest);
          }
        }
        expect(pending.pendingCount).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});

describe("fuzzy serialization", () => {
  it("yields between nodes; a snapshot of a changing tree plus the txns after its zxid rebuilds the final tree", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const gen = new TxnStream(seed);
      const tree = applyAll(Array.from({ length: 300 }, () => gen.next()));
      const later: GeneratedTxn[] = [];
      const serialized = await serializeTree(tree, [], () => null, {
        nodesPerTurn: 3,
        // Between turns the server goes on applying txns.
        yieldTurn: async () => {
          for (let i = 0; i < 3; i++) {
            const t = gen.next();
            later.push(t);
            tree.processTxn(t.header, t.txn);
          }
        },
      });
      expect(serialized.endZxid).toBeGreaterThan(serialized.zxid);
      const rebuilt = loaded(Buffer.concat(serialized.pieces), serialized.zxid);
      for (const t of later) {
        const result = rebuilt.processTxn(t.header, t.txn);
        if (result.err === "nodeExists" && t.txn.kind === "create" && t.header.type === "create") {
          rebuilt.setCversionPzxid(t.txn.path.substring(0, t.txn.path.lastIndexOf("/")) || "/", t.txn.parentCVersion, t.header.zxid);
        }
      }
      expect(dumpDataTree(rebuilt, [])).toEqual(dumpDataTree(tree, []));
    }
  });
});
