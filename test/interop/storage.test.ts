// On-disk compatibility with Apache ZooKeeper 3.8, both ways (reference §5). The same workload — every txn type,
// digest ACLs, a failed multi, containers and TTL nodes, a session left alive — is run against one server, which
// is then killed with SIGKILL; the other server starts from that dataDir and must serve the very same tree (data,
// every Stat field, ACLs, the live session's ephemeral). Each direction is run twice: from the dataDir as it was
// left, and with every snapshot but snapshot.0 removed, so the whole log is replayed — and Apache checks the
// digest we logged with every txn, and we check Apache's.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { apacheAvailable, apacheSkipMessage, freePort, runKazoo, runZkCli, startApacheZooKeeper } from "./harness/index.ts";
import { kazooDumpScript, parseKazooDump, type TreeDump } from "../storage/support/tree-dump.ts";
import { kazooWorkload, zkCliWorkload } from "../storage/support/workload.ts";

const available = apacheAvailable();
if (!available.ok) console.warn(apacheSkipMessage(available));
const root = join(import.meta.dirname, "..", "..");
const auth: Array<[string, string]> = [["digest", "admin:secret"]];
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkbook-interop-storage-"));
  temps.push(dir);
  return dir;
}

interface OurServer {
  readonly hostPort: string;
  output(): string;
  kill9(): Promise<void>;
}

/** `npm run server` on a zoo.cfg, as a child process. */
async function startOurServer(dataDir: string, extra: Record<string, string>): Promise<OurServer> {
  const port = await freePort();
  const cfg = join(dataDir, "..", `zoo-${port}.cfg`);
  const settings = { tickTime: "500", dataDir, clientPort: String(port), ...extra };
  writeFileSync(cfg, Object.entries(settings).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli/server.ts"), cfg], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
  const deadline = Date.now() + 60_000;
  while (!output.includes("serving clients at")) {
    if (child.exitCode !== null) throw new Error(`our server exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`our server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    hostPort: `127.0.0.1:${port}`,
    output: () => output,
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

async function runWorkload(hostPort: string): Promise<TreeDump> {
  const kazoo = await runKazoo(hostPort, kazooWorkload);
  expect(kazoo.code, kazoo.stderr).toBe(0);
  expect(kazoo.stdout).toContain("failed multi [RolledBackError(), NoNodeError()]");
  const cli = await runZkCli(hostPort, [...zkCliWorkload]);
  expect(cli.code, cli.raw).toBe(0);
  return dump(hostPort);
}

async function dump(hostPort: string): Promise<TreeDump> {
  const r = await runKazoo(hostPort, kazooDumpScript(auth));
  expect(r.code, r.stderr).toBe(0);
  return parseKazooDump(r.stdout);
}

/** A copy of `dataDir`; with `oldest`, every snapshot but snapshot.0 removed, so the whole log gets replayed. */
function copyOf(dataDir: string, oldest: boolean): string {
  const copy = join(tempDir(), "data");
  cpSync(dataDir, copy, { recursive: true });
  if (oldest) {
    const dir = join(copy, "version-2");
    for (const name of readdirSync(dir)) if (name.startsWith("snapshot.") && name !== "snapshot.0") rmSync(join(dir, name));
  }
  return copy;
}

const digestTrouble = /Digests are not matching|digest mismatch|Digest in log|not covering the snapshot digest/i;

/** What Apache itself logs about digests when it starts from `dataDir` ("none" when it finds nothing wrong). */
async function apacheDigestTrouble(dataDir: string): Promise<string> {
  const apache = await startApacheZooKeeper({ dataDir, tickTimeMs: 500, extraCfg: { extendedTypesEnabled: "true" } });
  try {
    return readFileSync(apache.logFile, "utf8").match(digestTrouble)?.[0] ?? "none";
  } finally {
    await apache.stop();
  }
}

describe.skipIf(!available.ok)(available.ok ? "dataDir compatibility with Apache ZooKeeper 3.8" : apacheSkipMessage(available), () => {
  it("Apache ZooKeeper 3.8 starts from a dataDir this server wrote and shows the same tree", async () => {
    const dataDir = join(tempDir(), "data");
    const ours = await startOurServer(dataDir, { snapCount: "20", preAllocSize: "16", extendedTypesEnabled: "true" });
    let expected: TreeDump;
    try {
      expected = await runWorkload(ours.hostPort);
    } finally {
      await ours.kill9();
    }
    const files = readdirSync(join(dataDir, "version-2"));
    expect(files.filter((f) => f.startsWith("snapshot.")).length).toBeGreaterThan(2);
    expect(files.filter((f) => f.startsWith("log.")).length).toBeGreaterThan(2);
    expect(expected["/app/alive"]).toBeDefined();

    for (const oldest of [false, true]) {
      const copy = copyOf(dataDir, oldest);
      const apache = await startApacheZooKeeper({ dataDir: copy, tickTimeMs: 500, extraCfg: { extendedTypesEnabled: "true" } });
      try {
        expect(await dump(apache.hostPort)).toEqual(expected);
        const log = readFileSync(apache.logFile, "utf8");
        expect(log).toMatch(oldest ? /Reading snapshot .*snapshot\.0\b/ : /Reading snapshot .*snapshot\.[1-9a-f]/);
        expect(log.match(digestTrouble)?.[0] ?? "none").toBe("none");
        expect(log).not.toMatch(/CRC|Unreasonable length|Invalid Datatree|Exception while loading/);
      } finally {
        await apache.stop();
      }
    }
  });

  it("this server starts from a dataDir Apache ZooKeeper 3.8 wrote and shows the same tree", async () => {
    const dataDir = join(tempDir(), "data");
    const apache = await startApacheZooKeeper({ dataDir, tickTimeMs: 500, extraCfg: { snapCount: "20", preAllocSize: "16", extendedTypesEnabled: "true" } });
    let expected: TreeDump;
    try {
      expected = await runWorkload(apache.hostPort);
    } finally {
      await apache.kill9();
    }
    expect(expected["/app/alive"]).toBeDefined();

    for (const oldest of [false, true]) {
      const ours = await startOurServer(copyOf(dataDir, oldest), { extendedTypesEnabled: "true" });
      try {
        expect(await dump(ours.hostPort)).toEqual(expected);
        const output = ours.output();
        expect(output).toMatch(oldest ? /from snapshot\.0 \+ \d+ txns/ : /from snapshot\.[1-9a-f][0-9a-f]* \+ \d+ txns/);
        // Every digest Apache logged matched the tree we rebuilt — unless Apache, started on the same files, finds
        // the same mismatch: its fuzzy snapshot can seal a digest that its own replay does not reproduce (a race of
        // its snapshot thread), and then agreeing with Apache is the right answer.
        expect(output).toMatch(/; [1-9]\d* digests checked/);
        const ourTrouble = output.match(digestTrouble)?.[0] ?? "none";
        if (ourTrouble !== "none") expect(await apacheDigestTrouble(copyOf(dataDir, oldest)), `we report "${ourTrouble}" on ${oldest ? "snapshot.0" : "the newest snapshot"}; does Apache on the same files?`).not.toBe("none");
      } finally {
        await ours.kill9();
      }
    }
  });
});
