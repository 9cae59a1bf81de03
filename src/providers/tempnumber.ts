/**
 * TempNumber as an upstream (issue 7 §4): its REST API over undici, its errors as one typed
 * `UpstreamError`, its per-endpoint rate limits as token buckets that the caller shares between
 * processes (the `limiter`). Facts: `../shared/reference/peers.md`, "TempNumber".
 */
import { request } from 'undici';
import type { Micros } from '../core/money.js';
import { providerUsd, toUsd } from '../core/money.js';
import { UpstreamError, type Upstream, type UpstreamActivation, type UpstreamCheck, type UpstreamEndpoint } from '../core/sources/providers.js';
import { FINAL_STATUSES, SMS_STATUS, TEMPNUMBER_BASE_URL, TEMPNUMBER_LIMITS } from './tempnumber-api.js';

export interface TempNumberOptions {
  apiKey: string;
  baseUrl?: string;
  /** Asks for a token of the endpoint's bucket: 0 when granted, else milliseconds until one is free. */
  limiter?: (endpoint: UpstreamEndpoint) => Promise<number>;
  timeoutMs?: number;
}

export class TempNumber implements Upstream {
  private readonly base: string;

  constructor(private readonly options: TempNumberOptions) {
    this.base = (options.baseUrl ?? TEMPNUMBER_BASE_URL).replace(/\/+$/, '');
  }

  /** `platform/country` → price, from `GET /services/pricelistByCountry` (`[{ c, services: [{ s, p }] }]`). */
  async priceList(): Promise<Map<string, Micros>> {
    const body = await this.call('pricelist', 'GET', '/services/pricelistByCountry');
    const prices = new Map<string, Micros>();
    if (!Array.isArray(body)) throw new UpstreamError('unavailable', 'TempNumber sent a price list that is not a list.');
    for (const country of body as unknown[]) {
      const c = (country as { c?: unknown }).c;
      const services = (country as { services?: unknown }).services;
      if (typeof c !== 'string' || !Array.isArray(services)) continue;
      for (const service of services as unknown[]) {
        const s = (service as { s?: unknown }).s;
        const p = (service as { p?: unknown }).p;
        const micros = providerUsd(p);
        if (typeof s === 'string' && micros !== null) prices.set(`${s.toLowerCase()}/${c.toLowerCase()}`, micros);
      }
    }
    return prices;
  }

  async activate(platform: string, country: string, expectedPrice: Micros): Promise<UpstreamActivation> {
    const body = (await this.call('createActivation', 'POST', '/activations', {
      serviceId: platform,
      countryId: country,
      expectedPrice: toUsd(expectedPrice),
    })) as { id?: unknown; number?: unknown };
    const id = body.id;
    const phone = normaliseNumber(body.number);
    if ((typeof id !== 'string' && typeof id !== 'number') || phone === null) {
      throw new UpstreamError('unavailable', 'TempNumber answered an activation without an id or a number.');
    }
    return { id: String(id), phone, price: expectedPrice, status: 'smsRequested' };
  }

  async check(activationId: string, phase: 'first' | 'retry'): Promise<UpstreamCheck> {
    const body = (await this.call('getActivation', 'GET', `/activations/${encodeURIComponent(activationId)}`)) as {
      status?: unknown;
      message?: unknown;
      code?: unknown;
    };
    if (typeof body.status !== 'string') throw new UpstreamError('unavailable', 'TempNumber answered an activation without a status.');
    const message = typeof body.message === 'string' && body.message !== '' ? body.message : null;
    const status = body.status.toLowerCase();
    return {
      state: status === SMS_STATUS[phase] && message !== null ? 'sms' : FINAL_STATUSES.has(status) ? 'final' : 'waiting',
      status: body.status,
      message,
      // It sends codes as numbers in some answers: "0123" must not lose its zero, so a number is only a fallback.
      code: typeof body.code === 'string' && body.code !== '' ? body.code : typeof body.code === 'number' ? String(body.code) : null,
    };
  }

  async retry(activationId: string): Promise<void> {
    await this.call('updateActivation', 'PUT', `/activations/${encodeURIComponent(activationId)}`, { status: 'retry' });
  }

