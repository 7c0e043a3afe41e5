/**
 * A local ensemble you can drive from code: start N members of either implementation, ask who leads, kill -9 or
 * restart one, stop them all. `npm run cluster` (commands.ts) and the tests and benchmarks use the same class.
 *
 *   const zk = await startEnsemble({ impl: "apache", servers: 3 });
 *   zk.connectString                       // "127.0.0.1:41871,127.0.0.1:40305,127.0.0.1:36617"
 *   const leader = await zk.leader();      // { id: 2, mode: "leader", ... } from srvr's Mode line
 *   await zk.kill(leader.id);              // kill -9: a crash
 *   await zk.leader();                     // the new one, once elected
 *   await zk.restart(leader.id);           // back, as a follower
 *   await zk.stop();                       // every member ends; the temp dir is removed
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { apacheJvmFlagsDefault } from "./apache.ts";
import { memberPaths } from "./config.ts";
import { endMember, freePort, isMemberAlive, logTail, spawnMember, writeMemberFiles, type StartedMember } from "./launch.ts";
import {
  ClusterError,
  clusterHost,
  connectStringOf,
  memberById,
  observersDefault,
  planWithPorts,
  quorumSize,
  serversDefault,
  shapeOf,
  type ClusterSpec,
  type Implementation,
  type MemberSpec,
} from "./spec.ts";
import { probe, type Probe } from "./srvr.ts";

/** How long a whole ensemble gets to elect a leader and serve: JVMs start slowly on a busy machine. */
export const startTimeoutMsDefault = 60_000;
/** After a quorum serves, how long `start` waits for the remaining members (an observer syncs last). */
export const allMembersGraceMsDefault = 10_000;
/** How long `leader()` waits for an election to finish. */
export const electionTimeoutMsDefault = 30_000;
const pollIntervalMs = 100;

/**
 * Our server does not run as an ensemble member yet: with server.N lines it serves standalone. Thrown instead
 * of pretending N standalone servers are an ensemble; the benchmark reports the message as "not available".
 */
export class MemberModeUnavailableError extends ClusterError {
  override name = "MemberModeUnavailableError";
}

export interface MemberStatus {
  readonly member: MemberSpec;
  /** The process we started, if we know of one. */
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly probe: Probe;
}

export interface LocalEnsembleOptions {
  /** Members outlive this process (npm run cluster), or die with it (tests, benchmarks). */
  readonly detached: boolean;
  /** Apache only. Default: zkServer.sh's (apache.ts). */
  readonly jvmFlags?: readonly string[];
  readonly startTimeoutMs?: number;
  /** Told whenever a member's pid changes (npm run cluster writes its state file). */
  readonly onPidsChanged?: (pids: ReadonlyMap<number, number>) => void;
}

export class LocalEnsemble {
  readonly connectString: string;
  private readonly processes = new Map<number, StartedMember>();

  constructor(
    readonly dir: string,
    readonly spec: ClusterSpec,
    private readonly options: LocalEnsembleOptions,
    /** Pids from an earlier run (the state file). */
    knownPids: ReadonlyMap<number, number> = new Map(),
  ) {
    this.connectString = connectStringOf(spec);
    for (const [id, pid] of knownPids) this.processes.set(id, { pid });
  }

  get impl(): Implementation {
    return this.spec.impl;
  }

  get members(): readonly MemberSpec[] {
    return this.spec.members;
  }

  pidOf(id: number): number | undefined {
    return this.processes.get(id)?.pid;
  }

  isRunning(id: number): boolean {
    const started = this.processes.get(id);
    if (!started) return false;
    if (started.child) return started.child.exitCode === null && started.child.signalCode === null;
    return isMemberAlive(started.pid, memberPaths(this.dir, id).zooCfg);
  }

  /** Writes every member's files (zoo.cfg, myid): before the first start. */
  writeFiles(): void {
    writeMemberFiles(this.dir, this.spec);
  }

  /** Starts member `id` unless it runs already; does not wait for it to serve. Returns whether it started it. */
  startMember(id: number): boolean {
    const member = memberById(this.spec, id);
    if (this.isRunning(id)) return false;
    this.processes.set(id, spawnMember(this.dir, this.spec, member, { detached: this.options.detached, jvmFlags: this.options.jvmFlags ?? apacheJvmFlagsDefault }));
    this.pidsChanged();
    return true;
  }

  /** kill -9 member `id`: no shutdown, nothing flushed (a crash). Resolves once the process is gone. */
  async kill(id: number): Promise<void> {
    await this.end(id, "SIGKILL");
  }

