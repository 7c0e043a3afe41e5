/**
 * A bounded push queue read as an async iterable: what turns watch callbacks into `for await (const event of ...)`.
 *
 * `push` never waits (it is called from inside the client's event dispatch, which must not block), so the queue is
 * bounded: a consumer that falls more than `eventQueueLengthMax` events behind gets an `EventQueueOverflowError`
 * instead of the process running out of memory.
 */

/** Events buffered for one slow consumer before the stream fails. */
export const eventQueueLengthMaxDefault = 10_000;

export class EventQueueOverflowError extends Error {
  override name = "EventQueueOverflowError";
}

export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffered: T[] = [];
  private readonly readers: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];
  private ended = false;
  private failure: unknown = undefined;

  constructor(
    private readonly onReturn: () => void = () => {},
    private readonly lengthMax: number = eventQueueLengthMaxDefault,
  ) {}

  push(value: T): void {
    if (this.ended) return;
    const reader = this.readers.shift();
    if (reader !== undefined) {
      reader.resolve({ value, done: false });
      return;
    }
    if (this.buffered.length >= this.lengthMax) {
      this.end(new EventQueueOverflowError(`consumer fell more than ${this.lengthMax} events behind`));
      return;
    }
    this.buffered.push(value);
  }

  /** No more events; with an error, readers get it after the buffered events. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    for (const reader of this.readers.splice(0)) {
      if (error === undefined) reader.resolve({ value: undefined, done: true });
      else reader.reject(error);
    }
  }

  get isEnded(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffered.length > 0) return Promise.resolve({ value: this.buffered.shift()!, done: false });
    if (this.ended) {
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined; // reported once; later calls just say done
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Called by `break` in a for-await loop. */
  return(): Promise<IteratorResult<T>> {
    const wasEnded = this.ended;
    this.buffered.length = 0;
    this.end();
    if (!wasEnded) this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
