/** Turning a query into tokens: accents, quotes, abbreviations and flag emoji made plain. */

export interface Token {
  /** Lower case. */
  readonly t: string;
  /** As typed (after accent stripping), for the capitals rule. */
  readonly raw: string;
  role?: 'country' | 'platform' | 'times' | 'count';
}

export function normaliseQuery(query: string): string {
  let s = query.normalize('NFKC');
  // Flag emoji: two regional indicators spell an ISO code.
  s = s.replace(/([\u{1F1E6}-\u{1F1FF}])([\u{1F1E6}-\u{1F1FF}])/gu, (_m, a: string, b: string) => {
    const letter = (c: string): string => String.fromCharCode((c.codePointAt(0) ?? 0x1f1e6) - 0x1f1e6 + 97);
    return ` country ${letter(a)}${letter(b)} `;
  });
  s = s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/g, "'")
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\u00d7/g, ' x ')
    .replace(/[\u2264\u2a7d]/g, ' <= ')
    .replace(/[\u2265\u2a7e]/g, ' >= ')
    .replace(/&/g, ' and ')
    .replace(/([A-Za-z])'s\b/g, '$1')
    .replace(/'/g, '')
    // U.S., U.K., U.S.A.
    .replace(/\b([A-Za-z])\.([A-Za-z])\.(?:([A-Za-z])\.)?/g, (_m, a: string, b: string, c: string | undefined) => `${a}${b}${c ?? ''}`)
    // x.com, instagram.com
    .replace(/([A-Za-z])\.(?=[A-Za-z])/g, '$1 ');
  return s;
}

export function blank(s: string, from: number, to: number): string {
  return s.slice(0, from) + ' '.repeat(Math.max(0, to - from)) + s.slice(to);
}

export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  for (const m of s.matchAll(/(?<![A-Za-z0-9.])-\d+(?![\d.])|\d+\.\d+|[A-Za-z0-9]+/g)) {
    out.push({ t: m[0].toLowerCase(), raw: m[0] });
  }
  return out;
}
