import type { AccountInfo, Availability, PriceList, ServicesList } from '../core/broker.js';
import type { Order } from '../core/orders/order.js';
import { countryName } from '../core/catalogue/countries.js';
import { percent, usd } from '../format/index.js';

/**
 * Pure helpers of the terminal app: text fitting, the rows each screen shows, times. Nothing here
 * decides a price, a discount or a state: those come from the broker as they are.
 */

/**
 * One row of the Services table: the broker's price list joined with its availability; with a
 * country chosen, that country's prices and stock (`prices({ by: 'service' })`) in their place.
 */
export interface ServiceRow {
  platform: string;
  name: string;
  price: number;
  yourPrice: number | null;
  successRate: number | null;
  stock: number | null;
  medianSeconds: number | null;
}

export function serviceRows(list: ServicesList, availability: Availability | undefined, inCountry?: PriceList): ServiceRow[] {
  const byPlatform = new Map((availability?.platforms ?? []).map((a) => [a.platform, a]));
  const local = new Map((inCountry?.items ?? []).map((p) => [p.platform, p]));
  return list.services.map((s) => {
    const a = byPlatform.get(s.platform);
    const p = local.get(s.platform);
    return {
      platform: s.platform,
      name: s.name,
      price: p ? p.price : s.price,
      yourPrice: p ? p.your_price : (s.your_price ?? null),
      successRate: a?.success_rate ?? null,
      stock: p ? p.stock : a ? a.stock : null,
      medianSeconds: a?.median_delivery_seconds ?? null,
    };
  });
}

/** Platforms whose name or id contains the filter, case-insensitively. */
export function filterRows(rows: readonly ServiceRow[], filter: string): ServiceRow[] {
  const q = filter.trim().toLowerCase();
  if (!q) return [...rows];
  return rows.filter((r) => r.name.toLowerCase().includes(q) || r.platform.includes(q));
}

/** Display width of a string, counting each code point as one column (all text here is narrow). */
const width = (s: string): number => [...s].length;

/** Cuts to `n` columns with an ellipsis, or pads with spaces to exactly `n`. */
export function fit(s: string, n: number, align: 'left' | 'right' = 'left'): string {
  if (n <= 0) return '';
  const chars = [...s];
  if (chars.length > n) return n === 1 ? '…' : chars.slice(0, n - 1).join('') + '…';
  const pad = ' '.repeat(n - chars.length);
  return align === 'left' ? s + pad : pad + s;
}

/** `left` and `right` on one line of `n` columns, `left` cut first when both do not fit. */
export function spread(left: string, right: string, n: number): string {
  const room = n - width(right) - 1;
  if (room < 1) return fit(right, n, 'right');
  return fit(left, room) + ' ' + right;
}

export interface Column<T> {
  title: string;
  width: number;
  align: 'left' | 'right';
  /** Lower goes first when the terminal is too narrow for every column. */
  priority: number;
  cell: (row: T) => string;
}

/** The columns that fit in `columns`, keeping the order given and dropping the least important. */
export function fitColumns<T>(all: readonly Column<T>[], columns: number, gutter = 2): Column<T>[] {
  const kept = [...all];
  const total = (cols: Column<T>[]): number => cols.reduce((n, c) => n + c.width, 0) + gutter * (cols.length - 1);
  while (kept.length > 1 && total(kept) > columns) {
    const drop = kept.reduce((worst, c) => (c.priority < worst.priority ? c : worst));
    kept.splice(kept.indexOf(drop), 1);
  }
  return kept;
}

export function tableLine<T>(cols: readonly Column<T>[], cells: (c: Column<T>) => string, gutter = 2): string {
  return cols.map((c) => fit(cells(c), c.width, c.align)).join(' '.repeat(gutter));
}

export const SERVICE_COLUMNS: readonly Column<ServiceRow>[] = [
  { title: 'Platform', width: 18, align: 'left', priority: 9, cell: (r) => r.name },
  { title: 'Price', width: 8, align: 'right', priority: 5, cell: (r) => usd(r.price) },
  { title: 'Your price', width: 10, align: 'right', priority: 8, cell: (r) => (r.yourPrice === null ? '–' : usd(r.yourPrice)) },
  { title: 'Success', width: 7, align: 'right', priority: 4, cell: (r) => percent(r.successRate) },
  { title: 'Stock', width: 6, align: 'right', priority: 6, cell: (r) => (r.stock === null ? '–' : String(r.stock)) },
  { title: 'Median', width: 7, align: 'right', priority: 3, cell: (r) => seconds(r.medianSeconds) },
];

