// The shell's parser as a pure unit: line → command, or the lines zkCli prints instead. Expectations are what
// Apache 3.8.0's zkCli does with the same line (ZooKeeperMain.parseCommand, cli/*Command.java, commons-cli),
// checked by running it; the few places where we differ on purpose say so.
import { describe, expect, it } from "vitest";
import { commandNames, parseAcl, parseLine, splitWords, usageLines, type Command } from "../../src/shell/parser.ts";

function command(line: string): Command {
  const parsed = parseLine(line);
  if (parsed.kind !== "command") throw new Error(`${line}: ${JSON.stringify(parsed)}`);
  return parsed.command;
}

function notices(line: string): readonly string[] {
  const parsed = parseLine(line);
  if (parsed.kind !== "command") throw new Error(`${line}: ${JSON.stringify(parsed)}`);
  return parsed.notices;
}

function errorLines(line: string): readonly string[] {
  const parsed = parseLine(line);
  if (parsed.kind !== "error") throw new Error(`${line}: expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.lines;
}

describe("splitWords (ZooKeeperMain.MyCommandOptions.parseCommand)", () => {
  it("splits on blanks and removes the quotes of quoted words", () => {
    expect(splitWords(`create -e /master "master1.example.com:2223"`)).toEqual(["create", "-e", "/master", "master1.example.com:2223"]);
    expect(splitWords(`create /a/b "hello world"`)).toEqual(["create", "/a/b", "hello world"]);
    expect(splitWords(`create /a/c 'single quoted'`)).toEqual(["create", "/a/c", "single quoted"]);
    expect(splitWords("  ls   /  ")).toEqual(["ls", "/"]);
  });

  it('keeps "" as an empty word (create /workers "")', () => {
    expect(splitWords(`create /workers ""`)).toEqual(["create", "/workers", ""]);
  });

  it("keeps quotes inside an unquoted word, and splits a quoted word from what follows it", () => {
    expect(splitWords(`set /x a"b`)).toEqual(["set", "/x", 'a"b']);
    expect(splitWords(`set /x "ab"cd`)).toEqual(["set", "/x", "ab", "cd"]);
  });

  it("drops an unmatched quote, as zkCli's pattern does", () => {
    expect(splitWords(`set /x "abc`)).toEqual(["set", "/x", "abc"]);
  });

  it("finds no words in a blank line", () => {
    expect(splitWords("")).toEqual([]);
    expect(parseLine("   ")).toEqual({ kind: "empty" });
  });
});

describe("create", () => {
  it("parses the four znode types of the book, data and ACL", () => {
    expect(command("create /a")).toEqual({ name: "create", path: "/a", data: null, acl: null, mode: "persistent", ttlMs: null });
    expect(command(`create /a ""`)).toMatchObject({ data: "" });
    expect(command("create -e /a x")).toMatchObject({ mode: "ephemeral", data: "x" });
    expect(command("create -s /a x")).toMatchObject({ mode: "persistentSequential" });
    expect(command("create -e -s /a x")).toMatchObject({ mode: "ephemeralSequential" });
    expect(command("create -es /a x")).toMatchObject({ mode: "ephemeralSequential" });
    expect(command("create /a x -s")).toMatchObject({ mode: "persistentSequential", path: "/a", data: "x" });
    expect(command("create -c /a")).toMatchObject({ mode: "container" });
    expect(command("create -t 1000 /a")).toMatchObject({ mode: "persistentWithTtl", ttlMs: 1000 });
    expect(command("create -s -t 1000 /a")).toMatchObject({ mode: "persistentSequentialWithTtl", ttlMs: 1000 });
    expect(command("create /a x world:anyone:r")).toMatchObject({ acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }] });
  });

  it("rejects what CreateCommand rejects, with its words", () => {
    expect(errorLines("create")).toEqual(["create [-s] [-e] [-c] [-t ttl] path [data] [acl]"]);
    expect(errorLines("create -c -e /a")).toEqual([
      "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
    ]);
    expect(errorLines("create -t abc /a")).toEqual(["-t argument must be a long value"]);
    expect(errorLines("create -e -t 1000 /a")).toEqual(["TTLs cannot be used with Ephemeral znodes"]);
    expect(errorLines("create -t 1000 -c /a")).toEqual(["TTLs cannot be used with Container znodes"]);
    expect(errorLines("create -t 0 /a")).toEqual(["ttl must be positive and cannot be larger than: 1099511627775"]);
    expect(errorLines("create -t 99999999999999 /a")).toEqual(["ttl must be positive and cannot be larger than: 1099511627775"]);
  });

  it("treats any other word starting with - as an unknown option, even a negative number (commons-cli)", () => {
    expect(errorLines("create /neg -1")).toEqual(["org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -1"]);
    expect(errorLines("create /w/q1 --x")).toEqual(["org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --x"]);
    expect(errorLines("ls -z /")).toEqual(["org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -z"]);
  });

  it("passes ACL parser complaints on as notices and skips the bad entries (AclParser)", () => {
    const parsed = parseLine("create /a data foo:bar,world:anyone:rxa");
    expect(parsed).toMatchObject({
      kind: "command",
      command: { acl: [{ perms: 1 | 16, id: { scheme: "world", id: "anyone" } }] },
      notices: ["foo:bar does not have the form scheme:id:perm", "Unknown perm type: x"],
    });
  });
});

