/** The standalone ZooKeeper server: connections, sessions, the request pipeline, watches, four-letter words. */
export { ZooKeeperServer, type Clock, type Logger, type TxnSink, type ServerOptions, type ServerStats } from "./server.ts";
export {
  startStandaloneServer,
  serverOptionsFrom,
  realClock,
  consoleLogger,
  silentLogger,
  ClientPortError,
  type RunningServer,
  type StartOptions,
} from "./listener.ts";
export { SessionTracker, sessionPassword } from "./sessions.ts";
export { WatchManager, type Watcher, type WatcherMode } from "./watches.ts";
export type { Transport } from "./connection.ts";
