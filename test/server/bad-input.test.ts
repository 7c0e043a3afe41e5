/**
 * Bad input against a live server over TCP: each kind of broken packet must close only the connection that sent it
 * (Apache NIOServerCnxn: readLength refuses a length < 0 or > jute.maxbuffer before reading the body; an unknown
 * opcode gets UNIMPLEMENTED, then the connection is closed), while another established session keeps working —
 * proved by using it after every bad connection. An unreadable request *body* is different: Apache answers it with
 * MARSHALLINGERROR and keeps the connection (checked against Apache 3.8.0 by the differential interop test).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { GetDataResponse, JuteWriter, RequestHeader, errorCodes, opCodes } from "../../src/proto/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import { RecordingLogger } from "./support/fake.ts";
import { body } from "./support/requests.ts";
import { RawClient, eventually } from "./support/tcp.ts";
import { connectFrame, frame, readReply, requestFrame } from "./support/wire.ts";

const maxFrameBytes = 4096;
let server: RunningServer;
let witness: RawClient;
const logger = new RecordingLogger();
let proofs = 0;

beforeAll(async () => {
  server = await startTestServer({ juteMaxBufferBytes: maxFrameBytes, maxClientCnxns: 0 }, { logger });
  witness = await RawClient.session(server.port);
});

afterAll(async () => {
  witness.destroy();
  await server.close();
});

afterEach(async () => {
  // The offending connection is gone from the server, the witness is untouched and still works.
  // (A test that keeps a connection on purpose destroys it itself.)
  const lingering = opened.filter((c) => !c.closed && !c.socket.destroyed).length;
  for (const c of opened.splice(0)) c.destroy();
  expect(lingering, "connections the server left open").toBe(0);
  await eventually(() => server.zk.connections.size === 1, 2000, "only the witness to remain connected");
  const n = ++proofs;
  const created = await witness.call(opCodes.create, body.create(`/alive-${n}`, `proof ${n}`));
  expect(created.header.err).toBe(0);
  const read = await witness.call(opCodes.getData, body.pathWatch(`/alive-${n}`));
  expect(GetDataResponse.read(read.reader).data!.toString()).toBe(`proof ${n}`);
  expect(witness.closed).toBe(false);
  expect(logger.lines.filter((l) => l.includes("internal error"))).toEqual([]);
});

/** Every connection a test opened: destroyed after it, so one failing test cannot leave others a wrong count. */
const opened: RawClient[] = [];
const track = (c: RawClient) => (opened.push(c), c);
/** A connection that has done nothing yet. */
const fresh = async () => track(await RawClient.open(server.port));
/** A connection with an established session. */
const established = async () => track(await RawClient.session(server.port));

async function expectClosedSilently(c: RawClient): Promise<void> {
  expect(await c.waitClosed()).toBe(true);
  expect(c.received).toBe(0);
}

