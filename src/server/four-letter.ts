/**
 * Four-letter words (Apache `server/command/*`): a client that sends one of these four ASCII bytes instead of a
 * ConnectRequest gets a text answer and the connection is closed. `srvr` is always allowed (zkServer.sh needs it);
 * the rest need `4lw.commands.whitelist` (`*` = all); a word that is not allowed is answered
 * `<word> is not executed because it is not in the whitelist.` and a newline (NopCommand).
 *
 * Every answer has Apache 3.8's layout, line for line, checked against a running Apache 3.8.0
 * (test/interop/four-letter.test.ts). What legitimately differs is values, and:
 * - the version: `3.8.0-zkbook, built on <when this module was loaded> UTC` — Apache's shape
 *   (`3.8.0-<git id>, built on <date> UTC`) with our name where Apache has its commit id. tsx compiles the
 *   sources when the server starts, so that is the moment it was "built".
 * - `envi` reports the Node.js process in Apache's `Environment:` + `key=value` layout: the java.* keys become
 *   node.* ones (see `environment()`); os.* and user.* keep Apache's names.
 * - `mntr` emits Apache 3.8.0's keys in Apache's order (its metrics provider's iteration order, which is
 *   deterministic for a given set of keys), except the JVM-only `jvm_pause_time_ms` (GC pauses) and
 *   `netty_queued_buffer_capacity` (Netty); the file-descriptor keys appear only where /proc shows them, as
 *   Apache shows them only on Unix. Keys with values tracked here: everything in `srvr`, ephemerals_count,
 *   global_sessions, watch_count, approximate_data_size, uptime, the client response sizes, auth_failed_count,
 *   packets, bytes_received_count, response_bytes, watch_bytes, connection_request_count,
 *   prep/sync_processor_request_queued, outstanding_changes_queued/removed, the readlatency and updatelatency
 *   summaries with percentiles, node_{created,deleted,changed,children}_watch_count and the per-namespace
 *   read/write summaries. The rest stay 0 because what they measure does not exist in a standalone zkbook server:
 *   quorum and election (proposal_*, learner_*, election_time, ...), the commit processor's internal queues,
 *   the response cache, request throttling, TLS, the AdminServer, snapshots/fsync (storage reports none yet).
 *
 * Not implemented: the rarer words (crst, srst, dirs, gtmk, stmk, hash); they are treated as an oversize frame.
 */
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import v8 from "node:v8";
import { connectionExpiresAtMs, type ClientConnection } from "./connection.ts";
import type { Summary } from "./metrics.ts";
import { PercentileSummary } from "./metrics.ts";
import type { ZooKeeperServer } from "./server.ts";

export const fourLetterWords = ["ruok", "srvr", "stat", "cons", "wchs", "wchc", "wchp", "dump", "conf", "envi", "mntr", "isro"] as const;
export type FourLetterWord = (typeof fourLetterWords)[number];

const wordsByCode = new Map<number, FourLetterWord>(fourLetterWords.map((w) => [Buffer.from(w, "ascii").readInt32BE(0), w]));

/** The word whose four bytes, read as a big-endian int, are `code` (ServerCnxn.checkFourLetterWord). */
export function fourLetterWordOf(code: number): FourLetterWord | undefined {
  return wordsByCode.get(code);
}

/** FourLetterCommands.isEnabled: the whitelist (already split and trimmed by the config), `*`, or `srvr`. */
export function isFourLetterWordAllowed(word: string, whitelist: readonly string[]): boolean {
  return word === "srvr" || whitelist.includes("*") || whitelist.includes(word);
}

/** Our version, in the shape of Apache's Version.getFullVersion(). */
export const zkbookVersion = "3.8.0-zkbook";
export const fullVersion = `${zkbookVersion}, built on ${utcMinute(new Date())} UTC`;

