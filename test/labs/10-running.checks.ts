// Lab 10 (book chapter 10 "Running ZooKeeper"; notes 第10章: the configuration table, preallocation with \0,
// snapshots and purging): zoo.cfg values, the quorum from the ensemble lines, the transaction log's preallocation and
// its torn tail, and autopurge's retention rule. Each check compares the learner's piece with the reference on
// generated inputs, then runs the learner's piece inside the reference storage code where it has a seam.
import assert from "node:assert/strict";
import { ConfigError } from "#src/config/errors.ts";
import { keyRules } from "#src/config/keys.ts";
import { parseZooCfg } from "#src/config/parse.ts";
import type { ValueSchema } from "#src/config/values.ts";
import * as referenceValues from "#src/config/values.ts";
import * as referenceVerifier from "#src/quorum/verifier.ts";
import * as referenceLog from "#src/storage/txn-log.ts";
import * as referenceFormat from "#src/storage/log-format.ts";
import * as referencePurge from "#src/storage/purge.ts";
import { MemoryDisk } from "#src/storage/disk.ts";
import { logFileName, snapshotFileName, logsFrom, sortByZxid, type NamedZxid } from "#src/storage/files.ts";
import { fileHeaderBytes, logFilePrefix } from "#src/storage/limits.ts";
import { makeZxid } from "#src/tree/txn.ts";
import type { Random } from "#src/sim/random.ts";
import { defineChecks } from "#src/workbook/checks.ts";
import { LabTodo } from "#src/workbook/lab-todo.ts";

type ValuesModule = typeof import("#src/config/values.ts");
type VerifierModule = typeof import("#src/quorum/verifier.ts");
type TxnLogModule = typeof import("#src/storage/txn-log.ts");
type LogFormatModule = typeof import("#src/storage/log-format.ts");
type PurgeModule = typeof import("#src/storage/purge.ts");

// ------------------------------------------------------------------------------------------------ 10.1 zoo.cfg values

/** Every key of the configuration table (notes 第10章, keys.ts) with values that must pass and values that must not. */
const valueCases: Record<string, { good: string[]; bad: string[] }> = {
  clientPort: { good: ["2181", "1", "65535"], bad: ["0", "65536", "abc", "21 81", "-1", "1.5"] },
  clientPortAddress: { good: ["127.0.0.1", "zk1.example.com", "[::1]"], bad: ["300.1.1.1", "no spaces", "a..b"] },
  maxClientCnxns: { good: ["0", "60"], bad: ["-1", "many"] },
  dataDir: { good: ["/var/lib/zookeeper", "data"], bad: [""] },
  dataLogDir: { good: ["/var/log/zk"], bad: [""] },
  preAllocSize: { good: ["65536", "1"], bad: ["0", "64M", "-5"] },
  snapCount: { good: ["100000", "-3"], bad: ["1e5", "x"] },
  "autopurge.snapRetainCount": { good: ["3", "10"], bad: ["three"] },
  "autopurge.purgeInterval": { good: ["0", "24"], bad: ["-1", "1h"] },
  "fsync.warningthresholdms": { good: ["1000", "0"], bad: ["-1", "1s"] },
  tickTime: { good: ["2000", "1"], bad: ["0", "-2000", "2000ms", "2.5", "0x10"] },
  minSessionTimeout: { good: ["4000", "-1"], bad: ["0", "-2", "four"] },
  maxSessionTimeout: { good: ["40000", "-1"], bad: ["0", "forty"] },
  globalOutstandingLimit: { good: ["1000"], bad: ["0"] },
  "jute.maxbuffer": { good: ["1048575"], bad: ["0", "1MB"] },
  initLimit: { good: ["10"], bad: ["0", "ten"] },
  syncLimit: { good: ["5"], bad: ["0", "-5"] },
  leaderServes: { good: ["yes", "no", "true", "NO"], bad: ["maybe", "1"] },
  cnxTimeout: { good: ["5000"], bad: ["0"] },
  electionAlg: { good: ["3"], bad: ["0", "1", "2", "fast"] },
  peerType: { good: ["participant", "observer", "OBSERVER"], bad: ["follower", "leader"] },
  standaloneEnabled: { good: ["true", "false", "TRUE"], bad: ["yes", "1"] },
  syncEnabled: { good: ["true"], bad: ["on"] },
  quorumListenOnAllIPs: { good: ["false"], bad: ["0"] },
  reconfigEnabled: { good: ["false"], bad: ["nope"] },
  "4lw.commands.whitelist": { good: ["srvr,stat,ruok", "*", " stat , ruok "], bad: ["status", "srvr,STAT"] },
  "DigestAuthenticationProvider.superDigest": { good: ["super:D/InIHSb7yEEbrWz8b9l71RjZJU="], bad: ["super", "super:not base64!"] },
  extendedTypesEnabled: { good: ["true"], bad: ["yes"] },
  "zookeeper.extendedTypesEnabled": { good: ["false"], bad: ["no"] },
  localSessionsEnabled: { good: ["false"], bad: ["off"] },
  "znode.container.checkIntervalMs": { good: ["60000"], bad: ["0"] },
  "znode.container.maxPerMinute": { good: ["10000"], bad: ["-1"] },
};

