/** Platforms, countries and quantities in a query, and the suggestions made when one is unclear. */
import { findPlatform, PLATFORMS, suggestPlatforms } from '../catalogue/catalog.js';
import { COUNTRY_DEMONYMS, countryName, countryPhrases } from '../catalogue/countries.js';
import { type Token } from './text.js';
import { AGENT_COUNTRY_PHRASES, AGENT_EXAMPLES, AGENT_MAX_BATCH, type AgentIntent, type AgentInterpretation, BIG, COUNT_FILLERS, COUNT_LEADER_FILLERS, COUNT_LEADERS, COUNT_NOUNS, COUNTRY_PREPOSITIONS, ENGLISH, IGNORED_ALIASES, LOWERCASE_NOT_COUNTRY, NUMBER_NOUNS, ONE_NOT_A_COUNT_BEFORE, ONES, type ParsedAgentQuery, PLATFORM_CODES, PLATFORM_PHRASES, TENS, UNITS, UPPERCASE_NOT_COUNTRY, WEAK_PLATFORM_WORDS } from './vocabulary.js';

export function platformOf(word: string): string | undefined {
  if (IGNORED_ALIASES.has(word) || word === '' || /^\d/.test(word)) return undefined;
  return findPlatform(word)?.id;
}

export const isNumeric = (tok: Token | undefined): boolean =>
  tok !== undefined && (/^-?\d+$/.test(tok.t) || ONES[tok.t] !== undefined || TENS[tok.t] !== undefined);

export const LONGEST_COUNTRY_PHRASE = Math.max(
  ...[...countryPhrases().keys(), ...Object.keys(AGENT_COUNTRY_PHRASES)].map((k) => k.split(' ').length),
);

/**
 * Countries named in the query. `unclear` holds codes that are also English words, read as words
 * but ending the query after "in"/"from" ("2 numbers from it"), where they might be meant as a country.
 */
export function findCountries(tokens: Token[]): { codes: string[]; unclear: string[] } {
  const phrases = countryPhrases();
  const longest = LONGEST_COUNTRY_PHRASE;
  const hasLowercase = tokens.some((t) => /[a-z]/.test(t.raw));
  const codes: string[] = [];
  const unclear: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    for (let len = Math.min(longest, tokens.length - i); len >= 1; len--) {
      const slice = tokens.slice(i, i + len);
      if (slice.some((t) => t.role)) continue;
      const phrase = slice.map((t) => t.t).join(' ');
      let code: string | undefined;
      if (len === 1 && phrase.length === 2 && phrase !== 'uk') {
        code = twoLetterCountry(tokens, i, hasLowercase);
        const prev = tokens[i - 1]?.t;
        const maybe = phrases.get(phrase);
        if (!code && maybe && i === tokens.length - 1 && (prev === 'in' || prev === 'from')) unclear.push(maybe);
      } else {
        code = AGENT_COUNTRY_PHRASES[phrase] ?? phrases.get(phrase);
        if (code && COUNTRY_DEMONYMS[phrase] !== undefined && isLanguage(tokens, i, len)) code = undefined;
      }
      if (code) {
        for (const t of slice) t.role = 'country';
        codes.push(code);
        i += len - 1;
        break;
      }
    }
  }
  return { codes: [...new Set(codes)], unclear };
}

/** "in English", "English-speaking": a language, not a country. */
export function isLanguage(tokens: Token[], i: number, len: number): boolean {
  const prev = tokens[i - 1]?.t;
  const next = tokens[i + len]?.t;
  return prev === 'in' || next === 'speaking' || next === 'language' || next === 'speaker' || next === 'speakers';
}

