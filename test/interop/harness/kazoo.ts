// kazoo (the Python client, Debian's python3-kazoo) run as a script: an independent client
// implementation to check a server against.
//
// The script runs with `HOSTS` already set to the connect string, e.g.
//   const r = await runKazoo(zk.hostPort, `
//     from kazoo.client import KazooClient
//     zk = KazooClient(hosts=HOSTS); zk.start(timeout=10)
//     print(zk.get("/x")[0].decode())
//     zk.stop()
//   `);
// Scripts written inside a template literal are indented; Python cares, so we dedent first.

import { runToEnd, type RunResult } from "./children.ts";
import { PYTHON } from "./debian.ts";

/** Remove the indentation common to all non-blank lines (like Python's textwrap.dedent). */
export function dedent(text: string): string {
  const lines = text.replace(/\t/g, "    ").split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.match(/^ */)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join("\n").trim() + "\n";
}

export interface KazooResult {
  stdout: string;
  stderr: string;
  code: number | null;
  timedOut: boolean;
}

export async function runKazoo(
  hostPort: string,
  pythonScript: string,
  opts: { timeoutMs?: number } = {},
): Promise<KazooResult> {
  // HOSTS comes through the environment, so no quoting of the connect string inside Python code.
  // The prelude is one line, so that traceback line numbers are off by exactly one.
  const prelude = "import os as _os; HOSTS = _os.environ['ZKBOOK_HOSTS']\n";
  const r: RunResult = await runToEnd(PYTHON, ["-c", prelude + dedent(pythonScript)], {
    timeoutMs: opts.timeoutMs ?? 60_000,
    env: {
      ...process.env,
      ZKBOOK_HOSTS: hostPort,
      PYTHONUNBUFFERED: "1", // output survives a timeout kill
      PYTHONDONTWRITEBYTECODE: "1",
    },
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.code, timedOut: r.timedOut };
}
