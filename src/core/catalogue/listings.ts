/** What a customer can look at before ordering: the services, their stock and success, the price lists. */
import type { Accounts } from '../accounts/accounts.js';
import { median } from '../accounts/usage.js';
import type { Availability, AvailabilityItem, PriceItem, PriceList, ServiceItem, ServicesList } from '../broker.js';
import type { CoreContext } from '../context.js';
import { invalid } from '../errors.js';
import { discounted, toUsd } from '../money.js';
import type { OffersMemo, Router } from '../sources/routing.js';
import type { Scheduler } from '../waiting/scheduler.js';
import { PLATFORMS, requirePlatform, type Platform } from './catalog.js';
import { requireCountry } from './countries.js';
import { listPrice, type Pricing } from './pricing.js';

/** Success rates and delivery times are of the last week's orders. */
const STATS_WINDOW_MS = 7 * 24 * 3600_000;

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

export class Listings {
  constructor(
    private readonly ctx: CoreContext,
    private readonly accounts: Accounts,
    private readonly pricing: Pricing,
    private readonly router: Router,
    private readonly scheduler: Scheduler,
  ) {}

  async services(accountId?: string): Promise<ServicesList> {
    const discount = accountId ? await this.accounts.discountPercent(accountId) : null;
    return {
      service: 'Telenumerus',
      total_platforms: PLATFORMS.length,
      services: PLATFORMS.map((p): ServiceItem => {
        const item: ServiceItem = { platform: p.id, name: p.name, price: toUsd(p.price) };
        if (discount !== null) item.your_price = toUsd(discounted(p.price, discount));
        return item;
      }),
    };
  }

  async availability(): Promise<Availability> {
    await this.scheduler.catchUp();
    const now = this.ctx.now();
    const facts = await this.ctx.db.read.orders.facts({ since: now - STATS_WINDOW_MS });
    const platforms: AvailabilityItem[] = [];
    const memo: OffersMemo = {};
    for (const p of PLATFORMS) {
      const stock = (await this.router.offers(p, 'any', now, { memo })).reduce((sum, o) => sum + o.stock, 0);
      const mine = facts.filter((f) => f.platform === p.id);
      const ended = mine.filter((f) => f.status !== 'active');
      const delivered = mine.filter((f) => f.firstSmsAt !== null);
      platforms.push({
        platform: p.id,
        success_rate: ended.length ? round(ended.filter((f) => f.firstSmsAt !== null).length / ended.length, 3) : null,
        stock,
        median_delivery_seconds: delivered.length ? round(median(delivered.map((f) => (f.firstSmsAt! - f.createdAt) / 1000)), 1) : null,
      });
    }
    return { platforms };
  }

  async prices(accountId: string | undefined, query: { by?: unknown; platform?: unknown; country?: unknown }): Promise<PriceList> {
    const discount = accountId ? await this.accounts.discountPercent(accountId) : 0;
    const table = await this.pricing.table();
    const now = this.ctx.now();
    // The price shown is the one the first route would charge; the stock, all sources' together.
    const memo: OffersMemo = {};
    const items = async (platform: Platform, country: string | 'any'): Promise<PriceItem[]> => {
      const offers = await this.router.route(platform, country, now, { all: true, memo });
      const countries =
        country === 'any'
          ? new Set([...offers.map((o) => o.country), ...[...table.keys()].filter((k) => k.startsWith(`${platform.id}/`)).map((k) => k.split('/')[1]!)])
          : new Set([country]);
      countries.delete('*');
      return [...countries].sort().map((c) => {
        const here = offers.filter((o) => o.country === c);
        const first = here.find((o) => o.stock > 0) ?? here[0];
        const price = first?.listPrice ?? listPrice(table, platform, c);
        const stock = here.reduce((sum, o) => sum + o.stock, 0);
        return { platform: platform.id, country: c, price: toUsd(price), your_price: toUsd(discounted(price, discount)), stock };
      });
    };
    if (query.by === 'country') {
      const platform = requirePlatform(query.platform);
      return { by: 'country', platform: platform.id, items: await items(platform, 'any') };
    }
    if (query.by === 'service') {
      const country = requireCountry(query.country);
      if (country === 'any') throw invalid('Parameter "country" must name a country for by=service.');
      const list: PriceItem[] = [];
      for (const p of PLATFORMS) list.push(...(await items(p, country)));
      return { by: 'service', country, items: list };
    }
    throw invalid('Parameter "by" must be "country" (with "platform") or "service" (with "country").');
  }
}
