import { findPlatform } from '../core/catalogue/catalog.js';
import type { Order } from '../core/orders/order.js';
import type { IO, Style } from './io.js';

/** `--json`: exactly one document on stdout; indented for people, one line for pipes. */
export function printJson(io: IO, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, io.stdoutIsTTY ? 2 : undefined) + '\n');
}

import { usd } from '../format/index.js';

export { usd, percent } from '../format/index.js';


/** A cell that is a number: `$0.12`, `1,234`, `97.5%`, `3s`, or the dash of "none". */
const NUMBER = /^(?:-?\$?\d[\d,]*(?:\.\d+)?(?:%|s)?|–)$/;

/** Columns of digits that are names, not quantities (codes, phones): they stay left-aligned. */
const IDENTIFIER = /^(?:CODE|PHONE|ORDER|ID|WEBHOOK-ID|NUMBER|FROM|TO)$/;

/**
 * Rows for people on a terminal (a header and aligned columns), tab-separated rows for pipes so
 * that `cut` and `awk` work; `tsvHeader` adds the header line to piped output too.
 */
export async function printTable(
  io: IO,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: { tsvHeader?: boolean } = {},
): Promise<void> {
  if (!io.stdoutIsTTY) {
    const clean = (cell: string): string => cell.replace(/[\t\n\r]+/g, ' ');
    if (options.tsvHeader) io.out(headers.join('\t'));
    for (const row of rows) io.out(row.map(clean).join('\t'));
    return;
  }
  const style = await io.style();
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Amounts, counts and rates line up on their last digit, as people compare them.
  const numeric = headers.map((h, i) => !IDENTIFIER.test(h) && rows.some((r) => NUMBER.test(r[i] ?? '')) && rows.every((r) => (r[i] ?? '') === '' || NUMBER.test(r[i]!)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  io.out(style.bold(line(headers)));
  for (const row of rows) io.out(line(row));
}

export function statusText(style: Style, status: Order['status']): string {
  switch (status) {
    case 'completed':
      return style.green(status);
    case 'active':
      return style.cyan(status);
    default:
      return style.yellow(status);
  }
}

/** An order as a few lines for a terminal. */
export function describeOrder(order: Order, style: Style): string[] {
  const lines = [
    `${style.bold(order.order_id)}  ${statusText(style, order.status)}`,
    `  phone     ${style.bold(order.phone)}  (${order.platform}, ${order.country.toUpperCase()})`,
    `  price     ${usd(order.price)}${order.refunded ? ` ${style.dim('refunded')}` : ''}`,
  ];
  if (order.code) lines.push(`  code      ${style.bold(style.green(order.code))}${order.codes.length > 1 ? style.dim(`  (earlier: ${order.codes.slice(0, -1).join(', ')})`) : ''}`);
  if (order.sms) lines.push(`  sms       ${style.dim(order.sms.replace(/\s+/g, ' '))}`);
  // Only ever printed on a terminal: relative times.
  lines.push(`  created   ${timeText(order.created_at, true)}`);
  lines.push(`  ${order.status === 'active' ? 'expires' : 'expired'}   ${timeText(order.expires_at, true)}`);
  return lines;
}

/** One order as a tab-separated line: id, status, platform, phone, code. */
export const orderLine = (order: Order): string =>
  [order.order_id, order.status, order.platform, order.phone, order.code ?? ''].join('\t');

/**
 * The one time format: relative for a person at a terminal ("3m 5s ago", "in 19m 40s"), the API's
 * ISO 8601 everywhere else (pipes, --json), so that scripts parse what people do not have to.
 */
export function timeText(iso: string, terminal: boolean, now = Date.now()): string {
  if (!terminal) return iso;
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(seconds)) return iso;
  const span = Math.abs(seconds);
  const text =
    span < 60 ? `${span}s` : span < 3600 ? `${Math.floor(span / 60)}m ${span % 60}s` : span < 86_400 ? `${Math.floor(span / 3600)}h ${Math.floor((span % 3600) / 60)}m` : `${Math.floor(span / 86_400)}d`;
  if (span < 1) return 'now';
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

/** What an order that produced no code means, for stderr. */
export function noCodeReason(order: Order, terminal = false): string {
  const refund = order.refunded ? `; ${usd(order.price)} was refunded` : '';
  switch (order.status) {
    case 'active':
      return `No code yet on ${order.phone}: the wait timed out (the order stays active until ${terminal ? `it expires ${timeText(order.expires_at, true)}` : order.expires_at}).`;
    case 'expired':
      return `No code: order ${order.order_id} expired${refund}.`;
    case 'cancelled':
      return `No code: order ${order.order_id} was cancelled${refund}.`;
    case 'failed':
      return `No code: order ${order.order_id} failed${refund}.`;
    default:
      return `Order ${order.order_id} is ${order.status}.`;
  }
}

/** What stderr says whenever a command lets go of an order it created that may still hold money. */
export const strandedOrderHint = (orderId: string): string =>
  `Order ${orderId} may still be active, its price held: \`tn wait ${orderId}\` follows it on, \`tn cancel ${orderId}\` refunds it.`;

const hints = new WeakMap<object, string>();

/** A line printed after an error's message on stderr (not in `--json`): what to do next. */
export function attachHint(err: unknown, hint: string): void {
  if (typeof err === 'object' && err !== null) hints.set(err, hint);
}

export const attachedHint = (err: unknown): string | undefined => (typeof err === 'object' && err !== null ? hints.get(err) : undefined);

/** The platform's display name ("Instagram") when tn knows it, else what was typed. */
export function platformName(platform: string): string {
  return findPlatform(platform)?.name ?? platform;
}
