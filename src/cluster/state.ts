/**
 * The state file, <dir>/cluster.json: what `npm run cluster` started, so that later commands (status, kill 2,
 * restart 2, stop) find the same members. Pids are checked against /proc before use (launch.ts isMemberAlive),
 * so a stale file after a reboot is harmless.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stateFileName } from "./config.ts";
import { ClusterError, implementations, type ClusterSpec, type MemberSpec } from "./spec.ts";

export const stateFormatVersion = 1;

export interface ClusterState {
  readonly format: typeof stateFormatVersion;
  readonly createdAt: string;
  /** The --base-port it was created with. */
  readonly basePort: number;
  readonly spec: ClusterSpec;
  /** Server id → pid of the process last started for it. A member never started (or stopped) has none. */
  readonly pids: Readonly<Record<string, number>>;
}

export function statePath(dir: string): string {
  return join(dir, stateFileName);
}

export function readState(dir: string): ClusterState | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ClusterError(`${file} is not valid JSON (${(error as Error).message}); \`npm run cluster -- clean --dir ${dir}\` starts over`);
  }
  if (!isState(parsed)) {
    throw new ClusterError(`${file} is not a cluster state file this version of npm run cluster wrote; \`npm run cluster -- clean --dir ${dir}\` starts over`);
  }
  return parsed;
}

/** Writes atomically (a rename), so that a command killed halfway never leaves half a file. */
export function writeState(dir: string, state: ClusterState): void {
  const file = statePath(dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}

export function pidsOf(state: ClusterState): Map<number, number> {
  return new Map(Object.entries(state.pids).map(([id, pid]) => [Number(id), pid]));
}

export function withPids(state: ClusterState, pids: ReadonlyMap<number, number>): ClusterState {
  return { ...state, pids: Object.fromEntries([...pids].map(([id, pid]) => [String(id), pid])) };
}

function isState(x: unknown): x is ClusterState {
  if (typeof x !== "object" || x === null) return false;
  const s = x as Partial<ClusterState>;
  return (
    s.format === stateFormatVersion &&
    typeof s.basePort === "number" &&
    typeof s.pids === "object" &&
    s.pids !== null &&
    typeof s.spec === "object" &&
    s.spec !== null &&
    implementations.includes(s.spec.impl) &&
    Array.isArray(s.spec.members) &&
    s.spec.members.every(isMember)
  );
}

function isMember(m: MemberSpec): boolean {
  return (
    typeof m === "object" &&
    Number.isInteger(m.id) &&
    (m.kind === "participant" || m.kind === "observer") &&
    [m.clientPort, m.quorumPort, m.electionPort].every(Number.isInteger)
  );
}
