/**
 * The TCP runtime around the server core (Apache NIOServerCnxnFactory): what it logs when it binds and when it
 * refuses a connection, and the error it gives when the client port cannot be opened.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ClientPortError, type Logger, type RunningServer } from "../../src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import { RawClient } from "./support/tcp.ts";

const running: RunningServer[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of running.splice(0)) await s.close();
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => void lines.push(`INFO ${m}`), warn: (m) => void lines.push(`WARN ${m}`) };
}

describe("log lines of the listener", () => {
  it("says where it listens, and why it refused a connection (maxClientCnxns, as Apache's 'Too many connections')", async () => {
    const logger = recordingLogger();
    const server = await startTestServer({ maxClientCnxns: 1 }, { logger });
    running.push(server);
    expect(logger.lines).toContain(`INFO binding to port 127.0.0.1:${server.port}`);
    clients.push(await RawClient.session(server.port));
    const refused = await RawClient.open(server.port);
    clients.push(refused);
    expect(await refused.waitClosed()).toBe(true);
    expect(logger.lines).toContain("WARN too many connections from 127.0.0.1 - max is 1");
  });
});

describe("a client port that cannot be opened", () => {
  it("is refused with an error naming the address, the zoo.cfg keys and what to do, not a bare EADDRINUSE", async () => {
    const first = await startTestServer();
    running.push(first);
    const attempt = startTestServer({ clientPort: first.port });
    await expect(attempt).rejects.toBeInstanceOf(ClientPortError);
    const error = (await attempt.catch((e: unknown) => e)) as ClientPortError;
    expect(error.code).toBe("EADDRINUSE");
    expect(error.message).toBe(
      `cannot listen for clients on 127.0.0.1:${first.port} (clientPortAddress:clientPort): the address is already in use ` +
        "(another ZooKeeper, Apache's or this one, is probably running there); stop it or choose another clientPort",
    );
  });

  it("names clientPortAddress when the address belongs to no interface of this machine", async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
    const error = (await startTestServer({ clientPortAddress: "192.0.2.1" }).catch((e: unknown) => e)) as ClientPortError;
    expect(error).toBeInstanceOf(ClientPortError);
    expect(error.message).toContain("cannot listen for clients on 192.0.2.1:0");
    expect(error.message).toContain("set clientPortAddress to one it has");
  });
});
