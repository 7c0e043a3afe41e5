/**
 * Server metrics for `mntr` (Apache `ServerMetrics` + the `DefaultMetricsProvider` summaries): the counters and
 * summaries that have a meaning in this server. The four-letter words read them; the server core only adds to
 * them, with O(1) work per request.
 *
 * Apache's shapes, reproduced here:
 * - a Summary prints `avg_X` (a double rounded to 4 places), `min_X`, `max_X`, `cnt_X`, `sum_X` (longs; min and
 *   max are 0 while empty) — `AvgMinMaxCounter`;
 * - a percentile Summary adds `p50_X`, `p95_X`, `p99_X`, `p999_X` from a uniform sample of the values, read as in
 *   Dropwizard's `UniformSnapshot.getValue` and truncated to a long — `AvgMinMaxPercentileCounter`;
 * - a SummarySet is one Summary per key (`zk_<key>_read_per_namespace`...) — `AvgMinMaxCounterSet`.
 */
import type { EventTypeName } from "../proto/opcodes.ts";
import type { Txn } from "../tree/txn.ts";

export class Summary {
  count = 0;
  sum = 0;
  private minValue = Number.MAX_SAFE_INTEGER;
  private maxValue = Number.MIN_SAFE_INTEGER;

  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.minValue) this.minValue = value;
    if (value > this.maxValue) this.maxValue = value;
  }

  get min(): number {
    return this.count === 0 ? 0 : this.minValue;
  }

  get max(): number {
    return this.count === 0 ? 0 : this.maxValue;
  }

  /** AvgMinMaxCounter.getAvg: total / count rounded half-up to 4 decimal places, 0 when empty. */
  get avg(): number {
    return this.count === 0 ? 0 : Math.round((this.sum / this.count) * 10_000) / 10_000;
  }
}

/** Values kept for percentiles: a uniform sample (Vitter's algorithm R) of this many. */
export const percentileSampleSize = 1028;

export class PercentileSummary extends Summary {
  private readonly sample = new Float64Array(percentileSampleSize);
  private seed = 0x2545f491;

  override add(value: number): void {
    super.add(value);
    if (this.count <= percentileSampleSize) {
      this.sample[this.count - 1] = value;
      return;
    }
    // xorshift32: deterministic and cheap; the sample only has to be uniform.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    const slot = this.seed % this.count;
    if (slot < percentileSampleSize) this.sample[slot] = value;
  }

  /** UniformSnapshot.getValue(quantile), truncated to a long as AvgMinMaxPercentileCounter reports it. */
  percentile(quantile: number): number {
    const n = Math.min(this.count, percentileSampleSize);
    if (n === 0) return 0;
    const values = this.sample.slice(0, n).sort();
    const pos = quantile * (n + 1);
    const index = Math.floor(pos);
    if (index < 1) return Math.trunc(values[0]!);
    if (index >= n) return Math.trunc(values[n - 1]!);
    const lower = values[index - 1]!;
    const upper = values[index]!;
    return Math.trunc(lower + (pos - index) * (upper - lower));
  }
}

export class SummarySet {
  readonly byKey = new Map<string, Summary>();

  add(key: string, value: number): void {
    let summary = this.byKey.get(key);
    if (summary === undefined) this.byKey.set(key, (summary = new Summary()));
    summary.add(value);
  }
}

/** DataTree.STAT_OVERHEAD_BYTES: what a read is charged on top of the path and the data. */
const statOverheadBytes = 6 * 8 + 5 * 4;

/** PathUtils.getTopNamespace: `a` for `/a/b/c`; none for `/`. */
function topNamespace(path: string): string | null {
  const slash = path.indexOf("/", 1);
  const namespace = slash < 0 ? path.substring(1) : path.substring(1, slash);
  return namespace === "" ? null : namespace;
}

