import type { OrderPage, OrderQuery } from '../broker.js';
import { requirePlatform } from '../catalogue/catalog.js';
import { requireCountry } from '../catalogue/countries.js';
import type { CoreContext } from '../context.js';
import { invalid } from '../errors.js';
import { ORDER_PAGE } from '../limits.js';
import type { Scheduler } from '../waiting/scheduler.js';
import { ORDER_STATUSES, toOrderView, type OrderStatus } from './order.js';
import type { OrderFilter } from './port.js';

/** An ISO 8601 date or date-time, as epoch milliseconds. */
function parseInstant(text: unknown, name: string): number {
  const ms = typeof text === 'string' && /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw invalid(`Parameter "${name}" must be an ISO 8601 date or date-time, e.g. 2026-11-21 or 2026-11-21T12:00:00Z.`);
  return ms;
}

/** An account's order history, a page at a time, newest first. */
export class History {
  constructor(
    private readonly ctx: CoreContext,
    private readonly scheduler: Scheduler,
  ) {}

  async orders(accountId: string, query: OrderQuery = {}): Promise<OrderPage> {
    const page = query.page ?? 1;
    const limit = query.limit ?? ORDER_PAGE.defaultLimit;
    if (!Number.isInteger(page) || page < 1 || page > ORDER_PAGE.maxPage) throw invalid('Parameter "page" must be a whole number of at least 1.');
    if (!Number.isInteger(limit) || limit < 1 || limit > ORDER_PAGE.maxLimit) throw invalid(`Parameter "limit" must be a whole number from 1 to ${ORDER_PAGE.maxLimit}.`);
    if (query.status !== undefined && !ORDER_STATUSES.includes(query.status as OrderStatus)) {
      throw invalid(`Parameter "status" must be one of ${ORDER_STATUSES.join(', ')}.`);
    }
    const filter: OrderFilter = {
      status: query.status as OrderStatus | undefined,
      platform: query.platform === undefined ? undefined : requirePlatform(query.platform).id,
      country: query.country === undefined ? undefined : requireCountry(query.country),
      since: query.since === undefined ? undefined : parseInstant(query.since, 'since'),
      until: query.until === undefined ? undefined : parseInstant(query.until, 'until'),
    };
    if (filter.country === 'any') filter.country = undefined;
    await this.scheduler.catchUp();
    const { orders, total } = await this.ctx.db.read.orders.list(accountId, filter, limit, (page - 1) * limit);
    return { orders: orders.map(toOrderView), page, limit, pages: Math.ceil(total / limit), total };
  }
}
