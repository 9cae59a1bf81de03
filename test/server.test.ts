import { connect } from 'node:net';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../src/core/orders/order.js';
import { REDACT } from '../src/server/app.js';
import { fundedAccount, sleep } from './helpers.js';
import { API, USD, errorProblems, makeApp, rawHttp, stateOf, type TestApp } from './support/http.js';
import { openSse } from './support/sse.js';
import { until } from './support/process.js';

// The HTTP API of API.md §4–§5 through `buildApp`, mostly with `app.inject()`; streams and
// parallel requests over a real port.

const INSTAGRAM = 120_000; // $0.12 in micro-USD

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

async function inject(t: TestApp, options: InjectOptions): Promise<LightMyRequestResponse> {
  return t.app.inject(options);
}

function expectError(res: { statusCode: number; body: string }, status: number, code: string): Record<string, unknown> {
  expect(errorProblems(res.statusCode, res.body), res.body).toEqual([]);
  expect(res.statusCode, res.body).toBe(status);
  const error = (JSON.parse(res.body) as { error: Record<string, unknown> }).error;
  expect(error.code).toBe(code);
  return error;
}

// ── hostile input, property-based ─────────────────────────────────────────────────────────────

type BodyKind = 'order' | 'verify' | 'batch' | 'agent' | 'webhook';

interface Endpoint {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `:id` is replaced by the generated id. */
  path: string;
  /** The body schema this endpoint takes, if any. */
  body?: BodyKind;
  /** Answers with Server-Sent Events: exercised over a real port. */
  sse?: boolean;
}

/** Every endpoint under /api/v1 (API.md §5). */
const ENDPOINTS: readonly Endpoint[] = [
  { name: 'register', method: 'POST', path: '/register' },
  { name: 'services', method: 'GET', path: '/services' },
  { name: 'availability', method: 'GET', path: '/availability' },
  { name: 'health', method: 'GET', path: '/health' },
  { name: 'order', method: 'POST', path: '/order', body: 'order' },
  { name: 'verify', method: 'POST', path: '/verify', body: 'verify' },
  { name: 'order/:id', method: 'GET', path: '/order/:id' },
  { name: 'order/:id/cancel', method: 'POST', path: '/order/:id/cancel' },
  { name: 'order/:id/retry', method: 'POST', path: '/order/:id/retry' },
  { name: 'batch', method: 'POST', path: '/batch', body: 'batch' },
  { name: 'agent', method: 'POST', path: '/agent', body: 'agent' },
  { name: 'account', method: 'GET', path: '/account' },
  { name: 'usage', method: 'GET', path: '/usage' },
  { name: 'prices', method: 'GET', path: '/prices' },
  { name: 'orders', method: 'GET', path: '/orders' },
  { name: 'webhook PUT', method: 'PUT', path: '/webhook', body: 'webhook' },
  { name: 'webhook GET', method: 'GET', path: '/webhook' },
  { name: 'webhook DELETE', method: 'DELETE', path: '/webhook' },
  { name: 'order/:id/stream', method: 'GET', path: '/order/:id/stream', sse: true },
  { name: 'events', method: 'GET', path: '/events', sse: true },
  { name: 'openapi.json', method: 'GET', path: '/openapi.json' },
];

/** A valid body of each kind, and its required fields: the hostile bodies are broken copies. */
const TEMPLATES: Record<BodyKind, { body: Record<string, unknown>; required: string[] }> = {
  order: { body: { platform: 'instagram', country: 'us', idempotency_key: 'hostile-order' }, required: ['platform'] },
  verify: { body: { platform: 'instagram', country: 'us', timeout_seconds: 30, idempotency_key: 'hostile-verify' }, required: ['platform'] },
  batch: { body: { orders: [{ platform: 'instagram', country: 'us' }] }, required: ['orders'] },
  agent: { body: { query: "what's my balance" }, required: ['query'] },
  webhook: { body: { url: 'https://example.com/hook' }, required: ['url'] },
};

type Auth =
  | { way: 'bearer' | 'bearer-lower' | 'x-api-key' | 'body' | 'none' }
  | { way: 'wrong-bearer' | 'wrong-x-api-key' | 'wrong-body'; key: string }
  | { way: 'malformed'; header: string };

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; text: string }
  | { kind: 'oversized'; size: number };

interface Hostile {
  auth: Auth;
  id: string;
  query: string;
  body: Body;
  contentType: string | undefined;
}

const bigNumbers = fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e-300, -0, 4_294_967_296);
const unicode = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }));
const nonString = fc.oneof(
  fc.integer(),
  fc.double(),
  bigNumbers,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);
const hostileValue = fc.oneof(nonString, unicode, fc.string({ minLength: 256, maxLength: 3000 }));

type Mutation = { op: 'delete'; field: string } | { op: 'set'; field: string; value: unknown } | { op: 'extra'; field: string; value: unknown };

function applyMutations(template: Record<string, unknown>, mutations: readonly Mutation[]): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(template);
  for (const m of mutations) {
    if (m.op === 'delete') delete out[m.field];
    // defineProperty, so that "__proto__" becomes a real key of the JSON text.
    else Object.defineProperty(out, m.field, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A copy of the valid body with at least one breaking change (missing field, wrong type, unknown field). */
function brokenBody(kind: BodyKind): fc.Arbitrary<unknown> {
  const { body, required } = TEMPLATES[kind];
  const fields = Object.keys(body);
  const extraName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((f) => !fields.includes(f) && f !== 'api_key');
  const breaking: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('delete' as const), field: fc.constantFrom(...required) }),
    fc.record({ op: fc.constant('extra' as const), field: fc.oneof(extraName, fc.constantFrom('__proto__', 'constructor', 'API_KEY', 'Platform')), value: hostileValue }),
    fc.record({ op: fc.constant('set' as const), field: fc.constantFrom(...required), value: nonString }),
  );
  const any: fc.Arbitrary<Mutation> = fc.oneof(breaking, fc.record({ op: fc.constant('set' as const), field: fc.constantFrom(...fields), value: hostileValue }));
  const mutated = fc.tuple(breaking, fc.array(any, { maxLength: 2 })).map(([first, rest]) => applyMutations(body, [first, ...rest]));
  if (kind !== 'batch') return mutated;
  // Batches also break inside: bad items, too many, none.
  const item = fc.oneof(
    fc.constant({ platform: 'instagram' }),
    fc.record({ platform: hostileValue }),
    fc.record({ platform: fc.constant('instagram'), country: hostileValue }),
    fc.record({ platform: fc.constant('instagram'), idempotency_key: hostileValue }),
    fc.record({ platform: fc.constant('instagram'), surprise: hostileValue }),
    hostileValue,
  );
  return fc.oneof(
    mutated,
    fc.array(item, { minLength: 1, maxLength: 5 }).map((orders) => ({ orders })),
    fc.integer({ min: 21, max: 60 }).map((n) => ({ orders: Array.from({ length: n }, () => ({ platform: 'instagram' })) })),
    fc.constant({ orders: [] }),
  );
}

