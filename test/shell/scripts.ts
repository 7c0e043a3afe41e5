// Scripts typed into the shell, shared by the end-to-end tests (test/shell/cli.test.ts: our shell and server,
// expected output recorded from zkCli) and the interop test (test/interop/shell.test.ts: our shell and server
// against Apache's zkCli and ZooKeeper 3.8, live). Each avoids the places where zkCli 3.8.0 or Apache's server
// has a known quirk our shell does not copy (see the notes on each).

/**
 * The master–worker walk-through of book chapter 2 (notes §2 "主从模式例子的实现"): a master, a worker, a task, its
 * assignment and its result, watches along the way, then the end of the session. zkCli 3.8 forms where the notes
 * use older ones: `ls -w path` beside the book's `ls path true`, and the result as a child znode created with
 * `create` (the notes' `setData` is not a zkCli command).
 */
export const walkthrough: readonly string[] = [
  // the master
  `create -e /master "master1.example.com:2223"`,
  `create /workers ""`,
  `create /tasks ""`,
  `create /assign ""`,
  `ls /workers true`,
  `ls -w /tasks`,
  // a worker registers and waits for work
  `create -e /workers/worker1.example.com "worker1.example.com:2224"`,
  `create /assign/worker1.example.com ""`,
  `ls -w /assign/worker1.example.com`,
  // a client submits a task and watches it
  `create -s /tasks/task- "cmd"`,
  `ls -w /tasks/task-0000000000`,
  `ls /tasks`,
  // the master assigns it
  `ls -w /tasks`,
  `create /assign/worker1.example.com/task-0000000000 ""`,
  `ls /assign/worker1.example.com`,
  // the worker does it and reports
  `create /tasks/task-0000000000/status "done"`,
  `get /tasks/task-0000000000/status`,
  `get -s /tasks/task-0000000000`,
  `set -s /tasks/task-0000000000 "cmd v2"`,
  `set -v 0 /tasks/task-0000000000 "stale"`,
  `stat /tasks/task-0000000000`,
  `stat /tasks/task-0000000001`,
  `getEphemerals /workers`,
  `getAllChildrenNumber /`,
  `ls -R /assign`,
  `getAcl /master`,
  // clean up the task
  `delete /tasks/task-0000000000`,
  `deleteall /tasks/task-0000000000`,
  `ls /tasks`,
  `create /workers ""`,
  // the session ends: its ephemeral nodes go
  `close`,
  `ls /workers`,
  `connect`,
  `ls /workers`,
  `get /master`,
];

/**
 * Every kind of watch. zkCli 3.8.0 keeps the last `-m` of addWatch for later addWatch commands without one (the
 * mode is a field of a command object it reuses), so the default mode is used before any -m here.
 */
export const watches: readonly string[] = [
  "create /w",
  "create /r",
  "addWatch /r",
  "get -w /w",
  "set /w 1",
  "stat -w /w/missing",
  "create /w/missing",
  "addWatch -m persistent /w",
  "set /w 2",
  "delete /w/missing",
  "removewatches /w",
  "removewatches /w",
  "create /r/deep",
  "printwatches",
  "printwatches off",
  "printwatches",
  "set /r/deep x",
  "printwatches on",
  "set /r/deep y",
  "addWatch -m PERSISTENT_RECURSIVE /w",
  "create /w/deep",
];

/** Watches set twice on one node and kind fire once: zkCli has one default watcher. */
export const sameWatchTwice: readonly string[] = [
  "create /d",
  "get -w /d",
  "stat -w /d",
  "ls /d true",
  "ls -w /d",
  "create /d/c",
  "set /d x",
];

/** Bad paths, ACLs, options and server refusals. */
export const errors: readonly string[] = [
  "create foo",
  "create /a/",
  "create /a//b",
  "create /h data nope",
  "create /g data world:anyone:xyz",
  "getAcl /g",
  "create -e /eph",
  "create /eph/child",
  "delete -v",
  "create -t 1000 /ttl",
  "create /a3 data auth::cdrwa",
  "getAcl /nope",
  "setAcl /nope world:anyone:r",
  "ls -R /nope",
  "sync /nope",
  "getAllChildrenNumber /nope",
];

/** deleteall in batches, and a deleteall that fails half way. */
export const deleteAll: readonly string[] = [
  "create /t",
  "create /t/a",
  "create /t/a/b",
  "create /t/c",
  "getAllChildrenNumber /t",
  "deleteall /t -b 2",
  "ls /",
  "deleteall /nope",
  "create /locked",
  "create /locked/child",
  "setAcl /locked world:anyone:r",
  "deleteall /locked",
  "ls -R /locked",
];
