// Lab 7 (the wire protocol; book chapter 7 and Apache's BinaryInputArchive/BinaryOutputArchive, NIOServerCnxn):
// the learner's jute primitives and frame decoder, byte for byte against the reference and against real packets
// captured from Apache's own clients talking to Apache ZooKeeper 3.8 (fixtures/captured-packets.json, written by
// scripts/capture-packets.ts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  AuthPacket,
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  DeleteRequest,
  FrameDecoder as ReferenceFrameDecoder,
  GetChildrenResponse,
  JuteReader as ReferenceReader,
  JuteWriter as ReferenceWriter,
  PathWatchRequest,
  ReplyHeader,
  RequestHeader,
  SetDataRequest,
  opCodes,
  ustring,
} from "#src/proto/index.ts";
import type { Random } from "#src/sim/random.ts";
import { defineChecks } from "#src/workbook/checks.ts";
import { GetDataResponse, JuteWriter, PathResponse, WatcherEvent, eventTypes, type EventTypeName, type RecordCodec } from "#src/proto/index.ts";
import type { CoreOutput } from "#src/client/core.ts";
import { Chroot } from "#src/client/paths.ts";
import { ClientHarness, describeOutcome, describeRequest, ops, type CoreClass, type SimClient } from "#src/sim/client-harness.ts";

type JuteModule = typeof import("#src/proto/jute.ts");
type CodecModule = typeof import("#src/proto/codec.ts");
type FrameModule = typeof import("#src/proto/frame.ts");
type CoreModule = typeof import("#src/client/core.ts");

// ---- 7.5: a scripted server's frames, and a pipelined workload in the simulator ----

function frame(build: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  build(w);
  return w.toFrame();
}

function replyFrame<T>(xid: number, zxid: bigint, err = 0, record?: RecordCodec<T>, value?: T): Buffer {
  return frame((w) => {
    ReplyHeader.write(w, { xid, zxid, err });
    if (record !== undefined && err === 0) record.write(w, value as T);
  });
}

function notificationFrame(type: EventTypeName, path: string): Buffer {
  return frame((w) => {
    ReplyHeader.write(w, { xid: -1, zxid: -1n, err: 0 });
    WatcherEvent.write(w, { type: eventTypes[type], state: 3, path });
  });
}

const someStat = { czxid: 3n, mzxid: 4n, ctime: 0n, mtime: 0n, version: 1, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 1, numChildren: 0, pzxid: 3n };

/** A seeded burst-by-burst workload, pipelined (several requests in flight at once), with drops; returns what c1 saw. */
function pipelinedRun(Core: CoreClass | undefined, seed: number): { calls: string[]; events: string[] } {
  const h = new ClientHarness({ seed, servers: 2 });
  const c = h.client("c1", { hosts: [0, 1], ...(Core !== undefined ? { core: Core } : {}) });
  const writer = h.client("writer", { hosts: [0] });
  for (const x of [c, writer]) x.connect();
  h.runUntil(() => c.state.kind === "connected" && writer.state.kind === "connected", "c1 and the writer connect", 5_000);
  for (const n of ["/a", "/b", "/c"]) h.expectOk(writer, ops.create(n, "0"));
  const r = h.random;
  for (let burst = 0; burst < 60; burst++) {
    for (let k = r.int(1, 8); k > 0; k--) {
      const path = r.pick(["/a", "/b", "/c", "/missing"]);
      const request = r.pick([
        ops.getData(path, r.chance(0.3) ? `w${burst}-${k}` : undefined),
        ops.exists(path, r.chance(0.3) ? `w${burst}-${k}` : undefined),
        ops.setData(path, `${burst}`),
        ops.create(`${path}/n-`, "", "persistentSequential"),
        ops.getChildren(path, r.chance(0.3) ? `w${burst}-${k}` : undefined),
        ops.sync("/"),
      ]);
      c.submit(request);
    }
    if (r.chance(0.3)) writer.submit(ops.setData(r.pick(["/a", "/b", "/c"]), `w${burst}`));
    if (r.chance(0.1)) h.drop(c);
    h.run(r.int(1, 60));
  }
  const settled = (x: SimClient) => x.state.kind === "connected" && x.pendingCalls.length === 0;
  h.runUntil(() => settled(c) && settled(writer), "every call completes", 30_000);
  h.run(500);
  const value = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  return {
    calls: c.calls.map((call) => `#${call.id} ${call.request.op === "auth" ? "auth" : describeRequest(call.request)} → ${describeOutcome(call.outcome)}${call.outcome?.ok ? ` ${value(call.outcome.value)}` : ""}`),
    events: c.events.map((e) => `${e.watcher} ${e.type} ${e.path}`),
  };
}