describe("framing: lengths are checked before the body is read", () => {
  it("closes on an oversize length (> jute.maxbuffer) before any body byte is sent", async () => {
    const c = await fresh();
    const header = Buffer.alloc(4);
    header.writeInt32BE(1_000_000, 0);
    c.write(header); // and nothing else: the server must not wait for a megabyte
    await expectClosedSilently(c);
  });

  it("closes on a length of maxbuffer + 1 from an established session too, without reading the body", async () => {
    const c = await established();
    const header = Buffer.alloc(4);
    header.writeInt32BE(maxFrameBytes + 1, 0);
    c.write(header);
    expect(await c.waitClosed()).toBe(true);
  });

  it("accepts a frame of exactly maxbuffer bytes (the limit is inclusive)", async () => {
    const c = await established();
    const w = new JuteWriter();
    RequestHeader.write(w, { xid: 1, type: opCodes.exists });
    body.pathWatch("/")(w);
    const padded = Buffer.alloc(maxFrameBytes);
    w.view().copy(padded); // trailing bytes after the record are ignored, as Apache's readers ignore them
    c.write(frame(padded));
    const reply = readReply((await c.nextFrame())!);
    expect(reply.header).toMatchObject({ xid: 1, err: 0 });
    c.destroy();
  });

  it.each([
    ["-1", -1],
    ["-5", -5],
    ["Integer.MIN_VALUE", -0x80000000],
    ["Integer.MAX_VALUE", 0x7fffffff],
  ])("closes on a length of %s", async (_name, length) => {
    const c = await fresh();
    const header = Buffer.alloc(4);
    header.writeInt32BE(length, 0);
    c.write(header);
    await expectClosedSilently(c);
  });

  it("closes on garbage bytes (a small length, then bytes that are no ConnectRequest)", async () => {
    const c = await fresh();
    c.write(frame(Buffer.from("this is not a zookeeper handshake", "ascii").subarray(0, 16)));
    await expectClosedSilently(c);
  });

  it("closes on a ConnectRequest whose length prefix is too short for the record", async () => {
    const c = await fresh();
    const good = connectFrame();
    const lie = Buffer.from(good);
    lie.writeInt32BE(30, 0); // 44 bytes of record announced as 30: the passwd is cut off
    c.write(lie);
    await expectClosedSilently(c);
  });

  it("closes on a ConnectRequest whose passwd length is negative or beyond the frame", async () => {
    for (const passwdLength of [-2, 1000]) {
      const c = await fresh();
      const w = new JuteWriter();
      w.writeInt(0).writeLong(0n).writeInt(30_000).writeLong(0n).writeInt(passwdLength);
      c.write(w.toFrame());
      await expectClosedSilently(c);
    }
  });

  it("cleans up a connection that sends half a frame and goes away", async () => {
    const c = await fresh();
    c.write(connectFrame().subarray(0, 20));
    await eventually(() => server.zk.connections.size === 2, 2000, "the half-open connection to be accepted");
    c.destroy();
  });
});

