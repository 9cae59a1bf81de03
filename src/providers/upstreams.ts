/**
 * Builds the client of an upstream source from its record. The HTTP client is loaded on first
 * use, so that a command never pays for it unless an upstream is configured and called.
 */
import type { Upstream, UpstreamEndpoint, UpstreamFactory } from '../core/sources/providers.js';
import { TEMPNUMBER_LIMITS } from './tempnumber-api.js';

export const createUpstream: UpstreamFactory = (record, limiter) => {
  let client: Promise<Upstream> | undefined;
  const family = record.kind === 'sms-activate';
  const get = (): Promise<Upstream> =>
    (client ??= family
      ? import('./sms-activate.js').then(
          ({ SmsActivate, SMS_ACTIVATE_LIMITS }) =>
            new SmsActivate({ apiKey: record.secret ?? '', baseUrl: record.settings.baseUrl ?? '', limiter: (endpoint) => limiter(endpoint, SMS_ACTIVATE_LIMITS[endpoint]) }),
        )
      : import('./tempnumber.js').then(
          ({ TempNumber }) =>
            new TempNumber({ apiKey: record.secret ?? '', baseUrl: record.settings.baseUrl, limiter: (endpoint: UpstreamEndpoint) => limiter(endpoint, TEMPNUMBER_LIMITS[endpoint]) }),
        ));
  return {
    priceList: async () => (await get()).priceList(),
    activate: async (platform, country, expectedPrice) => (await get()).activate(platform, country, expectedPrice),
    check: async (id, phase) => (await get()).check(id, phase),
    retry: async (id) => (await get()).retry(id),
    balance: async () => (await get()).balance(),
    // Only the family settles an activation when it ends; TempNumber's lapse on their own.
    ...(family ? { release: async (id: string, outcome: 'cancel' | 'finish') => (await get()).release!(id, outcome) } : {}),
  };
};
