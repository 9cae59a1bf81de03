/** Price ceilings in a query: "under $0.50", "max 30 cents", and the amounts that are not ceilings. */
import { type Micros, parseUsd } from '../money.js';
import { blank, tokenize } from './text.js';
import { COUNT_NOUNS, ONES, TENS, UNITS } from './vocabulary.js';
import { platformOf } from './words.js';

export const NUM = String.raw`(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)`;
export const MONEY = new RegExp(
  [
    String.raw`(?:\bus\s?\$|\$|\busd)\s?${NUM}(?:\s?(?:usd|dollars?|bucks?)\b)?`,
    String.raw`(?<![\w.$])${NUM}\s?(?:\$|(?:us\s)?dollars?\b|usd\b|bucks?\b)`,
    String.raw`(?<![\w.$])${NUM}\s?(?:¢|c\b|cents?\b|cts?\b)`,
  ].join('|'),
  'gi',
);
export const FOREIGN_MONEY = new RegExp(
  String.raw`[€£¥₽₹]\s?\d|(?<![\w.])${NUM}\s?(?:[€£¥₽₹]|eur\b|euros?\b|gbp\b|pounds?\b|rub\b|rubles?\b|roubles?\b|inr\b|rupees?\b|yen\b)`,
  'i',
);
/** The run of constraint words before an amount: "if the price is at most", "max price:", "under". */
export const BEFORE_AMOUNT =
  /(?:\b(?:if|when|only|as|long|provided|the|its|it|each|is|are|be|must|should|stays?|of|at|for|max_price|max|maximum|min|minimum|price|prices|priced|cost|costs|costing|budget|limit|cap|capped|ceiling|spend|spending|pay|paying|rate|under|below|beneath|less|lower|cheaper|than|no|not|more|most|least|up|to|within|over|above|greater|starting|total|per)\b\s*|[<>=:_-]\s*)+$/i;
/** Words that make an amount a ceiling: "under $1", "for $0.50", "max price: $1", "$0.50 each". */
export const MAX_WORDS =
  /\b(?:under|below|beneath|less|lower|cheaper|most|max|maximum|max_price|up to|within|no more|not more|not over|not above|budget|limit|cap|capped|ceiling|for|at|price|prices|priced|cost|costs|costing|pay|paying|spend|spending|each|per)\b|[<=:]/i;
export const MIN_WORDS = /(?<!\b(?:no|not)\s)\b(?:over|above|more than|greater than)\b|\bat least\b|\bmin(?:imum)?\b|\bstarting at\b|>/i;
export const AFTER_MAX =
  /^\s*(?:or (?:less|lower|cheaper|under|below|so)|max(?:imum)?|tops|at (?:the )?most|each|per (?:number|piece|one|item|activation|sms|code|unit)|apiece|a piece|a number|or under|limit|cap)\b/i;
export const AFTER_MIN = /^\s*(?:or (?:more|higher|above|over)|and (?:up|above|over|more)|minimum|min\b|at least|\+)/i;
export const TOTAL = /\b(?:total|altogether|overall|combined|in all|for all|for everything|for the lot|for the batch|for both|for them all)\b/i;
export const MAX_BARE = new RegExp(
  String.raw`(?:\b(?:max(?:imum)?[ _-]?price|price[ _-]?(?:limit|cap|ceiling)|budget|max_price)\s*(?:is|of|=|:)?\s*\$?|\bprice\s*(?:<=|<|=|:)\s*)${NUM}`,
  'gi',
);
export const COMPARATOR_BARE = new RegExp(
  String.raw`(?:\b(?:under|below|beneath|less than|cheaper than|at most|max(?:imum)?|no more than|not more than|up to|within)\s*|(?:<=|<)\s*)${NUM}(?![\d.])`,
  'gi',
);
export const WORD_AMOUNT = new RegExp(
  String.raw`\b(?:(half a|an?|${Object.keys(TENS).join('|')}|${Object.keys(ONES).join('|')})(?:[\s-](one|two|three|four|five|six|seven|eight|nine))?)\s+(cents?|dollars?|bucks?)\b`,
  'gi',
);
export const CURRENCY_LEFT = /[$¢]|\b(?:usd|dollars?|bucks?|cents?)\b/i;

export interface PriceResult {
  /** The query with every price phrase blanked out. */
  text: string;
  micros?: Micros;
  problem?: string;
  /** A currency word or sign is left that no price phrase explained ("for a few dollars"). */
  unexplainedCurrency: boolean;
  /** An amount with nothing saying it is a ceiling ("3 numbers, I have $5"). */
  unqualified?: string;
}

