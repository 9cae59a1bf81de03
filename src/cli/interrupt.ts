import type { IO } from './io.js';

/** 128 + the signal's number, as shells report a process ended by it. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

export type StopSignal = keyof typeof SIGNAL_EXIT;

export interface Interrupts {
  /** Aborts on the first of Ctrl-C, SIGTERM (`timeout`, `docker stop`), SIGHUP or a lost terminal. */
  readonly signal: AbortSignal;
  /** What stopped the command, once something did; a lost terminal counts as SIGHUP. */
  readonly reason: StopSignal | undefined;
  readonly exitCode: number | undefined;
  dispose(): void;
}

/**
 * Every way a person (or their tooling) stops a command, turned into one abort: a command that
 * holds money on the broker's side (a `verify`) can then end it the same way for all of them.
 */
export function watchInterrupts(io: IO): Interrupts {
  const abort = new AbortController();
  let reason: StopSignal | undefined;
  const stop = (why: StopSignal): void => {
    if (reason) return;
    reason = why;
    abort.abort();
  };
  const handlers = (Object.keys(SIGNAL_EXIT) as StopSignal[]).map((name) => {
    const handler = (): void => stop(name);
    process.once(name, handler);
    return [name, handler] as const;
  });
  const unwatch = io.onTerminalLost(() => stop('SIGHUP'));
  if (io.terminalLost) stop('SIGHUP');
  return {
    signal: abort.signal,
    get reason() {
      return reason;
    },
    get exitCode() {
      return reason && SIGNAL_EXIT[reason];
    },
    dispose() {
      for (const [name, handler] of handlers) process.removeListener(name, handler);
      unwatch();
    },
  };
}
