import type { DeliveryGuardState, PriceList } from '../core/broker.js';
import { COUNTRIES, findCountry } from '../core/catalogue/countries.js';
import type { CountryOption } from './components/CountryPicker.js';

const ALL_COUNTRIES: readonly CountryOption[] = [
  { code: 'any', name: 'Any country (the broker chooses)' },
  ...[...COUNTRIES].sort((a, b) => a.name.localeCompare(b.name, 'en')),
];

/**
 * What the broker says about one platform in each country, for the country picker: stock and your
 * price (`prices({ by: 'country' })`) and where new orders are paused (`account().delivery_guards`).
 */
export interface CountryFacts {
  platform: string;
  items: ReadonlyMap<string, { stock: number; yourPrice: number }>;
  /** Country → when the pause lifts (ISO). */
  paused: ReadonlyMap<string, string>;
}

export function countryFacts(list: PriceList, guards: readonly DeliveryGuardState[] | undefined): CountryFacts {
  const platform = list.platform ?? list.items[0]?.platform ?? '';
  return {
    platform,
    items: new Map(list.items.map((i) => [i.country, { stock: i.stock, yourPrice: i.your_price }])),
    paused: new Map((guards ?? []).filter((g) => g.platform === platform).map((g) => [g.country, g.lifts_at])),
  };
}

/** Whether the broker has numbers of the platform in the country and does not pause orders there. */
const open = (facts: CountryFacts, code: string): boolean =>
  code === 'any' ? true : (facts.items.get(code)?.stock ?? 0) > 0 && !facts.paused.has(code);

/** One country as the picker shows it, with the broker's facts when there are some. */
function withFacts(o: CountryOption, facts: CountryFacts | null | undefined): CountryOption {
  if (!facts) return o;
  if (o.code === 'any') {
    let stock = 0;
    for (const [code, i] of facts.items) if (!facts.paused.has(code)) stock += i.stock;
    return { ...o, stock, yourPrice: null, pausedUntil: null };
  }
  const i = facts.items.get(o.code);
  return { ...o, stock: i?.stock ?? null, yourPrice: i?.yourPrice ?? null, pausedUntil: facts.paused.get(o.code) ?? null };
}

/**
 * Countries matching what was typed: by code, name or any alias `findCountry` knows ("uk",
 * "holland"); the country the text names exactly first, then names starting with it. With the
 * broker's facts for a platform, the countries with stock (and not paused) come first in each group.
 */
export function countryOptions(query: string, facts?: CountryFacts | null): CountryOption[] {
  const q = query.trim().toLowerCase();
  const named = q === 'any' ? 'any' : q ? findCountry(q) : undefined;
  const rank = (o: CountryOption): number => (!q ? (o.code === 'any' ? 0 : 1) : o.code === named ? 0 : o.name.toLowerCase().startsWith(q) ? 1 : 2);
  const stocked = (o: CountryOption): number => (facts && !open(facts, o.code) ? 1 : 0);
  const matches = q ? ALL_COUNTRIES.filter((o) => o.code === named || o.code === q || o.name.toLowerCase().includes(q)) : ALL_COUNTRIES;
  return matches.map((o) => withFacts(o, facts)).sort((a, b) => rank(a) - rank(b) || stocked(a) - stocked(b));
}

/**
 * Other countries to suggest when orders of a platform are paused in `except`: those with stock
 * that are not paused, most stock first.
 */
export function otherCountries(facts: CountryFacts, except: string, max = 1): string[] {
  return [...facts.items]
    .filter(([code]) => code !== except && open(facts, code))
    .sort(([, a], [, b]) => b.stock - a.stock)
    .slice(0, max)
    .map(([code]) => code);
}
