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

    const started = said("demo", new RegExp(`^no server at 127\\.0\\.0\\.1:${port}; started one at 127\\.0\\.0\\.1:\\d+$`));
    const masterElected = said("master-1", /^elected master$/);
    const backupWaits = said("master-2", /standing by as a backup$/);
    const registered = ["worker-1", "worker-2", "worker-3"].map((worker) => said(worker, /^registered$/));
    const kill = said("demo", /^killing master-1/);
    const takeover = said("master-2", /^elected master$/);
    // master-1 assigned the tasks submitted before the kill, master-2 those after it; nobody else assigned any.
    // (By task, not by line position: lines from different processes reach the demo through separate pipes, so a
    // role's line may be printed a little after a later line of the demo's own.)
    const assigners = out.flatMap(([who, what]) => {
      const task = /^assigned task-(\d{10}) to /.exec(what);
      return task ? [`${who} task ${Number(task[1])}`] : [];
    });
    // Every one of the 8 tasks is reported done to the client exactly once, by a worker.
    const results = out.filter(([who, what]) => who === "client" && /^task-\d{10}: /.test(what)).map(([, what]) => what);
    const transcript = run.stdout;
    expect(started, transcript).toBe(0);
    expect(masterElected, transcript).toBeGreaterThan(0);
    expect(backupWaits, transcript).toBeGreaterThan(masterElected);
    for (const line of registered) expect(line, transcript).toBeGreaterThan(0);
    expect(kill, transcript).toBeGreaterThan(backupWaits);
    expect(takeover, transcript).toBeGreaterThan(kill);
    expect(assigners.sort(), transcript).toEqual([0, 1, 2, 3].map((t) => `master-1 task ${t}`).concat([4, 5, 6, 7].map((t) => `master-2 task ${t}`)));
    expect(results.map((r) => r.slice(0, 15)).sort(), transcript).toEqual(Array.from({ length: 8 }, (_, i) => `task-000000000${i}`));
    for (const r of results) expect(r, transcript).toMatch(/: "job \d" done by worker-[123]$/);
    expect(out.filter(([who]) => who === "demo").at(-1), transcript).toEqual(["demo", "every task is done; stopping"]);
  }, 120_000);
});