  /** SIGTERM member `id` (SIGKILL if it lingers). Resolves once the process is gone. */
  async stopMember(id: number): Promise<void> {
    await this.end(id, "SIGTERM");
  }

  /** Stops member `id` if it runs, starts it again and waits until it serves. */
  async restart(id: number, timeoutMs = this.options.startTimeoutMs ?? startTimeoutMsDefault): Promise<MemberStatus> {
    await this.stopMember(id);
    this.startMember(id);
    return this.waitForMember(id, timeoutMs);
  }

  /** Starts every member that is not running, then waits for a quorum (see waitForQuorum). */
  async start(): Promise<MemberStatus[]> {
    for (const m of this.spec.members) this.startMember(m.id);
    await this.waitForQuorum();
    return this.waitForAll(allMembersGraceMsDefault);
  }

  /** Stops every member (SIGTERM, in parallel). */
  async stopAll(): Promise<void> {
    await Promise.all(this.spec.members.map((m) => this.stopMember(m.id)));
  }

  /** kill -9 every member. */
  async killAll(): Promise<void> {
    await Promise.all(this.spec.members.map((m) => this.kill(m.id)));
  }

  async status(id: number): Promise<MemberStatus> {
    const member = memberById(this.spec, id);
    return { member, pid: this.pidOf(id), running: this.isRunning(id), probe: await probe(clusterHost, member.clientPort) };
  }

  /** Every member's status, asked in parallel. */
  async statuses(): Promise<MemberStatus[]> {
    return Promise.all(this.spec.members.map((m) => this.status(m.id)));
  }

  /**
   * Waits until the ensemble serves: one member says `Mode: leader` and, with it, a majority of the voting
   * servers serve (leader + followers) — what clients need for writes to commit. A single-server "ensemble"
   * serves as Apache's standalone mode.
   */
  async waitForQuorum(timeoutMs = this.options.startTimeoutMs ?? startTimeoutMsDefault): Promise<MemberStatus[]> {
    const needed = quorumSize(this.spec);
    const single = shapeOf(this.spec).servers === 1;
    return this.poll(timeoutMs, `a leader and ${needed} of ${shapeOf(this.spec).servers} voting servers serving`, (all) => {
      const leaders = all.filter((s) => mode(s) === "leader" || (single && mode(s) === "standalone"));
      const voters = all.filter((s) => s.member.kind === "participant" && (mode(s) === "leader" || mode(s) === "follower"));
      return leaders.length === 1 && (single || voters.length >= needed);
    });
  }

  /** Waits (without failing) until every running member serves; returns the statuses at that point. */
  async waitForAll(timeoutMs: number): Promise<MemberStatus[]> {
    try {
      return await this.poll(timeoutMs, "every member serving", (all) => all.every((s) => !s.running || s.probe.kind === "serving"));
    } catch (error) {
      if (error instanceof MemberModeUnavailableError) throw error;
      return this.statuses();
    }
  }

  /** Waits until member `id` serves (leader, follower or observer). */
  async waitForMember(id: number, timeoutMs: number): Promise<MemberStatus> {
    const all = await this.poll(timeoutMs, `server ${id} serving`, (all) => all.find((s) => s.member.id === id)?.probe.kind === "serving");
    return all.find((s) => s.member.id === id)!;
  }

  /** The current leader, once exactly one member says `Mode: leader` (waits through an election). */
  async leader(timeoutMs = electionTimeoutMsDefault): Promise<MemberStatus> {
    const single = shapeOf(this.spec).servers === 1;
    const all = await this.poll(timeoutMs, "exactly one leader", (all) => all.filter((s) => mode(s) === "leader" || (single && mode(s) === "standalone")).length === 1);
    return all.find((s) => mode(s) === "leader" || (single && mode(s) === "standalone"))!;
  }

  private async poll(timeoutMs: number, what: string, done: (all: MemberStatus[]) => boolean): Promise<MemberStatus[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await this.statuses();
      this.refuseStandalone(all);
      if (done(all)) return all;
      if (this.spec.members.every((m) => !this.isRunning(m.id))) {
        throw new ClusterError(`waiting for ${what}: no member is running.\n${this.describeFailure(all)}`);
      }
      if (Date.now() >= deadline) {
        throw new ClusterError(`waited ${timeoutMs} ms for ${what}, in vain.\n${this.describeFailure(all)}`);
      }
      await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
  }

