import { createParser } from 'eventsource-parser';
import type {
  AccountInfo,
  AgentAnswer,
  Availability,
  BatchResult,
  Broker,
  OrderRequest,
  Registration,
  ServicesList,
  Usage,
  VerifyOptions,
  VerifyRequest,
  WaitOptions,
  WebhookInfo,
  OrderPage,
  OrderQuery,
  PriceList,
  PriceQuery,
  DepositList,
} from '../core/broker.js';
import { TnError, type ErrorCode } from '../core/errors.js';
import { ORDER_ID_HEADER } from './headers.js';
import type { Order } from '../core/orders/order.js';
import { verifySeconds } from '../core/waiting/verify.js';
import { anySignal, fetchTransport, pause, textChunks, type Transport } from './transport.js';

export interface RemoteOptions {
  /** The broker's base URL, e.g. `http://127.0.0.1:8787` (a trailing `/api/v1` is fine too). */
  endpoint: string;
  apiKey?: string;
  /** Retries after the first attempt, for requests that are safe to repeat (default 3). */
  retries?: number;
  /** Timeout of an ordinary request in ms (default 30 s); long polls get their own. */
  timeoutMs?: number;
  /** Longest wait between retries, whatever `Retry-After` says (default 30 s). */
  maxRetryDelayMs?: number;
  /** A `fetch` to use instead of the global one (a proxy-aware one, say). */
  fetch?: typeof fetch;
  /** How requests are sent, when more than a `fetch` is needed (the CLI's undici pool); closed by `close()`. */
  transport?: Transport;
  /** Where price lists are kept for a minute, as upstream price APIs ask of their clients (e.g. a file cache across CLI runs). */
  cache?: ResponseCache;
}

export interface ResponseCache {
  get(key: string): unknown;
  set(key: string, value: unknown, ttlMs: number): void;
}

/** Price lists change rarely and are rate limited upstream: a minute of caching is what clients are asked for. */
export const PRICE_CACHE_MS = 60_000;

export interface Health {
  status: string;
  uptime_seconds: number;
  version: string;
}

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  query?: Record<string, string | number>;
  /** Safe to send twice: an idempotent method, or a request carrying an idempotency key. */
  safe: boolean;
  idempotencyKey?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  auth?: boolean;
  /** 1xx answers before the final one (the early hint of `POST /verify`). */
  onInfo?: (info: { statusCode: number; headers: Record<string, string | string[]> }) => void;
}

/** Errors raised before a request reached the server: always safe to retry. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
const NETWORK_ERRORS = new Set([...CONNECT_ERRORS, 'ENETWORK', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'ENOTFOUND']);

/**
 * The `Broker` interface over HTTP, for any Telenumerus-compatible endpoint. Keep-alive
 * connections; retries with backoff on 429, 503 and network failures that honour `Retry-After`,
 * only where repeating is safe (its own idempotency key makes orders safe); errors become the same
 * typed errors, and so the same exit codes, as the embedded broker's.
 */
export class RemoteBroker implements Broker {
  readonly endpoint: string;
  private readonly base: string;
  private readonly apiKey?: string;
  private readonly retries: number;
  private readonly timeoutMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly transport: Transport;
  private readonly cache?: ResponseCache;

  constructor(options: RemoteOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.base = `${this.endpoint}/api/v1`;
    this.apiKey = options.apiKey;
    this.retries = options.retries ?? 3;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.cache = options.cache;
    this.transport = options.transport ?? fetchTransport(options.fetch);
  }

  register(): Promise<Registration> {
    // Not repeated: a lost answer would otherwise create a second account.
    return this.call({ method: 'POST', path: '/register', safe: false, auth: false });
  }

  health(): Promise<Health> {
    return this.call({ method: 'GET', path: '/health', safe: true, auth: false });
  }

  services(): Promise<ServicesList> {
    return this.call({ method: 'GET', path: '/services', safe: true, auth: this.apiKey !== undefined });
  }

