// Running the shell for tests: the real entry point (`tsx src/cli/zk.ts`) with a script on stdin, as a user pipes
// one in, and the normalisation that makes two runs comparable (times and session ids differ from run to run).
import { fileURLToPath } from "node:url";
import { runToEnd, type RunResult } from "../interop/harness/children.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const entry = `${root}src/cli/zk.ts`;

export interface ShellRun extends RunResult {
  /** stdout and stderr through one pipe (2>&1), in the order they were written. */
  readonly merged: string;
}

/**
 * `npm run zk -- <args>` with `script` on stdin. With `merge`, stdout and stderr share one pipe (2>&1), so that
 * `merged` shows their lines in the order written, as a terminal would; `stdout` and `stderr` are then not split.
 */
export async function runShell(
  args: readonly string[],
  script: string | readonly string[],
  options: { merge?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ShellRun> {
  const input = typeof script === "string" ? script : script.join("\n") + "\n";
  const env = { ...process.env, TZ: "UTC", ZKBOOK_HISTORY: "/dev/null", ...options.env };
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (options.merge) {
    const r = await runToEnd("sh", ["-c", 'exec "$@" 2>&1', "sh", tsx, entry, ...args], { input, env, timeoutMs });
    return { ...r, merged: r.stdout };
  }
  const r = await runToEnd(tsx, [entry, ...args], { input, env, timeoutMs });
  return { ...r, merged: "" };
}

/**
 * What legitimately differs between two runs of the same script on fresh servers: the times in a Stat and the
 * session id in ephemeralOwner. Zxids are kept: both servers number the same transactions the same way.
 */
export function normalize(output: string): string {
  return output
    .replace(/^([cm]time) = .*$/gm, "$1 = <time>")
    .replace(/^ephemeralOwner = 0x(?!0$)[0-9a-f]+$/gm, "ephemeralOwner = 0x<session>");
}

/** zkCli's session-event block, e.g. for SyncConnected. */
export function sessionEvent(state: string): string {
  return `\nWATCHER::\n\nWatchedEvent state:${state} type:None path:null\n`;
}
