/**
 * The cap on requests in flight that a connection to an object API (S3, R2's
 * REST API) keeps, shared by every store of the process on that connection.
 *
 * @module
 */

/**
 * A cap on concurrent requests. An urgent request (the stage lock's) is not
 * capped: it goes out at once, whatever waits.
 *
 * @example
 * const inFlight = new InFlight(32);
 * await inFlight.run(() => client.send(put));         // waits for one of 32 slots
 * await inFlight.run(() => client.send(heartbeat), true); // the stage lock's: at once
 */
export class InFlight {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly max: number) {}

  async run<T>(request: () => Promise<T>, urgent = false): Promise<T> {
    if (urgent) return request();
    if (this.#running < this.max) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // the slot passes on to us
    try {
      return await request();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#running--;
    }
  }
}