/**
 * Bodies of the right shape whose values are odd: they pass the JSON schema and reach the core's
 * own checks (unknown platform or country, bounds, 402 on the empty account, no stock).
 */
const platformValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('instagram', 'wa', 'TG', ' instagram', 'instagram ', 'Instagram', 'x', 'myspace', 'İnstagram', 'ｉｎｓｔａｇｒａｍ', 'insta\u200bgram', '%', '*', '__proto__', 'constructor') },
  { weight: 1, arbitrary: unicode.filter((s) => s.length > 0 && s.length <= 64) },
);
const countryValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('us', 'US', 'gb', 'uk', 'UK', 'any', 'ANY', 'fr', 'de', 'germany', 'united states', 'zz', 'xx', 'us ', 'ÜS', '🇺🇸', '__proto__') },
  { weight: 1, arbitrary: unicode.filter((s) => s.length > 0 && s.length <= 64) },
);
const keyValue = fc.oneof(fc.string({ minLength: 1, maxLength: 255 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.constantFrom('a', 'k'.repeat(255), '🔑'));
const plausibleItem = fc.record({ platform: platformValue, country: countryValue, idempotency_key: keyValue }, { requiredKeys: ['platform'] });
const PLAUSIBLE: Record<BodyKind, fc.Arbitrary<unknown>> = {
  order: plausibleItem,
  verify: fc.record(
    { platform: platformValue, country: countryValue, idempotency_key: keyValue, timeout_seconds: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 30, max: 300 }) }, fc.integer(), fc.constantFrom(29, 301, 0, -30)) },
    { requiredKeys: ['platform'] },
  ),
  batch: fc.array(plausibleItem, { minLength: 0, maxLength: 25 }).map((orders) => ({ orders })),
  agent: fc.record({
    query: fc.oneof(
      fc.constantFrom(
        "what's my balance",
        'I need a US verification number for WhatsApp',
        '3 telegram numbers from the UK under $0.50',
        'how much is instagram in germany?',
        'is there stock for discord',
        '20 instagram numbers',
        '999999999999 whatsapp numbers',
        'verify instagram under $0.00001',
        'order -5 telegram numbers',
        'DROP TABLE orders; --',
      ),
      unicode.filter((s) => s.trim().length > 0 && s.length <= 500),
    ),
  }),
  // Never a valid http(s) URL: a valid one would rightly change the account's webhook.
  webhook: fc.record({
    url: fc.constantFrom(
      'ftp://example.com/hook',
      'http://user:pw@example.com/hook',
      'javascript:alert(1)',
      'http://',
      'https://',
      '//example.com/hook',
      'example.com/hook',
      'file:///etc/passwd',
      'http://[::1',
      'mailto:a@example.com',
      'data:text/plain,hi',
      `https://example.com/${'a'.repeat(2100)}`,
      ' ',
      '\u0000',
    ),
  }),
};

const RAW_GARBAGE = [
  '{',
  '}',
  '[',
  '{"platform":',
  '{"platform":"instagram",}',
  "{'platform':'instagram'}",
  'null',
  'true',
  '0',
  '""',
  '[]',
  '{}',
  'NaN',
  '{"platform":NaN}',
  '{"timeout_seconds":1e400}',
  '{"platform":123456789012345678901234567890}',
  '{"platform":"instagram","timeout_seconds":1e999}',
  '{"platform":"instagram","platform":42}',
  '\uFEFF{"platform":"instagram"}',
  '{"platform":"\\ud800"}',
  '{"platform":"insta\\u0000gram"}',
  '{"__proto__":{"platform":"instagram"}}',
  '{"constructor":{"prototype":{"platform":"instagram"}}}',
  '['.repeat(20_000) + ']'.repeat(20_000),
  '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
  'platform=instagram&platform=whatsapp',
  'platform=instagram&surprise=1',
  'orders=instagram',
  '--X\r\nContent-Disposition: form-data; name="platform"\r\n\r\ninstagram\r\n--X--\r\n',
  '<order><platform>instagram</platform></order>',
];

const bodyArb = (kind: BodyKind | undefined): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: kind ? 5 : 1, arbitrary: (kind ? brokenBody(kind) : fc.constant({})).map((value): Body => ({ kind: 'json', value })) },
    { weight: kind ? 4 : 0, arbitrary: (kind ? PLAUSIBLE[kind] : fc.constant({})).map((value): Body => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value): Body => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom(...RAW_GARBAGE), unicode, fc.string({ maxLength: 200 })).map((text): Body => ({ kind: 'raw', text })) },
    { weight: 1, arbitrary: fc.integer({ min: 64 * 1024 + 1, max: 160 * 1024 }).map((size): Body => ({ kind: 'oversized', size })) },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
  );

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=X',
  'application/xml',
  'application/octet-stream',
  'text/html',
  '*/*',
  'json',
];
// Mostly JSON, so that most bodies get past the parser to the schema and the core.
const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const wrongKey = fc.oneof(fc.stringMatching(/^vn_[A-Za-z0-9]{0,60}$/), fc.string({ minLength: 1, maxLength: 80 }).filter((s) => s.trim() === s && !/\s/.test(s)));
const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Auth>({ way: 'bearer' }, { way: 'bearer-lower' }, { way: 'x-api-key' }, { way: 'body' }) },
  { weight: 1, arbitrary: fc.constant<Auth>({ way: 'none' }) },
  { weight: 2, arbitrary: fc.record({ way: fc.constantFrom('wrong-bearer' as const, 'wrong-x-api-key' as const, 'wrong-body' as const), key: wrongKey }) },
  { weight: 1, arbitrary: fc.record({ way: fc.constant('malformed' as const), header: fc.constantFrom('Bearer', 'Bearer ', 'Basic dm46eHg=', 'Bearer a b', 'Token vn_x', 'bearer\tvn_', 'Bearer ' + 'x'.repeat(5000)) }) },
);

