/**
 * The shape of a parsed zoo.cfg. Field names are camelCase versions of the
 * Apache keys, with the unit appended where the key leaves it implicit
 * (`tickTime` becomes `tickTimeMs`, `preAllocSize` becomes `preAllocSizeKb`).
 */

export type PeerRole = "participant" | "observer";

/** One `server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort]` line. */
export interface ServerSpec {
  readonly id: number;
  readonly host: string;
  /** Followers connect to the leader on this port. */
  readonly quorumPort: number;
  /** Servers vote for a leader on this port. */
  readonly electionPort: number;
  readonly role: PeerRole;
  /** Only when the line has a `;clientHost:clientPort` part. */
  readonly clientHost?: string;
  readonly clientPort?: number;
}

/** One `group.G=1:2:3` line (hierarchical quorums). */
export interface QuorumGroup {
  readonly groupId: number;
  readonly serverIds: readonly number[];
}

/** One server's vote weight in a hierarchical quorum (`weight.N=w`). */
export interface ServerWeight {
  readonly serverId: number;
  readonly weight: number;
}

export interface ZooConfig {
  // --- where clients connect ---
  readonly clientPort: number;
  readonly clientPortAddress: string;
  /** 0 means no limit. Counted per client IP address. */
  readonly maxClientCnxns: number;

  // --- storage ---
  readonly dataDir: string;
  /** Where transaction logs go; same as dataDir unless set. */
  readonly dataLogDir: string;
  readonly preAllocSizeKb: number;
  /** Transactions between snapshots. */
  readonly snapCount: number;
  readonly autopurgeSnapRetainCount: number;
  /** 0 means autopurge is off. */
  readonly autopurgePurgeIntervalHours: number;
  readonly fsyncWarningThresholdMs: number;

  // --- time and sessions ---
  readonly tickTimeMs: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;

  // --- limits ---
  readonly globalOutstandingLimit: number;
  readonly juteMaxBufferBytes: number;

  // --- quorum ---
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  readonly leaderServes: boolean;
  readonly cnxTimeoutMs: number;
  /** Always 3 (fast leader election): the only one Apache 3.8 has. */
  readonly electionAlg: 3;
  /** What this server wants to be; when myId is known, its server.N line decides. */
  readonly peerType: PeerRole;
  readonly standaloneEnabled: boolean;
  readonly syncEnabled: boolean;
  readonly quorumListenOnAllIPs: boolean;
  readonly reconfigEnabled: boolean;
  readonly servers: readonly ServerSpec[];
  /** Empty unless group.G lines are used (then the quorum is hierarchical). */
  readonly quorumGroups: readonly QuorumGroup[];
  /** Empty unless groups are used; then one entry per weighted server. */
  readonly serverWeights: readonly ServerWeight[];
  /** This server's id, from `<dataDir>/myid`; undefined for a standalone server. */
  readonly myId: number | undefined;
  /**
   * True when this server must run as part of a quorum: Apache's
   * isDistributed(), i.e. server lines exist and either there is more than
   * one participant or standaloneEnabled=false.
   */
  readonly distributed: boolean;

  // --- features ---
  /** As written: `["*"]` means every command. */
  readonly fourLetterWordWhitelist: readonly string[];
  /** `user:base64(sha1(user:password))`, or undefined when no super user is set. */
  readonly superDigest: string | undefined;
  /** TTL nodes. */
  readonly extendedTypesEnabled: boolean;
  readonly localSessionsEnabled: boolean;
  readonly containerCheckIntervalMs: number;
  readonly containerMaxPerMinute: number;
}

export interface ParsedZooCfg {
  readonly config: ZooConfig;
  /** Keys the file sets that zkbook does not act on, in file order. */
  readonly unusedKeys: string[];
  /** Things Apache would log as WARN while reading the file (the caller prints them). */
  readonly warnings: string[];
}

export interface ParseOptions {
  /** Name used in error messages; defaults to "zoo.cfg". */
  readonly source?: string;
  /** This server's id (the content of the myid file), when known. */
  readonly myId?: number;
}