/** The answer to `word`; `self` is the connection that asked (Apache lists it too, as not selectable). */
export function runFourLetterWord(word: FourLetterWord, server: ZooKeeperServer, self?: ClientConnection): string {
  switch (word) {
    case "ruok":
      return "imok";
    case "isro":
      return "rw";
    case "srvr":
      return serverStatus(server, self, false);
    case "stat":
      return serverStatus(server, self, true);
    case "cons":
      return connections(server, self);
    case "wchs":
      return watchSummary(server);
    case "wchc":
      return watchesByConnection(server);
    case "wchp":
      return watchesByPath(server);
    case "dump":
      return dump(server);
    case "conf":
      return server.options.describeConfig().map(([key, value]) => `${key}=${value}\n`).join("");
    case "envi":
      return `Environment:\n${environment().map(([key, value]) => `${key}=${value}\n`).join("")}`;
    case "mntr":
      return monitor(server).map(([key, value]) => `zk_${key}\t${value}\n`).join("");
  }
}

// ------------------------------------------------------------------ srvr, stat, cons

/** StatCommand: the version, for `stat` the clients, then ServerStats.toString and the node count. */
function serverStatus(server: ZooKeeperServer, self: ClientConnection | undefined, withClients: boolean): string {
  let out = `Zookeeper version: ${fullVersion}\n`;
  if (withClients) {
    out += "Clients:\n";
    for (const conn of server.connections) out += `${connectionInfo(server, conn, conn === self, true)}\n`;
    out += "\n";
  }
  const s = server.stats;
  const latency = latencyOf(s);
  out += `Latency min/avg/max: ${latency.min}/${javaDouble(latency.avg)}/${latency.max}\n`;
  out += `Received: ${s.packetsReceived}\n`;
  out += `Sent: ${s.packetsSent}\n`;
  out += `Connections: ${server.connections.size}\n`;
  out += `Outstanding: ${server.outstandingRequests}\n`;
  out += `Zxid: 0x${hex(server.lastZxid)}\n`;
  // An ensemble member reports its role, as Apache's srvr does (QuorumPeer.getServerState).
  out += `Mode: ${server.options.quorum?.mode ?? "standalone"}\n`;
  out += `Node count: ${nodeCount(server)}\n`;
  const quorum = server.options.quorum;
  if (quorum?.mode === "leader") {
    const sizes = quorum.proposalSizes;
    out += `Proposal sizes last/min/max: ${sizes.last}/${sizes.min}/${sizes.max}\n`;
  }
  return out;
}

/** ConsCommand: one line per connection, then an empty line. */
function connections(server: ZooKeeperServer, self: ClientConnection | undefined): string {
  let out = "";
  for (const conn of server.connections) out += `${connectionInfo(server, conn, conn === self, false)}\n`;
  return `${out}\n`;
}

/** ServerCnxn.dumpConnectionInfo. */
function connectionInfo(server: ZooKeeperServer, conn: ClientConnection, isSelf: boolean, brief: boolean): string {
  const s = conn.stats;
  // Interest ops: 1 (OP_READ) for a connection being served; the one running this command is no longer selectable.
  let out = ` ${socketAddress(conn)}[${isSelf ? "0" : "1"}](queued=${conn.outstanding},recved=${s.packetsReceived},sent=${s.packetsSent}`;
  if (!brief && conn.sessionId !== 0n) {
    const latency = latencyOf(s);
    out += `,sid=0x${hex(conn.sessionId)},lop=${s.lastOp},est=${wallOf(server, s.establishedAtMs)},to=${conn.sessionTimeoutMs}`;
    if (s.lastCxid >= 0) out += `,lcxid=0x${s.lastCxid.toString(16)}`;
    out += `,lzxid=0x${hex(s.lastZxid)},lresp=${s.lastResponseMs},llat=${s.lastLatencyMs}`;
    // Per connection the average is a long division (ServerCnxn.getAvgLatency).
    const avg = s.requestsCompleted === 0 ? 0 : Math.floor(s.totalLatencyMs / s.requestsCompleted);
    out += `,minlat=${latency.min},avglat=${avg},maxlat=${latency.max}`;
  }
  return `${out})`;
}

