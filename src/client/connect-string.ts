/**
 * The connect string: "host1:2181,host2:2181,[::1]:2182/chroot" (Apache `ConnectStringParser`), and the host order
 * (Apache `StaticHostProvider` shuffles the list once so that clients spread over the ensemble).
 */
import { seededRandom as seededPrng } from "../sim/random.ts";
import { Chroot } from "./paths.ts";

export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

export interface ConnectString {
  readonly hosts: readonly HostAddress[];
  readonly chroot: Chroot;
}

/** ZooKeeper's usual client port, used when a host has none. */
export const clientPortDefault = 2181;

export function parseConnectString(text: string): ConnectString {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const hostPart = slash === -1 ? trimmed : trimmed.slice(0, slash);
  let chrootPath = slash === -1 ? "" : trimmed.slice(slash);
  // "h:2181/" means no chroot, as in Apache.
  if (chrootPath === "/") chrootPath = "";
  const hosts = hostPart
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseHost);
  if (hosts.length === 0) throw new Error(`connect string "${text}" names no host`);
  return { hosts, chroot: new Chroot(chrootPath) };
}

function parseHost(text: string): HostAddress {
  // IPv6 literal: [::1]:2181
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) throw new Error(`unterminated IPv6 address in "${text}"`);
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    return { host, port: rest.startsWith(":") ? parsePort(rest.slice(1), text) : clientPortDefault };
  }
  const colon = text.lastIndexOf(":");
  if (colon === -1) return { host: text, port: clientPortDefault };
  return { host: text.slice(0, colon), port: parsePort(text.slice(colon + 1), text) };
}

function parsePort(text: string, host: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`bad port in "${host}"`);
  return port;
}

/** Fisher–Yates with an injectable random source in [0, 1), so a test or the simulator can fix the order. */
export function shuffleHosts<T>(hosts: readonly T[], random: () => number): T[] {
  const result = [...hosts];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** A seeded random source in [0, 1) for reproducible shuffles and jitter (the simulator's PRNG). */
export function seededRandom(seed: number): () => number {
  return seededPrng(seed).next;
}
