/**
 * The shell's parser: one input line → one command, or the lines zkCli would print instead (usage, bad option).
 * Pure: no client, no I/O. Command names, flags and messages are Apache 3.8 zkCli's (`ZooKeeperMain`,
 * `cli/*Command.java`), checked against the real zkCli (see test/interop/shell.test.ts and test/shell/).
 *
 * Splitting a line follows `ZooKeeperMain.MyCommandOptions.parseCommand`: words separated by blanks; a word that
 * starts with " or ' runs to the matching quote and loses its quotes (`create /x "hello world"`).
 * Options follow Apache commons-cli, which zkCli uses: flags may come anywhere (`ls /a -w`), may be bundled
 * (`create -es /x`), an option's value is the next word or the rest of the bundle (`-v 3`, `-v3`), and any other
 * word starting with "-" is an error (`create /x -1` fails: quote nothing helps, as in zkCli).
 */
import type { ACL } from "../proto/index.ts";
import { perms } from "../proto/index.ts";
import type { CreateModeName } from "../proto/index.ts";
import { ttlMsMax, type WatchMode, type WatcherTypeName } from "../client/index.ts";

/** `deleteall` deletes this many nodes per multi unless `-b` says otherwise (DeleteAllCommand). */
export const deleteAllBatchSizeDefault = 1000;

export type Command =
  | {
      readonly name: "create";
      readonly path: string;
      /** null when no data was given: the node then has null data (`get` prints "null"), as with zkCli. */
      readonly data: string | null;
      /** null: the default, world:anyone:cdrwa. */
      readonly acl: readonly ACL[] | null;
      readonly mode: CreateModeName;
      readonly ttlMs: number | null;
    }
  | { readonly name: "ls"; readonly path: string; readonly watch: boolean; readonly stat: boolean; readonly recursive: boolean }
  | { readonly name: "ls2"; readonly path: string; readonly watch: boolean }
  | { readonly name: "get"; readonly path: string; readonly watch: boolean; readonly stat: boolean }
  | { readonly name: "set"; readonly path: string; readonly data: string; readonly version: number; readonly stat: boolean }
  | { readonly name: "delete"; readonly path: string; readonly version: number }
  | { readonly name: "deleteall"; readonly path: string; readonly batchSize: number }
  | { readonly name: "stat"; readonly path: string; readonly watch: boolean }
  | { readonly name: "sync"; readonly path: string }
  | { readonly name: "getAcl"; readonly path: string; readonly stat: boolean }
  | {
      readonly name: "setAcl";
      readonly path: string;
      readonly acl: readonly ACL[];
      readonly version: number;
      readonly stat: boolean;
      readonly recursive: boolean;
    }
  | { readonly name: "addauth"; readonly scheme: string; readonly auth: string }
  | { readonly name: "addWatch"; readonly path: string; readonly mode: WatchMode }
  | { readonly name: "removewatches"; readonly path: string; readonly watcherType: WatcherTypeName; readonly local: boolean }
  | { readonly name: "whoami" }
  | { readonly name: "getEphemerals"; readonly path: string }
  | { readonly name: "getAllChildrenNumber"; readonly path: string }
  | { readonly name: "connect"; readonly host: string | null }
  | { readonly name: "close" }
  | { readonly name: "history" }
  | { readonly name: "redo"; readonly index: number }
  | { readonly name: "printwatches"; readonly on: boolean | null }
  | { readonly name: "help" }
  | { readonly name: "quit" };

export type CommandName = Command["name"];

export type Parsed =
  | { readonly kind: "empty" }
  /** `notices`: what zkCli prints to stderr before running it (deprecated forms, ACL parser complaints). */
  | { readonly kind: "command"; readonly command: Command; readonly notices: readonly string[] }
  /** The command does not run; zkCli prints these lines to stderr. */
  | { readonly kind: "error"; readonly lines: readonly string[] };

/**
 * Each command's option string as zkCli's usage prints it (`CliCommand.getOptionStr`), in one table so that
 * `help`, the usage errors and Tab completion agree. `ls2` is zkCli 3.5–3.7's (3.8 dropped it).
 */