export class ServerMetrics {
  /** bytes_received_count: every byte read from client sockets, four-letter words included. */
  bytesReceived = 0;
  /** connection_request_count: ConnectRequests received. */
  connectionRequests = 0;
  /** connection_revalidate_count: ConnectRequests that re-attach to an existing session. */
  connectionRevalidations = 0;
  /** revalidate_count (leader): learners' REVALIDATE questions about their reconnecting clients' sessions. */
  revalidations = 0;
  /** prep_processor_request_queued / sync_processor_request_queued: requests that entered the pipeline. */
  requestsQueued = 0;
  /** outstanding_changes_queued / _removed: change records of applied txns (PrepRequestProcessor.addChangeRecord). */
  changeRecords = 0;
  /** auth_failed_count */
  authFailures = 0;
  /** sessionless_connections_expired: connections closed for sending no ConnectRequest in time. */
  sessionlessConnectionsExpired = 0;
  /** response_bytes: the replies to requests (not notifications, not pings), length prefix excluded. */
  responseBytes = 0;
  /** last/min/max_client_response_size (BufferStats: -1 until the first reply). */
  lastResponseSize = -1;
  minResponseSize = -1;
  maxResponseSize = -1;
  /** Server-wide packets sent and notification bytes; ClientConnection.send adds to these. */
  readonly sent = { packets: 0, watchBytes: 0 };

  /** readlatency: requests that are not txns; updatelatency: txns (createSession included). */
  readonly readLatency = new PercentileSummary();
  readonly updateLatency = new PercentileSummary();
  /** node_{created,deleted,changed,children}_watch_count: watchers reached by one trigger, when any. */
  readonly watchersReached: Readonly<Record<EventTypeName, Summary>> = {
    none: new Summary(),
    nodeCreated: new Summary(),
    nodeDeleted: new Summary(),
    nodeDataChanged: new Summary(),
    nodeChildrenChanged: new Summary(),
    dataWatchRemoved: new Summary(),
    childWatchRemoved: new Summary(),
    persistentWatchRemoved: new Summary(),
  } as Record<EventTypeName, Summary>;
  /** zk_<namespace>_read_per_namespace / _write_per_namespace (DataTree.updateReadStat / updateWriteStat). */
  readonly readPerNamespace = new SummarySet();
  readonly writePerNamespace = new SummarySet();

  /** A successful getData/exists/getChildren of `path` that returned `bytes` of data or child names. */
  recordRead(path: string, bytes: number): void {
    const namespace = topNamespace(path);
    if (namespace !== null) this.readPerNamespace.add(namespace, path.length + bytes + statOverheadBytes);
  }

  recordWrite(path: string, bytes: number): void {
    const namespace = topNamespace(path);
    if (namespace !== null) this.writePerNamespace.add(namespace, path.length + bytes);
  }

  /** The size of a reply to a request, without its 4-byte length prefix (ServerStats.updateClientResponseSize). */
  recordResponse(bytes: number): void {
    this.responseBytes += bytes;
    this.lastResponseSize = bytes;
    if (this.minResponseSize === -1 || bytes < this.minResponseSize) this.minResponseSize = bytes;
    if (bytes > this.maxResponseSize) this.maxResponseSize = bytes;
  }

  /** An applied txn: per-namespace write bytes and change records, as DataTree and PrepRequestProcessor count. */
  recordTxn(txn: Txn): void {
    switch (txn.kind) {
      case "create":
      case "createContainer":
      case "createTTL":
        this.changeRecords += 2; // the node and its parent
        this.recordWrite(txn.path, txn.data?.length ?? 0);
        return;
      case "delete":
        this.changeRecords += 2;
        this.recordWrite(txn.path, 0);
        return;
      case "setData":
        this.changeRecords += 1;
        this.recordWrite(txn.path, txn.data?.length ?? 0);
        return;
      case "setACL":
        this.changeRecords += 1;
        return;
      case "closeSession":
        this.changeRecords += txn.paths2Delete.length;
        return;
      case "multi":
        for (const sub of txn.txns) this.recordTxn(sub);
        return;
      default:
        return;
    }
  }
}
