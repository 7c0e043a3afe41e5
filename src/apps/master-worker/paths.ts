/** The znodes of the book's master–worker application (book chapter 1 and 2; notes §1.2, §2 主从模式例子的实现). */
export const masterPath = "/master";
export const workersPath = "/workers";
export const tasksPath = "/tasks";
export const assignPath = "/assign";
export const statusPath = "/status";

/** The persistent parents every role needs before it starts. */
export const parentPaths = [workersPath, tasksPath, assignPath, statusPath] as const;

export const workerPath = (name: string) => `${workersPath}/${name}`;
export const assignmentsOf = (worker: string) => `${assignPath}/${worker}`;
export const assignmentPath = (worker: string, task: string) => `${assignPath}/${worker}/${task}`;
export const taskPath = (task: string) => `${tasksPath}/${task}`;
export const statusOf = (task: string) => `${statusPath}/${task}`;

/** What a role reports as it works: the demo prints it; tests collect it. */
export type Reporter = (line: string) => void;
export const quiet: Reporter = () => {};