function outcome<T>(run: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (error instanceof LabTodo) throw error; // not written yet: say so, not "wrong"
    return { ok: false, error };
  }
}

function problemOf(schema: ValueSchema<unknown>, value: string): string {
  const result = schema.safeParse(value);
  return result.success ? "" : (result.error.issues[0]?.message ?? "");
}

// ------------------------------------------------------------------------------------------------ 10.2 the quorum

interface EnsembleDraft {
  readonly text: string;
  readonly serverIds: number[];
}

/** A random ensemble as zoo.cfg lines: 1–7 servers, some observers, sometimes groups and weights (some 0). */
function randomEnsemble(random: Random): EnsembleDraft {
  const count = random.int(1, 7);
  const ids = [...new Set(Array.from({ length: count }, () => random.int(1, 12)))].sort((a, b) => a - b);
  const observers = new Set(ids.filter((_, i) => i > 0 && random.chance(0.25)));
  const lines = ["tickTime=2000", "dataDir=/tmp/zk", "initLimit=5", "syncLimit=2"];
  for (const id of ids) lines.push(`server.${id}=zk${id}:2888:3888${observers.has(id) ? ":observer" : random.chance(0.2) ? ":participant" : ""}`);
  const participants = ids.filter((id) => !observers.has(id));
  if (random.chance(0.5)) {
    const groupCount = random.int(1, Math.min(3, participants.length));
    for (let g = 0; g < groupCount; g++) {
      const members = participants.filter((_, i) => i % groupCount === g);
      lines.push(`group.${g + 1}=${members.join(":")}`);
    }
    for (const id of participants) if (random.chance(0.6)) lines.push(`weight.${id}=${random.pick([0, 1, 1, 2, 3])}`);
  }
  return { text: lines.join("\n"), serverIds: ids };
}

function describeQuorum(v: referenceVerifier.QuorumVerifier, ids: readonly number[]): string {
  const subsets: string[] = [];
  for (let mask = 0; mask < 1 << ids.length; mask++) {
    const set = ids.filter((_, i) => mask & (1 << i));
    if (v.containsQuorum(set)) subsets.push(`{${set.join(",")}}`);
  }
  return subsets.join(" ");
}

// ------------------------------------------------------------------------------------------------ 10.3, 10.4 the log

function entryFor(zxid: bigint, bytes: number): referenceLog.LogEntry {
  return {
    header: { sessionId: 0x100n, cxid: Number(zxid & 0xffffn), zxid, timeMs: 1_700_000_000_000n, type: "setData" },
    txn: { kind: "setData", path: "/lab10", data: Buffer.alloc(bytes, Number(zxid % 251n)), version: Number(zxid & 0xffffn) },
    digest: null,
  };
}

const quietLogger = { info: () => {}, warn: () => {} };

async function readAll(log: referenceLog.TxnLog, after = 0n): Promise<{ zxids: bigint[]; torn: string[] }> {
  const zxids: bigint[] = [];
  const torn: string[] = [];
  for await (const batch of log.read(after, (file, end) => torn.push(`${file}@${end.offset}`))) for (const e of batch) zxids.push(e.header.zxid);
  return { zxids, torn };
}