/** Path segments: unicode (encoded), look-alikes, traversal, encoded NUL, another account's order. */
const idArb = (otherOrderId: string): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.constant(otherOrderId),
      unicode.map(encodeURIComponent),
      fc.stringMatching(/^ord_[0-9A-Z]{0,30}$/),
      fc.constantFrom('..', '%2e%2e', '%2F', '%00', '0', '-1', '1e999', 'null', 'undefined', '__proto__', 'constructor', '%20', 'ord_%F0%9F%98%80', otherOrderId.toLowerCase(), `${otherOrderId}%00`),
    )
    // Well-formed and at most 100 characters: malformed percent-encodings and over-long segments
    // have their own explicit tests below, so that these properties keep looking for other failures.
    .filter((s) => s.length <= 100);

const queryArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?days=1e400',
    '?days=-1',
    '?days=0',
    '?days=366',
    '?days=9007199254740993',
    '?days=0x10',
    '?days=%207',
    '?days=7&days=8',
    '?days[]=7',
    '?days[a]=1',
    '?__proto__[days]=1',
    '?constructor=1',
    '?days=',
    '?days',
    '?=',
    '?&&&',
    '?days=%E0%A4%A',
    '?days=%',
    '?%zz=1',
    '?days=NaN',
    '?days=Infinity',
    '?days=7.5',
    '?days=true',
    '?api_key=vn_nope',
  ),
  unicode.map((s) => `?days=${encodeURIComponent(s)}`),
  unicode.map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
  fc.stringMatching(/^\?[A-Za-z0-9%&=[\]._~!$'()*+,;:@/-]{0,40}$/),
);

const hostileArb = (ep: Endpoint, otherOrderId: string): fc.Arbitrary<Hostile> =>
  fc.record({
    auth: authArb,
    id: idArb(otherOrderId),
    query: queryArb,
    // fetch sends no body with GET; the event streams are only ever GETs.
    body: ep.sse ? fc.constant<Body>({ kind: 'none' }) : bodyArb(ep.body),
    contentType: contentTypeArb,
  });

interface Built {
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

function build(ep: Endpoint, h: Hostile, apiKey: string): Built {
  const headers: Record<string, string> = {};
  const a = h.auth;
  if (a.way === 'bearer') headers.authorization = `Bearer ${apiKey}`;
  if (a.way === 'bearer-lower') headers.authorization = `bearer ${apiKey}`;
  if (a.way === 'x-api-key') headers['x-api-key'] = apiKey;
  if (a.way === 'wrong-bearer') headers.authorization = `Bearer ${a.key}`;
  if (a.way === 'wrong-x-api-key') headers['x-api-key'] = a.key;
  if (a.way === 'malformed') headers.authorization = a.header;
  const bodyKey = a.way === 'body' ? apiKey : a.way === 'wrong-body' ? a.key : undefined;

  let payload: string | undefined;
  const b = h.body;
  if (b.kind === 'json') {
    const value = bodyKey !== undefined && typeof b.value === 'object' && b.value !== null && !Array.isArray(b.value) ? { ...b.value, api_key: bodyKey } : b.value;
    payload = JSON.stringify(value) ?? 'null';
  } else if (b.kind === 'raw') payload = b.text;
  else if (b.kind === 'oversized') payload = JSON.stringify({ platform: 'x'.repeat(b.size), ...(bodyKey ? { api_key: bodyKey } : {}) });
  if (payload !== undefined && h.contentType !== undefined) headers['content-type'] = h.contentType;
  return { url: API + ep.path.replace(':id', h.id) + h.query, headers, payload };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Sends it in-process, or over the real port for the event streams (closing a stream once it opened). */
async function send(t: TestApp, ep: Endpoint, req: Built): Promise<Answer> {
  if (!ep.sse) {
    const res = await t.app.inject({ method: ep.method, url: req.url, headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }
  const controller = new AbortController();
  const res = await fetch(t.url + req.url, { method: ep.method, headers: req.headers, signal: controller.signal });
  const headers = Object.fromEntries(res.headers.entries());
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    controller.abort();
    return { status: res.status, headers, body: '' };
  }
  return { status: res.status, headers, body: await res.text() };
}

const PARSED_TYPES = /^(application\/json|text\/plain|application\/x-www-form-urlencoded)\s*(;|$)/i;

describe('hostile input on every endpoint', () => {
  let t: TestApp;
  let zero: { accountId: string; apiKey: string };
  let other: { accountId: string; apiKey: string };
  let otherOrder: Order;

  beforeAll(async () => {
    // No rate limits here: the property runs send hundreds of requests with one key.
    t = await makeApp({ rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 } }, true);
    await t.listen();
    // The account the requests act for has no money: a body that happens to be valid for
    // order/verify/batch gets 402 at once (nothing written, no long poll).
    zero = await fundedAccount(t.core, 0);
    // Another account, with one completed order whose id the generators use.
    other = await fundedAccount(t.core, INSTAGRAM);
    const placed = await t.core.order(other.accountId, { platform: 'instagram', country: 'us' });
    otherOrder = await t.core.wait(other.accountId, placed.order_id, { timeoutMs: 5000 });
    expect(otherOrder.status).toBe('completed');
  });
  afterAll(async () => {
    await t.close();
  });

  for (const ep of ENDPOINTS) {
    it(`${ep.method} /api/v1${ep.path}: never a 5xx, always the error shape, no change of state`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileArb(ep, otherOrder.order_id), async (h) => {
          const req = build(ep, h, zero.apiKey);
          const before = (await stateOf(t.core, [zero.accountId, other.accountId])) as { audit: { accounts: number } };
          const res = await send(t, ep, req);
          const context = `${ep.method} ${req.url} ${JSON.stringify(req.headers)} ${(req.payload ?? '').slice(0, 300)} → ${res.status} ${res.body.slice(0, 300)}`;

          // A 503 is allowed only as the contract's `no_numbers` (a valid order for a country the simulator has no stock in).
          const legit503 = res.status === 503 && errorProblems(503, res.body).length === 0 && res.body.includes('"no_numbers"');
          expect(res.status < 500 || legit503, context).toBe(true);
          expect(res.headers['x-request-id'], context).toBeTruthy();
          if (res.status >= 400) expect(errorProblems(res.status, res.body), context).toEqual([]);
          else if (res.status !== 204 && !ep.sse) expect(() => JSON.parse(res.body), context).not.toThrow();
          if (h.body.kind === 'oversized' && ep.method !== 'GET' && h.contentType !== undefined && PARSED_TYPES.test(h.contentType)) {
            expect(res.status, context).toBe(413);
            expect(res.body, context).toContain('"payload_too_large"');
          }

          const after = (await stateOf(t.core, [zero.accountId, other.accountId])) as { audit: { accounts: number } };
          if (ep.name === 'register') {
            // Registering creates an account, and nothing else; a refused one creates nothing.
            expect(after.audit.accounts - before.audit.accounts, context).toBe(res.status === 201 ? 1 : 0);
            after.audit.accounts = before.audit.accounts;
          }
          expect(after, context).toEqual(before);
        }),
        { numRuns: ep.sse ? 60 : 150 },
      );
    });
  }

  it('a malformed percent-encoding in the path is answered in the error shape, with X-Request-Id', async () => {
    for (const url of [`${API}/order/%E0%A4%A`, `${API}/order/%u0041`, `${API}/order/%zz/cancel`, `${API}/order/ord_%/stream`, `${API}/%ff`]) {
      const res = await inject(t, { method: url.endsWith('cancel') ? 'POST' : 'GET', url, headers: bearer(zero.apiKey) });
      expect(res.statusCode, url).toBe(400);
      expect(errorProblems(res.statusCode, res.body), `${url} → ${res.body}`).toEqual([]);
      expect(res.headers['x-request-id'], url).toBeTruthy();
    }
  });

  it('an over-long order id is answered in the error shape, with X-Request-Id', async () => {
    for (const path of ['/order/:id', '/order/:id/cancel', '/order/:id/retry', '/order/:id/stream']) {
      const url = API + path.replace(':id', `ord_${'A'.repeat(120)}`);
      const res = await inject(t, { method: path.endsWith('cancel') || path.endsWith('retry') ? 'POST' : 'GET', url, headers: bearer(zero.apiKey) });
      expect([400, 404], `${url} → ${res.statusCode} ${res.body}`).toContain(res.statusCode);
      expect(errorProblems(res.statusCode, res.body), `${url} → ${res.body}`).toEqual([]);
      expect(res.headers['x-request-id'], url).toBeTruthy();
    }
  });

  it('protocol-level garbage on a real socket is answered in the error shape, with X-Request-Id', async () => {
    const port = Number(new URL(t.url).port);
    const cases = [
      // A request header larger than node's 16 KiB limit: a key nobody could hold.
      `GET ${API}/account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'x'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
      // A header line without a colon.
      `GET ${API}/health HTTP/1.1\r\nHost: x\r\nNot a header\r\nConnection: close\r\n\r\n`,
      // A space inside the path.
      `GET ${API}/order/ord 1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    ];
    for (const text of cases) {
      const what = JSON.stringify(text.slice(0, 60));
      const res = await rawHttp(port, text);
      expect(res.status >= 400 && res.status < 500, `${what} → ${res.raw.slice(0, 300)}`).toBe(true);
      let body: { error?: { code?: unknown; message?: unknown; status?: unknown } } = {};
      expect(() => (body = JSON.parse(res.body) as typeof body), `${what} → ${res.body}`).not.toThrow();
      expect(Object.keys(body), `${what} → ${res.body}`).toEqual(['error']);
      expect(body.error, `${what} → ${res.body}`).toMatchObject({ code: expect.any(String), message: expect.any(String), status: res.status });
      expect(res.headers['x-request-id'], `${what} → ${res.raw.slice(0, 300)}`).toBeTruthy();
    }
  });

  it('a JSON body sent with a form content type (curl -d) is accepted', async () => {
    const before = await stateOf(t.core, [zero.accountId]);
    const res = await inject(t, {
      method: 'POST',
      url: `${API}/order`,
      headers: { ...bearer(zero.apiKey), 'content-type': 'application/x-www-form-urlencoded' },
      payload: '{"platform":"instagram"}',
    });
    // Understood as an order (the account has no money), not refused as a bad body.
    expectError(res, 402, 'insufficient_balance');
    expect(await stateOf(t.core, [zero.accountId])).toEqual(before);
  });

  it('form fields are read as a query string is: numbers from their text, the same checks as JSON', async () => {
    const form = (payload: string): Promise<LightMyRequestResponse> =>
      inject(t, { method: 'POST', url: `${API}/verify`, headers: { ...bearer(zero.apiKey), 'content-type': 'application/x-www-form-urlencoded' }, payload });
    const before = await stateOf(t.core, [zero.accountId]);
    // Well formed: refused only for the money.
    expectError(await form('platform=instagram&timeout_seconds=30&max_price=0.5'), 402, 'insufficient_balance');
    expect(expectError(await form('platform=instagram&timeout_seconds=5'), 400, 'invalid_request').message).toBe(
      'Parameter "timeout_seconds" must be a whole number from 30 to 300.',
    );
    expectError(await form('platform=instagram&timeout_seconds=thirty'), 400, 'invalid_request');
    expectError(await form('platform=instagram&surprise=1'), 400, 'invalid_request');
    // JSON stays JSON: a number as text is refused there.
    const json = await inject(t, { method: 'POST', url: `${API}/verify`, headers: { ...bearer(zero.apiKey), 'content-type': 'application/json' }, payload: '{"platform":"instagram","timeout_seconds":"30"}' });
    expectError(json, 400, 'invalid_request');
    expect(await stateOf(t.core, [zero.accountId])).toEqual(before);
  });
});

