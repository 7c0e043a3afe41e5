/**
 * The deterministic simulator: seeded randomness, virtual time, a simulated network and disks, a cluster harness
 * running the real quorum cores, a nemesis, safety checkers and readable timelines.
 */
export { seededRandom, seedFromEnv, type Random } from "./random.ts";
export { EventQueue, VirtualClock } from "./clock.ts";
export { SimNetwork, calmNetwork, type NetworkFaults } from "./network.ts";
export { SimDisk, type DiskImage, type LogRecord, type CrashDamage, type DiskRecovery } from "./disk.ts";
export { Timeline, type TimelineRecord, type TimelineSvgOptions, type Channel } from "./timeline.ts";
export { SafetyChecker, type Violation } from "./checkers.ts";
export { Cluster, type ClusterConfig, type ClusterStats } from "./cluster.ts";
export { Nemesis, type NemesisOptions, type NemesisAction } from "./nemesis.ts";
export { runSimulation, describeFailure, faultPhaseMsDefault, livenessBudgetMsDefault, type ScenarioOptions, type SimulationResult } from "./scenario.ts";
export { writeTimeline, type WrittenTimeline } from "./report.ts";
export type { SimTypes, SimRequest, SimTxn, SimApplied, SimSnapshot } from "./types.ts";
export { checkLinearizable, checkClientOrder, applyToZnode, describeOperation, statesExploredMaxDefault, type Operation, type Outcome, type ZnodeCall, type ZnodeState, type ZnodeError, type CheckOptions, type CheckResult, type ClientOrderViolation } from "./linearizability.ts";
