/**
 * Quorum verifiers against Apache 3.8 `QuorumMaj` and `QuorumHierarchical` (reference §6: "majority = acks among
 * voters > voters/2; hierarchical = in more than half of the groups with non-zero weight, the acking servers'
 * weights exceed half the group's weight"; notes 第9章 观察者: observers never vote nor count).
 */
import { describe, expect, it } from "vitest";
import { hierarchicalVerifier, majorityVerifier, verifierFromConfig } from "../../src/quorum/index.ts";

describe("majority (QuorumMaj)", () => {
  it.each([
    [[1, 2, 3], [1, 2], true],
    [[1, 2, 3], [3], false],
    [[1, 2, 3, 4], [1, 2], false], // 2 of 4 is not more than half
    [[1, 2, 3, 4], [1, 2, 4], true],
    [[1, 2, 3, 4, 5], [2, 4, 5], true],
    [[1, 2, 3, 4, 5], [4, 5], false],
  ])("voters %j: %j is a quorum: %s", (voters, acks, expected) => {
    expect(majorityVerifier(voters).containsQuorum(acks)).toBe(expected);
  });

  it("observers are neither voters nor counted, whatever their number", () => {
    const v = majorityVerifier([1, 2, 3], [4, 5, 6]);
    expect(v.votingMembers).toEqual([1, 2, 3]);
    expect(v.observers).toEqual([4, 5, 6]);
    expect(v.containsQuorum([1, 4, 5, 6])).toBe(false);
    expect(v.containsQuorum([1, 2, 4])).toBe(true);
    expect(v.weight(4)).toBe(0);
    expect(v.isVotingMember(4)).toBe(false);
  });

  it("unknown ids and repeats do not count", () => {
    const v = majorityVerifier([1, 2, 3]);
    expect(v.containsQuorum([1, 1, 1, 9, 10])).toBe(false);
  });

  it("refuses a server that is both participant and observer", () => {
    expect(() => majorityVerifier([1, 2, 3], [3])).toThrow(/both/);
  });
});

describe("hierarchical (QuorumHierarchical)", () => {
  // Apache's documentation example: three groups of three, weight 1 each: a quorum is a majority of the votes of
  // a majority of the groups — 4 servers can be enough, 5 may not be.
  const groups = [
    { groupId: 1, serverIds: [1, 2, 3] },
    { groupId: 2, serverIds: [4, 5, 6] },
    { groupId: 3, serverIds: [7, 8, 9] },
  ];
  const nine = hierarchicalVerifier(groups, new Map());

  it("needs a majority inside a majority of the groups", () => {
    expect(nine.containsQuorum([1, 2, 4, 5])).toBe(true);
    expect(nine.containsQuorum([1, 2, 3, 4, 7])).toBe(false); // only group 1 has a majority
    expect(nine.containsQuorum([1, 2, 3, 4, 5, 6])).toBe(true);
  });

  it("weights decide inside a group: one heavy server can be a group's majority", () => {
    const v = hierarchicalVerifier(groups, new Map([[1, 3]]));
    // group 1 weighs 3+1+1 = 5: server 1 alone (3) is more than half.
    expect(v.containsQuorum([1, 4, 5])).toBe(true);
    expect(v.containsQuorum([2, 3, 4, 5])).toBe(false);
  });

  it("a weight-0 server votes but never tips a group, and can never be elected (weight 0)", () => {
    const v = hierarchicalVerifier(groups, new Map([[3, 0]]));
    // group 1 weighs 2: servers 1 or 2 alone are not more than half; 3 adds nothing.
    expect(v.containsQuorum([1, 3, 4, 5])).toBe(false);
    expect(v.containsQuorum([1, 2, 4, 5])).toBe(true);
    expect(v.isVotingMember(3)).toBe(true);
    expect(v.weight(3)).toBe(0);
  });

  it("groups whose weight is 0 do not count toward 'more than half of the groups' (computeGroupWeight)", () => {
    const v = hierarchicalVerifier(groups, new Map([[7, 0], [8, 0], [9, 0]]));
    // Two groups with weight: a majority of groups is 2 of 2.
    expect(v.containsQuorum([1, 2, 4, 5])).toBe(true);
    expect(v.containsQuorum([1, 2, 3, 7, 8, 9])).toBe(false);
  });

  it("observers are not in groups and do not count", () => {
    const v = hierarchicalVerifier(groups, new Map(), [10]);
    expect(v.observers).toEqual([10]);
    expect(v.containsQuorum([1, 2, 4, 10])).toBe(false);
    expect(() => hierarchicalVerifier(groups, new Map(), [1])).toThrow(/group/);
  });
});

describe("verifierFromConfig", () => {
  const servers = [
    { id: 1, role: "participant" as const },
    { id: 2, role: "participant" as const },
    { id: 3, role: "participant" as const },
    { id: 4, role: "observer" as const },
  ];

  it("is a majority of the participants without group.x lines", () => {
    const v = verifierFromConfig({ servers, quorumGroups: [], serverWeights: [] });
    expect(v.kind).toBe("majority");
    expect(v.votingMembers).toEqual([1, 2, 3]);
    expect(v.observers).toEqual([4]);
  });

  it("is hierarchical with group.x and weight.x lines", () => {
    const v = verifierFromConfig({
      servers,
      quorumGroups: [{ groupId: 1, serverIds: [1, 2, 3] }],
      serverWeights: [{ serverId: 1, weight: 0 }],
    });
    expect(v.kind).toBe("hierarchical");
    expect(v.weight(1)).toBe(0);
    expect(v.weight(2)).toBe(1);
    expect(v.containsQuorum([2, 3])).toBe(true);
    expect(v.containsQuorum([1, 2])).toBe(false);
  });
});

describe("peerOptionsFromConfig (zoo.cfg → QuorumPeer)", () => {
  const cfg = {
    myId: 2,
    tickTimeMs: 2000,
    initLimitTicks: 10,
    syncLimitTicks: 5,
    electionAlg: 3,
    servers: [
      { id: 1, role: "participant" as const },
      { id: 2, role: "participant" as const },
      { id: 3, role: "participant" as const },
      { id: 4, role: "observer" as const },
    ],
    quorumGroups: [],
    serverWeights: [],
  };

  it("takes the timing and the quorum from the file", async () => {
    const { peerOptionsFromConfig } = await import("../../src/quorum/index.ts");
    const o = peerOptionsFromConfig(cfg);
    expect(o).toMatchObject({ myId: 2, tickTimeMs: 2000, initLimitTicks: 10, syncLimitTicks: 5 });
    expect(o.verifier.votingMembers).toEqual([1, 2, 3]);
    expect(o.verifier.observers).toEqual([4]);
  });

  it("refuses any election algorithm but 3, and a server without its server.x line", async () => {
    const { peerOptionsFromConfig } = await import("../../src/quorum/index.ts");
    expect(() => peerOptionsFromConfig({ ...cfg, electionAlg: 0 })).toThrow(/only 3/);
    expect(() => peerOptionsFromConfig({ ...cfg, myId: 9 })).toThrow(/server\.9/);
  });
});
