/**
 * An in-process ensemble for tests: N QuorumMembers (src/ensemble) on free loopback ports, each with its own
 * dataDir, zoo.cfg and myid file, started and stopped like `npm run server -- zoo.cfg` would.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadZooCfg } from "../../src/config/index.ts";
import { QuorumMember, type MemberOptions } from "../../src/ensemble/member.ts";
import { silentLogger } from "../../src/server/index.ts";
import { freePort } from "../../src/cluster/launch.ts";

export interface TestEnsembleOptions {
  readonly participants?: number;
  readonly observers?: number;
  readonly tickTimeMs?: number;
  /** Extra zoo.cfg lines for every member. */
  readonly extraConfig?: readonly string[];
  readonly memberOptions?: Partial<MemberOptions>;
}

export interface TestEnsemble {
  readonly dir: string;
  readonly ids: readonly number[];
  readonly clientPorts: ReadonlyMap<number, number>;
  /** Every member's client address, for a client's connect string. */
  readonly connectString: string;
  member(id: number): QuorumMember | undefined;
  start(id: number): Promise<QuorumMember>;
  stop(id: number): Promise<void>;
  /** Waits until a leader serves and every running member serves too; returns the leader's id. */
  waitForQuorum(timeoutMs?: number): Promise<number>;
  /** Removes a member's dataDir (it must be stopped): it comes back empty and needs a SNAP. */
  wipe(id: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTestEnsemble(options: TestEnsembleOptions = {}): Promise<TestEnsemble> {
  const participants = options.participants ?? 3;
  const observers = options.observers ?? 0;
  const ids = Array.from({ length: participants + observers }, (_, i) => i + 1);
  const dir = await mkdtemp(join(tmpdir(), "zkbook-ensemble-"));
  const ports = new Map<number, { client: number; quorum: number; election: number }>();
  const taken = new Set<number>();
  const fresh = async (): Promise<number> => {
    for (;;) {
      const port = await freePort(); // free now, but not yet ours: never hand the same one out twice
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  for (const id of ids) ports.set(id, { client: await fresh(), quorum: await fresh(), election: await fresh() });
  const serverLines = ids.map((id) => {
    const p = ports.get(id)!;
    return `server.${id}=127.0.0.1:${p.quorum}:${p.election}${id > participants ? ":observer" : ""}`;
  });
  const members = new Map<number, QuorumMember>();

  const writeConfig = async (id: number) => {
    const dataDir = join(dir, String(id));
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, "myid"), `${id}\n`);
    const lines = [
      `tickTime=${options.tickTimeMs ?? 200}`,
      "initLimit=10",
      "syncLimit=5",
      `dataDir=${dataDir}`,
      `clientPort=${ports.get(id)!.client}`,
      "clientPortAddress=127.0.0.1",
      "4lw.commands.whitelist=*",
      ...(id > participants ? ["peerType=observer"] : []),
      ...serverLines,
      ...(options.extraConfig ?? []),
    ];
    const file = join(dataDir, "zoo.cfg");
    await writeFile(file, `${lines.join("\n")}\n`);
    return file;
  };

  const ensemble: TestEnsemble = {
    dir,
    ids,
    clientPorts: new Map(ids.map((id) => [id, ports.get(id)!.client])),
    connectString: ids.map((id) => `127.0.0.1:${ports.get(id)!.client}`).join(","),
    member: (id) => members.get(id),
    async start(id) {
      const { config } = await loadZooCfg(await writeConfig(id));
      const member = await QuorumMember.start(config, {
        logger: silentLogger,
        onFatal: (error) => {
          throw error;
        },
        ...options.memberOptions,
      });
      members.set(id, member);
      return member;
    },
    async stop(id) {
      const member = members.get(id);
      members.delete(id);
      await member?.stop();
    },
    async waitForQuorum(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const statuses = [...members.values()].map((m) => m.status);
        const leader = statuses.find((s) => s.role === "leading" && s.serving);
        if (leader !== undefined && statuses.every((s) => s.serving)) return leader.myId;
        if (Date.now() > deadline) {
          throw new Error(`no serving quorum within ${timeoutMs} ms: ${statuses.map((s) => `${s.myId}:${s.role}${s.serving ? "+serving" : ""}`).join(" ")}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async wipe(id) {
      if (members.has(id)) throw new Error(`member ${id} is running: stop it before wiping its dataDir`);
      await rm(join(dir, String(id)), { recursive: true, force: true });
    },
    async close() {
      await Promise.all([...members.keys()].map((id) => ensemble.stop(id)));
      await rm(dir, { recursive: true, force: true });
    },
  };
  for (const id of ids) await ensemble.start(id);
  return ensemble;
}
