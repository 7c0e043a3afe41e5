/**
 * What each `npm run cluster` subcommand does, on a cluster directory. The entry point (src/cli/cluster.ts) parses
 * argv (args.ts) and calls `runClusterCommand`; the formatting functions here are pure and tested on their own.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { relative, resolve } from "node:path";
import { clusterUsage, type ClusterInvocation, type StartFlags } from "./args.ts";
import { memberPaths } from "./config.ts";
import { LocalEnsemble, startTimeoutMsDefault, type MemberStatus } from "./ensemble.ts";
import { checkPortsFree } from "./launch.ts";
import {
  ClusterError,
  clientPortBaseDefault,
  memberById,
  observersDefault,
  planFromBasePort,
  serversDefault,
  shapeOf,
  type ClusterSpec,
  type Implementation,
} from "./spec.ts";
import { formatZxid } from "./srvr.ts";
import { pidsOf, readState, statePath, withPids, writeState, type ClusterState } from "./state.ts";

export interface CommandContext {
  /** The working directory `--dir` is relative to. */
  readonly cwd: string;
  readonly print: (line: string) => void;
}

export const implementationNames: Record<Implementation, string> = {
  zkbook: "zkbook",
  apache: "Apache ZooKeeper 3.8",
};

export async function runClusterCommand(invocation: ClusterInvocation, context: CommandContext): Promise<void> {
  const dir = resolve(context.cwd, invocation.dir);
  // Paths as the user would type them: relative below the working directory, absolute elsewhere.
  const below = relative(context.cwd, dir);
  const shownDir = below === "" ? "." : below.startsWith("..") ? dir : below;
  const startTimeoutMs = invocation.timeoutSeconds === undefined ? startTimeoutMsDefault : invocation.timeoutSeconds * 1000;
  const { print } = context;
  const command = invocation.command;
  const open = (): { ensemble: LocalEnsemble; state: ClusterState } => {
    const state = readState(dir);
    if (!state) throw new ClusterError(`no cluster in ${shownDir} (no ${statePath(shownDir)}): start one with \`npm run cluster\``);
    return { state, ensemble: ensembleOf(dir, state, startTimeoutMs) };
  };
  switch (command.kind) {
    case "help":
      print(clusterUsage);
      return;
    case "start": {
      if (command.id !== undefined) {
        const { ensemble } = open();
        memberById(ensemble.spec, command.id);
        if (ensemble.isRunning(command.id)) {
          print(`server ${command.id} is already running (pid ${ensemble.pidOf(command.id)})`);
          return;
        }
        await checkPortsFree([memberById(ensemble.spec, command.id)]);
        ensemble.startMember(command.id);
        const s = await ensemble.waitForMember(command.id, startTimeoutMs);
        print(`server ${command.id} started (pid ${s.pid}): ${roleOf(s)}`);
        return;
      }
      await startCluster(dir, shownDir, command.flags, startTimeoutMs, print);
      return;
    }
    case "status": {
      const { ensemble } = open();
      const statuses = await ensemble.statuses();
      print(`${implementationNames[ensemble.impl]} ensemble in ${shownDir}: ${describeShape(ensemble.spec)}, ${statuses.filter((s) => s.running).length} of ${statuses.length} running`);
      print(`connect string: ${ensemble.connectString}`);
      print(formatStatusTable(statuses));
      return;
    }
    case "kill":
    case "stop":
    case "restart": {
      const { ensemble } = open();
      const ids = command.id === undefined ? ensemble.members.map((m) => m.id) : [memberById(ensemble.spec, command.id).id];
      if (command.kind === "restart") {
        const id = ids[0]!;
        const was = ensemble.pidOf(id);
        const running = ensemble.isRunning(id);
        if (!running) await checkPortsFree([memberById(ensemble.spec, id)]);
        const s = await ensemble.restart(id, startTimeoutMs);
        print(`server ${id} ${running ? `restarted (pid ${was} → ${s.pid})` : `was not running; started (pid ${s.pid})`}: ${roleOf(s)}`);
        return;
      }
      const running = ids.filter((id) => ensemble.isRunning(id));
      if (command.id !== undefined && running.length === 0) {
        throw new ClusterError(`server ${command.id} is not running (start it with \`npm run cluster -- start ${command.id}\`)`);
      }
      if (running.length === 0) {
        print(`no server of the cluster in ${shownDir} is running`);
        return;
      }
      // In parallel (a JVM may take seconds to stop), reported in id order.
      const lines = await Promise.all(
        running.map(async (id) => {
          const pid = ensemble.pidOf(id);
          if (command.kind === "kill") await ensemble.kill(id);
          else await ensemble.stopMember(id);
          return `server ${id} (pid ${pid}) ${command.kind === "kill" ? "killed with SIGKILL" : "stopped"}`;
        }),
      );
      for (const line of lines) print(line);
      return;
    }
    case "clean": {
      if (!existsSync(dir)) {
        print(`nothing to clean: ${shownDir} does not exist`);
        return;
      }
      const state = readState(dir);
      if (!state && readdirSync(dir).length > 0) {
        throw new ClusterError(`refusing to delete ${shownDir}: it has no ${relative(dir, statePath(dir))}, so \`npm run cluster\` did not make it`);
      }
      if (state) {
        const ensemble = ensembleOf(dir, state, startTimeoutMs);
        const running = ensemble.members.filter((m) => ensemble.isRunning(m.id)).map((m) => m.id);
        await ensemble.stopAll();
        if (running.length > 0) print(`stopped server${running.length > 1 ? "s" : ""} ${running.join(", ")}`);
      }
      rmSync(dir, { recursive: true, force: true });
      print(`removed ${shownDir}`);
      return;
    }
  }
}

