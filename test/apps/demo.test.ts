// `npm run demo` end to end (issue 3; book chapters 1–4): with no server at the given address it starts one, runs a
// master, a backup, three workers and a client in their own processes, kills the master, and the backup takes over
// and every task is done. The demo's own output is the evidence, read line by line.
import net from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runToEnd } from "../interop/harness/children.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const entry = `${root}src/cli/demo.ts`;

/** A loopback port nothing listens on (bound, then released). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The demo's lines as [who, what], e.g. ["master-2", "elected master"]. */
function lines(stdout: string): Array<[string, string]> {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => [l.slice(0, 8).trim(), l.slice(9)]);
}

describe("npm run demo", () => {
  it("starts a server, and shows the backup taking over when the master is killed, every task done once", async () => {
    const port = await unusedPort();
    const run = await runToEnd(tsx, [entry, `127.0.0.1:${port}`], { timeoutMs: 90_000, env: { ...process.env, FORCE_COLOR: "0" } });
    expect(run.timedOut, run.stdout + run.stderr).toBe(false);
    expect(run.code, run.stderr).toBe(0);
    const out = lines(run.stdout);
    const said = (who: string, pattern: RegExp) => out.findIndex(([w, what]) => w === who && pattern.test(what));

    expect(said("demo", new RegExp(`^no server at 127\\.0\\.0\\.1:${port}; started one at 127\\.0\\.0\\.1:\\d+$`))).toBe(0);
    const masterElected = said("master-1", /^elected master$/);
    const backupWaits = said("master-2", /standing by as a backup$/);
    const kill = said("demo", /^killing master-1/);
    const takeover = said("master-2", /^elected master$/);
    expect(masterElected).toBeGreaterThan(0);
    expect(backupWaits).toBeGreaterThan(masterElected);
    for (const worker of ["worker-1", "worker-2", "worker-3"]) expect(said(worker, /^registered$/)).toBeGreaterThan(0);
    expect(kill).toBeGreaterThan(backupWaits);
    expect(takeover).toBeGreaterThan(kill);
    // master-1 did the assigning before the kill, master-2 after it; nobody else ever did.
    const assigners = out.map(([who, what], i) => (/^assigned task-/.test(what) ? `${i < kill ? "before" : "after"} ${who}` : null));
    expect(new Set(assigners.filter((a) => a !== null))).toEqual(new Set(["before master-1", "after master-2"]));
    // Every one of the 8 tasks is reported done to the client exactly once, by a worker.
    const results = out.filter(([who, what]) => who === "client" && /^task-\d{10}: /.test(what)).map(([, what]) => what);
    expect(results).toHaveLength(8);
    expect(results.map((r) => r.slice(0, 15)).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `task-000000000${i}`));
    for (const r of results) expect(r).toMatch(/: "job \d" done by worker-[123]$/);
    expect(out.at(-1)).toEqual(["demo", "every task is done; stopping"]);
  }, 120_000);
});
