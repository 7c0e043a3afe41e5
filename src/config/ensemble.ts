/**
 * The ensemble part of zoo.cfg: server.N, weight.N and group.G lines.
 *
 *   server.1=zk1:2888:3888
 *   server.4=zk4:2888:3888:observer;2181
 *   group.1=1:2:3          (optional: hierarchical quorums)
 *   weight.1=2
 *
 * Format and rules mirror Apache's QuorumPeer.QuorumServer (one server line)
 * and QuorumHierarchical (groups and weights). zkbook refuses a few things
 * Apache lets through and then trips over later: repeated ids (Apache keeps
 * the last line), addresses used twice, and group members that have no
 * server line.
 */
import { isIPv6 } from "node:net";
import { invalidValue } from "./errors.ts";
import { serverIdMax, serverIdMin, serverWeightDefault } from "./limits.ts";
import type { PropertyEntry } from "./properties.ts";
import type { PeerRole, QuorumGroup, ServerSpec, ServerWeight } from "./types.ts";
import { host, integerBetween, nonNegativeInteger, port, positiveInteger, type ValueSchema } from "./values.ts";

export interface Ensemble {
  readonly servers: ServerSpec[];
  readonly quorumGroups: QuorumGroup[];
  readonly serverWeights: ServerWeight[];
  /** Where each server was declared, to point error messages at it. */
  readonly serverLines: ReadonlyMap<number, PropertyEntry>;
}

export const serverLineFormat = "host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]";

const serverId: ValueSchema<number> = integerBetween(
  serverIdMin,
  serverIdMax,
  `expected a server id, an integer from ${serverIdMin} to ${serverIdMax}`,
);

/** Throws the ConfigError for one line; `never` lets callers write `?? fail(...)`. */
type Fail = (problem: string) => never;

function failFor(source: string, entry: PropertyEntry): Fail {
  return (problem) => {
    throw invalidValue(source, entry.key, entry.value, problem, entry.line);
  };
}

/** The number after "server.", "weight." or "group.". */
function keySuffixNumber(entry: PropertyEntry, prefix: string, schema: ValueSchema<number>, fail: Fail): number {
  const result = schema.safeParse(entry.key.slice(prefix.length));
  return result.success ? result.data : fail(`the number after "${prefix}" is wrong: ${result.error.issues[0]?.message}`);
}

export function parseEnsemble(entries: readonly PropertyEntry[], source: string): Ensemble {
  const serverEntries = entries.filter((entry) => entry.key.startsWith("server."));
  const weightEntries = entries.filter((entry) => entry.key.startsWith("weight."));
  const groupEntries = entries.filter((entry) => entry.key.startsWith("group."));

  const serverLines = new Map<number, PropertyEntry>();
  const servers: ServerSpec[] = [];
  for (const entry of serverEntries) {
    const fail: Fail = failFor(source, entry);
    const id = keySuffixNumber(entry, "server.", serverId, fail);
    const earlier = serverLines.get(id);
    if (earlier) fail(`server id ${id} is already used on line ${earlier.line} (each server.N id must be unique)`);
    serverLines.set(id, entry);
    servers.push({ id, ...parseServerAddress(entry.value, fail) });
  }
  servers.sort((a, b) => a.id - b.id);
  checkAddressesAreUnique(servers, serverLines, source);

  const hierarchicalLines = [...weightEntries, ...groupEntries];
  if (hierarchicalLines.length > 0 && servers.length === 0) {
    failFor(source, hierarchicalLines[0])("weight.N and group.G lines need server.N lines to refer to");
  }

  const quorumGroups = parseGroups(groupEntries, serverLines, source);
  const explicitWeights = parseWeights(weightEntries, serverLines, source);
  const isHierarchical = hierarchicalLines.length > 0;
  if (isHierarchical) checkEveryParticipantIsInAGroup(servers, quorumGroups, serverLines, source);

  return {
    servers,
    quorumGroups,
    serverWeights: isHierarchical ? withDefaultWeights(servers, explicitWeights) : [],
    serverLines,
  };
}

