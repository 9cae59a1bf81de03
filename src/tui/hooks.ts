import { useCallback, useEffect, useRef, useState } from 'react';
import { useStdout } from 'ink';
import type { Broker } from '../core/broker.js';
import type { Order } from '../core/orders/order.js';

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
  /** Whether `data` was read for the current key. */
  current: boolean;
  /** Whether the last read for the current key failed (the error went to `onError`). */
  failed: boolean;
  reload: () => void;
}

export interface ResourceOptions {
  /** What is read: a new key reads again (the last value stays until the new one comes). */
  key?: string;
  /** Read only while true (a screen that is shown); becoming true reads again. */
  active?: boolean;
}

interface ResourceState<T> {
  data: T | undefined;
  dataKey: string | null;
  failedKey: string | null;
  settled: boolean;
}

/** A value read from the broker, read again on `reload()` or a new key; failures go to `onError`. */
export function useResource<T>(load: () => Promise<T>, onError: (err: unknown) => void, { key = '', active = true }: ResourceOptions = {}): Resource<T> {
  const [state, setState] = useState<ResourceState<T>>({ data: undefined, dataKey: null, failedKey: null, settled: false });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const errorRef = useRef(onError);
  errorRef.current = onError;
  useEffect(() => {
    if (!active) return;
    let live = true;
    loadRef.current().then(
      (data) => {
        if (live) setState({ data, dataKey: key, failedKey: null, settled: true });
      },
      (err: unknown) => {
        if (!live) return;
        setState((s) => ({ ...s, failedKey: key, settled: true }));
        errorRef.current(err);
      },
    );
    return () => {
      live = false;
    };
  }, [generation, key, active]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: state.data, settled: state.settled, current: state.dataKey === key, failed: state.failedKey === key, reload };
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
