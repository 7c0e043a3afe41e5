/**
 * Starting, finding and ending member processes. A member is one OS process:
 *   zkbook: node --import tsx src/cli/server.ts <member>/zoo.cfg   (what `npm run server -- zoo.cfg` runs)
 *   apache: java ... QuorumPeerMain <member>/zoo.cfg               (see apache.ts)
 * with everything it prints appended to <member>/server.log.
 *
 * Two ways to own a member:
 * - detached (`npm run cluster`): the member outlives the command that started it, in a session of its own; later
 *   commands find it again by the pid in the state file;
 * - attached (the test and benchmark harness): the member dies with this process — killed on exit, and on Linux
 *   also by the kernel (`setpriv --pdeathsig KILL`) if this process is itself killed — so a crashed test leaves
 *   no server behind.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { apacheJvmFlagsDefault, apacheMissing, javaCommand, quorumPeerMainClass, serverLogJars, zookeeperJar } from "./apache.ts";
import { apacheLog4jProperties, memberPaths, memberZooCfg } from "./config.ts";
import { ClusterError, clusterHost, type ClusterSpec, type Implementation, type MemberSpec } from "./spec.ts";

/** The repository root: our member runs src/cli/server.ts with the tsx loader from node_modules here. */
export const repoRoot = resolve(import.meta.dirname, "../..");
export const serverEntry = resolve(repoRoot, "src/cli/server.ts");

/** How long a member gets to exit after SIGTERM before it is sent SIGKILL. */
export const stopGraceMs = 10_000;
const exitPollMs = 50;

export interface MemberCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

