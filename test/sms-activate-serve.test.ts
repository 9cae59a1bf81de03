import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORMS } from '../src/core/catalogue/catalog.js';
import { COUNTRIES } from '../src/core/catalogue/countries.js';
import {
  PRIVATE_COUNTRY_ID_BASE,
  countryIdOf,
  countryOfId,
  familyCountryIdOf,
  platformOfServiceCode,
  serviceCodeOf,
} from '../src/core/catalogue/sms-activate-codes.js';
import { killLeftovers, runTn, startServe, until, requireBuild, type ServeProcess, tempHome } from './support/process.js';

// Issue 15 §1: a real `tn serve` (the compiled dist/: `npm run build` first) spoken to as the
// sms-activate family's clients speak: a query GET (PHP's file_get_contents, most bots), a
// form-encoded POST (Python's requests `data=`, axios with URLSearchParams), a multipart POST
// (PHP curl with an array of fields), `api_key` in the query or in the body.

const HANDLER = '/stubs/handler_api.php';

beforeAll(requireBuild);
afterEach(killLeftovers);

type Home = ReturnType<typeof tempHome>;
const home = (): Home => tempHome('tn-smsa-');

type Style = 'get' | 'form' | 'multipart';

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/** One request of the protocol, shaped as a client library of the family sends it. */
async function call(url: string, params: Record<string, string | number>, style: Style = 'get'): Promise<Answer> {
  const pairs = Object.entries(params).map(([k, v]) => [k, String(v)] as [string, string]);
  let res: Response;
  if (style === 'get') {
    res = await fetch(`${url}${HANDLER}?${new URLSearchParams(pairs).toString()}`);
  } else if (style === 'form') {
    res = await fetch(`${url}${HANDLER}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(pairs).toString(),
    });
  } else {
    const form = new FormData();
    for (const [k, v] of pairs) form.append(k, v);
    res = await fetch(`${url}${HANDLER}`, { method: 'POST', body: form });
  }
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function register(url: string): Promise<{ api_key: string; account_id: string }> {
  const res = await fetch(`${url}/api/v1/register`, { method: 'POST' });
  expect(res.status).toBe(201);
  return (await res.json()) as { api_key: string; account_id: string };
}

async function credit(h: Home, account: string, usd: string): Promise<void> {
  const res = await runTn(['admin', 'credit', account, usd, '--db', h.file], h.env);
  expect(res.code, res.stderr).toBe(0);
}

async function started(h: Home, ...more: string[]): Promise<ServeProcess> {
  return startServe(['--port', '0', '--db', h.file, '--rate-limit', '0', ...more], h.env);
}

/** A token answer: HTTP 200, plain text, as every client of the family expects. */
function token(a: Answer): string {
  expect(a.status, a.text).toBe(200);
  return a.text;
}

describe('the service codes and country ids (one table, both ways)', () => {
  it('gives every platform a code and every country an id, and reads each back to itself', () => {
    for (const p of PLATFORMS) {
      const code = serviceCodeOf(p.id);
      expect(code, p.id).toBeDefined();
      expect(platformOfServiceCode(code!), p.id).toBe(p.id);
      expect(platformOfServiceCode(p.id), p.id).toBe(p.id);
    }
    const ids = new Set<number>();
    for (const { code } of COUNTRIES) {
      const id = countryIdOf(code);
      expect(id, code).toBeDefined();
      expect(ids.has(id!), `${code} shares id ${id}`).toBe(false);
      ids.add(id!);
      expect(countryOfId(id!), code).toBe(code);
      expect(countryOfId(String(id)), code).toBe(code);
    }
  });

  it('uses the family\'s own codes and ids', () => {
    expect(
      ['instagram', 'whatsapp', 'telegram', 'google', 'facebook', 'twitter', 'discord', 'amazon', 'microsoft', 'uber'].map((p) => serviceCodeOf(p)),
    ).toEqual(['ig', 'wa', 'tg', 'go', 'fb', 'tw', 'ds', 'am', 'mm', 'ub']);
    expect([countryIdOf('us'), countryIdOf('gb'), countryIdOf('ca'), countryIdOf('fr'), countryIdOf('ru'), countryIdOf('de'), countryIdOf('id')]).toEqual([187, 16, 36, 78, 0, 43, 6]);
    // 12 is the family's "USA (virtual)": read as the United States, never given out.
    expect(countryOfId(12)).toBe('us');
    // A country the family has no id for gets one of ours, never sent to a provider.
    const antarctica = countryIdOf('aq')!;
    expect(antarctica).toBeGreaterThanOrEqual(PRIVATE_COUNTRY_ID_BASE);
    expect(familyCountryIdOf('aq')).toBeUndefined();
    expect(familyCountryIdOf('us')).toBe(187);
    expect(platformOfServiceCode('xx-not-a-service')).toBeUndefined();
    expect(platformOfServiceCode('insta')).toBeUndefined();
  });
});

describe('tn serve speaks handler_api.php', () => {
  it('answers balance, numbers, statuses, another code and finish, with the key in the query, a form or a multipart body', async () => {
    const h = home();
    const server = await started(h, '--sim-delay', '200');
    const { api_key: key, account_id: accountId } = await register(server.url);
    await credit(h, accountId, '9.75');

    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }, 'get'))).toBe('ACCESS_BALANCE:9.75');
    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }, 'form'))).toBe('ACCESS_BALANCE:9.75');
    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }, 'multipart'))).toBe('ACCESS_BALANCE:9.75');
    // The key in the query, the rest in a form body: some clients build the URL with the key only.
    const mixed = await fetch(`${server.url}${HANDLER}?api_key=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=getBalance',
    });
    expect(await mixed.text()).toBe('ACCESS_BALANCE:9.75');

    const number = token(await call(server.url, { api_key: key, action: 'getNumber', service: 'ig', country: 187, operator: 'any' }, 'form'));
    const m = /^ACCESS_NUMBER:(\d+):(\d+)$/.exec(number);
    expect(m, number).not.toBeNull();
    const [, id, phone] = m!;
    expect(phone!.startsWith('1')).toBe(true);

    // The same order on the REST API: Instagram in the US at its $0.12.
    const rest = (await (await fetch(`${server.url}/api/v1/orders`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      orders: { order_id: string; phone: string; platform: string; country: string; price: number }[];
    };
    expect(rest.orders).toHaveLength(1);
    expect(rest.orders[0]).toMatchObject({ phone: `+${phone}`, platform: 'instagram', country: 'us', price: 0.12 });
    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:9.63');

    expect(token(await call(server.url, { api_key: key, action: 'setStatus', id: id!, status: 1 }))).toBe('ACCESS_READY');
    let status = '';
    await until(async () => {
      status = token(await call(server.url, { api_key: key, action: 'getStatus', id: id! }));
      expect(status).toMatch(/^STATUS_(WAIT_CODE|OK:\d+)$/);
      return status.startsWith('STATUS_OK:');
    }, 10_000, 'the code');
    const first = status.slice('STATUS_OK:'.length);

    const v2 = JSON.parse(token(await call(server.url, { api_key: key, action: 'getStatusV2', id: id! }))) as {
      verificationType: number;
      sms: { dateTime: string; code: string; text: string };
      call: null;
    };
    expect(v2.sms.code).toBe(first);
    expect(v2.sms.text).toContain(first);
    expect(v2.sms.dateTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(v2.call).toBeNull();

    // Another code on the same number, free: the client sees the last code while it waits.
    expect(token(await call(server.url, { api_key: key, action: 'setStatus', id: id!, status: 3 }, 'multipart'))).toBe('ACCESS_RETRY_GET');
    await until(async () => {
      status = token(await call(server.url, { api_key: key, action: 'getStatus', id: id! }));
      if (status !== `STATUS_WAIT_RETRY:${first}`) expect(status).toMatch(/^STATUS_OK:/);
      return status.startsWith('STATUS_OK:');
    }, 10_000, 'the second code');
    expect(token(await call(server.url, { api_key: key, action: 'setStatus', id: id!, status: 6 }))).toBe('ACCESS_ACTIVATION');
    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:9.63');
    // A finished activation cannot be cancelled: the code was delivered.
    expect(token(await call(server.url, { api_key: key, action: 'setStatus', id: id!, status: 8 }))).toBe('BAD_STATUS');

    // The request log names each call, never the key, though most of them carried it in the URL.
    expect(server.stdout()).toContain(`${HANDLER}?api_key=[Redacted]`);
    expect(server.stdout()).not.toContain(key.slice(3));
  });

  it('cancels with a refund, and never shows another account its activations', async () => {
    const h = home();
    const server = await started(h, '--sim-no-sms-rate', '1');
    const alice = await register(server.url);
    const bob = await register(server.url);
    await credit(h, alice.account_id, '1');
    await credit(h, bob.account_id, '1');

    const number = token(await call(server.url, { api_key: alice.api_key, action: 'getNumber', service: 'wa', country: 16 }));
    const id = /^ACCESS_NUMBER:(\d+):44\d+$/.exec(number)?.[1];
    expect(id, number).toBeDefined();
    expect(token(await call(server.url, { api_key: alice.api_key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:0.75');
    expect(token(await call(server.url, { api_key: alice.api_key, action: 'getStatus', id: id! }))).toBe('STATUS_WAIT_CODE');

    // Bob's key with Alice's id: as if it did not exist, and nothing happens to it.
    expect(token(await call(server.url, { api_key: bob.api_key, action: 'getStatus', id: id! }))).toBe('NO_ACTIVATION');
    expect(token(await call(server.url, { api_key: bob.api_key, action: 'setStatus', id: id!, status: 8 }, 'form'))).toBe('NO_ACTIVATION');
    expect(token(await call(server.url, { api_key: alice.api_key, action: 'getStatus', id: id! }))).toBe('STATUS_WAIT_CODE');

    const active = JSON.parse(token(await call(server.url, { api_key: alice.api_key, action: 'getActiveActivations' }))) as {
      status: string;
      activeActivations: { activationId: string; serviceCode: string; countryCode: string }[];
    };
    expect(active.status).toBe('success');
    expect(active.activeActivations).toEqual([expect.objectContaining({ activationId: id, serviceCode: 'wa', countryCode: '16' })]);
    expect(JSON.parse(token(await call(server.url, { api_key: bob.api_key, action: 'getActiveActivations' })))).toEqual({ status: 'error', error: 'NO_ACTIVATIONS' });

    expect(token(await call(server.url, { api_key: alice.api_key, action: 'setStatus', id: id!, status: 8 }, 'form'))).toBe('ACCESS_CANCEL');
    expect(token(await call(server.url, { api_key: alice.api_key, action: 'getStatus', id: id! }))).toBe('STATUS_CANCEL');
    expect(token(await call(server.url, { api_key: alice.api_key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:1.00');
    // A second cancel changes nothing and says so in the same words.
    expect(token(await call(server.url, { api_key: alice.api_key, action: 'setStatus', id: id!, status: 8 }))).toBe('ACCESS_CANCEL');
    expect(token(await call(server.url, { api_key: alice.api_key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:1.00');

    const audit = await runTn(['admin', 'audit', '--db', h.file], h.env);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
  });

  it('answers every refusal with the protocol\'s token and HTTP 200', async () => {
    const h = home();
    const server = await started(h);
    const { api_key: key, account_id: accountId } = await register(server.url);

    expect(token(await call(server.url, { action: 'getBalance' }))).toBe('BAD_KEY');
    expect(token(await call(server.url, { api_key: 'vn_notakeynotakeynotakeynotakeynotakey', action: 'getBalance' }, 'form'))).toBe('BAD_KEY');
    expect(token(await call(server.url, { api_key: key, action: 'getNumber', service: 'ig', country: 187 }))).toBe('NO_BALANCE');
    await credit(h, accountId, '1');
    expect(token(await call(server.url, { api_key: key, action: 'fly' }))).toBe('BAD_ACTION');
    expect(token(await call(server.url, { api_key: key }))).toBe('BAD_ACTION');
    expect(token(await call(server.url, { api_key: key, action: 'getNumber', service: 'nonsense', country: 187 }))).toBe('BAD_SERVICE');
    expect(token(await call(server.url, { api_key: key, action: 'getNumber', country: 187 }))).toBe('BAD_SERVICE');
    // Instagram costs $0.12 there: a limit below it names the price.
    expect(token(await call(server.url, { api_key: key, action: 'getNumber', service: 'ig', country: 187, maxPrice: '0.10' }))).toBe('WRONG_MAX_PRICE:0.12');
    expect(token(await call(server.url, { api_key: key, action: 'getStatus', id: 'abc' }))).toBe('WRONG_ACTIVATION_ID');
    expect(token(await call(server.url, { api_key: key, action: 'getStatus' }))).toBe('WRONG_ACTIVATION_ID');
    expect(token(await call(server.url, { api_key: key, action: 'getStatus', id: 999999 }))).toBe('NO_ACTIVATION');
    const id = /^ACCESS_NUMBER:(\d+):/.exec(token(await call(server.url, { api_key: key, action: 'getNumber', service: 'ig', country: 187, maxPrice: '0.12' })))?.[1];
    expect(id).toBeDefined();
    expect(token(await call(server.url, { api_key: key, action: 'setStatus', id: id!, status: 5 }))).toBe('BAD_STATUS');
    // Finishing before any code arrived is refused: there is nothing to finish.
    expect(token(await call(server.url, { api_key: key, action: 'setStatus', id: id!, status: 6 }))).toBe('BAD_STATUS');
    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:0.88');

    // Requests the server cannot read are the client's fault (BAD_ACTION), not the server's (ERROR_SQL).
    const unreadable = [
      { 'content-type': 'application/x-www-form-urlencoded', body: `api_key=${key}&action=getBalance&pad=${'x'.repeat(70_000)}` },
      { 'content-type': 'application/json', body: `{"api_key":"${key}","action":` },
    ];
    for (const { body, ...headers } of unreadable) {
      const res = await fetch(`${server.url}${HANDLER}`, { method: 'POST', headers, body });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('BAD_ACTION');
    }
    expect(server.stdout()).not.toContain('sms-activate handler');
  });

  it('keeps an orderId idempotent: the same answer and one debit; another request with it is ORDER_ALREADY_EXISTS', async () => {
    const h = home();
    const server = await started(h);
    const { api_key: key, account_id: accountId } = await register(server.url);
    await credit(h, accountId, '2');

    const params = { api_key: key, action: 'getNumberV2', service: 'tg', country: 36, orderId: 'bot-run-17' };
    const a = JSON.parse(token(await call(server.url, params, 'form'))) as Record<string, unknown>;
    const b = JSON.parse(token(await call(server.url, params, 'get'))) as Record<string, unknown>;
    expect(b).toEqual(a);
    expect(a).toMatchObject({ activationCost: 0.3, currency: 840, countryCode: '36', canGetAnotherSms: true, activationOperator: 'any' });
    expect(typeof a.activationId).toBe('number');
    expect(String(a.phoneNumber)).toMatch(/^1\d{10}$/);
    expect(String(a.activationTime)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(String(a.activationEndTime)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:1.70');
    expect(token(await call(server.url, { ...params, service: 'wa' }))).toBe('ORDER_ALREADY_EXISTS');
    expect(token(await call(server.url, { api_key: key, action: 'getBalance' }))).toBe('ACCESS_BALANCE:1.70');
  });

  it('lists prices at the caller\'s tier, countries, services and the top countries of a service', async () => {
    const h = home();
    const server = await started(h);
    const { api_key: key } = await register(server.url);

    const one = JSON.parse(token(await call(server.url, { api_key: key, action: 'getPrices', service: 'ig', country: 187 }))) as Record<string, Record<string, { cost: number; count: number }>>;
    expect(Object.keys(one)).toEqual(['187']);
    expect(Object.keys(one['187']!)).toEqual(['ig']);
    expect(one['187']!.ig!.cost).toBe(0.12);
    expect(one['187']!.ig!.count).toBeGreaterThan(0);

    const byService = JSON.parse(token(await call(server.url, { api_key: key, action: 'getPrices', country: 16 }))) as Record<string, Record<string, { cost: number }>>;
    expect(Object.keys(byService)).toEqual(['16']);
    expect(byService['16']!.wa!.cost).toBe(0.25);
    expect(byService['16']!.tg!.cost).toBe(0.3);

    const all = JSON.parse(token(await call(server.url, { api_key: key, action: 'getPrices' }))) as Record<string, Record<string, unknown>>;
    expect(all['187']).toHaveProperty('ig');
    expect(all['16']).toHaveProperty('wa');

    const countries = JSON.parse(token(await call(server.url, { api_key: key, action: 'getCountries' }))) as Record<string, { id: number; eng: string }>;
    expect(countries['187']).toMatchObject({ id: 187, eng: 'United States' });
    expect(countries['16']).toMatchObject({ id: 16, eng: 'United Kingdom' });
    expect(Object.keys(countries)).toHaveLength(COUNTRIES.length);

    const services = JSON.parse(token(await call(server.url, { api_key: key, action: 'getServicesList' }))) as { status: string; services: { code: string; name: string }[] };
    expect(services.status).toBe('success');
    expect(services.services).toContainEqual({ code: 'ig', name: 'Instagram' });
    expect(services.services).toHaveLength(PLATFORMS.length);

    const top = JSON.parse(token(await call(server.url, { api_key: key, action: 'getTopCountriesByService', service: 'wa' }))) as Record<string, { country: number; count: number; price: number; retail_price: number }>;
    const ranked = Object.values(top);
    expect(ranked.length).toBeGreaterThan(1);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.count).toBeGreaterThanOrEqual(ranked[i]!.count);
    expect(ranked.map((r) => r.country)).toContain(187);
  });

  it('applies the per-key rate limit and the delivery-rate guard as the REST API does', async () => {
    const h = home();
    const limited = await startServe(['--port', '0', '--db', h.file, '--rate-limit', '1'], h.env);
    const { api_key: key } = await register(limited.url);
    // A burst of 2 with 1 a second: of 6 at once, some are refused, in the protocol's words, with Retry-After.
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(limited.url, { api_key: key, action: 'getBalance' }, 'form')));
    const refused = answers.filter((a) => a.text === 'TOO_MANY_REQUESTS');
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.status).toBe(200);
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(answers.filter((a) => a.text.startsWith('ACCESS_BALANCE:')).length).toBeGreaterThan(0);
    limited.child.kill('SIGTERM');
    await limited.exited;

    // The guard: from the 5th order of a service in a country, with none of the ended ones delivered, orders stop there.
    const server = await started(h, '--sim-no-sms-rate', '1');
    await credit(h, (await (await fetch(`${server.url}/api/v1/account`, { headers: { authorization: `Bearer ${key}` } })).json() as { account_id: string }).account_id, '5');
    for (let i = 0; i < 4; i++) {
      const id = /^ACCESS_NUMBER:(\d+):/.exec(token(await call(server.url, { api_key: key, action: 'getNumber', service: 'fb', country: 187 })))?.[1];
      expect(id).toBeDefined();
      expect(token(await call(server.url, { api_key: key, action: 'setStatus', id: id!, status: 8 }))).toBe('ACCESS_CANCEL');
    }
    expect(token(await call(server.url, { api_key: key, action: 'getNumber', service: 'fb', country: 187 }))).toBe('NO_NUMBERS');
    // Elsewhere the account orders as before.
    expect(token(await call(server.url, { api_key: key, action: 'getNumber', service: 'fb', country: 16 }))).toMatch(/^ACCESS_NUMBER:/);
  });
});
