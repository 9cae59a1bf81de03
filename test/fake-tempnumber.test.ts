/**
 * The TempNumber fake behaves as TempNumber's documentation says, so tests may use it as a
 * stand-in for the upstream API. Time-dependent checks run on an injected clock (no sleeps).
 */
import { describe, expect, it } from 'vitest';
import { startFakeTempNumber, type FakeTempNumber, type FakeTempNumberOptions } from './support/fake-tempnumber.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

/** A fake on a hand-driven clock. */
async function fakeWithClock(options: FakeTempNumberOptions = {}): Promise<{ fake: FakeTempNumber; clock: { t: number } }> {
  const clock = { t: T0 };
  const fake = await startFakeTempNumber({ now: () => clock.t, ...options });
  return { fake, clock };
}

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

/** A request to the fake, with its key unless `key` says otherwise (`null`: no header). */
async function call(
  fake: FakeTempNumber,
  method: string,
  path: string,
  init: { body?: unknown; raw?: string; contentType?: string | null; key?: string | null } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const key = init.key === undefined ? fake.apiKey : init.key;
  if (key !== null) headers['x-api-key'] = key;
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  const contentType = init.contentType === undefined ? (body === undefined ? null : 'application/json') : init.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const res = await fetch(fake.url + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: res.headers };
}

interface Activation {
  id: string;
  status: string;
  countryId: string;
  serviceId: string;
  number: string;
  formatNumber: string;
  message: string | null;
  code: string | null;
  price: number;
  createdAt: string;
  numberExpireAt: string;
  retryAvailable: boolean;
  reason: unknown;
}

async function create(fake: FakeTempNumber, serviceId = 'instagram', countryId = 'us'): Promise<{ id: string; number: string }> {
  const r = await call(fake, 'POST', '/activations', { body: { serviceId, countryId } });
  expect(r.status).toBe(200);
  return r.body as { id: string; number: string };
}

async function get(fake: FakeTempNumber, id: string): Promise<Activation> {
  const r = await call(fake, 'GET', `/activations/${id}`);
  expect(r.status).toBe(200);
  return r.body as Activation;
}

function expectError(r: Reply, status: number, errorName: string): void {
  expect(r.status).toBe(status);
  expect(r.body).toMatchObject({ errorName, errorMessage: expect.any(String) });
}