export const commandUsages: Readonly<Record<CommandName, string>> = {
  addWatch: "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
  addauth: "scheme auth",
  close: "",
  connect: "host:port",
  create: "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
  delete: "[-v version] path",
  deleteall: "path [-b batch size]",
  get: "[-s] [-w] path",
  getAcl: "[-s] path",
  getAllChildrenNumber: "path",
  getEphemerals: "path",
  help: "",
  history: "",
  ls: "[-s] [-w] [-R] path",
  ls2: "path [watch]",
  printwatches: "on|off",
  quit: "",
  redo: "cmdno",
  removewatches: "path [-c|-d|-a] [-l]",
  set: "[-s] [-v version] path data",
  setAcl: "[-s] [-v version] [-R] path acl",
  stat: "[-w] path",
  sync: "path",
  whoami: "",
};

/** Command names sorted as zkCli sorts them (Java String order: "addWatch" before "addauth"). */
export const commandNames: readonly CommandName[] = (Object.keys(commandUsages) as CommandName[]).sort();

export function usageOf(name: CommandName): string {
  return `${name} ${commandUsages[name]}`;
}

/** `ZooKeeperMain.usage()`, our commands. */
export function usageLines(): string[] {
  return ["ZooKeeper -server host:port cmd args", ...commandNames.map((name) => `\t${usageOf(name)}`)];
}

// ---------------------------------------------------------------------------------------------------------------
// Words

const wordPattern = /\s*([^"'\s]\S*|"[^"]*"|'[^']*')\s*/g;
const quotedPattern = /^(['"])(.*)\1$/s;

/** `MyCommandOptions.parseCommand`: the words of a line, quotes removed from quoted words. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(wordPattern)) {
    const word = match[1]!;
    const quoted = quotedPattern.exec(word);
    words.push(quoted ? quoted[2]! : word);
  }
  return words;
}

// ---------------------------------------------------------------------------------------------------------------
// Options (the part of commons-cli zkCli relies on)

interface OptionSpec {
  /** One-letter options without a value, e.g. "sw" for -s and -w. */
  readonly flags: string;
  /** One-letter options that take a value, e.g. "v". */
  readonly valued: string;
}

interface Options {
  /** The command and its non-option words (commons-cli `CommandLine.getArgs()`). */
  readonly args: string[];
  readonly flags: Set<string>;
  /** The first value given for each valued option (commons-cli `getOptionValue`). */
  readonly values: Map<string, string>;
}

class ParseError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join("\n"));
  }
}

function isOptionWord(word: string): boolean {
  return word.length > 1 && word.startsWith("-");
}

function parseOptions(words: readonly string[], spec: OptionSpec): Options {
  const args: string[] = [words[0]!];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") {
      args.push(...words.slice(i + 1));
      break;
    }
    if (!isOptionWord(word)) {
      args.push(word);
      continue;
    }
    // A bundle of one-letter options: -sw, -v3, -es
    for (let j = 1; j < word.length; j++) {
      const letter = word[j]!;
      if (spec.flags.includes(letter)) {
        flags.add(letter);
      } else if (spec.valued.includes(letter)) {
        let value: string | undefined = word.slice(j + 1);
        if (value === "") {
          const next = words[i + 1];
          value = next !== undefined && (!isOptionWord(next) || /^-\d+$/.test(next)) ? words[++i] : undefined;
        }
        if (value === undefined) {
          throw new ParseError([`org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${letter}`]);
        }
        if (!values.has(letter)) values.set(letter, value);
        break;
      } else {
        throw new ParseError([`org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ${word}`]);
      }
    }
  }
  return { args, flags, values };
}

function usageError(name: CommandName): never {
  throw new ParseError([usageOf(name)]);
}

/** Java's Integer.parseInt, or the message zkCli's deleteall uses (elsewhere zkCli dies with a stack trace). */
function toInt(text: string, letter: string): number {
  const value = Number(text);
  if (!/^[+-]?\d+$/.test(text) || value < -0x8000_0000 || value > 0x7fff_ffff) {
    throw new ParseError([`-${letter} argument must be an int value`]);
  }
  return value;
}

function intOption(options: Options, letter: string, fallback: number): number {
  const text = options.values.get(letter);
  return text === undefined ? fallback : toInt(text, letter);
}

// ---------------------------------------------------------------------------------------------------------------
// ACLs

/**
 * `AclParser.parse`: "scheme:id:perms[,scheme:id:perms...]". The id is what lies between the first and the last
 * colon, so digest ids ("digest:bob:hash=:rw") keep theirs. Bad entries are skipped with a complaint, unknown
 * permission letters likewise; the complaints come back as `notices`.
 */
