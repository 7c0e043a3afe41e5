/**
 * The ensemble's protocol cores: quorum verifiers, fast leader election, Zab (leader, follower, observer) and the
 * peer that moves between them. No I/O: src/sim drives them in a simulation, a TCP runtime over sockets.
 *
 * The pieces lab 9 swaps for the learner's own, each behind a seam the reference already uses:
 *  - vote ordering: `totalOrderPredicate` (type `VoteOrder`), plugged in with `PeerOptions.voteOrder`;
 *  - the election's logical clock and termination: `lookingRule` (type `LookingRule`), `PeerOptions.lookingRule`;
 *  - the leader's ack/commit logic: `QuorumProposalTracker` (interface `ProposalTracker`), `PeerOptions.proposals`;
 *  - the follower's broadcast phase (log before ACK, deliver in zxid order): `LoggingFollower` (interface
 *    `FollowerBroadcast`, its I/O `FollowerIo`), `PeerOptions.followerBroadcast`;
 *  - quorums: `majorityVerifier` / `hierarchicalVerifier` (interface `QuorumVerifier`), `PeerOptions.verifier`.
 * The simulator (src/sim) judges a plugged-in piece by running the ensemble over many seeds.
 */
export { majorityVerifier, hierarchicalVerifier, verifierFromConfig, describeVerifier, type QuorumVerifier, type QuorumConfig, type HierarchicalGroup } from "./verifier.ts";
export { totalOrderPredicate, sameVote, describeVote, noServerId, type Vote, type Candidate, type Notification, type ServerState, type VoteOrder, type RecordedVote } from "./election/vote.ts";
export { FastLeaderElection, answerWhileDecided, lookingRule, finalizeWaitMsDefault, maxNotificationIntervalMsDefault, type ElectionOptions, type ElectionOutput, type ElectionRound, type RoundContext, type LookingRule } from "./election/fle.ts";
export { describePacket, type QuorumPacket, type QuorumPacketKind, type OutgoingPacket, type ZabTypes, type LogEntry, type ForwardedRequest } from "./zab/messages.ts";
export { emptyReady, mergeReady, type Ready, type PersistOp, type Delivery, type PeerEvent } from "./zab/ready.ts";
export { History, committedLogCountMaxDefault } from "./zab/history.ts";
export { QuorumProposalTracker, type ProposalTracker } from "./zab/proposals.ts";
export { ZabState, type ZabConfig } from "./zab/state.ts";
export { Leader, zxidCounterMax, type LeaderOptions, type HandlerStage } from "./zab/leader.ts";
export { Learner, Follower, Observer, LoggingFollower, type LearnerStage, type LearnerType, type BroadcastPacket, type FollowerIo, type FollowerBroadcast } from "./zab/learner.ts";
export { QuorumPeer, type PeerOptions, type RecoveredState, type Role, type RoleKind } from "./peer.ts";
export { peerOptionsFromConfig, type QuorumPeerConfig } from "./config.ts";
export { InvariantError, assert, assertNever, hexZxid } from "./assert.ts";
