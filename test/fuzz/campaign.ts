/**
 * A fuzz campaign against a live server: many TCP connections, each opening with a (mostly) valid handshake and then
 * a burst of requests of which a share are mutated at the byte level; a final probe tells whether the connection
 * survived or was closed by the server (see runConnection for connections the server is still reading).
 *
 * Each connection's bytes depend only on (seed, connection index), so a seed replays the same packets whatever the
 * scheduling; the server's interleaving of connections is not replayed exactly.
 */
import net from "node:net";
import { JuteWriter, RequestHeader, PathWatchRequest, opCodes } from "../../src/proto/index.ts";
import { Prng } from "./prng.ts";
import { hardMutationWeights, mutate, mutationKinds, softMutationWeights, validConnect, validRequest, type MutationKind } from "./packets.ts";

export interface CampaignOptions {
  readonly seed: number;
  readonly port: number;
  /** Stop once this many mutated packets have been sent. */
  readonly mutatedPackets: number;
  /** Connections open at once. */
  readonly concurrency: number;
  /** The server's jute.maxbuffer: the flush must be longer than any frame it could be waiting for. */
  readonly maxFrameBytes: number;
  /** When to send the flush to a connection that has shown no outcome yet. */
  readonly flushAfterMs?: number;
  /** A connection with no outcome this long after the flush is hung: a server bug. */
  readonly hangMs?: number;
  /** The server's last zxid, for handshakes that claim to have seen it. */
  readonly lastZxid?: () => bigint;
}

export interface CampaignStats {
  seed: number;
  connections: number;
  packetsSent: number;
  mutatedPackets: number;
  bytesSent: number;
  mutations: Record<MutationKind, number>;
  openings: Record<Opening, number>;
  /** The probe at the end was answered: the connection was still in sync. */
  survived: number;
  /** The server closed the connection before the probe was answered. */
  closedByServer: number;
  /** Neither, even after the flush: the server sat on an open connection. Must be 0. */
  hung: number;
  bytesReceived: number;
  elapsedMs: number;
}

type Opening = "handshake" | "mutatedHandshake" | "fourLetterWord" | "requestsFirst" | "randomBytes";

const probeXid = 0x7eadbeef;

function probeFrame(): Buffer {
  const w = new JuteWriter();
  RequestHeader.write(w, { xid: probeXid, type: opCodes.exists });
  PathWatchRequest.write(w, { path: "/", watch: false });
  return w.toFrame();
}

const openingWeights: Readonly<Record<Opening, number>> = { handshake: 85, mutatedHandshake: 6, fourLetterWord: 2, requestsFirst: 4, randomBytes: 3 };
const allMutationWeights = { ...softMutationWeights, ...hardMutationWeights };

/** The seed of connection `index`: independent of the order connections run in. */
function connectionSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

interface Script {
  readonly bytes: Buffer;
  readonly packets: number;
  readonly mutated: number;
  readonly opening: Opening;
  readonly kinds: MutationKind[];
}

/**
 * The bytes one connection sends, from its own PRNG: an opening (mostly a valid handshake), a burst of requests of
 * which a share get soft mutations (values inside well-framed packets), at most one hard mutation at the end
 * (broken framing or record: it usually ends the connection, so nothing after it would be read), then the probe.
 */
export function connectionScript(seed: number, index: number, lastZxid: bigint): Script {
  const rng = new Prng(connectionSeed(seed, index));
  const frames: Buffer[] = [];
  const kinds: MutationKind[] = [];
  let xid = 1;
  const request = () => validRequest(rng, xid++);
  const opening = rng.weighted(openingWeights);
  switch (opening) {
    case "handshake":
      frames.push(validConnect(rng, lastZxid).frame);
      break;
    case "mutatedHandshake": {
      const m = mutate(rng, validConnect(rng, lastZxid), request, rng.weighted(allMutationWeights), 0);
      frames.push(m.frame);
      kinds.push(m.kind);
      break;
    }
    case "fourLetterWord":
      frames.push(Buffer.from(rng.pick(["ruok", "srvr", "stat", "cons", "wchs", "wchc", "wchp", "dump", "conf", "envi", "mntr", "isro", "xxxx"])));
      break;
    case "requestsFirst":
      break;
    case "randomBytes":
      frames.push(rng.bytes(rng.range(1, 80)));
      kinds.push("randomBytes");
      break;
  }
  // How hostile this connection is: the share of its requests that get a soft mutation.
  const rate = rng.pick([0.8, 1, 1, 1]);
  const burst = rng.range(1, 150);
  for (let i = 0; i < burst; i++) {
    const packet = request();
    if (rng.chance(rate)) {
      const m = mutate(rng, packet, request, rng.weighted(softMutationWeights));
      frames.push(m.frame);
      kinds.push(m.kind);
    } else {
      frames.push(packet.frame);
    }
  }
  if (rng.chance(0.7)) {
    const m = mutate(rng, request(), request, rng.weighted(hardMutationWeights));
    frames.push(m.frame);
    kinds.push(m.kind);
  }
  frames.push(probeFrame());
  return { bytes: Buffer.concat(frames), packets: frames.length, mutated: kinds.length, opening, kinds };
}

