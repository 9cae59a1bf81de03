/**
 * Any provider of the sms-activate family (HeroSMS, Grizzly SMS, SMSBower, DaisySMS, …) as an
 * upstream (issue 15 §2): its `handler_api.php` over undici, its plain-text tokens as one typed
 * `UpstreamError`, its calls counted in the caller's shared buckets (the `limiter`). The ids of
 * services and countries come from the one table in `core/catalogue/sms-activate-codes.ts`.
 * Amounts are taken as USD: the provider account must be kept in dollars.
 */
import { request } from 'undici';
import { HANDLER_PATH, countryOfId, familyCountryIdOf, hasFamilyServiceCode, platformOfServiceCode, serviceCodeOf } from '../core/catalogue/sms-activate-codes.js';
import { providerUsd, toUsd, type Micros } from '../core/money.js';
import {
  UpstreamError,
  type ReleaseOutcome,
  type Upstream,
  type UpstreamActivation,
  type UpstreamCheck,
  type UpstreamEndpoint,
  type UpstreamLimits,
} from '../core/sources/providers.js';

/**
 * Our own ceilings on the calls to one provider, shared by every order and process: the family
 * publishes no per-endpoint table, and answers floods with bans, so these stay well below what
 * its clients are seen to send (a poll every few seconds per activation).
 */
export const SMS_ACTIVATE_LIMITS: UpstreamLimits = {
  createActivation: { max: 60, windowMs: 60_000 },
  getActivation: { max: 300, windowMs: 60_000 },
  updateActivation: { max: 60, windowMs: 60_000 },
  pricelist: { max: 3, windowMs: 60_000 },
  balance: { max: 10, windowMs: 60_000 },
};

export interface SmsActivateOptions {
  apiKey: string;
  /** The provider's handler URL (`https://…/stubs/handler_api.php`), or its origin. */
  baseUrl: string;
  /** Asks for a token of the endpoint's bucket: 0 when granted, else milliseconds until one is free. */
  limiter?: (endpoint: UpstreamEndpoint) => Promise<number>;
  timeoutMs?: number;
}

type Answer = { text: string; json: unknown };

export class SmsActivate implements Upstream {
  private readonly url: string;
  /** Whether the provider answers getNumberV2 / getStatusV2; learnt from its first BAD_ACTION. */
  private v2Number = true;
  private v2Status = true;

  constructor(private readonly options: SmsActivateOptions) {
    const url = new URL(options.baseUrl);
    // An origin alone: the family's usual path.
    if (url.pathname === '' || url.pathname === '/') url.pathname = HANDLER_PATH;
    this.url = url.toString().replace(/\?$/, '');
  }

  /** `platform/country` → price, from `getPrices` (`{ "<country id>": { "<service>": { cost, count } } }`); sold-out entries are left out. */
  async priceList(): Promise<Map<string, Micros>> {
    const { json } = await this.call('pricelist', { action: 'getPrices' });
    if (!isObject(json)) throw new UpstreamError('unavailable', 'The provider sent a price list that is not a JSON object.');
    const prices = new Map<string, Micros>();
    for (const [countryId, services] of Object.entries(json)) {
      const country = countryOfId(countryId);
      if (!country || !isObject(services)) continue;
      for (const [code, offer] of Object.entries(services)) {
        const platform = platformOfServiceCode(code);
        if (!platform || !isObject(offer)) continue;
        const cost = providerUsd(offer.cost);
        const count = Number(offer.count ?? 0);
        if (cost !== null && Number.isFinite(count) && count > 0) prices.set(`${platform}/${country}`, cost);
      }
    }
    return prices;
  }