interface LatencyCounters {
  readonly requestsCompleted: number;
  readonly totalLatencyMs: number;
  readonly minLatencyMs: number;
  readonly maxLatencyMs: number;
}

/** AvgMinMaxCounter: min and max are 0 before the first request; avg is rounded to 4 places. */
function latencyOf(s: LatencyCounters): { min: number; avg: number; max: number } {
  if (s.requestsCompleted === 0) return { min: 0, avg: 0, max: 0 };
  return {
    min: s.minLatencyMs,
    avg: Math.round((s.totalLatencyMs / s.requestsCompleted) * 10_000) / 10_000,
    max: s.maxLatencyMs,
  };
}

// ------------------------------------------------------------------ wchs, wchc, wchp

/**
 * The watch words show the data-watch table only (DataTree.dumpWatchesSummary / dumpWatches use dataWatches),
 * exactly as Apache does; `mntr`'s zk_watch_count counts both tables.
 */
function watchSummary(server: ZooKeeperServer): string {
  const table = server.watches.data;
  let watchers = 0;
  let total = 0;
  for (const watcher of table.watchers()) {
    watchers++;
    total += table.pathsOf(watcher).size;
  }
  return `${watchers} connections watching ${table.watchersByPath().size} paths\nTotal watches:${total}\n`;
}

function watchesByConnection(server: ZooKeeperServer): string {
  const table = server.watches.data;
  let out = "";
  for (const watcher of table.watchers()) {
    out += `0x${hex(sessionOf(watcher))}\n`;
    for (const path of table.pathsOf(watcher)) out += `\t${path}\n`;
  }
  return `${out}\n`;
}

function watchesByPath(server: ZooKeeperServer): string {
  let out = "";
  for (const [path, watchers] of server.watches.data.watchersByPath()) {
    out += `${path}\n`;
    for (const watcher of watchers.keys()) out += `\t0x${hex(sessionOf(watcher))}\n`;
  }
  return `${out}\n`;
}

function sessionOf(watcher: object): bigint {
  return "sessionId" in watcher && typeof watcher.sessionId === "bigint" ? watcher.sessionId : 0n;
}

// ------------------------------------------------------------------ dump

/** DumpCommand: the session expiry queue, the ephemerals per session, the connection expiry queue. */
function dump(server: ZooKeeperServer): string {
  let out = "SessionTracker dump:\n";
  // Buckets that sessions moved out of are listed, empty, until the expirer passes them — as Apache lists them.
  const sessionBuckets = new Map<number, string[]>();
  for (const [atMs, ids] of server.sessions.expiryBuckets()) sessionBuckets.set(atMs, [...ids].map((id) => `0x${hex(id)}`));
  out += `Session ${expiryQueue(server, sessionBuckets, server.sessions.size)}`;
  out += "ephemeral nodes dump:\n";
  const ephemerals = server.tree.ephemeralsBySession();
  out += `Sessions with Ephemerals (${ephemerals.size}):\n`;
  for (const [sessionId, paths] of ephemerals) {
    out += `0x${hex(sessionId)}:\n`;
    for (const path of paths) out += `\t${path}\n`;
  }
  out += "Connections dump:\n";
  // A connection expires when idle for its session timeout, or for the sessionless timeout before it has one;
  // every packet pushes it into a later bucket (NIOServerCnxnFactory.touchCnxn). Unlike Apache, which keeps
  // buckets that connections left (closed or moved on) as "0 expire at" lines until their time passes, only
  // buckets holding a connection are listed: tracking the others would cost every packet a queue update.
  const connectionBuckets = new Map<number, string[]>();
  for (const conn of server.connections) {
    bucket(connectionBuckets, connectionExpiresAtMs(conn)).push(`ip: ${socketAddress(conn)} sessionId: 0x${hex(conn.sessionId)}`);
  }
  out += `Connections ${expiryQueue(server, connectionBuckets, server.connections.size)}`;
  return out;
}