describe('the TempNumber fake', () => {
  it('listens on 127.0.0.1 under /api/v1', async () => {
    const fake = await startFakeTempNumber();
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    expect(fake.apiKey).toBe('tempnumber-test-key');
  });

  it('refuses a missing or wrong x-api-key with 401 UnauthorizedException', async () => {
    const fake = await startFakeTempNumber({ apiKey: 'k1' });
    expectError(await call(fake, 'GET', '/user/balance', { key: null }), 401, 'UnauthorizedException');
    expectError(await call(fake, 'GET', '/user/balance', { key: 'nope' }), 401, 'UnauthorizedException');
    expectError(await call(fake, 'POST', '/activations', { key: 'nope', body: { serviceId: 'instagram', countryId: 'us' } }), 401, 'UnauthorizedException');
    expect((await call(fake, 'GET', '/user/balance')).status).toBe(200);
    expect(fake.activations.size).toBe(0);
    expect(fake.requests.map((r) => r.status)).toEqual([401, 401, 401, 200]);
    expect(fake.requests[0]).toEqual({ method: 'GET', path: '/api/v1/user/balance', status: 401 });
  });

  it('answers unknown routes with 404 ResourceNotFoundException', async () => {
    const fake = await startFakeTempNumber();
    expectError(await call(fake, 'GET', '/nothing'), 404, 'ResourceNotFoundException');
    expectError(await call(fake, 'DELETE', '/activations/1000001'), 404, 'ResourceNotFoundException');
  });

  it('shows the balance as { balance, reviewBalance } in USD', async () => {
    const fake = await startFakeTempNumber({ balance: 12.5 });
    const r = await call(fake, 'GET', '/user/balance');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ balance: 12.5, reviewBalance: expect.any(Number) });
    fake.setBalance(3.3);
    expect((await call(fake, 'GET', '/user/balance')).body).toMatchObject({ balance: 3.3 });
  });

  it('keeps money exact (no float drift over many charges)', async () => {
    const fake = await startFakeTempNumber({ balance: 1, prices: { telegram: { us: 0.1 } }, maxPending: 100 });
    for (let i = 0; i < 10; i++) await create(fake, 'telegram', 'us');
    expect(fake.balance()).toBe(0);
    expectError(await call(fake, 'POST', '/activations', { body: { serviceId: 'telegram', countryId: 'us' } }), 402, 'paymentRequired');
  });

  it('gives both price lists and one price per service and country', async () => {
    const fake = await startFakeTempNumber();
    const byCountry = await call(fake, 'GET', '/services/pricelistByCountry');
    expect(byCountry.status).toBe(200);
    expect(byCountry.body).toEqual([
      { c: 'us', services: [{ s: 'instagram', p: 0.15 }, { s: 'whatsapp', p: 0.3 }, { s: 'telegram', p: 0.1 }] },
      { c: 'gb', services: [{ s: 'instagram', p: 0.2 }, { s: 'whatsapp', p: 0.35 }] },
    ]);
    const byService = await call(fake, 'GET', '/services/pricelistByService');
    expect(byService.body).toEqual([
      { s: 'instagram', countries: [{ c: 'us', p: 0.15 }, { c: 'gb', p: 0.2 }] },
      { s: 'whatsapp', countries: [{ c: 'us', p: 0.3 }, { c: 'gb', p: 0.35 }] },
      { s: 'telegram', countries: [{ c: 'us', p: 0.1 }] },
    ]);
    expect((await call(fake, 'GET', '/services/whatsapp/countries/gb')).body).toEqual({ price: 0.35, available: true });
    expectError(await call(fake, 'GET', '/services/telegram/countries/gb'), 404, 'ResourceNotFoundException');
    expectError(await call(fake, 'GET', '/services/Telegram/countries/us'), 400, 'InvalidRequestParamsException');
    expectError(await call(fake, 'GET', '/services/telegram/countries/USA'), 400, 'InvalidRequestParamsException');

    fake.setPrice('telegram', 'us', null);
    expectError(await call(fake, 'GET', '/services/telegram/countries/us'), 404, 'ResourceNotFoundException');
    expectError(await call(fake, 'POST', '/activations', { body: { serviceId: 'telegram', countryId: 'us' } }), 404, 'ResourceNotFoundException');
    fake.setPrice('telegram', 'fr', 0.12);
    expect((await call(fake, 'GET', '/services/telegram/countries/fr')).body).toEqual({ price: 0.12, available: true });
  });

  it('creates an activation in smsRequested, charges it, and shows the SMS once delivered', async () => {
    const { fake, clock } = await fakeWithClock({ balance: 1 });
    const created = await create(fake);
    expect(created).toEqual({ id: expect.any(String), number: expect.stringMatching(/^\+1\d{3}55501\d{2}$/) });
    expect(fake.balance()).toBeCloseTo(0.85, 10);

    const a = await get(fake, created.id);
    expect(a).toEqual({
      id: created.id,
      status: 'smsRequested',
      countryId: 'us',
      serviceId: 'instagram',
      number: created.number,
      formatNumber: expect.stringMatching(/^\+1 \(\d{3}\) 555-01\d{2}$/),
      message: null,
      code: null,
      price: 0.15,
      createdAt: new Date(T0).toISOString(),
      numberExpireAt: new Date(T0 + 20 * 60_000).toISOString(),
      retryAvailable: true,
      reason: null,
    });

    clock.t += 60_000;
    fake.deliver(created.id, 'Your Instagram code is 123456', '123456');
    const received = await get(fake, created.id);
    expect(received).toMatchObject({ status: 'smsReceived', message: 'Your Instagram code is 123456', code: '123456' });
    expect(() => fake.deliver(created.id, 'again', '1')).toThrow(/not waiting/);
    expect(() => fake.deliver('999', 'x', '1')).toThrow(/no activation/);
  });

  it('hands out numbers from fiction ranges with a human format', async () => {
    const fake = await startFakeTempNumber({ prices: { telegram: { us: 0.1, ca: 0.1, gb: 0.1, fr: 0.1 } } });
    const formats: Record<string, [RegExp, RegExp]> = {
      us: [/^\+1\d{3}55501\d{2}$/, /^\+1 \(\d{3}\) 555-01\d{2}$/],
      ca: [/^\+1\d{3}55501\d{2}$/, /^\+1 \(\d{3}\) 555-01\d{2}$/],
      gb: [/^\+447700900\d{3}$/, /^\+44 7700 900\d{3}$/],
      fr: [/^\+3363998\d{4}$/, /^\+33 6 39 98 \d{2} \d{2}$/],
    };
    const numbers = new Set<string>();
    for (const [country, [e164, human]] of Object.entries(formats)) {
      const { id, number } = await create(fake, 'telegram', country);
      expect(number).toMatch(e164);
      expect((await get(fake, id)).formatNumber).toMatch(human);
      numbers.add(number);
    }
    expect(numbers.size).toBe(4);
  });

  it('retries: PUT { status: "retry" } → retryRequested → deliver → retryReceived', async () => {
    const { fake } = await fakeWithClock();
    const { id } = await create(fake);
    fake.deliver(id, 'code 111111', '111111');
    const put = await call(fake, 'PUT', `/activations/${id}`, { body: { status: 'retry' } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ result: 'success' });
    expect((await get(fake, id)).status).toBe('retryRequested');
    fake.deliver(id, 'code 222222', '222222');
    expect(await get(fake, id)).toMatchObject({ status: 'retryReceived', message: 'code 222222', code: '222222' });
    // A second retry from retryReceived is allowed too.
    expect((await call(fake, 'PUT', `/activations/${id}`, { body: { status: 'retry' } })).status).toBe(200);
  });

  it('refuses a retry in a bad state with 409 ResourceBadStateException', async () => {
    const { fake, clock } = await fakeWithClock();
    const retry = (id: string): Promise<Reply> => call(fake, 'PUT', `/activations/${id}`, { body: { status: 'retry' } });

    const waiting = await create(fake);
    expectError(await retry(waiting.id), 409, 'ResourceBadStateException');
    expect((await get(fake, waiting.id)).status).toBe('smsRequested');

    const noRetry = await create(fake);
    fake.deliver(noRetry.id, 'code 1', '1');
    fake.activations.get(noRetry.id)!.retryAvailable = false;
    expectError(await retry(noRetry.id), 409, 'ResourceBadStateException');

    const expired = await create(fake);
    fake.deliver(expired.id, 'code 2', '2');
    clock.t += 20 * 60_000;
    expectError(await retry(expired.id), 409, 'ResourceBadStateException');
    expect((await get(fake, expired.id)).status).toBe('serviceConsumed');

    expectError(await retry('424242'), 404, 'ResourceNotFoundException');
    expectError(await call(fake, 'GET', '/activations/424242'), 404, 'ResourceNotFoundException');
    expectError(await call(fake, 'GET', '/activations/not-an-id'), 400, 'InvalidRequestParamsException');
  });

  it('refunds a number that lapses without an SMS, and not one that got an SMS', async () => {
    const { fake, clock } = await fakeWithClock({ balance: 1 });
    const a = await create(fake);
    const b = await create(fake, 'whatsapp', 'gb');
    expect(fake.balance()).toBeCloseTo(0.5, 10);

    fake.lapse(a.id);
    expect(fake.activations.get(a.id)?.status).toBe('refunded');
    expect(fake.balance()).toBeCloseTo(0.65, 10);
    expect(await get(fake, a.id)).toMatchObject({ status: 'refunded', retryAvailable: false, numberExpireAt: new Date(T0).toISOString() });
    expect(() => fake.lapse(a.id)).toThrow(/already refunded/);

    fake.deliver(b.id, 'code 5', '5');
    fake.lapse(b.id);
    expect((await get(fake, b.id)).status).toBe('serviceConsumed');
    expect(fake.balance()).toBeCloseTo(0.65, 10);

    // Lapse also happens by itself when the clock passes numberExpireAt (settled on the next request).
    const c = await create(fake, 'telegram', 'us');
    expect(fake.balance()).toBeCloseTo(0.55, 10);
    clock.t += 20 * 60_000 - 1;
    expect((await get(fake, c.id)).status).toBe('smsRequested');
    clock.t += 1;
    expect((await get(fake, c.id)).status).toBe('refunded');
    expect((await call(fake, 'GET', '/user/balance')).body).toMatchObject({ balance: 0.65 });
    expect(() => fake.deliver(c.id, 'late', '9')).toThrow(/not waiting/);
  });

  it('answers 402 paymentRequired when the balance is below the price', async () => {
    const fake = await startFakeTempNumber({ balance: 0.14 });
    expectError(await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us' } }), 402, 'paymentRequired');
    expect(fake.activations.size).toBe(0);
    expect(fake.balance()).toBe(0.14);
    fake.setBalance(0.15);
    await create(fake);
    expect(fake.balance()).toBe(0);
  });

  it('answers 409 expectedPriceErrorException with newPrice when expectedPrice is below the price', async () => {
    const fake = await startFakeTempNumber();
    const r = await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us', expectedPrice: 0.1 } });
    expectError(r, 409, 'expectedPriceErrorException');
    expect(r.body).toMatchObject({ newPrice: 0.15 });
    expect(fake.activations.size).toBe(0);
    expect(fake.balance()).toBe(100);

    // At or above the price, the activation is made at the current price.
    const ok = await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us', expectedPrice: 0.2 } });
    expect(ok.status).toBe(200);
    expect(fake.activations.get((ok.body as { id: string }).id)?.price).toBe(0.15);
    expect((await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us', expectedPrice: 0.15 } })).status).toBe(200);
    expect(fake.balance()).toBeCloseTo(99.7, 10);
  });

  it('refuses too many pending activations with 409 TooManyActivationsPendingException', async () => {
    const fake = await startFakeTempNumber({ maxPending: 2 });
    const a = await create(fake);
    await create(fake);
    expectError(await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us' } }), 409, 'TooManyActivationsPendingException');
    fake.deliver(a.id, 'code', '1');
    await create(fake);
  });

  it('refuses malformed bodies and ids with 400 InvalidRequestParamsException', async () => {
    const fake = await startFakeTempNumber();
    const post = (init: Parameters<typeof call>[3]): Promise<Reply> => call(fake, 'POST', '/activations', init);
    const bad = 'InvalidRequestParamsException';
    expectError(await post({ raw: '{"serviceId":"instagram","countryId":"us"}', contentType: 'text/plain' }), 400, bad);
    expectError(await post({ raw: '{"serviceId":"instagram","countryId":"us"}', contentType: null }), 400, bad);
    expectError(await post({ raw: '{"serviceId":', contentType: 'application/json' }), 400, bad);
    expectError(await post({ raw: '', contentType: 'application/json' }), 400, bad);
    expectError(await post({ body: ['instagram', 'us'] }), 400, bad);
    expectError(await post({ body: { countryId: 'us' } }), 400, bad);
    expectError(await post({ body: { serviceId: 'instagram' } }), 400, bad);
    expectError(await post({ body: { serviceId: 'Instagram', countryId: 'us' } }), 400, bad);
    expectError(await post({ body: { serviceId: 'instagram', countryId: 'US' } }), 400, bad);
    expectError(await post({ body: { serviceId: 'instagram', countryId: 'usa' } }), 400, bad);
    expectError(await post({ body: { serviceId: 'instagram', countryId: 'us', expectedPrice: '0.2' } }), 400, bad);
    expectError(await post({ body: { serviceId: 42, countryId: 'us' } }), 400, bad);
    // A charset parameter is fine.
    expect((await post({ body: { serviceId: 'instagram', countryId: 'us' }, contentType: 'application/json; charset=utf-8' })).status).toBe(200);

    const { id } = fake.activations.values().next().value!;
    fake.deliver(id, 'code', '1');
    const put = (init: Parameters<typeof call>[3]): Promise<Reply> => call(fake, 'PUT', `/activations/${id}`, init);
    expectError(await put({ body: { status: 'cancel' } }), 400, bad);
    expectError(await put({ body: {} }), 400, bad);
    expectError(await put({ raw: 'retry', contentType: 'text/plain' }), 400, bad);
    expectError(await call(fake, 'GET', '/activations?page=0'), 400, bad);
    expectError(await call(fake, 'GET', '/activations?limit=x'), 400, bad);
    expect((await get(fake, id)).status).toBe('smsReceived');
    expect(fake.activations.size).toBe(1);
  });

  it('pages the history with { activations, page, limit, pages, total }, newest first', async () => {
    const { fake, clock } = await fakeWithClock();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await create(fake, 'telegram', 'us')).id);
      clock.t += 1000;
    }
    const page1 = await call(fake, 'GET', '/activations?page=1&limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body).toMatchObject({ page: 1, limit: 2, pages: 3, total: 5 });
    const idsOf = (r: Reply): string[] => (r.body as { activations: Activation[] }).activations.map((a) => a.id);
    expect(idsOf(page1)).toEqual([ids[4], ids[3]]);
    expect(idsOf(await call(fake, 'GET', '/activations?page=2&limit=2'))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await call(fake, 'GET', '/activations?page=3&limit=2'))).toEqual([ids[0]]);
    expect(idsOf(await call(fake, 'GET', '/activations?page=4&limit=2'))).toEqual([]);
    const all = await call(fake, 'GET', '/activations');
    expect(all.body).toMatchObject({ page: 1, pages: 1, total: 5 });
    expect((all.body as { activations: Activation[] }).activations[0]).toMatchObject({ id: ids[4], status: 'smsRequested', formatNumber: expect.any(String) });
    expect(fake.requests.at(-1)).toEqual({ method: 'GET', path: '/api/v1/activations', status: 200 });
  });

  describe('rate limits', () => {
    it('answers 429 with Retry-After until the oldest request leaves the sliding window', async () => {
      const { fake, clock } = await fakeWithClock({ limits: { balance: { max: 2, windowMs: 10_000 } } });
      expect((await call(fake, 'GET', '/user/balance')).status).toBe(200);
      clock.t += 3_000;
      expect((await call(fake, 'GET', '/user/balance')).status).toBe(200);
      clock.t += 1_500;
      const limited = await call(fake, 'GET', '/user/balance');
      expectError(limited, 429, 'TooManyRequestsException');
      expect(limited.headers.get('retry-after')).toBe('6'); // 5.5 s rounded up to whole seconds
      // Other endpoints have their own windows.
      expect((await call(fake, 'GET', '/activations')).status).toBe(200);
      // Refused requests do not count: once the oldest leaves, one more is allowed.
      clock.t += 5_500;
      expect((await call(fake, 'GET', '/user/balance')).status).toBe(200);
      const again = await call(fake, 'GET', '/user/balance');
      expect(again.status).toBe(429);
      expect(again.headers.get('retry-after')).toBe('3'); // now T0 + 10 s; the second request leaves at T0 + 13 s
    });

    it('holds the documented default of 3 per minute on a price list', async () => {
      const { fake, clock } = await fakeWithClock();
      for (let i = 0; i < 3; i++) {
        expect((await call(fake, 'GET', '/services/pricelistByCountry')).status).toBe(200);
        clock.t += 10_000;
      }
      const limited = await call(fake, 'GET', '/services/pricelistByCountry');
      expectError(limited, 429, 'TooManyRequestsException');
      expect(limited.headers.get('retry-after')).toBe('30');
      // The other price list has its own limit.
      expect((await call(fake, 'GET', '/services/pricelistByService')).status).toBe(200);
      clock.t += 30_000;
      expect((await call(fake, 'GET', '/services/pricelistByCountry')).status).toBe(200);
    });

    it('counts per API key, after authentication', async () => {
      const { fake } = await fakeWithClock({ limits: { balance: { max: 1, windowMs: 60_000 } } });
      expect((await call(fake, 'GET', '/user/balance', { key: 'wrong' })).status).toBe(401);
      expect((await call(fake, 'GET', '/user/balance')).status).toBe(200);
      expect((await call(fake, 'GET', '/user/balance')).status).toBe(429);
    });
  });

  describe('fault injection', () => {
    it('storm answers the next requests of one endpoint with 429, with or without Retry-After', async () => {
      const fake = await startFakeTempNumber();
      fake.storm('getActivation', 1, 7);
      fake.storm('getActivation', 1);
      const { id } = await create(fake);
      const first = await call(fake, 'GET', `/activations/${id}`);
      expectError(first, 429, 'TooManyRequestsException');
      expect(first.headers.get('retry-after')).toBe('7');
      const second = await call(fake, 'GET', `/activations/${id}`);
      expectError(second, 429, 'TooManyRequestsException');
      expect(second.headers.get('retry-after')).toBeNull();
      expect((await call(fake, 'GET', `/activations/${id}`)).status).toBe(200);
      expect(fake.requests.map((r) => r.status)).toEqual([200, 429, 429, 200]);
    });

    it('failNext answers the next requests with the given error, then behaves again', async () => {
      const fake = await startFakeTempNumber();
      fake.failNext('createActivation', 2, 503, 'ServiceUnavailableException');
      fake.failNext('balance', 1, 403, 'AccountOnHoldException', { errorMessage: 'on hold' });
      const body = { serviceId: 'instagram', countryId: 'us' };
      expectError(await call(fake, 'POST', '/activations', { body }), 503, 'ServiceUnavailableException');
      expectError(await call(fake, 'POST', '/activations', { body }), 503, 'ServiceUnavailableException');
      expect(fake.activations.size).toBe(0);
      expect(fake.balance()).toBe(100);
      await create(fake);
      const held = await call(fake, 'GET', '/user/balance');
      expect(held.status).toBe(403);
      expect(held.body).toEqual({ errorName: 'AccountOnHoldException', errorMessage: 'on hold' });
      expect((await call(fake, 'GET', '/user/balance')).status).toBe(200);
    });
  });

  describe('the 7% delivery rule', () => {
    it('refuses the 6th activation after 5 lapsed without an SMS, for 24 h, only for that service and country', async () => {
      const { fake, clock } = await fakeWithClock();
      for (let i = 0; i < 5; i++) fake.lapse((await create(fake)).id);
      expect(fake.balance()).toBe(100); // all refunded
      const refused = await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us' } });
      expectError(refused, 403, 'lowSuccessRateException');
      expect(fake.activations.size).toBe(5);
      // Other services and countries are not affected.
      await create(fake, 'whatsapp', 'us');
      await create(fake, 'instagram', 'gb');
      // Still refused just before 24 h from the refusal, allowed after.
      clock.t += 24 * 60 * 60_000 - 1;
      expect((await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us' } })).status).toBe(403);
      clock.t += 1;
      await create(fake);
    });

    it('lets the 5th through, and does not judge activations still waiting', async () => {
      const { fake } = await fakeWithClock();
      for (let i = 0; i < 4; i++) fake.lapse((await create(fake)).id);
      const fifth = await create(fake);
      // 4 ended without SMS, 1 waiting: not judged yet.
      await create(fake);
      fake.lapse(fifth.id);
      expectError(await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us' } }), 403, 'lowSuccessRateException');
    });

    it('is satisfied by at least 7% receiving an SMS', async () => {
      const { fake } = await fakeWithClock({ maxPending: 100 });
      const ok = await create(fake);
      fake.deliver(ok.id, 'code', '1');
      // 1 of 14 = 7.1%: allowed.
      for (let i = 0; i < 13; i++) fake.lapse((await create(fake)).id);
      const fifteenth = await create(fake);
      // 1 of 15 = 6.7%: refused.
      fake.lapse(fifteenth.id);
      expectError(await call(fake, 'POST', '/activations', { body: { serviceId: 'instagram', countryId: 'us' } }), 403, 'lowSuccessRateException');
    });
  });
});
