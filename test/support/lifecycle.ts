/**
 * Starts something before the enclosing describe's tests and stops it after them. The returned
 * object reads the started value's fields once the tests run (reading earlier throws).
 */
export function useStarted<T extends object>(start: () => Promise<T>, stop: (started: T) => Promise<void>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    if (started) await stop(started);
  });
  return new Proxy({} as T, {
    get(_target, field) {
      if (!started) throw new Error('test fixture read before beforeAll ran');
      return started[field as keyof T];
    },
  });
}
