/**
 * One conformance case for a 3-server ensemble started through the launcher (src/cluster), run against each
 * implementation: Apache ZooKeeper 3.8 in test/interop/cluster.test.ts, ours in test/cluster/ensemble.test.ts.
 *
 * Reference: the book's chapter 9 and the notes' §9 (a quorum elects exactly one leader; the others follow; when the
 * leader crashes the survivors, still a quorum, elect a new one; a restarted server rejoins as a follower), and
 * Apache's `srvr` Mode line for who is what.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { createClient } from "../../src/client/index.ts";
import { MemberModeUnavailableError, memberPaths, startEnsemble, type Ensemble, type Implementation, type MemberStatus } from "../../src/cluster/index.ts";
import { isMemberAlive } from "../../src/cluster/launch.ts";

const startTimeoutMs = 120_000;

const modeOf = (s: MemberStatus) => (s.probe.kind === "serving" ? s.probe.mode : `(${s.probe.kind})`);

/** Every pid whose command line names a file in `dir` (a member we may have left behind). */
function processesUsing(dir: string): number[] {
  if (!existsSync("/proc")) return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z" && cmdline.includes(dir)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export interface EnsembleCaseOptions {
  readonly impl: Implementation;
  readonly jvmFlags?: readonly string[];
}

export function ensembleCase(options: EnsembleCaseOptions): void {
  let zk: Ensemble | undefined;
  /** Why this implementation cannot run an ensemble here (our server before member mode), if so. */
  let unavailable: string | undefined;
  let firstLeader: number | undefined;

  beforeAll(async () => {
    try {
      zk = await startEnsemble({ impl: options.impl, servers: 3, jvmFlags: options.jvmFlags, startTimeoutMs });
    } catch (error) {
      if (!(error instanceof MemberModeUnavailableError)) throw error;
      unavailable = error.message;
      console.warn(`ensemble tests skipped: ${unavailable}`);
    }
  }, startTimeoutMs + 30_000);

  afterAll(async () => {
    await zk?.stop();
  }, 60_000);

  const ensemble = (ctx: TestContext): Ensemble => {
    if (unavailable) ctx.skip(unavailable);
    if (!zk) throw new Error("the ensemble was stopped by an earlier test");
    return zk;
  };

  it("elects one leader; the other two follow (srvr's Mode line)", async (ctx) => {
    const e = ensemble(ctx);
    const leader = await e.leader();
    firstLeader = leader.member.id;
    const statuses = await e.local.waitForAll(30_000);
    expect(statuses.map(modeOf).sort()).toEqual(["follower", "follower", "leader"]);
    expect(e.connectString.split(",")).toHaveLength(3);
  });

  it("replicates a write: created through one server, read through another after sync", async (ctx) => {
    const e = ensemble(ctx);
    const [a, b] = [e.members[0]!, e.members[2]!];
    const writer = createClient(`127.0.0.1:${a.clientPort}`);
    const reader = createClient(`127.0.0.1:${b.clientPort}`);
    try {
      await writer.connect({ timeoutMs: 30_000 });
      await reader.connect({ timeoutMs: 30_000 });
      await writer.create("/replicated", "from server 1");
      await reader.sync("/replicated");
      expect((await reader.getData("/replicated")).data?.toString()).toBe("from server 1");
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it("elects a new leader after kill -9 of the leader; the old one rejoins as a follower", async (ctx) => {
    const e = ensemble(ctx);
    const old = firstLeader ?? (await e.leader()).member.id;
    await e.kill(old);
    expect(e.local.isRunning(old)).toBe(false);
    const next = await e.leader();
    expect(next.member.id).not.toBe(old);
    // The two survivors are a quorum of three: they serve, one leads.
    const survivors = (await e.statuses()).filter((s) => s.member.id !== old);
    expect(survivors.map(modeOf).sort()).toEqual(["follower", "leader"]);
    const back = await e.restart(old);
    expect(modeOf(back)).toBe("follower");
    // The write of the previous test survived the crash and is on the restarted server too.
    const client = createClient(`127.0.0.1:${back.member.clientPort}`);
    try {
      await client.connect({ timeoutMs: 30_000 });
      await client.sync("/replicated");
      expect((await client.getData("/replicated")).data?.toString()).toBe("from server 1");
    } finally {
      await client.close();
    }
  });

  it("stops every member, leaving no process and no files behind", async (ctx) => {
    const e = ensemble(ctx);
    const pids = e.members.map((m) => e.local.pidOf(m.id)).filter((p): p is number => p !== undefined);
    expect(pids).toHaveLength(3);
    await e.stop();
    zk = undefined;
    for (const [i, pid] of pids.entries()) expect(isMemberAlive(pid, memberPaths(e.dir, i + 1).zooCfg)).toBe(false);
    expect(processesUsing(e.dir)).toEqual([]);
    expect(existsSync(e.dir)).toBe(false);
  });
}
