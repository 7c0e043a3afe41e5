/**
 * The nemesis (after Jepsen): faults thrown at a simulated cluster on a seeded schedule — partitions (symmetric and
 * one-way), heals, crashes, restarts, and bursts of a lossy network.
 */
import type { Cluster } from "./cluster.ts";
import type { NetworkFaults } from "./network.ts";
import type { Random } from "./random.ts";

export interface NemesisOptions {
  /** Mean pause between two faults, in virtual ms. */
  readonly meanGapMs: number;
  readonly crashes: boolean;
  readonly partitions: boolean;
  /** The network to switch to during lossy bursts, and back to afterwards. */
  readonly lossy: NetworkFaults;
  readonly calm: NetworkFaults;
}

export type NemesisAction =
  | "partition"
  | "one-way"
  | "isolate"
  /** Cut the leader off with a minority: it keeps proposals only a minority logs, which a new leader truncates. */
  | "isolate-leader"
  | "heal"
  | "crash"
  | "crash-leader"
  | "restart"
  | "lossy"
  | "calm";

export class Nemesis {
  readonly log: { readonly atMs: number; readonly action: NemesisAction }[] = [];

  constructor(
    private readonly random: Random,
    private readonly cluster: Cluster,
    private readonly options: NemesisOptions,
  ) {}

  /** Schedules faults from `fromMs` until `toMs`. */
  scheduleBetween(fromMs: number, toMs: number): void {
    let t = fromMs + this.gap();
    while (t < toMs) {
      this.cluster.at(t, () => this.act());
      t += this.gap();
    }
  }

  /** One fault, chosen now from what makes sense in the cluster's state. */
  act(): void {
    const c = this.cluster;
    const r = this.random;
    const choices: NemesisAction[] = ["heal", "lossy", "calm"];
    const leaders = c.servers.filter((s) => c.roleOf(s) === "leading");
    if (this.options.partitions) choices.push("partition", "partition", "one-way", "isolate");
    if (this.options.partitions && leaders.length > 0) choices.push("isolate-leader");
    if (this.options.crashes && c.upServers().length > 0) choices.push("crash", "crash");
    if (this.options.crashes && leaders.length > 0) choices.push("crash-leader");
    if (c.downServers().length > 0) choices.push("restart", "restart", "restart");
    const action = r.pick(choices);
    this.log.push({ atMs: c.nowMs, action });
    switch (action) {
      case "partition": {
        const shuffled = shuffle(r, [...c.servers]);
        const cut = r.int(1, shuffled.length - 1);
        c.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        break;
      }
      case "isolate": {
        const victim = r.pick(c.servers);
        c.partition([[victim], c.servers.filter((s) => s !== victim)]);
        break;
      }
      case "isolate-leader": {
        const leader = r.pick(leaders);
        const others = shuffle(r, c.servers.filter((s) => s !== leader));
        const minority = others.slice(0, r.int(0, Math.floor((others.length - 1) / 2)));
        c.partition([[leader, ...minority], others.filter((s) => !minority.includes(s))]);
        break;
      }
      case "crash-leader":
        c.crash(r.pick(leaders));
        break;
      case "one-way": {
        const from = r.pick(c.servers);
        const to = r.pick(c.servers.filter((s) => s !== from));
        c.block(from, to);
        break;
      }
      case "heal":
        c.heal();
        break;
      case "crash":
        c.crash(r.pick(c.upServers()));
        break;
      case "restart":
        c.restart(r.pick(c.downServers()));
        break;
      case "lossy":
        c.setFaults(this.options.lossy, "lossy");
        break;
      case "calm":
        c.setFaults(this.options.calm, "calm");
        break;
      default: {
        const never: never = action;
        throw new Error(`unknown nemesis action ${String(never)}`);
      }
    }
  }

  private gap(): number {
    // Exponential gaps: mostly short, now and then a long quiet stretch in which the cluster can recover.
    return Math.max(1, -Math.log(1 - this.random.next()) * this.options.meanGapMs);
  }
}

export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
