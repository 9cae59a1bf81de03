import { describe, expect, it } from 'vitest';
import { COUNTRIES, COUNTRY_ALIASES, COUNTRY_DEMONYMS, countryName, findCountry, requireCountry } from '../src/core/catalogue/countries.js';
import { TnError } from '../src/core/errors.js';

describe('COUNTRIES', () => {
  it('holds all 249 ISO 3166-1 alpha-2 codes, unique, lower case, sorted', () => {
    expect(COUNTRIES).toHaveLength(249);
    const codes = COUNTRIES.map((c) => c.code);
    expect(new Set(codes).size).toBe(249);
    for (const code of codes) expect(code).toMatch(/^[a-z]{2}$/);
    expect([...codes].sort()).toEqual(codes);
  });

  it('has a unique non-empty name for every code', () => {
    const names = COUNTRIES.map((c) => c.name);
    expect(new Set(names).size).toBe(249);
    for (const name of names) expect(name.trim()).not.toBe('');
  });

  it('agrees with the region list ICU ships (which adds only non-ISO codes)', () => {
    const display = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    const icu: string[] = [];
    for (let a = 97; a <= 122; a++) {
      for (let b = 97; b <= 122; b++) {
        const code = String.fromCharCode(a, b);
        if (display.of(code.toUpperCase())) icu.push(code);
      }
    }
    const ours = new Set(COUNTRIES.map((c) => c.code));
    for (const code of ours) expect(icu, code).toContain(code);
    // Exceptional reservations, withdrawn codes, EU, UN, XK (Kosovo), ZZ: none is an assigned ISO code.
    const notIso = icu.filter((c) => !ours.has(c));
    for (const code of notIso) {
      expect(['ac', 'an', 'bu', 'cp', 'cq', 'cs', 'dd', 'dg', 'dy', 'ea', 'eu', 'ez', 'fx', 'hv', 'ic', 'nh', 'qo', 'rh', 'su', 'ta', 'tp', 'uk', 'un', 'vd', 'xa', 'xb', 'xk', 'yd', 'yu', 'zr', 'zz']).toContain(code);
    }
  });

  it('aliases and demonyms point at real codes', () => {
    const codes = new Set(COUNTRIES.map((c) => c.code));
    for (const [alias, code] of Object.entries({ ...COUNTRY_ALIASES, ...COUNTRY_DEMONYMS })) expect(codes, alias).toContain(code);
  });
});

