/**
 * `npm run demo [-- connect-string]`: the book's master–worker application, live. Starts a local server if no host
 * of the connect string (default 127.0.0.1:2181) answers, then a master, a backup master, three workers and a
 * client that submits tasks. Halfway through the master is killed (SIGKILL, a real crash): its session expires,
 * /master disappears, the backup takes over.
 *
 * Each role is its own process (`demo.ts --role master|worker <name> <connect>`), so the crash is real.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { createClient, parseConnectString } from "../client/index.ts";
import { defaultConfig } from "../config/index.ts";
import { Master, Worker, bootstrap, submitTask, waitForStatus } from "../apps/master-worker/index.ts";
import { silentLogger, startStandaloneServer } from "../server/index.ts";

/** Short, so that the backup takes over within seconds of the crash. */
const demoSessionTimeoutMs = 4_000;
const tasksPerPhase = 4;
const colors = [36, 33, 35, 32, 34, 31];

function print(who: string, line: string, color: number): void {
  const tag = process.stdout.isTTY ? `\u001b[${color}m${who.padEnd(8)}\u001b[39m` : who.padEnd(8);
  console.log(`${tag} ${line}`);
}

async function runRole(role: string, name: string, connect: string): Promise<void> {
  const client = createClient(connect, { sessionTimeoutMs: demoSessionTimeoutMs });
  await client.connect();
  const report = (line: string) => console.log(line.replace(new RegExp(`^${name}: `), ""));
  if (role === "master") {
    await new Master(client, { id: name, report }).run();
  } else {
    const execute = async (task: string, data: Buffer | null) => {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      return `"${data?.toString()}" done by ${name}`;
    };
    await new Worker(client, { name, execute, report }).start();
  }
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.write("ruok");
    });
    socket.on("data", (d) => {
      resolve(d.toString() === "imok");
      socket.destroy();
    });
    socket.on("error", () => resolve(false));
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--role") {
    // A role runs until it is killed — or until the demo that started it is gone (its end of our stdin closes),
    // so that a demo killed on its own leaves no masters and workers behind.
    process.stdin.on("close", () => process.exit(0)).resume();
    await runRole(args[1]!, args[2]!, args[3]!);
    await new Promise(() => {});
  }
  let connect = args[0] ?? "127.0.0.1:2181";
  let stopServer = async () => {};
  const { hosts } = parseConnectString(connect); // throws, naming the bad part, for a connect string that is not one
  const reachable = (await Promise.all(hosts.map((h) => answers(h.host, h.port)))).some((ok) => ok);
  if (!reachable) {
    const server = await startStandaloneServer(defaultConfig({ clientPort: 0, tickTimeMs: 500 }), { logger: silentLogger });
    print("demo", `no server at ${connect}; started one at ${server.connectString}`, 37);
    connect = server.connectString;
    stopServer = () => server.close();
  } else print("demo", `using the server at ${connect}`, 37);

  const admin = createClient(connect);
  await admin.connect();
  await bootstrap(admin);

  const children: ChildProcess[] = [];
  /** Starts a role; resolves once it has printed a line matching `ready`. */
  const start = (role: string, name: string, color: number, ready: RegExp) =>
    new Promise<ChildProcess>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--role", role, name, connect], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      child.stdout!.on("data", (d: Buffer) =>
        d.toString().trim().split("\n").forEach((line) => {
          print(name, line, color);
          if (ready.test(line)) resolve(child);
        }),
      );
      children.push(child);
    });
  const master = await start("master", "master-1", colors[0]!, /elected master/);
  await start("master", "master-2", colors[1]!, /standing by/);
  for (const [i, name] of ["worker-1", "worker-2", "worker-3"].entries()) await start("worker", name, colors[2 + i]!, /registered/);

  const submit = async (from: number) => {
    const tasks: string[] = [];
    for (let i = from; i < from + tasksPerPhase; i++) {
      const task = await submitTask(admin, `job ${i}`);
      print("client", `submitted ${task} ("job ${i}")`, 37);
      tasks.push(task);
    }
    for (const task of tasks) print("client", `${task}: ${await waitForStatus(admin, task)}`, 37);
  };
  await submit(0);
  print("demo", `killing master-1 (SIGKILL); its session ends within ${demoSessionTimeoutMs / 1000} s and master-2 takes over`, 31);
  master.kill("SIGKILL");
  await submit(tasksPerPhase);
  print("demo", "every task is done; stopping", 37);
  for (const child of children) child.kill("SIGTERM");
  await admin.close();
  await stopServer();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exit(1);
  },
);