  availability(): Promise<Availability> {
    return this.call({ method: 'GET', path: '/availability', safe: true, auth: false });
  }

  account(): Promise<AccountInfo> {
    return this.call({ method: 'GET', path: '/account', safe: true });
  }

  usage(days = 30): Promise<Usage> {
    return this.call({ method: 'GET', path: '/usage', query: { days }, safe: true });
  }

  order(req: OrderRequest): Promise<Order> {
    const key = req.idempotencyKey ?? newKey();
    return this.call({
      method: 'POST',
      path: '/order',
      body: { platform: req.platform, country: req.country, idempotency_key: key, max_price: req.maxPrice },
      safe: true,
    });
  }

  getOrder(orderId: string): Promise<Order> {
    return this.call({ method: 'GET', path: `/order/${encodeURIComponent(orderId)}`, safe: true });
  }

  cancel(orderId: string): Promise<Order> {
    return this.call({ method: 'POST', path: `/order/${encodeURIComponent(orderId)}/cancel`, safe: false });
  }

  retry(orderId: string): Promise<Order> {
    return this.call({ method: 'POST', path: `/order/${encodeURIComponent(orderId)}/retry`, safe: false });
  }

  /**
   * `POST /verify`, followed to the order's end within its own timeout whatever happens to the
   * connection: the server restarting answers the long poll with the order still active, or drops
   * it; either way the client follows the order's stream, reconnecting with backoff, and at the
   * deadline (or on abort) cancels it, so that a verify ends with a code or a refund as it promises.
   */
  async verify(req: VerifyRequest, options: VerifyOptions = {}): Promise<Order> {
    const timeoutSeconds = verifySeconds(req);
    const deadline = Date.now() + timeoutSeconds * 1000;
    const key = req.idempotencyKey ?? newKey();
    let known: string | undefined;
    let announced = false;
    const announce = (order: Order): void => {
      known = order.order_id;
      if (announced) return;
      announced = true;
      options.onOrder?.(order);
    };
    let order: Order | undefined;
    for (let attempt = 0; order === undefined; attempt++) {
      try {
        order = await this.call<Order>({
          method: 'POST',
          path: '/verify',
          body: {
            platform: req.platform,
            country: req.country,
            timeout_seconds: req.timeoutSeconds,
            idempotency_key: key,
            max_price: req.maxPrice,
            attempts: req.attempts,
            per_attempt_seconds: req.perAttemptSeconds,
          },
          safe: true,
          // The server answers within timeout_seconds + 5 s.
          timeoutMs: (timeoutSeconds + 15) * 1000,
          signal: options.signal,
          onInfo: ({ statusCode, headers }) => {
            const id = headers[ORDER_ID_HEADER];
            if (statusCode !== 103 || typeof id !== 'string' || known) return;
            known = id;
            // The phone and price come with the order itself, on another connection.
            this.getOrder(id).then(announce, () => undefined);
          },
        });
      } catch (err) {
        // Whoever gives up on this order must be able to name it (`tn wait` / `tn cancel`).
        if (options.signal?.aborted || !isUnavailable(err)) throw withOrderId(err, known);
        // The order exists: follow it rather than ask for it again.
        if (known) break;
        if (Date.now() >= deadline) throw err;
        // Not known yet: the same idempotency key brings the same order back once the server does.
        await pause(Math.min(followDelay(attempt), Math.max(0, deadline - Date.now())), options.signal);
        if (options.signal?.aborted) throw err;
      }
    }
    if (order) announce(order);
    if (order && order.status !== 'active') return order;
    const id = order?.order_id ?? known!;
    try {
      return await this.followVerified(id, order, deadline, options.signal);
    } catch (err) {
      throw withOrderId(err, id);
    }
  }