function bucket(buckets: Map<number, string[]>, atMs: number): string[] {
  let entries = buckets.get(atMs);
  if (entries === undefined) buckets.set(atMs, (entries = []));
  return entries;
}

/** ExpiryQueue.dump: `Sets (buckets)/(elements):`, then each bucket in time order with its elements. */
function expiryQueue(server: ZooKeeperServer, buckets: Map<number, string[]>, elements: number): string {
  let out = `Sets (${buckets.size})/(${elements}):\n`;
  for (const atMs of [...buckets.keys()].sort((a, b) => a - b)) {
    const entries = buckets.get(atMs)!;
    out += `${entries.length} expire at ${javaDate(new Date(wallOf(server, atMs)))}:\n`;
    for (const entry of entries) out += `\t${entry}\n`;
  }
  return out;
}

// ------------------------------------------------------------------ envi

/**
 * Apache's Environment.list() with the JVM's keys replaced by the Node.js process's:
 * java.version → node.version, java.vendor → node.v8.version, java.home → node.execPath,
 * java.class.path → node.argv, java.library.path → node.execArgv, java.io.tmpdir → os.tmpdir,
 * java.compiler → node.pid; os.memory.* is the V8 heap as it is the JVM heap in Apache.
 */
function environment(): Array<[string, string]> {
  const heap = v8.getHeapStatistics();
  const mb = (bytes: number) => `${Math.floor(bytes / (1024 * 1024))}MB`;
  let user = "";
  let home = "";
  try {
    const info = os.userInfo();
    user = info.username;
    home = info.homedir;
  } catch {
    home = os.homedir();
  }
  return [
    ["zookeeper.version", fullVersion],
    ["host.name", os.hostname()],
    ["node.version", process.versions.node],
    ["node.v8.version", process.versions.v8],
    ["node.execPath", process.execPath],
    ["node.argv", process.argv.slice(1).join(" ")],
    ["node.execArgv", process.execArgv.join(" ")],
    ["os.tmpdir", os.tmpdir()],
    ["node.pid", String(process.pid)],
    ["os.name", os.type()],
    ["os.arch", javaArch(process.arch)],
    ["os.version", os.release()],
    ["user.name", user],
    ["user.home", home],
    ["user.dir", process.cwd()],
    ["os.memory.free", mb(heap.total_heap_size - heap.used_heap_size)],
    ["os.memory.max", mb(heap.heap_size_limit)],
    ["os.memory.total", mb(heap.total_heap_size)],
  ];
}

/** The JVM's os.arch names for Node's process.arch, so both servers on one machine say the same. */
function javaArch(arch: string): string {
  switch (arch) {
    case "x64":
      return "amd64";
    case "ia32":
      return "x86";
    case "arm64":
      return "aarch64";
    default:
      return arch;
  }
}

// ------------------------------------------------------------------ mntr

/** The gauges and counters of Apache 3.8.0's `mntr`, in its order (after zk_version and zk_server_state). */
const monitorScalars = [
  "ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests", "znode_count", "global_sessions",
  "non_mtls_remote_conn_count", "last_client_response_size", "packets_sent", "packets_received",
  "max_client_response_size", "connection_drop_probability", "watch_count", "auth_failed_count", "min_latency",
  "max_file_descriptor_count", "approximate_data_size", "open_file_descriptor_count", "local_sessions", "uptime",
  "max_latency", "outstanding_tls_handshake", "min_client_response_size", "non_mtls_local_conn_count",
  "proposal_count", "watch_bytes", "outstanding_changes_removed", "throttled_ops", "stale_requests_dropped",
  "large_requests_rejected", "insecure_admin_count", "connection_rejected", "cnxn_closed_without_zk_server_running",
  "sessionless_connections_expired", "looking_count", "dead_watchers_queued", "stale_requests", "connection_drop_count",
  "learner_proposal_received_count", "digest_mismatches_count", "dead_watchers_cleared", "response_packet_cache_hits",
  "bytes_received_count", "add_dead_watcher_stall_time", "request_throttle_wait_count",
  "requests_not_forwarded_to_commit_processor", "response_packet_cache_misses", "ensemble_auth_success",
  "prep_processor_request_queued", "learner_commit_received_count", "stale_replies", "connection_request_count",
  "response_bytes", "ensemble_auth_fail", "diff_count", "response_packet_get_children_cache_misses",
  "connection_revalidate_count", "quit_leading_due_to_disloyal_voter", "snap_count", "unrecoverable_error_count",
  "unsuccessful_handshake", "commit_count", "stale_sessions_expired", "response_packet_get_children_cache_hits",
  "sync_processor_request_queued", "outstanding_changes_queued", "request_commit_queued", "ensemble_auth_skip",
  "skip_learner_request_to_next_processor_count", "tls_handshake_exceeded", "revalidate_count",
] as const;

