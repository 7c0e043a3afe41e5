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

type JuteModule = typeof import("#src/proto/jute.ts");
type CodecModule = typeof import("#src/proto/codec.ts");
type FrameModule = typeof import("#src/proto/frame.ts");

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
});
