/**
 * One seeded simulation run: a random ensemble (3–5 voters, 0–2 observers, majority or hierarchical quorum, random
 * timing), a client writing all along, a fault phase driven by the nemesis, then a heal — every server restarted,
 * the network whole and calm — after which a quorum must make progress again. The seed decides everything; the
 * same seed replays the same run, event for event.
 */
import { describeVerifier, hierarchicalVerifier, majorityVerifier, type QuorumVerifier } from "../quorum/index.ts";
import type { Violation } from "./checkers.ts";
import { Cluster, type ClusterConfig, type ClusterStats } from "./cluster.ts";
import { Nemesis, shuffle } from "./nemesis.ts";
import type { NetworkFaults } from "./network.ts";
import { seededRandom, type Random } from "./random.ts";

export interface ScenarioOptions {
  /** Keep the message timeline (a failing seed is re-run with it). */
  readonly record?: boolean;
  /** Virtual time of the fault phase, [min, max] ms. */
  readonly faultPhaseMs?: readonly [number, number];
  /** After the heal, how long a quorum may take to commit a new write, in virtual ms. */
  readonly livenessBudgetMs?: number;
  /** Fix parts of the random configuration (tests of one situation). */
  readonly overrides?: Partial<Omit<ClusterConfig, "record">>;
  /** No faults at all (a smoke test). */
  readonly calm?: boolean;
}

export interface SimulationResult {
  readonly seed: number;
  readonly ok: boolean;
  /** One line: the ensemble and its timing. */
  readonly setup: string;
  readonly violations: readonly Violation[];
  readonly liveness: { readonly ok: boolean; readonly healedAtMs: number; readonly progressAtMs: number | null };
  /** A core threw: an invariant broke. */
  readonly error: Error | null;
  readonly stats: ClusterStats;
  readonly endMs: number;
  readonly cluster: Cluster;
}

export const faultPhaseMsDefault: readonly [number, number] = [1_000, 2_500];
export const livenessBudgetMsDefault = 20_000;
/** How often the client writes during the run, [min, max] ms between writes. */
const writeGapMs: readonly [number, number] = [4, 40];
/** How often the client calls sync, [min, max] ms between syncs. */
const syncGapMs: readonly [number, number] = [20, 120];
/** After progress, keep running a little so followers catch up and the final checks see a settled cluster. */
const settleMs = 300;
/** A run normally takes a few thousand events; far more means a message storm (a liveness bug): stop and fail. */
export const simEventsMax = 500_000;

export function runSimulation(seed: number, options: ScenarioOptions = {}): SimulationResult {
  const random = seededRandom(seed);
  const config = randomConfig(random, options);
  const cluster = new Cluster(config, random);
  const [phaseMin, phaseMax] = options.faultPhaseMs ?? faultPhaseMsDefault;
  const healAtMs = options.calm ? 0 : random.int(phaseMin, phaseMax);
  const calm = calmOf(config.network);

  let nextId = 1;
  let probeFromId = Number.POSITIVE_INFINITY;
  const writeLoop = (): void => {
    const up = cluster.upServers();
    if (up.length > 0) cluster.submit(random.pick(up), nextId++);
    cluster.at(cluster.nowMs + random.int(writeGapMs[0], writeGapMs[1]), writeLoop);
  };

  const syncLoop = (): void => {
    const up = cluster.upServers();
    if (up.length > 0) cluster.sync(random.pick(up));
    cluster.at(cluster.nowMs + random.int(syncGapMs[0], syncGapMs[1]), syncLoop);
  };

  cluster.startAll();
  cluster.at(random.int(0, 20), writeLoop);
  cluster.at(random.int(0, 50), syncLoop);
  if (!options.calm) {
    const nemesis = new Nemesis(random, cluster, {
      meanGapMs: random.pick([80, 150, 300, 600]),
      crashes: random.chance(0.8),
      partitions: random.chance(0.8),
      lossy: config.network,
      calm,
    });
    nemesis.scheduleBetween(0, healAtMs);
  }
  // Start calm or lossy, as the seed says; the nemesis switches back and forth.
  if (!options.calm && random.chance(0.5)) cluster.setFaults(calm, "calm");

  const storm = (): boolean => cluster.stats.events > simEventsMax;
  cluster.runUntil(healAtMs, storm);
  cluster.at(healAtMs, () => {
    cluster.heal();
    cluster.setFaults(calm, "calm (healed)");
    for (const sid of cluster.downServers()) cluster.restart(sid);
    probeFromId = nextId;
  });

  const v = config.verifier;
  let progressAtMs: number | null = null;
  const madeProgress = (): boolean => {
    for (const [id, voters] of cluster.checker.deliveredBy) {
      if (id >= probeFromId && v.containsQuorum(voters)) return true;
    }
    return false;
  };
  const budget = options.livenessBudgetMs ?? livenessBudgetMsDefault;
  const watch = (): void => {
    if (progressAtMs === null && madeProgress()) progressAtMs = cluster.nowMs;
    else cluster.at(cluster.nowMs + 25, watch);
  };
  cluster.at(healAtMs + 1, watch);
  if (!storm()) cluster.runUntil(healAtMs + budget, () => progressAtMs !== null || cluster.crashError !== null || storm());
  if (progressAtMs !== null && !storm()) cluster.runUntil(cluster.nowMs + settleMs, storm);
  cluster.checker.finish(cluster.nowMs);
  const error = cluster.crashError ?? (storm() ? new Error(`message storm: more than ${simEventsMax} events by ${cluster.nowMs.toFixed(0)} ms`) : null);

  const livenessOk = progressAtMs !== null;
  const ok = cluster.checker.ok && livenessOk && error === null;
  return {
    seed,
    ok,
    setup: describeSetup(config, healAtMs),
    violations: cluster.checker.violations,
    liveness: { ok: livenessOk, healedAtMs: healAtMs, progressAtMs },
    error,
    stats: cluster.stats,
    endMs: cluster.nowMs,
    cluster,
  };
}

