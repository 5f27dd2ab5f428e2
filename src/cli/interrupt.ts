/**
 * Ctrl-C and termination: the first signal asks the run to stop cleanly (no new
 * operation starts, those in flight finish and are recorded); a second one
 * exits at once.
 *
 * @module
 */

/** Signals the command line stops on, with the exit code each one ends with. */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

export interface Interrupts {
  signal: AbortSignal;
  /** The first stop signal received, if any. */
  readonly received: StopSignal | undefined;
  /** Stops listening; call when the run is over. */
  dispose(): void;
}

/** Listens for stop signals; `onFirst` is told when the clean stop begins. */
export function listenForInterrupts(onFirst: (signal: StopSignal) => void, onSecond: (signal: StopSignal) => void): Interrupts {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((name) => {
    const handler = () => {
      if (received) return onSecond(name);
      received = name;
      controller.abort();
      onFirst(name);
    };
    process.on(name, handler);
    return () => process.off(name, handler);
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose: () => handlers.forEach((off) => off()),
  };
}
