/**
 * A Jepsen-style run against a real ensemble (processes on loopback): clients read, write and compare-and-set a
 * few znodes and create unique nodes, while a nemesis kills members with SIGKILL (the leader half the time) and
 * restarts them. What it records is judged afterwards: the history must be linearizable (src/sim/linearizability),
 * each client's operations complete in order, and every acknowledged create is on every member at the end.
 *
 * The nemesis's choices come from a seed (printed); the interleaving with real processes does not replay exactly.
 */
import { createClient, ZooKeeperError, type ZooKeeperClient } from "../../src/client/index.ts";
import type { Ensemble } from "../../src/cluster/ensemble.ts";
import { seededRandom } from "../../src/sim/random.ts";
import type { Operation, ZnodeCall, ZnodeError } from "../../src/sim/linearizability.ts";

export interface WorkloadOptions {
  readonly ensemble: Ensemble;
  readonly seed: number;
  /** Clients run at least this long, and until the nemesis has made all its kills. */
  readonly durationMs: number;
  /** How many members the nemesis kills (one at a time, each restarted before the next). */
  readonly kills: number;
  readonly clients: number;
  readonly keys: readonly string[];
  /** Time between two kills (ms); each killed member is restarted after `downMs`. */
  readonly killEveryMs: number;
  readonly downMs: number;
  readonly log?: (line: string) => void;
}

export interface WorkloadResult {
  readonly history: Operation[];
  /** Paths of creates the ensemble acknowledged. */
  readonly acked: string[];
  readonly kills: string[];
  readonly counts: { ok: number; failed: number; unknown: number };
  /** Each key's state before the history (created by the setup). */
  readonly initial: Record<string, { data: string; version: number }>;
}

const callTimeoutMs = 4_000;
const sessionTimeoutMs = 6_000;

function znodeError(error: unknown): ZnodeError | null {
  if (!(error instanceof ZooKeeperError)) return null;
  if (error.codeName === "noNode") return "NoNode";
  if (error.codeName === "nodeExists") return "NodeExists";
  if (error.codeName === "badVersion") return "BadVersion";
  return null;
}

export async function runKill9Workload(options: WorkloadOptions): Promise<WorkloadResult> {
  const { ensemble, keys } = options;
  const random = seededRandom(options.seed);
  const log = options.log ?? (() => {});
  const history: Operation[] = [];
  const acked: string[] = [];
  const kills: string[] = [];
  const counts = { ok: 0, failed: 0, unknown: 0 };
  const start = performance.now();
  const now = () => performance.now() - start;
  let nemesisDone = false;
  const running = () => !nemesisDone || now() < options.durationMs;
  let nextClientId = 0;

  const setup = createClient(ensemble.connectString, { sessionTimeoutMs });
  await setup.connect();
  for (const key of keys) await setup.create(key, Buffer.from("0"));
  await setup.create("/acked", null);
  await setup.close();
  const initial = Object.fromEntries(keys.map((k) => [k, { data: "0", version: 0 }]));

  async function clientLoop(slot: number): Promise<void> {
    let client: ZooKeeperClient | null = null;
    let clientId = nextClientId++;
    let lastVersion = new Map<string, number>();
    let n = 0;
    while (running()) {
      if (client === null) {
        client = createClient(ensemble.connectString, { sessionTimeoutMs });
        try {
          await client.connect();
        } catch {
          await client.close().catch(() => {});
          client = null;
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
      }
      const key = keys[random.int(0, keys.length - 1)]!;
      const dice = random.next();
      const value = `${slot}-${n++}`;
      let call: ZnodeCall;
      let run: () => Promise<{ data?: string; version?: number }>;
      if (dice < 0.4) {
        call = { kind: "read" };
        run = async () => {
          const snapshot = await client!.getData(key, { timeoutMs: callTimeoutMs });
          lastVersion.set(key, snapshot.stat.version);
          return { data: snapshot.data?.toString() ?? "", version: snapshot.stat.version };
        };
      } else if (dice < 0.65) {
        call = { kind: "write", data: value };
        run = async () => ({ version: (await client!.setData(key, Buffer.from(value), { timeoutMs: callTimeoutMs })).version });
      } else if (dice < 0.85) {
        const expectedVersion = lastVersion.get(key) ?? 0;
        call = { kind: "cas", data: value, expectedVersion };
        run = async () => ({ version: (await client!.setData(key, Buffer.from(value), { version: expectedVersion, timeoutMs: callTimeoutMs })).version });
      } else {
        // A unique node: if acknowledged, it must be on every member at the end (no acknowledged write is lost).
        const path = `/acked/c${slot}-${n}`;
        try {
          await client.create(path, null, { timeoutMs: callTimeoutMs });
          acked.push(path);
        } catch {
          // Unknown or failed: not counted either way.
        }
        continue;
      }
      const invokedAt = now();
      try {
        const result = await run();
        history.push({ client: clientId, key, call, invokedAt, outcome: { status: "ok", completedAt: now(), ...result } });
        counts.ok++;
      } catch (error) {
        const definite = znodeError(error);
        if (definite !== null) {
          history.push({ client: clientId, key, call, invokedAt, outcome: { status: "failed", completedAt: now(), error: definite } });
          counts.failed++;
        } else {
          // Connection loss, timeout, expiry: it may or may not have happened.
          history.push({ client: clientId, key, call, invokedAt, outcome: { status: "unknown" } });
          counts.unknown++;
          if (error instanceof ZooKeeperError && error.codeName === "sessionExpired") {
            await client.close().catch(() => {});
            client = null;
            clientId = nextClientId++;
            lastVersion = new Map();
          }
        }
      }
    }
    await client?.close().catch(() => {});
  }

  async function nemesis(): Promise<void> {
    for (let k = 0; k < options.kills; k++) {
      await new Promise((resolve) => setTimeout(resolve, options.killEveryMs));
      const leader = await ensemble.leader().catch(() => null);
      const ids = ensemble.members.map((m) => m.id);
      const victim = leader !== null && random.chance(0.5) ? leader.member.id : ids[random.int(0, ids.length - 1)]!;
      const what = `${now().toFixed(0)} ms: kill -9 server ${victim}${leader?.member.id === victim ? " (the leader)" : ""}`;
      log(what);
      kills.push(what);
      await ensemble.kill(victim);
      await new Promise((resolve) => setTimeout(resolve, options.downMs));
      await ensemble.restart(victim);
    }
  }

  const chaos = nemesis().finally(() => {
    nemesisDone = true;
  });
  await Promise.all([chaos, ...Array.from({ length: options.clients }, (_, slot) => clientLoop(slot))]);

  // The final word: every member's view of every key after a sync, once all are back.
  await ensemble.leader();
  for (const member of ensemble.members) {
    const reader = createClient(`127.0.0.1:${member.clientPort}`, { sessionTimeoutMs });
    await reader.connect();
    await reader.sync("/");
    const clientId = nextClientId++;
    for (const key of keys) {
      const invokedAt = now();
      const snapshot = await reader.getData(key);
      history.push({ client: clientId, key, call: { kind: "read" }, invokedAt, outcome: { status: "ok", completedAt: now(), data: snapshot.data?.toString() ?? "", version: snapshot.stat.version } });
    }
    const present = new Set(await reader.getChildren("/acked"));
    const missing = acked.filter((path) => !present.has(path.slice("/acked/".length)));
    await reader.close();
    if (missing.length > 0) throw new Error(`server ${member.id} lost ${missing.length} acknowledged creates: ${missing.slice(0, 5).join(", ")}`);
  }
  return { history, acked, kills, counts, initial };
}
