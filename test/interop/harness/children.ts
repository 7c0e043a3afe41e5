// Child processes for the interop harness: the Apache server (a JVM), zkCli, cli_mt and kazoo.
//
// An interop test that leaves a JVM listening on a port after it ends poisons every later run, so
// each child is guarded three ways:
//   1. the code that starts it stops it (afterAll / stop());
//   2. this module remembers every live child and SIGKILLs it when the test process exits, or is
//      sent SIGTERM/SIGINT (vitest ends its worker processes with SIGTERM);
//   3. on Linux, the child is started through `setpriv --pdeathsig KILL` (util-linux, always on
//      Debian), so the kernel kills it even if the test process itself is SIGKILLed.

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";

const live = new Set<ChildProcess>();
const exitTasks = new Set<() => void>();

/**
 * Run `task` (synchronous: it may run in an 'exit' handler) if this process ends before the
 * returned function is called. Used to remove temp dirs a crashed test would leave behind.
 */
export function atExit(task: () => void): () => void {
  exitTasks.add(task);
  return () => exitTasks.delete(task);
}

function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone: nothing to do.
    }
  }
  live.clear();
  for (const task of exitTasks) {
    try {
      task();
    } catch {
      // Best effort: we are on the way out.
    }
  }
  exitTasks.clear();
}

process.once("exit", killAll);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  // Once we listen for a signal Node no longer dies of it, so after cleaning up we die of it
  // ourselves; vitest then sees the usual "killed by SIGTERM".
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

let setprivOk: boolean | undefined;
function canUseSetpriv(): boolean {
  if (setprivOk === undefined) {
    const r = spawnSync("setpriv", ["--pdeathsig", "KILL", "true"], { stdio: "ignore" });
    setprivOk = r.status === 0;
  }
  return setprivOk;
}

/**
 * spawn(), but the child is remembered and killed when this process goes away.
 * `setpriv` execs the real program, so `child.pid` is the program's own pid (kill9 can hit it).
 */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const [cmd, argv] = canUseSetpriv()
    ? ["setpriv", ["--pdeathsig", "KILL", command, ...args]]
    : [command, args];
  const child = spawn(cmd, argv, options);
  live.add(child);
  child.once("exit", () => live.delete(child));
  // A spawn failure (ENOENT) is reported through 'error'; without a listener it would crash the run.
  child.once("error", () => live.delete(child));
  return child;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when the process died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we had to kill the process because it ran past `timeoutMs`. */
  timedOut: boolean;
}

/** Run a program to completion, feeding `input` on stdin, and collect what it prints. */
export function runToEnd(
  command: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawnTracked(command, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close' (not 'exit') so that all output has been read.
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal, timedOut });
    });
    // The child may exit before reading its stdin (EPIPE); that is its business, not an error here.
    child.stdin!.on("error", () => {});
    child.stdin!.end(opts.input ?? "");
  });
}

/** Wait for a child to exit, up to `ms`. Resolves true if it exited. */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}
