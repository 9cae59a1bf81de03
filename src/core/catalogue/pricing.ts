import type { CoreContext } from '../context.js';
import { invalid } from '../errors.js';
import { MICROS_PER_CENT, toUsd, type Micros } from '../money.js';
import { requirePlatform, type Platform } from './catalog.js';
import { requireCountry } from './countries.js';

/** A cost in whole cents, rounded up: the lowest price that does not sell below it. */
export const atLeastCents = (cost: Micros): Micros => Math.ceil(cost / MICROS_PER_CENT) * MICROS_PER_CENT;

/** Operator prices by `platform/country` (and `platform/*`), over the catalogue's. */
export type PriceTable = ReadonlyMap<string, Micros>;

/** The operator's price for a platform in a country, else for every country, else the catalogue's. */
export function listPrice(table: PriceTable, platform: Platform, country: string): Micros {
  return table.get(`${platform.id}/${country}`) ?? table.get(`${platform.id}/*`) ?? platform.price;
}

/** Prices the operator sets over the catalogue's. */
export class Pricing {
  /** Read on every order, changed rarely: kept until this process sets a price or another commits. */
  private cached: { version: number; table: Promise<PriceTable> } | undefined;

  constructor(private readonly ctx: CoreContext) {}

  table(): Promise<PriceTable> {
    const version = this.ctx.db.changeCounter();
    if (this.cached?.version !== version) {
      const table = this.ctx.db.read.prices.all().then((rows): PriceTable => new Map(rows.map((p) => [`${p.platform}/${p.country}`, p.price])));
      this.cached = { version, table };
      table.catch(() => (this.cached = undefined));
    }
    return this.cached.table;
  }

  /** The operator's price for a platform in a country (`*`: every country), or null to fall back to the catalogue. */
  async set(platform: unknown, country: unknown, price: Micros | null): Promise<{ platform: string; country: string; price: number | null }> {
    const p = requirePlatform(platform);
    const c = country === '*' ? '*' : requireCountry(country);
    if (c === 'any') throw invalid('Name a country, or * for every country.');
    if (price !== null && (!Number.isSafeInteger(price) || price < 0 || price % MICROS_PER_CENT !== 0)) {
      throw invalid('Prices are whole cents, so that tier discounts stay exact.');
    }
    await this.ctx.db.transaction((tx) => tx.prices.set(p.id, c, price));
    this.cached = undefined;
    return { platform: p.id, country: c, price: price === null ? null : toUsd(price) };
  }

  async overrides(): Promise<{ platform: string; country: string; price: number }[]> {
    return (await this.ctx.db.read.prices.all()).map((p) => ({ ...p, price: toUsd(p.price) }));
  }
}