export function twoLetterCountry(tokens: Token[], i: number, hasLowercase: boolean): string | undefined {
  const tok = tokens[i];
  if (!tok || !/^[a-z]{2}$/.test(tok.t)) return undefined;
  const code = countryPhrases().get(tok.t);
  if (!code) return undefined;
  const prev = tokens[i - 1]?.t;
  // Capitals mean something only when the rest of the query is not shouted.
  const upper = hasLowercase && tok.raw === tok.raw.toUpperCase();
  if (prev === 'country') return code;
  if (prev !== undefined && COUNTRY_PREPOSITIONS.has(prev)) {
    return upper || !LOWERCASE_NOT_COUNTRY.has(tok.t) ? code : undefined;
  }
  if (PLATFORM_CODES.has(tok.t)) return undefined;
  if (upper && !UPPERCASE_NOT_COUNTRY.has(tok.t)) return code;
  // "a us number", "3 de numbers", "a us whatsapp number", "us-based numbers"
  const prevOk = prev === undefined || prev === 'a' || prev === 'an' || isNumeric(tokens[i - 1]);
  if (!prevOk || LOWERCASE_NOT_COUNTRY.has(tok.t)) return undefined;
  let j = i + 1;
  if (tokens[j] && platformOf(tokens[j]!.t) && !IGNORED_ALIASES.has(tokens[j]!.t)) j++;
  if (['verification', 'mobile', 'virtual', 'temporary', 'temp', 'sms'].includes(tokens[j]?.t ?? '')) j++;
  const next = tokens[j]?.t;
  return next !== undefined && (NUMBER_NOUNS.has(next) || next === 'based' || next === 'only') ? code : undefined;
}

export function findPlatforms(tokens: Token[]): { strong: string[]; weak: string[] } {
  const strong: string[] = [];
  const weak: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.role) continue;
    const next = tokens[i + 1];
    if (next && !next.role) {
      const id = PLATFORM_PHRASES[`${tok.t} ${next.t}`];
      if (id) {
        tok.role = next.role = 'platform';
        strong.push(id);
        i++;
        continue;
      }
    }
    if (tok.t === 'x') {
      if (isNumeric(tokens[i - 1]) || isNumeric(next)) {
        tok.role = 'times'; // "2 x whatsapp", "whatsapp x 3"
        continue;
      }
    }
    const id = platformOf(tok.t);
    if (!id) continue;
    tok.role = 'platform';
    if (WEAK_PLATFORM_WORDS.has(tok.t)) weak.push(id);
    else strong.push(id);
  }
  return { strong: [...new Set(strong)], weak: [...new Set(weak)] };
}

export interface Count {
  value: number;
  strong: boolean;
}

export function findCounts(tokens: Token[]): Count[] {
  const counts: Count[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.role) continue;
    let value: number | undefined;
    let last = i; // the last token of the number
    let strong = false;
    const mult = /^(?:(\d{1,9})x|x(\d{1,9}))$/.exec(tok.t);
    if (mult) {
      value = Number(mult[1] ?? mult[2]);
      strong = true;
    } else if (/^-?\d+$/.test(tok.t)) {
      const digits = tok.t.replace('-', '');
      const magnitude = digits.length > 9 ? Number.MAX_SAFE_INTEGER : Number(digits);
      value = tok.t.startsWith('-') ? -magnitude : magnitude;
    } else if (tok.t === 'half' && tokens[i + 1]?.t === 'a' && tokens[i + 2]?.t === 'dozen') {
      value = 6;
      last = i + 2;
      strong = true;
    } else if (TENS[tok.t] !== undefined) {
      value = TENS[tok.t]!;
      const unit = tokens[i + 1] ? ONES[tokens[i + 1]!.t] : undefined;
      if (unit !== undefined && unit >= 1 && unit <= 9 && !['single', 'couple', 'pair', 'dozen'].includes(tokens[i + 1]!.t)) {
        value += unit;
        last = i + 1;
      }
    } else if (ONES[tok.t] !== undefined) {
      value = ONES[tok.t]!;
      if (tok.t === 'one' && (ONE_NOT_A_COUNT_BEFORE.has(tokens[i - 1]?.t ?? '') || tokens[i + 1]?.t === 'of')) continue;
      if (['couple', 'pair', 'dozen'].includes(tok.t)) strong = true;
    } else if (BIG[tok.t] !== undefined) {
      value = BIG[tok.t]!;
    }
    if (value === undefined) continue;
    // "two dozen", "3 hundred"
    const scale = tokens[last + 1]?.t;
    if (scale === 'dozen' && tok.t !== 'dozen') {
      value *= 12;
      last++;
      strong = true;
    } else if (scale !== undefined && BIG[scale] !== undefined) {
      value *= BIG[scale]!;
      last++;
    }
    const after = tokens[last + 1];
    if (after && UNITS.has(after.t)) continue; // "5 minutes", "6 digits", "2 fa"
    if (tok.t === 'single' && !nounFollows(tokens, last)) continue;

    strong ||= after?.role === 'times' || tokens[i - 1]?.role === 'times' || nounFollows(tokens, last) || leaderPrecedes(tokens, i);
    for (let k = i; k <= last; k++) tokens[k]!.role = 'count';
    counts.push({ value, strong });
    i = last;
  }
  return counts;
}

