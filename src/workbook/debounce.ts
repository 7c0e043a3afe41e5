/**
 * One call per burst: an editor's save is often several file events (write, rename, chmod), and saving two files
 * of a lab at once is two more. The lab runner runs the checks once, `waitMs` after the last event of a burst.
 */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function debounce(callback: () => void, waitMs: number, timers: Timers = realTimers): () => void {
  let pending: unknown;
  return () => {
    if (pending !== undefined) timers.clearTimeout(pending);
    pending = timers.setTimeout(() => {
      pending = undefined;
      callback();
    }, waitMs);
  };
}
