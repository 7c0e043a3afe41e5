/**
 * The labs: one per chapter of the book (DESIGN.md "The lab map"). The code of each exercise lives in the
 * reference as a marked region (regions.ts); this file holds what the runner shows around it: titles, what to
 * read, and a hint per exercise. `labs:build` checks that the two agree.
 */

export interface ExerciseInfo {
  /** "4.2" */
  readonly id: string;
  readonly title: string;
  /** Shown when the learner presses `h`. */
  readonly hint: string;
}

export interface LabInfo {
  readonly number: number;
  /** Folder name under labs/ and solutions/, e.g. "04-watches". */
  readonly slug: string;
  readonly title: string;
  /** The chapter file under chapters/ to read first. */
  readonly chapter: string;
  /** What to read, in the chapter and in the book. */
  readonly read: readonly string[];
  readonly exercises: readonly ExerciseInfo[];
}

export const labs: readonly LabInfo[] = [
  {
    number: 1,
    slug: "01-master-election",
    title: "Master election with an ephemeral /master",
    chapter: "01-introduction.md",
    read: ["chapters/01-introduction.md — the master–worker example; the three problems (master crash, worker crash, communication failure)", "Book chapter 1, \"Example: Master-Worker Application\""],
    exercises: [
      {
        id: "1.1",
        title: "run for master: create /master as an ephemeral znode holding your id",
        hint: "client.create(\"/master\", Buffer.from(id), { mode: \"ephemeral\" }). A NodeExistsError is not a failure: it means someone else is master, so return \"notElected\". Anything else (e.g. ConnectionLossError) is for the caller to handle.",
      },
      {
        id: "1.2",
        title: "after a connection loss, find out whether you are the master",
        hint: "getData(\"/master\"): if the data equals your id you are the master; if the node is missing (NoNodeError) nobody is, so run again; a ConnectionLossError means ask again.",
      },
      {
        id: "1.3",
        title: "a backup watches /master and runs again when the master's session ends",
        hint: "exists(\"/master\", { watch }) sets a watch even when the node is missing. On a nodeDeleted event run for master again; if exists() already says null, run at once — the master went away between the two calls.",
      },
    ],
  },
  {
    number: 2,
    slug: "02-znodes",
    title: "Znodes, versions, the Stat and session states",
    chapter: "02-getting-to-grips.md",
    read: [
      "chapters/02-getting-to-grips.md — znode types, versions, the Stat; sessions and \"The states of a session\"",
      "Book chapter 2, \"ZooKeeper Basics\" and \"Sessions\"; notes 第2章 (znode类型, 版本, 会话的状态)",
    ],
    exercises: [
      {
        id: "2.1",
        title: "conditional writes: the version check (-1 matches any version)",
        hint: "Compare the version the request expects with the node's current version: -1 means \"any\"; a mismatch is BADVERSION (throw the PrepareError given); on success return the next version.",
      },
      {
        id: "2.2",
        title: "sequential names: path + the parent's counter as %010d",
        hint: "The counter is the parent's stored cversion. Pad to ten digits with zeros; Java's %010d renders -1 as \"-000000001\".",
      },
      {
        id: "2.3",
        title: "the Stat a client sees: cversion and numChildren derived from what is stored",
        hint: "The server stores how many children were ever created; clients see how many child changes there were: stored*2 - numChildren. Containers and TTL nodes store their kind in ephemeralOwner; clients see 0 there.",
      },
      {
        id: "2.4",
        title: "the session state machine: which state changes a watcher hears, and as which event",
        hint: "A switch on the new state: connected → event(\"syncConnected\"); connecting → event(\"disconnected\") only if previous === \"connected\", else null (a retry while already disconnected is no news); expired, closed, authFailed → the event of the same name; notConnected and closing → null.",
      },
    ],
  },
  {
    number: 3,
    slug: "03-workers",
    title: "Worker registration that survives CONNECTIONLOSS",
    chapter: "03-using-the-api.md",
    read: ["chapters/03-using-the-api.md — asynchronous calls, CONNECTIONLOSS, idempotent operations", "Book chapter 3, \"Getting Started with the ZooKeeper API\""],
    exercises: [
      {
        id: "3.1",
        title: "bootstrap: create /workers, /tasks, /assign and /status, idempotently",
        hint: "Create each parent; NodeExistsError means it is already there (maybe from your own earlier attempt whose reply was lost): that is success. Retry the same create on ConnectionLossError.",
      },
      {
        id: "3.2",
        title: "register a worker: an ephemeral /workers/<name>, even if the reply was lost",
        hint: "On ConnectionLossError you cannot tell whether the create happened. Create again: NodeExistsError is fine if the node's ephemeralOwner is your session id (it is your own node); otherwise someone else has that name.",
      },
      {
        id: "3.3",
        title: "status updates: retry after CONNECTIONLOSS only while the status is still current",
        hint: "The notes' updateStatus: keep the latest status in a field; when a setData fails with ConnectionLossError, retry only if the field still holds the value you tried to write — a newer update may already be on its way.",
      },
    ],
  },
  {
    number: 4,
    slug: "04-watches",
    title: "One-time watches, on the server and in the master",
    chapter: "04-watches.md",
    read: [
      "chapters/04-watches.md — one-time triggers, the ordering guarantee, re-registering, the master–worker example without polling",
      "Book chapter 4, \"Dealing with State Change\" (\"The Master Watches for Changes in the List of Workers\", \"…Tasks\"); notes 第4章 (单次触发器, 监视点)",
    ],
    exercises: [
      {
        id: "4.1",
        title: "a watch table: set a watch, fire it once, then forget it",
        hint: "collect(path, type) returns the watchers on that exact path and removes the standard (one-time) ones; persistent ones stay. Recursive watches on ancestors are done for you below the region.",
      },
      {
        id: "4.2",
        title: "a deleted node fires its data and child watches, once per watcher",
        hint: "Collect from both tables for a nodeDeleted event and merge them into one Set before notifying, so a connection watching both hears it once.",
      },
      {
        id: "4.3",
        title: "watches belong to a connection: drop them all when it closes",
        hint: "removeWatcher(watcher): for every path that watcher has in this table, remove it. byWatcher already knows the paths.",
      },
      {
        id: "4.4",
        title: "the master's loop: list /workers with a watch, and set it again on every change",
        hint: "getChildren(\"/workers\", { watch }) in a function that calls itself from the watch callback. A watch fires once: if you do not set it again you miss every later change.",
      },
      {
        id: "4.5",
        title: "the master's loop over /tasks: list it with a watch, set the watch again, assign each task",
        hint: "Like 4.4: if (!this.active) return; tasks = await this.client.getChildren(tasksPath, { watch: () => void this.watchTasks().catch(() => {}) }), calling this.watchTasks() again on ConnectionLossError; then for each task of tasks.sort(): await this.assign(task).catch((e) => this.report(...)).",
      },
    ],
  },
  {
    number: 5,
    slug: "05-failure-handling",
    title: "Failure handling: reconnecting without losing the session",
    chapter: "05-failure-handling.md",
    read: [
      "chapters/05-failure-handling.md — recoverable and unrecoverable failures, reconnecting, watches across a disconnection, session expiry",
      "Book chapter 5, \"Dealing with Failure\": \"Recoverable Failures\" (with \"The Exists Watch and the Disconnected Event\") and \"Unrecoverable Failures\"",
      "src/client/README.md — the client core: inputs, outputs, time as an input; src/sim/client-harness.ts — the simulator the checks run your core in",
    ],
    exercises: [
      {
        id: "5.1",
        title: "the ConnectResponse: timeOut 0 means expired (terminal); else keep the session, send auth, SetWatches, queued requests",
        hint: "timeOut <= 0 → this.terminate(\"expired\", errorCodes.sessionExpired, \"expired\"); return. Else this.sessionInfo = { sessionId, passwd ?? 16 zero bytes, negotiatedTimeoutMs: response.timeOut }; c.phase = \"ready\"; this.failedAttemptsInRow = 0; then authInfo → sendAuth (and requestId = null), this.setWatches() → sendPacket(xids.setWatches, …) + inFlight.push({ kind: \"setWatches\", xid: xids.setWatches }), this.unsent.splice(0) → sendUserEntry; setState connected last.",
      },
      {
        id: "5.2",
        title: "a lost connection: fail what is outstanding with CONNECTIONLOSS, then try the next host after a pause",
        hint: "Emit closeSocket for this.connection and null it; failedAttemptsInRow++ unless it was \"ready\"; failOutstanding(errorCodes.connectionLoss); closing → finishClose() and return. hostIndex = ((c?.hostIndex ?? hostIndex) + 1) % hosts; delay = Math.floor(random() * reconnectDelayMsMax), + hostCycleDelayMs when failedAttemptsInRow > 0 && failedAttemptsInRow % hosts === 0; retryAtMs = nowMs + delay; setState connecting/waiting.",
      },
      {
        id: "5.3",
        title: "re-register watches: SetWatches relative to the last zxid seen, SetWatches2 when persistent, split by size",
        hint: "Flatten to a queue of { kind, path } in `order`. While paths remain: empty lists per kind and batchBytes = 0; while paths remain and batchBytes < packetBytesMax, push the next path into its kind's list and add Buffer.byteLength(path, \"utf8\"). No persistent paths in the batch → SetWatches.write (opCodes.setWatches), else SetWatches2.write (opCodes.setWatches2); body = Buffer.from(w.view()).",
      },
      {
        id: "5.4",
        title: "on session expiry, drop what belonged to the old session and start over: a new client, registered again",
        hint: "const client = await this.connectNewClient(); null → return. this.client = client; this.sessions++; client.onStateChange((s) => { if (s.kind !== \"expired\" || this.client !== client || this.stopped) return; this.worker?.stop(); this.worker = null; void this.runSession(); }); then a new Worker(client, this.options) in this.worker and this.workers, and await its start(), ignoring SessionExpiredError.",
      },
      {
        id: "5.5",
        title: "exists sets a watch even on a missing node: remember it as an exist watch (a data watch if it exists)",
        hint: "err === errorCodes.noNode → this.watches.add(\"exist\", request.path, request.watcher) and complete { ok: true, value: null }. Other errors → complete { ok: false, code: err, path: request.path }, no watch. OK → const stat = decodeResult(request, r, this.config.chroot); this.watches.add(\"data\", …); complete { ok: true, value: stat }.",
      },
    ],
  },
  {
    number: 6,
    slug: "06-caveats",
    title: "Caveats: ACLs, locks, and masters that come back",
    chapter: "06-caveats.md",
    read: [
      "chapters/06-caveats.md — ACLs and their schemes, the lock recipe and the herd effect, a master whose session expired, sync",
      "Book chapter 6, \"ZooKeeper Caveats\": \"Using ACLs\", \"Recovering Sessions\", \"Order in the Presence of Hidden Channels\"; the ZooKeeper recipes page, \"Locks\" and \"Shared Locks\"",
    ],
    exercises: [
      {
        id: "6.1",
        title: "checking an ACL: schemes, ids and permission bits",
        hint: "Three early answers: acl.length === 0 → true; a caller id with scheme \"super\" → true. Then for each entry with (entry.perms & perm) !== 0: world:anyone → true; otherwise compare with each caller id of the same scheme — digest: the ids are equal; ip: ipMatches(callerId.id, entry.id.id). Nothing matched → false.",
      },
      {
        id: "6.2",
        title: "the auth scheme and ACL validation",
        hint: "null or [] → null. For each entry of dedupeAcl(requested): scheme \"auth\" → push {perms, id: digestId} for every digest id in authIds (none → return null); validStoredId(id) → push it as it is; anything else → return null.",
      },
      {
        id: "6.3",
        title: "the lock recipe: an ephemeral sequential node, and a watch on the node just before it",
        hint: "Create: retry(async () => { if (createdBefore) { const mine = findProtected(await getChildren(path), guid); if (mine) return joinPath(path, mine); } createdBefore = true; return create(...) }). Wait: sorted = children.filter(kindOf).sort(bySequence); blocking = this.blocker(sorted, index); a getData watch on that one node; NoNodeError → continue.",
      },
      {
        id: "6.4",
        title: "the read–write lock rule: a reader waits only for earlier writers, a writer for everyone earlier",
        hint: "If kindOf(sorted[ourIndex]) is \"write\": sorted[ourIndex - 1] (undefined at index 0). For a reader, walk back from ourIndex - 1 and return the first name whose kind is \"write\"; none → undefined.",
      },
      {
        id: "6.5",
        title: "a master whose session expired must not act as master",
        hint: "client.onStateChange((state) => { if (state.kind === \"expired\" || state.kind === \"closed\") this.stop(...) }). Do nothing on \"connecting\": a disconnected client keeps its session if it reconnects in time.",
      },
      {
        id: "6.6",
        title: "sync before a read that must see another client's write",
        hint: "await client.sync(statusOf(task)); then const { data } = await client.getData(statusOf(task)); return data?.toString() ?? \"\".",
      },
    ],
  },
  {
    number: 7,
    slug: "07-wire-protocol",
    title: "The wire protocol: jute records and frames",
    chapter: "07-wire-protocol.md",
    read: ["chapters/07-wire-protocol.md — jute encoding, framing, request/reply matching", "Book chapter 7, \"The C Client\" (what every client library has to do)"],
    exercises: [
      {
        id: "7.1",
        title: "write a ustring: the length of its UTF-8 bytes, then the bytes; null is length -1",
        hint: "Buffer.byteLength(value, \"utf8\") is the length in bytes. this.writeInt(length), this.reserve(length), this.bytes.write(value, this.offset, length, \"utf8\"), then this.offset += length.",
      },
      {
        id: "7.2",
        title: "read a buffer: a length (-1 is null), then that many bytes",
        hint: "const length = this.readLength(\"buffer\"); null → return null; this.need(length, ...); Buffer.from(this.bytes.subarray(this.offset, this.offset + length)) copies; advance this.offset.",
      },
      {
        id: "7.3",
        title: "read a vector: a count (-1 is null), then that many elements",
        hint: "Check count > r.remaining before the loop: a packet that claims a billion elements must fail at once, not after allocating an array of a billion.",
      },
      {
        id: "7.4",
        title: "cut frames out of the byte stream, refusing an oversize length before its body arrives",
        hint: "Simplest correct version: Buffer.concat the pending chunks, read the length at offset 0, and slice. Decide on oversize as soon as the 4 length bytes are in — a lying peer must not make you wait for (or buffer) a gigabyte.",
      },
      {
        id: "7.5",
        title: "match each reply to its request by xid: replies come in request order",
        hint: "const entry = this.inFlight.shift(); if it is undefined or entry.xid !== header.xid: put it back (unshift) and this.connectionLost(nowMs); return. Else if (header.zxid > this.zxidSeen) this.zxidSeen = header.zxid; a \"setWatches\" entry is done; a user entry goes to this.onUserReply(entry, header.err, r).",
      },
    ],
  },
  {
    number: 8,
    slug: "08-recipes",
    title: "Recipes: leader latch, queue, barriers, retries",
    chapter: "08-recipes.md",
    read: [
      "chapters/08-recipes.md — leader election, queues, barriers and retry policies built from znodes and watches",
      "Book chapter 8, \"Curator: A High-Level API for ZooKeeper\" (leader latch, queues, barriers, retry policies); the ZooKeeper recipes page",
    ],
    exercises: [
      {
        id: "8.1",
        title: "leader election: the lowest sequence number leads, every other participant watches the one before it",
        hint: "names = (await retry(() => getChildren(path))).filter(isParticipant).sort(bySequence); index 0 → setLeader(true). Else setLeader(false), getData(predecessor, { watch: watcher }) and fired.then(() => void this.check(), () => {}). NoNodeError → this.checkAgain = true.",
      },
      {
        id: "8.2",
        title: "take an item: race for it with a delete; NoNode means someone else took it",
        hint: "getData(entry) (NoNodeError → undefined); transaction().delete(entry, { version }).create(claim, consumerId, { mode: \"ephemeral\" }).commit(); NoNodeError/BadVersionError → undefined; ConnectionLossError/RequestTimeoutError → undefined unless ownsClaim(claim); then deleteIfExists(claim) and return the data.",
      },
      {
        id: "8.3",
        title: "a double barrier: enter once N have arrived, leave once all have left",
        hint: "Enter: watchOnce + exists(ready) → return if there; members().length >= participants → create ready (NodeExistsError is fine) and return; else await fired. Leave: only you or nobody left → delete yours and ready; lowest → watch the highest; others → delete yours, watch the lowest.",
      },
      {
        id: "8.4",
        title: "the retry delay: exponential backoff, capped, with jitter",
        hint: "const d = Math.min(policy.delayMsMax, policy.delayMsInitial * policy.multiplier ** retry); return policy.jitter === \"none\" ? d : d / 2 + policy.random() * (d / 2).",
      },
    ],
  },
  {
    number: 9,
    slug: "09-internals",
    title: "Internals: zxids, leader election, Zab, snapshots",
    chapter: "09-internals.md",
    read: [
      "chapters/09-internals.md — zxids, fast leader election (vote order, logical clock, termination), Zab's propose/ACK/commit on the leader and the follower, observers, fuzzy snapshots",
      "Book chapter 9, \"ZooKeeper Internals\" (Leader Elections; Zab: Broadcasting State Updates; Observers; Local Storage); notes 第9章 (群首选举, Zab, 观察者, 快照)",
      "docs: reference/zookeeper-3.8-wire-and-internals.md §6 (election, Zab, quorum verifiers)",
    ],
    exercises: [
      {
        id: "9.1",
        title: "a zxid is the epoch in the high 32 bits and the counter in the low 32",
        hint: "(BigInt(epoch) << 32n) | BigInt(counter >>> 0). `>>> 0` makes the counter unsigned, so 0xffffffff stays in the low 32 bits.",
      },
      {
        id: "9.2",
        title: "fast leader election's vote order: peer epoch, then zxid, then server id; weight 0 never wins",
        hint: "if (weight(candidate.leader) === 0) return false; compare peerEpoch, then zxid, each only when they differ; finally candidate.leader > current.leader.",
      },
      {
        id: "9.3",
        title: "the leader commits once a quorum has ACKed, strictly in zxid order",
        hint: "for (const [zxid, acks] of this.outstanding) { if (!this.verifier.containsQuorum(acks)) break; out.push(zxid); } then delete each returned zxid from this.outstanding.",
      },
      {
        id: "9.4",
        title: "replay a txn over a fuzzy snapshot: NONODE and NODEEXISTS are expected, not errors",
        hint: "const result = tree.processTxn(header, txn); — no throw, no check of result.err — then, for a create or a multi, fixParentCVersion(tree, txn, result, header.zxid) so a create that found its node still moves the parent's cversion and pzxid.",
      },
      {
        id: "9.5",
        title: "Zab on the follower: log a PROPOSAL before ACKing it; on COMMIT deliver in zxid order what is logged",
        hint: "PROPOSAL: io.log({ zxid: packet.zxid, txn: packet.txn }); io.ack(packet.zxid). COMMIT: return if packet.zxid <= io.lastDelivered; io.protocolError(...) if !io.isLogged(packet.zxid); then for (const e of io.loggedAfter(io.lastDelivered)) { if (e.zxid > packet.zxid) break; io.deliver(e); }",
      },
      {
        id: "9.6",
        title: "fast leader election's logical clock: a higher round resets my votes; a quorum of my round ends it",
        hint: "Higher round: round.round = n.electionEpoch; round.votes.clear(); round.vote = ctx.better(n, ctx.own) ? the sender's candidate : ctx.own; ctx.sendVote(). Lower round: return false. Same round and ctx.better(n, round.vote): adopt it and ctx.sendVote(). Then round.votes.set(from, { leader, zxid, peerEpoch, electionEpoch: n.electionEpoch, state: \"LOOKING\" }) and return ctx.isQuorum(the senders whose vote is sameVote with yours in this round).",
      },
    ],
  },
  {
    number: 10,
    slug: "10-running",
    title: "Running ZooKeeper: configuration and storage",
    chapter: "10-running.md",
    read: [
      "chapters/10-running.md — zoo.cfg and its keys, the ensemble lines, the transaction log and snapshots on disk, autopurge",
      "Book chapter 10, \"Running ZooKeeper\" (Configuring a ZooKeeper Server: the configuration table; Configuring a ZooKeeper Ensemble; Managing Disk Usage; Cleaning Up); notes 第10章 (预分配 with \\0, 快照)",
      "docs: reference/zookeeper-3.8-wire-and-internals.md §5 (log and snapshot files) and §6 (quorum verifiers)",
    ],
    exercises: [
      {
        id: "10.1",
        title: "a zoo.cfg value: run the key's zod schema; the error names the key, the value and what is allowed",
        hint: "const result = schema.safeParse(origin.value); if (result.success) return result.data; throw invalidValue(origin.source, origin.key, origin.value, result.error.issues[0]?.message ?? \"not accepted\", origin.line).",
      },
      {
        id: "10.2",
        title: "the quorum from server.x, group.x and weight.x lines; observers never vote",
        hint: "observers = servers with role \"observer\"; no quorumGroups → majorityVerifier(participant ids, observers); else hierarchicalVerifier(quorumGroups, serverWeights.map((w) => [w.serverId, w.weight] as const), observers).",
      },
      {
        id: "10.3",
        title: "preallocate the log: within 4 KB of the end, grow by preAllocSize",
        hint: "if (preAllocSize <= 0 || position + preAllocSlackBytes < fileSize) return fileSize; if (position > fileSize) { const size = position + preAllocSize; return size - (size % preAllocSize); } return fileSize + preAllocSize.",
      },
      {
        id: "10.4",
        title: "where the log ends: torn tails end it, a CRC mismatch is corruption",
        hint: "Go step by step: available bytes; crc = readBigInt64BE, length = readInt32BE(+8); length 0 → end (torn unless crc is 0); bad length → corrupt; short → needMore or torn at EOF; buf[offset+12+length] !== 0x42 → torn; adler32(body) !== crc → corrupt; else { kind: \"entry\", body, next: offset + 13 + length }.",
      },
      {
        id: "10.5",
        title: "autopurge: keep the newest N valid snapshots and every log needed to replay them",
        hint: "snapshots = sortByZxid(list, \"snapshot\").reverse(); keep valid ones up to retainCount; leastZxid = the last kept; needed = logsFrom(logs, leastZxid); remove snapshots with zxid < leastZxid (oldest first) and logs with zxid < leastZxid that are not needed.",
      },
    ],
  },
];

export function labByNumber(n: number): LabInfo | undefined {
  return labs.find((lab) => lab.number === n);
}

export function exerciseInfo(id: string): ExerciseInfo | undefined {
  const lab = labByNumber(Number(id.split(".")[0]));
  return lab?.exercises.find((e) => e.id === id);
}
