import { COUNTRIES, findCountry } from '../core/countries.js';
import type { CountryOption } from './components/CountryPicker.js';

const ALL_COUNTRIES: readonly CountryOption[] = [
  { code: 'any', name: 'Any country (the broker chooses)' },
  ...[...COUNTRIES].sort((a, b) => a.name.localeCompare(b.name, 'en')),
];

/**
 * Countries matching what was typed: by code, name or any alias `findCountry` knows ("uk",
 * "holland"); the country the text names exactly first, then names starting with it.
 */
export function countryOptions(query: string): CountryOption[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...ALL_COUNTRIES];
  const named = q === 'any' ? 'any' : findCountry(q);
  const rank = (o: CountryOption): number => (o.code === named ? 0 : o.name.toLowerCase().startsWith(q) ? 1 : 2);
  return ALL_COUNTRIES.filter((o) => o.code === named || o.code === q || o.name.toLowerCase().includes(q)).sort(
    (a, b) => rank(a) - rank(b),
  );
}