export function parseAcl(text: string): { acl: ACL[]; notices: string[] } {
  const acl: ACL[] = [];
  const notices: string[] = [];
  for (const entry of text.split(",")) {
    const first = entry.indexOf(":");
    const last = entry.lastIndexOf(":");
    if (first === -1 || first === last) {
      notices.push(`${entry} does not have the form scheme:id:perm`);
      continue;
    }
    let bits = 0;
    for (const letter of entry.slice(last + 1)) {
      const bit = permLetters[letter];
      if (bit === undefined) notices.push(`Unknown perm type: ${letter}`);
      else bits |= bit;
    }
    acl.push({ perms: bits, id: { scheme: entry.slice(0, first), id: entry.slice(first + 1, last) } });
  }
  return { acl, notices };
}

const permLetters: Readonly<Record<string, number>> = {
  r: perms.read,
  w: perms.write,
  c: perms.create,
  d: perms.delete,
  a: perms.admin,
};

// ---------------------------------------------------------------------------------------------------------------
// Commands

type Builder = (words: readonly string[], notices: string[]) => Command;

/** The deprecated `cmd path watch` form: zkCli warns, then treats any third word as -w. */
function deprecatedWatch(options: Options, notices: string[], warning: string): boolean {
  if (options.args.length <= 2) return options.flags.has("w");
  notices.push(warning);
  return true;
}

