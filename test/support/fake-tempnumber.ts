/**
 * A fake of the TempNumber upstream provider API for the tests: a plain `node:http` server that
 * behaves as TempNumber's documentation says, and nothing more. What the documentation leaves
 * open is marked **Assumption** where the fake has to pick something; clients should not rely on
 * those choices (and the real API may differ there).
 *
 * Documented behaviour it follows:
 * - Base `…/api/v1`, authentication by the `x-api-key` header.
 * - Service ids are lower-case service names (`instagram`), country ids lower-case ISO alpha-2 (`us`).
 * - `GET /services/pricelistByService`, `GET /services/pricelistByCountry`,
 *   `GET /services/{serviceId}/countries/{countryId}`, `POST /activations`, `GET /activations/{id}`,
 *   `PUT /activations/{id}` (`{ "status": "retry" }`), `GET /activations` (history, paged) and
 *   `GET /user/balance`. Prices are USD numbers.
 * - A new activation is in `smsRequested`. There is no cancel call: a number that expires without
 *   an SMS becomes `refunded` and its price goes back to the balance; once an SMS was received,
 *   expiry makes it `serviceConsumed` (no refund). Final states: `error`, `refunded`, `serviceConsumed`.
 * - Errors are JSON `{ errorName, errorMessage }` with the documented names and statuses.
 * - Per-endpoint rate limits over a sliding window per API key; exceeding one answers 429
 *   `TooManyRequestsException` with `Retry-After` (whole seconds until the oldest request counted
 *   leaves the window).
 * - The delivery rule: from the 5th activation of a service in a country within 24 h, at least 7%
 *   must receive an SMS, else new activations there are refused (`lowSuccessRateException`) for 24 h.
 *
 * Time comes from the injectable `now` clock; nothing runs on timers. Expired numbers are settled
 * lazily: at the start of every request (and of `deliver` / `lapse`), each activation whose
 * `numberExpireAt <= now()` is settled first.
 *
 * Money is kept in integer micro-USD internally (no float drift) and shown as USD numbers.
 *
 * Every fake started in a test is closed after that test (like the other servers in test/support).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

/** The endpoints of the API, as named for limits and fault injection. */
export type FakeEndpoint =
  | 'listActivations'
  | 'createActivation'
  | 'getActivation'
  | 'updateActivation'
  | 'serviceCountry'
  | 'pricelistByService'
  | 'pricelistByCountry'
  | 'balance';