// ── request ids ───────────────────────────────────────────────────────────────────────────────

describe('X-Request-Id', () => {
  it('is on every answer: success, 4xx, unknown route, 413 and an event stream', async () => {
    // No SMS comes: the order below ends by its cancel, however slow the machine.
    const t = await makeApp({ simulator: { noSmsRate: 1 } });
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const answers = [
      await inject(t, { method: 'GET', url: `${API}/health` }),
      await inject(t, { method: 'GET', url: `${API}/account`, headers: bearer(apiKey) }),
      await inject(t, { method: 'GET', url: `${API}/account` }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: { ...bearer(apiKey), 'content-type': 'application/json' }, payload: '{"platform":"myspace"}' }),
      await inject(t, { method: 'GET', url: `${API}/nothing-here` }),
      await inject(t, { method: 'GET', url: '/not-even-the-api' }),
      await inject(t, { method: 'PATCH', url: `${API}/order` }),
      await inject(t, {
        method: 'POST',
        url: `${API}/order`,
        headers: { ...bearer(apiKey), 'content-type': 'application/json' },
        payload: JSON.stringify({ platform: 'x'.repeat(70_000) }),
      }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 401, 400, 404, 404, 404, 413]);
    for (const a of answers.slice(2)) expect(errorProblems(a.statusCode, a.body), a.body).toEqual([]);
    const ids = answers.map((a) => a.headers['x-request-id']);
    for (const id of ids) expect(typeof id === 'string' && id.length > 0).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    await t.listen();
    const order = await t.core.order(accountId, { platform: 'instagram' });
    await t.core.cancel(accountId, order.order_id);
    const stream = await openSse(`${t.url}${API}/order/${order.order_id}/stream`, bearer(apiKey));
    expect(stream.status).toBe(200);
    expect(stream.headers.get('x-request-id')).toBeTruthy();
    expect(await stream.ended).toBe('closed');
  });
});

