import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadZooCfg } from "../../src/config/index.ts";

let workDir: string;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), "zkbook-config-"));
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Writes zoo.cfg (and myid, if given) into the temp dir; returns the zoo.cfg path. */
async function writeConfig(text: string, myIdContent?: string): Promise<string> {
  const dataDir = join(workDir, "data");
  await mkdir(dataDir, { recursive: true });
  if (myIdContent !== undefined) await writeFile(join(dataDir, "myid"), myIdContent);
  const path = join(workDir, "zoo.cfg");
  await writeFile(path, text.replaceAll("$DATA", dataDir));
  return path;
}

async function loadError(path: string): Promise<ConfigError> {
  const error = await loadZooCfg(path).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const quorum = "dataDir=$DATA\nserver.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n";

describe("loadZooCfg", () => {
  it("reads and parses the file, using its path in messages", async () => {
    const path = await writeConfig("dataDir=$DATA\ntickTime=1500\nunknownKey=1\n");
    const { config, unusedKeys } = await loadZooCfg(path);
    expect(config.tickTimeMs).toBe(1500);
    expect(config.dataDir).toBe(join(workDir, "data"));
    expect(unusedKeys).toEqual(["unknownKey"]);

    const badPath = await writeConfig("dataDir=$DATA\ntickTime=abc\n");
    await expect(loadZooCfg(badPath)).rejects.toThrow(`${badPath}: tickTime="abc" is not valid`);
  });

  it("resolves relative dataDir and dataLogDir against the working directory", async () => {
    const relativeData = relative(process.cwd(), join(workDir, "data"));
    const path = await writeConfig(`dataDir=${relativeData}\ndataLogDir=./logs\n`);
    const { config } = await loadZooCfg(path);
    expect(config.dataDir).toBe(join(workDir, "data"));
    expect(config.dataLogDir).toBe(join(process.cwd(), "logs"));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("does not read myid for a standalone file", async () => {
    const path = await writeConfig("dataDir=$DATA\n", "not a number");
    expect((await loadZooCfg(path)).config.myId).toBeUndefined();
  });

  it("reads myid when the file has server lines", async () => {
    const path = await writeConfig(quorum, "2\n");
    const { config } = await loadZooCfg(path);
    expect(config.myId).toBe(2);
    expect(config.distributed).toBe(true);
  });

  it("reads only the first line of myid, trimmed", async () => {
    const path = await writeConfig(quorum, " 3 \nignored\n");
    expect((await loadZooCfg(path)).config.myId).toBe(3);
  });

  it("fails naming myid when a quorum has no myid file", async () => {
    const path = await writeConfig(quorum);
    const error = await loadError(path);
    expect(error.key).toBe("myid");
    expect(error.message).toContain(`myid file ${join(workDir, "data", "myid")} is missing`);
    expect(error.message).toContain("one of 1, 2, 3");
  });

  it("lets a single server line run without myid, as Apache does", async () => {
    const path = await writeConfig("dataDir=$DATA\nserver.1=zk1:2888:3888\n");
    const { config } = await loadZooCfg(path);
    expect(config.distributed).toBe(false);
    expect(config.myId).toBeUndefined();
  });

  it("refuses a myid that is not a number, naming the file and the value", async () => {
    const path = await writeConfig(quorum, "one\n");
    const error = await loadError(path);
    expect(error.key).toBe("myid");
    expect(error.value).toBe("one");
    expect(error.message).toContain(`${join(workDir, "data", "myid")}: myid="one" is not valid`);
  });

  it("refuses a myid that names no server", async () => {
    const path = await writeConfig(quorum, "9\n");
    const error = await loadError(path);
    expect(error.key).toBe("myid");
    expect(error.value).toBe("9");
  });

  it("applies the server line of myid (role and client port)", async () => {
    const path = await writeConfig(`${quorum}server.4=zk4:2888:3888:observer;2184\n`, "4");
    const { config } = await loadZooCfg(path);
    expect(config.peerType).toBe("observer");
    expect(config.clientPort).toBe(2184);
  });

  it("reports a missing config file as a ConfigError", async () => {
    const path = join(workDir, "absent.cfg");
    const error = await loadError(path);
    expect(error.message).toContain(`${path}: cannot read the config file`);
  });
});
