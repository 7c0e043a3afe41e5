/**
 * A worker (book chapter 3 "Registering Workers", chapter 4 "Waiting for New Tasks"): registers an ephemeral
 * /workers/<name> (the master sees it live or dead), creates /assign/<name>, and executes the tasks assigned
 * there. Completing a task is one multi: create /status/<task> and delete the assignment, so a task is recorded
 * as done exactly once even if a worker dies half way and the task is reassigned.
 */
import {
  ConnectionLossError,
  NoNodeError,
  NodeExistsError,
  type ZooKeeperClient,
} from "../../client/index.ts";
import { createParent } from "./bootstrap.ts";
import { assignmentPath, assignmentsOf, quiet, statusOf, workerPath, type Reporter } from "./paths.ts";

/**
 * Registers `/workers/<name>` as an ephemeral node holding `status`. Safe to call again after a
 * ConnectionLossError: our own node from the lost attempt counts as registered.
 */
export async function registerWorker(client: ZooKeeperClient, name: string, status: string): Promise<void> {
  // lab 3.2: register a worker: an ephemeral /workers/<name>, even if the reply was lost
  //   Create /workers/<name> (mode "ephemeral", data = status). On ConnectionLossError try again. If it already
  //   exists (NodeExistsError), read it: if its stat.ephemeralOwner is this client's session id
  //   (client.session?.sessionId) it is our own node from an attempt whose reply was lost, so we are registered;
  //   otherwise another worker has that name: throw the NodeExistsError.
  for (;;) {
    try {
      await client.create(workerPath(name), Buffer.from(status), { mode: "ephemeral" });
      return;
    } catch (error) {
      if (error instanceof ConnectionLossError) continue;
      if (!(error instanceof NodeExistsError)) throw error;
      const stat = await client.exists(workerPath(name)).catch(() => null);
      if (stat !== null && stat.ephemeralOwner === client.session?.sessionId) return;
      throw error;
    }
  }
  // end lab 3.2
}

/**
 * The notes' `updateStatus` (chapter 3): the latest status is kept in a field; a write that fails with
 * CONNECTIONLOSS is retried only while it is still the latest, so an old status never overwrites a newer one.
 */
export class StatusReporter {
  private status: string;

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly name: string,
    initial: string,
  ) {
    this.status = initial;
  }

  get current(): string {
    return this.status;
  }

  /** Records `status` as the latest and writes it. */
  setStatus(status: string): Promise<void> {
    this.status = status;
    return this.updateStatus(status);
  }

  private async updateStatus(status: string): Promise<void> {
    // lab 3.3: status updates: retry after CONNECTIONLOSS only while the status is still current
    //   Write `status` to /workers/<name> with setData (any version). If it fails with ConnectionLossError, try
    //   again — but only while `this.status` is still `status`: if setStatus has been called with a newer
    //   status meanwhile, that newer write is on its way and this one must be dropped, not retried.
    for (;;) {
      if (status !== this.status) return;
      try {
        await this.client.setData(workerPath(this.name), Buffer.from(status));
        return;
      } catch (error) {
        if (!(error instanceof ConnectionLossError)) throw error;
      }
    }
    // end lab 3.3
  }
}

export interface WorkerOptions {
  readonly name: string;
  /** Does the work; its result goes to /status/<task>. */
  readonly execute: (task: string, data: Buffer | null) => Promise<string>;
  readonly report?: Reporter;
}

/** A running worker: registered, watching its assignments, executing tasks one at a time. */
export class Worker {
  private readonly report: Reporter;
  private readonly status: StatusReporter;
  private readonly running = new Set<string>();
  private stopped = false;
  /** Tasks this worker completed (recorded /status/<task> itself). */
  readonly completed: string[] = [];

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly options: WorkerOptions,
  ) {
    this.report = options.report ?? quiet;
    this.status = new StatusReporter(client, options.name, "Idle");
  }

  async start(): Promise<void> {
    await registerWorker(this.client, this.options.name, "Idle");
    await createParent(this.client, assignmentsOf(this.options.name));
    this.report(`${this.options.name}: registered`);
    await this.watchAssignments();
  }

  stop(): void {
    this.stopped = true;
  }

  /** getChildren with a watch, set again on every change (a watch fires once). */
  private async watchAssignments(): Promise<void> {
    if (this.stopped) return;
    let tasks: string[];
    try {
      tasks = await this.client.getChildren(assignmentsOf(this.options.name), {
        watch: () => void this.watchAssignments().catch(() => {}),
      });
    } catch (error) {
      if (error instanceof ConnectionLossError) return this.watchAssignments();
      throw error;
    }
    for (const task of tasks) {
      if (this.running.has(task)) continue;
      this.running.add(task);
      void this.execute(task)
        .catch((error: unknown) => this.report(`${this.options.name}: gave up on ${task}: ${(error as Error).message}`))
        .finally(() => this.running.delete(task));
    }
  }

  private async execute(task: string): Promise<void> {
    const { name } = this.options;
    let data: Buffer | null;
    try {
      ({ data } = await this.client.getData(assignmentPath(name, task)));
    } catch (error) {
      if (error instanceof NoNodeError) return; // already done or reassigned
      throw error;
    }
    await this.status.setStatus(`Working on ${task}`);
    this.report(`${name}: executing ${task} (${data?.toString() ?? ""})`);
    const result = await this.options.execute(task, data);
    for (;;) {
      try {
        // Done and unassigned in one step: a task is recorded as completed exactly once.
        await this.client.transaction().create(statusOf(task), Buffer.from(result)).delete(assignmentPath(name, task)).commit();
        this.completed.push(task);
        this.report(`${name}: ${task} done`);
        break;
      } catch (error) {
        // Lost the reply: try again; if the first attempt did apply, the retry fails on /status and says so.
        if (error instanceof ConnectionLossError) continue;
        // Someone already recorded it (a reassigned copy finished first), or the assignment is gone.
        this.report(`${name}: ${task} not recorded (${(error as Error).message})`);
        await this.client.delete(assignmentPath(name, task)).catch(() => {});
        break;
      }
    }
    await this.status.setStatus("Idle");
  }
}