// ── shutting down ─────────────────────────────────────────────────────────────────────────────

describe('while the server closes', () => {
  it('a request on a connection still open answers 503 unavailable in the error shape, with a request id', async () => {
    // A verify long poll keeps its connection busy through the close, so the close does not end it
    // (only idle ones); a health check sent on it once the close has begun is the request refused.
    const release = new AbortController();
    const t = await makeApp({ release: release.signal, simulator: { noSmsRate: 1 } });
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const port = Number(new URL(await t.listen()).port);
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    socket.setEncoding('utf8').on('data', (d: string) => (raw += d));
    const ended = new Promise((resolve) => socket.on('close', resolve));
    const verify = JSON.stringify({ platform: 'instagram', timeout_seconds: 60 });
    socket.write(`POST ${API}/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${verify.length}\r\n\r\n${verify}`);
    await until(async () => (await t.core.account(accountId)).stats.orders === 1, 5000, 'the order');

    const closing = t.close();
    await until(() => !t.app.server.listening, 5000, 'the close');
    socket.write(`GET ${API}/health HTTP/1.1\r\nHost: x\r\n\r\n`);
    await sleep(50);
    release.abort();
    await ended;
    await closing;

    // The verify's answers (its 103 Early Hints, then 200 with the order as it is), then the health check's.
    expect(raw).toMatch(/^HTTP\/1\.1 103[^]*\r\nHTTP\/1\.1 200 /);
    const [head = '', body = ''] = raw.slice(raw.lastIndexOf('HTTP/1.1 ')).split('\r\n\r\n');
    expect(head, raw).toMatch(/^HTTP\/1\.1 503/);
    expect(head.toLowerCase()).toMatch(/\r\nx-request-id: \S+/);
    expect(expectError({ statusCode: 503, body }, 503, 'unavailable').message).toMatch(/shutting down/);
  });
});

// ── authentication ────────────────────────────────────────────────────────────────────────────

describe('authentication', () => {
  it('takes the key from Authorization: Bearer, X-API-Key or the body api_key', async () => {
    const t = await makeApp({ simulator: { delayMs: 60_000 } });
    const { apiKey, accountId } = await fundedAccount(t.core, USD);

    for (const headers of [bearer(apiKey), { authorization: `bearer ${apiKey}` }, { 'x-api-key': apiKey }]) {
      const res = await inject(t, { method: 'GET', url: `${API}/account`, headers });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<{ account_id: string }>().account_id).toBe(accountId);
    }

    const json = { 'content-type': 'application/json' };
    const ordered = await inject(t, { method: 'POST', url: `${API}/order`, headers: json, payload: JSON.stringify({ platform: 'instagram', api_key: apiKey }) });
    expect(ordered.statusCode, ordered.body).toBe(201);
    const id = ordered.json<Order>().order_id;
    const viaHeader = await inject(t, { method: 'GET', url: `${API}/order/${id}`, headers: { 'x-api-key': apiKey } });
    expect(viaHeader.json<Order>().status).toBe('active');
    const cancelled = await inject(t, { method: 'POST', url: `${API}/order/${id}/cancel`, headers: json, payload: JSON.stringify({ api_key: apiKey }) });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json<Order>()).toMatchObject({ status: 'cancelled', refunded: true });
    const agent = await inject(t, { method: 'POST', url: `${API}/agent`, headers: json, payload: JSON.stringify({ query: "what's my balance", api_key: apiKey }) });
    expect(agent.statusCode, agent.body).toBe(200);
    expect(agent.json<{ balance: number }>().balance).toBe(1);
  });

  it('a wrong key, in any of the three places, or none at all, is 401 and changes nothing', async () => {
    const t = await makeApp();
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const before = await stateOf(t.core, [accountId]);
    const wrong = `vn_${'A'.repeat(40)}`;
    const json = { 'content-type': 'application/json' };
    const refused = [
      await inject(t, { method: 'GET', url: `${API}/account`, headers: bearer(wrong) }),
      await inject(t, { method: 'GET', url: `${API}/account`, headers: { 'x-api-key': wrong } }),
      await inject(t, { method: 'GET', url: `${API}/account` }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: json, payload: JSON.stringify({ platform: 'instagram', api_key: wrong }) }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: { ...json, ...bearer(wrong) }, payload: '{"platform":"instagram"}' }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: { ...json, 'x-api-key': wrong }, payload: '{"platform":"instagram"}' }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: json, payload: '{"platform":"instagram"}' }),
      await inject(t, { method: 'POST', url: `${API}/verify`, headers: json, payload: JSON.stringify({ platform: 'instagram', api_key: wrong }) }),
      // The first way present wins: a wrong Bearer is not rescued by a right X-API-Key.
      await inject(t, { method: 'GET', url: `${API}/account`, headers: { ...bearer(wrong), 'x-api-key': apiKey } }),
      await inject(t, { method: 'GET', url: `${API}/services`, headers: bearer(wrong) }),
    ];
    for (const res of refused) expectError(res, 401, 'unauthorized');
    expect(await stateOf(t.core, [accountId])).toEqual(before);
  });
});

