/**
 * From a parsed zoo.cfg (src/config) to the options of this server's QuorumPeer: tickTime, initLimit, syncLimit,
 * and the quorum verifier built from the server.x / group.x / weight.x lines. Fast leader election
 * (electionAlg=3) is the only algorithm, as in Apache 3.8.
 */
import { assert } from "./assert.ts";
import type { PeerOptions } from "./peer.ts";
import { verifierFromConfig, type QuorumConfig } from "./verifier.ts";

export interface QuorumPeerConfig extends QuorumConfig {
  readonly myId: number | undefined;
  readonly tickTimeMs: number;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  readonly electionAlg: number;
}

export function peerOptionsFromConfig(config: QuorumPeerConfig, extra: Partial<Omit<PeerOptions, keyof QuorumPeerConfig | "verifier">> = {}): PeerOptions {
  assert(config.electionAlg === 3, `electionAlg=${config.electionAlg}: only 3 (fast leader election) exists in ZooKeeper 3.8`);
  assert(config.myId !== undefined, "a quorum peer needs its id (the myid file)");
  const verifier = verifierFromConfig(config);
  assert(
    verifier.isVotingMember(config.myId) || verifier.observers.includes(config.myId),
    `server ${config.myId} has no server.${config.myId} line`,
  );
  return {
    ...extra,
    myId: config.myId,
    verifier,
    tickTimeMs: config.tickTimeMs,
    initLimitTicks: config.initLimitTicks,
    syncLimitTicks: config.syncLimitTicks,
  };
}
