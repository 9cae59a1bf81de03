import type { Broker } from '../core/broker.js';
import { TnError } from '../core/errors.js';
import { MICROS_PER_USD } from '../core/money.js';
import type { IO } from './io.js';
import { printJson, printTable, usd } from './output.js';

export interface QuoteRequest {
  platform: string;
  country?: string;
  quantity?: number;
}

export interface QuoteItem {
  platform: string;
  name: string;
  /** Lower-case alpha-2, or `any` where the broker picks. */
  country: string;
  quantity: number;
  /** USD per number for this account, after its tier discount. */
  price: number;
  /** Numbers in stock for it, when the broker says. */
  stock: number | null;
  median_delivery_seconds: number | null;
}

export interface Quote {
  dry_run: true;
  items: QuoteItem[];
  total: number;
  balance: number;
  balance_after: number;
}

const micros = (amount: number): number => Math.round(amount * MICROS_PER_USD);

/**
 * What an order would cost, from what every broker already answers (prices, account,
 * availability): nothing is ordered. Requests for the same platform and country are one line.
 */
export async function buildQuote(broker: Broker, requests: readonly QuoteRequest[]): Promise<Quote> {
  const [account, availability, services] = await Promise.all([broker.account(), broker.availability(), broker.services()]);
  const lines = new Map<string, QuoteItem>();
  for (const request of requests) {
    const country = request.country && request.country.toLowerCase() !== 'any' ? request.country.toLowerCase() : undefined;
    // The price list resolves aliases ("ig") and answers this account's price in every country.
    const list = await broker.prices({ by: 'country', platform: request.platform });
    const platform = list.platform ?? request.platform;
    const service = services.services.find((s) => s.platform === platform);
    let price: number;
    let stock: number | null = null;
    if (country) {
      const item = list.items.find((i) => i.country === country);
      if (!item) throw new TnError('unknown_country', `No price for ${platform} in "${country.toUpperCase()}": see \`tn prices ${platform}\`.`);
      price = item.your_price;
      stock = item.stock;
    } else {
      price = service?.your_price ?? service?.price ?? Math.min(...list.items.map((i) => i.your_price));
      stock = list.items.reduce((sum, i) => sum + i.stock, 0);
    }
    const key = `${platform}/${country ?? 'any'}`;
    const quantity = request.quantity ?? 1;
    const line = lines.get(key);
    if (line) line.quantity += quantity;
    else {
      lines.set(key, {
        platform,
        name: service?.name ?? platform,
        country: country ?? 'any',
        quantity,
        price,
        stock,
        median_delivery_seconds: availability.platforms.find((p) => p.platform === platform)?.median_delivery_seconds ?? null,
      });
    }
  }
  const items = [...lines.values()];
  const total = items.reduce((sum, i) => sum + micros(i.price) * i.quantity, 0) / MICROS_PER_USD;
  return { dry_run: true, items, total, balance: account.balance, balance_after: (micros(account.balance) - micros(total)) / MICROS_PER_USD };
}

const seconds = (s: number | null): string => (s === null ? '–' : `${Math.round(s)}s`);

/** One line for a person: "3 × Telegram (GB) at $0.10 = $0.30; balance $10.00 → $9.70". */
export function quoteSentence(quote: Quote): string {
  const parts = quote.items.map(
    (i) => `${i.quantity === 1 ? '' : `${i.quantity} × `}${i.name} (${i.country === 'any' ? 'any country' : i.country.toUpperCase()}) at ${usd(i.price)}`,
  );
  return `${parts.join(', ')}: ${usd(quote.total)} in all; balance ${usd(quote.balance)} → ${usd(quote.balance_after)}`;
}

/** `--dry-run`: the quote on stdout (one JSON document with --json), and nothing spent. */
export async function printQuote(io: IO, quote: Quote, json: boolean): Promise<void> {
  if (json) return printJson(io, quote);
  await printTable(
    io,
    ['PLATFORM', 'COUNTRY', 'QTY', 'PRICE', 'MEDIAN DELIVERY'],
    quote.items.map((i) => [i.platform, i.country === 'any' ? 'any' : i.country.toUpperCase(), String(i.quantity), usd(i.price), seconds(i.median_delivery_seconds)]),
    { tsvHeader: false },
  );
  io.out(`total ${usd(quote.total)}, balance ${usd(quote.balance)} → ${usd(quote.balance_after)} after`);
  if (quote.balance_after < 0) io.err(`The balance does not cover it: ${usd(-quote.balance_after)} short.`);
  io.err('Dry run: nothing was ordered.');
}
