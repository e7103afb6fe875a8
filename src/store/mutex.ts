/**
 * One at a time, in arrival order. SQLite's store has a single connection, and an `akm serve`
 * request awaits between its statements: without this, another request's statements would run
 * inside its transaction.
 */
export class Mutex {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.last.then(work);
    this.last = result.catch(() => undefined);
    return result;
  }
}
