/** Recipes built on the client: locks, leader election, barriers, a queue (book chapter 8, lab 8). */
export { Lock, ReadWriteLock, lockContenders, type LockOptions, type AcquireOptions, type SequentialLock } from "./lock.ts";
export { LeaderElection, type LeaderElectionOptions } from "./leader-election.ts";
export { Barrier, DoubleBarrier, type DoubleBarrierOptions } from "./barrier.ts";
export { Queue } from "./queue.ts";
export { RecipeTimeoutError, createProtected, ensurePath, type RecipeOptions } from "./support.ts";