export function amountToMicros(num: string, unit: 'usd' | 'cents'): Micros | null {
  const plain = num.replace(/,/g, '');
  const usd = parseUsd(plain.startsWith('.') ? `0${plain}` : plain);
  if (usd === null) return null;
  if (unit === 'usd') return usd;
  return usd % 100 === 0 ? usd / 100 : null;
}

export function spelledAmount(words: string, unit: string): string {
  const w = words.toLowerCase();
  const [first = '', second] = w.split(/[\s-]+(?=one|two|three|four|five|six|seven|eight|nine)/);
  let n: number;
  if (first === 'half a') n = 0.5;
  else if (first === 'a' || first === 'an') n = 1;
  else n = (TENS[first] ?? ONES[first] ?? 0) + (second ? (ONES[second] ?? 0) : 0);
  return `${n} ${unit}`;
}

export function extractPrice(input: string): PriceResult {
  let text = input.replace(WORD_AMOUNT, (_m, a: string, b: string | undefined, unit: string) =>
    spelledAmount(b ? `${a} ${b}` : a, unit).padEnd(_m.length, ' '),
  );
  if (FOREIGN_MONEY.test(text)) return { text, problem: 'Prices are in US dollars: say "$0.50" or "50 cents".', unexplainedCurrency: false };
  const found: Micros[] = [];
  let problem: string | undefined;
  let unqualified: string | undefined;
  const spans: [number, number][] = [];

  for (const m of text.matchAll(MONEY)) {
    const start = m.index;
    const end = start + m[0].length;
    const num = m[1] ?? m[2] ?? m[3] ?? '';
    const isCents = m[3] !== undefined;
    const micros = amountToMicros(num, isCents ? 'cents' : 'usd');
    const before = BEFORE_AMOUNT.exec(text.slice(Math.max(0, start - 60), start));
    const after = text.slice(end, end + 40);
    const beforeText = before?.[0] ?? '';
    if (micros === null) problem ??= `Could not read the amount "${m[0].trim()}": use at most 6 decimals of a dollar.`;
    else if (MIN_WORDS.test(beforeText) || AFTER_MIN.test(after)) problem ??= 'Only a maximum price is supported: say "under $0.50".';
    else if (micros === 0) problem ??= 'A maximum price must be above zero.';
    else found.push(micros);
    const afterMax = AFTER_MAX.exec(after);
    if (!afterMax && !MAX_WORDS.test(beforeText)) unqualified ??= m[0].trim();
    spans.push([start - beforeText.length, end + (afterMax?.[0].length ?? 0)]);
  }
  for (const [from, to] of spans) text = blank(text, from, to);

  const bareSpans: [number, number][] = [];
  for (const m of text.matchAll(MAX_BARE)) {
    const micros = amountToMicros(m[1] ?? '', 'usd');
    if (micros === null) problem ??= `Could not read the amount "${m[0].trim()}".`;
    else if (micros === 0) problem ??= 'A maximum price must be above zero.';
    else found.push(micros);
    bareSpans.push([m.index, m.index + m[0].length]);
  }
  for (const [from, to] of bareSpans) text = blank(text, from, to);

  for (const m of text.matchAll(COMPARATOR_BARE)) {
    const num = m[1] ?? '';
    const following = tokenize(text.slice(m.index + m[0].length, m.index + m[0].length + 60)).slice(0, 4);
    const countsSomething = following.some((t) => COUNT_NOUNS.has(t.t) || platformOf(t.t) !== undefined);
    if (countsSomething) continue; // "up to 5 telegram numbers": a count, not a price
    if (following[0] && UNITS.has(following[0].t)) continue; // "within 5 minutes"
    if (num.includes('.')) {
      const micros = amountToMicros(num, 'usd');
      if (micros === null || micros === 0) problem ??= `Could not read the amount "${m[0].trim()}".`;
      else found.push(micros);
      text = blank(text, m.index, m.index + m[0].length);
    } else {
      problem ??= `"${m[0].trim()}" is ambiguous: say "${m[0].trim().replace(num, `$${num}`)}", "${num} cents" or "${num} numbers".`;
    }
  }

  if (found.length > 0 && TOTAL.test(text)) problem ??= 'A maximum price is per number, not a total: say "under $0.50 each".';
  const distinct = [...new Set(found)];
  if (distinct.length > 1) problem ??= 'Several prices were given: say one maximum price per number.';
  return { text, micros: distinct.length === 1 ? distinct[0] : undefined, problem, unexplainedCurrency: CURRENCY_LEFT.test(text), unqualified };
}
