/**
 * Load limits on a live server: maxClientCnxns (connections per client IP, checked at accept, Apache
 * NIOServerCnxnFactory) and globalOutstandingLimit (above it the server stops reading from clients until the
 * requests in flight drain, Apache ZooKeeperServer.shouldThrottle).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer, TxnSink } from "../../src/server/index.ts";
import type { Txn, TxnHeader } from "../../src/tree/txn.ts";
import { GetDataResponse, errorCodes, opCodes } from "../../src/proto/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import { body } from "./support/requests.ts";
import { RawClient, eventually } from "./support/tcp.ts";
import { readReply, requestFrame } from "./support/wire.ts";

const open: RawClient[] = [];
let server: RunningServer | undefined;

afterEach(async () => {
  for (const c of open.splice(0)) c.destroy();
  await server?.close();
  server = undefined;
});

async function session(port: number): Promise<RawClient> {
  const c = await RawClient.session(port);
  open.push(c);
  return c;
}

describe("maxClientCnxns", () => {
  it("closes the 4th connection from one address at once when the limit is 3, and admits one again after a close", async () => {
    server = await startTestServer({ maxClientCnxns: 3 });
    const clients = [await session(server.port), await session(server.port), await session(server.port)];
    const fourth = await RawClient.open(server.port);
    open.push(fourth);
    expect(await fourth.waitClosed(2000)).toBe(true);
    expect(fourth.received).toBe(0);
    // The three admitted sessions are unaffected.
    for (const c of clients) expect((await c.call(opCodes.exists, body.pathWatch("/"))).header.err).toBe(0);
    // Once one goes, a new connection is admitted and gets a session.
    clients[0]!.destroy();
    await eventually(() => server!.zk.connections.size === 2, 2000, "the server to see the close");
    const again = await session(server.port);
    expect((await again.call(opCodes.create, body.create("/admitted"))).header.err).toBe(0);
  });

  it("counts connections, not sessions: a connection refused never reaches the handshake", async () => {
    server = await startTestServer({ maxClientCnxns: 1 });
    await session(server.port);
    const refused = await RawClient.open(server.port);
    open.push(refused);
    await refused.waitClosed();
    expect(server.zk.sessions.size).toBe(1);
  });

  it("0 means no limit", async () => {
    server = await startTestServer({ maxClientCnxns: 0 });
    const many = await Promise.all(Array.from({ length: 70 }, () => session(server!.port)));
    expect(many.every((c) => !c.closed)).toBe(true);
    expect(server.zk.connections.size).toBe(70);
  });
});

/** A log whose fsync the test controls: txns are durable only when released (a slow disk). */
class SlowDisk implements TxnSink {
  holding = false;
  readonly pending: Array<() => void> = [];
  append(_header: TxnHeader, _txn: Txn, done: () => void): void {
    if (this.holding) this.pending.push(done);
    else done();
  }
  releaseAll(): void {
    this.holding = false;
    for (const done of this.pending.splice(0)) done();
  }
}

