/** Facts of TempNumber's API (`../shared/reference/peers.md`, "TempNumber"), shared by its client and its factory. */
import type { UpstreamLimits } from '../core/sources/providers.js';

/** TempNumber's production API (the base its published clients use). */
export const TEMPNUMBER_BASE_URL = 'https://tn-api.com/api/v1';

/** TempNumber's documented limits, per endpoint and API key. */
export const TEMPNUMBER_LIMITS: UpstreamLimits = {
  createActivation: { max: 80, windowMs: 120_000 },
  getActivation: { max: 80, windowMs: 120_000 },
  updateActivation: { max: 10, windowMs: 60_000 },
  pricelist: { max: 3, windowMs: 60_000 },
  balance: { max: 10, windowMs: 60_000 },
};

/** Statuses (lower case) after which an activation changes no more. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['error', 'refunded', 'serviceconsumed']);

/** The status that carries the awaited SMS: of the first wait, or of a retry. */
export const SMS_STATUS = { first: 'smsreceived', retry: 'retryreceived' } as const;
