/**
 * Builds the client of an upstream source from its record. The HTTP client is loaded on first
 * use, so that a command never pays for it unless an upstream is configured and called.
 */
import type { SourceRecord } from '../core/ports.js';
import type { Upstream, UpstreamEndpoint } from './types.js';

/** TempNumber's production API (the base its published clients use). */
export const TEMPNUMBER_BASE_URL = 'https://tn-api.com/api/v1';

/** TempNumber's documented limits, per endpoint and API key. */
export const TEMPNUMBER_LIMITS: Record<UpstreamEndpoint, { max: number; windowMs: number }> = {
  createActivation: { max: 80, windowMs: 120_000 },
  getActivation: { max: 80, windowMs: 120_000 },
  updateActivation: { max: 10, windowMs: 60_000 },
  pricelist: { max: 3, windowMs: 60_000 },
  balance: { max: 10, windowMs: 60_000 },
};

export function createUpstream(record: SourceRecord, limiter: (endpoint: UpstreamEndpoint) => Promise<number>): Upstream {
  let client: Promise<Upstream> | undefined;
  const get = (): Promise<Upstream> =>
    (client ??= import('./tempnumber.js').then(({ TempNumber }) => new TempNumber({ apiKey: record.secret ?? '', baseUrl: record.settings.baseUrl, limiter })));
  return {
    priceList: async () => (await get()).priceList(),
    activate: async (platform, country, expectedPrice) => (await get()).activate(platform, country, expectedPrice),
    check: async (id) => (await get()).check(id),
    retry: async (id) => (await get()).retry(id),
    balance: async () => (await get()).balance(),
  };
}
