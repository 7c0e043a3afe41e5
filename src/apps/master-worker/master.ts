/**
 * The master (book chapter 4 "The Master Watches for Changes in the List of Workers", "…Tasks"): once elected,
 * it watches /workers and /tasks, assigns each new task to a live worker, and when a worker's session ends
 * (its ephemeral /workers/<name> disappears) gives that worker's unfinished tasks back to /tasks.
 *
 * It never polls: every list is read with a watch, and the watch is set again each time it fires.
 * A master that loses its session stops at once (notes §6: a recovered master must not assume it is still
 * master): its /master is gone with the session, and another process may already be master.
 */
import {
  ConnectionLossError,
  NoNodeError,
  NodeExistsError,
  NotEmptyError,
  type ZooKeeperClient,
} from "../../client/index.ts";
import { bootstrap } from "./bootstrap.ts";
import { waitToBecomeMaster } from "./election.ts";
import { assignmentPath, assignmentsOf, assignPath, quiet, taskPath, tasksPath, workersPath, type Reporter } from "./paths.ts";

/**
 * Lists /workers and keeps listing it: calls `onWorkers` with the current list now and after every change,
 * until `isActive()` turns false.
 */
export async function watchWorkers(
  client: ZooKeeperClient,
  onWorkers: (workers: string[]) => void,
  isActive: () => boolean = () => true,
): Promise<void> {
  // lab 4.4: the master's loop: list /workers with a watch, and set it again on every change
  //   Call getChildren("/workers") with a watch and pass the list to onWorkers. A watch fires once: when it
  //   fires, list again with a new watch (call yourself), or later changes go unseen. Retry on
  //   ConnectionLossError; stop once isActive() is false.
  if (!isActive()) return;
  let workers: string[];
  try {
    workers = await client.getChildren(workersPath, {
      watch: () => void watchWorkers(client, onWorkers, isActive).catch(() => {}),
    });
  } catch (error) {
    if (error instanceof ConnectionLossError) return watchWorkers(client, onWorkers, isActive);
    throw error;
  }
  onWorkers(workers);
  // end lab 4.4
}

export interface MasterOptions {
  readonly id: string;
  readonly report?: Reporter;
  /** Picks a worker for a task; default: round-robin. */
  readonly choose?: (task: string, workers: readonly string[]) => string;
}

export type MasterState = "running" | "elected" | "stopped";