export function nounFollows(tokens: Token[], last: number): boolean {
  for (let j = last + 1; j < tokens.length && j <= last + 5; j++) {
    const t = tokens[j]!;
    if (t.role === 'platform' || COUNT_NOUNS.has(t.t)) return true;
    if (t.role === 'country' || COUNT_FILLERS.has(t.t)) continue;
    return false;
  }
  return false;
}

export function leaderPrecedes(tokens: Token[], i: number): boolean {
  for (let j = i - 1; j >= 0 && j >= i - 3; j--) {
    const t = tokens[j]!.t;
    if (COUNT_LEADERS.has(t)) return true;
    if (!COUNT_LEADER_FILLERS.has(t)) return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Suggestions

export function exampleQuery(intent: AgentIntent, platform: string | undefined, i: AgentInterpretation): string {
  const where = i.country ? ` in ${countryName(i.country) ?? i.country}` : '';
  const price = i.max_price !== undefined ? ` under $${i.max_price}` : '';
  const q = Math.min(Math.max(i.quantity ?? 1, 1), AGENT_MAX_BATCH);
  switch (intent) {
    case 'order':
      return `order ${q} ${platform ?? 'whatsapp'} number${q === 1 ? '' : 's'}${where}${price}`;
    case 'verify':
      return q === 1 ? `verify my ${platform ?? 'whatsapp'} account${where}${price}` : `verify ${q} ${platform ?? 'whatsapp'} accounts${where}${price}`;
    case 'prices':
      return `how much is ${platform ?? 'a number'}${where}?`;
    case 'availability':
      return platform ? `is ${platform} available${where}?` : 'which platforms are available?';
    case 'balance':
      return "what's my balance?";
  }
}

/** Platform ids close to the words nobody recognised ("whatsap", "telegarm"). */
export function closePlatforms(tokens: Token[]): string[] {
  const out: string[] = [];
  for (const tok of tokens) {
    if (tok.role || tok.t.length < 4 || !/^[a-z]+$/.test(tok.t) || ENGLISH.has(tok.t)) continue;
    for (const id of suggestPlatforms(tok.t)) {
      const platform = PLATFORMS.find((p) => p.id === id);
      const names = [id, ...(platform?.aliases ?? [])].filter((n) => n.length >= 4);
      const limit = Math.max(1, Math.floor(tok.t.length / 4));
      if (names.some((n) => editDistance(tok.t, n) <= limit) && !out.includes(id)) out.push(id);
    }
  }
  return out.slice(0, 3);
}

/** Edit distance counting a swap of two neighbouring letters as one edit ("telegarm"). */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let x = 1; x <= a.length; x++) {
    const next = [x];
    for (let y = 1; y <= b.length; y++) {
      let d = Math.min(row[y]! + 1, next[y - 1]! + 1, row[y - 1]! + (a[x - 1] === b[y - 1] ? 0 : 1));
      if (x > 1 && y > 1 && a[x - 1] === b[y - 2] && a[x - 2] === b[y - 1]) d = Math.min(d, before[y - 2]! + 1);
      next[y] = d;
    }
    before = row;
    row = next;
  }
  return row[b.length]!;
}

export const fail = (message: string, suggestions: readonly string[] = AGENT_EXAMPLES): ParsedAgentQuery => ({
  understood: false,
  message,
  suggestions: [...new Set(suggestions.length > 0 ? suggestions : AGENT_EXAMPLES)],
});
