/**
 * Where an order may go: what each source offers for a platform, and the order in which routes
 * are tried.
 */
import { judgeDeliveryRate, UPSTREAM_DELIVERY_RULE } from '../catalogue/delivery-guard.js';
import type { Platform } from '../catalogue/catalog.js';
import type { CoreContext } from '../context.js';
import { MAX_COOLDOWN_MS } from '../limits.js';
import type { Micros } from '../money.js';
import type { PoolNumber } from './port.js';
import { markedUp, type LiveSource, type SourceRegistry } from './registry.js';

/** For `country: any`, the countries most verifications expect, in order; then whichever has the most stock. */
const ANY_COUNTRY_PREFERENCE = ['us', 'gb', 'ca'];
/** How long `any` skips a country whose numbers ran out (a named country is always tried). */
const SOLD_OUT_MEMORY_MS = 1000;
/** Upstreams publish prices, not counts: a service one lists counts as this many numbers in stock. */
export const UPSTREAM_LISTED_STOCK = 100;

export interface Candidate {
  source: LiveSource;
  country: string;
  /** What one number costs the operator: `--cost`, or the upstream's price. */
  cost: Micros;
  /** The customer's list price before the tier discount (an upstream's price with its markup); null: the price table's. */
  listPrice: Micros | null;
  stock: number;
}

/** Reads shared by the `offers` of one request. */
export interface OffersMemo {
  inUse?: Promise<{ source: string; platform: string; country: string; count: number }[]>;
  pool?: Promise<PoolNumber[]>;
  held?: Promise<{ phone: string; platform: string; releasedAt: number | null }[]>;
}

export class Router {
  private readonly soldOut = new Map<string, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly registry: SourceRegistry,
  ) {}

  /**
   * What each enabled source offers for a platform (in one country, or all): the stock, the
   * operator's cost, and (for an upstream) the customer's list price. Without `exact`, the
   * simulator's stock is its capacity, an upper bound (the order's transaction finds a free
   * number or not; counting every held number on each order would cost more than the order).
   */
  async offers(platform: Platform, country: string | 'any', now: number, options: { exact?: boolean; memo?: OffersMemo } = {}): Promise<Candidate[]> {
    const exact = options.exact ?? true;
    const memo = options.memo ?? {};
    const read = this.ctx.db.read;
    const offers: Candidate[] = [];
    for (const source of (await this.registry.all()).filter((s) => s.enabled)) {
      if (source.role === 'simulator') {
        const inUse = exact ? await (memo.inUse ??= read.orders.numbersInUse(now)) : [];
        const held = new Map(inUse.filter((u) => u.source === source.name).map((u) => [`${u.platform}/${u.country}`, u.count]));
        for (const c of source.numbers.countries(platform.id)) {
          if (country !== 'any' && c !== country) continue;
          const stock = Math.max(0, source.numbers.capacity(platform.id, c) - (held.get(`${platform.id}/${c}`) ?? 0));
          offers.push({ source, country: c, cost: source.cost, listPrice: null, stock });
        }
      } else if (source.role === 'upstream') {
        for (const [key, price] of await this.registry.upstreamPrices(source)) {
          const [s, c] = key.split('/') as [string, string];
          if (s !== platform.id || (country !== 'any' && c !== country)) continue;
          offers.push({ source, country: c, cost: price, listPrice: markedUp(price, source.record), stock: UPSTREAM_LISTED_STOCK });
        }
      } else {
        const pool = await (memo.pool ??= read.pool.list());
        const held = await (memo.held ??= read.pool.held(now - MAX_COOLDOWN_MS));
        const resting = new Set(held.filter((h) => h.releasedAt === null || h.releasedAt > now - source.cooldownMs).map((h) => `${h.phone}/${h.platform}`));
        const free = new Map<string, number>();
        for (const n of pool) {
          if (n.source !== source.name || (country !== 'any' && n.country !== country)) continue;
          if (n.platforms !== '*' && !n.platforms.includes(platform.id)) continue;
          free.set(n.country, (free.get(n.country) ?? 0) + (resting.has(`${n.phone}/${platform.id}`) ? 0 : 1));
        }
        for (const [c, stock] of free) offers.push({ source, country: c, cost: source.cost, listPrice: null, stock });
      }
    }
    return offers;
  }

  /**
   * Routes for an order, best first: the cheapest source for the operator, then (for `any`) the
   * countries most verifications expect, then the largest stock. Left out: what has no stock or
   * was found sold out a moment ago, an upstream service and country about to break its delivery
   * rule or paused after an error. A source below the success floor goes last: tried only when
   * nothing else can serve (so that it can also recover). `all` keeps every offer, for price lists.
   */
  async route(platform: Platform, requested: string, now: number, options: { all?: boolean; memo?: OffersMemo } = {}): Promise<Candidate[]> {
    const rank = (country: string): number => {
      const i = ANY_COUNTRY_PREFERENCE.indexOf(country);
      return i === -1 ? ANY_COUNTRY_PREFERENCE.length : i;
    };
    const offers = await this.offers(platform, requested, now, { exact: options.all === true, memo: options.memo });
    const open: Candidate[] = [];
    for (const o of offers) {
      if (!options.all) {
        if (o.stock <= 0) continue;
        if (requested === 'any' && (this.soldOut.get(`${o.source.name}/${platform.id}/${o.country}`) ?? 0) > now) continue;
        if (o.source.role === 'upstream' && (await this.upstreamPaused(o.source.name, platform.id, o.country, now))) continue;
      }
      open.push(o);
    }
    const floor = new Map<string, boolean>();
    for (const name of new Set(open.map((o) => o.source.name))) floor.set(name, await this.registry.belowFloor(name));
    return open.sort(
      (a, b) =>
        Number(floor.get(a.source.name)) - Number(floor.get(b.source.name)) ||
        a.cost - b.cost ||
        rank(a.country) - rank(b.country) ||
        b.stock - a.stock,
    );
  }

  /** A route found with no free number: `any` passes it over for a moment. */
  soldOutAt(source: string, platform: string, country: string, now: number): void {
    this.soldOut.set(`${source}/${platform}/${country}`, now + SOLD_OUT_MEMORY_MS);
  }

  /**
   * An upstream's service and country left out: paused after it refused, or about to break its
   * delivery rule (numbers we bought and never sold count as activations without an SMS).
   */
  async upstreamPaused(source: string, platform: string, country: string, now: number): Promise<boolean> {
    const read = this.ctx.db.read;
    const paused = await read.cache.get(source, `paused:${platform}/${country}`);
    if (paused && Number(paused.value) > now) return true;
    const since = now - UPSTREAM_DELIVERY_RULE.windowMs;
    const window = await read.orders.window('source', source, platform, country, since);
    const orphans = await read.activations.orphansSince(source, platform, country, since);
    const counted = orphans === 0 ? window : { ...window, orders: window.orders + orphans, ended: window.ended + orphans };
    return (await judgeDeliveryRate(UPSTREAM_DELIVERY_RULE, counted, now)) !== null;
  }
}