export class Master {
  private readonly report: Reporter;
  private workers: string[] = [];
  private state: MasterState = "running";
  private stopCallbacks: Array<() => void> = [];
  /** Tasks this master assigned, in order (tests check reassignment). */
  readonly assigned: Array<{ task: string; worker: string }> = [];

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly options: MasterOptions,
  ) {
    this.report = options.report ?? quiet;
    // The session is this master's mandate: when it expires, stop being master for good (a new process,
    // with a new session, must run for master again).
    // lab 6.5: a master whose session expired must not act as master
    //   Subscribe to client.onStateChange((state) => ...). When state.kind is "expired" (the server ended the
    //   session: /master went with it, and a backup may be master by now) or "closed", call this.stop(reason) at
    //   once: every loop of the master checks this.active, so it stops assigning, for good — even when its
    //   network comes back. "connecting" is not the end: the client is reconnecting, the session may well be
    //   alive (a short disconnect), and a master that gave up then would leave the work to nobody.
    client.onStateChange((state) => {
      if (state.kind === "expired" || state.kind === "closed") this.stop(state.kind === "expired" ? "its session expired" : "it closed");
    });
    // end lab 6.5
  }

  get currentState(): MasterState {
    return this.state;
  }

  /** Resolves once this master is stopped (session expired or `stop()`). */
  stopped(): Promise<void> {
    if (this.state === "stopped") return Promise.resolve();
    return new Promise((resolve) => this.stopCallbacks.push(resolve));
  }

  stop(reason = "asked to"): void {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.report(`${this.options.id}: no longer master (${reason})`);
    for (const callback of this.stopCallbacks.splice(0)) callback();
  }

  private get active(): boolean {
    return this.state === "elected";
  }

  /** Runs for master (waiting as a backup if needed), then does the master's work until stopped. */
  async run(): Promise<void> {
    await bootstrap(this.client);
    await waitToBecomeMaster(this.client, this.options.id, this.report);
    if (this.state === "stopped") return;
    this.state = "elected";
    this.report(`${this.options.id}: elected master`);
    let previous = new Set<string>();
    await watchWorkers(
      this.client,
      (workers) => {
        this.workers = workers;
        const now = new Set(workers);
        for (const gone of previous) if (!now.has(gone)) void this.reassignTasksOf(gone).catch((e) => this.report(`reassign failed: ${e}`));
        previous = now;
        void this.assignPending().catch(() => {});
      },
      () => this.active,
    );
    await this.recoverOrphans();
    await this.watchTasks();
  }

  /** /tasks with a watch, set again on every change; each task in it is waiting to be assigned. */
  private async watchTasks(): Promise<void> {
    // lab 4.5: the master's loop over /tasks: list it with a watch, set the watch again, assign each task
    //   The same loop as 4.4, for tasks: while this.active, getChildren(tasksPath) with a watch that calls
    //   this.watchTasks() again (a new task fires the watch once; without a new watch the next task waits
    //   forever). Retry on ConnectionLossError. Then this.assign(task) for each task in the list, in sorted
    //   order; an assign that fails is reported (this.report), not thrown: one bad task must not stop the loop.
    if (!this.active) return;
    let tasks: string[];
    try {
      tasks = await this.client.getChildren(tasksPath, { watch: () => void this.watchTasks().catch(() => {}) });
    } catch (error) {
      if (error instanceof ConnectionLossError) return this.watchTasks();
      throw error;
    }
    for (const task of tasks.sort()) await this.assign(task).catch((e) => this.report(`assign ${task} failed: ${e}`));
    // end lab 4.5
  }

  private async assignPending(): Promise<void> {
    if (!this.active) return;
    const tasks = await this.client.getChildren(tasksPath);
    for (const task of tasks.sort()) await this.assign(task).catch(() => {});
  }

  /**
   * Moves /tasks/<task> to /assign/<worker>/<task> in one multi, so a task is never lost or doubled.
   * `unusable`: workers already tried for this task whose /assign folder was missing.
   */
  private async assign(task: string, unusable: ReadonlySet<string> = new Set()): Promise<void> {
    const candidates = this.workers.filter((w) => !unusable.has(w));
    if (!this.active || candidates.length === 0) return;
    let data: Buffer | null;
    try {
      ({ data } = await this.client.getData(taskPath(task)));
    } catch (error) {
      if (error instanceof NoNodeError) return; // already assigned
      throw error;
    }
    const worker = (this.options.choose ?? roundRobin(this))(task, candidates);
    try {
      await this.client.transaction().create(assignmentPath(worker, task), data ?? Buffer.alloc(0)).delete(taskPath(task)).commit();
      this.assigned.push({ task, worker });
      this.report(`${this.options.id}: assigned ${task} to ${worker}`);
    } catch (error) {
      if (error instanceof ConnectionLossError) return this.assign(task, unusable);
      if (error instanceof NoNodeError && error.transaction?.failedOpIndex === 0) {
        // The worker's /assign folder is gone (it died and its tasks were handed back before our list of workers
        // caught up) or not made yet: give the task to another worker now. Leaving it in /tasks would strand it
        // until /tasks or /workers happens to change again, since nothing here polls.
        return this.assign(task, new Set([...unusable, worker]));
      }
      // The task itself is gone: someone (this master, before a lost reply) already moved it.
    }
  }

  /** A worker died: put its unfinished tasks back in /tasks and remove its assignment folder. */
  private async reassignTasksOf(worker: string): Promise<void> {
    if (!this.active) return;
    let tasks: string[];
    try {
      tasks = await this.client.getChildren(assignmentsOf(worker));
    } catch (error) {
      if (error instanceof NoNodeError) return;
      throw error;
    }
    this.report(`${this.options.id}: ${worker} is gone, reassigning ${tasks.length} task(s)`);
    for (;;) {
      for (const task of tasks) {
        let data: Buffer | null;
        try {
          ({ data } = await this.client.getData(assignmentPath(worker, task)));
        } catch (error) {
          if (error instanceof NoNodeError) continue; // moved meanwhile
          throw error;
        }
        try {
          await this.client.transaction().create(taskPath(task), data ?? Buffer.alloc(0)).delete(assignmentPath(worker, task)).commit();
        } catch (error) {
          if (error instanceof NodeExistsError) {
            // Already back in /tasks: only the stale assignment is left to remove.
            await this.client.delete(assignmentPath(worker, task)).catch(() => {});
          } else if (!(error instanceof NoNodeError || error instanceof ConnectionLossError)) throw error;
        }
      }
      try {
        await this.client.delete(assignmentsOf(worker));
        return;
      } catch (error) {
        if (error instanceof NoNodeError) return;
        // NotEmpty: an assignment made from a list of workers that still had this one landed after our listing.
        // Hand that one back too, or it would wait forever for a worker that is dead.
        if (!(error instanceof NotEmptyError || error instanceof ConnectionLossError)) throw error;
      }
      try {
        tasks = await this.client.getChildren(assignmentsOf(worker));
      } catch (error) {
        if (error instanceof NoNodeError) return;
        throw error;
      }
    }
  }

  /** A new master also adopts orphans: assignment folders of workers that died while no master was watching. */
  private async recoverOrphans(): Promise<void> {
    const live = new Set(this.workers);
    for (const worker of await this.client.getChildren(assignPath)) {
      if (!live.has(worker)) await this.reassignTasksOf(worker);
    }
  }
}

/** The default choice: round-robin over the live workers, in a stable order. */
function roundRobin(master: Master): (task: string, workers: readonly string[]) => string {
  return (_task, workers) => {
    const sorted = [...workers].sort();
    return sorted[master.assigned.length % sorted.length]!;
  };
}