/** A log file image: header, entries with random bodies, then `zeros` bytes of preallocation. */
function randomLogImage(random: Random, entries: number, zeros: number): Buffer {
  const parts = [referenceFormat.encodeFileHeader()];
  for (let i = 0; i < entries; i++) {
    const body = Buffer.alloc(random.int(1, 40));
    for (let k = 0; k < body.length; k++) body[k] = random.int(0, 255);
    parts.push(referenceFormat.encodeLogEntry(body));
  }
  parts.push(Buffer.alloc(zeros));
  return Buffer.concat(parts);
}

async function scanWith(format: LogFormatModule, image: Buffer, chunkBytes: number): Promise<string> {
  const lines: string[] = [];
  const scan = format.scanLogFile(format.bufferSource("log.1", image), { chunkBytes, entryBytesMax: 4096 });
  for (;;) {
    const step = await scan.next();
    if (step.done) {
      const end = step.value;
      lines.push(`${end.kind} at ${end.offset}`);
      return lines.join("; ");
    }
    for (const e of step.value) lines.push(`entry at ${e.offset} (${e.body.length} bytes)`);
  }
}

// ------------------------------------------------------------------------------------------------ 10.5 purge

/** A snapshot file that SnapStream.isValidSnapshot accepts (ends in int 1 and '/'), or a truncated one. */
function snapshotBytes(valid: boolean): Buffer {
  const bytes = Buffer.alloc(32, 7);
  if (valid) {
    bytes.writeInt32BE(1, bytes.length - 5);
    bytes[bytes.length - 1] = 0x2f;
  }
  return bytes;
}

async function randomDataDir(random: Random): Promise<{ snaps: MemoryDisk; logs: MemoryDisk; listing: string }> {
  const snaps = new MemoryDisk("snap:");
  const logs = new MemoryDisk("log:");
  const listing: string[] = [];
  let zxid = BigInt(random.int(0, 5));
  const files = random.int(0, 14);
  for (let i = 0; i < files; i++) {
    zxid += BigInt(random.int(1, 50));
    if (random.chance(0.3)) zxid = makeZxid(Number(zxid >> 32n) + 1, random.int(0, 3));
    if (random.chance(0.5)) {
      const valid = random.chance(0.85);
      const file = snaps.create(snapshotFileName(zxid));
      file.write(0, snapshotBytes(valid));
      await file.datasync();
      listing.push(`${snapshotFileName(zxid)}${valid ? "" : " (invalid)"}`);
    }
    if (random.chance(0.6)) {
      const file = logs.create(logFileName(zxid + BigInt(random.int(0, 1))));
      file.write(0, referenceFormat.encodeFileHeader());
      await file.datasync();
    }
  }
  listing.push(...(await logs.list()));
  return { snaps, logs, listing: listing.join(" ") };
}

const names = (files: readonly NamedZxid[]) => files.map((f) => f.name);

