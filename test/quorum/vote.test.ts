/**
 * The vote order of fast leader election (Apache FastLeaderElection.totalOrderPredicate; reference §6: "higher
 * peerEpoch, then higher zxid, then higher sid; a weight-0 server never wins"). Book chapter 9 (群首选举): the server
 * with the most recent history must win so that no committed txn is lost.
 */
import { describe, expect, it } from "vitest";
import { sameVote, totalOrderPredicate, type Candidate } from "../../src/quorum/index.ts";
import { makeZxid } from "../../src/tree/txn.ts";

const c = (leader: number, epoch: number, counter: number, peerEpoch: number): Candidate => ({ leader, zxid: makeZxid(epoch, counter), peerEpoch });
const everyoneWeighs1 = () => 1;

describe("totalOrderPredicate", () => {
  it.each([
    ["a higher peerEpoch wins over a higher zxid", c(1, 1, 5, 2), c(2, 2, 0, 1), true],
    ["a lower peerEpoch loses even with a higher zxid", c(2, 2, 9, 1), c(1, 1, 0, 2), false],
    ["same peerEpoch: the higher zxid wins", c(1, 1, 6, 1), c(3, 1, 5, 1), true],
    ["same peerEpoch: a zxid of a later epoch wins", c(1, 2, 1, 1), c(3, 1, 99, 1), true],
    ["same peerEpoch and zxid: the higher server id wins", c(3, 1, 5, 1), c(2, 1, 5, 1), true],
    ["same peerEpoch and zxid: a lower server id loses", c(2, 1, 5, 1), c(3, 1, 5, 1), false],
    ["a vote equal to the current one is not better", c(2, 1, 5, 1), c(2, 1, 5, 1), false],
  ])("%s", (_name, candidate, current, expected) => {
    expect(totalOrderPredicate(candidate, current, everyoneWeighs1)).toBe(expected);
  });

  it("a server of weight 0 is never better, however recent its history", () => {
    const weight = (sid: number) => (sid === 9 ? 0 : 1);
    expect(totalOrderPredicate(c(9, 5, 5, 5), c(1, 1, 0, 1), weight)).toBe(false);
    // Only the candidate's weight is checked: a weight-0 server keeps its own vote against a less recent one and
    // learns the leader from FOLLOWING/LEADING notifications instead.
    expect(totalOrderPredicate(c(1, 1, 0, 1), c(9, 5, 5, 5), weight)).toBe(false);
    expect(totalOrderPredicate(c(1, 6, 0, 6), c(9, 5, 5, 5), weight)).toBe(true);
  });

  it("is a strict total order on servers of positive weight (antisymmetric, transitive)", () => {
    const votes: Candidate[] = [];
    for (const leader of [1, 2, 3]) for (const e of [0, 1, 2]) for (const n of [0, 1]) for (const pe of [0, 1, 2]) votes.push(c(leader, e, n, pe));
    for (const a of votes) {
      for (const b of votes) {
        const ab = totalOrderPredicate(a, b, everyoneWeighs1);
        const ba = totalOrderPredicate(b, a, everyoneWeighs1);
        const same = a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
        expect(ab && ba).toBe(false);
        if (!same) expect(ab || ba).toBe(true);
      }
    }
  });
});

describe("sameVote (Vote.equals)", () => {
  const v = { leader: 3, zxid: 5n, electionEpoch: 2, peerEpoch: 1 };
  it("compares all four fields while either side is LOOKING", () => {
    expect(sameVote({ ...v, state: "LOOKING" }, { ...v, state: "LOOKING" })).toBe(true);
    expect(sameVote({ ...v, state: "LOOKING" }, { ...v, zxid: 6n, state: "FOLLOWING" })).toBe(false);
    expect(sameVote({ ...v, state: "LOOKING" }, { ...v, electionEpoch: 3, state: "LOOKING" })).toBe(false);
  });
  it("between decided servers compares only the leader and its epoch", () => {
    expect(sameVote({ ...v, state: "FOLLOWING" }, { ...v, zxid: 99n, electionEpoch: 7, state: "LEADING" })).toBe(true);
    expect(sameVote({ ...v, state: "FOLLOWING" }, { ...v, peerEpoch: 2, state: "LEADING" })).toBe(false);
  });
});
