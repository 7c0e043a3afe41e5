/**
 * `npm run cluster` arguments → a command. Pure: no files, no processes; the entry point (src/cli/cluster.ts)
 * passes argv in and the working directory along.
 *
 *   npm run cluster [-- start] [--servers N] [--observers M] [--base-port P] [--apache] [--dir D] [--timeout S]
 *   npm run cluster -- status | stop | clean                 [--dir D]
 *   npm run cluster -- kill <id> | stop <id> | restart <id> | start <id>   [--dir D]
 */
import { ClusterError, checkShape, clientPortBaseDefault, observersDefault, portMax, portMin, serversDefault } from "./spec.ts";

export const clusterDirDefault = "./cluster-data";

/** What `start` was asked to create; `undefined` fields were not given (an existing cluster keeps its own). */
export interface StartFlags {
  readonly servers: number | undefined;
  readonly observers: number | undefined;
  readonly basePort: number | undefined;
  readonly apache: boolean;
}

export type ClusterCommand =
  /** Start the whole cluster (create it if there is none), or just server `id`. Idempotent. */
  | { readonly kind: "start"; readonly id: number | undefined; readonly flags: StartFlags }
  | { readonly kind: "status" }
  /** kill -9 */
  | { readonly kind: "kill"; readonly id: number }
  /** SIGTERM one member, or all of them. */
  | { readonly kind: "stop"; readonly id: number | undefined }
  | { readonly kind: "restart"; readonly id: number }
  /** Stop everything and remove the cluster's directory. */
  | { readonly kind: "clean" }
  | { readonly kind: "help" };

export interface ClusterInvocation {
  readonly command: ClusterCommand;
  /** As given (relative to the working directory). */
  readonly dir: string;
  /** How long start/restart wait for the ensemble to serve. */
  readonly timeoutSeconds: number | undefined;
}

const subcommands = ["start", "status", "kill", "stop", "restart", "clean", "help"] as const;
type Subcommand = (typeof subcommands)[number];

export const clusterUsage = `usage:
  npm run cluster [-- start] [--servers N] [--observers M] [--base-port P] [--apache] [--dir D] [--timeout S]
      start a local ensemble on 127.0.0.1 (default ${serversDefault} servers, client ports ${clientPortBaseDefault}-${clientPortBaseDefault + serversDefault - 1}), or the members of
      an existing one that are down; waits until a quorum serves, prints the connect string and each role
  npm run cluster -- status            each server: id, ports, pid, up/down, role, zxid
  npm run cluster -- kill <id>         kill -9 server <id> (a crash)
  npm run cluster -- stop [<id>]       stop server <id> (SIGTERM), or all of them
  npm run cluster -- restart <id>      stop server <id> and start it again
  npm run cluster -- start <id>        start server <id> again after kill or stop
  npm run cluster -- clean             stop everything and delete the cluster's directory

options:
  --servers N     voting servers (default ${serversDefault})
  --observers M   observers, ids after the servers' (default ${observersDefault}): server.N=...:observer + peerType=observer
  --base-port P   client ports P, P+1, ...; quorum ports P+707+i, election ports P+1707+i (default ${clientPortBaseDefault}: 2181/2888/3888)
  --apache        run Apache ZooKeeper 3.8 (Debian package) with the very same configuration, to compare
  --dir D         where the members' files and logs go (default ${clusterDirDefault})
  --timeout S     seconds to wait for the ensemble to serve (default 60)`;

function wholeNumber(flag: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined || text.startsWith("--")) throw new ClusterError(`${flag} needs a value`);
  if (!/^\d+$/.test(text)) throw new ClusterError(`${flag} wants a whole number, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max) throw new ClusterError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

function serverId(subcommand: string, text: string | undefined): number {
  if (text === undefined) throw new ClusterError(`${subcommand} needs a server id, e.g. \`npm run cluster -- ${subcommand} 2\``);
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ClusterError(`${subcommand}: ${JSON.stringify(text)} is not a server id (ids are 1, 2, 3, ...)`);
  return Number(text);
}

export function parseClusterArgs(argv: readonly string[]): ClusterInvocation {
  let dir = clusterDirDefault;
  let timeoutSeconds: number | undefined;
  let servers: number | undefined;
  let observers: number | undefined;
  let basePort: number | undefined;
  let apache = false;
  const startOnly: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // --flag=value as well as --flag value
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = () => (eq === -1 ? argv[++i] : arg.slice(eq + 1));
    switch (flag) {
      case "--servers":
        servers = wholeNumber(flag, value(), 1);
        startOnly.push(flag);
        break;
      case "--observers":
        observers = wholeNumber(flag, value(), 0);
        startOnly.push(flag);
        break;
      case "--base-port":
        basePort = wholeNumber(flag, value(), portMin, portMax);
        startOnly.push(flag);
        break;
      case "--apache":
        if (eq !== -1) throw new ClusterError("--apache takes no value");
        apache = true;
        startOnly.push(flag);
        break;
      case "--dir": {
        const v = value();
        if (v === undefined || v === "" || v.startsWith("--")) throw new ClusterError("--dir needs a directory");
        dir = v;
        break;
      }
      case "--timeout":
        timeoutSeconds = wholeNumber(flag, value(), 1);
        break;
      case "--help":
      case "-h":
        positional.unshift("help");
        break;
      default:
        if (arg.startsWith("-")) throw new ClusterError(`unknown option ${arg} (npm run cluster -- help lists them)`);
        positional.push(arg);
    }
  }
  const [first, ...rest] = positional;
  const name = (first ?? "start") as Subcommand;
  if (!subcommands.includes(name)) {
    throw new ClusterError(`unknown subcommand ${JSON.stringify(first)}: use one of ${subcommands.join(", ")}`);
  }
  if (name !== "start" && name !== "help" && startOnly.length > 0) {
    throw new ClusterError(`${startOnly.join(", ")} only applies to start (it shapes a new cluster), not to ${name}`);
  }
  const takesId = name === "kill" || name === "restart" || name === "stop" || name === "start";
  const extra = takesId ? rest.slice(1) : rest;
  if (extra.length > 0 && name !== "help") throw new ClusterError(`${name}: unexpected ${extra.map((e) => JSON.stringify(e)).join(" ")}`);
  if (servers !== undefined || observers !== undefined) {
    checkShape({ servers: servers ?? serversDefault, observers: observers ?? observersDefault });
  }
  const command = ((): ClusterCommand => {
    switch (name) {
      case "start":
        if (rest[0] !== undefined && startOnly.length > 0) {
          throw new ClusterError(`start ${rest[0]} starts one server of an existing cluster; ${startOnly.join(", ")} cannot change it`);
        }
        return { kind: "start", id: rest[0] === undefined ? undefined : serverId(name, rest[0]), flags: { servers, observers, basePort, apache } };
      case "kill":
      case "restart":
        return { kind: name, id: serverId(name, rest[0]) };
      case "stop":
        return { kind: "stop", id: rest[0] === undefined ? undefined : serverId(name, rest[0]) };
      case "status":
      case "clean":
      case "help":
        return { kind: name };
    }
  })();
  return { command, dir, timeoutSeconds };
}
