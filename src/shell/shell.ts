/**
 * The shell's runner: reads nothing and prints through `ShellIO`, so that the terminal front end (src/cli/zk.ts)
 * and tests drive the same code. It keeps what Apache's `ZooKeeperMain` keeps: the client, the host string,
 * the command counter shown in the prompt, the history `redo` uses, and whether watch events are printed.
 *
 * Output goes where zkCli sends it: results to `out` (stdout), "Created /x", errors and usage to `err` (stderr).
 * Watch events are printed by one watcher shared by every `-w` read and `addWatch`, like zkCli's default watcher,
 * so two watches on the same node and kind fire once; session events come from the connection state.
 */
import {
  NoNodeError,
  ZooKeeperError,
  createClient,
  type ClientOptions,
  type ConnectionStateKind,
  type Watcher,
  type WatchedEvent,
  type ZooKeeperClient,
} from "../client/index.ts";
import { pathProblem } from "../tree/index.ts";
import { complete } from "./completer.ts";
import {
  errorLine,
  formatAcl,
  formatChildren,
  formatData,
  formatEvent,
  formatHistory,
  formatStat,
  formatWhoAmI,
  javaList,
  keeperMessage,
  prompt,
  sessionEventFor,
} from "./format.ts";
import { parseLine, usageLines, type Command, type Parsed } from "./parser.ts";

export interface ShellIO {
  /** One or more lines (no trailing newline) for standard output. */
  out(text: string): void;
  /** One or more lines (no trailing newline) for standard error. */
  err(text: string): void;
}

export interface ShellOptions {
  readonly connectString: string;
  readonly io: ShellIO;
  /** zkCli's -timeout; its default is 30 s. */
  readonly sessionTimeoutMs?: number;
  /**
   * Wait for the session before running anything after (re)connecting, like zkCli's -waitforconnection: what a
   * script wants. An interactive shell does not wait; the prompt shows CONNECTING.
   */
  readonly waitForConnection: boolean;
  /** For stat times; default the process's time zone. */
  readonly timeZone?: string;
  /** Passed to the client (tests lower reconnect delays). */
  readonly clientOptions?: ClientOptions;
}

/** zkCli's default session timeout (-timeout). */
export const sessionTimeoutMsDefault = 30_000;
/** How many past commands `redo` can reach; older ones are forgotten. */
export const historyEntriesMax = 1000;
/** How long quitting waits for the session to close before giving up on the server. */
export const closeWaitMsMax = 3000;

export type LineOutcome = "continue" | "quit";

class CommandFailed extends Error {}

export class Shell {
  private client: ZooKeeperClient;
  private host: string;
  private detach: () => void = () => {};
  private printWatches = true;
  private readonly history = new Map<number, string>();
  private commandCount = 0;
  private failed = false;
  private readonly watcher: Watcher = (event) => {
    if (event.type !== "none") this.printEvent(event);
  };

  constructor(private readonly options: ShellOptions) {
    this.host = options.connectString;
    this.client = createClient(this.host, this.clientOptions());
    this.attach();
  }

  /** Starts connecting; resolves when connected if `waitForConnection`. False if that wait failed. */
  async start(): Promise<boolean> {
    return this.connectClient();
  }

  get prompt(): string {
    return prompt(this.host, this.client.state.kind, this.commandCount);
  }

  /** zkCli's exit status: 1 if the last command failed, else 0. */
  get exitCode(): number {
    return this.failed ? 1 : 0;
  }

  /** One line typed or read from a script (`ZooKeeperMain.executeLine`). Blank lines are skipped. */
  async executeLine(line: string): Promise<LineOutcome> {
    if (line.trim() === "") return "continue";
    this.history.set(this.commandCount, line);
    this.history.delete(this.commandCount - historyEntriesMax);
    this.failed = false;
    const outcome = await this.process(parseLine(line));
    this.commandCount++;
    return outcome;
  }