describe("globalOutstandingLimit", () => {
  it("stops reading while too many requests are in flight, then answers every request, in order", async () => {
    const limit = 10;
    const disk = new SlowDisk();
    server = await startTestServer({ globalOutstandingLimit: limit }, { txnSink: disk });
    const c = await session(server.port);
    expect((await c.call(opCodes.create, body.create("/load", ""))).header.err).toBe(0);

    disk.holding = true;
    const total = 4000;
    const payload = "x".repeat(200);
    const frames: Buffer[] = [];
    for (let i = 0; i < total; i++) frames.push(requestFrame(1000 + i, opCodes.setData, body.setData("/load", `${i}:${payload}`)));
    const batch = Buffer.concat(frames); // ~1 MB pipelined in one write
    c.write(batch);

    // The server reads some, goes over the limit, pauses, and then reads nothing more.
    await eventually(() => server!.zk.outstandingRequests > limit, 2000, "the FIFO to pass the limit");
    await new Promise((resolve) => setTimeout(resolve, 150));
    const held = server.zk.outstandingRequests;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.zk.outstandingRequests).toBe(held);
    expect(held).toBeLessThan(total);
    expect(c.pendingFrames).toBe(0); // nothing answered while nothing is durable
    expect(disk.pending.length).toBe(held);

    // The disk catches up: the server resumes reading and answers everything, in request order.
    disk.releaseAll();
    const xids: number[] = [];
    const errs = new Set<number>();
    while (xids.length < total) {
      const f = await c.nextFrame(5000);
      if (f === null) throw new Error(`only ${xids.length} replies`);
      const r = readReply(f);
      xids.push(r.header.xid);
      errs.add(r.header.err);
    }
    expect(xids).toEqual(frames.map((_, i) => 1000 + i));
    expect([...errs]).toEqual([0]);
    const read = await c.call(opCodes.getData, body.pathWatch("/load"));
    const { data, stat } = GetDataResponse.read(read.reader);
    expect(stat.version).toBe(total);
    expect(data!.toString().startsWith(`${total - 1}:`)).toBe(true);
    expect(server.zk.outstandingRequests).toBe(0);
  });

  it("a connection the server closes while throttled is really released (its maxClientCnxns slot comes back)", async () => {
    const disk = new SlowDisk();
    // tickTime 100: the silent session below (timeout 200 ms) expires at once.
    server = await startTestServer({ globalOutstandingLimit: 1, maxClientCnxns: 2, tickTimeMs: 100 }, { txnSink: disk });
    const busy = await session(server.port);
    const silent = await RawClient.session(server.port, { timeOut: 200 });
    open.push(silent);
    disk.holding = true;
    // The expirer submits closeSession for the silent session; it waits for the disk like every txn.
    await eventually(() => disk.pending.length === 1, 3000, "the expiry's closeSession to reach the disk");
    busy.write(Buffer.concat([1, 2, 3].map((i) => requestFrame(i, opCodes.create, body.create(`/t${i}`)))));
    await eventually(() => disk.pending.length === 4, 2000, "the load to reach the disk");
    // Only the closeSession becomes durable: the server closes that connection while it is throttled (paused).
    disk.pending.shift()!();
    expect(await silent.waitClosed(2000)).toBe(true);
    disk.releaseAll();
    for (let i = 0; i < 3; i++) expect(readReply((await busy.nextFrame())!).header.err).toBe(0);
    busy.destroy();
    // Both slots must come back: two new connections from this address get sessions.
    await eventually(() => server!.zk.connections.size === 0, 2000, "the server to drop both connections");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = [await RawClient.open(server.port), await RawClient.open(server.port)];
    open.push(...again);
    for (const c of again) expect((await c.handshake()).timeOut).toBeGreaterThan(0);
  });

  it("a write that fails while throttled still gets its error, in order", async () => {
    const disk = new SlowDisk();
    server = await startTestServer({ globalOutstandingLimit: 2 }, { txnSink: disk });
    const c = await session(server.port);
    disk.holding = true;
    c.write(
      Buffer.concat([
        requestFrame(1, opCodes.create, body.create("/t1")),
        requestFrame(2, opCodes.create, body.create("/t1")),
        requestFrame(3, opCodes.delete, body.delete("/nope")),
        requestFrame(4, opCodes.exists, body.pathWatch("/t1")),
      ]),
    );
    await eventually(() => disk.pending.length === 3, 2000, "three txns to reach the disk");
    disk.releaseAll();
    const headers = [];
    for (let i = 0; i < 4; i++) headers.push(readReply((await c.nextFrame())!).header);
    expect(headers.map((h) => [h.xid, h.err])).toEqual([
      [1, 0],
      [2, errorCodes.nodeExists],
      [3, errorCodes.noNode],
      [4, 0],
    ]);
  });
});
