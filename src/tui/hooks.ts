import { useCallback, useEffect, useRef, useState } from 'react';
import { useStdout } from 'ink';
import type { Broker } from '../core/broker.js';
import type { Order } from '../core/order.js';

/** The terminal's size, following resizes. */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = useCallback(() => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 }), [stdout]);
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, read]);
  return size;
}

export interface Resource<T> {
  /** The last value read; kept while a reload runs or after it fails, so the screen does not blank. */
  data: T | undefined;
  /** Whether a first answer (or failure) came. */
  settled: boolean;
  reload: () => void;
}

/** A value read from the broker, read again on `reload()`; failures go to `onError`. */
export function useResource<T>(load: () => Promise<T>, onError: (err: unknown) => void): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; settled: boolean }>({ data: undefined, settled: false });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const errorRef = useRef(onError);
  errorRef.current = onError;
  useEffect(() => {
    let live = true;
    loadRef.current().then(
      (data) => {
        if (live) setState({ data, settled: true });
      },
      (err: unknown) => {
        if (!live) return;
        setState((s) => (s.settled ? s : { ...s, settled: true }));
        errorRef.current(err);
      },
    );
    return () => {
      live = false;
    };
  }, [generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

/** The current time, ticking each second while `running`. */
export function useNow(running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

const RETRY_AFTER_ERROR_MS = 3000;

/**
 * Follows an active order live through `broker.wait` (in-process events on the embedded broker,
 * the order's event stream on a server) and hands each new state to `update`. Nothing polls: the
 * wait returns when the order changes. Stops when the order ends or the view closes; a failed wait
 * is reported and tried again a few seconds later.
 */
export function useOrderUpdates(
  broker: Broker,
  order: Order | null,
  update: (order: Order) => void,
  onError: (err: unknown) => void,
): void {
  const id = order?.order_id;
  const active = order?.status === 'active';
  const expiresAt = order ? Date.parse(order.expires_at) : 0;
  const updateRef = useRef(update);
  updateRef.current = update;
  const errorRef = useRef(onError);
  errorRef.current = onError;
  useEffect(() => {
    if (!id || !active) return;
    const stop = new AbortController();
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          // Until a little past the expiry, when the broker ends the order itself.
          const timeoutMs = Math.max(1000, expiresAt - Date.now() + 5000);
          const next = await broker.wait(id, { timeoutMs, signal: stop.signal });
          if (stop.signal.aborted) return;
          updateRef.current(next);
          if (next.status !== 'active') return;
        } catch (err) {
          if (stop.signal.aborted) return;
          errorRef.current(err);
          await sleep(RETRY_AFTER_ERROR_MS);
        }
      }
    })();
    return () => stop.abort();
  }, [broker, id, active, expiresAt]);
}
