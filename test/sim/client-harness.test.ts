// The client harness (src/sim/client-harness.ts) checked on its own: it runs the reference client core through
// faults deterministically, and its built-in invariants catch a core that breaks them (book chapter 5; reference §1:
// a server behind lastZxidSeen closes the handshake; every call completes once; expiry is final).
import { describe, expect, it } from "vitest";
import { ClientCore, type CoreConfig, type CoreInput, type CoreOutput } from "../../src/client/core.ts";
import { ConnectRequest, JuteReader, JuteWriter } from "../../src/proto/index.ts";
import { ClientHarness, ops, type DrivableCore, type Label } from "../../src/sim/client-harness.ts";
import { seedFromEnv } from "../../src/sim/random.ts";

const seed = seedFromEnv();
console.log(`client harness: seed ${seed} (rerun with SEED=${seed})`);

/** The reference core, except that its ConnectRequests claim it has seen nothing (lastZxidSeen 0). */
class ForgetfulCore implements DrivableCore {
  private readonly inner: ClientCore<Label>;
  constructor(config: CoreConfig) {
    this.inner = new ClientCore<Label>(config);
  }
  handle(input: CoreInput<Label>) {
    const step = this.inner.handle(input);
    const outputs = step.outputs.map((o): CoreOutput<Label> => {
      if (o.kind !== "send" || this.inner.state.kind !== "connecting") return o;
      const request = ConnectRequest.read(new JuteReader(o.bytes.subarray(4)));
      const w = new JuteWriter();
      ConnectRequest.write(w, { ...request, lastZxidSeen: 0n });
      return { ...o, bytes: w.toFrame() };
    });
    return { outputs, wakeAtMs: step.wakeAtMs };
  }
  get state() {
    return this.inner.state;
  }
  get session() {
    return this.inner.session;
  }
  get lastZxidSeen() {
    return this.inner.lastZxidSeen;
  }
  get watches() {
    return this.inner.watches;
  }
}

function scenario(runSeed: number) {
  const h = new ClientHarness({ seed: runSeed, servers: 3 });
  const c = h.client("c1", { hosts: [0, 1, 2] });
  const writer = h.client("writer", { hosts: [0] });
  c.connect();
  writer.connect();
  h.runUntil(() => c.state.kind === "connected" && writer.state.kind === "connected", "both connect");
  h.expectOk(c, ops.create("/a", "0"));
  h.freeze(2);
  h.expectOk(c, ops.getData("/a", "wa"));
  h.partition(c);
  h.run(h.random.int(50, 400));
  h.expectOk(writer, ops.setData("/a", "1"));
  h.heal(c);
  h.runUntil(() => c.eventsFor("wa").length === 1, "the watch fires after the reconnect");
  h.stop(0);
  h.runUntil(() => c.state.kind === "connected" && c.currentAttempt?.server === 1, "c1 moves to s1");
  h.start(0);
  h.run(5_000);
  return { h, c };
}

describe("client harness", () => {
  it("replays a run exactly from its seed", () => {
    const first = scenario(seed);
    const second = scenario(seed);
    expect(second.h.trace).toEqual(first.h.trace);
    expect(first.c.eventsFor("wa").map((e) => e.type)).toEqual(["nodeDataChanged"]);
    // s2 is behind: the client tried it (or not), but never attached to it.
    expect(first.c.attempts.filter((a) => a.server === 2 && a.attached)).toEqual([]);
  });

  it("keeps one history on the following servers, and lets a frozen one fall behind", () => {
    const { h } = scenario(seed);
    expect(h.server(1).lastZxid).toBe(h.server(0).lastZxid);
    expect(h.server(2).lastZxid).toBeLessThan(h.server(0).lastZxid);
    expect(h.server(1).core.tree.getNode("/a")?.data?.toString()).toBe("1");
  });

  it("catches a core whose ConnectRequest hides what it has seen", () => {
    const h = new ClientHarness({ seed, servers: 2 });
    const c = h.client("c1", { hosts: [0, 1], core: ForgetfulCore });
    c.connect();
    h.runUntil(() => c.state.kind === "connected", "c1 connects");
    h.expectOk(c, ops.create("/a", ""));
    h.drop(c);
    expect(() => h.run(5_000)).toThrow(/c1's ConnectRequest to s1 carries lastZxidSeen 0x0, but the replies c1 has received go up to zxid 0x2/);
  });

  it("expires a session cut off for longer than its timeout, and the client learns it when it is back", () => {
    const h = new ClientHarness({ seed, servers: 1 });
    const c = h.client("c1", { sessionTimeoutMs: 2_000 });
    c.connect();
    h.runUntil(() => c.state.kind === "connected", "c1 connects");
    h.partition(c);
    h.run(4_000);
    expect(h.server(0).core.sessions.size).toBe(0);
    h.heal(c);
    h.runUntil(() => c.state.kind === "expired", "c1 learns its session expired");
    h.run(10_000);
    expect(c.states.filter((s) => s.kind === "expired")).toHaveLength(1);
  });
});
