// cli_mt, the sample shell of Apache's C client (Debian's zookeeper-bin), driven from a test.
// It checks a server against a third, independent client implementation: the C library.
//
// How cli_mt behaves (3.8.0, read from its source, cli.c, and by running it):
//   - It is interactive: one command per line on stdin. The requests are asynchronous: the shell
//     sends the request and reads the next line; the answer is printed later, from the client's
//     completion thread. So "all commands written" is not "all answers printed", and closing
//     stdin early (it then prints "bye" and exits) drops answers still in flight.
//   - Everything goes to stderr, except `myid` (stdout). We merge both into one pipe, and run it
//     under `stdbuf -o0` because stdout into a pipe is block-buffered by C's stdio.
//   - Answers look like (tabs shown as \t):
//       create /a      -> "Creating [/a] node (mode: 0)" at once, later "[/a]: rc = 0\n\tname = /a"
//       get /a         -> "time = N msec\n/a: rc = 0\n value_len = 3\nnew\nStat:\n\tctime = ...\n..."
//       ls /           -> "time = N msec\n/: rc = 0\n\ta\n\tzookeeper\ntime = N msec"
//       set /a v       -> "/a: rc = 0 Stat:\n\tctime = ..."      delete /a -> "/a: rc = 0"
//       exists /a      -> nothing (a synchronous call in cli_mt; only errors are printed)
//     rc is the ZooKeeper error code (0 ok, -101 no node, -110 node exists, ...).
//   - `create <path>` always stores the 3 bytes "new": there is no data argument. The rest of the
//     line is the path, so `create /a hello` creates a node named "/a hello". Use `set` for data.
//   - Flags: `create +e /a` (ephemeral), `+s` (sequential), `+es`, `+c` (container), `+t=ttl`.
//   - `get` and `ls` leave a watch, so later "Watcher CHANGED_EVENT ... for path /a" lines can turn
//     up in the output of whichever command runs when the event arrives.
//   - The "time = N msec" of `get` counts from an uninitialised start time: it is meaningless.
//
// So the driver waits, for each command, until its answer ("rc = N", or a usage error) has been
// printed and the output has then been quiet for a moment; commands without an answer (exists,
// verbose, addauth) just get a short quiet period. It waits for the session first, and ends with
// `quit`, which closes the session cleanly.

import type { ChildProcess } from "node:child_process";
import { spawnTracked, waitForExit } from "./children.ts";
import { CLI_MT } from "./debian.ts";

export interface CliMtStep {
  command: string;
  /** What was printed between sending this command and the next. */
  output: string;
  /** The answer did not arrive within commandTimeoutMs. */
  timedOut: boolean;
}

export interface CliMtResult {
  connected: boolean;
  /** "0x..." as printed by the shell, if a session was established. */
  sessionId?: string;
  steps: CliMtStep[];
  /** Everything the shell printed, in order. */
  transcript: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliMtOptions {
  /** How long to wait for "CONNECTED_STATE". Default 15 s. If it never comes, no command is sent. */
  connectTimeoutMs?: number;
  /** How long to wait for one command's answer. Default 10 s. */
  commandTimeoutMs?: number;
  /** Quiet time after an answer starts, so the whole multi-line answer is captured. Default 100 ms. */
  settleMs?: number;
  /** Wait for commands that print nothing on success (exists, verbose, ...). Default 300 ms. */
  silentCommandMs?: number;
}

const USAGE_ERROR = /Path must start with \/|Error -?\d+ for|No data found after path|Invalid mode/;

/** What shows that a command's answer has started to print, or null for commands silent on success. */
export function cliMtAnswerMarker(command: string): RegExp | null {
  let line = command.trim();
  // cli.c: a leading 'a' means "async" (aget, als, ...), except in addauth.
  if (line.startsWith("a") && !line.startsWith("addauth")) line = line.slice(1);
  const verb = line.split(/\s+/)[0];
  switch (verb) {
    case "get":
    case "set":
    case "ls":
    case "ls2":
    case "create":
    case "create2":
    case "delete":
    case "sync":
    case "config":
    case "reconfig":
      return new RegExp(`rc = -?\\d+|${USAGE_ERROR.source}`);
    case "myid":
      return /session Id = /;
    default:
      return null;
  }
}

/** Collects a child's output and lets us wait for a pattern in it, or for it to go quiet. */
class Transcript {
  text = "";
  private closed = false;
  private lastData = Date.now();
  private listeners = new Set<() => void>();