  private async followVerified(id: string, answered: Order | undefined, deadline: number, signal?: AbortSignal): Promise<Order> {
    // Still active before the deadline: the server let go of the wait (it is restarting).
    let followed = answered;
    if (Date.now() < deadline && !signal?.aborted) followed = await this.wait(id, { timeoutMs: deadline - Date.now(), signal });
    if (followed && followed.status !== 'active') return followed;
    // Timed out or abandoned with nobody left holding the verify: end it with its refund, as the server would have.
    try {
      return await this.cancel(id);
    } catch (err) {
      if (err instanceof TnError && err.code === 'order_not_active') return this.getOrder(id);
      throw err;
    }
  }

  batch(items: OrderRequest[]): Promise<BatchResult> {
    return this.call({
      method: 'POST',
      path: '/batch',
      body: { orders: items.map((i) => ({ platform: i.platform, country: i.country, idempotency_key: i.idempotencyKey, max_price: i.maxPrice })) },
      idempotencyKey: newKey(),
      safe: true,
    });
  }

  agent(query: string): Promise<AgentAnswer> {
    // An agent query may order: not repeated.
    return this.call({ method: 'POST', path: '/agent', body: { query }, safe: false, timeoutMs: 160_000 });
  }

  async prices(query: PriceQuery): Promise<PriceList> {
    // Passed as given: the server, not the client, decides what a malformed query means.
    const params = Object.fromEntries(
      Object.entries(query as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const key = `prices ${this.endpoint} ${this.apiKey ? await hashKey(this.apiKey) : '-'} ${JSON.stringify(params)}`;
    const cached = this.cache?.get(key) as PriceList | undefined;
    if (cached) return cached;
    const list = await this.call<PriceList>({ method: 'GET', path: '/prices', query: params, safe: true, auth: this.apiKey !== undefined });
    this.cache?.set(key, list, PRICE_CACHE_MS);
    return list;
  }

  orders(query: OrderQuery = {}): Promise<OrderPage> {
    const params = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
    return this.call({ method: 'GET', path: '/orders', query: params, safe: true });
  }

  setWebhook(url: string, options: { lowBalanceThreshold?: number } = {}): Promise<{ url: string; secret: string }> {
    return this.call({ method: 'PUT', path: '/webhook', body: { url, low_balance_threshold: options.lowBalanceThreshold }, safe: true });
  }

  webhook(): Promise<WebhookInfo> {
    return this.call({ method: 'GET', path: '/webhook', safe: true });
  }

  async removeWebhook(): Promise<void> {
    await this.call({ method: 'DELETE', path: '/webhook', safe: true });
  }

  testWebhook(): Promise<{ webhook_id: string; type: string }> {
    return this.call({ method: 'POST', path: '/webhook/test', safe: false });
  }

  rotateWebhookSecret(): Promise<{ secret: string; previous_secret_expires_at: string }> {
    // Not repeated: a second rotation would push out the secret receivers are moving to.
    return this.call({ method: 'POST', path: '/webhook/rotate-secret', safe: false });
  }

  deposits(): Promise<DepositList> {
    return this.call({ method: 'GET', path: '/deposits', safe: true });
  }

  checkDeposits(): Promise<DepositList> {
    // Looking again changes nothing but when the chain was last read: safe to repeat.
    return this.call({ method: 'POST', path: '/deposits/check', safe: true });
  }

  /**
   * Follows the order's event stream until it leaves `active` or the time is up; reconnects with
   * backoff while the server is unreachable (a restart), up to the deadline, or for
   * `FOLLOW_GIVE_UP_MS` of failures in a row when there is none.
   */
  async wait(orderId: string, options: WaitOptions = {}): Promise<Order> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let failures = 0;
    let failingSince: number | undefined;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || options.signal?.aborted) return this.getOrder(orderId);
      try {
        const ended = await this.followStream(orderId, remaining, options.signal);
        if (ended) return ended;
        failures = 0;
        failingSince = undefined;
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        failingSince ??= Date.now();
        if (deadline === Infinity && Date.now() - failingSince > FOLLOW_GIVE_UP_MS) throw err;
        await pause(Math.min(followDelay(failures++), Math.max(0, deadline - Date.now())), options.signal);
      }
    }
  }

  async close(): Promise<void> {
    await this.transport.close?.();
  }

  /** One connection to `/order/:id/stream`: the final order, or null if it closed early or timed out. */
  private async followStream(orderId: string, ms: number, signal?: AbortSignal): Promise<Order | null> {
    const abort = new AbortController();
    const timer = Number.isFinite(ms) ? setTimeout(() => abort.abort(), ms) : undefined;
    // The answer's headers must come within the ordinary timeout; the stream itself may be quiet for long.
    const headersLate = new AbortController();
    const headersTimer = setTimeout(() => headersLate.abort(), this.timeoutMs);
    const stop = anySignal(signal, abort.signal);
    let ended: Order | null = null;
    try {
      const res = await this.transport.fetch(`${this.base}/order/${encodeURIComponent(orderId)}/stream`, {
        method: 'GET',
        headers: { ...this.authHeaders(true), accept: 'text/event-stream' },
        signal: anySignal(stop, headersLate.signal),
      });
      clearTimeout(headersTimer);
      if (res.status >= 400) throw errorFrom(res.status, await res.text(), res.headers);
      const parser = createParser({
        onEvent: (event) => {
          if (event.event === 'end') {
            ended = JSON.parse(event.data) as Order;
            abort.abort();
          }
        },
      });
      for await (const chunk of textChunks(res)) {
        parser.feed(chunk);
        if (ended) break;
      }
    } catch (err) {
      if (ended) return ended;
      if (stop.aborted) return null;
      throw asTnError(headersLate.signal.aborted ? timedOut() : err, this.endpoint);
    } finally {
      clearTimeout(timer);
      clearTimeout(headersTimer);
    }
    return ended;
  }

  private authHeaders(auth: boolean): Record<string, string> {
    if (!auth) return {};
    if (!this.apiKey) {
      throw new TnError('unauthorized', `No API key for ${this.endpoint}: run \`tn register --endpoint ${this.endpoint}\` or \`tn login --key <key>\`.`);
    }
    return { authorization: `Bearer ${this.apiKey}` };
  }

  private async call<T>(c: Call): Promise<T> {
    const url = new URL(this.base + c.path);
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeaders(c.auth ?? true) };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    if (c.idempotencyKey) headers['idempotency-key'] = c.idempotencyKey;
    const body = c.body === undefined ? undefined : JSON.stringify(c.body);
    const timeout = c.timeoutMs ?? this.timeoutMs;

    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt<T>(url, c, headers, body, timeout);
      if (outcome.ok) return outcome.value;
      if (!outcome.retryable || attempt >= this.retries) throw outcome.error;
      const delay = Math.min(this.maxRetryDelayMs, outcome.delayMs ?? backoff(attempt));
      await pause(delay, c.signal);
      if (c.signal?.aborted) throw outcome.error;
    }
  }

  /** One try: the answer, or the error and whether trying again is safe and useful. */
  private async attempt<T>(
    url: URL,
    c: Call,
    headers: Record<string, string>,
    body: string | undefined,
    timeout: number,
  ): Promise<{ ok: true; value: T } | { ok: false; error: TnError; retryable: boolean; delayMs?: number }> {
    const late = new AbortController();
    const timer = setTimeout(() => late.abort(), timeout);
    try {
      const res = await this.transport.fetch(url.toString(), { method: c.method, headers, body, signal: anySignal(c.signal, late.signal), onInfo: c.onInfo });
      const text = await res.text();
      if (res.status < 300) return { ok: true, value: (text === '' ? undefined : JSON.parse(text)) as T };
      const error = errorFrom(res.status, text, res.headers);
      // A rate-limit 429 means the server did nothing (a delivery-rate refusal lasts hours: not retried);
      // a 503 "unavailable" (not "no_numbers") is worth another try when safe.
      const retryable = error.code === 'rate_limited' || (res.status === 503 && error.code === 'unavailable' && c.safe);
      return { ok: false, error, retryable, delayMs: retryAfterMs(res.headers.get('retry-after')) };
    } catch (caught) {
      if (c.signal?.aborted) return { ok: false, error: new TnError('unavailable', 'The request was interrupted.'), retryable: false };
      const err = late.signal.aborted ? timedOut() : caught;
      const code = networkCode(err);
      // Nothing was sent when the connection failed: any request may go again. After that, only safe ones.
      const retryable = code !== undefined && (CONNECT_ERRORS.has(code) || (c.safe && NETWORK_ERRORS.has(code)));
      return { ok: false, error: asTnError(err, this.endpoint), retryable };
    } finally {
      clearTimeout(timer);
    }
  }
}