function emptyKinds(): Record<MutationKind, number> {
  return Object.fromEntries(mutationKinds.map((k) => [k, 0])) as Record<MutationKind, number>;
}

type Outcome = "survived" | "closedByServer" | "hung";

/**
 * Sends a connection's bytes and waits for the probe's reply or the server's close. A connection that shows
 * neither after `flushAfterMs` gets the flush: zeros that complete any frame a length lie left open (the server's
 * jute.maxbuffer bounds what it can be waiting for) and then read as empty frames the server refuses. After that
 * the server must close or answer; a connection still open after `hangMs` is reported as hung.
 */
function runConnection(port: number, script: Script, flush: Buffer, flushAfterMs: number, hangMs: number): Promise<{ outcome: Outcome; received: number }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    const probe = Buffer.alloc(4);
    probe.writeInt32BE(probeXid, 0);
    let tail = Buffer.alloc(0);
    let total = 0;
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve({ outcome, received: total });
    };
    socket.on("error", () => finish("closedByServer"));
    socket.on("close", () => finish("closedByServer"));
    socket.on("data", (chunk) => {
      total += chunk.length;
      // Keep a tail only: the probe's reply header is what we look for.
      tail = Buffer.concat([tail.subarray(Math.max(0, tail.length - 16)), chunk]);
      if (tail.indexOf(probe) >= 0) finish("survived");
    });
    socket.once("connect", () => {
      socket.write(script.bytes);
      timers.push(setTimeout(() => done || socket.write(flush), flushAfterMs));
      timers.push(setTimeout(() => finish("hung"), hangMs));
    });
  });
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignStats> {
  const started = Date.now();
  const stats: CampaignStats = {
    seed: options.seed,
    connections: 0,
    packetsSent: 0,
    mutatedPackets: 0,
    bytesSent: 0,
    mutations: emptyKinds(),
    openings: { handshake: 0, mutatedHandshake: 0, fourLetterWord: 0, requestsFirst: 0, randomBytes: 0 },
    survived: 0,
    closedByServer: 0,
    hung: 0,
    bytesReceived: 0,
    elapsedMs: 0,
  };
  const flush = Buffer.alloc(options.maxFrameBytes + 8);
  let next = 0;
  const worker = async () => {
    while (stats.mutatedPackets < options.mutatedPackets) {
      const index = next++;
      const script = connectionScript(options.seed, index, options.lastZxid?.() ?? 0n);
      stats.connections++;
      stats.packetsSent += script.packets;
      stats.mutatedPackets += script.mutated;
      stats.bytesSent += script.bytes.length;
      stats.openings[script.opening]++;
      for (const kind of script.kinds) stats.mutations[kind]++;
      const { outcome, received } = await runConnection(options.port, script, flush, options.flushAfterMs ?? 50, options.hangMs ?? 5000);
      stats[outcome]++;
      stats.bytesReceived += received;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  stats.elapsedMs = Date.now() - started;
  return stats;
}

export function describeStats(s: CampaignStats): string {
  const kinds = Object.entries(s.mutations)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return [
    `seed ${s.seed}: ${s.connections} connections, ${s.packetsSent} packets (${s.mutatedPackets} mutated), ${(s.bytesSent / 1e6).toFixed(1)} MB in ${s.elapsedMs} ms`,
    `  outcomes: survived ${s.survived}, closed by server ${s.closedByServer}, hung ${s.hung}`,
    `  openings: ${Object.entries(s.openings).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `  mutations: ${kinds}`,
  ].join("\n");
}