/** A readable account of why a run failed. */
export function describeFailure(r: SimulationResult): string {
  const lines = [`seed ${r.seed}: ${r.setup}`];
  if (r.error !== null) lines.push(`  stopped at ${r.endMs.toFixed(1)} ms: ${r.error.message}`);
  for (const v of r.violations) lines.push(`  violated "${v.property}" at ${v.atMs.toFixed(1)} ms: ${v.detail}`);
  if (!r.liveness.ok && r.error === null) {
    lines.push(`  no progress: healed at ${r.liveness.healedAtMs} ms, no write committed on a quorum by ${r.endMs.toFixed(0)} ms`);
    const c = r.cluster;
    lines.push(`  roles at the end: ${c.servers.map((s) => `s${s}=${c.roleOf(s)}`).join(" ")}`);
  }
  return lines.join("\n");
}

function randomConfig(random: Random, options: ScenarioOptions): ClusterConfig {
  const voterCount = random.pick([3, 3, 3, 4, 5, 5]);
  const observerCount = random.pick([0, 0, 1, 2]);
  const voters = Array.from({ length: voterCount }, (_, i) => i + 1);
  const observers = Array.from({ length: observerCount }, (_, i) => voterCount + i + 1);
  const verifier = random.chance(0.25) ? randomHierarchy(random, voters, observers) : majorityVerifier(voters, observers);
  const tickTimeMs = random.pick([40, 50, 100]);
  const lossy: NetworkFaults = {
    delayMsMin: random.pick([0.2, 1, 2]),
    delayMsMax: random.pick([3, 5, 12]),
    dropProbability: random.pick([0, 0.02, 0.1, 0.3]),
    duplicateProbability: random.pick([0, 0.02, 0.1]),
    reorderProbability: random.pick([0, 0.1, 0.3]),
    reorderDelayMsMax: random.pick([5, 30, 100]),
    streamBreakProbability: random.pick([0, 0.001, 0.005, 0.02]),
  };
  const config: Omit<ClusterConfig, "record"> = {
    verifier,
    tickTimeMs,
    initLimitTicks: random.pick([5, 10]),
    syncLimitTicks: random.pick([2, 3, 5]),
    finalizeWaitMs: random.pick([50, 200]),
    maxNotificationIntervalMs: random.pick([400, 1_600]),
    committedLogCountMax: random.pick([0, 3, 20, 500, 500]),
    network: options.calm ? calmOf(lossy) : lossy,
    fsyncMsMin: 0,
    fsyncMsMax: random.pick([0.5, 2, 8, 20]),
    tornWriteProbability: random.pick([0, 0.5, 1]),
  };
  return { ...config, ...options.overrides, record: options.record ?? false };
}

/** Groups of voters with random weights (some 0), redrawn until the whole ensemble is a quorum. */
function randomHierarchy(random: Random, voters: readonly number[], observers: readonly number[]): QuorumVerifier {
  for (;;) {
    const groupCount = random.int(2, Math.min(3, voters.length));
    const shuffled = shuffle(random, [...voters]);
    const groups = Array.from({ length: groupCount }, (_, g) => ({ groupId: g + 1, serverIds: shuffled.filter((_, i) => i % groupCount === g) }));
    const weights = new Map(voters.map((s) => [s, random.pick([0, 1, 1, 1, 2])] as const));
    const v = hierarchicalVerifier(groups, weights, observers);
    if (v.containsQuorum(voters)) return v;
  }
}

function calmOf(f: NetworkFaults): NetworkFaults {
  return { ...f, dropProbability: 0, duplicateProbability: 0, reorderProbability: 0, streamBreakProbability: 0 };
}

function describeSetup(c: ClusterConfig, healAtMs: number): string {
  const n = c.network;
  return (
    `${describeVerifier(c.verifier)}; tick ${c.tickTimeMs} ms, initLimit ${c.initLimitTicks}, syncLimit ${c.syncLimitTicks}, ` +
    `finalizeWait ${c.finalizeWaitMs} ms, maxNotificationInterval ${c.maxNotificationIntervalMs} ms, committedLog ${c.committedLogCountMax}; ` +
    `delay ${n.delayMsMin}–${n.delayMsMax} ms, drop ${n.dropProbability}, dup ${n.duplicateProbability}, reorder ${n.reorderProbability}, ` +
    `break ${n.streamBreakProbability}; fsync ≤${c.fsyncMsMax} ms, torn ${c.tornWriteProbability}; heal at ${healAtMs} ms`
  );
}
