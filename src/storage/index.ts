/**
 * Durable storage in Apache ZooKeeper 3.8's on-disk format (book chapters 9 and 10): the transaction log with
 * group commit and preallocation, fuzzy snapshots, recovery, purge, repair, and the readers the tools use.
 */
export { DurableStore, type StorageSettings, type ServerState, type DurableStoreOptions, type SnapshotTaken } from "./durable-store.ts";
export { DiskTxnLog, TxnLogCorruptError, paddedFileSize, type TxnLog, type LogEntry, type ReadEntry, type TxnLogOptions, type StorageLogger } from "./txn-log.ts";
export { DiskSnapshotStore, type SnapshotStore } from "./snapshot-store.ts";
export { FileDisk, MemoryDisk, type Disk, type CrashMode } from "./disk.ts";
export { recover, loadNewestSnapshot, RecoveryError, type RecoveryResult } from "./recovery.ts";
export { serializeTree, type SerializedSnapshot } from "./fuzzy-snapshot.ts";
export { encodeSnapshot, decodeSnapshot, hasSnapshotTrailer, SnapshotEncoder, SnapshotFormatError, type DecodedSnapshot, type ZxidDigest, type SessionEntry } from "./snapshot-format.ts";
export { encodeLogEntry, encodeFileHeader, scanLogFile, bufferSource, type ScanEnd, type ScannedEntry, type ByteSource } from "./log-format.ts";
export { encodeTxnEntry, decodeTxnEntry, TxnDecodeError, type TxnDigest, type TxnEntry } from "./txn-codec.ts";
export { nodeDigest, treeDigest, PendingDigests } from "./digest.ts";
export { planPurge, purge, type PurgePlan, type PurgeReport } from "./purge.ts";
export { logFileName, snapshotFileName, zxidFromName } from "./files.ts";
export { adler32 } from "./adler32.ts";
