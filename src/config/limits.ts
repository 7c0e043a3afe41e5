/**
 * Every default and bound the zoo.cfg loader uses, in one place.
 *
 * Names end with their unit (`...Ms`, `...Kb`, `...Bytes`, `...Hours`,
 * `...Ticks`) so a reader never has to guess. The defaults are Apache
 * ZooKeeper 3.8's, except where a comment says otherwise.
 */

/** Java's `Integer.MAX_VALUE`: Apache parses most settings with `Integer.parseInt`. */
export const javaIntMax = 2_147_483_647;

/** TCP ports. 0 ("pick any port") is not allowed in a config file. */
export const portMin = 1;
export const portMax = 65_535;

/** Apache's usual client port. */
export const clientPortDefault = 2181;

/**
 * Apache listens on every interface (0.0.0.0) when clientPortAddress is not
 * set. zkbook listens on loopback only: a learner's server has no
 * authentication turned on, and should not be reachable from the network
 * until someone asks for that by setting clientPortAddress.
 */
export const clientPortAddressDefault = "127.0.0.1";

/** Only used by `defaultConfig()`: a zoo.cfg file must name its dataDir. */
export const dataDirDefault = "./data";

/** ZooKeeperServer.DEFAULT_TICK_TIME. */
export const tickTimeMsDefault = 2000;

/** FilePadding: transaction log files grow in steps of 64 MB. */
export const preAllocSizeKbDefault = 65_536;

/** ZooKeeperServer.getSnapCount(): snapshot after ~100000 transactions. */
export const snapCountDefault = 100_000;
/** Apache raises a smaller snapCount to 2, with a warning. */
export const snapCountMin = 2;

/** PurgeTxnLog keeps at least 3 snapshots; Apache raises smaller values to 3. */
export const autopurgeSnapRetainCountDefault = 3;
export const autopurgeSnapRetainCountMin = 3;
/** 0 turns the purge task off. */
export const autopurgePurgeIntervalHoursDefault = 0;

/** FileTxnLog warns when one fsync takes longer than this. */
export const fsyncWarningThresholdMsDefault = 1000;

/** ZooKeeperServer: requests queued across all clients before throttling. */
export const globalOutstandingLimitDefault = 1000;

/** Per client IP address; 0 means no limit. */
export const maxClientCnxnsDefault = 60;

/** Session timeout bounds default to multiples of tickTime. */
export const minSessionTimeoutTicksDefault = 2;
export const maxSessionTimeoutTicksDefault = 20;
/** Writing -1 asks for the tickTime-based default, as in Apache. */
export const sessionTimeoutUseDefault = -1;

/**
 * Apache's built-in default for initLimit and syncLimit is "not set", and a
 * quorum refuses to start without them. zkbook uses the values from Apache's
 * conf/zoo_sample.cfg so a quorum config works without them.
 */
export const initLimitTicksDefault = 10;
export const syncLimitTicksDefault = 5;

/** QuorumCnxManager: timeout when opening an election connection. */
export const cnxTimeoutMsDefault = 5000;

/** Fast leader election, the only algorithm Apache 3.8 still has. */
export const electionAlgFastLeaderElection = 3;

/** jute.maxbuffer: largest packet (and znode) accepted, 0xfffff bytes. */
export const juteMaxBufferBytesDefault = 0xfffff;

/** FourLetterCommands: zkServer.sh needs "srvr", so it is on by default. */
export const fourLetterWordWhitelistDefault: readonly string[] = Object.freeze(["srvr"]);

/** ContainerManager: how often empty containers are looked for, and how many are deleted a minute. */
export const containerCheckIntervalMsDefault = 60_000;
export const containerMaxPerMinuteDefault = 10_000;

/**
 * Server ids go in the top byte of every session id, which is why Apache's
 * guide asks for ids between 1 and 255.
 */
export const serverIdMin = 1;
export const serverIdMax = 255;
/** EphemeralType.MAX_EXTENDED_SERVER_ID: TTL nodes need the id 255 for themselves. */
export const serverIdMaxWithExtendedTypes = 254;

/** QuorumHierarchical: a participant with no weight.N line weighs 1. */
export const serverWeightDefault = 1;