const builders: Readonly<Record<CommandName, Builder>> = {
  create(words, notices) {
    const o = parseOptions(words, { flags: "esc", valued: "t" });
    if (o.args.length < 2) usageError("create");
    const e = o.flags.has("e");
    const s = o.flags.has("s");
    const c = o.flags.has("c");
    const t = o.values.has("t");
    if (c && (e || s)) {
      throw new ParseError(["-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."]);
    }
    let ttlMs: number | null = null;
    if (t) {
      const text = o.values.get("t")!;
      if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
        throw new ParseError(["-t argument must be a long value"]);
      }
      ttlMs = Number(text);
      if (e) throw new ParseError(["TTLs cannot be used with Ephemeral znodes"]);
      if (c) throw new ParseError(["TTLs cannot be used with Container znodes"]);
      if (ttlMs <= 0 || ttlMs > ttlMsMax) {
        throw new ParseError([`ttl must be positive and cannot be larger than: ${ttlMsMax}`]);
      }
    }
    const mode: CreateModeName =
      e && s ? "ephemeralSequential"
      : e ? "ephemeral"
      : s ? (t ? "persistentSequentialWithTtl" : "persistentSequential")
      : c ? "container"
      : t ? "persistentWithTtl"
      : "persistent";
    let acl: ACL[] | null = null;
    if (o.args.length > 3) {
      const parsed = parseAcl(o.args[3]!);
      notices.push(...parsed.notices);
      acl = parsed.acl;
    }
    return { name: "create", path: o.args[1]!, data: o.args[2] ?? null, acl, mode, ttlMs };
  },

  ls(words, notices) {
    const o = parseOptions(words, { flags: "swR", valued: "" });
    if (o.args.length < 2) usageError("ls");
    const watch = deprecatedWatch(o, notices, "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.");
    return { name: "ls", path: o.args[1]!, watch, stat: o.flags.has("s"), recursive: o.flags.has("R") };
  },

  ls2(words, notices) {
    const o = parseOptions(words, { flags: "", valued: "" });
    if (o.args.length < 2) usageError("ls2");
    notices.push("'ls2' has been deprecated. Please use 'ls [-s] path' instead.");
    return { name: "ls2", path: o.args[1]!, watch: o.args.length > 2 };
  },

  get(words, notices) {
    const o = parseOptions(words, { flags: "sw", valued: "" });
    if (o.args.length < 2) usageError("get");
    const watch = deprecatedWatch(o, notices, "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.");
    return { name: "get", path: o.args[1]!, watch, stat: o.flags.has("s") };
  },

  set(words) {
    const o = parseOptions(words, { flags: "s", valued: "v" });
    if (o.args.length < 3) usageError("set");
    return { name: "set", path: o.args[1]!, data: o.args[2]!, version: intOption(o, "v", -1), stat: o.flags.has("s") };
  },

  delete(words, notices) {
    const o = parseOptions(words, { flags: "", valued: "v" });
    if (o.args.length < 2) usageError("delete");
    let version = intOption(o, "v", -1);
    if (o.args.length > 2) {
      notices.push("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.");
      // zkCli 3.8 warns and then ignores the version (it deletes any version); we honour it, as zkCli 3.4 did.
      if (!o.values.has("v")) version = toInt(o.args[2]!, "v");
    }
    return { name: "delete", path: o.args[1]!, version };
  },

  deleteall(words) {
    const o = parseOptions(words, { flags: "", valued: "b" });
    if (o.args.length < 2) usageError("deleteall");
    return { name: "deleteall", path: o.args[1]!, batchSize: intOption(o, "b", deleteAllBatchSizeDefault) };
  },

  stat(words, notices) {
    const o = parseOptions(words, { flags: "w", valued: "" });
    if (o.args.length < 2) usageError("stat");
    const watch = deprecatedWatch(o, notices, "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.");
    return { name: "stat", path: o.args[1]!, watch };
  },

  sync(words) {
    const o = parseOptions(words, { flags: "", valued: "" });
    if (o.args.length < 2) usageError("sync");
    return { name: "sync", path: o.args[1]! };
  },

  getAcl(words) {
    const o = parseOptions(words, { flags: "s", valued: "" });
    if (o.args.length < 2) usageError("getAcl");
    return { name: "getAcl", path: o.args[1]!, stat: o.flags.has("s") };
  },

  setAcl(words, notices) {
    const o = parseOptions(words, { flags: "sR", valued: "v" });
    if (o.args.length < 3) usageError("setAcl");
    const parsed = parseAcl(o.args[2]!);
    notices.push(...parsed.notices);
    return {
      name: "setAcl",
      path: o.args[1]!,
      acl: parsed.acl,
      version: intOption(o, "v", -1),
      stat: o.flags.has("s"),
      recursive: o.flags.has("R"),
    };
  },

  addauth(words) {
    const o = parseOptions(words, { flags: "", valued: "" });
    if (o.args.length < 2) usageError("addauth");
    return { name: "addauth", scheme: o.args[1]!, auth: o.args[2] ?? "" };
  },

  addWatch(words) {
    const o = parseOptions(words, { flags: "", valued: "m" });
    if (o.args.length !== 2) usageError("addWatch");
    const modeText = (o.values.get("m") ?? "PERSISTENT_RECURSIVE").toUpperCase();
    const mode: WatchMode | undefined =
      modeText === "PERSISTENT" ? "persistent" : modeText === "PERSISTENT_RECURSIVE" ? "persistentRecursive" : undefined;
    if (mode === undefined) usageError("addWatch");
    return { name: "addWatch", path: o.args[1]!, mode };
  },

  removewatches(words) {
    const o = parseOptions(words, { flags: "cdal", valued: "" });
    if (o.args.length < 2) usageError("removewatches");
    const watcherType: WatcherTypeName = o.flags.has("c") ? "children" : o.flags.has("d") ? "data" : "any";
    return { name: "removewatches", path: o.args[1]!, watcherType, local: o.flags.has("l") };
  },

  whoami: () => ({ name: "whoami" }),

  getEphemerals(words) {
    const o = parseOptions(words, { flags: "", valued: "" });
    return { name: "getEphemerals", path: o.args[1] ?? "/" };
  },

  getAllChildrenNumber(words) {
    const o = parseOptions(words, { flags: "", valued: "" });
    if (o.args.length < 2) usageError("getAllChildrenNumber");
    return { name: "getAllChildrenNumber", path: o.args[1]! };
  },

  connect: (words) => ({ name: "connect", host: words[1] ?? null }),
  close: () => ({ name: "close" }),
  history: () => ({ name: "history" }),

  redo(words) {
    const text = words[1];
    if (text === undefined || !/^\d+$/.test(text)) usageError("redo");
    return { name: "redo", index: Number(text) };
  },

  printwatches: (words) => ({ name: "printwatches", on: words[1] === undefined ? null : words[1] === "on" }),
  help: () => ({ name: "help" }),
  quit: () => ({ name: "quit" }),
};

function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(commandUsages, word);
}

/** One line of input → what to do. */
export function parseLine(line: string): Parsed {
  const words = splitWords(line);
  if (words.length === 0) return { kind: "empty" };
  const name = words[0]!;
  if (!isCommandName(name)) {
    // zkCli prints its whole usage, then this (the doubled wording is zkCli's own).
    return { kind: "error", lines: [...usageLines(), `Command not found: Command not found ${name}`] };
  }
  const notices: string[] = [];
  try {
    const command = builders[name](words, notices);
    return { kind: "command", command, notices };
  } catch (error) {
    if (error instanceof ParseError) return { kind: "error", lines: [...notices, ...error.lines] };
    throw error;
  }
}