interface Capture {
  readonly client: string;
  readonly toServer: string;
  readonly toClient: string;
}
const captures: Capture[] = JSON.parse(readFileSync(new URL("./fixtures/captured-packets.json", import.meta.url), "utf8")).captures;

/** The frames of a captured stream, cut by the reference decoder. */
function framesOf(hex: string): Buffer[] {
  const decoder = new ReferenceFrameDecoder(1 << 20);
  return decoder.push(Buffer.from(hex, "hex")).flatMap((e) => (e.kind === "frame" ? [Buffer.from(e.body)] : []));
}

/** Request bodies we know how to re-encode, by opcode. */
const requestRecords = new Map<number, { write: (w: never, v: never) => void; read: (r: never) => unknown }>([
  [opCodes.create, CreateRequest],
  [opCodes.delete, DeleteRequest],
  [opCodes.setData, SetDataRequest],
  [opCodes.getData, PathWatchRequest],
  [opCodes.exists, PathWatchRequest],
  [opCodes.getChildren, PathWatchRequest],
  [opCodes.getChildren2, PathWatchRequest],
  [opCodes.auth, AuthPacket],
] as never);

/**
 * Every request a real client sent, decoded with the reference and encoded again with `makeWriter()`'s writer:
 * the bytes must be the original ones. (The records' code calls the writer's methods, so the learner's writer is
 * what produces the bytes.)
 */
function reencodeCapturedRequests(makeWriter: () => ReferenceWriter, makeReader?: (b: Buffer) => ReferenceReader): number {
  let checked = 0;
  for (const capture of captures) {
    const [handshake, ...requests] = framesOf(capture.toServer);
    const reader = makeReader ? makeReader(handshake!) : new ReferenceReader(handshake!);
    const connect = ConnectRequest.read(reader);
    assert.deepEqual(connect, ConnectRequest.read(new ReferenceReader(handshake!)), `${capture.client}: the ConnectRequest reads the same`);
    const w1 = makeWriter();
    ConnectRequest.write(w1, connect);
    assert.equal(Buffer.from(w1.view()).toString("hex"), handshake!.toString("hex"), `${capture.client}: the ConnectRequest re-encodes to the same bytes`);
    checked++;
    for (const frame of requests) {
      const ref = new ReferenceReader(frame);
      const header = RequestHeader.read(ref);
      const codec = requestRecords.get(header.type);
      if (codec === undefined) continue;
      const r = makeReader ? makeReader(frame) : new ReferenceReader(frame);
      const decodedHeader = RequestHeader.read(r);
      const body = (codec.read as (r: ReferenceReader) => unknown)(r);
      const w = makeWriter();
      RequestHeader.write(w, decodedHeader);
      (codec.write as (w: ReferenceWriter, v: unknown) => void)(w, body);
      assert.equal(Buffer.from(w.view()).toString("hex"), frame.toString("hex"), `${capture.client}: request type ${header.type} (xid ${header.xid}) re-encodes to the bytes the client sent`);
      checked++;
    }
  }
  return checked;
}

function randomString(random: Random): string | null {
  if (random.chance(0.1)) return null;
  const alphabet = ["a", "/", "Z", "0", "é", "中", "😀", "\u0000", " "];
  let s = "";
  for (let n = random.int(0, 20); n > 0; n--) s += random.pick(alphabet);
  return s;
}

