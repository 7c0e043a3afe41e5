/**
 * Bootstrap (book chapter 3, "Getting Started with the ZooKeeper API"): the persistent parents the application
 * needs. Every role may run it, at any time, any number of times: it is idempotent.
 */
import { ConnectionLossError, NodeExistsError, type ZooKeeperClient } from "../../client/index.ts";
import { parentPaths } from "./paths.ts";

/** Creates one parent; already there counts as done. */
export async function createParent(client: ZooKeeperClient, path: string): Promise<void> {
  // lab 3.1: bootstrap: create /workers, /tasks, /assign and /status, idempotently
  //   Create `path` as a persistent znode with empty data. If it already exists (NodeExistsError), that is
  //   success: maybe another process made it, maybe your own earlier attempt did and its reply was lost.
  //   On ConnectionLossError the create may or may not have happened: simply try again.
  for (;;) {
    try {
      await client.create(path, Buffer.alloc(0));
      return;
    } catch (error) {
      if (error instanceof NodeExistsError) return;
      if (error instanceof ConnectionLossError) continue;
      throw error;
    }
  }
  // end lab 3.1
}

export async function bootstrap(client: ZooKeeperClient): Promise<void> {
  for (const path of parentPaths) await createParent(client, path);
}
