/**
 * Master election (book chapter 1 "Example: Master-Worker Application", chapter 3 "Becoming the master"; notes
 * §1.2 主节点选举): whoever creates the ephemeral /master first is the master. The znode lives as long as the
 * master's session, so when the master crashes (its session expires) /master disappears and a backup, which
 * has been watching it, runs for master again.
 */
import { ConnectionLossError, NoNodeError, NodeExistsError, type WatchedEvent, type ZooKeeperClient } from "../../client/index.ts";
import { masterPath, quiet, type Reporter } from "./paths.ts";

export type ElectionResult = "elected" | "notElected";

/** Tries once to become the master. ConnectionLossError is left to the caller: the create may have happened. */
export async function runForMaster(client: ZooKeeperClient, id: string): Promise<ElectionResult> {
  // lab 1.1: run for master: create /master as an ephemeral znode holding your id
  //   Create /master with your id as data, mode "ephemeral" (it vanishes with your session). Return "elected"
  //   if it worked. If /master already exists (NodeExistsError), someone else is master: return "notElected".
  //   Let any other error (ConnectionLossError in particular) propagate.
  try {
    await client.create(masterPath, Buffer.from(id), { mode: "ephemeral" });
    return "elected";
  } catch (error) {
    if (error instanceof NodeExistsError) return "notElected";
    throw error;
  }
  // end lab 1.1
}

/**
 * After a connection loss during runForMaster we do not know whether our create happened. Ask: "elected" if
 * /master holds our id, "notElected" if someone else's, "noMaster" if there is no /master at all.
 */
export async function checkMaster(client: ZooKeeperClient, id: string): Promise<ElectionResult | "noMaster"> {
  // lab 1.2: after a connection loss, find out whether you are the master
  //   Read /master: if its data is your id you are the master ("elected"), otherwise "notElected". If it does
  //   not exist (NoNodeError) return "noMaster". On ConnectionLossError ask again (the client queues the
  //   request until it is connected again).
  for (;;) {
    try {
      const { data } = await client.getData(masterPath);
      return data?.toString() === id ? "elected" : "notElected";
    } catch (error) {
      if (error instanceof NoNodeError) return "noMaster";
      if (error instanceof ConnectionLossError) continue;
      throw error;
    }
  }
  // end lab 1.2
}

/** Runs for master until decided, handling connection loss the book's way (runForMaster → checkMaster). */
export async function elect(client: ZooKeeperClient, id: string): Promise<ElectionResult> {
  for (;;) {
    try {
      return await runForMaster(client, id);
    } catch (error) {
      if (!(error instanceof ConnectionLossError)) throw error;
      const state = await checkMaster(client, id);
      if (state !== "noMaster") return state;
    }
  }
}

/**
 * Becomes master now or later: elects, and while not elected watches /master and runs again when it goes.
 * Resolves once this process is the master.
 */
export function waitToBecomeMaster(client: ZooKeeperClient, id: string, report: Reporter = quiet): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const attempt = async (): Promise<void> => {
      if ((await elect(client, id)) === "elected") {
        resolve();
        return;
      }
      report(`${id}: ${masterPath} is taken, standing by as a backup`);
      await watchMaster(client, () => {
        report(`${id}: the master is gone, running for master`);
        attempt().catch(reject);
      });
    };
    attempt().catch(reject);
  });
}

/**
 * A backup's watch on /master: calls `onMasterGone` once, when /master is deleted — or right away if it is
 * already gone by the time the watch is set.
 */
export async function watchMaster(client: ZooKeeperClient, onMasterGone: () => void): Promise<void> {
  // lab 1.3: a backup watches /master and runs again when the master's session ends
  //   Call exists("/master") with a watch. The watch fires with an event of type "nodeDeleted" when the master's
  //   session ends: call onMasterGone then. If exists returns null, /master vanished between your failed create
  //   and now: call onMasterGone at once (the watch stays set, but must not call it a second time).
  let called = false;
  const once = () => {
    if (!called) {
      called = true;
      onMasterGone();
    }
  };
  const watch = (event: WatchedEvent) => {
    if (event.type === "nodeDeleted") once();
  };
  const stat = await client.exists(masterPath, { watch });
  if (stat === null) once();
  // end lab 1.3
}
