// The lab runner re-runs once per burst of saves (issue 6: "re-runs when a lab file is saved (chokidar, debounced)").
// Virtual timers: the test says what happens at which moment without waiting for it.
import { describe, expect, it } from "vitest";
import { debounce, type Timers } from "../../src/workbook/debounce.ts";

/** Timers on a clock that moves only when told to. */
function virtualTimers() {
  let now = 0;
  let next = 1;
  const due = new Map<number, { at: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      const id = next++;
      due.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout: (id) => void due.delete(id as number),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [id, timer] of [...due].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > now) continue;
      due.delete(id);
      timer.callback();
    }
  };
  return { timers, advance };
}

describe("debounce", () => {
  it("runs once, waitMs after the last event of a burst", () => {
    const { timers, advance } = virtualTimers();
    let runs = 0;
    const onEvent = debounce(() => runs++, 100, timers);
    onEvent(); // write
    advance(30);
    onEvent(); // rename
    advance(30);
    onEvent(); // a second file
    advance(99);
    expect(runs).toBe(0);
    advance(1);
    expect(runs).toBe(1);
    advance(1000);
    expect(runs).toBe(1);
  });

  it("runs again for a later save", () => {
    const { timers, advance } = virtualTimers();
    let runs = 0;
    const onEvent = debounce(() => runs++, 100, timers);
    onEvent();
    advance(100);
    onEvent();
    advance(100);
    expect(runs).toBe(2);
  });
});
