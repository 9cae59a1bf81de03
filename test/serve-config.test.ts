import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import { TnError } from '../src/core/errors.js';
import { buildApp } from '../src/server/app.js';
import { readServeConfig } from '../src/server/config.js';
import { tempDir } from './helpers.js';

/** TempNumber's documented limits, as the README shows them for a strict profile. */
const TEMPNUMBER_STRICT = {
  rateLimits: {
    perKeyPerSecond: 100,
    routes: {
      'GET /api/v1/orders': { limit: 10, windowSeconds: 60 },
      'POST /api/v1/order': { limit: 80, windowSeconds: 120 },
      'GET /api/v1/order/:id': { limit: 80, windowSeconds: 120 },
      'POST /api/v1/order/:id/retry': { limit: 10, windowSeconds: 60 },
      'GET /api/v1/prices': { limit: 3, windowSeconds: 60 },
      'GET /api/v1/account': { limit: 10, windowSeconds: 60 },
    },
  },
  deliveryGuard: { minOrders: 5, minRate: 0.07, windowHours: 24 },
};

describe('tn serve --config', () => {
  it('reads the strict profile of the README, and refuses a malformed file with the path of the problem', () => {
    const dir = tempDir();
    const good = join(dir, 'strict.json');
    writeFileSync(good, JSON.stringify(TEMPNUMBER_STRICT));
    expect(readServeConfig(good)).toEqual(TEMPNUMBER_STRICT);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ rateLimits: { routes: { 'POST /api/v1/order': { limit: -1, windowSeconds: 60 } } } }));
    expect(() => readServeConfig(bad)).toThrow(TnError);
    expect(() => readServeConfig(bad)).toThrow(/rateLimits\/routes/);
    writeFileSync(bad, '{ not json');
    expect(() => readServeConfig(bad)).toThrow(/Cannot read the config file/);
    writeFileSync(bad, JSON.stringify({ typo: true }));
    expect(() => readServeConfig(bad)).toThrow(TnError);

    const routing = { routing: { successFloor: { window: 20, minRate: 0.2 } } };
    writeFileSync(good, JSON.stringify(routing));
    expect(readServeConfig(good)).toEqual(routing);
    writeFileSync(bad, JSON.stringify({ routing: { successFloor: { window: 0, minRate: 2 } } }));
    expect(() => readServeConfig(bad)).toThrow(/routing\/successFloor/);
  });

  it('limits a single route per key, with its own policy in the headers, leaving other routes alone', async () => {
    const core = openCoreOnFile(join(tempDir(), 'tn.db'), { simulator: { delayMs: 60_000 } });
    const app = await buildApp({
      core,
      version: 'test',
      rateLimits: { perKeyPerSecond: 100, registerPerHour: 30, routes: TEMPNUMBER_STRICT.rateLimits.routes },
    });
    try {
      const reg = await core.register({ credit: 5_000_000 });
      const auth = { authorization: `Bearer ${reg.api_key}` };
      const prices = () => app.inject({ method: 'GET', url: '/api/v1/prices?by=service&country=us', headers: auth });
      for (let i = 0; i < 3; i++) {
        const ok = await prices();
        expect(ok.statusCode).toBe(200);
        expect(ok.headers['ratelimit-policy']).toBe('"get-api-v1-prices";q=3;w=60');
      }
      const refused = await prices();
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error).toMatchObject({ code: 'rate_limited', status: 429 });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.headers.ratelimit).toMatch(/^"get-api-v1-prices";r=0;t=\d+$/);
      // Another route, another key: unaffected.
      expect((await app.inject({ method: 'GET', url: '/api/v1/services', headers: auth })).statusCode).toBe(200);
      const other = await core.register({ credit: 0 });
      expect((await app.inject({ method: 'GET', url: '/api/v1/prices?by=service&country=us', headers: { authorization: `Bearer ${other.api_key}` } })).statusCode).toBe(200);
    } finally {
      await app.close();
      await core.close();
    }
  });
});