/** How to start a fake. Every field is optional. */
export interface FakeTempNumberOptions {
  /** The one API key accepted in `x-api-key`. Default `'tempnumber-test-key'`. */
  apiKey?: string;
  /** Starting balance in USD. Default 100. */
  balance?: number;
  /**
   * Prices in USD, service id → country id → price. Default
   * `{ instagram: { us: 0.15, gb: 0.2 }, whatsapp: { us: 0.3, gb: 0.35 }, telegram: { us: 0.1 } }`.
   */
  prices?: Record<string, Record<string, number>>;
  /** How long a number lives after its activation is created, in ms. Default 20 minutes. */
  numberTtlMs?: number;
  /** Overrides of the documented per-endpoint limits (sliding windows per API key). */
  limits?: Partial<Record<FakeEndpoint, { max: number; windowMs: number }>>;
  /** How many activations may wait for an SMS at once before `TooManyActivationsPendingException`. Default 20. */
  maxPending?: number;
  /** The clock, in epoch ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * An activation as the fake holds it (times in epoch ms, price in USD). The objects in
 * {@link FakeTempNumber.activations} are live: a test may change them (say `retryAvailable`).
 */
export interface FakeActivation {
  /** Assumption: the id format is undocumented; the fake uses decimal digit strings. */
  id: string;
  status: string;
  serviceId: string;
  countryId: string;
  /** E.164, from fiction ranges (US/CA +1 XXX 555-01NN, GB +44 7700 900NNN, FR +33 6 39 98 NN NN). */
  number: string;
  /** The price charged, in USD. */
  price: number;
  /** The text of the last SMS (`null` until one arrives). */
  message: string | null;
  /** The code of the last SMS (`null` until one arrives). */
  code: string | null;
  createdAt: number;
  numberExpireAt: number;
  retryAvailable: boolean;
}

/** A running fake. */
export interface FakeTempNumber {
  /** The API base, `http://127.0.0.1:PORT/api/v1`. */
  url: string;
  /** The API key it accepts. */
  apiKey: string;
  /** Every activation created, by id (live objects). */
  activations: Map<string, FakeActivation>;
  /** Every request, in order of arrival: method, path (without query string) and the status answered. */
  requests: { method: string; path: string; status: number }[];
  /** The current balance in USD. */
  balance(): number;
  /** Sets the balance, in USD. */
  setBalance(usd: number): void;
  /** Sets the price of a service in a country, in USD; `null` removes it (then 404 for that pair). */
  setPrice(service: string, country: string, usd: number | null): void;
  /**
   * An SMS arrives for activation `id`: `smsRequested` → `smsReceived`, `retryRequested` →
   * `retryReceived`, with `message` and `code` set. Throws when the activation is unknown or not
   * waiting for an SMS (expired numbers are settled first, so a lapsed one throws too).
   */
  deliver(id: string, message: string, code: string): void;
  /**
   * The number's time runs out now: `numberExpireAt` becomes `now()` and the activation is settled
   * (`refunded`, price back to the balance, if no SMS was received; else `serviceConsumed`).
   * Throws when the activation is unknown or already final.
   */
  lapse(id: string): void;
  /**
   * The next `count` requests to `endpoint` (with a valid key) answer 429 `TooManyRequestsException`,
   * with `Retry-After: retryAfterSeconds` when given and without the header when undefined. They do
   * not count against the rate limits.
   */
  storm(endpoint: FakeEndpoint, count: number, retryAfterSeconds?: number): void;
  /**
   * The next `count` requests to `endpoint` (with a valid key) answer `status` with
   * `{ errorName, errorMessage, ...extra }` (`extra` may override `errorMessage`). Queued after any
   * earlier `storm` / `failNext` for the same endpoint.
   */
  failNext(endpoint: FakeEndpoint, count: number, status: number, errorName: string, extra?: Record<string, unknown>): void;
  /** Stops the server (dropping open connections). Idempotent. */
  close(): Promise<void>;
}

/** The documented per-endpoint limits (per API key, sliding window). */
const DOCUMENTED_LIMITS: Record<FakeEndpoint, { max: number; windowMs: number }> = {
  listActivations: { max: 10, windowMs: 60_000 },
  createActivation: { max: 80, windowMs: 120_000 },
  getActivation: { max: 80, windowMs: 120_000 },
  updateActivation: { max: 10, windowMs: 60_000 },
  serviceCountry: { max: 80, windowMs: 120_000 },
  pricelistByService: { max: 3, windowMs: 60_000 },
  pricelistByCountry: { max: 3, windowMs: 60_000 },
  balance: { max: 10, windowMs: 60_000 },
};

const DEFAULT_PRICES: Record<string, Record<string, number>> = {
  instagram: { us: 0.15, gb: 0.2 },
  whatsapp: { us: 0.3, gb: 0.35 },
  telegram: { us: 0.1 },
};

const FINAL = new Set(['error', 'refunded', 'serviceConsumed']);
/** Statuses in which an SMS is awaited (numberRequested/numberReceived are never produced by the fake). */
const WAITING = new Set(['numberRequested', 'numberReceived', 'smsRequested', 'retryRequested']);
const DAY_MS = 24 * 60 * 60_000;
/** The delivery rule: from this many activations in the 24 h window… */
const GUARD_MIN = 5;
/** …at least this share must have received an SMS. */
const GUARD_RATE = 0.07;

const SERVICE_ID = /^[a-z0-9][a-z0-9_-]*$/;
const COUNTRY_ID = /^[a-z]{2}$/;
const ACTIVATION_ID = /^[0-9]+$/;

const MICROS = 1_000_000;
const toMicros = (usd: number): number => Math.round(usd * MICROS);
const toUsd = (micros: number): number => micros / MICROS;

function checkUsd(usd: number, what: string): void {
  if (!Number.isFinite(usd) || usd < 0) throw new Error(`${what} must be a finite USD amount >= 0, got ${usd}`);
}

/** An error answer: `{ errorName, errorMessage, ...extra }` with `status` and extra headers. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    readonly errorMessage: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${errorName}: ${errorMessage}`);
  }
}

const badRequest = (message: string): ApiError => new ApiError(400, 'InvalidRequestParamsException', message);
const notFound = (message: string): ApiError => new ApiError(404, 'ResourceNotFoundException', message);
const badState = (message: string): ApiError => new ApiError(409, 'ResourceBadStateException', message);

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

// Area codes for the fiction range NXX 555-0100..0199 (distinct between US and CA).
const US_AREAS = ['201', '212', '305', '312', '415', '503', '617', '646', '702', '718'];
const CA_AREAS = ['416', '438', '514', '604', '613', '647', '778', '819', '902', '905'];

/**
 * The `n`-th number handed out in `country`, in E.164, from ranges reserved for fiction.
 * Assumption: for countries other than us/ca/gb/fr (no documented fiction range here) the fake
 * uses the unassigned country code +999.
 */
function numberFor(country: string, n: number): string {
  switch (country) {
    case 'us':
    case 'ca': {
      const areas = country === 'us' ? US_AREAS : CA_AREAS;
      return `+1${areas[Math.floor(n / 100) % areas.length]}55501${pad(n % 100, 2)}`;
    }
    case 'gb':
      return `+447700900${pad(n % 1000, 3)}`;
    case 'fr':
      return `+3363998${pad(n % 10_000, 4)}`;
    default:
      return `+999${pad(n % 100_000_000, 8)}`;
  }
}

/** A human format of a number from {@link numberFor}. */
function formatNumber(number: string): string {
  let m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  if (m) return `+1 (${m[1]}) ${m[2]}-${m[3]}`;
  m = /^\+44(\d{4})(\d{6})$/.exec(number);
  if (m) return `+44 ${m[1]} ${m[2]}`;
  m = /^\+33(\d)(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(number);
  if (m) return `+33 ${m.slice(1).join(' ')}`;
  m = /^\+999(\d{4})(\d{4})$/.exec(number);
  if (m) return `+999 ${m[1]} ${m[2]}`;
  return number;
}

/** Whether the activation ever received an SMS. */
function hadSms(a: FakeActivation): boolean {
  return a.message !== null || a.status === 'smsReceived' || a.status === 'retryReceived' || a.status === 'retryRequested';
}

interface Route {
  endpoint: FakeEndpoint;
  params: string[];
}

/** Matches `method` and the path segments after `/api/v1`; `null` for unknown routes. */
function matchRoute(method: string, segs: string[]): Route | null {
  const [a, b, c, d] = segs;
  if (segs.length === 1 && a === 'activations') {
    if (method === 'GET') return { endpoint: 'listActivations', params: [] };
    if (method === 'POST') return { endpoint: 'createActivation', params: [] };
  }
  if (segs.length === 2 && a === 'activations' && b !== undefined) {
    if (method === 'GET') return { endpoint: 'getActivation', params: [b] };
    if (method === 'PUT') return { endpoint: 'updateActivation', params: [b] };
  }
  if (method !== 'GET') return null;
  if (segs.length === 2 && a === 'services' && b === 'pricelistByService') return { endpoint: 'pricelistByService', params: [] };
  if (segs.length === 2 && a === 'services' && b === 'pricelistByCountry') return { endpoint: 'pricelistByCountry', params: [] };
  if (segs.length === 4 && a === 'services' && b !== undefined && c === 'countries' && d !== undefined) {
    return { endpoint: 'serviceCountry', params: [b, d] };
  }
  if (segs.length === 2 && a === 'user' && b === 'balance') return { endpoint: 'balance', params: [] };
  return null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The JSON object body of a POST/PUT, or a 400. */
function jsonBody(req: IncomingMessage, raw: string): Record<string, unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw badRequest('the body must be JSON (content-type: application/json)');
  if (raw.trim() === '') throw badRequest('the body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** A positive integer query parameter, its default when absent, else a 400. */
function positiveInt(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) throw badRequest(`${name} must be a positive integer`);
  return Number(raw);
}

const open = new Set<FakeTempNumber>();

afterEach(async () => {
  for (const f of [...open]) await f.close();
});

/** Starts a fake on 127.0.0.1 and a free port. It is closed after the current test. */
export async function startFakeTempNumber(options: FakeTempNumberOptions = {}): Promise<FakeTempNumber> {
  const apiKey = options.apiKey ?? 'tempnumber-test-key';
  const now = options.now ?? Date.now;
  const numberTtlMs = options.numberTtlMs ?? 20 * 60_000;
  const maxPending = options.maxPending ?? 20;
  const limits: Record<FakeEndpoint, { max: number; windowMs: number }> = { ...DOCUMENTED_LIMITS, ...options.limits };

  checkUsd(options.balance ?? 100, 'balance');
  let balanceMicros = toMicros(options.balance ?? 100);
  /** service → country → price in micro-USD, in insertion order. */
  const prices = new Map<string, Map<string, number>>();
  const setPrice = (service: string, country: string, usd: number | null): void => {
    if (usd === null) {
      prices.get(service)?.delete(country);
      if (prices.get(service)?.size === 0) prices.delete(service);
      return;
    }
    checkUsd(usd, `price of ${service}/${country}`);
    let byCountry = prices.get(service);
    if (!byCountry) prices.set(service, (byCountry = new Map()));
    byCountry.set(country, toMicros(usd));
  };
  for (const [service, byCountry] of Object.entries(options.prices ?? DEFAULT_PRICES)) {
    for (const [country, usd] of Object.entries(byCountry)) setPrice(service, country, usd);
  }

  const activations = new Map<string, FakeActivation>();
  const requests: FakeTempNumber['requests'] = [];
  let nextId = 1_000_001;
  const numbersIssued = new Map<string, number>();
  /** apiKey + endpoint → timestamps of the requests counted in the window. */
  const windows = new Map<string, number[]>();
  /** Injected answers per endpoint, in order. */
  const faults = new Map<FakeEndpoint, ApiError[]>();
  /** `service/country` → epoch ms until which new activations there are refused. */
  const blockedUntil = new Map<string, number>();

  /** Settles one activation if its number has expired at `at`. */
  const settle = (a: FakeActivation, at: number): void => {
    if (FINAL.has(a.status) || a.numberExpireAt > at) return;
    if (hadSms(a)) {
      a.status = 'serviceConsumed';
    } else {
      a.status = 'refunded';
      balanceMicros += toMicros(a.price);
    }
    a.retryAvailable = false;
  };
  const settleAll = (): void => {
    const at = now();
    for (const a of activations.values()) settle(a, at);
  };

  const serialize = (a: FakeActivation): Record<string, unknown> => ({
    id: a.id,
    status: a.status,
    countryId: a.countryId,
    serviceId: a.serviceId,
    number: a.number,
    formatNumber: formatNumber(a.number),
    message: a.message,
    code: a.code,
    price: a.price,
    createdAt: new Date(a.createdAt).toISOString(),
    numberExpireAt: new Date(a.numberExpireAt).toISOString(),
    retryAvailable: a.retryAvailable,
    // Assumption: the values of `reason` are undocumented; the fake always answers null.
    reason: null,
  });

  /** Counts a request against the endpoint's sliding window, or throws the 429. */
  const rateLimit = (endpoint: FakeEndpoint, key: string): void => {
    const { max, windowMs } = limits[endpoint];
    const at = now();
    const id = `${key}\u0000${endpoint}`;
    const kept = (windows.get(id) ?? []).filter((t) => t > at - windowMs);
    windows.set(id, kept);
    if (kept.length >= max) {
      const oldest = kept[0] ?? at;
      const seconds = Math.max(1, Math.ceil((oldest + windowMs - at) / 1000));
      throw new ApiError(
        429,
        'TooManyRequestsException',
        `rate limit of ${max} requests per ${windowMs / 1000} s exceeded for this endpoint`,
        {},
        { 'retry-after': String(seconds) },
      );
    }
    kept.push(at);
  };

  /** The price of a pair in micro-USD, or a 404. */
  const priceOf = (service: string, country: string): number => {
    const micros = prices.get(service)?.get(country);
    if (micros === undefined) throw notFound(`no price for service ${service} in country ${country}`);
    return micros;
  };

  const checkServiceId = (v: unknown): string => {
    if (typeof v !== 'string' || !SERVICE_ID.test(v)) throw badRequest('serviceId must be a lower-case service name');
    return v;
  };
  const checkCountryId = (v: unknown): string => {
    if (typeof v !== 'string' || !COUNTRY_ID.test(v)) throw badRequest('countryId must be a lower-case ISO 3166 alpha-2 code');
    return v;
  };
  const findActivation = (id: string): FakeActivation => {
    if (!ACTIVATION_ID.test(id)) throw badRequest('invalid activation id');
    const a = activations.get(id);
    if (!a) throw notFound(`activation ${id} not found`);
    return a;
  };

  /** The delivery rule for a new activation of `service` in `country` at `at`; throws the 403. */
  const deliveryRule = (service: string, country: string, at: number): void => {
    const pair = `${service}/${country}`;
    const until = blockedUntil.get(pair);
    const refuse = (lifts: number): ApiError =>
      new ApiError(
        403,
        'lowSuccessRateException',
        `fewer than 7% of recent ${service} activations in ${country} received an SMS; new ones are refused until ${new Date(lifts).toISOString()}`,
      );
    if (until !== undefined && until > at) throw refuse(until);
    // Assumption (the documentation does not say): activations still waiting for their first SMS
    // are not judged yet; only those that received an SMS or ended without one count.
    const judged = [...activations.values()].filter(
      (a) => a.serviceId === service && a.countryId === country && a.createdAt > at - DAY_MS && (hadSms(a) || FINAL.has(a.status)),
    );
    if (judged.length < GUARD_MIN) return;
    const received = judged.filter(hadSms).length;
    if (received / judged.length < GUARD_RATE) {
      blockedUntil.set(pair, at + DAY_MS);
      throw refuse(at + DAY_MS);
    }
  };

  const handlers: Record<FakeEndpoint, (params: string[], query: URLSearchParams, body: () => Record<string, unknown>) => [number, unknown]> = {
    listActivations(_params, query) {
      // Assumption: the default page size is undocumented; the fake uses 20 and no upper bound.
      const page = positiveInt(query, 'page', 1);
      const limit = positiveInt(query, 'limit', 20);
      const all = [...activations.values()].sort((x, y) => y.createdAt - x.createdAt || Number(y.id) - Number(x.id));
      const total = all.length;
      return [200, { activations: all.slice((page - 1) * limit, page * limit).map(serialize), page, limit, pages: Math.ceil(total / limit), total }];
    },
    createActivation(_params, _query, body) {
      const b = body();
      const serviceId = checkServiceId(b.serviceId);
      const countryId = checkCountryId(b.countryId);
      const expected = b.expectedPrice;
      if (expected !== undefined && (typeof expected !== 'number' || !Number.isFinite(expected) || expected < 0)) {
        throw badRequest('expectedPrice must be a USD amount >= 0');
      }
      const priceMicros = priceOf(serviceId, countryId);
      // Assumption: the order of these checks is undocumented.
      if (expected !== undefined && toMicros(expected) < priceMicros) {
        throw new ApiError(409, 'expectedPriceErrorException', `the price is now ${toUsd(priceMicros)} USD`, { newPrice: toUsd(priceMicros) });
      }
      const at = now();
      deliveryRule(serviceId, countryId, at);
      const pending = [...activations.values()].filter((a) => WAITING.has(a.status)).length;
      if (pending >= maxPending) {
        throw new ApiError(409, 'TooManyActivationsPendingException', `${pending} activations are waiting for an SMS (at most ${maxPending})`);
      }
      if (balanceMicros < priceMicros) {
        throw new ApiError(402, 'paymentRequired', `the balance ${toUsd(balanceMicros)} USD is below the price ${toUsd(priceMicros)} USD`);
      }
      const issued = numbersIssued.get(countryId) ?? 0;
      numbersIssued.set(countryId, issued + 1);
      const a: FakeActivation = {
        id: String(nextId++),
        status: 'smsRequested',
        serviceId,
        countryId,
        number: numberFor(countryId, issued),
        price: toUsd(priceMicros),
        message: null,
        code: null,
        createdAt: at,
        numberExpireAt: at + numberTtlMs,
        retryAvailable: true,
      };
      balanceMicros -= priceMicros;
      activations.set(a.id, a);
      // Assumption: the success status is undocumented; the fake answers 200.
      return [200, { id: a.id, number: a.number }];
    },
    getActivation([id = '']) {
      return [200, serialize(findActivation(id))];
    },
    updateActivation([id = ''], _query, body) {
      const b = body();
      if (b.status !== 'retry') throw badRequest('status must be "retry"');
      const a = findActivation(id);
      if (a.status !== 'smsReceived' && a.status !== 'retryReceived') throw badState(`activation ${id} is ${a.status}; a retry needs smsReceived or retryReceived`);
      if (!a.retryAvailable) throw badState(`no retry available for activation ${id}`);
      if (a.numberExpireAt <= now()) throw badState(`the number of activation ${id} has expired`);
      // The last message and code stay until the next SMS replaces them.
      a.status = 'retryRequested';
      return [200, { result: 'success' }];
    },
    serviceCountry([service = '', country = '']) {
      checkServiceId(service);
      checkCountryId(country);
      // Assumption: the shape of this answer is undocumented; the fake answers { price, available }.
      return [200, { price: toUsd(priceOf(service, country)), available: true }];
    },
    pricelistByService() {
      // Assumption: this shape mirrors the documented pricelistByCountry one.
      return [200, [...prices].map(([s, byCountry]) => ({ s, countries: [...byCountry].map(([c, p]) => ({ c, p: toUsd(p) })) }))];
    },
    pricelistByCountry() {
      const byCountry = new Map<string, { s: string; p: number }[]>();
      for (const [s, countries] of prices) {
        for (const [c, p] of countries) {
          let list = byCountry.get(c);
          if (!list) byCountry.set(c, (list = []));
          list.push({ s, p: toUsd(p) });
        }
      }
      return [200, [...byCountry].map(([c, services]) => ({ c, services }))];
    },
    balance() {
      // Assumption: the meaning of reviewBalance is undocumented; the fake always answers 0.
      return [200, { balance: toUsd(balanceMicros), reviewBalance: 0 }];
    },
  };

  const send = (res: ServerResponse, entry: { status: number }, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    entry.status = status;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string, entry: { status: number }): void => {
    settleAll();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const segs = url.pathname.split('/').slice(1);
    let route: Route | null = null;
    if (segs[0] === 'api' && segs[1] === 'v1') {
      let rest: string[] | null;
      try {
        rest = segs.slice(2).map((s) => decodeURIComponent(s));
      } catch {
        rest = null;
      }
      if (rest) route = matchRoute(method, rest);
    }
    if (!route) throw notFound(`no route ${method} ${url.pathname}`);
    const key = req.headers['x-api-key'];
    if (key !== apiKey) throw new ApiError(401, 'UnauthorizedException', key === undefined ? 'missing x-api-key' : 'invalid x-api-key');
    const fault = faults.get(route.endpoint)?.shift();
    if (fault) throw fault;
    rateLimit(route.endpoint, key);
    const [status, body] = handlers[route.endpoint](route.params, url.searchParams, () => jsonBody(req, raw));
    send(res, entry, status, body);
  };

  const server: Server = createServer((req, res) => {
    const entry = { method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '', status: 0 };
    requests.push(entry);
    readBody(req).then(
      (raw) => {
        try {
          handle(req, res, raw, entry);
        } catch (err) {
          if (err instanceof ApiError) {
            send(res, entry, err.status, { errorName: err.errorName, errorMessage: err.errorMessage, ...err.extra }, err.headers);
          } else {
            send(res, entry, 500, { errorName: 'InternalServerError', errorMessage: err instanceof Error ? err.message : String(err) });
          }
        }
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const inject = (endpoint: FakeEndpoint, count: number, fault: () => ApiError): void => {
    if (!(endpoint in DOCUMENTED_LIMITS)) throw new Error(`unknown endpoint ${endpoint}`);
    let queue = faults.get(endpoint);
    if (!queue) faults.set(endpoint, (queue = []));
    for (let i = 0; i < count; i++) queue.push(fault());
  };

  let closed = false;
  const fake: FakeTempNumber = {
    url: `http://127.0.0.1:${port}/api/v1`,
    apiKey,
    activations,
    requests,
    balance: () => toUsd(balanceMicros),
    setBalance(usd) {
      checkUsd(usd, 'balance');
      balanceMicros = toMicros(usd);
    },
    setPrice,
    deliver(id, message, code) {
      settleAll();
      const a = activations.get(id);
      if (!a) throw new Error(`deliver: no activation ${id}`);
      if (!WAITING.has(a.status)) throw new Error(`deliver: activation ${id} is ${a.status}, not waiting for an SMS`);
      a.status = a.status === 'retryRequested' ? 'retryReceived' : 'smsReceived';
      a.message = message;
      a.code = code;
    },
    lapse(id) {
      settleAll();
      const a = activations.get(id);
      if (!a) throw new Error(`lapse: no activation ${id}`);
      if (FINAL.has(a.status)) throw new Error(`lapse: activation ${id} is already ${a.status}`);
      const at = now();
      a.numberExpireAt = at;
      settle(a, at);
    },
    storm(endpoint, count, retryAfterSeconds) {
      const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
      inject(endpoint, count, () => new ApiError(429, 'TooManyRequestsException', 'too many requests', {}, headers));
    },
    failNext(endpoint, count, status, errorName, extra = {}) {
      inject(endpoint, count, () => new ApiError(status, errorName, `injected ${errorName}`, extra));
    },
    async close() {
      if (closed) return;
      closed = true;
      open.delete(fake);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  open.add(fake);
  return fake;
}