  /** `GET /user/balance` → `{ balance, reviewBalance }`. */
  async balance(): Promise<Micros> {
    const body = (await this.call('balance', 'GET', '/user/balance')) as { balance?: unknown };
    const micros = providerUsd(body.balance);
    if (micros === null) throw new UpstreamError('unavailable', 'TempNumber answered a balance that is not a USD amount.');
    return micros;
  }

  private async call(endpoint: UpstreamEndpoint, method: 'GET' | 'POST' | 'PUT', path: string, json?: unknown): Promise<unknown> {
    const wait = (await this.options.limiter?.(endpoint)) ?? 0;
    if (wait > 0) throw new UpstreamError('rate_limited', `Holding back: TempNumber allows ${TEMPNUMBER_LIMITS[endpoint].max} ${endpoint} calls per ${TEMPNUMBER_LIMITS[endpoint].windowMs / 1000} s.`, { retryAfterMs: wait, local: true });
    const timeout = this.options.timeoutMs ?? 15_000;
    let res;
    try {
      res = await request(`${this.base}${path}`, {
        method,
        headers: { 'x-api-key': this.options.apiKey, accept: 'application/json', ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
        body: json === undefined ? undefined : JSON.stringify(json),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        // One limit for the whole call (connecting, headers, body): a poll must end within its lease.
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      throw new UpstreamError('unavailable', `TempNumber cannot be reached: ${err instanceof Error ? err.message : String(err)}`);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw new UpstreamError('unavailable', `TempNumber's answer was cut off: ${err instanceof Error ? err.message : String(err)}`);
    }
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      if (res.statusCode < 300) throw new UpstreamError('unavailable', `TempNumber answered ${res.statusCode} with a body that is not JSON.`);
    }
    if (res.statusCode < 300) return body;
    throw toUpstreamError(res.statusCode, body, res.headers['retry-after']);
  }
}

/** TempNumber's `{ errorName, errorMessage }` (names matched without regard to case) as our kinds. */
export function toUpstreamError(status: number, body: unknown, retryAfter: string | string[] | undefined): UpstreamError {
  const name = typeof (body as { errorName?: unknown } | null)?.errorName === 'string' ? (body as { errorName: string }).errorName : '';
  const said = typeof (body as { errorMessage?: unknown } | null)?.errorMessage === 'string' ? (body as { errorMessage: string }).errorMessage : '';
  const message = `TempNumber: ${name || `HTTP ${status}`}${said ? `: ${said}` : ''}`;
  switch (name.toLowerCase()) {
    case 'toomanyrequestsexception':
      return new UpstreamError('rate_limited', message, { retryAfterMs: parseRetryAfter(retryAfter) });
    case 'paymentrequired':
      return new UpstreamError('payment_required', message);
    case 'lowsuccessrateexception':
      return new UpstreamError('low_success_rate', message);
    case 'toomanyactivationspendingexception':
      return new UpstreamError('no_numbers', message);
    case 'expectedpriceerrorexception': {
      return new UpstreamError('price_changed', message, { newPrice: providerUsd((body as { newPrice?: unknown }).newPrice) ?? undefined });
    }
    case 'resourcenotfoundexception':
      return new UpstreamError('not_found', message);
    case 'resourcebadstateexception':
    case 'goneexception':
      return new UpstreamError('bad_state', message);
    case 'unauthorizedexception':
    case 'accountonholdexception':
      return new UpstreamError('unauthorized', message);
    default:
      if (status === 429) return new UpstreamError('rate_limited', message, { retryAfterMs: parseRetryAfter(retryAfter) });
      if (status === 402) return new UpstreamError('payment_required', message);
      if (status === 401 || status === 403) return new UpstreamError('unauthorized', message);
      if (status === 404) return new UpstreamError('not_found', message);
      return new UpstreamError('unavailable', message);
  }
}


/** `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Numbers come as `18454123223` (a JSON number) or a string, with or without `+`. */
function normaliseNumber(value: unknown): string | null {
  const digits = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : typeof value === 'string' ? value.replace(/[\s().-]/g, '') : '';
  const bare = digits.startsWith('+') ? digits.slice(1) : digits;
  return /^[1-9]\d{6,14}$/.test(bare) ? `+${bare}` : null;
}