describe('findCountry', () => {
  it('finds every country by its code in any case and by its name', () => {
    for (const { code, name } of COUNTRIES) {
      expect(findCountry(code)).toBe(code);
      expect(findCountry(code.toUpperCase())).toBe(code);
      expect(findCountry(name)).toBe(code);
      expect(findCountry(name.toUpperCase())).toBe(code);
      expect(findCountry(`  ${name.toLowerCase()}  `)).toBe(code);
    }
  });

  it("finds every country by ICU's English name too", () => {
    const display = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const { code } of COUNTRIES) expect(findCountry(display.of(code.toUpperCase()) ?? ''), code).toBe(code);
  });

  it.each([
    ['uk', 'gb'],
    ['UK', 'gb'],
    ['U.K.', 'gb'],
    ['britain', 'gb'],
    ['Great Britain', 'gb'],
    ['england', 'gb'],
    ['Scotland', 'gb'],
    ['wales', 'gb'],
    ['Northern Ireland', 'gb'],
    ['usa', 'us'],
    ['U.S.A.', 'us'],
    ['U.S.', 'us'],
    ['america', 'us'],
    ['United States of America', 'us'],
    ['the US', 'us'],
    ['the States', 'us'],
    ['russia', 'ru'],
    ['Russian Federation', 'ru'],
    ['south korea', 'kr'],
    ['korea', 'kr'],
    ['Korea, Republic of', 'kr'],
    ['north korea', 'kp'],
    ['DPRK', 'kp'],
    ['uae', 'ae'],
    ['holland', 'nl'],
    ['the netherlands', 'nl'],
    ['czechia', 'cz'],
    ['Czech Republic', 'cz'],
    ['vietnam', 'vn'],
    ['Viet Nam', 'vn'],
    ['turkey', 'tr'],
    ['Türkiye', 'tr'],
    ['turkiye', 'tr'],
    ['ivory coast', 'ci'],
    ["Côte d'Ivoire", 'ci'],
    ['cote divoire', 'ci'],
    ['deutschland', 'de'],
    ['Cape Verde', 'cv'],
    ['burma', 'mm'],
    ['swaziland', 'sz'],
    ['macedonia', 'mk'],
    ['Holy See', 'va'],
    ['DR Congo', 'cd'],
    ['Congo-Brazzaville', 'cg'],
    ['the Philippines', 'ph'],
    ['The Gambia', 'gm'],
    ['St. Lucia', 'lc'],
    ['St Kitts & Nevis', 'kn'],
    ['Saint Vincent & the Grenadines', 'vc'],
    ['Guinea-Bissau', 'gw'],
    ['guinea bissau', 'gw'],
    ['Åland Islands', 'ax'],
    ['aland islands', 'ax'],
    ['Curacao', 'cw'],
    ['reunion', 're'],
  ])('alias %j → %s', (text, code) => {
    expect(findCountry(text)).toBe(code);
  });

  it.each([
    ['american', 'us'],
    ['Americans', 'us'],
    ['british', 'gb'],
    ['english', 'gb'],
    ['german', 'de'],
    ['Germans', 'de'],
    ['french', 'fr'],
    ['spanish', 'es'],
    ['italian', 'it'],
    ['dutch', 'nl'],
    ['polish', 'pl'],
    ['russian', 'ru'],
    ['ukrainian', 'ua'],
    ['indian', 'in'],
    ['indonesian', 'id'],
    ['brazilian', 'br'],
    ['mexican', 'mx'],
    ['canadian', 'ca'],
    ['australian', 'au'],
    ['japanese', 'jp'],
    ['korean', 'kr'],
    ['chinese', 'cn'],
    ['turkish', 'tr'],
    ['swedish', 'se'],
    ['nigerian', 'ng'],
    ['filipino', 'ph'],
    ['vietnamese', 'vn'],
    ['thai', 'th'],
    ['south african', 'za'],
  ])('demonym %j → %s', (text, code) => {
    expect(findCountry(text)).toBe(code);
  });

  it.each(['', '   ', 'xx', 'zz', 'eu', 'narnia', 'united', 'states', 'islands', 'ins', 'its', 'x'.repeat(1000), '🇺🇸', 'u', 'usaa'])(
    'does not find %j',
    (text) => {
      expect(findCountry(text)).toBeUndefined();
    },
  );

  it('does not throw on non-strings that slip through untyped callers', () => {
    expect(findCountry(42 as unknown as string)).toBeUndefined();
    expect(findCountry(null as unknown as string)).toBeUndefined();
  });
});

describe('countryName', () => {
  it('names codes in any case', () => {
    expect(countryName('gb')).toBe('United Kingdom');
    expect(countryName('US')).toBe('United States');
    expect(countryName('de')).toBe('Germany');
    expect(countryName('ci')).toBe("Côte d'Ivoire");
  });

  it('returns undefined for anything but an ISO code', () => {
    expect(countryName('uk')).toBeUndefined();
    expect(countryName('xx')).toBeUndefined();
    expect(countryName('germany')).toBeUndefined();
    expect(countryName('')).toBeUndefined();
  });
});

describe('requireCountry', () => {
  it.each([undefined, null, '', '  ', 'any', 'ANY', 'Any'])('%j means any country', (value) => {
    expect(requireCountry(value)).toBe('any');
  });

  it.each([
    ['us', 'us'],
    ['GB', 'gb'],
    ['uk', 'gb'],
    ['UK', 'gb'],
    ['Germany', 'de'],
    ['holland', 'nl'],
    [' fr ', 'fr'],
  ])('%j → %s', (value, code) => {
    expect(requireCountry(value)).toBe(code);
  });

  it.each(['xx', 'narnia', 'eu', 'united'])('rejects %j with unknown_country', (value) => {
    let error: unknown;
    try {
      requireCountry(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TnError);
    expect((error as TnError).code).toBe('unknown_country');
    expect((error as TnError).status).toBe(400);
    expect((error as TnError).message).toBe(
      `Unknown country "${value}". Use an ISO 3166-1 alpha-2 code such as "us" or "gb".`,
    );
  });

  it('keeps the error message short for huge input', () => {
    expect(() => requireCountry('q'.repeat(10_000))).toThrow(/^Unknown country "q{64}"\./);
  });

  it.each([42, true, {}, ['us'], 0])('rejects the non-string %j with invalid_request', (value) => {
    let error: unknown;
    try {
      requireCountry(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TnError);
    expect((error as TnError).code).toBe('invalid_request');
    expect((error as TnError).message).toMatch(/^Parameter "country" must be a string/);
  });
});