function ensembleOf(dir: string, state: ClusterState, startTimeoutMs: number): LocalEnsemble {
  let current = state;
  return new LocalEnsemble(dir, state.spec, {
    detached: true,
    startTimeoutMs,
    onPidsChanged: (pids) => {
      current = withPids(current, pids);
      writeState(dir, current);
    },
  }, pidsOf(state));
}

async function startCluster(dir: string, shownDir: string, flags: StartFlags, startTimeoutMs: number, print: (line: string) => void): Promise<void> {
  const existing = readState(dir);
  let ensemble: LocalEnsemble;
  if (existing) {
    checkFlagsMatch(existing, flags, shownDir);
    ensemble = ensembleOf(dir, existing, startTimeoutMs);
    const down = ensemble.members.filter((m) => !ensemble.isRunning(m.id));
    if (down.length === 0) {
      print(`the cluster in ${shownDir} is already running`);
      await printSummary(ensemble, shownDir, await ensemble.statuses(), print);
      return;
    }
    await checkPortsFree(down);
    print(`starting server${down.length > 1 ? "s" : ""} ${down.map((m) => m.id).join(", ")} of the ${implementationNames[ensemble.impl]} cluster in ${shownDir}`);
  } else {
    const impl: Implementation = flags.apache ? "apache" : "zkbook";
    const basePort = flags.basePort ?? clientPortBaseDefault;
    const spec = planFromBasePort(impl, { servers: flags.servers ?? serversDefault, observers: flags.observers ?? observersDefault }, basePort);
    await checkPortsFree(spec.members);
    const state: ClusterState = { format: 1, createdAt: new Date().toISOString(), basePort, spec, pids: {} };
    ensemble = ensembleOf(dir, state, startTimeoutMs);
    ensemble.writeFiles();
    writeState(dir, state);
    print(`starting an ensemble of ${implementationNames[impl]} in ${shownDir}: ${describeShape(spec)}`);
  }
  let statuses: MemberStatus[];
  try {
    statuses = await ensemble.start();
  } catch (error) {
    // Half a cluster is no use to anyone: stop what runs, keep the files (the logs say what went wrong).
    await ensemble.stopAll();
    throw new ClusterError(`${(error as Error).message}\nStopped the cluster's servers again; their logs are in ${shownDir}/server.N/server.log.`);
  }
  await printSummary(ensemble, shownDir, statuses, print);
}

function checkFlagsMatch(state: ClusterState, flags: StartFlags, shownDir: string): void {
  const shape = shapeOf(state.spec);
  const differences: string[] = [];
  if (flags.servers !== undefined && flags.servers !== shape.servers) differences.push(`it has ${shape.servers} servers, not ${flags.servers}`);
  if (flags.observers !== undefined && flags.observers !== shape.observers) differences.push(`it has ${shape.observers} observers, not ${flags.observers}`);
  if (flags.basePort !== undefined && flags.basePort !== state.basePort) differences.push(`its base port is ${state.basePort}, not ${flags.basePort}`);
  if (flags.apache && state.spec.impl !== "apache") differences.push("it runs zkbook, not Apache ZooKeeper");
  if (differences.length > 0) {
    throw new ClusterError(
      `there is already a cluster in ${shownDir} and ${differences.join("; ")}. ` +
        `\`npm run cluster -- clean\` removes it, or --dir puts a new one elsewhere`,
    );
  }
}

async function printSummary(ensemble: LocalEnsemble, shownDir: string, statuses: readonly MemberStatus[], print: (line: string) => void): Promise<void> {
  print(`connect string: ${ensemble.connectString}`);
  for (const s of statuses) {
    print(`  server ${s.member.id}  ${roleOf(s).padEnd(20)} 127.0.0.1:${s.member.clientPort}  pid ${s.pid ?? "-"}  log ${relativeLog(ensemble.dir, shownDir, s.member.id)}`);
  }
  print(`try:  npm run zk -- -server ${ensemble.connectString}`);
  print(`then: npm run cluster -- status | kill <id> | restart <id> | stop | clean${shownDir === "cluster-data" ? "" : `   (with --dir ${shownDir})`}`);
}

function relativeLog(dir: string, shownDir: string, id: number): string {
  return `${shownDir}/${relative(dir, memberPaths(dir, id).log)}`;
}

export function describeShape(spec: ClusterSpec): string {
  const { servers, observers } = shapeOf(spec);
  const ports = spec.members.map((m) => m.clientPort);
  return `${servers} server${servers === 1 ? "" : "s"}${observers > 0 ? ` + ${observers} observer${observers === 1 ? "" : "s"}` : ""}, client ports ${Math.min(...ports)}-${Math.max(...ports)}`;
}

/** "leader", "follower", "observer", "not serving (electing?)", "down". */
export function roleOf(s: MemberStatus): string {
  switch (s.probe.kind) {
    case "serving":
      return s.probe.mode;
    case "not-serving":
      return "up, not serving";
    case "unreachable":
      return s.running ? "starting" : "down";
  }
}

/** `status`'s table. Pure. */
export function formatStatusTable(statuses: readonly MemberStatus[]): string {
  const header = ["id", "kind", "client", "quorum", "election", "pid", "process", "role", "zxid"];
  const rows = statuses.map((s) => [
    String(s.member.id),
    s.member.kind,
    String(s.member.clientPort),
    String(s.member.quorumPort),
    String(s.member.electionPort),
    s.running && s.pid !== undefined ? String(s.pid) : "-",
    s.running ? "up" : "down",
    roleOf(s),
    s.probe.kind === "serving" && s.probe.zxid !== undefined ? formatZxid(s.probe.zxid) : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