  async activate(platform: string, country: string, expectedPrice: Micros): Promise<UpstreamActivation> {
    const service = serviceCodeOf(platform);
    const countryId = familyCountryIdOf(country);
    if (!service || !hasFamilyServiceCode(platform) || countryId === undefined) {
      throw new UpstreamError('no_numbers', `The sms-activate family has no id for ${platform} in ${country}.`);
    }
    const params = { service, country: String(countryId), maxPrice: usd(expectedPrice) };
    if (this.v2Number) {
      const { text, json } = await this.call('createActivation', { action: 'getNumberV2', ...params }, { v2: true });
      if (text !== 'BAD_ACTION') {
        const a = isObject(json) ? json : {};
        const id = a.activationId;
        const phone = normaliseNumber(a.phoneNumber);
        if ((typeof id !== 'string' && typeof id !== 'number') || phone === null) {
          throw new UpstreamError('unavailable', 'The provider answered getNumberV2 without an activation id or a number.');
        }
        return { id: String(id), phone, price: providerUsd(a.activationCost) ?? expectedPrice, status: 'STATUS_WAIT_CODE' };
      }
      this.v2Number = false;
    }
    const { text } = await this.call('createActivation', { action: 'getNumber', ...params });
    const m = /^ACCESS_NUMBER:([^:]+):(\+?\d+)$/.exec(text);
    const phone = m ? normaliseNumber(m[2]) : null;
    if (!m || phone === null) throw new UpstreamError('unavailable', `The provider answered getNumber with ${JSON.stringify(text.slice(0, 80))}.`);
    return { id: m[1]!, phone, price: expectedPrice, status: 'STATUS_WAIT_CODE' };
  }

  /**
   * `getStatus` says where the activation stands (in a retry, `STATUS_WAIT_RETRY` until the new
   * code is there: the provider's state machine tells a new code from the old one); once it has
   * a code, `getStatusV2` adds the text of the SMS where the provider offers it. Without it, the
   * code stands for the text.
   */
  async check(activationId: string): Promise<UpstreamCheck> {
    const plain = statusOf((await this.call('getActivation', { action: 'getStatus', id: activationId })).text);
    if (plain.state !== 'sms' || !this.v2Status) return plain;
    try {
      const { text, json } = await this.call('getActivation', { action: 'getStatusV2', id: activationId }, { v2: true });
      if (text === 'BAD_ACTION') this.v2Status = false;
      const sms = isObject(json) && isObject(json.sms) ? json.sms : null;
      if (sms && typeof sms.text === 'string' && sms.text.trim() !== '') return { ...plain, message: sms.text };
    } catch {
      // The code is there already: the text is a nicety, not worth losing the code over.
    }
    return plain;
  }

  async retry(activationId: string): Promise<void> {
    await this.setStatus(activationId, '3', 'ACCESS_RETRY_GET');
  }

  /** `setStatus 8` (cancel: the provider refunds us) or `6` (finish). */
  async release(activationId: string, outcome: ReleaseOutcome): Promise<void> {
    if (outcome === 'cancel') await this.setStatus(activationId, '8', 'ACCESS_CANCEL');
    else await this.setStatus(activationId, '6', 'ACCESS_ACTIVATION');
  }

  async balance(): Promise<Micros> {
    const { text } = await this.call('balance', { action: 'getBalance' });
    const m = /^ACCESS_BALANCE:(-?[\d.]+)/.exec(text);
    const micros = m ? providerUsd(m[1]) : null;
    if (micros === null) throw new UpstreamError('unavailable', `The provider answered getBalance with ${JSON.stringify(text.slice(0, 80))}.`);
    return micros;
  }

  private async setStatus(id: string, status: string, expected: string): Promise<void> {
    const { text } = await this.call('updateActivation', { action: 'setStatus', id, status });
    // ACCESS_CANCEL_ALREADY and the like: the provider already has it so.
    if (!text.startsWith(expected)) throw new UpstreamError('unavailable', `The provider answered setStatus ${status} with ${JSON.stringify(text.slice(0, 80))}.`);
  }