describe("parseAcl (AclParser)", () => {
  it("takes the id between the first and the last colon, so digest ids keep theirs", () => {
    expect(parseAcl("digest:bob:abc=:rw,ip:127.0.0.1:cdrwa")).toEqual({
      acl: [
        { perms: 1 | 2, id: { scheme: "digest", id: "bob:abc=" } },
        { perms: 31, id: { scheme: "ip", id: "127.0.0.1" } },
      ],
      notices: [],
    });
  });

  it("gives an empty list when nothing is valid (the caller then reports an invalid ACL)", () => {
    expect(parseAcl("nope")).toEqual({ acl: [], notices: ["nope does not have the form scheme:id:perm"] });
  });
});

describe("ls, get, stat: flags, and the deprecated `cmd path watch` form", () => {
  it("parses flags anywhere and in bundles", () => {
    expect(command("ls /")).toEqual({ name: "ls", path: "/", watch: false, stat: false, recursive: false });
    expect(command("ls -w -s -R /a")).toEqual({ name: "ls", path: "/a", watch: true, stat: true, recursive: true });
    expect(command("ls /a -s")).toMatchObject({ stat: true, watch: false });
    expect(command("get -sw /a")).toEqual({ name: "get", path: "/a", watch: true, stat: true });
    expect(command("stat -w /a")).toEqual({ name: "stat", path: "/a", watch: true });
  });

  it("accepts `ls /workers true` (the book's form) with zkCli's deprecation notice, as a watch", () => {
    expect(command("ls /workers true")).toMatchObject({ path: "/workers", watch: true });
    expect(notices("ls /workers true")).toEqual(["'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead."]);
    expect(notices("get /a true")).toEqual(["'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead."]);
    expect(notices("stat /a true")).toEqual(["'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead."]);
    // any third word counts, as in zkCli
    expect(command("ls /a false")).toMatchObject({ watch: true });
  });

  it("supports ls2 (zkCli 3.5–3.7; 3.8 dropped it) with its deprecation notice", () => {
    expect(command("ls2 /a")).toEqual({ name: "ls2", path: "/a", watch: false });
    expect(command("ls2 /a true")).toEqual({ name: "ls2", path: "/a", watch: true });
    expect(notices("ls2 /a")).toEqual(["'ls2' has been deprecated. Please use 'ls [-s] path' instead."]);
  });

  it("prints the usage line when the path is missing", () => {
    expect(errorLines("ls")).toEqual(["ls [-s] [-w] [-R] path"]);
    expect(errorLines("get")).toEqual(["get [-s] [-w] path"]);
    expect(errorLines("stat")).toEqual(["stat [-w] path"]);
  });
});

describe("set, delete, deleteall: versions", () => {
  it("parses -v in both spellings, -1 when absent", () => {
    expect(command("set /a x")).toEqual({ name: "set", path: "/a", data: "x", version: -1, stat: false });
    expect(command("set -s -v 3 /a x")).toEqual({ name: "set", path: "/a", data: "x", version: 3, stat: true });
    expect(command("set -v3 /a x")).toMatchObject({ version: 3 });
    expect(command("delete -v 7 /a")).toEqual({ name: "delete", path: "/a", version: 7 });
    expect(command("delete -v -1 /a")).toEqual({ name: "delete", path: "/a", version: -1 });
    expect(command("deleteall /a")).toEqual({ name: "deleteall", path: "/a", batchSize: 1000 });
    expect(command("deleteall /a -b 2")).toEqual({ name: "deleteall", path: "/a", batchSize: 2 });
  });

  it("honours the version of the deprecated `delete path version` (zkCli 3.8 warns, then ignores it)", () => {
    expect(command("delete /a 3")).toEqual({ name: "delete", path: "/a", version: 3 });
    expect(notices("delete /a 3")).toEqual([
      "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.",
    ]);
  });

  it("reports a missing or bad value instead of dying like zkCli's NumberFormatException", () => {
    expect(errorLines("delete -v")).toEqual(["org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"]);
    expect(errorLines("set -v abc /a x")).toEqual(["-v argument must be an int value"]);
    expect(errorLines("deleteall /a -b x")).toEqual(["-b argument must be an int value"]);
  });

  it("prints usage lines for missing arguments", () => {
    expect(errorLines("set /a")).toEqual(["set [-s] [-v version] path data"]);
    expect(errorLines("delete")).toEqual(["delete [-v version] path"]);
    expect(errorLines("deleteall")).toEqual(["deleteall path [-b batch size]"]);
  });
});