  /** Tab completion: command names, and paths from the server. */
  complete(line: string): Promise<[string[], string]> {
    return complete(line, (path) => this.client.getChildren(path, { timeoutMs: 2000 }));
  }

  /** Ends the session without printing its Closed event (quit, end of input). */
  async shutdown(): Promise<void> {
    this.detach();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, closeWaitMsMax)));
    await Promise.race([this.client.close().catch(() => {}), timeout]);
    clearTimeout(timer);
  }

  // ---- the commands ----

  private async process(parsed: Parsed): Promise<LineOutcome> {
    if (parsed.kind === "empty") return "continue";
    if (parsed.kind === "error") {
      this.fail(parsed.lines.join("\n"));
      return "continue";
    }
    if (parsed.notices.length > 0) this.options.io.err(parsed.notices.join("\n"));
    const { command } = parsed;
    switch (command.name) {
      case "quit":
        return "quit";
      case "redo":
        return this.redo(command.index);
      case "history":
        this.options.io.out(formatHistory(this.history, this.commandCount).join("\n"));
        return "continue";
      case "printwatches":
        if (command.on === null) this.options.io.out(`printwatches is ${this.printWatches ? "on" : "off"}`);
        else this.printWatches = command.on;
        return "continue";
      case "help":
        this.options.io.err(usageLines().join("\n"));
        return "continue";
      case "connect":
        await this.reconnect(command.host ?? this.host);
        return "continue";
      default:
        break;
    }
    if (!isAlive(this.client.state.kind)) {
      this.options.io.out("Not connected");
      return "continue";
    }
    try {
      await this.run(command);
    } catch (error) {
      if (!(error instanceof CommandFailed)) this.fail(errorLine(error));
    }
    return "continue";
  }

  private async redo(index: number): Promise<LineOutcome> {
    const line = index < this.commandCount ? this.history.get(index) : undefined;
    if (line === undefined) {
      this.fail("Command index out of range");
      return "continue";
    }
    const parsed = parseLine(line);
    if (parsed.kind === "command" && parsed.command.name === "redo") {
      this.fail("No redoing redos");
      return "continue";
    }
    this.history.set(this.commandCount, line);
    return this.process(parsed);
  }

  private async run(command: Command): Promise<void> {
    const { io } = this.options;
    const client = this.client;
    const watch = (wanted: boolean) => (wanted ? { watch: this.watcher } : {});
    const stat = this.printStat.bind(this);
    switch (command.name) {
      case "create": {
        checkPath(command.path, command.mode.toLowerCase().includes("sequential"));
        if (command.acl !== null && command.acl.length === 0) {
          // Apache's client refuses an empty ACL list itself, before the path is known.
          io.err(keeperMessage(-114, null));
          throw this.failure("Acl is not valid : null");
        }
        try {
          const created = await client.create(command.path, command.data, {
            mode: command.mode,
            ...(command.acl !== null ? { acl: command.acl } : {}),
            ...(command.ttlMs !== null ? { ttlMs: command.ttlMs } : {}),
          });
          io.err(`Created ${created}`);
        } catch (error) {
          // CreateCommand says a little more about these two before the usual line.
          if (error instanceof ZooKeeperError && error.codeName === "invalidACL") io.err(keeperMessage(error.code, error.path));
          if (error instanceof ZooKeeperError && error.codeName === "ephemeralOnLocalSession") {
            io.err("Unable to create ephemeral node on a local session");
          }
          throw error;
        }
        return;
      }
      case "ls": {
        checkPath(command.path);
        if (command.recursive) {
          await this.visitSubtree(command.path, command.watch, async (path) => io.out(path));
        } else if (command.stat) {
          const result = await client.getChildren2(command.path, watch(command.watch));
          io.out(formatChildren(result.children));
          stat(result.stat);
        } else {
          io.out(formatChildren(await client.getChildren(command.path, watch(command.watch))));
        }
        return;
      }
      case "ls2": {
        checkPath(command.path);
        const result = await client.getChildren2(command.path, watch(command.watch));
        io.out(javaList(result.children));
        stat(result.stat);
        return;
      }
      case "get": {
        checkPath(command.path);
        const result = await client.getData(command.path, watch(command.watch));
        io.out(formatData(result.data));
        if (command.stat) stat(result.stat);
        return;
      }
      case "set": {
        checkPath(command.path);
        const result = await client.setData(command.path, command.data, { version: command.version });
        if (command.stat) stat(result);
        return;
      }
      case "delete":
        checkPath(command.path);
        await client.delete(command.path, { version: command.version });
        return;
      case "deleteall":
        checkPath(command.path);
        if (!(await this.deleteRecursive(command.path, command.batchSize))) {
          io.err("Failed to delete some node(s) in the subtree!");
        }
        return;
      case "stat": {
        checkPath(command.path);
        const result = await client.exists(command.path, watch(command.watch));
        if (result === null) throw new NoNodeError(command.path);
        stat(result);
        return;
      }
      case "sync":
        checkPath(command.path);
        try {
          await client.sync(command.path);
          io.out("Sync is OK");
        } catch (error) {
          if (!(error instanceof ZooKeeperError)) throw error;
          io.out(`Sync has failed. rc=${error.code}`);
        }
        return;
      case "getAcl": {
        checkPath(command.path);
        const result = await client.getACL(command.path);
        io.out(formatAcl(result.acl).join("\n"));
        if (command.stat) stat(result.stat);
        return;
      }
      case "setAcl": {
        checkPath(command.path);
        if (command.acl.length === 0) throw this.failure("Acl is not valid : null");
        const options = { version: command.version };
        if (command.recursive) {
          await this.visitSubtree(command.path, false, async (path) => {
            // zkCli prints KeeperException.getMessage() for each node it could not change, without a newline, so
            // that they run together; we end each line.
            await client.setACL(path, command.acl, options).catch((error) => {
              if (!(error instanceof ZooKeeperError)) throw error;
              io.out(keeperMessage(error.code, error.path));
            });
          });
        } else {
          const result = await client.setACL(command.path, command.acl, options);
          if (command.stat) stat(result);
        }
        return;
      }
      case "addauth":
        // zkCli does not wait for the answer; a refused auth shows up as an AuthFailed session event.
        await client.addAuthInfo(command.scheme, command.auth).catch(() => {});
        return;
      case "addWatch":
        checkPath(command.path);
        await client.addWatch(command.path, this.watcher, command.mode);
        return;
      case "removewatches":
        checkPath(command.path);
        await client.removeWatches(command.path, command.watcherType);
        return;
      case "whoami":
        io.out(formatWhoAmI(await client.whoAmI()).join("\n"));
        return;
      case "getEphemerals":
        checkPath(command.path);
        io.out(javaList(await client.getEphemerals(command.path)));
        return;
      case "getAllChildrenNumber":
        checkPath(command.path);
        io.out(String(await client.getAllChildrenNumber(command.path)));
        return;
      case "close":
        await client.close();
        return;
      case "quit":
      case "redo":
      case "history":
      case "printwatches":
      case "help":
      case "connect":
        throw new Error(`${command.name} is handled before run()`);
      default:
        assertNever(command);
    }
  }

  /**
   * `ZKUtil.visitSubTreeDFS`, what `ls -R` and `setAcl -R` use: the node (read, so a missing one fails), then its
   * children sorted, then each child's subtree; nodes that vanish meanwhile are skipped.
   */
  private async visitSubtree(root: string, watch: boolean, visit: (path: string) => Promise<void>): Promise<void> {
    const watchOption = watch ? { watch: this.watcher } : {};
    await this.client.getData(root, watchOption);
    await visit(root);
    const below = async (path: string): Promise<void> => {
      let children: string[];
      try {
        children = (await this.client.getChildren(path, watchOption)).sort();
      } catch (error) {
        if (error instanceof NoNodeError) return;
        throw error;
      }
      const childPaths = children.map((child) => (path === "/" ? `/${child}` : `${path}/${child}`));
      for (const childPath of childPaths) await visit(childPath);
      for (const childPath of childPaths) await below(childPath);
    };
    await below(root);
  }

  /**
   * `ZKUtil.deleteRecursive` as zkCli's deleteall uses it: list the subtree breadth first, then delete it from the
   * last node back to the root in multis of `batchSize` deletes (or one delete at a time if batchSize <= 0).
   * False if a multi failed: the nodes of the batches before it are gone, the rest are not.
   */
  private async deleteRecursive(root: string, batchSize: number): Promise<boolean> {
    const tree = [root];
    for (let i = 0; i < tree.length; i++) {
      const node = tree[i]!;
      for (const child of await this.client.getChildren(node)) tree.push(node === "/" ? `/${child}` : `${node}/${child}`);
    }
    const leavesFirst = tree.reverse();
    if (batchSize <= 0) {
      for (const path of leavesFirst) await this.client.delete(path);
      return true;
    }
    for (let start = 0; start < leavesFirst.length; start += batchSize) {
      const ops = leavesFirst.slice(start, start + batchSize).map((path) => ({ op: "delete" as const, path, version: -1 }));
      try {
        await this.client.multi(ops);
      } catch {
        return false;
      }
    }
    return true;
  }

  // ---- connection ----

  private clientOptions(): ClientOptions {
    return { sessionTimeoutMs: this.options.sessionTimeoutMs ?? sessionTimeoutMsDefault, ...this.options.clientOptions };
  }

  /** Prints the session events of the current client, as zkCli's default watcher does. */
  private attach(): void {
    this.detach = this.client.onStateChange((state, previous) => {
      const event = sessionEventFor(state.kind, previous.kind);
      if (event !== null) this.printEvent(event);
    });
  }

  private async connectClient(): Promise<boolean> {
    const connected = this.client.connect({ timeoutMs: this.options.sessionTimeoutMs ?? sessionTimeoutMsDefault });
    if (!this.options.waitForConnection) {
      connected.catch(() => {}); // the prompt and the session events say how it went
      return true;
    }
    try {
      await connected;
      return true;
    } catch (error) {
      this.fail(errorLine(error));
      return false;
    }
  }

  /** `connect host:port`: close the current session (its Closed event is printed), open another. */
  private async reconnect(host: string): Promise<void> {
    if (isAlive(this.client.state.kind)) await this.client.close().catch(() => {});
    let next: ZooKeeperClient;
    try {
      next = createClient(host, this.clientOptions());
    } catch (error) {
      this.fail(errorLine(error)); // a connect string that does not parse; the old, closed client stays
      return;
    }
    this.detach();
    this.client = next;
    this.host = host;
    this.attach();
    await this.connectClient();
  }

  // ---- output ----

  private printEvent(event: WatchedEvent): void {
    if (this.printWatches) this.options.io.out(formatEvent(event).join("\n"));
  }

  private printStat(stat: Parameters<typeof formatStat>[0]): void {
    this.options.io.out(formatStat(stat, this.options.timeZone).join("\n"));
  }

  private fail(text: string): void {
    this.failed = true;
    this.options.io.err(text);
  }

  /** Prints `text` as the command's error and returns an exception that ends the command quietly. */
  private failure(text: string): CommandFailed {
    this.fail(text);
    return new CommandFailed(text);
  }
}

/** `ZooKeeper.States.isAlive`: every state but CLOSED and AUTH_FAILED. */
function isAlive(state: ConnectionStateKind): boolean {
  return state !== "closing" && state !== "closed" && state !== "expired" && state !== "authFailed";
}

/** Apache's `PathUtils.validatePath` wording, checked before the client sees the path. */
function checkPath(path: string, isSequential = false): void {
  const problem = pathProblem(path, isSequential);
  if (problem !== null) throw new Error(problem);
}

function assertNever(value: never): never {
  throw new Error(`unhandled command ${JSON.stringify(value)}`);
}
