// `npm run cluster` argument parsing (src/cluster/args.ts): pure, no processes.
import { describe, expect, it } from "vitest";
import { ClusterError, parseClusterArgs } from "../../src/cluster/index.ts";

describe("npm run cluster arguments", () => {
  it("with no arguments starts the default cluster in ./cluster-data", () => {
    expect(parseClusterArgs([])).toEqual({
      command: { kind: "start", id: undefined, flags: { servers: undefined, observers: undefined, basePort: undefined, apache: false } },
      dir: "./cluster-data",
      timeoutSeconds: undefined,
    });
  });

  it("reads the shape of a new cluster, in --flag value and --flag=value forms", () => {
    const { command, dir, timeoutSeconds } = parseClusterArgs(["--servers", "5", "--observers=2", "--apache", "--base-port", "12181", "--dir", "/tmp/c", "--timeout", "90"]);
    expect(command).toEqual({ kind: "start", id: undefined, flags: { servers: 5, observers: 2, basePort: 12181, apache: true } });
    expect(dir).toBe("/tmp/c");
    expect(timeoutSeconds).toBe(90);
  });

  it("parses the subcommands that act on one server or on all", () => {
    expect(parseClusterArgs(["kill", "2"]).command).toEqual({ kind: "kill", id: 2 });
    expect(parseClusterArgs(["restart", "3"]).command).toEqual({ kind: "restart", id: 3 });
    expect(parseClusterArgs(["stop", "2"]).command).toEqual({ kind: "stop", id: 2 });
    expect(parseClusterArgs(["stop"]).command).toEqual({ kind: "stop", id: undefined });
    expect(parseClusterArgs(["start", "1"]).command).toMatchObject({ kind: "start", id: 1 });
    expect(parseClusterArgs(["status", "--dir", "x"])).toMatchObject({ command: { kind: "status" }, dir: "x" });
    expect(parseClusterArgs(["clean"]).command).toEqual({ kind: "clean" });
    expect(parseClusterArgs(["--help"]).command).toEqual({ kind: "help" });
  });

  it.each([
    [["frobnicate"], /unknown subcommand "frobnicate": use one of start, status, kill, stop, restart, clean, help/],
    [["kill"], /kill needs a server id, e.g. `npm run cluster -- kill 2`/],
    [["restart", "two"], /restart: "two" is not a server id/],
    [["kill", "0"], /"0" is not a server id/],
    [["kill", "2", "3"], /kill: unexpected "3"/],
    [["--servers", "0"], /--servers must be from 1/],
    [["--servers", "three"], /--servers wants a whole number, got "three"/],
    [["--servers"], /--servers needs a value/],
    [["--observers", "-1"], /--observers needs a value|--observers wants a whole number/],
    [["--base-port", "70000"], /--base-port must be from 1 to 65535, got 70000/],
    [["--servers", "10", "--observers", "10"], /20 members; a local cluster has at most 15/],
    [["--verbose"], /unknown option --verbose/],
    [["status", "--servers", "5"], /--servers only applies to start .* not to status/],
    [["kill", "2", "--apache"], /--apache only applies to start/],
    [["start", "2", "--servers", "5"], /start 2 starts one server of an existing cluster/],
  ])("refuses %j with a message naming what is wrong", (argv, message) => {
    expect(() => parseClusterArgs(argv)).toThrow(ClusterError);
    expect(() => parseClusterArgs(argv)).toThrow(message);
  });
});
