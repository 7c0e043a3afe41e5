// Proves the interop harness itself works, against the real Apache ZooKeeper 3.8: the server
// starts and answers four letter words, and all three reference clients (kazoo, the C shell
// cli_mt, the Java shell zkCli) see the same node. Later interop tests build on these helpers.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apacheAvailable,
  apacheSkipMessage,
  missingPieces,
  cliMtChildren,
  cliMtRc,
  cliMtValue,
  dedent,
  fourLetterWord,
  freePort,
  runCliMt,
  runKazoo,
  runZkCli,
  runZkCliCommand,
  startApacheZooKeeper,
  type ApacheZooKeeper,
} from "./harness/index.ts";

const available = apacheAvailable();
if (!available.ok) console.warn(apacheSkipMessage(available));

describe("harness helpers that need nothing installed", () => {
  it("dedent removes the common indentation of a template literal", () => {
    expect(dedent("\n    a = 1\n    if a:\n        print(a)\n  ")).toBe("a = 1\nif a:\n    print(a)\n");
  });

  it("the skip message names the Debian packages to install, and each missing piece with its package", () => {
    const has = { java: true, zookeeperJars: true, cliMt: false, kazoo: false };
    const message = apacheSkipMessage({ ok: false, missing: missingPieces(has), has });
    expect(message).toContain("install Debian packages zookeeper, zookeeper-bin, python3-kazoo");
    expect(message).toContain("missing: zookeeper-bin (/usr/lib/zookeeper/bin/cli_mt); python3-kazoo (");
    expect(message).not.toContain("default-jre");
    const none = { java: false, zookeeperJars: false, cliMt: false, kazoo: false };
    expect(missingPieces(none).map((piece) => piece.split(" ")[0])).toEqual(["zookeeper", "java", "zookeeper-bin", "python3-kazoo"]);
  });

  it("fourLetterWord rejects when nothing listens", async () => {
    const port = await freePort();
    await expect(fourLetterWord("127.0.0.1", port, "ruok")).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe.skipIf(!available.ok)(
  available.ok ? "Apache ZooKeeper 3.8 interop harness" : apacheSkipMessage(available),
  () => {
    let zk: ApacheZooKeeper;

    beforeAll(async () => {
      zk = await startApacheZooKeeper({ tickTimeMs: 500 });
    });
    afterAll(async () => {
      await zk?.stop();
    });

    it("answers ruok with imok, and srvr with its version", async () => {
      expect(await fourLetterWord(zk.host, zk.port, "ruok")).toBe("imok");
      expect(await fourLetterWord(zk.host, zk.port, "srvr")).toMatch(/Zookeeper version: 3\.8\.\d+/);
      // mntr is not allowed by default; the harness config allows all four letter words.
      expect(await fourLetterWord(zk.host, zk.port, "mntr")).toMatch(/zk_server_state\tstandalone/);
    });

    it("kazoo creates a node and reads it back", async () => {
      const r = await runKazoo(
        zk.hostPort,
        `
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=HOSTS)
        zk.start(timeout=15)
        zk.create("/harness", b"from-kazoo")
        data, stat = zk.get("/harness")
        print(data.decode(), stat.version, stat.dataLength)
        zk.stop(); zk.close()
        `,
      );
      expect(r.stderr).toBe("");
      expect(r).toMatchObject({ code: 0, timedOut: false });
      expect(r.stdout).toBe("from-kazoo 0 10\n");
    });

    it("cli_mt lists and reads that node, and creates its own", async () => {
      const r = await runCliMt(zk.hostPort, ["ls /", "get /harness", "create /from-c", "get /from-c", "myid"]);
      expect(r.connected).toBe(true);
      expect(r.sessionId).toMatch(/^0x[0-9a-f]+$/);
      const [ls, get, create, getNew, myid] = r.steps;
      expect(r.steps.every((s) => !s.timedOut)).toBe(true);
      expect(cliMtChildren(ls.output).sort()).toEqual(["harness", "zookeeper"]);
      expect(cliMtRc(get.output)).toBe(0);
      expect(cliMtValue(get.output)).toBe("from-kazoo");
      expect(create.output).toMatch(/\[\/from-c\]: rc = 0\n\tname = \/from-c/);
      expect(cliMtValue(getNew.output)).toBe("new"); // cli_mt's create always stores "new"
      expect(myid.output).toMatch(`session Id = ${r.sessionId!.slice(2)}`);
      expect(r.code).toBe(0);
    });

    it("zkCli reads the node, as a command and as a script", async () => {
      const one = await runZkCliCommand(zk.hostPort, ["get", "/harness"]);
      expect(one).toMatchObject({ output: "from-kazoo\n", code: 0 });

      const script = await runZkCli(zk.hostPort, ["ls /", "get /from-c", "get /missing"]);
      expect(script.output).toBe("[from-c, harness, zookeeper]\nnew\nNode does not exist: /missing\n");
    });

    it("kill9 kills the server at once; a restart on the same dataDir has the data", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "zkbook-harness-data-"));
      try {
        const first = await startApacheZooKeeper({ dataDir, tickTimeMs: 500 });
        const made = await runZkCliCommand(first.hostPort, ["create", "/durable", "yes"]);
        expect(made.output).toBe("Created /durable\n");
        await first.kill9();
        expect(() => process.kill(first.pid, 0)).toThrow(); // no such process
        await expect(fourLetterWord(first.host, first.port, "ruok")).rejects.toThrow(/ECONNREFUSED/);

        const second = await startApacheZooKeeper({ dataDir, tickTimeMs: 500 });
        try {
          const read = await runZkCliCommand(second.hostPort, ["get", "/durable"]);
          expect(read.output).toBe("yes\n");
        } finally {
          await second.stop();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  },
);
