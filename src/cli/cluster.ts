/**
 * `npm run cluster`: a local ZooKeeper ensemble on 127.0.0.1 — start it, look at it, crash and restart its
 * members. The only place that reads argv and the working directory for it; the rest is src/cluster/.
 * `npm run cluster -- help` lists the subcommands.
 */
import { ClusterError, parseClusterArgs, runClusterCommand } from "../cluster/index.ts";

async function main(): Promise<void> {
  const invocation = parseClusterArgs(process.argv.slice(2));
  // npm runs scripts in the package root; INIT_CWD is where the command was typed (for a relative --dir).
  await runClusterCommand(invocation, { cwd: process.env.INIT_CWD ?? process.cwd(), print: (line) => console.log(line) });
}

main().catch((error: unknown) => {
  if (error instanceof ClusterError) console.error(`error: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
