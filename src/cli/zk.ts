/**
 * `npm run zk -- [connect-string] [command args...]`: the ZooKeeper shell, with zkCli's commands and output.
 *
 *   npm run zk                                   interactive, to 127.0.0.1:2181
 *   npm run zk -- 127.0.0.1:2181,127.0.0.1:2182/app
 *   npm run zk -- 127.0.0.1:2181 ls /            one command, then exit
 *   npm run zk -- 127.0.0.1:2181 < script.txt    one command a line from standard input, no prompt
 *
 * zkCli's own options work too: `-server host:port`, `-timeout ms`. Interactive sessions keep their history in
 * ~/.zkbook_history (or $ZKBOOK_HISTORY). The only place that reads argv, the environment and the terminal for
 * the shell; src/shell/ does the rest.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import * as readline from "node:readline";
import { Shell, sessionTimeoutMsDefault, type ShellIO } from "../shell/shell.ts";

/** Lines of history kept in the history file between sessions. */
const historyFileLinesMax = 500;
/** Typed or pasted lines waiting for the command before them; beyond this, input is paused. */
const inputLinesQueuedMax = 1000;
const connectStringDefault = "127.0.0.1:2181";

interface Config {
  readonly connectString: string;
  readonly sessionTimeoutMs: number;
  /** Words of a single command to run instead of reading commands. */
  readonly command: readonly string[];
  readonly historyFile: string;
}

/** Exits with status 2 after the usage line, preceded by what was wrong with the arguments, if anything. */
function usage(problem?: string): never {
  if (problem !== undefined) process.stderr.write(`zk: ${problem}\n`);
  process.stderr.write("usage: npm run zk -- [-server host:port] [-timeout ms] [connect-string] [command args...]\n");
  process.exit(2);
}

function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  let server: string | undefined;
  let sessionTimeoutMs = sessionTimeoutMsDefault;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (words.length === 0 && word === "-server") server = argv[++i] ?? usage("-server needs a host:port");
    else if (words.length === 0 && word === "-timeout") {
      const text = argv[++i] ?? usage("-timeout needs a number of milliseconds");
      sessionTimeoutMs = Number(text);
      if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs <= 0) usage(`-timeout ${JSON.stringify(text)} is not a positive whole number of milliseconds`);
    } else if (words.length === 0 && (word === "-h" || word === "--help")) usage();
    else words.push(word);
  }
  if (server === undefined) server = words.shift() ?? connectStringDefault;
  return {
    connectString: server,
    sessionTimeoutMs,
    command: words,
    historyFile: env.ZKBOOK_HISTORY ?? join(homedir(), ".zkbook_history"),
  };
}

/** Words back into a line the shell's parser splits the same way. */
function toLine(words: readonly string[]): string {
  return words.map((word) => (/^\S+$/.test(word) && !/^["']/.test(word) ? word : `"${word}"`)).join(" ");
}

const plainIO: ShellIO = {
  out: (text) => void process.stdout.write(text + "\n"),
  err: (text) => void process.stderr.write(text + "\n"),
};

async function runLines(shell: Shell, lines: AsyncIterable<string>): Promise<void> {
  for await (const line of lines) {
    if ((await shell.executeLine(line)) === "quit") break;
  }
}

async function interactive(config: Config): Promise<Shell> {
  let rl: readline.Interface | undefined;
  let busy = false;
  // Something printed while the prompt waits (a watch event): clear the prompt line, print, draw it again.
  const write = (stream: NodeJS.WriteStream, text: string) => {
    if (rl === undefined || busy) return void stream.write(text + "\n");
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
    stream.write(text + "\n");
    rl.setPrompt(shell.prompt);
    rl.prompt(true);
  };
  const shell = new Shell({
    connectString: config.connectString,
    sessionTimeoutMs: config.sessionTimeoutMs,
    waitForConnection: false,
    io: { out: (text) => write(process.stdout, text), err: (text) => write(process.stderr, text) },
  });
  process.stdout.write(`Connecting to ${config.connectString}\nWelcome to ZooKeeper!\n`);
  await shell.start();

  rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    history: loadHistory(config.historyFile),
    historySize: historyFileLinesMax,
    removeHistoryDuplicates: true,
    completer: (line: string, callback: (error: Error | null, result: [string[], string]) => void) => {
      shell.complete(line).then((result) => callback(null, result), () => callback(null, [[], line]));
    },
  });
  rl.on("history", (history: string[]) => saveHistory(config.historyFile, history));
  // Lines are queued as they come, so that a pasted block of commands runs whole, one command at a time.
  const queued: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  rl.on("line", (line: string) => {
    queued.push(line);
    if (queued.length >= inputLinesQueuedMax) rl.pause();
    wake?.();
  });
  rl.on("close", () => {
    closed = true;
    wake?.();
  });
  const lines = (async function* () {
    for (;;) {
      const line = queued.shift();
      if (line !== undefined) {
        busy = true;
        yield line;
        continue;
      }
      if (closed) return;
      rl.resume();
      rl.setPrompt(shell.prompt);
      rl.prompt();
      busy = false;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  })();
  rl.on("SIGINT", () => {
    if (rl.line.length === 0) return rl.close(); // Ctrl-C on an empty line quits, as in zkCli
    rl.write(null, { ctrl: true, name: "e" }); // to the end of the line,
    rl.write(null, { ctrl: true, name: "u" }); // and delete it all
    process.stdout.write("^C\n");
    rl.prompt();
  });
  await runLines(shell, lines);
  busy = true;
  rl.close();
  return shell;
}

function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter((line) => line.trim() !== "").slice(-historyFileLinesMax).reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string, newestFirst: readonly string[]): void {
  try {
    writeFileSync(file, [...newestFirst].slice(0, historyFileLinesMax).reverse().join("\n") + "\n", { mode: 0o600 });
  } catch {
    // a history that cannot be saved is no reason to stop the shell
  }
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2), process.env);
  process.stdout.on("error", () => process.exit(0)); // e.g. `npm run zk ... | head`
  let shell: Shell;
  if (config.command.length === 0 && process.stdin.isTTY) {
    shell = await interactive(config);
  } else {
    shell = new Shell({
      connectString: config.connectString,
      sessionTimeoutMs: config.sessionTimeoutMs,
      waitForConnection: true,
      io: plainIO,
    });
    if (!(await shell.start())) {
      await shell.shutdown();
      process.exit(1);
    }
    if (config.command.length > 0) await shell.executeLine(toLine(config.command));
    else await runLines(shell, readline.createInterface({ input: process.stdin, terminal: false }));
  }
  await shell.shutdown();
  process.exit(shell.exitCode);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