const newKey = (): string => `tn-${globalThis.crypto.randomUUID()}`;

const timedOut = (): Error => Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });

/** How long `wait` without a timeout keeps reconnecting to a server that stays unreachable. */
export const FOLLOW_GIVE_UP_MS = 60_000;

/** Reconnecting to a restarting server: the usual backoff, but never more than 2 s apart, so a restart costs little of the wait. */
const followDelay = (attempt: number): number => Math.min(2_000, backoff(attempt));

/** The error, carrying the id of the order it leaves behind (in `--json` too). */
const withOrderId = (err: unknown, orderId: string | undefined): unknown =>
  orderId && err instanceof TnError ? new TnError(err.code, err.message, { ...err.details, order_id: orderId }) : err;

const isUnavailable = (err: unknown): boolean => err instanceof TnError && err.code === 'unavailable';

/** Cache entries are per key holder (prices include `your_price`), without writing the key itself anywhere. */
async function hashKey(key: string): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** 200 ms, 400 ms, 800 ms … with ±25% jitter, so clients that failed together do not retry together. */
const backoff = (attempt: number): number => 200 * 2 ** attempt * (0.75 + Math.random() * 0.5);

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  402: 'insufficient_balance',
  404: 'not_found',
  409: 'order_not_active',
  413: 'payload_too_large',
  422: 'idempotency_key_reused',
  429: 'rate_limited',
  503: 'unavailable',
};

