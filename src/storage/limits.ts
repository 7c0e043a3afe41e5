/**
 * Every constant of the on-disk format and of the storage policies, named with its unit last (DESIGN.md).
 * Values are Apache ZooKeeper 3.8.0's; the class that defines each one in Apache is named beside it.
 */

/** FileTxnLog.TXNLOG_MAGIC: "ZKLG" read as a big-endian int. */
export const txnLogMagic = 0x5a4b4c47;
/** FileSnap.SNAP_MAGIC: "ZKSN". */
export const snapshotMagic = 0x5a4b534e;
/** FileTxnLog.VERSION and FileSnap.VERSION: the `version-2` of the directory name. */
export const fileFormatVersion = 2;
/** The dbid Apache writes: 0 in a txn log header, -1 in a snapshot header. */
export const txnLogDbId = 0n;
export const snapshotDbId = -1n;
/** FileHeader: int magic, int version, long dbid. */
export const fileHeaderBytes = 16;

/** Util.writeTxnBytes: every log entry ends with 'B' (0x42), so a half-written entry is recognisable. */
export const logEntryEndByte = 0x42;
/** A log entry is `long crc, int length, <length bytes>, byte 0x42`. */
export const logEntryOverheadBytes = 8 + 4 + 1;
/**
 * BinaryInputArchive.checkLength: an entry longer than jute.maxbuffer plus 1024 bytes of slack is refused as
 * "Unreasonable length". We accept up to this many bytes for one entry, whatever jute.maxbuffer says.
 */
export const logEntryBytesMax = 0xfffff + 1024 + 64 * 1024 * 1024;

/** FilePadding: preallocation starts again when the write position comes within this many bytes of the end. */
export const preAllocSlackBytes = 4096;

/** SyncRequestProcessor (zookeeper.maxBatchSize): a group commit fsyncs at most this many txns at once. */
export const groupCommitTxnsMax = 1000;

/** DigestCalculator.DIGEST_VERSION in 3.8.0: what TxnDigest.version and the snapshot's digest version say. */
export const digestVersion = 2;

/** FileSnap.deserialize: at most this many snapshots are tried, newest first, before giving up. */
export const snapshotsTriedMax = 100;
/** SnapStream.isValidCheckedStream: a snapshot shorter than this cannot hold its "/" trailer. */
export const snapshotBytesMin = 10;

/** PurgeTxnLog: fewer than 3 snapshots may never be kept (COUNT_ERR_MSG). */
export const purgeRetainCountMin = 3;

/** The directory under dataDir and dataLogDir that holds the files (FileTxnSnapLog.version + VERSION). */
export const versionDirName = "version-2";
export const logFilePrefix = "log";
export const snapshotFilePrefix = "snapshot";

/** How much of a log file is read at a time during recovery. */
export const logReadChunkBytes = 4 * 1024 * 1024;

/**
 * A fuzzy snapshot serializes this many nodes per event-loop turn before yielding (setImmediate), so clients
 * keep being served while it runs.
 */
export const fuzzySnapshotNodesPerTurn = 2000;
