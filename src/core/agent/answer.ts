/** The `agent` endpoint: a query in English, parsed, then answered with the broker's own operations. */
import type { Accounts } from '../accounts/accounts.js';
import type { AccountInfo, AgentAnswer } from '../broker.js';
import { GENERIC_PLATFORM, requirePlatform } from '../catalogue/catalog.js';
import { countryName } from '../catalogue/countries.js';
import type { Listings } from '../catalogue/listings.js';
import { listPrice, type Pricing } from '../catalogue/pricing.js';
import type { CoreContext } from '../context.js';
import { invalid } from '../errors.js';
import { AGENT_MAX_QUERY_LENGTH, VERIFY_TIMEOUT } from '../limits.js';
import { discounted, formatUsd, fromUsd } from '../money.js';
import type { Placing } from '../orders/placing.js';
import type { Router } from '../sources/routing.js';
import type { Verifying } from '../waiting/verify.js';
import { parseAgentQuery } from './parse.js';

const micros = fromUsd;

export class Agent {
  constructor(
    private readonly ctx: CoreContext,
    private readonly accounts: Accounts,
    private readonly accountInfo: (accountId: string) => Promise<AccountInfo>,
    private readonly listings: Listings,
    private readonly pricing: Pricing,
    private readonly router: Router,
    private readonly placing: Placing,
    private readonly verifying: Verifying,
  ) {}

  async answer(accountId: string, query: unknown, control: { release?: AbortSignal; signal?: AbortSignal } = {}): Promise<AgentAnswer> {
    if (typeof query !== 'string' || query.trim() === '') throw invalid('Parameter "query" must be a non-empty string.');
    if (query.length > AGENT_MAX_QUERY_LENGTH) throw invalid(`Parameter "query" is longer than ${AGENT_MAX_QUERY_LENGTH} characters.`);
    const parsed = parseAgentQuery(query);
    if (!parsed.understood) return { understood: false, message: parsed.message, suggestions: parsed.suggestions };
    const { intent, interpretation } = parsed;
    const base = { understood: true, intent, interpretation };
    const where = interpretation.country ? ` in ${countryName(interpretation.country) ?? interpretation.country.toUpperCase()}` : '';

    if (intent === 'balance') {
      const account = await this.accountInfo(accountId);
      return { ...base, message: `Your balance is ${formatUsd(micros(account.balance))} (${account.tier} tier).`, balance: account.balance };
    }
    if (intent === 'prices') {
      const { services } = await this.listings.services(accountId);
      const prices = interpretation.platform ? services.filter((s) => s.platform === interpretation.platform) : services;
      const message =
        prices.length === 1
          ? `${prices[0]!.name} costs ${formatUsd(micros(prices[0]!.your_price!))} per number${where} for you (list price ${formatUsd(micros(prices[0]!.price))}).` +
            (interpretation.country && !(await this.router.offers(requirePlatform(prices[0]!.platform), interpretation.country, this.ctx.now())).some((o) => o.stock > 0)
              ? ` There is no stock${where} right now.`
              : '')
          : `${prices.length} platforms; prices are per number, after your tier discount.`;
      return { ...base, message, prices };
    }
    if (intent === 'availability') {
      const all = (await this.listings.availability()).platforms;
      const items = interpretation.platform ? all.filter((a) => a.platform === interpretation.platform) : all;
      const inStock = items.filter((a) => a.stock > 0).length;
      return {
        ...base,
        message: interpretation.platform ? `${interpretation.platform}: ${items[0]!.stock} numbers in stock.` : `${inStock} of ${items.length} platforms have numbers in stock.`,
        availability: items,
      };
    }

    const platform = requirePlatform(interpretation.platform);
    const table = await this.pricing.table();
    const country = interpretation.country;
    const list = country ? listPrice(table, platform, country) : (table.get(`${platform.id}/*`) ?? platform.price);
    const price = discounted(list, await this.accounts.discountPercent(accountId));
    // A first answer for the common case; the order's own transaction enforces the limit for any country.
    if (parsed.maxPriceMicros !== undefined && price > parsed.maxPriceMicros) {
      return { ...base, message: `${platform.name} costs ${formatUsd(price)}, above your limit of ${formatUsd(parsed.maxPriceMicros)}: nothing was ordered.`, orders: [] };
    }
    const quantity = interpretation.quantity ?? 1;
    // Said up front, so that a caller reading only the message knows what was bought.
    const generic = platform.id === GENERIC_PLATFORM ? `No platform was named, so this is the generic service "${GENERIC_PLATFORM}" (any site not listed, ${formatUsd(price)}). ` : '';
    const request = { platform: platform.id, country: interpretation.country };
    if (intent === 'verify' && quantity === 1) {
      const order = await this.verifying.within(accountId, request, VERIFY_TIMEOUT.default * 1000, { ...control, maxPrice: parsed.maxPriceMicros });
      return {
        ...base,
        message: generic + (order.code ? `Code ${order.code} for ${platform.name} on ${order.phone}.` : `No code arrived for ${platform.name}; the order was ${order.status} and refunded.`),
        orders: [order],
      };
    }
    const { results } = await this.placing.batch(accountId, Array.from({ length: quantity }, () => request), { maxPrice: parsed.maxPriceMicros });
    const orders = results.flatMap((r) => (r.ok ? [r.order] : []));
    const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
    return {
      ...base,
      message:
        generic +
        `Ordered ${orders.length} of ${quantity} ${platform.name} number${quantity === 1 ? '' : 's'}${where}` +
        (orders.length ? `: ${orders.map((o) => o.phone).join(', ')}.` : '.') +
        (errors.length ? ` ${errors[0]!.message}` : ''),
      orders,
      ...(errors.length ? { errors } : {}),
    };
  }
}
