/**
 * Money is integer micro-USD everywhere inside tn. Floats appear only at the edges: a USD number
 * in JSON, a `$0.2375` string for people.
 */
export type Micros = number;

export const MICROS_PER_USD = 1_000_000;
export const MICROS_PER_CENT = 10_000;

export const cents = (c: number): Micros => c * MICROS_PER_CENT;

/** For JSON: exact because every amount is a whole number of micros and stays far below 2^53. */
export const toUsd = (m: Micros): number => m / MICROS_PER_USD;

/** Back from a USD number of the API's JSON (itself made by `toUsd`), to the nearest micro-dollar. */
export const fromUsd = (usd: number): Micros => Math.round(usd * MICROS_PER_USD);

/** `$0.2375`, `$10.00`, `-$0.12`: at least two decimals, trailing zeros beyond them trimmed. */
export function formatUsd(m: Micros): string {
  const sign = m < 0 ? '-' : '';
  const abs = Math.abs(m);
  const whole = Math.floor(abs / MICROS_PER_USD);
  let frac = String(abs % MICROS_PER_USD).padStart(6, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${sign}$${groupThousands(whole)}.${frac}`;
}

/** `1,234,567`, as en-US writes it; `toLocaleString` would cost a short-lived process ~20 ms of ICU set-up. */
const groupThousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

const USD_TEXT = /^\$?(\d{1,9})(?:\.(\d{1,6}))?$/;

/** Parses `5`, `5.25`, `$0.000001` exactly, without going through a float. Returns null if not a plain non-negative amount. */
export function parseUsd(text: string): Micros | null {
  const m = USD_TEXT.exec(text.trim());
  if (!m) return null;
  const whole = Number(m[1]);
  const frac = Number((m[2] ?? '').padEnd(6, '0'));
  return whole * MICROS_PER_USD + frac;
}

/** A USD number from JSON (`0.25`) to micros, refusing anything finer than a micro-dollar. */
export function usdNumberToMicros(usd: number): Micros | null {
  if (!Number.isFinite(usd) || usd < 0 || usd > 1e9) return null;
  const micros = Math.round(usd * MICROS_PER_USD);
  // 0.1 * 1e6 is 100000.00000000001 in binary floating point: allow that much, not a real seventh decimal.
  return Math.abs(usd * MICROS_PER_USD - micros) < 1e-6 ? micros : null;
}

/** Price after a whole-percent discount. Base prices are whole cents, so this is always exact. */
export const discounted = (price: Micros, percent: number): Micros => (price * (100 - percent)) / 100;

/** Default threshold below which an account gets one `balance.low` event ($1.00). */
export const LOW_BALANCE_THRESHOLD: Micros = MICROS_PER_USD;

/**
 * A dollar amount as a provider sends it (a JSON number or a decimal string), in micro-USD; null
 * if it is none. Binary floats such as 0.15 carry noise below the micro-dollar: it is rounded away.
 */
export function providerUsd(value: unknown): Micros | null {
  const usd = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(usd) ? usdNumberToMicros(fromUsd(usd) / MICROS_PER_USD) : null;
}
