// The interop harness in one import: `import { startApacheZooKeeper, runKazoo, ... } from "./harness/index.ts"`.
export {
  startApacheZooKeeper,
  freePort,
  apacheAvailable,
  apacheSkipMessage,
  missingPieces,
  type ApacheOptions,
  type ApacheZooKeeper,
  type Availability,
} from "./apache.ts";
export { runZkCli, runZkCliCommand, zkCliPath, stripZkCliBanner, type ZkCliResult, type ZkCliOptions } from "./zkCli.ts";
export { runKazoo, dedent, type KazooResult } from "./kazoo.ts";
export {
  runCliMt,
  cliMtAnswerMarker,
  cliMtRc,
  cliMtChildren,
  cliMtValue,
  type CliMtResult,
  type CliMtStep,
  type CliMtOptions,
} from "./cmt.ts";
export { fourLetterWord } from "./fourLetter.ts";
export { spawnTracked, runToEnd, type RunResult } from "./children.ts";
