import type { DeliveryGuardState } from '../broker.js';
import type { Repositories } from '../database.js';
import { TnError } from '../errors.js';
import type { GuardWindow } from '../orders/port.js';
import type { Platform } from './catalog.js';
import { countryName } from './countries.js';

/**
 * From the `minOrders`-th order of one account for one platform in one country within `windowMs`,
 * if fewer than `minRate` of the ended ones received an SMS, further orders there are refused
 * until the window moves on: it keeps a pool of numbers from being burned. TempNumber applies the
 * same rule to us, per service and country; `UPSTREAM_DELIVERY_RULE` is its copy.
 */
export interface DeliveryGuard {
  minOrders: number;
  minRate: number;
  windowMs: number;
}

export const DEFAULT_DELIVERY_GUARD: DeliveryGuard = { minOrders: 5, minRate: 0.07, windowMs: 24 * 3600_000 };
/** TempNumber's own delivery rule: from the 5th activation of a service in a country in 24 h, 7% must get an SMS. */
export const UPSTREAM_DELIVERY_RULE: DeliveryGuard = DEFAULT_DELIVERY_GUARD;

/**
 * Whether the guard refuses the next order, given the window; and if so, when it lifts: the first
 * moment, as old orders leave the window, at which the rule no longer holds.
 */
export async function judgeDeliveryRate(
  guard: DeliveryGuard,
  window: GuardWindow,
  now: number,
): Promise<{ ended: number; delivered: number; liftsAt: string } | null> {
  const refuses = (orders: number, ended: number, delivered: number): boolean =>
    orders + 1 >= guard.minOrders && ended > 0 && delivered / ended < guard.minRate;
  if (!refuses(window.orders, window.ended, window.delivered)) return null;
  // An order leaves the window at created_at + windowMs (the window excludes its start).
  const list = await window.list();
  let { ended, delivered } = window;
  let liftsAt = now;
  for (let k = 0; k < list.length; k++) {
    const leaving = list[k]!;
    if (leaving.ended) ended--;
    if (leaving.ended && leaving.delivered) delivered--;
    liftsAt = leaving.createdAt + guard.windowMs;
    if (!refuses(list.length - k - 1, ended, delivered)) break;
  }
  return { ended: window.ended, delivered: window.delivered, liftsAt: new Date(liftsAt).toISOString() };
}

/** The delivery-rate guard of one broker (or none), applied per account. */
export class AccountGuard {
  constructor(private readonly guard: DeliveryGuard | null) {}

  /** Refuses (inside the order's unit of work) an order where this account's recent orders show the numbers get no SMS. */
  async admit(repos: Repositories, accountId: string, platform: Platform, country: string, now: number): Promise<void> {
    const guard = this.guard;
    if (!guard) return;
    const verdict = await judgeDeliveryRate(guard, await repos.orders.window('account', accountId, platform.id, country, now - guard.windowMs), now);
    if (!verdict) return;
    throw new TnError(
      'delivery_rate_low',
      `Only ${verdict.delivered} of your last ${verdict.ended} ended ${platform.name} orders in ${countryName(country) ?? country} received an SMS ` +
        `(below ${Math.round(guard.minRate * 100)}%): new orders there are paused until ${verdict.liftsAt}. Another country or platform is not affected.`,
      { retry_after: Math.max(1, Math.ceil((Date.parse(verdict.liftsAt) - now) / 1000)), lifts_at: verdict.liftsAt, platform: platform.id, country },
    );
  }

  /** Where the guard refuses this account's orders right now. */
  async states(repos: Repositories, accountId: string, now: number): Promise<DeliveryGuardState[]> {
    const guard = this.guard;
    if (!guard) return [];
    const recent = (await repos.orders.facts({ since: now - guard.windowMs, accountId })).map((f) => `${f.platform}/${f.country}`);
    const states: DeliveryGuardState[] = [];
    for (const key of new Set(recent)) {
      const [platform, country] = key.split('/') as [string, string];
      const verdict = await judgeDeliveryRate(guard, await repos.orders.window('account', accountId, platform, country, now - guard.windowMs), now);
      if (verdict) states.push({ platform, country, ended: verdict.ended, delivered: verdict.delivered, lifts_at: verdict.liftsAt });
    }
    return states;
  }
}