/** Summaries (avg/min/max/cnt/sum), in Apache's order. */
const monitorSummaries = [
  "socket_closing_time", "proposal_process_time", "leader_unavailable_time", "node_created_watch_count",
  "session_queues_drained", "write_commit_proc_req_queued", "connection_token_deficit", "read_commit_proc_req_queued",
  "node_deleted_watch_count", "startup_txns_load_time", "sync_processor_queue_size", "follower_sync_time",
  "prep_processor_queue_size", "fsynctime", "inflight_snap_count", "reads_issued_from_session_queue",
  "learner_request_processor_queue_size", "snapshottime", "unavailable_time", "startup_txns_loaded",
  "reads_after_write_in_session_queue", "requests_in_session_queue", "write_commit_proc_issued", "prep_process_time",
  "pending_session_queue_size", "time_waiting_empty_pool_in_commit_processor_read_ms", "commit_process_time",
  "dbinittime", "inflight_diff_count", "netty_queued_buffer_capacity", "election_time", "commit_commit_proc_req_queued",
  "sync_processor_batch_size", "node_children_watch_count", "write_batch_time_in_commit_processor",
  "read_commit_proc_issued", "concurrent_request_processing_in_commit_processor", "observer_sync_time",
  "node_changed_watch_count", "sync_process_time", "startup_snap_load_time",
] as const;

/** Summaries with percentiles (p50/p95/p99/p999 added), in Apache's order. */
const monitorPercentileSummaries = [
  "prep_processor_queue_time_ms", "jvm_pause_time_ms", "close_session_prep_time", "read_commitproc_time_ms",
  "updatelatency", "local_write_committed_time_ms", "request_throttle_queue_time_ms", "readlatency",
  "quorum_ack_latency", "om_commit_process_time_ms", "read_final_proc_time_ms", "commit_propagation_latency",
  "dead_watchers_cleaner_latency", "write_final_proc_time_ms", "proposal_ack_creation_latency", "proposal_latency",
  "om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms", "propagation_latency",
  "server_write_committed_time_ms", "sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms",
  "write_commitproc_time_ms",
] as const;

/** Apache keys that describe the JVM or Netty and have no counterpart here: not emitted. */
const jvmOnlyKeys: ReadonlySet<string> = new Set(["jvm_pause_time_ms", "netty_queued_buffer_capacity"]);

/** The keys `mntr` emits, in order (per-namespace summaries, which depend on the data, come after these). */
export function monitorKeys(): string[] {
  const keys = ["version", "server_state", ...monitorScalars];
  for (const name of monitorSummaries) {
    if (!jvmOnlyKeys.has(name)) keys.push(...["avg", "min", "max", "cnt", "sum"].map((p) => `${p}_${name}`));
  }
  for (const name of monitorPercentileSummaries) {
    if (!jvmOnlyKeys.has(name)) keys.push(...["avg", "min", "max", "cnt", "sum", "p50", "p95", "p99", "p999"].map((p) => `${p}_${name}`));
  }
  return keys;
}