export default defineChecks(7, {
  "7.1": async (lab) => {
    const { JuteWriter } = await lab.load<JuteModule>("jute.ts");
    for (const value of ["", "/zookeeper", "中文路径", "😀", null]) {
      const mine = new JuteWriter().writeString(value);
      assert.equal(Buffer.from(mine.view()).toString("hex"), Buffer.from(new ReferenceWriter().writeString(value).view()).toString("hex"), `writeString(${JSON.stringify(value)})`);
    }
    for (let i = 0; i < 300; i++) {
      const value = randomString(lab.random);
      const mine = Buffer.from(new JuteWriter(4).writeString(value).writeString(value).view());
      const ref = Buffer.from(new ReferenceWriter(4).writeString(value).writeString(value).view());
      assert.equal(mine.toString("hex"), ref.toString("hex"), `writeString(${JSON.stringify(value)}) twice (seed ${lab.random.seed})`);
    }
    const checked = reencodeCapturedRequests(() => new JuteWriter() as unknown as ReferenceWriter);
    assert.ok(checked > 10, `re-encoded ${checked} captured packets`);
  },

  "7.2": async (lab) => {
    const { JuteReader } = await lab.load<JuteModule>("jute.ts");
    const samples = [null, Buffer.alloc(0), Buffer.from("hello"), Buffer.alloc(300, 7)];
    for (let i = 0; i < 200; i++) samples.push(lab.random.chance(0.1) ? null : Buffer.from(Array.from({ length: lab.random.int(0, 40) }, () => lab.random.int(0, 255))));
    for (const sample of samples) {
      const bytes = Buffer.from(new ReferenceWriter().writeBuffer(sample).writeInt(42).view());
      const reader = new JuteReader(bytes);
      assert.deepEqual(reader.readBuffer(), sample, `readBuffer of ${bytes.toString("hex")} (seed ${lab.random.seed})`);
      assert.equal(reader.readInt(), 42, "readBuffer leaves the reader right after the buffer");
    }
    const shared = Buffer.from(new ReferenceWriter().writeBuffer(Buffer.from("abc")).view());
    const copy = new JuteReader(shared).readBuffer()!;
    shared[4] = 0x7a;
    assert.equal(copy.toString(), "abc", "readBuffer returns a copy, not a view into the frame");
    assert.throws(() => new JuteReader(Buffer.from("00000005616263", "hex")).readBuffer(), (e: Error) => e.name === "JuteDecodeError", "a buffer longer than the bytes left is a JuteDecodeError");
    assert.throws(() => new JuteReader(Buffer.from("fffffffe", "hex")).readBuffer(), (e: Error) => e.name === "JuteDecodeError", "a length below -1 is a JuteDecodeError");
    const checked = reencodeCapturedRequests(() => new ReferenceWriter(), (b) => new JuteReader(b) as unknown as ReferenceReader);
    assert.ok(checked > 10, `decoded ${checked} captured packets`);
    for (const capture of captures) {
      const [handshakeReply] = framesOf(capture.toClient);
      const response = ConnectResponse.read(new JuteReader(handshakeReply!) as unknown as ReferenceReader);
      assert.equal(response.passwd?.length, 16, `${capture.client}: the session password is 16 bytes`);
    }
  },

  "7.3": async (lab) => {
    const { vector } = await lab.load<CodecModule>("codec.ts");
    const paths = vector(ustring);
    for (let i = 0; i < 200; i++) {
      const items = lab.random.chance(0.1) ? null : Array.from({ length: lab.random.int(0, 8) }, () => randomString(lab.random));
      const bytes = Buffer.from(new ReferenceWriter().writeVectorLength(items === null ? null : items.length).view());
      const full = Buffer.concat([bytes, ...(items ?? []).map((s) => Buffer.from(new ReferenceWriter().writeString(s).view()))]);
      assert.deepEqual(paths.read(new ReferenceReader(full)), items, `a vector of ${JSON.stringify(items)} (seed ${lab.random.seed})`);
    }
    const lie = Buffer.from("7fffffff00000001", "hex");
    const started = performance.now();
    assert.throws(() => paths.read(new ReferenceReader(lie)), (e: Error) => e.name === "JuteDecodeError", "a count of 2^31-1 with 4 bytes left is refused");
    assert.ok(performance.now() - started < 200, "…at once, before allocating anything");
    let replies = 0;
    for (const capture of captures) {
      for (const frame of framesOf(capture.toClient).slice(1)) {
        const r = new ReferenceReader(frame);
        const header = ReplyHeader.read(r);
        if (header.err !== 0 || r.remaining < 4) continue;
        // Try reading a getChildren reply; only frames that the reference reads as one are compared.
        let expected: unknown;
        try {
          const ref = new ReferenceReader(frame.subarray(16));
          expected = GetChildrenResponse.read(ref).children;
          if (ref.remaining !== 0 || !Array.isArray(expected) || expected.length === 0 || !(expected as string[]).every((c) => /^[\w.-]+$/.test(c))) continue;
        } catch {
          continue;
        }
        assert.deepEqual(paths.read(new ReferenceReader(frame.subarray(16))), expected, `${capture.client}: a captured getChildren reply`);
        replies++;
      }
    }
    assert.ok(replies >= 2, `read ${replies} captured getChildren replies`);
  },

  "7.4": async (lab) => {
    const { FrameDecoder } = await lab.load<FrameModule>("frame.ts");
    for (const capture of captures) {
      for (const stream of [capture.toServer, capture.toClient]) {
        const bytes = Buffer.from(stream, "hex");
        const expected = framesOf(stream).map((f) => f.toString("hex"));
        for (let attempt = 0; attempt < 20; attempt++) {
          const decoder = new FrameDecoder(1 << 20);
          const got: string[] = [];
          for (let at = 0; at < bytes.length; ) {
            const size = lab.random.int(1, attempt % 2 === 0 ? 7 : 200);
            for (const e of decoder.push(bytes.subarray(at, at + size))) if (e.kind === "frame") got.push(Buffer.from(e.body).toString("hex"));
            at += size;
          }
          assert.deepEqual(got, expected, `${capture.client}: the same frames whatever the split (seed ${lab.random.seed})`);
          assert.equal(decoder.bufferedBytes, 0, "nothing left over after a whole stream");
        }
      }
    }
    const decoder = new FrameDecoder(100);
    assert.deepEqual(decoder.push(Buffer.from("00000065", "hex")), [{ kind: "oversize", length: 101 }], "101 > 100: refused on the length alone");
    assert.deepEqual(decoder.push(Buffer.from("0000000161", "hex")), [], "a failed decoder returns nothing more");
    assert.deepEqual(new FrameDecoder(100).push(Buffer.from("ffffffff", "hex")), [{ kind: "oversize", length: -1 }], "a negative length is refused");
    const empty = new FrameDecoder(100).push(Buffer.from("00000000", "hex"));
    assert.equal(empty.length, 1, "an empty frame is a frame");
  },
  "7.5": async (lab) => {
    const { ClientCore } = await lab.load<CoreModule>("core.ts");
    const core = new ClientCore<string>({ hosts: [{ host: "a", port: 1 }], chroot: new Chroot(""), sessionTimeoutMs: 9_000, random: () => 0 });
    const outputs: CoreOutput<string>[] = [];
    let now = 0;
    const feed = (input: Parameters<typeof core.handle>[0]) => {
      const fresh = core.handle(input).outputs;
      outputs.push(...fresh);
      return fresh;
    };
    const completed = () => outputs.flatMap((o) => (o.kind === "requestCompleted" ? [o] : []));
    const lastOpen = () => outputs.filter((o) => o.kind === "openSocket").at(-1) as Extract<CoreOutput<string>, { kind: "openSocket" }>;
    const handshake = () => {
      const id = lastOpen().connectionId;
      feed({ kind: "socketConnected", connectionId: id, nowMs: ++now });
      feed({ kind: "bytesReceived", connectionId: id, bytes: frame((w) => ConnectResponse.write(w, { protocolVersion: 0, timeOut: 6_000, sessionId: 0x1234n, passwd: Buffer.alloc(16, 7), readOnly: false })), nowMs: ++now });
      return id;
    };
    const receive = (id: number, bytes: Buffer) => feed({ kind: "bytesReceived", connectionId: id, bytes, nowMs: ++now });
    feed({ kind: "connectRequested", nowMs: now });
    const first = handshake();
    feed({ kind: "requestSubmitted", requestId: 1, request: { op: "getData", path: "/a" }, nowMs: ++now });
    feed({ kind: "requestSubmitted", requestId: 2, request: { op: "exists", path: "/b" }, nowMs: ++now });
    feed({ kind: "requestSubmitted", requestId: 3, request: { op: "sync", path: "/" }, nowMs: ++now });
    feed({ kind: "requestSubmitted", requestId: 4, request: { op: "getData", path: "/w", watcher: "ww" }, nowMs: ++now });
    feed({ kind: "requestSubmitted", requestId: 5, request: { op: "getChildren", path: "/c", withStat: false }, nowMs: ++now });

    receive(first, replyFrame(1, 0x10n, 0, GetDataResponse, { data: Buffer.from("A"), stat: someStat }));
    assert.deepEqual(completed().map((c) => [c.requestId, c.outcome.ok]), [[1, true]], "the reply with xid 1 completes request 1");
    assert.equal((completed()[0]!.outcome as { value: { data: Buffer } }).value.data.toString(), "A", "…with its body decoded (getData: the data)");
    assert.equal(core.lastZxidSeen, 0x10n, "lastZxidSeen is the zxid of the reply");
    receive(first, replyFrame(-2, 0x99n));
    assert.equal(core.lastZxidSeen, 0x10n, "a ping reply's zxid does not count");
    receive(first, notificationFrame("nodeCreated", "/x"));
    receive(first, replyFrame(2, 0x0fn, -101));
    assert.deepEqual(completed()[1], { kind: "requestCompleted", requestId: 2, outcome: { ok: true, value: null } }, "the reply with xid 2 completes request 2 (exists on a missing node: null)");
    assert.equal(core.lastZxidSeen, 0x10n, "lastZxidSeen never goes backwards (a reply with a lower zxid leaves it)");
    receive(first, Buffer.concat([replyFrame(3, 0x11n, 0, PathResponse, { path: "/" }), replyFrame(4, 0x12n, 0, GetDataResponse, { data: Buffer.from("W"), stat: someStat })]));
    assert.deepEqual(completed().map((c) => c.requestId), [1, 2, 3, 4], "two replies in one chunk complete requests 3 and 4, in order");
    assert.equal(core.lastZxidSeen, 0x12n);
    assert.deepEqual(core.watches.entries().map((e) => `${e.kind} ${e.path}`), ["data /w"], "a getData with a watcher registers its watch when its reply comes");
    receive(first, replyFrame(9, 0x13n, 0));
    assert.ok(outputs.some((o) => o.kind === "closeSocket" && o.connectionId === first), "a reply with xid 9 while request 5 is the oldest in flight: the stream is out of step, the connection is closed");
    assert.deepEqual(completed().at(-1), { kind: "requestCompleted", requestId: 5, outcome: { ok: false, code: -4, path: "/c" } }, "…and request 5 fails with CONNECTIONLOSS");
    assert.equal(core.lastZxidSeen, 0x12n, "the out-of-order reply's zxid is not taken");
    assert.equal(core.state.kind, "connecting", "…and the client reconnects");

    feed({ kind: "requestSubmitted", requestId: 6, request: { op: "sync", path: "/" }, nowMs: ++now });
    feed({ kind: "tick", nowMs: (now += 2_000) });
    const second = handshake();
    const sent = outputs.flatMap((o) => (o.kind === "send" && o.connectionId === second ? [o.bytes] : []));
    assert.equal(ConnectRequest.read(new ReferenceReader(sent[0]!.subarray(4))).lastZxidSeen, 0x12n, "the new ConnectRequest carries lastZxidSeen 0x12");
    assert.deepEqual(sent.slice(1).map((b) => RequestHeader.read(new ReferenceReader(b.subarray(4))).xid), [-8, 6], "after the handshake: SetWatches (xid -8), then the queued sync");
    receive(second, Buffer.concat([notificationFrame("nodeDataChanged", "/w"), replyFrame(-8, 0x14n), replyFrame(6, 0x14n, 0, PathResponse, { path: "/" })]));
    assert.deepEqual(completed().at(-1), { kind: "requestCompleted", requestId: 6, outcome: { ok: true, value: "/" } }, "the SetWatches reply (xid -8) answers the SetWatches, in order; the next reply completes the sync");
    assert.equal(core.lastZxidSeen, 0x14n);
    receive(second, replyFrame(7, 0x15n, 0));
    assert.ok(outputs.some((o) => o.kind === "closeSocket" && o.connectionId === second), "a reply when nothing is in flight is out of step too: the connection is closed");

    // The same pipelined, seeded workload (with dropped connections) through the reference core and yours: every
    // call must end the same way, with the same result, and every watch event be the same. (The simulator also
    // checks that each ConnectRequest carries the highest zxid of the replies received.)
    const seed = lab.random.seed;
    const mine = pipelinedRun(ClientCore, seed);
    const reference = pipelinedRun(undefined, seed);
    const differs = reference.calls.findIndex((line, i) => mine.calls[i] !== line);
    if (differs >= 0) {
      assert.deepEqual(mine.calls.slice(differs, differs + 3), reference.calls.slice(differs, differs + 3), `a pipelined workload: the calls end as with the reference, from call ${differs + 1} on (seed ${seed})`);
    }
    assert.equal(mine.calls.length, reference.calls.length, `a pipelined workload: as many calls as with the reference (seed ${seed})`);
    assert.deepEqual(mine.events, reference.events, `…and the watch events are the same (seed ${seed})`);
  },
});
