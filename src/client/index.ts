/**
 * The HTTP client of a tn (Telenumerus-compatible) server, importable as `tn/client`: the
 * standard fetch / ReadableStream / AbortSignal surface only, so it runs unchanged in Node ≥ 20,
 * Bun, Deno and browsers. No database, no undici, nothing of the embedded broker.
 */
import { RemoteBroker, type RemoteOptions } from './remote.js';

export { RemoteBroker, PRICE_CACHE_MS, FOLLOW_GIVE_UP_MS, type RemoteOptions, type ResponseCache, type Health } from './remote.js';
export { followEvents, type FollowOptions, type StreamedEvent } from './events.js';
export { fetchTransport, type Transport, type HttpInit } from './transport.js';
export { TnError, ERRORS, EXIT, exitCodeFor, type ErrorCode, type ErrorBody } from '../core/errors.js';
export type { Order, OrderStatus } from '../core/orders/order.js';
export type * from '../core/broker.js';

export interface ClientOptions extends Omit<RemoteOptions, 'endpoint'> {
  /** The server's base URL, e.g. `https://tn.example.com` (a trailing `/api/v1` is fine too). */
  endpoint: string;
  apiKey?: string;
}

/** A client of the server at `endpoint`: every call of the `Broker` interface, over HTTP. */
export function createClient(options: ClientOptions): RemoteBroker {
  return new RemoteBroker(options);
}