/** MonitorCommand: ZooKeeperServer.dumpMonitorValues, then every metric. Keys here lack the `zk_` prefix. */
function monitor(server: ZooKeeperServer): Array<[string, string]> {
  const m = server.metrics;
  const s = server.stats;
  const latency = latencyOf(s);
  const fds = fileDescriptors();
  const watchCount = server.watches.data.watchCount + server.watches.child.watchCount;
  let ephemerals = 0;
  for (const paths of server.tree.ephemeralsBySession().values()) ephemerals += paths.size;
  const scalars: Partial<Record<(typeof monitorScalars)[number], string | number>> = {
    ephemerals_count: ephemerals,
    num_alive_connections: server.connections.size,
    avg_latency: javaDouble(latency.avg),
    outstanding_requests: server.outstandingRequests,
    znode_count: nodeCount(server),
    global_sessions: server.sessions.size,
    last_client_response_size: m.lastResponseSize,
    packets_sent: s.packetsSent,
    packets_received: s.packetsReceived,
    max_client_response_size: m.maxResponseSize,
    connection_drop_probability: javaDouble(0),
    watch_count: watchCount,
    auth_failed_count: m.authFailures,
    sessionless_connections_expired: m.sessionlessConnectionsExpired,
    min_latency: latency.min,
    max_file_descriptor_count: fds?.max,
    approximate_data_size: approximateDataSize(server),
    open_file_descriptor_count: fds?.open,
    uptime: server.options.clock.nowMs() - s.startedAtMs,
    max_latency: latency.max,
    min_client_response_size: m.minResponseSize,
    watch_bytes: m.sent.watchBytes,
    outstanding_changes_removed: m.changeRecords,
    bytes_received_count: m.bytesReceived,
    prep_processor_request_queued: m.requestsQueued,
    connection_request_count: m.connectionRequests,
    connection_revalidate_count: m.connectionRevalidations,
    revalidate_count: m.revalidations,
    response_bytes: m.responseBytes,
    sync_processor_request_queued: m.requestsQueued,
    outstanding_changes_queued: m.changeRecords,
  };
  const summaries: Partial<Record<string, Summary>> = {
    node_created_watch_count: m.watchersReached.nodeCreated,
    node_deleted_watch_count: m.watchersReached.nodeDeleted,
    node_changed_watch_count: m.watchersReached.nodeDataChanged,
    node_children_watch_count: m.watchersReached.nodeChildrenChanged,
    readlatency: m.readLatency,
    updatelatency: m.updateLatency,
  };
  const out: Array<[string, string]> = [
    ["version", fullVersion],
    ["server_state", server.options.quorum?.mode ?? "standalone"],
  ];
  for (const key of monitorScalars) {
    const value = scalars[key];
    if (value === undefined && (key === "max_file_descriptor_count" || key === "open_file_descriptor_count")) continue;
    out.push([key, String(value ?? 0)]);
  }
  // An ensemble member's gauges (QuorumZooKeeperServer, LeaderZooKeeperServer.registerMetrics).
  const quorum = server.options.quorum;
  if (quorum !== undefined) out.push(["quorum_size", String(quorum.quorumSize)]);
  if (quorum?.mode === "leader") {
    const g = quorum.learners();
    const sizes = quorum.proposalSizes;
    out.push(
      ["learners", String(g.learners)],
      ["synced_followers", String(g.syncedFollowers)],
      // Non-voting followers exist only with dynamic reconfiguration, which this server does not do.
      ["synced_non_voting_followers", "0"],
      ["synced_observers", String(g.syncedObservers)],
      ["pending_syncs", String(g.pendingSyncs)],
      ["leader_uptime", String(g.uptimeMs)],
      ["last_proposal_size", String(sizes.last)],
      ["max_proposal_size", String(sizes.max)],
      ["min_proposal_size", String(sizes.min)],
    );
  }
  const empty = new PercentileSummary();
  for (const name of monitorSummaries) {
    if (!jvmOnlyKeys.has(name)) pushSummary(out, name, summaries[name] ?? empty, false);
  }
  for (const name of monitorPercentileSummaries) {
    if (!jvmOnlyKeys.has(name)) pushSummary(out, name, summaries[name] ?? empty, true);
  }
  for (const [namespace, summary] of m.readPerNamespace.byKey) pushSummary(out, `${namespace}_read_per_namespace`, summary, false);
  for (const [namespace, summary] of m.writePerNamespace.byKey) pushSummary(out, `${namespace}_write_per_namespace`, summary, false);
  return out;
}