  /**
   * One request of the protocol: a GET with the query, as every provider of the family accepts.
   * Its error tokens become UpstreamErrors here; `BAD_ACTION` is left to the caller when asking
   * for a V2 action, which older copies of the protocol lack.
   */
  private async call(endpoint: UpstreamEndpoint, params: Record<string, string>, opts: { v2?: boolean } = {}): Promise<Answer> {
    const wait = (await this.options.limiter?.(endpoint)) ?? 0;
    if (wait > 0) {
      const l = SMS_ACTIVATE_LIMITS[endpoint];
      throw new UpstreamError('rate_limited', `Holding back: at most ${l.max} ${endpoint} calls per ${l.windowMs / 1000} s to this provider.`, { retryAfterMs: wait, local: true });
    }
    const url = new URL(this.url);
    url.searchParams.set('api_key', this.options.apiKey);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const timeout = this.options.timeoutMs ?? 15_000;
    let res;
    try {
      res = await request(url, { method: 'GET', headersTimeout: timeout, bodyTimeout: timeout, signal: AbortSignal.timeout(timeout) });
    } catch (err) {
      // The message never carries the URL: it holds the key.
      throw new UpstreamError('unavailable', `The provider cannot be reached: ${err instanceof Error ? err.name : 'error'}${err instanceof Error && 'code' in err ? ` ${String(err.code)}` : ''}`);
    }
    let text: string;
    try {
      text = (await res.body.text()).trim();
    } catch (err) {
      throw new UpstreamError('unavailable', `The provider's answer was cut off: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (res.statusCode === 429) throw new UpstreamError('rate_limited', 'The provider answered 429.', { retryAfterMs: parseRetryAfter(res.headers['retry-after']) });
    if (res.statusCode === 401 || res.statusCode === 403) throw new UpstreamError('unauthorized', `The provider answered HTTP ${res.statusCode}.`);
    if (res.statusCode >= 300) throw new UpstreamError('unavailable', `The provider answered HTTP ${res.statusCode}.`);
    let json: unknown = null;
    if (text.startsWith('{') || text.startsWith('[')) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new UpstreamError('unavailable', 'The provider answered with broken JSON.');
      }
    }
    // Newer copies wrap their tokens: { "status": "error", "error": "NO_NUMBERS" }, or { "title": "…" }.
    const wrapped = isObject(json) && json.status === 'error' ? json.error ?? json.message ?? json.title : undefined;
    const token = typeof wrapped === 'string' ? wrapped : json === null ? text : '';
    if (opts.v2 && token === 'BAD_ACTION') return { text: 'BAD_ACTION', json: null };
    const failure = tokenError(token);
    if (failure) throw failure;
    return { text, json };
  }
}

/** A getStatus answer as our check. */
function statusOf(text: string): UpstreamCheck {
  const ok = /^STATUS_OK:(.*)$/s.exec(text);
  if (ok) {
    const code = ok[1]!.trim();
    return { state: 'sms', status: 'STATUS_OK', message: code, code: code === '' ? null : code };
  }
  if (text === 'STATUS_CANCEL') return { state: 'final', status: text, message: null, code: null };
  if (text.startsWith('STATUS_WAIT_CODE') || text.startsWith('STATUS_WAIT_RETRY') || text.startsWith('STATUS_WAIT_RESEND')) {
    return { state: 'waiting', status: text.split(':')[0]!, message: null, code: null };
  }
  throw new UpstreamError('unavailable', `The provider answered getStatus with ${JSON.stringify(text.slice(0, 80))}.`);
}

/** The family's error tokens, in terms the router acts on; null for anything that is not one. */
export function tokenError(token: string): UpstreamError | null {
  const say = `sms-activate provider: ${token}`;
  const price = /^WRONG_MAX_PRICE:([\d.]+)/.exec(token);
  if (price) return new UpstreamError('price_changed', say, { newPrice: providerUsd(price[1]) ?? undefined });
  if (/^BANNED/.test(token)) return new UpstreamError('unauthorized', say);
  switch (token) {
    case 'BAD_KEY':
    case 'ERROR_KEY':
      return new UpstreamError('unauthorized', say);
    case 'NO_BALANCE':
      return new UpstreamError('payment_required', say);
    case 'NO_NUMBERS':
    case 'BAD_SERVICE':
    case 'BAD_COUNTRY':
    case 'CHANNELS_LIMIT':
      return new UpstreamError('no_numbers', say);
    case 'NO_ACTIVATION':
    case 'WRONG_ACTIVATION_ID':
      return new UpstreamError('not_found', say);
    case 'BAD_STATUS':
    case 'WRONG_ADDITIONAL_SERVICE':
      return new UpstreamError('bad_state', say);
    case 'EARLY_CANCEL_DENIED':
      return new UpstreamError('too_early', say);
    case 'TOO_MANY_REQUESTS':
    case 'TOO_MANY_ACTIVE_RENTALS':
      return new UpstreamError('rate_limited', say);
    case 'BAD_ACTION':
    case 'ERROR_SQL':
      return new UpstreamError('unavailable', say);
    default:
      return null;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `0.12` for 120000 micros: the protocol's decimal dollars. */
const usd = (micros: Micros): string => String(toUsd(micros));


function normaliseNumber(value: unknown): string | null {
  const digits = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : typeof value === 'string' ? value.replace(/[\s().-]/g, '') : '';
  const bare = digits.startsWith('+') ? digits.slice(1) : digits;
  return /^[1-9]\d{6,14}$/.test(bare) ? `+${bare}` : null;
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) * 1000 : undefined;
}
