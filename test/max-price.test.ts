import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccountInfo } from '../src/core/broker.js';
import { parseOneJson } from './cli-helpers.js';
import { tempDir } from './helpers.js';
import { errorProblems } from './support/http.js';
import { cleanEnv, killLeftovers, runTn, startServe, requireBuild, type ServeProcess } from './support/process.js';

// `--max-price` (issue 17 §2) through the real binary, against a real `tn serve` and on `local`:
// a price above the limit is refused with 402 price_above_max (exit 4) and nothing is charged.

const API = '/api/v1';

beforeAll(requireBuild);
afterEach(killLeftovers);

interface Remote {
  server: ServeProcess;
  key: string;
  env: NodeJS.ProcessEnv;
}

async function remote(): Promise<Remote> {
  const dir = tempDir('tn-maxprice-');
  const file = join(dir, 'tn.db');
  const base = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
  const server = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', '--sim-delay', '20', '-q'], base);
  const res = await fetch(`${server.url}${API}/register`, { method: 'POST' });
  const { api_key: key, account_id: accountId } = (await res.json()) as { api_key: string; account_id: string };
  const credited = await runTn(['admin', 'credit', accountId, '5', '--db', file], base);
  expect(credited.code, credited.stderr).toBe(0);
  return { server, key, env: { ...base, TN_ENDPOINT: server.url, TN_API_KEY: key } };
}

async function account(r: Remote): Promise<AccountInfo> {
  const res = await fetch(`${r.server.url}${API}/account`, { headers: { authorization: `Bearer ${r.key}` } });
  return (await res.json()) as AccountInfo;
}

interface ErrorJson {
  error: { code: string; message: string; status: number; price?: number; limit?: number };
}

describe('--max-price against tn serve', () => {
  it('order, verify and batch refuse a higher price with exit 4 and charge nothing; an equal price is bought', async () => {
    const r = await remote();
    // Instagram lists at $0.12, WhatsApp at $0.25.
    const order = await runTn(['order', 'instagram', '--country', 'us', '--max-price', '0.10', '--json'], r.env);
    expect(order.code, order.stderr).toBe(4);
    const body = parseOneJson(order.stdout) as ErrorJson;
    expect(body.error).toMatchObject({ code: 'price_above_max', status: 402, price: 0.12, limit: 0.1 });
    expect(body.error.message).toContain('$0.12');

    const verify = await runTn(['verify', 'instagram', '--country', 'us', '--max-price', '0.1'], r.env);
    expect(verify.code, verify.stderr).toBe(4);
    expect(verify.stdout).toBe('');
    expect(verify.stderr).toContain('$0.12');

    const before = await account(r);
    expect(before.balance).toBe(5);
    expect(before.stats.orders).toBe(0);

    const batch = await runTn(['batch', 'instagram', 'whatsapp', '--country', 'us', '--max-price', '0.12', '--json'], r.env);
    expect(batch.code, batch.stderr).toBe(4);
    const result = parseOneJson(batch.stdout) as { results: { ok: boolean; error?: { code: string } }[]; total_price: number };
    expect(result.results.map((x) => x.ok)).toEqual([true, false]);
    expect(result.results[1]!.error!.code).toBe('price_above_max');
    expect(result.total_price).toBe(0.12);

    const after = await account(r);
    expect(after.balance).toBe(4.88);
    expect(after.stats.orders).toBe(1);
  });

  it('the API: max_price refuses with the one error shape; a malformed one is a 400', async () => {
    const r = await remote();
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${r.server.url}${API}${path}`, { method: 'POST', headers: { authorization: `Bearer ${r.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await post('/order', { platform: 'whatsapp', country: 'us', max_price: 0.2 });
    const text = await refused.text();
    expect(refused.status).toBe(402);
    expect(errorProblems(402, text)).toEqual([]);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'price_above_max', price: 0.25, limit: 0.2 } });
    const verify = await post('/verify', { platform: 'whatsapp', country: 'us', max_price: 0.2, timeout_seconds: 30 });
    expect(verify.status).toBe(402);
    for (const bad of [0, -1, 'cheap']) {
      const res = await post('/order', { platform: 'whatsapp', max_price: bad });
      expect(res.status, String(bad)).toBe(400);
    }
    // Finer than a micro-dollar: the core refuses what the schema lets through.
    const fine = await post('/order', { platform: 'whatsapp', max_price: 0.0000001 });
    expect(fine.status).toBe(400);
    expect((await account(r)).balance).toBe(5);
  });
});

describe('--max-price on local', () => {
  it('refuses on the embedded broker the same way; a bad amount is a usage error', async () => {
    const dir = tempDir('tn-maxprice-local-');
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data'), TN_SIM_DELAY_MS: '20' });
    const refused = await runTn(['order', 'whatsapp', '--max-price', '$0.24', '--json'], env);
    expect(refused.code, refused.stderr).toBe(4);
    expect((parseOneJson(refused.stdout) as ErrorJson).error).toMatchObject({ code: 'price_above_max', price: 0.25 });
    const verified = await runTn(['verify', 'whatsapp', '--country', 'us', '--max-price', '0.25'], env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^\d{4,8}\n$/);
    const accountJson = await runTn(['account', '--json'], env);
    expect((parseOneJson(accountJson.stdout) as AccountInfo).balance).toBe(9.75);
    for (const bad of ['0', 'abc', '-1', '0.1234567']) {
      const res = await runTn(['order', 'whatsapp', '--max-price', bad], env);
      expect(res.code, bad).toBe(2);
    }
  });
});