  private refuseStandalone(all: readonly MemberStatus[]): void {
    if (shapeOf(this.spec).servers === 1) return;
    const standalone = all.find((s) => mode(s) === "standalone");
    if (!standalone) return;
    const what = this.spec.impl === "zkbook" ? "zkbook's server" : "Apache ZooKeeper";
    throw new MemberModeUnavailableError(
      `server ${standalone.member.id} answers srvr with "Mode: standalone" although its zoo.cfg has server.N lines: ` +
        `${what} does not run as an ensemble member here` +
        (this.spec.impl === "zkbook" ? " yet (member mode of `npm run server` has not landed); --apache runs Apache ZooKeeper's instead" : ""),
    );
  }

  private describeFailure(all: readonly MemberStatus[]): string {
    return all
      .map((s) => {
        const state = s.running ? "running" : s.pid === undefined ? "not started" : "exited";
        const answer = s.probe.kind === "serving" ? `Mode: ${s.probe.mode}` : s.probe.kind === "not-serving" ? s.probe.answer : s.probe.reason;
        const log = s.running && s.probe.kind === "serving" ? "" : `\n  --- ${memberPaths(this.dir, s.member.id).log} (tail) ---\n  ${logTail(this.dir, s.member.id, 12).replaceAll("\n", "\n  ")}`;
        return `server ${s.member.id} (pid ${s.pid ?? "-"}, ${state}, port ${s.member.clientPort}): ${answer}${log}`;
      })
      .join("\n");
  }

  private async end(id: number, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    memberById(this.spec, id);
    const started = this.processes.get(id);
    if (!started) return;
    await endMember(started, memberPaths(this.dir, id).zooCfg, signal);
    this.processes.delete(id);
    this.pidsChanged();
  }

  private pidsChanged(): void {
    this.options.onPidsChanged?.(new Map([...this.processes].map(([id, p]) => [id, p.pid])));
  }
}

function mode(s: MemberStatus): string | undefined {
  return s.probe.kind === "serving" ? s.probe.mode : undefined;
}

export interface StartEnsembleOptions {
  readonly impl: Implementation;
  /** Voting servers. Default 3. */
  readonly servers?: number;
  readonly observers?: number;
  /** Where the members' files go. Default: a fresh temp dir, removed by stop(). A dir you pass is kept. */
  readonly dir?: string;
  /** Apache only, e.g. apacheJvmFlagsQuickStart for tests. Default: zkServer.sh's. */
  readonly jvmFlags?: readonly string[];
  readonly startTimeoutMs?: number;
}

/** The harness's handle: a LocalEnsemble whose members die with this process, and stop() that cleans up. */
export interface Ensemble {
  readonly impl: Implementation;
  readonly dir: string;
  readonly connectString: string;
  readonly members: readonly MemberSpec[];
  /** The underlying ensemble, for waitForQuorum, statuses, startMember, stopMember, ... */
  readonly local: LocalEnsemble;
  kill(id: number): Promise<void>;
  restart(id: number): Promise<MemberStatus>;
  leader(timeoutMs?: number): Promise<MemberStatus>;
  statuses(): Promise<MemberStatus[]>;
  /** Every member ends (SIGTERM, SIGKILL if it lingers) and a temp dir is removed. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts an ensemble on free loopback ports and waits until every member serves (a quorum at least). */
export async function startEnsemble(options: StartEnsembleOptions): Promise<Ensemble> {
  const shape = { servers: options.servers ?? serversDefault, observers: options.observers ?? observersDefault };
  const ports = new Set<number>();
  const fresh = async () => {
    // freePort() lets go of the port before we use it: make sure not to hand out the same one twice.
    for (;;) {
      const p = await freePort();
      if (!ports.has(p)) {
        ports.add(p);
        return p;
      }
    }
  };
  const triples = new Map<number, { clientPort: number; quorumPort: number; electionPort: number }>();
  for (let id = 1; id <= shape.servers + shape.observers; id++) {
    triples.set(id, { clientPort: await fresh(), quorumPort: await fresh(), electionPort: await fresh() });
  }
  const spec = planWithPorts(options.impl, shape, (id) => triples.get(id)!);
  const ownDir = options.dir === undefined;
  const dir = ownDir ? mkdtempSync(join(tmpdir(), `zkbook-ensemble-${options.impl}-`)) : resolve(options.dir!);
  const local = new LocalEnsemble(dir, spec, { detached: false, jvmFlags: options.jvmFlags, startTimeoutMs: options.startTimeoutMs });
  const stop = async () => {
    await local.stopAll();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    local.writeFiles();
    await local.start();
  } catch (error) {
    await local.killAll().catch(() => {});
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    impl: options.impl,
    dir,
    connectString: local.connectString,
    members: spec.members,
    local,
    kill: (id) => local.kill(id),
    restart: (id) => local.restart(id),
    leader: (timeoutMs) => local.leader(timeoutMs),
    statuses: () => local.statuses(),
    stop,
  };
}
