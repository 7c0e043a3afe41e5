/**
 * Quorum verifiers (Apache `QuorumMaj` and `QuorumHierarchical`): which sets of servers are a quorum.
 *
 * Book chapter 9 and reference §6: a majority quorum is "acks among the voters > voters / 2"; a hierarchical quorum
 * (`group.x`, `weight.x`) is "in more than half of the groups with non-zero weight, the acking servers' weights
 * exceed half the group's weight". Observers never vote and never count (notes 第9章 观察者: "观察者不参与选举过程").
 *
 * Every election and Zab decision that needs "enough servers" goes through `containsQuorum`; this is one of the
 * pieces lab 9 swaps for the learner's own.
 */
import { assert } from "./assert.ts";

export type QuorumKind = "majority" | "hierarchical";

export interface QuorumVerifier {
  readonly kind: QuorumKind;
  /** Participants, ascending: they vote in elections and their ACKs count (a participant may have weight 0). */
  readonly votingMembers: readonly number[];
  /** Observers, ascending: they learn committed txns (INFORM) but never vote and never count. */
  readonly observers: readonly number[];
  isVotingMember(sid: number): boolean;
  /** 0 for observers, unknown ids and weight-0 participants: a server of weight 0 is never elected. */
  weight(sid: number): number;
  /** Whether `ackSet` contains a quorum. Ids that are not voting members are ignored, never counted. */
  containsQuorum(ackSet: Iterable<number>): boolean;
}

/** Apache `QuorumMaj`: every participant has weight 1; a quorum is more than half of them. */
export function majorityVerifier(participants: Iterable<number>, observers: Iterable<number> = []): QuorumVerifier {
  const voters = sortedUnique(participants, "participant");
  const watchers = sortedUnique(observers, "observer");
  assert(voters.length > 0, "a quorum needs at least one participant");
  for (const o of watchers) assert(!voters.includes(o), `server ${o} is both a participant and an observer`);
  const voterSet = new Set(voters);
  const half = Math.floor(voters.length / 2);
  return {
    kind: "majority",
    votingMembers: voters,
    observers: watchers,
    isVotingMember: (sid) => voterSet.has(sid),
    weight: (sid) => (voterSet.has(sid) ? 1 : 0),
    containsQuorum(ackSet) {
      let count = 0;
      for (const sid of new Set(ackSet)) if (voterSet.has(sid)) count++;
      return count > half;
    },
  };
}

export interface HierarchicalGroup {
  readonly groupId: number;
  readonly serverIds: readonly number[];
}

/**
 * Apache `QuorumHierarchical`. `weights` may leave servers out (weight 1, as in Apache); weight 0 is allowed and
 * makes a server that still votes but can never win an election nor tip a group's majority.
 */
export function hierarchicalVerifier(
  groups: readonly HierarchicalGroup[],
  weights: ReadonlyMap<number, number> | Iterable<readonly [number, number]>,
  observers: Iterable<number> = [],
): QuorumVerifier {
  const weightOf = new Map<number, number>(weights instanceof Map ? weights : [...(weights as Iterable<readonly [number, number]>)]);
  const groupOf = new Map<number, number>();
  const groupWeight = new Map<number, number>();
  for (const group of groups) {
    assert(!groupWeight.has(group.groupId), `group ${group.groupId} is defined twice`);
    let total = 0;
    for (const sid of group.serverIds) {
      assert(!groupOf.has(sid), `server ${sid} is in two groups`);
      groupOf.set(sid, group.groupId);
      const w = weightOf.get(sid) ?? 1;
      assert(Number.isInteger(w) && w >= 0, `weight of server ${sid} must be a non-negative integer, got ${w}`);
      total += w;
    }
    groupWeight.set(group.groupId, total);
  }
  const voters = sortedUnique(groupOf.keys(), "participant");
  const watchers = sortedUnique(observers, "observer");
  assert(voters.length > 0, "a hierarchical quorum needs at least one group with servers");
  for (const o of watchers) assert(!groupOf.has(o), `observer ${o} cannot be in a group`);
  // Groups whose servers all have weight 0 do not count toward "more than half of the groups" (computeGroupWeight).
  let groupsWithWeight = 0;
  for (const w of groupWeight.values()) if (w > 0) groupsWithWeight++;
  return {
    kind: "hierarchical",
    votingMembers: voters,
    observers: watchers,
    isVotingMember: (sid) => groupOf.has(sid),
    weight: (sid) => (groupOf.has(sid) ? (weightOf.get(sid) ?? 1) : 0),
    containsQuorum(ackSet) {
      const acked = new Map<number, number>();
      for (const sid of new Set(ackSet)) {
        const gid = groupOf.get(sid);
        if (gid === undefined) continue;
        acked.set(gid, (acked.get(gid) ?? 0) + (weightOf.get(sid) ?? 1));
      }
      let majorityGroups = 0;
      for (const [gid, sum] of acked) {
        // Apache: `entry.getValue() > (groupWeight.get(gid) / 2)` in long arithmetic, i.e. 2·sum > weight.
        if (2 * sum > groupWeight.get(gid)!) majorityGroups++;
      }
      return majorityGroups > Math.floor(groupsWithWeight / 2);
    },
  };
}

/** The parts of a parsed zoo.cfg that decide the quorum (see src/config/types.ts). */
export interface QuorumConfig {
  readonly servers: readonly { readonly id: number; readonly role: "participant" | "observer" }[];
  readonly quorumGroups: readonly HierarchicalGroup[];
  readonly serverWeights: readonly { readonly serverId: number; readonly weight: number }[];
}

/** Hierarchical when the file has `group.x` lines, majority otherwise (Apache QuorumPeerConfig.createQuorumVerifier). */
export function verifierFromConfig(config: QuorumConfig): QuorumVerifier {
  // lab 10.2: the quorum from server.x, group.x and weight.x lines; observers never vote
  //   Servers whose role is "observer" are the verifier's observers. Without group.x lines: a majorityVerifier of
  //   the participants. With them: a hierarchicalVerifier of the groups and the weight.x lines (as [id, weight]).
  const observers = config.servers.filter((s) => s.role === "observer").map((s) => s.id);
  if (config.quorumGroups.length === 0) {
    return majorityVerifier(config.servers.filter((s) => s.role === "participant").map((s) => s.id), observers);
  }
  return hierarchicalVerifier(config.quorumGroups, config.serverWeights.map((w) => [w.serverId, w.weight] as const), observers);
  // end lab 10.2
}

/** Human-readable, for logs and timelines: "majority of 1,2,3 (observers 4)". */
export function describeVerifier(v: QuorumVerifier): string {
  const obs = v.observers.length > 0 ? ` (observers ${v.observers.join(",")})` : "";
  if (v.kind === "majority") return `majority of ${v.votingMembers.join(",")}${obs}`;
  return `hierarchy of ${v.votingMembers.map((s) => `${s}:w${v.weight(s)}`).join(",")}${obs}`;
}

function sortedUnique(ids: Iterable<number>, what: string): number[] {
  const out = [...new Set(ids)].sort((a, b) => a - b);
  for (const id of out) assert(Number.isInteger(id) && id >= 0, `${what} id must be a non-negative integer, got ${id}`);
  return out;
}