describe("ACL, auth and watch commands", () => {
  it("getAcl and setAcl", () => {
    expect(command("getAcl -s /a")).toEqual({ name: "getAcl", path: "/a", stat: true });
    expect(command("setAcl -R -v 2 /a world:anyone:r")).toEqual({
      name: "setAcl",
      path: "/a",
      acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }],
      version: 2,
      stat: false,
      recursive: true,
    });
    expect(errorLines("setAcl /a")).toEqual(["setAcl [-s] [-v version] [-R] path acl"]);
  });

  it("addauth with and without the auth part", () => {
    expect(command("addauth digest user:pass")).toEqual({ name: "addauth", scheme: "digest", auth: "user:pass" });
    expect(command("addauth digest")).toEqual({ name: "addauth", scheme: "digest", auth: "" });
    expect(errorLines("addauth")).toEqual(["addauth scheme auth"]);
  });

  it("addWatch: PERSISTENT_RECURSIVE by default, the mode in any case, exactly one path", () => {
    expect(command("addWatch /a")).toEqual({ name: "addWatch", path: "/a", mode: "persistentRecursive" });
    expect(command("addWatch -m persistent /a")).toEqual({ name: "addWatch", path: "/a", mode: "persistent" });
    const usage = [
      "addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
    ];
    expect(errorLines("addWatch -m bogus /a")).toEqual(usage);
    expect(errorLines("addWatch")).toEqual(usage);
    expect(errorLines("addWatch /a /b")).toEqual(usage);
  });

  it("removewatches: any by default, -c children, -d data", () => {
    expect(command("removewatches /a")).toEqual({ name: "removewatches", path: "/a", watcherType: "any", local: false });
    expect(command("removewatches /a -c")).toMatchObject({ watcherType: "children" });
    expect(command("removewatches /a -d -l")).toMatchObject({ watcherType: "data", local: true });
    expect(errorLines("removewatches")).toEqual(["removewatches path [-c|-d|-a] [-l]"]);
  });

  it("getEphemerals defaults to /; getAllChildrenNumber needs a path; sync too", () => {
    expect(command("getEphemerals")).toEqual({ name: "getEphemerals", path: "/" });
    expect(command("getEphemerals /workers")).toEqual({ name: "getEphemerals", path: "/workers" });
    expect(errorLines("getAllChildrenNumber")).toEqual(["getAllChildrenNumber path"]);
    expect(errorLines("sync")).toEqual(["sync path"]);
  });
});

describe("shell commands", () => {
  it("parses the commands ZooKeeperMain handles itself", () => {
    expect(command("connect 127.0.0.1:2182")).toEqual({ name: "connect", host: "127.0.0.1:2182" });
    expect(command("connect")).toEqual({ name: "connect", host: null });
    expect(command("redo 3")).toEqual({ name: "redo", index: 3 });
    expect(errorLines("redo")).toEqual(["redo cmdno"]);
    expect(command("printwatches")).toEqual({ name: "printwatches", on: null });
    expect(command("printwatches on")).toEqual({ name: "printwatches", on: true });
    // zkCli: anything but "on" turns printing off
    expect(command("printwatches maybe")).toEqual({ name: "printwatches", on: false });
    for (const name of ["close", "history", "help", "quit", "whoami"] as const) expect(command(name)).toEqual({ name });
  });

  it("answers an unknown command with the whole usage and zkCli's (doubled) words", () => {
    const lines = errorLines("setData /tasks/task-0000000000/status done");
    expect(lines[0]).toBe("ZooKeeper -server host:port cmd args");
    expect(lines.at(-1)).toBe("Command not found: Command not found setData");
    expect(lines.slice(0, -1)).toEqual(usageLines());
  });

  it("lists the commands in Java's sort order, zkCli's usage format (trailing blank for no options)", () => {
    expect(commandNames.slice(0, 2)).toEqual(["addWatch", "addauth"]);
    expect(usageLines()).toContain("\tclose ");
    expect(usageLines()).toContain("\tls [-s] [-w] [-R] path");
  });
});
