/** The book's running example: master election, workers, task assignment (book chapters 1–4). */
export * from "./paths.ts";
export { bootstrap, createParent } from "./bootstrap.ts";
export { runForMaster, checkMaster, elect, watchMaster, waitToBecomeMaster, type ElectionResult } from "./election.ts";
export { Master, watchWorkers, type MasterOptions, type MasterState } from "./master.ts";
export { Worker, registerWorker, StatusReporter, type WorkerOptions } from "./worker.ts";
export { submitTask, waitForStatus, readStatusAfterNotice } from "./submitter.ts";
