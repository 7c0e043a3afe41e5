// The launcher must not pass off standalone servers as an ensemble: a member with server.N lines that answers srvr
// with "Mode: standalone" (our server before member mode, or a misconfigured one) is reported as such — the
// ensemble tests skip and the benchmark says "not available" on that error. Reference: Apache's srvr, whose Mode
// line is standalone only for a server outside an ensemble.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalEnsemble, MemberModeUnavailableError, planWithPorts } from "../../src/cluster/index.ts";
import type { RunningServer } from "../../src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";

describe("an ensemble member that serves standalone", () => {
  let standalone: RunningServer;
  beforeAll(async () => {
    standalone = await startTestServer();
  });
  afterAll(() => standalone.close());

  it("is refused with MemberModeUnavailableError, naming the server and what it said", async () => {
    // Server 1's client port is the standalone server's; servers 2 and 3 listen nowhere (nothing is started).
    const spec = planWithPorts("zkbook", { servers: 3, observers: 0 }, (id) =>
      id === 1 ? { clientPort: standalone.port, quorumPort: 1, electionPort: 2 } : { clientPort: 3 + id * 3, quorumPort: 4 + id * 3, electionPort: 5 + id * 3 },
    );
    const ensemble = new LocalEnsemble("/nonexistent", spec, { detached: false });
    const waiting = ensemble.waitForQuorum(5_000);
    await expect(waiting).rejects.toThrow(MemberModeUnavailableError);
    await expect(ensemble.waitForQuorum(5_000)).rejects.toThrow(/server 1 answers srvr with "Mode: standalone" although its zoo.cfg has server.N lines/);
  });
});