export default defineChecks(10, {
  "10.1": async (lab) => {
    const learner = await lab.load<ValuesModule>("values.ts");
    const tried: string[] = [];
    for (const [key, { good, bad }] of Object.entries(valueCases)) {
      const rule = keyRules.get(key);
      assert.ok(rule !== undefined, `the configuration table lists ${key}, but keys.ts has no rule for it`);
      const schema = rule.schema as ValueSchema<unknown>;
      for (const value of [...good, ...bad]) {
        const origin = { source: "zoo.cfg", key, value, line: random10(lab.random) };
        tried.push(`${key}=${value}`);
        const expected = outcome(() => referenceValues.parseValue(schema, origin));
        const actual = outcome(() => learner.parseValue(schema, origin));
        if (expected.ok) {
          assert.ok(actual.ok, `zoo.cfg ${key}=${JSON.stringify(value)} is valid, but parseValue threw ${actual.ok ? "" : String(actual.error)}`);
          assert.deepEqual(actual.value, expected.value, `zoo.cfg ${key}=${JSON.stringify(value)}: the typed value`);
          continue;
        }
        assert.ok(!actual.ok, `zoo.cfg ${key}=${JSON.stringify(value)} is not valid (${problemOf(schema, value)}), but parseValue returned ${JSON.stringify(actual.ok ? actual.value : null)}`);
        const error = actual.error;
        assert.ok(error instanceof ConfigError, `zoo.cfg ${key}=${JSON.stringify(value)}: expected a ConfigError (errors.ts invalidValue), got ${String(error)}`);
        assert.equal(error.key, key, `zoo.cfg ${key}=${JSON.stringify(value)}: the error's key`);
        assert.equal(error.value, value, `zoo.cfg ${key}=${JSON.stringify(value)}: the error's value`);
        assert.equal(error.line, origin.line, `zoo.cfg ${key}=${JSON.stringify(value)}: the error's line`);
        const problem = problemOf(schema, value);
        for (const part of [key, `"${value}"`, problem]) {
          assert.ok(error.message.includes(part), `zoo.cfg ${key}=${JSON.stringify(value)}: the message must name the key, the value and what is allowed (${JSON.stringify(part)}); it says: ${error.message}`);
        }
        assert.equal(error.message, (expected as { error: Error }).error.message, `zoo.cfg ${key}=${JSON.stringify(value)}: the message`);
      }
    }
    assert.ok(tried.length > 100, "every key was tried");
  },

  "10.2": async (lab) => {
    const learner = await lab.load<VerifierModule>("verifier.ts");
    const fixed = [
      "server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\nserver.4=d:2888:3888:observer",
      "server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\nserver.4=d:2888:3888\nserver.5=e:2888:3888\ngroup.1=1:2:3\ngroup.2=4:5\nweight.3=0",
    ].map((lines) => ({ text: `tickTime=2000\ndataDir=/tmp/zk\ninitLimit=5\nsyncLimit=2\n${lines}`, serverIds: [1, 2, 3, 4, 5] }));
    const drafts = [...fixed, ...Array.from({ length: 300 }, () => randomEnsemble(lab.random))];
    for (const draft of drafts) {
      let config;
      try {
        config = parseZooCfg(draft.text).config;
      } catch {
        continue; // a generated file the reference refuses (e.g. a group of weight 0 only): nothing to compare
      }
      if (config.servers.length === 0) continue;
      let expected: referenceVerifier.QuorumVerifier;
      try {
        expected = referenceVerifier.verifierFromConfig(config);
      } catch {
        continue;
      }
      const where = `(seed ${lab.random.seed}) for this zoo.cfg:\n${draft.text}\n`;
      const actual = learner.verifierFromConfig(config);
      assert.equal(actual.kind, expected.kind, `the quorum kind ${where}(group.x lines make it hierarchical)`);
      assert.deepEqual([...actual.votingMembers], [...expected.votingMembers], `the voting members ${where}`);
      assert.deepEqual([...actual.observers], [...expected.observers], `the observers ${where}(":observer" servers never vote)`);
      for (const id of draft.serverIds) assert.equal(actual.weight(id), expected.weight(id), `the weight of server ${id} ${where}`);
      const ids = config.servers.map((s) => s.id);
      assert.equal(describeQuorum(actual, ids), describeQuorum(expected, ids), `the sets of servers that are a quorum ${where}`);
    }
  },

  "10.3": async (lab) => {
    const learner = await lab.load<TxnLogModule>("txn-log.ts");
    const pre = 64 * 1024;
    const cases: Array<[number, number, number]> = [
      [16, 16, pre], [16, pre + 16, pre], [pre + 16 - 4097, pre + 16, pre], [pre + 16 - 4096, pre + 16, pre], [pre + 16 - 4095, pre + 16, pre],
      [3 * pre + 5, pre, pre], [100, 100, 0], [5_000, 100, 0], [2 * pre, 2 * pre, pre],
    ];
    for (let i = 0; i < 500; i++) {
      const size = lab.random.pick([16, 4096, 65552, 131072, lab.random.int(0, 300_000)]);
      cases.push([Math.max(0, size + lab.random.int(-9000, 9000)), size, lab.random.pick([0, 1024, 4096, pre, lab.random.int(1, 100_000)])]);
    }
    for (const [position, fileSize, preAllocSize] of cases) {
      assert.equal(
        learner.paddedFileSize(position, fileSize, preAllocSize),
        referenceLog.paddedFileSize(position, fileSize, preAllocSize),
        `paddedFileSize(position ${position}, fileSize ${fileSize}, preAllocSize ${preAllocSize}) (seed ${lab.random.seed}): within 4096 bytes of the end the file grows by preAllocSize`,
      );
    }

    // The learner's log writes with its own preallocation; its files must grow like the reference's, hold zeros
    // after the last entry, and read back whole.
    const preAllocSizeBytes = lab.random.pick([4096, 8192, 16384]);
    const mine = new MemoryDisk("mine:");
    const theirs = new MemoryDisk("reference:");
    const options = { preAllocSizeBytes, fsyncWarningThresholdMs: 1_000_000, logger: quietLogger };
    const learnerLog = new learner.DiskTxnLog(mine, options);
    const referenceLogFile = new referenceLog.DiskTxnLog(theirs, options);
    const zxids: bigint[] = [];
    for (let batch = 0; batch < 12; batch++) {
      for (let i = lab.random.int(1, 6); i > 0; i--) {
        const zxid = makeZxid(1, zxids.length + 1);
        const bytes = lab.random.pick([10, 200, 1500, 5000]);
        zxids.push(zxid);
        learnerLog.append(entryFor(zxid, bytes), () => {});
        referenceLogFile.append(entryFor(zxid, bytes), () => {});
      }
      await learnerLog.flush();
      await referenceLogFile.flush();
      const name = logFileName(makeZxid(1, 1));
      const [a, b] = [await mine.info(name), await theirs.info(name)];
      assert.equal(a.size, b.size, `after ${zxids.length} txns (preAllocSize ${preAllocSizeBytes}, seed ${lab.random.seed}) the log file should be ${b.size} bytes (preallocated), it is ${a.size}`);
      const bytes = await mine.readAll(name);
      const end = (await theirs.readAll(name)).length;
      assert.ok(bytes.equals(await theirs.readAll(name)), `the log file's bytes differ from the reference's (the preallocated tail must be zeros, \\0), ${end} bytes`);
    }
    await learnerLog.close();
    await referenceLogFile.close();
    const back = await readAll(new referenceLog.DiskTxnLog(mine, options));
    assert.deepEqual(back.zxids, zxids, "the reference reads every txn back from the learner's preallocated log");
    assert.deepEqual(back.torn, [], "a preallocated log ends cleanly in zeros, no torn tail");
  },

  "10.4": async (lab) => {
    const learner = await lab.load<LogFormatModule>("log-format.ts");
    // Fixed cases first: each rule of the torn tail on its own.
    const one = Buffer.concat([referenceFormat.encodeFileHeader(), referenceFormat.encodeLogEntry(Buffer.from("hello"))]);
    const named: Array<[string, Buffer]> = [
      ["a whole entry then preallocated zeros", Buffer.concat([one, Buffer.alloc(64)])],
      ["an entry whose 0x42 end byte is missing", Buffer.concat([one.subarray(0, one.length - 1), Buffer.alloc(20)])],
      ["an entry with a CRC that does not match its body", Buffer.concat([one.subarray(0, 20), Buffer.from("jello"), one.subarray(25), Buffer.alloc(8)])],
      ["an impossible (oversized) entry length", Buffer.concat([one.subarray(0, 24), Buffer.from([0x7f, 0, 0, 0]), one.subarray(28)])],
      ["a zero length with a non-zero crc", Buffer.concat([one, Buffer.from([0, 0, 0, 0, 0, 0, 0, 9]), Buffer.alloc(30)])],
      ["garbage after preallocated zeros", Buffer.concat([one, Buffer.alloc(40), Buffer.from([1])])],
      ["an empty file", Buffer.alloc(0)],
    ];
    for (const [what, image] of named) {
      const expected = await scanWith(referenceFormat, image, 4096);
      assert.equal(await scanWith(learner, image, 4096), expected, `scanning ${what}`);
    }
    // Logs cut at every byte offset (a crash in the middle of a write), read in small and large chunks.
    for (let round = 0; round < 4; round++) {
      const image = randomLogImage(lab.random, lab.random.int(1, 6), lab.random.pick([0, 13, 100]));
      const chunkBytes = lab.random.pick([7, 64, 4096]);
      for (let cut = 0; cut <= image.length; cut++) {
        const torn = image.subarray(0, cut);
        const expected = await scanWith(referenceFormat, torn, chunkBytes);
        const actual = await scanWith(learner, torn, chunkBytes);
        assert.equal(actual, expected, `a log of ${image.length} bytes cut at offset ${cut} (after the ${fileHeaderBytes}-byte header; chunks of ${chunkBytes}; seed ${lab.random.seed})`);
      }
      // A byte flipped inside an entry that is followed by others: damage, not a torn tail.
      const flip = lab.random.int(fileHeaderBytes, image.length - 1);
      const damaged = Buffer.from(image);
      damaged[flip] = (damaged[flip]! + 1 + lab.random.int(0, 253)) & 0xff;
      assert.equal(await scanWith(learner, damaged, chunkBytes), await scanWith(referenceFormat, damaged, chunkBytes), `the log with byte ${flip} changed (seed ${lab.random.seed})`);
    }

    // Inside the reference log: the learner's scanner decides where a torn log ends when the log is read back.
    const { DiskTxnLog } = await lab.load<TxnLogModule>("txn-log.ts");
    const disk = new MemoryDisk("torn:");
    const options = { preAllocSizeBytes: 4096, fsyncWarningThresholdMs: 1_000_000, logger: quietLogger };
    const writer = new referenceLog.DiskTxnLog(disk, options);
    for (let i = 1; i <= 5; i++) writer.append(entryFor(makeZxid(2, i), 30), () => {});
    await writer.close();
    const name = logFileName(makeZxid(2, 1));
    const whole = await disk.readAll(name);
    let lastData = whole.length - 1;
    while (lastData > 0 && whole[lastData] === 0) lastData--;
    const cutAt = lab.random.int(fileHeaderBytes + 1, lastData);
    await disk.truncate(name, cutAt);
    const expected = await readAll(new referenceLog.DiskTxnLog(disk, options));
    const actual = await readAll(new DiskTxnLog(disk, options));
    assert.deepEqual(actual, expected, `the log cut at ${cutAt} read back through the learner's scan (seed ${lab.random.seed})`);
  },

  "10.5": async (lab) => {
    const learner = await lab.load<PurgeModule>("purge.ts");
    for (let round = 0; round < 150; round++) {
      const { snaps, logs, listing } = await randomDataDir(lab.random);
      const retain = lab.random.int(3, 5);
      const expected = await referencePurge.planPurge(snaps, logs, retain);
      const actual = await learner.planPurge(snaps, logs, retain);
      const where = `keeping ${retain} snapshots of [${listing}] (seed ${lab.random.seed})`;
      assert.deepEqual(names(actual.retained), names(expected.retained), `the snapshots kept, newest first, ${where}`);
      assert.equal(actual.leastZxid, expected.leastZxid, `the zxid below which files go, ${where}`);
      assert.deepEqual(names(actual.removeSnapshots), names(expected.removeSnapshots), `the snapshots removed, ${where}`);
      assert.deepEqual(names(actual.removeLogs), names(expected.removeLogs), `the logs removed, ${where}`);
      if (actual.leastZxid !== null) {
        for (const needed of logsFrom(sortByZxid(await logs.list(), logFilePrefix), actual.leastZxid)) {
          assert.ok(!names(actual.removeLogs).includes(needed.name), `${needed.name} may hold txns after the oldest kept snapshot; deleting it makes that snapshot useless, ${where}`);
        }
      }
    }
    const empty = new MemoryDisk();
    await assert.rejects(() => learner.planPurge(empty, empty, 2), RangeError, "autopurge.snapRetainCount below 3 is refused with a RangeError (PurgeTxnLog: count should be greater than or equal to 3)");
    // The learner's plan drives the reference's purge (the learner's module): what is left is what the plan kept.
    const { snaps, logs } = await randomDataDir(lab.random);
    const before = [...(await snaps.list()), ...(await logs.list())];
    const report = await learner.purge(snaps, logs, 3);
    const after = [...(await snaps.list()), ...(await logs.list())];
    assert.deepEqual(after.sort(), before.filter((n) => !report.removed.includes(n)).sort(), "purge deletes exactly the files of the plan");
  },
});

function random10(random: Random): number {
  return random.int(1, 40);
}
