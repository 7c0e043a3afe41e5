/**
 * Rules that look at the ensemble as a whole, and at this server's place in
 * it. They mirror QuorumPeerConfig.parseDynamicConfig, setupClientPort and
 * setupPeerType in Apache ZooKeeper 3.8.
 */
import { ConfigError, invalidValue } from "./errors.ts";
import type { Ensemble } from "./ensemble.ts";
import { serverIdMax, serverIdMaxWithExtendedTypes, serverIdMin } from "./limits.ts";
import type { PropertyEntry } from "./properties.ts";
import type { PeerRole, ServerSpec } from "./types.ts";

/**
 * Checks the mix of participants and observers and says whether the server
 * must run as part of a quorum (Apache's isDistributed()).
 *
 * One participant and standaloneEnabled=true is not an error: Apache ignores
 * the single server line and runs standalone, because HBase writes such files.
 */
export function checkQuorumShape(
  ensemble: Ensemble,
  standaloneEnabled: boolean,
  standaloneEnabledEntry: PropertyEntry | undefined,
  source: string,
  warnings: string[],
): { distributed: boolean } {
  const participants = ensemble.servers.filter((server) => server.role === "participant");
  const firstObserver = ensemble.servers.find((server) => server.role === "observer");
  const blameObserver = (problem: string): never => {
    const entry = ensemble.serverLines.get(firstObserver!.id)!;
    throw invalidValue(source, entry.key, entry.value, problem, entry.line);
  };

  if (participants.length === 0) {
    if (!standaloneEnabled) {
      throw invalidValue(
        source,
        "standaloneEnabled",
        standaloneEnabledEntry?.value ?? "false",
        "with standaloneEnabled=false the file needs at least one participant server.N line",
        standaloneEnabledEntry?.line,
      );
    }
    if (firstObserver) blameObserver("observers need participants, but every server.N line is an observer");
    return { distributed: false };
  }

  if (participants.length === 1 && standaloneEnabled) {
    if (firstObserver) {
      blameObserver("an observer needs a quorum, but with one participant and standaloneEnabled=true the server runs standalone");
    }
    warnings.push(`${source}: only one server.N line; running standalone and ignoring it, as Apache does`);
    return { distributed: false };
  }

  if (participants.length <= 2) {
    warnings.push(`${source}: ${participants.length} participant(s): no server failure will be tolerated; you need at least 3 servers`);
  } else if (participants.length % 2 === 0) {
    warnings.push(`${source}: ${participants.length} participants: an odd number tolerates as many failures with one server less`);
  }
  return { distributed: true };
}

/** What knowing this server's id changes in the config. */
export interface MyIdOutcome {
  readonly myId: number;
  readonly peerType: PeerRole;
  readonly clientPort: number;
  readonly clientPortAddress: string;
}

export interface MyIdInputs {
  readonly myId: number;
  readonly ensemble: Ensemble;
  readonly distributed: boolean;
  readonly extendedTypesEnabled: boolean;
  readonly peerType: PeerRole;
  readonly clientPort: number;
  readonly clientPortAddress: string;
  /** The clientPort / clientPortAddress lines, when the file has them. */
  readonly clientPortEntry: PropertyEntry | undefined;
  readonly clientPortAddressEntry: PropertyEntry | undefined;
}

const wildcardAddresses: ReadonlySet<string> = new Set(["0.0.0.0", "::"]);

export function applyMyId(inputs: MyIdInputs, source: string, warnings: string[]): MyIdOutcome {
  const { myId, ensemble } = inputs;
  checkMyIdRange(myId, inputs.extendedTypesEnabled, source);

  const ownLine = ensemble.servers.find((server) => server.id === myId);
  if (!ownLine) {
    if (inputs.distributed) {
      const known = ensemble.servers.map((server) => server.id).join(", ");
      throw invalidValue(source, "myid", String(myId), `there is no server.${myId} line; myid must be one of the server ids (${known})`);
    }
    return { myId, peerType: inputs.peerType, clientPort: inputs.clientPort, clientPortAddress: inputs.clientPortAddress };
  }

  // setupPeerType: the server list decides, peerType only gets a warning.
  if (ownLine.role !== inputs.peerType) {
    warnings.push(`${source}: peerType=${inputs.peerType} but the server.${myId} line says ${ownLine.role}; using ${ownLine.role}, as Apache does`);
  }
  return { myId, peerType: ownLine.role, ...clientAddressFromServerLine(ownLine, inputs, source) };
}

function checkMyIdRange(myId: number, extendedTypesEnabled: boolean, source: string): void {
  const max = extendedTypesEnabled ? serverIdMaxWithExtendedTypes : serverIdMax;
  if (Number.isInteger(myId) && myId >= serverIdMin && myId <= max) return;
  const why = extendedTypesEnabled ? " (extendedTypesEnabled=true reserves 255 for TTL nodes)" : "";
  throw invalidValue(source, "myid", String(myId), `expected the server id, an integer from ${serverIdMin} to ${max}${why}`);
}

/**
 * setupClientPort: a `;[host:]port` part on this server's own line wins over
 * clientPort/clientPortAddress, and it is an error for the two to disagree.
 * A line with only a port keeps clientPortAddress (our loopback default,
 * where Apache would listen on all interfaces).
 */
function clientAddressFromServerLine(
  ownLine: ServerSpec,
  inputs: MyIdInputs,
  source: string,
): { clientPort: number; clientPortAddress: string } {
  if (ownLine.clientPort === undefined) {
    return { clientPort: inputs.clientPort, clientPortAddress: inputs.clientPortAddress };
  }
  const lineEntry = inputs.ensemble.serverLines.get(ownLine.id)!;
  const disagree = (what: string, entry: PropertyEntry): never => {
    throw new ConfigError(
      `${source}: ${lineEntry.key}="${lineEntry.value}" is not valid: its client ${what} differs from ` +
        `${entry.key}=${entry.value} on line ${entry.line}; remove one of them or make them agree`,
      lineEntry.key,
      lineEntry.value,
      lineEntry.line,
    );
  };
  if (inputs.clientPortEntry && inputs.clientPort !== ownLine.clientPort) disagree("port", inputs.clientPortEntry);
  if (
    ownLine.clientHost !== undefined &&
    inputs.clientPortAddressEntry &&
    !wildcardAddresses.has(inputs.clientPortAddress) &&
    inputs.clientPortAddress !== ownLine.clientHost
  ) {
    disagree("host", inputs.clientPortAddressEntry);
  }
  return { clientPort: ownLine.clientPort, clientPortAddress: ownLine.clientHost ?? inputs.clientPortAddress };
}
