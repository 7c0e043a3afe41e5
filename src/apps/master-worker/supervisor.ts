/**
 * A worker that outlives its sessions (book chapter 5, "Unrecoverable Failures"; notes §5 不可恢复的故障).
 *
 * Losing the connection is recoverable: the client reconnects by itself, and the session — with the ephemeral
 * /workers/<name> and the watches — lives on, so the Worker simply carries on (its calls that failed with
 * ConnectionLossError are retried where that is safe). A session expiry is not recoverable: the server has deleted
 * the ephemeral and forgotten the watches, and the client is dead for good (every call fails with
 * SessionExpiredError). The book's advice is to do what a restart would: throw away everything tied to the old
 * session and start again — a new client (so a new session), register again, watch the assignments again.
 *
 * The supervisor does exactly that around an unchanged Worker (worker.ts). A task the old worker was executing
 * when its session expired may be reassigned by the master (the worker's ephemeral went away) and executed again
 * elsewhere: the Worker records a completion with a multi, so each task is still recorded once.
 */
import { SessionExpiredError, type ZooKeeperClient } from "../../client/index.ts";
import { quiet, type Reporter } from "./paths.ts";
import { Worker, type WorkerOptions } from "./worker.ts";

/** How long one new client may take to connect before it is closed and another one is tried. */
export const supervisorConnectTimeoutMsDefault = 10_000;

export interface SupervisorOptions extends WorkerOptions {
  /** A new client, not connected yet. Every call must give a new client: each one is a new session. */
  readonly newClient: () => ZooKeeperClient;
  readonly connectTimeoutMs?: number;
}

export class WorkerSupervisor {
  private client: ZooKeeperClient | null = null;
  private worker: Worker | null = null;
  private readonly workers: Worker[] = [];
  private stopped = false;
  private readonly report: Reporter;
  /** Sessions started so far: 1, plus one for each expiry recovered from. */
  sessions = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.report = options.report ?? quiet;
  }

  /** Starts the first session; resolves once the worker is registered and watching its assignments. */
  start(): Promise<void> {
    return this.runSession();
  }

  /** The client of the current session (null before start and after stop). */
  get currentClient(): ZooKeeperClient | null {
    return this.client;
  }

  /** The worker of the current session. */
  get currentWorker(): Worker | null {
    return this.worker;
  }

  /** Tasks completed, over every session. */
  get completed(): string[] {
    return this.workers.flatMap((w) => w.completed);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.worker?.stop();
    const client = this.client;
    this.client = null;
    this.worker = null;
    await client?.close();
  }

  /**
   * One session: a new client, connected, and a Worker started on it. When that session expires, it all starts
   * again on a new one.
   */
  private async runSession(): Promise<void> {
    // lab 5.4: on session expiry, drop what belonged to the old session and start over: a new client, registered again
    //   Get a connected new client with `await this.connectNewClient()` (null: the supervisor was stopped: return),
    //   make it this.client and count it in this.sessions. Then listen to its state changes,
    //   client.onStateChange((state) => ...): only state.kind === "expired" ends a session. "connecting" is a
    //   lost connection, which the client repairs by itself with the same session — starting a new session then
    //   would register a second worker while the first one's ephemeral still exists. On "expired" (and only if
    //   this client is still this.client and the supervisor is not stopped): stop the old worker
    //   (this.worker.stop(): its watch loop must not go on with a dead client) and run a new session
    //   (void this.runSession()).
    //   Then start the work of this session: const worker = new Worker(client, this.options), remember it in
    //   this.worker and push it on this.workers, and await worker.start(). If that throws SessionExpiredError, the
    //   session expired while starting: return quietly — your state listener is already starting the next one.
    const client = await this.connectNewClient();
    if (client === null) return;
    this.client = client;
    this.sessions++;
    client.onStateChange((state) => {
      if (state.kind !== "expired" || this.client !== client || this.stopped) return;
      this.report(`${this.options.name}: session expired; starting a new one`);
      this.worker?.stop();
      this.worker = null;
      void this.runSession().catch((error: unknown) => this.report(`${this.options.name}: restart failed: ${(error as Error).message}`));
    });
    const worker = new Worker(client, this.options);
    this.worker = worker;
    this.workers.push(worker);
    try {
      await worker.start();
    } catch (error) {
      if (!(error instanceof SessionExpiredError)) throw error;
    }
    // end lab 5.4
  }

  /** A new client, connected; while the ensemble cannot be reached, closes it and tries a fresh one. */
  private async connectNewClient(): Promise<ZooKeeperClient | null> {
    const timeoutMs = this.options.connectTimeoutMs ?? supervisorConnectTimeoutMsDefault;
    while (!this.stopped) {
      const client = this.options.newClient();
      try {
        await client.connect({ timeoutMs });
      } catch {
        await client.close().catch(() => {});
        continue;
      }
      if (!this.stopped) return client;
      await client.close().catch(() => {});
    }
    return null;
  }
}