// ── rate limits ───────────────────────────────────────────────────────────────────────────────

describe('rate limits', () => {
  const RATE_LIMIT = /^"per-key";r=\d+;t=\d+$/;

  it('per key: a burst past the bucket gets 429 with Retry-After and the IETF RateLimit fields', async () => {
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 2, registerPerHour: 3 } });
    const { apiKey } = await fundedAccount(t.core, 0);
    const answers: LightMyRequestResponse[] = [];
    for (let i = 0; i < 10; i++) answers.push(await inject(t, { method: 'GET', url: `${API}/account`, headers: bearer(apiKey) }));

    const statuses = answers.map((a) => a.statusCode);
    const allowed = statuses.filter((s) => s === 200).length;
    // Bursts up to twice the rate: 4 at once (one or two more if tokens came back meanwhile).
    expect(allowed >= 4 && allowed <= 6, statuses.join(',')).toBe(true);
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses.slice(allowed)).toEqual(Array(10 - allowed).fill(429));

    for (const ok of answers.slice(0, 4)) {
      expect(ok.headers['ratelimit-policy']).toBe('"per-key";q=4;w=2');
      expect(ok.headers.ratelimit).toMatch(RATE_LIMIT);
    }
    const limited = answers[allowed]!;
    const error = expectError(limited, 429, 'rate_limited');
    const retryAfter = String(limited.headers['retry-after']);
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(error.retry_after).toBe(Number(retryAfter));
    expect(limited.headers['ratelimit-policy']).toBe('"per-key";q=4;w=2');
    expect(limited.headers.ratelimit).toMatch(/^"per-key";r=0;t=\d+$/);

    await sleep(1100);
    expect((await inject(t, { method: 'GET', url: `${API}/account`, headers: bearer(apiKey) })).statusCode).toBe(200);
  });

  it('a refused order is not charged', async () => {
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 2, registerPerHour: 3 } });
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        inject(t, { method: 'POST', url: `${API}/order`, headers: { ...bearer(apiKey), 'content-type': 'application/json' }, payload: '{"platform":"instagram"}' }),
      ),
    );
    const created = answers.filter((a) => a.statusCode === 201).length;
    expect(created).toBeGreaterThanOrEqual(4);
    for (const a of answers.filter((x) => x.statusCode !== 201)) expectError(a, 429, 'rate_limited');
    const account = await t.core.account(accountId);
    expect(account.stats.orders).toBe(created);
    expect(Math.round(account.balance * USD)).toBe(USD - created * INSTAGRAM);
    expect((await t.core.audit()).violations).toEqual([]);
  });

  it('register: the 4th call from one address within the hour gets 429; another address is not affected', async () => {
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 2, registerPerHour: 3 } });
    const register = (ip: string): Promise<LightMyRequestResponse> => inject(t, { method: 'POST', url: `${API}/register`, remoteAddress: ip });
    for (let i = 0; i < 3; i++) expect((await register('203.0.113.7')).statusCode).toBe(201);
    const before = await t.core.audit();
    const limited = await register('203.0.113.7');
    const error = expectError(limited, 429, 'rate_limited');
    expect(String(limited.headers['retry-after'])).toMatch(/^[1-9]\d*$/);
    expect(error.retry_after).toBe(Number(limited.headers['retry-after']));
    expect(limited.headers['ratelimit-policy']).toMatch(/^"[\w-]+";q=3;w=3600$/);
    expect(limited.headers.ratelimit).toMatch(/^"[\w-]+";r=0;t=\d+$/);
    expect((await t.core.audit()).accounts).toBe(before.accounts);
    expect((await register('203.0.113.8')).statusCode).toBe(201);
  });

  it('perKeyPerSecond 0 turns the limit off', async () => {
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 0, registerPerHour: 3 } });
    const { apiKey } = await fundedAccount(t.core, 0);
    const answers = await Promise.all(Array.from({ length: 300 }, () => inject(t, { method: 'GET', url: `${API}/account`, headers: bearer(apiKey) })));
    expect(answers.filter((a) => a.statusCode !== 200).map((a) => a.body)).toEqual([]);
  });
});

// ── idempotency ───────────────────────────────────────────────────────────────────────────────

