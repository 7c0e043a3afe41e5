/**
 * Re-attaching to a session on a follower or observer (Apache LearnerZooKeeperServer.revalidateSession): the
 * learner checks the password itself, then asks the leader — which owns every session — with a REVALIDATE, and
 * finishes the handshake with the leader's answer. Its own session table may not have applied the session's
 * createSession yet, so it must not answer from that table.
 */
import { describe, expect, it } from "vitest";
import { ZooKeeperServer, type QuorumRole } from "../../src/server/server.ts";
import { sessionPassword } from "../../src/server/sessions.ts";
import { FakeClient, coreOptions } from "./support/fake.ts";
import { body, opCodes } from "./support/requests.ts";
import { connectFrame, readConnectResponse, readReply, requestFrame } from "./support/wire.ts";

/** A session id this follower has never heard of (its createSession not applied here yet). */
const unseenSession = 0x0200000000000042n;

function follower() {
  const asked: { sessionId: bigint; timeoutMs: number }[] = [];
  const quorum: QuorumRole = {
    mode: "follower",
    quorumSize: 3,
    forward: () => {},
    sync: () => {},
    revalidate: (sessionId, timeoutMs) => asked.push({ sessionId, timeoutMs }),
  };
  const server = new ZooKeeperServer(coreOptions({ quorum }));
  return { server, asked };
}

describe("re-attaching on a follower asks the leader (REVALIDATE)", () => {
  it("asks with the negotiated timeout, holds the handshake and requests, then serves the session the leader vouches for", () => {
    const { server, asked } = follower();
    const c = new FakeClient(server);
    c.send(Buffer.concat([connectFrame({ sessionId: unseenSession, passwd: sessionPassword(unseenSession), timeOut: 12_000 }), requestFrame(1, opCodes.exists, body.pathWatch("/"))]));
    expect(asked).toEqual([{ sessionId: unseenSession, timeoutMs: 12_000 }]);
    expect(c.take()).toEqual([]); // nothing until the leader answers

    server.revalidated(unseenSession, true);
    const frames = c.take();
    expect(frames).toHaveLength(2);
    const response = readConnectResponse(frames[0]!);
    expect(response.sessionId).toBe(unseenSession);
    expect(response.timeOut).toBe(12_000);
    expect(readReply(frames[1]!).header).toMatchObject({ xid: 1, err: 0 });
    // The session is tracked here from now on: later requests are not refused as "closing or expired".
    expect(c.call(opCodes.getData, body.pathWatch("/zookeeper")).header.err).toBe(0);
    expect(c.transport.closed).toBe(false);
  });

  it("refuses the session, with Apache's all-zero ConnectResponse, when the leader says it is gone", () => {
    const { server, asked } = follower();
    const c = new FakeClient(server);
    c.send(connectFrame({ sessionId: unseenSession, passwd: sessionPassword(unseenSession) }));
    expect(asked).toHaveLength(1);
    server.revalidated(unseenSession, false);
    const [frame] = c.take();
    expect(readConnectResponse(frame!)).toMatchObject({ sessionId: 0n, timeOut: 0 });
    expect(c.transport.closed).toBe(true);
  });

  it("refuses a wrong password itself, without asking the leader (ZooKeeperServer.reopenSession)", () => {
    const { server, asked } = follower();
    const c = new FakeClient(server);
    const { response } = c.connect({ sessionId: unseenSession, passwd: Buffer.alloc(16, 1) });
    expect(response.timeOut).toBe(0);
    expect(asked).toEqual([]);
    expect(c.transport.closed).toBe(true);
  });

  it("closes an earlier connection still waiting for the leader when the client reconnects again", () => {
    const { server, asked } = follower();
    const first = new FakeClient(server);
    first.send(connectFrame({ sessionId: unseenSession, passwd: sessionPassword(unseenSession) }));
    const second = new FakeClient(server);
    second.send(connectFrame({ sessionId: unseenSession, passwd: sessionPassword(unseenSession) }));
    expect(first.transport.closed).toBe(true);
    expect(asked).toHaveLength(2);
    server.revalidated(unseenSession, true);
    expect(readConnectResponse(second.take()[0]!).sessionId).toBe(unseenSession);
  });

  it("counts re-attaches in mntr's connection_revalidate_count", () => {
    const { server } = follower();
    new FakeClient(server).send(connectFrame({ sessionId: unseenSession, passwd: sessionPassword(unseenSession) }));
    expect(server.metrics.connectionRevalidations).toBe(1);
  });
});

describe("the leader's answer (Leader.revalidateSession)", () => {
  it("is true for a live session, which it touches, and false for an unknown one; each question counts in revalidate_count", () => {
    const server = new ZooKeeperServer(coreOptions());
    const client = new FakeClient(server);
    client.connect();
    expect(server.revalidateForLearner(client.sessionId, 30_000)).toBe(true);
    expect(server.sessions.get(client.sessionId)?.timeoutMs).toBe(30_000);
    expect(server.revalidateForLearner(unseenSession, 30_000)).toBe(false);
    expect(server.metrics.revalidations).toBe(2);
  });
});