describe("requests: one bad packet closes its own connection", () => {
  it("answers an unknown opcode with UNIMPLEMENTED (-6), then closes ([checked])", async () => {
    const c = await established();
    c.write(requestFrame(7, 999, body.path("/")));
    const reply = readReply((await c.nextFrame())!);
    expect(reply.header).toMatchObject({ xid: 7, err: errorCodes.unimplemented });
    expect(await c.waitClosed()).toBe(true);
  });

  it.each([
    ["notification (0)", opCodes.notification],
    ["createSession (-10)", opCodes.createSession],
  ])("treats %s from a client as unimplemented", async (_name, type) => {
    const c = await established();
    c.write(requestFrame(8, type, body.path("/x")));
    expect(readReply((await c.nextFrame())!).header.err).toBe(errorCodes.unimplemented);
    expect(await c.waitClosed()).toBe(true);
  });

  it("closes on sasl (102) without a reply: no SASL server to take it (Apache processPacket throws)", async () => {
    const c = await established();
    c.write(requestFrame(8, opCodes.sasl, body.path("/x")));
    expect(await c.waitClosed()).toBe(true);
    expect(c.pendingFrames).toBe(0);
  });

  it("answers deleteContainer (20) from a client with BADARGUMENTS: Apache takes the whole packet as the path", async () => {
    const c = await established();
    expect((await c.call(opCodes.deleteContainer, body.path("/x"))).header.err).toBe(errorCodes.badArguments);
    c.destroy();
  });

  it("answers a truncated record with MARSHALLINGERROR (-5), keeps the connection, and applies nothing", async () => {
    const c = await established();
    const full = requestFrame(9, opCodes.create, body.create("/never", "data"));
    const cut = Buffer.from(full.subarray(0, full.length - 7));
    cut.writeInt32BE(cut.length - 4, 0);
    c.write(cut);
    const reply = readReply((await c.nextFrame())!);
    expect(reply.header).toMatchObject({ xid: 9, err: errorCodes.marshallingError });
    expect(c.closed).toBe(false);
    expect(server.zk.tree.getNode("/never")).toBeUndefined();
    c.destroy();
  });

  it("answers a string length that lies (beyond the frame) with MARSHALLINGERROR", async () => {
    const c = await established();
    const w = new JuteWriter();
    RequestHeader.write(w, { xid: 10, type: opCodes.getData });
    w.writeInt(100_000_000); // path length
    w.writeBool(false);
    c.write(w.toFrame());
    expect(readReply((await c.nextFrame())!).header.err).toBe(errorCodes.marshallingError);
    c.destroy();
  });

  it("answers a vector count that lies (setWatches with a billion paths) with MARSHALLINGERROR, allocating nothing", async () => {
    const c = await established();
    const w = new JuteWriter();
    RequestHeader.write(w, { xid: 11, type: opCodes.setWatches });
    w.writeLong(0n).writeInt(1_000_000_000);
    c.write(w.toFrame());
    expect(readReply((await c.nextFrame())!).header.err).toBe(errorCodes.marshallingError);
    c.destroy();
  });

  it("answers a multi holding an op type that cannot be in a multi with MARSHALLINGERROR", async () => {
    const c = await established();
    c.write(requestFrame(12, opCodes.multi, body.multi([[opCodes.ping, () => {}]])));
    expect(readReply((await c.nextFrame())!).header.err).toBe(errorCodes.marshallingError);
    c.destroy();
  });

  it("closes without a reply when the request header itself is cut short", async () => {
    const c = await established();
    c.write(frame(Buffer.from([0, 0, 0, 1, 0])));
    expect(await c.waitClosed()).toBe(true);
    expect(c.pendingFrames).toBe(0);
  });

  it("closes on bytes that do not form a frame after a valid request, having answered the valid one", async () => {
    const c = await established();
    c.write(Buffer.concat([requestFrame(13, opCodes.exists, body.pathWatch("/")), Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3])]));
    expect(readReply((await c.nextFrame())!).header).toMatchObject({ xid: 13, err: 0 });
    expect(await c.waitClosed()).toBe(true);
  });
});

describe("requests before the handshake", () => {
  it("closes a connection whose first packet is a getData (read as a ConnectRequest from the future)", async () => {
    const c = await fresh();
    c.write(requestFrame(1, opCodes.getData, body.pathWatch("/")));
    await expectClosedSilently(c);
  });

  it("closes a connection whose first packet is a ping (too short for a ConnectRequest)", async () => {
    const c = await fresh();
    c.write(requestFrame(-2, opCodes.ping));
    await expectClosedSilently(c);
  });

  it("closes a connection whose first packet is a create", async () => {
    const c = await fresh();
    c.write(requestFrame(1, opCodes.create, body.create("/sneaky")));
    await expectClosedSilently(c);
    expect(server.zk.tree.getNode("/sneaky")).toBeUndefined();
  });
});

describe("a bad packet in the middle of a pipelined batch", () => {
  it("answers what came before it in order, then closes; nothing after it is applied", async () => {
    const c = await established();
    c.write(
      Buffer.concat([
        requestFrame(1, opCodes.create, body.create("/batch-1")),
        requestFrame(2, opCodes.create, body.create("/batch-2")),
        requestFrame(3, 4242, body.path("/")),
        requestFrame(4, opCodes.create, body.create("/batch-4")),
      ]),
    );
    const xids: number[] = [];
    for (let f = await c.nextFrame(); f !== null; f = await c.nextFrame()) xids.push(readReply(f).header.xid);
    expect(xids).toEqual([1, 2, 3]);
    expect(c.closed).toBe(true);
    expect(server.zk.tree.getNode("/batch-2")).toBeDefined();
    expect(server.zk.tree.getNode("/batch-4")).toBeUndefined();
  });
});