/** The command line that runs one member. Pure. */
export function memberCommand(impl: Implementation, zooCfg: string, log4j: string, jvmFlags: readonly string[] = apacheJvmFlagsDefault): MemberCommand {
  switch (impl) {
    case "zkbook":
      return { command: process.execPath, args: ["--import", "tsx", serverEntry, zooCfg], cwd: repoRoot };
    case "apache":
      return {
        command: javaCommand,
        args: [
          ...jvmFlags,
          `-Dlog4j.configuration=file:${log4j}`,
          // Without this ZooKeeper registers a log4j MBean; JMX is of no use here.
          "-Dzookeeper.jmx.log4j.disable=true",
          "-cp",
          [zookeeperJar, ...serverLogJars].join(":"),
          quorumPeerMainClass,
          zooCfg,
        ],
        cwd: repoRoot,
      };
    default:
      return assertNever(impl);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected implementation ${String(x)}`);
}

/** Writes every member's zoo.cfg, myid (and log4j.properties) under `clusterDir`. Keeps existing data. */
export function writeMemberFiles(clusterDir: string, spec: ClusterSpec): void {
  for (const member of spec.members) {
    const paths = memberPaths(clusterDir, member.id);
    mkdirSync(paths.dataDir, { recursive: true });
    writeFileSync(paths.zooCfg, memberZooCfg(spec, member, paths.dataDir));
    writeFileSync(paths.myid, `${member.id}\n`);
    if (spec.impl === "apache") writeFileSync(paths.log4j, apacheLog4jProperties());
  }
}

export interface StartedMember {
  readonly pid: number;
  /** Only for attached members: the child, whose 'exit' tells when it is gone. */
  readonly child?: ChildProcess;
}

export interface SpawnOptions {
  readonly detached: boolean;
  readonly jvmFlags?: readonly string[];
}

const attached = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAttachedOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of attached) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  });
}

let setprivWorks: boolean | undefined;
function setprivAvailable(): boolean {
  setprivWorks ??= spawnSync("setpriv", ["--pdeathsig", "KILL", "true"], { stdio: "ignore" }).status === 0;
  return setprivWorks;
}

/** Starts member `member` from its files (writeMemberFiles first). Returns once the process exists, not once it serves. */
export function spawnMember(clusterDir: string, spec: ClusterSpec, member: MemberSpec, options: SpawnOptions): StartedMember {
  if (spec.impl === "apache") {
    const missing = apacheMissing();
    if (missing) throw new ClusterError(`${missing}. (--apache runs Debian's Apache ZooKeeper; without it, leave --apache out.)`);
  }
  const paths = memberPaths(clusterDir, member.id);
  const { command, args, cwd } = memberCommand(spec.impl, paths.zooCfg, paths.log4j, options.jvmFlags);
  const log = openSync(paths.log, "a");
  try {
    writeFileSync(log, `\n--- ${new Date().toISOString()} starting server ${member.id}: ${command} ${args.join(" ")}\n`);
    if (options.detached) {
      const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", log, log] });
      child.unref();
      if (child.pid === undefined) throw new ClusterError(`could not start server ${member.id} (${command})`);
      return { pid: child.pid };
    }
    // setpriv execs the program, so the pid is the member's own (kill -9 hits the server, not a wrapper).
    const [cmd, argv] = setprivAvailable() ? ["setpriv", ["--pdeathsig", "KILL", command, ...args]] : [command, [...args]];
    const child = spawn(cmd, argv, { cwd, stdio: ["ignore", log, log] });
    if (child.pid === undefined) throw new ClusterError(`could not start server ${member.id} (${command})`);
    killAttachedOnExit();
    attached.add(child);
    child.once("exit", () => attached.delete(child));
    child.once("error", () => attached.delete(child));
    return { pid: child.pid, child };
  } finally {
    closeSync(log); // the child has its own copy of the descriptor
  }
}

/**
 * Is `pid` a live member started with `zooCfg`? The pid alone is not enough: after a reboot, or long after the
 * member died, another process may have the same pid. A zombie (dead, not yet reaped) counts as gone.
 */
export function isMemberAlive(pid: number, zooCfg: string): boolean {
  const proc = `/proc/${pid}`;
  if (existsSync("/proc/self")) {
    try {
      const stat = readFileSync(`${proc}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state === "Z" || state === "X") return false;
      return readFileSync(`${proc}/cmdline`, "utf8").split("\0").includes(zooCfg);
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` and waits until the member is gone; after SIGTERM, SIGKILL once `stopGraceMs` is up. */
export async function endMember(started: StartedMember, zooCfg: string, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  const gone = () =>
    started.child ? started.child.exitCode !== null || started.child.signalCode !== null : !isMemberAlive(started.pid, zooCfg);
  if (gone()) return;
  try {
    process.kill(started.pid, signal);
  } catch {
    return; // already gone
  }
  if (await waitUntil(gone, stopGraceMs)) return;
  if (signal === "SIGTERM") {
    try {
      process.kill(started.pid, "SIGKILL");
    } catch {
      return;
    }
    if (await waitUntil(gone, stopGraceMs)) return;
  }
  throw new ClusterError(`process ${started.pid} did not exit after ${signal === "SIGTERM" ? "SIGTERM and " : ""}SIGKILL`);
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, exitPollMs));
  }
  return done();
}

/** Whether something already listens on 127.0.0.1:port (we try to bind it, and let go at once). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(true));
    server.listen(port, clusterHost, () => server.close(() => resolvePort(false)));
  });
}

/** Fails, naming each port and what it was for, if any of these members' ports is taken. */
export async function checkPortsFree(members: readonly MemberSpec[]): Promise<void> {
  const busy: string[] = [];
  for (const m of members) {
    for (const [what, port] of [["client", m.clientPort], ["quorum", m.quorumPort], ["election", m.electionPort]] as const) {
      if (await portInUse(port)) busy.push(`${port} (${what} port of server ${m.id})`);
    }
  }
  if (busy.length > 0) {
    throw new ClusterError(
      `ports in use on ${clusterHost}: ${busy.join(", ")}. Stop whatever listens there, ` +
        "or pick other ports with --base-port (a cluster already running elsewhere: `npm run cluster -- status --dir <its dir>`)",
    );
  }
}

/**
 * Ports for test and benchmark ensembles come from below Linux's ephemeral range (32768–60999 by default): a port
 * the kernel hands out for any outgoing connection or `listen(0)` on this machine can then never be one we chose
 * between choosing it and the member binding it.
 */
const quietPortMin = 20_000;
const quietPortMax = 32_000;
const quietPortTries = 50;

/**
 * A port nobody listens on right now: a random one below the ephemeral range that binds on 127.0.0.1, or, if
 * none does after a few tries, whatever the kernel picks for port 0.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < quietPortTries; i++) {
    const port = quietPortMin + Math.floor(Math.random() * (quietPortMax - quietPortMin));
    if (await canBind(port)) return port;
  }
  return bindAndRelease(0);
}

function canBind(port: number): Promise<boolean> {
  return bindAndRelease(port).then(
    () => true,
    () => false,
  );
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, clusterHost, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/** The last lines of a member's log, for error messages. */
export function logTail(clusterDir: string, id: number, lines = 20): string {
  const { log } = memberPaths(clusterDir, id);
  if (!existsSync(log)) return "(no log)";
  return readFileSync(log, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}
