/**
 * What a local ensemble is: which implementation runs it, and each member's id, kind and three ports.
 * Pure data and pure functions — no files, no processes (those are in launch.ts and ensemble.ts).
 *
 * Ids: participants (voters) are 1..servers, observers follow (servers+1..servers+observers), as in Apache's
 * examples: an observer is a `server.N` line ending in `:observer`.
 *
 * Ports, `npm run cluster` style: member N listens for clients on basePort+N-1 (2181, 2182, 2183, ...), for the
 * leader's Zab traffic on 2888+N-1 and for leader election on 3888+N-1 — the ports of Apache's documentation,
 * one set per member since they all share 127.0.0.1. `--base-port` moves all three ranges together. The
 * programmatic harness (ensemble.ts) picks free ports instead, so that tests never clash with a running cluster.
 */

export type Implementation = "zkbook" | "apache";
export const implementations: readonly Implementation[] = ["zkbook", "apache"];

/** A participant votes and counts towards quorums; an observer only follows the leader's commits (chapter 9). */
export type MemberKind = "participant" | "observer";

export interface MemberSpec {
  readonly id: number;
  readonly kind: MemberKind;
  readonly clientPort: number;
  /** Followers and observers connect to the leader's quorum port (Zab). */
  readonly quorumPort: number;
  /** Fast leader election's port. */
  readonly electionPort: number;
}

export interface ClusterSpec {
  readonly impl: Implementation;
  /** Sorted by id: the participants, then the observers. */
  readonly members: readonly MemberSpec[];
}

/** Every member binds here, never on another interface. */
export const clusterHost = "127.0.0.1";

/** Apache's documented ports: clients 2181, quorum 2888, election 3888. */
export const clientPortBaseDefault = 2181;
export const quorumPortBaseDefault = 2888;
export const electionPortBaseDefault = 3888;
/** A member's quorum and election ports sit this far above its client port (2888 - 2181, 3888 - 2181). */
export const quorumPortOffset = quorumPortBaseDefault - clientPortBaseDefault;
export const electionPortOffset = electionPortBaseDefault - clientPortBaseDefault;

export const serversDefault = 3;
export const observersDefault = 0;
/**
 * At most this many members in a local cluster: each is a JVM or a Node process on this one machine, and a
 * laptop gets nothing out of more. (Apache itself has no such limit.)
 */
export const clusterMembersMax = 15;
export const portMin = 1;
export const portMax = 65_535;

/** A user mistake in what was asked for (bad flag, bad id): printed as is, without a stack trace. */
export class ClusterError extends Error {
  override name = "ClusterError";
}

export interface ClusterShape {
  readonly servers: number;
  readonly observers: number;
}

export function checkShape(shape: ClusterShape): void {
  const { servers, observers } = shape;
  if (!Number.isInteger(servers) || servers < 1) {
    throw new ClusterError(`--servers must be a whole number of at least 1, got ${servers}`);
  }
  if (!Number.isInteger(observers) || observers < 0) {
    throw new ClusterError(`--observers must be a whole number of at least 0, got ${observers}`);
  }
  if (servers + observers > clusterMembersMax) {
    throw new ClusterError(
      `${servers} servers + ${observers} observers is ${servers + observers} members; a local cluster has at most ${clusterMembersMax}`,
    );
  }
}

/** The kind of member `id` in a cluster of this shape (ids start at 1). */
export function kindOf(id: number, shape: ClusterShape): MemberKind {
  return id <= shape.servers ? "participant" : "observer";
}

/** `npm run cluster`'s ports: client basePort+N-1, quorum basePort+707+N-1, election basePort+1707+N-1. */
export function planFromBasePort(impl: Implementation, shape: ClusterShape, basePort = clientPortBaseDefault): ClusterSpec {
  checkShape(shape);
  const count = shape.servers + shape.observers;
  const highest = basePort + electionPortOffset + count - 1;
  if (!Number.isInteger(basePort) || basePort < portMin || highest > portMax) {
    throw new ClusterError(
      `--base-port ${basePort} does not fit: ${count} members need ports up to ${highest} ` +
        `(the last election port is base + ${electionPortOffset} + ${count - 1}); ports go from ${portMin} to ${portMax}`,
    );
  }
  return planWithPorts(impl, shape, (id) => ({
    clientPort: basePort + id - 1,
    quorumPort: basePort + quorumPortOffset + id - 1,
    electionPort: basePort + electionPortOffset + id - 1,
  }));
}

export type PortTriple = Pick<MemberSpec, "clientPort" | "quorumPort" | "electionPort">;

/** A cluster whose ports come from `portsOf(id)` (the harness passes free ports). Checks they are distinct. */
export function planWithPorts(impl: Implementation, shape: ClusterShape, portsOf: (id: number) => PortTriple): ClusterSpec {
  checkShape(shape);
  const members: MemberSpec[] = [];
  for (let id = 1; id <= shape.servers + shape.observers; id++) {
    members.push({ id, kind: kindOf(id, shape), ...portsOf(id) });
  }
  const seen = new Map<number, string>();
  for (const m of members) {
    for (const [what, port] of [["client", m.clientPort], ["quorum", m.quorumPort], ["election", m.electionPort]] as const) {
      const earlier = seen.get(port);
      if (earlier) throw new ClusterError(`port ${port} is both the ${earlier} and the ${what} port of server ${m.id}`);
      seen.set(port, `${what} port of server ${m.id}`);
    }
  }
  return { impl, members };
}

export function shapeOf(spec: ClusterSpec): ClusterShape {
  const observers = spec.members.filter((m) => m.kind === "observer").length;
  return { servers: spec.members.length - observers, observers };
}

/** The connect string a client of the whole ensemble uses: every member, observers included (they serve reads). */
export function connectStringOf(spec: ClusterSpec): string {
  return spec.members.map((m) => `${clusterHost}:${m.clientPort}`).join(",");
}

/** A majority of the participants: how many must serve before the ensemble does (Zab, chapter 9). */
export function quorumSize(spec: ClusterSpec): number {
  return Math.floor(shapeOf(spec).servers / 2) + 1;
}

export function memberById(spec: ClusterSpec, id: number): MemberSpec {
  const member = spec.members.find((m) => m.id === id);
  if (!member) {
    const ids = spec.members.map((m) => m.id).join(", ");
    throw new ClusterError(`there is no server ${id} in this cluster (its servers are ${ids})`);
  }
  return member;
}