/**
 * `host:quorumPort:electionPort[:role][;[clientHost:]clientPort]`.
 * An IPv6 host must be in brackets: `[::1]:2888:3888`.
 */
function parseServerAddress(value: string, fail: Fail): Omit<ServerSpec, "id"> {
  const expected = `expected ${serverLineFormat}`;
  if (value.includes("|")) {
    fail(`several addresses for one server ("a|b", Apache's multiAddress) are not supported; ${expected}`);
  }
  const [serverPart, clientPart, ...extra] = value.split(";");
  if (extra.length > 0) fail(`too many ';'; ${expected}`);

  const serverFields = splitHostAndRest(serverPart, fail);
  if (serverFields.length < 3 || serverFields.length > 4) fail(expected);
  const [hostText, quorumPortText, electionPortText, roleText] = serverFields;

  const spec: Omit<ServerSpec, "id"> = {
    host: checkField(host, hostText, "host", fail),
    quorumPort: checkField(port, quorumPortText, "quorumPort", fail),
    electionPort: checkField(port, electionPortText, "electionPort", fail),
    role: roleText === undefined ? "participant" : parseRole(roleText, fail),
  };

  // Apache's String.split drops an empty part after ';', so "h:1:2;" is fine.
  if (clientPart === undefined || clientPart.trim() === "") return spec;
  const clientFields = splitHostAndRest(clientPart, fail);
  if (clientFields.length === 1) {
    return { ...spec, clientPort: checkField(port, clientFields[0], "clientPort", fail) };
  }
  if (clientFields.length === 2) {
    return {
      ...spec,
      clientHost: checkField(host, clientFields[0], "clientHost", fail),
      clientPort: checkField(port, clientFields[1], "clientPort", fail),
    };
  }
  return fail(`the client part after ';' must be clientPort or clientHost:clientPort; ${expected}`);
}

/** Splits on ':', keeping a bracketed IPv6 host ("[::1]:2888") in one piece. */
function splitHostAndRest(text: string, fail: Fail): string[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith("[")) {
    const fields = trimmed.split(":").map((field) => field.trim());
    if (fields.length > 4 && isIPv6(fields.slice(0, -2).join(":"))) {
      fail(`write an IPv6 host in brackets, like [::1]:2888:3888`);
    }
    return fields;
  }
  const close = trimmed.indexOf("]:");
  if (close < 0) fail(`"${trimmed}" starts with '[' but has no matching ']:'`);
  return [trimmed.slice(1, close), ...trimmed.slice(close + 2).split(":").map((field) => field.trim())];
}

function checkField<T>(schema: ValueSchema<T>, text: string, name: string, fail: Fail): T {
  const result = schema.safeParse(text);
  if (result.success) return result.data;
  return fail(`${name} "${text}": ${result.error.issues[0]?.message}; the form is ${serverLineFormat}`);
}

function parseRole(text: string, fail: Fail): PeerRole {
  const role = text.trim().toLowerCase();
  if (role === "participant" || role === "observer") return role;
  return fail(`the 4th field "${text}" must be participant or observer; the form is ${serverLineFormat}`);
}

/**
 * Two servers cannot listen on the same host:port, and one server needs two
 * different ports. Apache's checkAddressDuplicate catches the first case
 * when the quorum starts; we catch both while reading the file.
 */
function checkAddressesAreUnique(
  servers: readonly ServerSpec[],
  serverLines: ReadonlyMap<number, PropertyEntry>,
  source: string,
): void {
  const owners = new Map<string, number>();
  for (const server of servers) {
    const fail: Fail = failFor(source, serverLines.get(server.id)!);
    if (server.quorumPort === server.electionPort) {
      fail(`quorumPort and electionPort are both ${server.quorumPort}; they must be two different ports`);
    }
    for (const portNumber of [server.quorumPort, server.electionPort]) {
      const address = `${server.host.toLowerCase()}:${portNumber}`;
      const owner = owners.get(address);
      if (owner !== undefined) {
        const ownerLine = serverLines.get(owner)!.line;
        fail(`address ${address} is already used by server.${owner} on line ${ownerLine} (every quorum and election address must be unique)`);
      }
      owners.set(address, server.id);
    }
  }
}