describe('idempotency over HTTP', () => {
  const json = { 'content-type': 'application/json' };

  it('the same key sent 20 times at once: one order, one charge, the same answer', async () => {
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 }, simulator: { delayMs: 60_000 } });
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        inject(t, { method: 'POST', url: `${API}/order`, headers: { ...json, ...bearer(apiKey) }, payload: JSON.stringify({ platform: 'instagram', idempotency_key: 'same-key-1' }) }),
      ),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(201));
    const ids = new Set(answers.map((a) => a.json<Order>().order_id));
    expect(ids.size).toBe(1);
    const account = await t.core.account(accountId);
    expect(account.stats.orders).toBe(1);
    expect(Math.round(account.balance * USD)).toBe(USD - INSTAGRAM);
    const audit = await t.core.audit();
    expect(audit.violations).toEqual([]);
    expect(audit.ledgerEntries).toBe(2); // the deposit and one debit
  });

  it('the Idempotency-Key header works the same, concurrently too; other parameters get 422', async () => {
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 }, simulator: { delayMs: 60_000 } });
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const headers = { ...json, ...bearer(apiKey), 'idempotency-key': 'header-key-7' };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => inject(t, { method: 'POST', url: `${API}/order`, headers, payload: '{"platform":"instagram","country":"us"}' })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(201));
    const first = answers[0]!.json<Order>();
    for (const a of answers) expect(a.json<Order>()).toEqual(first);

    // Later, the same: the stored first answer.
    const again = await inject(t, { method: 'POST', url: `${API}/order`, headers, payload: '{"platform":"instagram","country":"us"}' });
    expect(again.statusCode).toBe(201);
    expect(again.json<Order>()).toEqual(first);
    // The key in the body is the same key.
    const inBody = await inject(t, {
      method: 'POST',
      url: `${API}/order`,
      headers: { ...json, ...bearer(apiKey) },
      payload: JSON.stringify({ platform: 'instagram', country: 'us', idempotency_key: 'header-key-7' }),
    });
    expect(inBody.json<Order>().order_id).toBe(first.order_id);

    const before = await stateOf(t.core, [accountId]);
    for (const payload of ['{"platform":"instagram","country":"gb"}', '{"platform":"whatsapp","country":"us"}']) {
      expectError(await inject(t, { method: 'POST', url: `${API}/order`, headers, payload }), 422, 'idempotency_key_reused');
    }
    // The same key on verify is another operation: 422 at once, no wait.
    expectError(await inject(t, { method: 'POST', url: `${API}/verify`, headers, payload: '{"platform":"instagram","country":"us"}' }), 422, 'idempotency_key_reused');
    // Header and body disagreeing is a bad request.
    expectError(
      await inject(t, { method: 'POST', url: `${API}/order`, headers, payload: '{"platform":"instagram","country":"us","idempotency_key":"other"}' }),
      400,
      'invalid_request',
    );
    expect(await stateOf(t.core, [accountId])).toEqual(before);
    const account = await t.core.account(accountId);
    expect(account.stats.orders).toBe(1);
    expect(Math.round(account.balance * USD)).toBe(USD - INSTAGRAM);
  });

  it('keys are scoped per account', async () => {
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 }, simulator: { delayMs: 60_000 } });
    const a = await fundedAccount(t.core, USD);
    const b = await fundedAccount(t.core, USD);
    const send = (key: string): Promise<LightMyRequestResponse> =>
      inject(t, { method: 'POST', url: `${API}/order`, headers: { ...json, ...bearer(key), 'idempotency-key': 'shared' }, payload: '{"platform":"instagram"}' });
    const [ra, rb] = await Promise.all([send(a.apiKey), send(b.apiKey)]);
    expect([ra.statusCode, rb.statusCode]).toEqual([201, 201]);
    expect(ra.json<Order>().order_id).not.toBe(rb.json<Order>().order_id);
  });
});

// ── parallel orders on a short balance ────────────────────────────────────────────────────────

describe('parallel orders over HTTP', () => {
  it('on a balance covering K of N: exactly K are 201, the rest 402 with balance and price, the balance ends at 0', async () => {
    const N = 40;
    const K = 13;
    const t = await makeApp({ rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 }, simulator: { delayMs: 60_000 } });
    const url = await t.listen();
    const { apiKey, accountId } = await fundedAccount(t.core, K * INSTAGRAM);
    const answers = await Promise.all(
      Array.from({ length: N }, async () => {
        const res = await fetch(`${url}${API}/order`, {
          method: 'POST',
          headers: { ...bearer(apiKey), 'content-type': 'application/json' },
          body: '{"platform":"instagram"}',
        });
        return { status: res.status, body: await res.text() };
      }),
    );
    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(created).toHaveLength(K);
    expect(refused).toHaveLength(N - K);
    for (const r of refused) {
      const error = expectError({ statusCode: r.status, body: r.body }, 402, 'insufficient_balance');
      expect(error.price).toBe(0.12);
      expect(typeof error.balance).toBe('number');
      expect(error.balance as number).toBeLessThan(0.12);
    }
    expect(new Set(created.map((c) => (JSON.parse(c.body) as Order).order_id)).size).toBe(K);
    expect(new Set(created.map((c) => (JSON.parse(c.body) as Order).phone)).size).toBe(K);

    const account = await t.core.account(accountId);
    expect(account.balance).toBe(0);
    expect(account.stats.orders).toBe(K);
    const audit = await t.core.audit();
    expect(audit.violations).toEqual([]);
    expect(audit.ledgerEntries).toBe(1 + K);
  });
});

// ── another account's order ───────────────────────────────────────────────────────────────────

describe("another account's order", () => {
  it('is 404 not_found on read, cancel, retry and stream, exactly like an order that does not exist', async () => {
    const t = await makeApp({ simulator: { delayMs: 60_000 } });
    const url = await t.listen();
    const owner = await fundedAccount(t.core, USD);
    const stranger = await fundedAccount(t.core, USD);
    const order = await t.core.order(owner.accountId, { platform: 'instagram' });
    const before = await stateOf(t.core, [owner.accountId, stranger.accountId]);

    for (const id of [order.order_id, 'ord_01JZZZZZZZZZZZZZZZZZZZZZZZ']) {
      for (const [method, path] of [
        ['GET', ''],
        ['POST', '/cancel'],
        ['POST', '/retry'],
      ] as const) {
        const res = await inject(t, { method, url: `${API}/order/${id}${path}`, headers: bearer(stranger.apiKey) });
        const error = expectError(res, 404, 'not_found');
        expect(String(error.message)).not.toMatch(/another|belong|owner|forbidden/i);
      }
      const stream = await openSse(`${url}${API}/order/${id}/stream`, bearer(stranger.apiKey));
      expect(stream.status).toBe(404);
      expectError({ statusCode: stream.status, body: stream.body ?? '' }, 404, 'not_found');
    }

    expect(await stateOf(t.core, [owner.accountId, stranger.accountId])).toEqual(before);
    expect((await t.core.getOrder(owner.accountId, order.order_id)).status).toBe('active');
  });
});

// ── Server-Sent Events ────────────────────────────────────────────────────────────────────────