  constructor(child: ChildProcess) {
    const notify = () => {
      for (const l of this.listeners) l();
    };
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      this.text += s;
      this.lastData = Date.now();
      notify();
    });
    child.once("close", () => {
      this.closed = true;
      notify();
    });
  }

  /** Resolve true once `re` matches the text after `from`; false after `ms` or if the process ends. */
  waitFor(re: RegExp, from: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (re.test(this.text.slice(from))) done(true);
        else if (this.closed) done(false);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), ms);
      this.listeners.add(check);
      check();
    });
  }

  /** Resolve once nothing new has arrived for `ms`. */
  async waitQuiet(ms: number): Promise<void> {
    for (;;) {
      const idle = Date.now() - this.lastData;
      if (idle >= ms) return;
      await new Promise((r) => setTimeout(r, ms - idle));
    }
  }
}

export async function runCliMt(hostPort: string, commands: string[], opts: CliMtOptions = {}): Promise<CliMtResult> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
  const commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
  const settleMs = opts.settleMs ?? 100;
  const silentCommandMs = opts.silentCommandMs ?? 300;

  // sh: stdout and stderr into one pipe (so the transcript keeps the order things were printed);
  // stdbuf -o0: see the header comment.
  const child = spawnTracked("sh", ["-c", 'exec stdbuf -o0 "$@" 2>&1', "sh", CLI_MT, "-h", hostPort], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin!.on("error", () => {}); // EPIPE if it died: we notice through 'exit'
  const out = new Transcript(child);
  const exited = new Promise<void>((r) => child.once("close", () => r()));
  const send = (line: string) => {
    if (child.stdin!.writable) child.stdin!.write(line + "\n");
  };

  const steps: CliMtStep[] = [];
  const connected = await out.waitFor(/state = CONNECTED_STATE/, 0, connectTimeoutMs);
  if (connected) {
    await out.waitQuiet(settleMs); // let "Got a new session id" print before the first command
    for (const command of commands) {
      if (child.exitCode !== null) break;
      const from = out.text.length;
      send(command);
      const marker = cliMtAnswerMarker(command);
      let timedOut = false;
      if (marker) {
        timedOut = !(await out.waitFor(marker, from, commandTimeoutMs));
        await out.waitQuiet(settleMs);
      } else {
        await new Promise((r) => setTimeout(r, silentCommandMs));
        await out.waitQuiet(settleMs);
      }
      steps.push({ command, output: out.text.slice(from), timedOut });
    }
  }

  // `quit` closes the session politely; if the shell hangs (no server), kill it.
  send("quit");
  child.stdin!.end();
  if (!(await waitForExit(child, 5_000))) child.kill("SIGKILL");
  await exited;

  return {
    connected,
    sessionId: out.text.match(/Got a new session id: (0x[0-9a-f]+)/)?.[1],
    steps,
    transcript: out.text,
    code: child.exitCode,
    signal: child.signalCode,
  };
}

// --- Reading answers -------------------------------------------------------------------------

/** The rc of the first answer in `output` (0 = ok), or undefined if there is none. */
export function cliMtRc(output: string): number | undefined {
  const m = output.match(/rc = (-?\d+)/);
  return m ? Number(m[1]) : undefined;
}

/** The children listed by `ls`/`ls2` (cli_mt prints one per line, tab-indented, after "rc = 0"). */
export function cliMtChildren(output: string): string[] {
  const m = output.match(/: rc = 0\n((?:\t.*\n)*)/);
  if (!m) return [];
  return m[1].split("\n").filter((l) => l.startsWith("\t")).map((l) => l.slice(1));
}

/** The data returned by `get`, or undefined (no answer, an error, or a node whose data is null). */
export function cliMtValue(output: string): string | undefined {
  const m = output.match(/\n value_len = (\d+)\n/);
  if (!m || m.index === undefined) return undefined;
  // value_len counts bytes; the data is printed raw and followed by "\nStat:".
  const rest = Buffer.from(output.slice(m.index + m[0].length), "utf8");
  return rest.subarray(0, Number(m[1])).toString("utf8");
}
