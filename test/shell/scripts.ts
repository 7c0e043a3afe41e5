// The master–worker walk-through of book chapter 2 (notes §2 "主从模式例子的实现"), typed into the shell: a master,
// a worker, a task, its assignment and its result, watches along the way, then the end of the session.
// zkCli 3.8 forms where the notes use older ones: `ls -w path` beside the book's `ls path true`, and the result
// as a child znode created with `create` (the notes' `setData` is not a zkCli command).
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