describe('GET /order/:id/stream', () => {
  it('sends status at once, then code, then end, and closes', async () => {
    const t = await makeApp({ simulator: { delayMs: 1000 } });
    const url = await t.listen();
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const ordered = await inject(t, { method: 'POST', url: `${API}/order`, headers: { ...bearer(apiKey), 'content-type': 'application/json' }, payload: '{"platform":"instagram"}' });
    const order = ordered.json<Order>();

    const opened = Date.now();
    const stream = await openSse(`${url}${API}/order/${order.order_id}/stream`, bearer(apiKey));
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('x-request-id')).toBeTruthy();
    await stream.waitFor((events) => events.length > 0, 2000);
    expect(Date.now() - opened).toBeLessThan(800);
    expect(stream.events[0]).toMatchObject({ event: 'status', data: { order_id: order.order_id, status: 'active' } });

    expect(await stream.ended).toBe('closed');
    const names = stream.events.map((e) => e.event);
    expect(names[0]).toBe('status');
    expect(names.at(-1)).toBe('end');
    expect(names.filter((n) => n === 'end')).toHaveLength(1);
    const code = stream.events.find((e) => e.event === 'code');
    expect(code, names.join(',')).toBeDefined();
    expect(names.indexOf('code')).toBeLessThan(names.indexOf('end'));
    const final = await t.core.getOrder(accountId, order.order_id);
    expect(final.status).toBe('completed');
    expect(code!.data).toEqual({ order_id: order.order_id, code: final.code, sms: final.sms });
    expect(stream.events.at(-1)!.data).toMatchObject({ order_id: order.order_id, status: 'completed', code: final.code });
  });

  it('sends a keep-alive comment line on the heartbeat', async () => {
    const t = await makeApp({ heartbeatMs: 50, simulator: { delayMs: 60_000 } });
    const url = await t.listen();
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const order = await t.core.order(accountId, { platform: 'instagram' });
    const stream = await openSse(`${url}${API}/order/${order.order_id}/stream`, bearer(apiKey));
    const events = await openSse(`${url}${API}/events`, bearer(apiKey));
    await sleep(300);
    for (const s of [stream, events]) {
      expect(s.text()).toMatch(/^:.*\n\n/m);
      s.abort();
    }
    expect(stream.events.map((e) => e.event)).toEqual(['status']);
  });

  it('for an order that already ended: status, end, closed', async () => {
    const t = await makeApp({ simulator: { delayMs: 60_000 } });
    const url = await t.listen();
    const { apiKey, accountId } = await fundedAccount(t.core, USD);
    const order = await t.core.order(accountId, { platform: 'telegram' });
    await t.core.cancel(accountId, order.order_id);
    const stream = await openSse(`${url}${API}/order/${order.order_id}/stream`, { 'x-api-key': apiKey });
    expect(await stream.ended).toBe('closed');
    expect(stream.events.map((e) => e.event)).toEqual(['status', 'end']);
    for (const e of stream.events) expect(e.data).toMatchObject({ order_id: order.order_id, status: 'cancelled', refunded: true });
  });
});

// ── OpenAPI ───────────────────────────────────────────────────────────────────────────────────

describe('GET /api/v1/openapi.json', () => {
  // The document itself is tested in openapi.test.ts: against the registered routes and the live server.
  it('has every endpoint of API.md §5', async () => {
    const t = await makeApp();
    const doc = (await inject(t, { method: 'GET', url: `${API}/openapi.json` })).json<{ paths: Record<string, Record<string, unknown>> }>();
    for (const ep of ENDPOINTS) {
      expect(doc.paths[`${API}${ep.path.replace(':id', '{id}')}`]?.[ep.method.toLowerCase()], ep.name).toBeDefined();
    }
  });
});

// ── logs ──────────────────────────────────────────────────────────────────────────────────────

describe('logs', () => {
  async function exercise(t: TestApp, apiKey: string): Promise<void> {
    const json = { 'content-type': 'application/json' };
    const answers = [
      await inject(t, { method: 'GET', url: `${API}/account`, headers: bearer(apiKey) }),
      await inject(t, { method: 'GET', url: `${API}/account`, headers: { 'x-api-key': apiKey } }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: json, payload: JSON.stringify({ platform: 'instagram', api_key: apiKey }) }),
      await inject(t, { method: 'POST', url: `${API}/agent`, headers: json, payload: JSON.stringify({ query: "what's my balance", api_key: apiKey }) }),
      // Refused ones, with the key in them too.
      await inject(t, { method: 'POST', url: `${API}/order`, headers: json, payload: `{"api_key":"${apiKey}",` }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: json, payload: JSON.stringify({ platform: 'myspace', api_key: apiKey }) }),
      await inject(t, { method: 'POST', url: `${API}/order`, headers: json, payload: JSON.stringify({ platform: 'instagram', surprise: apiKey, api_key: apiKey }) }),
      await inject(t, { method: 'POST', url: `${API}/verify`, headers: { ...json, ...bearer(apiKey) }, payload: JSON.stringify({ platform: 'instagram', timeout_seconds: apiKey }) }),
      await inject(t, { method: 'GET', url: `${API}/order/nope`, headers: bearer(apiKey) }),
      await inject(t, { method: 'PUT', url: `${API}/webhook`, headers: { ...json, 'x-api-key': apiKey }, payload: JSON.stringify({ url: 'https://example.com/hook' }) }),
      await inject(t, { method: 'POST', url: `${API}/register` }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 201, 200, 400, 400, 400, 400, 404, 200, 201]);
  }

  it('never contain the API key (the app logs through a pino logger it is given)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace', redact: REDACT }, { write: (line: string) => void lines.push(line) });
    const t = await makeApp({ logger });
    const { apiKey } = await fundedAccount(t.core, USD);
    await exercise(t, apiKey);
    const text = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(text).toContain('incoming request');
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain(apiKey.slice(3));
  });

  it('never contain the API key, even with request headers in the log lines', async () => {
    const lines: string[] = [];
    const logger = pino(
      {
        level: 'trace',
        redact: REDACT,
        serializers: { req: (req: { method: string; url: string; headers: unknown; body?: unknown }) => ({ method: req.method, url: req.url, headers: req.headers, body: req.body }) },
      },
      { write: (line: string) => void lines.push(line) },
    );
    const t = await makeApp({ logger });
    const { apiKey } = await fundedAccount(t.core, USD);
    await exercise(t, apiKey);
    const text = lines.join('');
    expect(text).toContain('"headers"');
    expect(text).not.toContain(apiKey);
  });
});
