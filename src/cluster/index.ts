/**
 * Local ensembles on 127.0.0.1: `npm run cluster` and the ensemble harness for tests and benchmarks.
 *
 * - spec.ts: members, ids and ports (pure)      - config.ts: each member's zoo.cfg and files (pure)
 * - args.ts: `npm run cluster` arguments (pure)  - srvr.ts: asking a member its role (`srvr`)
 * - launch.ts: member processes                 - ensemble.ts: LocalEnsemble, startEnsemble (the harness)
 * - state.ts: the cluster.json state file       - commands.ts: the subcommands
 */
export {
  ClusterError,
  planFromBasePort,
  planWithPorts,
  connectStringOf,
  quorumSize,
  clusterHost,
  type ClusterSpec,
  type MemberSpec,
  type MemberKind,
  type Implementation,
} from "./spec.ts";
export { memberZooCfg, memberPaths } from "./config.ts";
export { parseClusterArgs, clusterUsage, type ClusterCommand, type ClusterInvocation } from "./args.ts";
export { probe, parseSrvr, fourLetterWord, formatZxid, type Probe, type ServerMode } from "./srvr.ts";
export { apacheMissing, apacheJvmFlagsDefault, apacheJvmFlagsQuickStart } from "./apache.ts";
export {
  startEnsemble,
  LocalEnsemble,
  MemberModeUnavailableError,
  type Ensemble,
  type StartEnsembleOptions,
  type MemberStatus,
} from "./ensemble.ts";
export { runClusterCommand, formatStatusTable } from "./commands.ts";