export const ORDER_COLUMNS: readonly Column<Order>[] = [
  { title: 'Created', width: 8, align: 'left', priority: 4, cell: (o) => clockTime(o.created_at) },
  { title: 'Platform', width: 12, align: 'left', priority: 9, cell: (o) => o.platform },
  { title: 'Country', width: 7, align: 'left', priority: 2, cell: (o) => o.country.toUpperCase() },
  { title: 'Phone', width: 14, align: 'left', priority: 7, cell: (o) => o.phone },
  { title: 'Status', width: 9, align: 'left', priority: 8, cell: (o) => o.status },
  { title: 'Code', width: 8, align: 'left', priority: 8, cell: (o) => o.code ?? '' },
  { title: 'Price', width: 7, align: 'right', priority: 3, cell: (o) => usd(o.price) },
];

export const seconds = (s: number | null): string => (s === null ? '–' : `${s < 10 ? s.toFixed(1) : Math.round(s)} s`);

/** Local wall-clock time of an ISO date, `14:03:27`. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `4:07` for a number of milliseconds (never negative). */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** The slice of a list of `total` rows to show in `height` lines so that `selected` is visible. */
export function scrollWindow(total: number, selected: number, height: number): { start: number; end: number } {
  if (height <= 0 || total <= 0) return { start: 0, end: 0 };
  if (total <= height) return { start: 0, end: total };
  const start = Math.min(Math.max(0, selected - Math.floor(height / 2)), total - height);
  return { start, end: start + height };
}

export const clamp = (n: number, min: number, max: number): number => Math.min(Math.max(n, min), Math.max(min, max));

export function countryLabel(code: string): string {
  if (code === 'any') return 'any country';
  return `${countryName(code) ?? code.toUpperCase()} (${code})`;
}

/** A country's name alone, `United Kingdom`. */
export const countryShort = (code: string): string => countryName(code) ?? code.toUpperCase();

/** What an order's state means for the person watching it. */
export function orderState(order: Order, now: number): string {
  const left = Date.parse(order.expires_at) - now;
  switch (order.status) {
    case 'active':
      return order.codes.length
        ? `Waiting for another code · expires in ${countdown(left)}`
        : `Waiting for the SMS · expires in ${countdown(left)}`;
    case 'completed':
      return 'Code received';
    case 'cancelled':
      return order.refunded ? `Cancelled · ${usd(order.price)} refunded` : 'Cancelled';
    case 'expired':
      return order.refunded ? `Expired without a code · ${usd(order.price)} refunded` : 'Expired';
    case 'failed':
      return order.refunded ? `Failed · ${usd(order.price)} refunded` : 'Failed';
  }
}

/**
 * How far the account is towards the next tier, 0–1: completed orders over the completed orders the
 * next tier asks for (both from the broker); null at the top tier.
 */
export function tierProgress(account: Pick<AccountInfo, 'completed_orders' | 'next_tier'>): number | null {
  if (!account.next_tier) return null;
  const goal = account.completed_orders + account.next_tier.orders_needed;
  return goal > 0 ? account.completed_orders / goal : 0;
}

/** `[██████░░░░]`: `fraction` of `n` cells filled. */
export function bar(fraction: number, n: number): string {
  const filled = Math.round(clamp(fraction, 0, 1) * n);
  return '█'.repeat(filled) + '░'.repeat(n - filled);
}

/**
 * When something the broker set ends (`lifts_at` of a paused country), in local time: `14:03`
 * today, `Tue 14:03` on another day.
 */
export function liftTime(iso: string, now: number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hhmm = clockTime(iso).slice(0, 5);
  return d.toDateString() === new Date(now).toDateString() ? hhmm : `${d.toLocaleDateString('en-US', { weekday: 'short' })} ${hhmm}`;
}

/** `3 orders`, `1 order`. */
export const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export const weekday = (date: string): string =>
  new Date(`${date}T00:00:00Z`).toLocaleDateString('en-US', { weekday: 'short', timeZone: 'UTC' });

/** Word-wraps `text` into at most `maxLines` lines of `n` columns; the last line ends in an ellipsis if more remains. */
export function wrapWords(text: string, n: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (width(candidate) <= n || !line) {
      line = candidate;
      continue;
    }
    lines.push(line);
    line = word;
  }
  if (line) lines.push(line);
  const cut = (l: string): string => (width(l) > n ? fit(l, n) : l);
  if (lines.length <= maxLines) return lines.map(cut);
  return [...lines.slice(0, maxLines - 1).map(cut), fit(lines.slice(maxLines - 1).join(' '), n)];
}
