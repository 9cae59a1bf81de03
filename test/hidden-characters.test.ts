import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPlatform, requirePlatform } from '../src/core/catalogue/catalog.js';
import { findCountry, requireCountry } from '../src/core/catalogue/countries.js';
import { TnError } from '../src/core/errors.js';
import { cleanEnv, killLeftovers, runTn, startServe, type ServeProcess, stopServe } from './support/process.js';

// Issue 20 §5: a platform or country name with a control or invisible character in it is refused
// with `invalid_request`, never cleaned into a valid name: not by the core, not by the API of a
// real `tn serve`, not by the CLI on the embedded broker or on a server. (`npm run build` first.)

const API = '/api/v1';
/** Names that stripping would turn into "instagram" or "us". */
const PLATFORMS = ['insta\u0000gram', '\u202einstagram', 'insta\u200bgram', 'instagram\u2066', 'insta\u0007gram', '\ufeffinstagram', 'instagram\n', 'insta\u2028gram'];
const COUNTRIES = ['\u202eus', 'u\u0000s', 'us\u200d', 'u\u001bs', '\u2029gb'];
/** argv cannot carry a NUL: the CLI gets every other one. */
const argv = (names: string[]): string[] => names.filter((n) => !n.includes('\u0000'));

const invalid = (parameter: string) => ({ code: 'invalid_request', message: expect.stringContaining(`Parameter "${parameter}"`) });

describe('the core', () => {
  it('refuses hidden characters in a platform name with invalid_request, and finds no platform by such a name', () => {
    for (const name of PLATFORMS) {
      expect(() => requirePlatform(name), JSON.stringify(name)).toThrow(expect.objectContaining(invalid('platform')));
      expect(findPlatform(name), JSON.stringify(name)).toBeUndefined();
    }
    expect(() => requirePlatform('\u202e')).toThrow(TnError);
    expect(requirePlatform(' Instagram ').id).toBe('instagram');
    expect(requirePlatform('ig').id).toBe('instagram');
  });

  it('refuses hidden characters in a country name with invalid_request, and finds no country by such a name', () => {
    for (const name of COUNTRIES) {
      expect(() => requireCountry(name), JSON.stringify(name)).toThrow(expect.objectContaining(invalid('country')));
      expect(findCountry(name), JSON.stringify(name)).toBeUndefined();
    }
    expect(requireCountry(' U.S. ')).toBe('us');
    expect(requireCountry('Côte d’Ivoire')).toBe('ci');
  });
});

let dir: string;
let env: NodeJS.ProcessEnv;
let file: string;
let server: ServeProcess;
let key: string;

async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${API}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tn-hidden-'));
  env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data'), TN_SIM_DELAY_MS: '60000' });
  file = join(dir, 'serve.db');
  server = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', '--sim-delay', '60000'], env);
  key = ((await (await fetch(`${server.url}${API}/register`, { method: 'POST' })).json()) as { api_key: string }).api_key;
}, 30_000);

afterAll(async () => {
  if (server) await stopServe(server);
  await killLeftovers();
  rmSync(dir, { recursive: true, force: true });
});

describe('the API of tn serve', () => {
  it('answers 400 invalid_request to such a platform or country on every route that takes one, and charges nothing', async () => {
    const before = (await api('GET', '/account')).body.balance;
    for (const platform of PLATFORMS) {
      for (const [method, path, body] of [
        ['POST', '/order', { platform }],
        ['POST', '/verify', { platform, timeout_seconds: 30 }],
        ['GET', `/prices?by=country&platform=${encodeURIComponent(platform)}`, undefined],
      ] as const) {
        const res = await api(method, path, body);
        expect(res, `${method} ${path} ${JSON.stringify(platform)}`).toEqual({ status: 400, body: { error: { ...invalid('platform'), status: 400 } } });
      }
      const batch = await api('POST', '/batch', { orders: [{ platform }] });
      expect(batch.status).toBe(200);
      expect(batch.body.results).toEqual([{ ok: false, error: expect.objectContaining(invalid('platform')) }]);
    }
    for (const country of COUNTRIES) {
      for (const [method, path, body] of [
        ['POST', '/order', { platform: 'instagram', country }],
        ['GET', `/prices?by=service&country=${encodeURIComponent(country)}`, undefined],
      ] as const) {
        const res = await api(method, path, body);
        expect(res, `${method} ${path} ${JSON.stringify(country)}`).toEqual({ status: 400, body: { error: { ...invalid('country'), status: 400 } } });
      }
    }
    const account = (await api('GET', '/account')).body;
    expect(account.balance).toBe(before);
    expect(account.stats).toMatchObject({ orders: 0 });
  });
});

describe('the CLI', () => {
  const expectRefused = (r: { code: number | null; stdout: string; stderr: string }, parameter: string, what: string): void => {
    expect(r.code, `${what}: ${r.stderr}`).toBe(2);
    expect(JSON.parse(r.stdout), what).toEqual({ error: { ...invalid(parameter), status: 400 } });
  };

  it('exits 2 with invalid_request on the embedded broker and on a server, and orders nothing', async () => {
    const remote = { ...env, TN_ENDPOINT: server.url, TN_API_KEY: key };
    for (const [where, runEnv] of [['local', env], ['remote', remote]] as const) {
      for (const platform of argv(PLATFORMS)) {
        expectRefused(await runTn(['order', platform, '--json'], runEnv), 'platform', `${where} order ${JSON.stringify(platform)}`);
        expectRefused(await runTn(['verify', platform, '--json'], runEnv), 'platform', `${where} verify ${JSON.stringify(platform)}`);
      }
      for (const country of argv(COUNTRIES)) {
        expectRefused(await runTn(['order', 'instagram', '--country', country, '--json'], runEnv), 'country', `${where} order --country ${JSON.stringify(country)}`);
      }
      const account = JSON.parse((await runTn(['account', '--json'], runEnv)).stdout) as { stats: { orders: number } };
      expect(account.stats.orders, where).toBe(0);
    }
  }, 120_000);

  it('refuses such names in the operator commands and the config too', async () => {
    expect((await runTn(['admin', 'price', 'set', '\u202einstagram', 'us', '0.40', '--db', file], env)).code).toBe(2);
    expect((await runTn(['admin', 'price', 'set', 'instagram', '\u202eus', '0.40', '--db', file], env)).code).toBe(2);
    expect((await runTn(['config', 'set', 'country', '\u202eus'], env)).code).toBe(2);
    expect(JSON.parse((await runTn(['admin', 'price', 'list', '--db', file, '--json'], env)).stdout)).toEqual({ prices: [] });
  });
});
