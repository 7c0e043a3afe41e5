/**
 * `npm run server -- zoo.cfg` as a user runs it: src/cli/server.ts in its own process. What the issue asks of the
 * entry point itself — an Apache zoo.cfg runs unchanged with the keys it does not use named in one warning; a bad
 * value or a busy port stops start-up with an error that says what to fix; SIGINT and SIGTERM stop it cleanly, like
 * Apache's zkServer.sh stop, with what was acknowledged still there on the next start.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/cluster/launch.ts";
import { errorCodes, opCodes } from "../../src/proto/index.ts";
import { body } from "./support/requests.ts";
import { RawClient } from "./support/tcp.ts";

const root = resolve(import.meta.dirname, "../..");
const serverEntry = join(root, "src/cli/server.ts");
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkbook-cli-"));
  dirs.push(dir);
  return dir;
}

interface Started {
  readonly child: ChildProcess;
  /** Everything the process printed so far, stdout and stderr interleaved. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the server on `cfg` and resolves once it says it serves (or rejects with its output if it exits first). */
async function startServer(cfg: string): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", serverEntry, cfg], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => void (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on("exit", (code, signal) => done({ code, signal })));
  await new Promise<void>((ready, fail) => {
    const check = () => {
      if (out.includes("serving clients at")) ready();
    };
    child.stdout!.on("data", check);
    void exited.then(() => fail(new Error(`the server exited before serving:\n${out}`)));
  });
  return { child, output: () => out, exited };
}

/** An Apache 3.8 zoo.cfg as zoo_sample.cfg has it, plus keys of Apache's this server has no use for. */
function apacheZooCfg(dir: string, port: number): string {
  const cfg = join(dir, "zoo.cfg");
  writeFileSync(
    cfg,
    [
      "tickTime=2000",
      "initLimit=10",
      "syncLimit=5",
      `dataDir=${join(dir, "data")}`,
      `clientPort=${port}`,
      "admin.serverPort=8080",
      "audit.enable=true",
      "maxCnxns=100",
      "",
    ].join("\n"),
  );
  return cfg;
}

describe("npm run server -- zoo.cfg", () => {
  it("runs an Apache zoo.cfg, names the keys it does not use in one warning, and stops cleanly on SIGTERM and SIGINT", async () => {
    const dir = tempDir();
    const port = await freePort();
    const cfg = apacheZooCfg(dir, port);

    const first = await startServer(cfg);
    const warnings = first.output().split("\n").filter((line) => line.includes("keys this server does not use"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("WARN  zoo.cfg keys this server does not use (ignored): admin.serverPort, audit.enable, maxCnxns");
    expect(first.output()).toContain(`binding to port 127.0.0.1:${port}`);
    const client = await RawClient.session(port);
    expect((await client.call(opCodes.create, body.create("/kept", "v"))).header.err).toBe(0);
    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output()).toContain("SIGTERM received, shutting down");
    expect(await client.waitClosed()).toBe(true);
    client.destroy();

    // The acknowledged create survived the stop; this time SIGINT (Ctrl-C) stops it.
    const second = await startServer(cfg);
    const again = await RawClient.session(port);
    expect((await again.call(opCodes.exists, body.pathWatch("/kept"))).header.err).toBe(0);
    expect((await again.call(opCodes.exists, body.pathWatch("/never"))).header.err).toBe(errorCodes.noNode);
    second.child.kill("SIGINT");
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(second.output()).toContain("SIGINT received, shutting down");
    again.destroy();
  });

  it("refuses a bad value: exit code 1 and one line naming the file, the key, the value and what is allowed", () => {
    const dir = tempDir();
    const cfg = join(dir, "zoo.cfg");
    writeFileSync(cfg, `dataDir=${join(dir, "data")}\nclientPort=2181\ntickTime=2s\n`);
    const r = spawnSync(process.execPath, ["--import", "tsx", serverEntry, cfg], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${cfg}: tickTime="2s" is not valid: expected a positive integer (milliseconds)`);
  });

  it("refuses a dataDir it cannot create, naming the key and the value, instead of an mkdir stack trace", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a-file"), "x");
    const cfg = join(dir, "zoo.cfg");
    writeFileSync(cfg, `dataDir=${join(dir, "a-file", "data")}\nclientPort=2181\n`);
    const r = spawnSync(process.execPath, ["--import", "tsx", serverEntry, cfg], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `error: ${cfg}: dataDir="${join(dir, "a-file", "data")}" is not valid: cannot create or write this directory (a file is in the way); ` +
        "it must be a directory this user can create and write",
    );
  });

  it("refuses a client port that is taken with an error that says so, instead of a stack trace", async () => {
    const dir = tempDir();
    const port = await freePort();
    const cfg = apacheZooCfg(dir, port);
    const holder = await startServer(cfg);
    const other = tempDir();
    const r = spawnSync(process.execPath, ["--import", "tsx", serverEntry, apacheZooCfg(other, port)], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: cannot listen for clients on 127.0.0.1:${port} (clientPortAddress:clientPort): the address is already in use`);
    expect(r.stderr).not.toContain("    at ");
    holder.child.kill("SIGTERM");
    expect((await holder.exited).code).toBe(0);
  });
});