function checkServerExists(id: number, serverLines: ReadonlyMap<number, PropertyEntry>, fail: Fail): void {
  if (!serverLines.has(id)) {
    const known = [...serverLines.keys()].sort((a, b) => a - b).join(", ");
    fail(`there is no server.${id} line (servers in this file: ${known})`);
  }
}

/** group.G=1:2:3 — QuorumHierarchical: a server belongs to at most one group. */
function parseGroups(
  groupEntries: readonly PropertyEntry[],
  serverLines: ReadonlyMap<number, PropertyEntry>,
  source: string,
): QuorumGroup[] {
  const groupOfServer = new Map<number, string>();
  const groupIds = new Set<number>();
  const groups: QuorumGroup[] = [];
  for (const entry of groupEntries) {
    const fail: Fail = failFor(source, entry);
    const groupId = keySuffixNumber(entry, "group.", positiveInteger(), fail);
    if (groupIds.has(groupId)) fail(`group ${groupId} is defined twice`);
    groupIds.add(groupId);

    const memberIds = entry.value.split(":").map((text) => {
      const result = serverId.safeParse(text.trim());
      return result.success
        ? result.data
        : fail(`"${text}" is not a server id; expected server ids separated by ':', like 1:2:3`);
    });
    for (const id of memberIds) {
      checkServerExists(id, serverLines, fail);
      const otherGroup = groupOfServer.get(id);
      if (otherGroup) fail(`server ${id} is already in ${otherGroup} (a server can be in only one group)`);
      groupOfServer.set(id, entry.key);
    }
    groups.push({ groupId, serverIds: memberIds });
  }
  return groups.sort((a, b) => a.groupId - b.groupId);
}

/** weight.N=w — how much server N's vote counts inside its group; 0 is allowed. */
function parseWeights(
  weightEntries: readonly PropertyEntry[],
  serverLines: ReadonlyMap<number, PropertyEntry>,
  source: string,
): Map<number, number> {
  const weights = new Map<number, number>();
  const weightLines = new Map<number, number>();
  for (const entry of weightEntries) {
    const fail: Fail = failFor(source, entry);
    const id = keySuffixNumber(entry, "weight.", serverId, fail);
    checkServerExists(id, serverLines, fail);
    const earlierLine = weightLines.get(id);
    if (earlierLine !== undefined) fail(`the weight of server ${id} is already set on line ${earlierLine}`);
    const weight = nonNegativeInteger().safeParse(entry.value);
    if (!weight.success) fail(weight.error.issues[0]?.message ?? "expected an integer 0 or more");
    weights.set(id, weight.data);
    weightLines.set(id, entry.line);
  }
  return weights;
}

/** QuorumHierarchical refuses a participant that is in no group ("Server N is not in a group"). */
function checkEveryParticipantIsInAGroup(
  servers: readonly ServerSpec[],
  groups: readonly QuorumGroup[],
  serverLines: ReadonlyMap<number, PropertyEntry>,
  source: string,
): void {
  const grouped = new Set(groups.flatMap((group) => group.serverIds));
  for (const server of servers) {
    if (server.role === "participant" && !grouped.has(server.id)) {
      failFor(source, serverLines.get(server.id)!)(
        `server ${server.id} is a participant but is in no group.G line (once weights or groups are used, every participant must be in a group)`,
      );
    }
  }
}

/** QuorumHierarchical gives weight 1 to every participant without a weight.N line. */
function withDefaultWeights(servers: readonly ServerSpec[], explicit: ReadonlyMap<number, number>): ServerWeight[] {
  return servers
    .filter((server) => explicit.has(server.id) || server.role === "participant")
    .map((server) => ({ serverId: server.id, weight: explicit.get(server.id) ?? serverWeightDefault }));
}
