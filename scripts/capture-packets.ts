/**
 * Records real packets of Apache's own clients talking to Apache ZooKeeper 3.8, for lab 7 (the wire protocol):
 * a recording TCP proxy sits between each client (kazoo, the C client cli_mt, the Java zkCli, node-zookeeper-client)
 * and the server and keeps both byte streams. Writes test/labs/fixtures/captured-packets.json (hex).
 *
 *   npx tsx scripts/capture-packets.ts      (needs the Debian packages zookeeper, zookeeper-bin, python3-kazoo)
 */
import net from "node:net";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zookeeper from "node-zookeeper-client";
import { startApacheZooKeeper, runKazoo, runCliMt, runZkCli } from "../test/interop/harness/index.ts";

interface Capture {
  readonly client: string;
  /** What the client sent and what the server answered, each as one hex string (a TCP stream). */
  readonly toServer: string;
  readonly toClient: string;
}

async function recordingProxy(targetPort: number) {
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  let first = true;
  const server = net.createServer((client) => {
    // Only the first connection: later ones (a reconnect) would interleave.
    const record = first;
    first = false;
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
    client.on("data", (b) => {
      if (record) toServer.push(b);
      upstream.write(b);
    });
    upstream.on("data", (b) => {
      if (record) toClient.push(b);
      client.write(b);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    done: (clientName: string): Capture => {
      server.close();
      return { client: clientName, toServer: Buffer.concat(toServer).toString("hex"), toClient: Buffer.concat(toClient).toString("hex") };
    },
  };
}

const apache = await startApacheZooKeeper();
const captures: Capture[] = [];
try {
  let proxy = await recordingProxy(apache.port);
  await runKazoo(`127.0.0.1:${proxy.port}`, `
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=HOSTS); zk.start()
    zk.create("/kazoo", b"hello"); zk.get("/kazoo"); zk.get_children("/")
    zk.create("/kazoo/s-", b"", sequence=True, ephemeral=True)
    t = zk.transaction(); t.create("/kazoo/t", b"1"); t.delete("/kazoo/missing"); t.commit()
    zk.stop()
  `);
  captures.push(proxy.done("kazoo 2.8"));

  proxy = await recordingProxy(apache.port);
  await runCliMt(`127.0.0.1:${proxy.port}`, ["create /cmt", "set /cmt world", "get /cmt", "ls /", "delete /cmt"]);
  captures.push(proxy.done("C client cli_mt 3.8"));

  proxy = await recordingProxy(apache.port);
  await runZkCli(`127.0.0.1:${proxy.port}`, ["create /java data", "get -s /java", "ls -w /", "create -e -s /java/e- x", "deleteall /java"]);
  captures.push(proxy.done("Java zkCli 3.8"));

  proxy = await recordingProxy(apache.port);
  await new Promise<void>((resolve, reject) => {
    const client = zookeeper.createClient(`127.0.0.1:${proxy.port}`);
    client.once("connected", () => {
      // node-zookeeper-client's typings list every optional argument; pass them as the library defaults them.
      const defaultAcl = zookeeper.ACL.OPEN_ACL_UNSAFE;
      client.create("/nzc", Buffer.from("x"), defaultAcl, zookeeper.CreateMode.PERSISTENT, (error: unknown) => {
        if (error) return reject(error);
        client.getChildren("/", () => {}, () =>
          client.getData("/nzc", undefined as never, () => {
            client.close();
            setTimeout(resolve, 200);
          }),
        );
      });
    });
    client.connect();
  });
  captures.push(proxy.done("node-zookeeper-client 1.1.3"));
} finally {
  await apache.stop();
}
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "labs", "fixtures", "captured-packets.json");
await writeFile(out, JSON.stringify({ server: "Apache ZooKeeper 3.8.0 (Debian)", captures }, null, 2) + "\n");
console.log(`wrote ${out}: ${captures.map((c) => `${c.client} ${c.toServer.length / 2}+${c.toClient.length / 2} bytes`).join("; ")}`);
