import { setTimeout as sleep } from 'node:timers/promises';
import { createParser } from 'eventsource-parser';
import { Agent, request, type Dispatcher } from 'undici';
import { TnError } from '../core/errors.js';

/** One event of `GET /api/v1/events`: its webhook-id, type, and the exact JSON a webhook would carry. */
export interface StreamedEvent {
  id: string;
  type: string;
  body: string;
}

export interface FollowOptions {
  endpoint: string;
  apiKey: string;
  signal: AbortSignal;
  /** Resume after this event (webhook-id). */
  lastEventId?: string;
  /** Each time a connection is established (the first and every reconnection). */
  onOpen?: (reconnected: boolean) => void;
  onEvent: (event: StreamedEvent) => void | Promise<void>;
  /** A dropped connection, before the next try. */
  onDrop?: (error: TnError, retryInMs: number) => void;
  dispatcher?: Dispatcher;
}

/**
 * Follows the account's event stream until `signal` aborts, reconnecting with backoff and
 * `Last-Event-ID` so that nothing still in the outbox is missed. A 401 or 404 ends it: those do
 * not get better by trying again.
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  const base = options.endpoint.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  let last = options.lastEventId;
  let failures = 0;
  let opened = false;
  try {
    while (!options.signal.aborted) {
      try {
        const res = await request(`${base}/api/v1/events`, {
          method: 'GET',
          headers: { authorization: `Bearer ${options.apiKey}`, accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
          dispatcher,
          signal: options.signal,
          headersTimeout: 30_000,
          bodyTimeout: 0,
        });
        if (res.statusCode !== 200) {
          const text = await res.body.text();
          let err: TnError;
          try {
            err = TnError.fromBody((JSON.parse(text) as { error: Record<string, unknown> }).error);
          } catch {
            err = new TnError('unavailable', `The event stream answered HTTP ${res.statusCode}.`);
          }
          if (res.statusCode === 401 || res.statusCode === 404 || res.statusCode === 400) throw err;
          throw Object.assign(err, { retryable: true });
        }
        options.onOpen?.(opened);
        opened = true;
        failures = 0;
        const queue: StreamedEvent[] = [];
        const parser = createParser({
          onEvent: (e) => {
            if (e.event && e.id) queue.push({ id: e.id, type: e.event, body: e.data });
          },
        });
        for await (const chunk of res.body) {
          parser.feed(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
          while (queue.length) {
            const event = queue.shift()!;
            await options.onEvent(event);
            last = event.id;
          }
        }
        throw Object.assign(new TnError('unavailable', 'The event stream closed.'), { retryable: true });
      } catch (err) {
        if (options.signal.aborted) return;
        const retryable = (err as { retryable?: boolean }).retryable === true || !(err instanceof TnError);
        if (!retryable) throw err;
        const error = err instanceof TnError ? err : new TnError('unavailable', `Cannot reach ${base}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
        const delay = Math.min(30_000, 500 * 2 ** Math.min(failures++, 6)) * (0.75 + Math.random() * 0.5);
        options.onDrop?.(error, Math.round(delay));
        await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
      }
    }
  } finally {
    if (!options.dispatcher) await dispatcher.close();
  }
}