function pushSummary(out: Array<[string, string]>, name: string, summary: Summary, percentiles: boolean): void {
  out.push([`avg_${name}`, javaDouble(summary.avg)]);
  out.push([`min_${name}`, String(summary.min)]);
  out.push([`max_${name}`, String(summary.max)]);
  out.push([`cnt_${name}`, String(summary.count)]);
  out.push([`sum_${name}`, String(summary.sum)]);
  if (!percentiles) return;
  const p = summary instanceof PercentileSummary ? summary : new PercentileSummary();
  out.push([`p50_${name}`, String(p.percentile(0.5))]);
  out.push([`p95_${name}`, String(p.percentile(0.95))]);
  out.push([`p99_${name}`, String(p.percentile(0.99))]);
  out.push([`p999_${name}`, String(p.percentile(0.999))]);
}

/** UnixOperatingSystemMXBean's open and max file descriptor counts, from /proc (Linux); none elsewhere. */
function fileDescriptors(): { open: number; max: number } | undefined {
  try {
    const open = readdirSync("/proc/self/fd").length;
    const limits = readFileSync("/proc/self/limits", "utf8");
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    const max = match === null || match[1] === "unlimited" ? -1 : Number(match[1]);
    return { open, max };
  } catch {
    return undefined;
  }
}

/**
 * DataTree.approximateDataSize: the length of every path plus its data. Apache keeps the root under both "" and
 * "/" (so its node count is one more than the paths in the tree); "" adds nothing to the size.
 */
function approximateDataSize(server: ZooKeeperServer): number {
  let size = 0;
  for (const path of server.tree.paths()) size += path.length + (server.tree.getNode(path)?.data?.length ?? 0);
  return size;
}

/** DataTree.getNodeCount: Apache's node map holds the root twice, as "" and as "/". */
function nodeCount(server: ZooKeeperServer): number {
  return server.tree.nodeCount + 1;
}

// ------------------------------------------------------------------ formatting

function hex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}

/** InetSocketAddress.toString for an unresolved peer: `/<ip>:<port>`, IPv6 in brackets. */
function socketAddress(conn: ClientConnection): string {
  const address = conn.transport.remoteAddress;
  return address.includes(":") ? `/[${address}]:${conn.transport.remotePort}` : `/${address}:${conn.transport.remotePort}`;
}

/** A monotonic clock.nowMs() reading as wall-clock ms (Apache's Time.elapsedTimeToDate). */
function wallOf(server: ZooKeeperServer, monotonicMs: number): number {
  const clock = server.options.clock;
  return clock.wallMs() - clock.nowMs() + monotonicMs;
}

/** Java's Double.toString: `0.0`, `3.25`, `1.0E7`, `1.0E-4`. */
export function javaDouble(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0 || (abs >= 1e-3 && abs < 1e7)) {
    const text = String(value);
    return text.includes(".") ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** java.util.Date.toString: `EEE MMM dd HH:mm:ss zzz yyyy` in the local time zone. */
export function javaDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const zone =
    new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(date).find((part) => part.type === "timeZoneName")?.value ??
    "UTC";
  return (
    `${weekdays[date.getDay()]} ${months[date.getMonth()]} ${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone} ${date.getFullYear()}`
  );
}

/** `yyyy-MM-dd HH:mm` in UTC, the build date format of Apache's Version. */
function utcMinute(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`;
}
