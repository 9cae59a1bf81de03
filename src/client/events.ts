import { createParser } from 'eventsource-parser';
import { TnError } from '../core/errors.js';
import { anySignal, fetchTransport, pause, textChunks, type Transport } from './transport.js';

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
  /** How to connect (default: the global `fetch`); not closed here. */
  transport?: Transport;
}

/**
 * Follows the account's event stream until `signal` aborts, reconnecting with backoff and
 * `Last-Event-ID` so that nothing still in the outbox is missed. A 401 or 404 ends it: those do
 * not get better by trying again.
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  const base = options.endpoint.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const transport = options.transport ?? fetchTransport();
  let last = options.lastEventId;
  let failures = 0;
  let opened = false;
  // The server's `retry:` is the least wait before reconnecting, as a browser would take it.
  let serverRetryMs = 0;
  while (!options.signal.aborted) {
    const headersLate = new AbortController();
    const headersTimer = setTimeout(() => headersLate.abort(), 30_000);
    try {
      const res = await transport.fetch(`${base}/api/v1/events`, {
        method: 'GET',
        headers: { authorization: `Bearer ${options.apiKey}`, accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
        signal: anySignal(options.signal, headersLate.signal),
      });
      clearTimeout(headersTimer);
      if (res.status !== 200) {
        const text = await res.text();
        let err: TnError;
        try {
          err = TnError.fromBody((JSON.parse(text) as { error: Record<string, unknown> }).error);
        } catch {
          err = new TnError('unavailable', `The event stream answered HTTP ${res.status}.`);
        }
        if (res.status === 401 || res.status === 404 || res.status === 400) throw err;
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
        onRetry: (ms) => (serverRetryMs = ms),
      });
      for await (const chunk of textChunks(res)) {
        parser.feed(chunk);
        while (queue.length) {
          const event = queue.shift()!;
          await options.onEvent(event);
          last = event.id;
        }
      }
      throw Object.assign(new TnError('unavailable', 'The event stream closed.'), { retryable: true });
    } catch (err) {
      clearTimeout(headersTimer);
      if (options.signal.aborted) return;
      const retryable = (err as { retryable?: boolean }).retryable === true || !(err instanceof TnError);
      if (!retryable) throw err;
      const error = err instanceof TnError ? err : new TnError('unavailable', `Cannot reach ${base}: ${(err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code ?? String(err)}.`);
      const delay = Math.max(serverRetryMs, Math.min(30_000, 500 * 2 ** Math.min(failures++, 6)) * (0.75 + Math.random() * 0.5));
      options.onDrop?.(error, Math.round(delay));
      await pause(delay, options.signal);
    }
  }
}
