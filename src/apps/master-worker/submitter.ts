/**
 * The application's client (book chapter 3 "Queuing Tasks", chapter 4 "Waiting for Status Changes"): submits a
 * task as a sequential /tasks/task-NNNNNNNNNN node and waits, with a watch, for /status/<task>.
 */
import { ConnectionLossError, NoNodeError, type ZooKeeperClient } from "../../client/index.ts";
import { statusOf, tasksPath } from "./paths.ts";

/** Submits a task; returns its name (task-0000000003). */
export async function submitTask(client: ZooKeeperClient, command: string): Promise<string> {
  for (;;) {
    try {
      const path = await client.create(`${tasksPath}/task-`, Buffer.from(command), { mode: "persistentSequential" });
      return path.slice(tasksPath.length + 1);
    } catch (error) {
      // Unlike a worker's fixed name, a sequential create cannot be found again after a lost reply; the book
      // accepts the rare duplicate task here (kazoo and Curator add a GUID prefix to find it: "protected" mode).
      if (!(error instanceof ConnectionLossError)) throw error;
    }
  }
}

/** Resolves with the task's result once /status/<task> exists (watching, never polling). */
export function waitForStatus(client: ZooKeeperClient, task: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = async (): Promise<void> => {
      const stat = await client.exists(statusOf(task), { watch: () => void check().catch(reject) });
      if (stat === null) return;
      try {
        const { data } = await client.getData(statusOf(task));
        resolve(data?.toString() ?? "");
      } catch (error) {
        if (!(error instanceof NoNodeError)) reject(error);
      }
    };
    check().catch(reject);
  });
}

/**
 * The result of a task that the caller has heard is done through another channel than ZooKeeper (the worker told
 * it over HTTP, say). Its server may not have applied the worker's write yet — a follower is allowed to lag
 * behind the leader — so a plain read could miss /status/<task>. sync first (book chapter 6, "Order in the
 * Presence of Hidden Channels"; notes §6 sync).
 */
export async function readStatusAfterNotice(client: ZooKeeperClient, task: string): Promise<string> {
  // lab 6.6: sync before a read that must see another client's write
  //   client.sync(path) resolves once the server you are connected to has caught up with the leader as of the
  //   moment of the call. Sync the status path, then read /status/<task> (statusOf(task)) and return its data as
  //   a string. (Requests of one session are answered in order, so the read after the sync sees what the sync
  //   caught up with.)
  const path = statusOf(task);
  await client.sync(path);
  const { data } = await client.getData(path);
  return data?.toString() ?? "";
  // end lab 6.6
}