/** The typed error of an error answer: its `error` body when it has one, else one chosen by status. */
function errorFrom(status: number, text: string, headers: Headers): TnError {
  try {
    const parsed = JSON.parse(text) as { error?: Record<string, unknown> };
    if (parsed.error && typeof parsed.error === 'object') return TnError.fromBody(parsed.error);
  } catch {
    // Not our JSON: a proxy's page, say.
  }
  const code = STATUS_CODES[status] ?? (status >= 500 ? 'unavailable' : 'invalid_request');
  const details = status === 429 ? { retry_after: (retryAfterMs(headers.get('retry-after')) ?? 1000) / 1000 } : {};
  return new TnError(code, `The server answered HTTP ${status}.`, details);
}

/** Bun's names for what Node calls ECONNREFUSED and friends. */
const BUN_CODES: Record<string, string> = { ConnectionRefused: 'ECONNREFUSED', ConnectionReset: 'ECONNRESET', ConnectionClosed: 'ECONNRESET', FailedToOpenSocket: 'ECONNREFUSED' };

function networkCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  if (code) return BUN_CODES[code] ?? code;
  // Browsers and Deno say only that fetch failed: a network error, of unknown phase, unless the text tells.
  if (err instanceof TypeError) return /refused/i.test(String(e.message)) ? 'ECONNREFUSED' : 'ENETWORK';
  return undefined;
}

function asTnError(err: unknown, endpoint: string): TnError {
  if (err instanceof TnError) return err;
  const code = networkCode(err);
  const what = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'DNS lookup failed' : code ?? (err instanceof Error ? err.message : String(err));
  return new TnError('unavailable', `Cannot reach ${endpoint}: ${what}.`);
}
