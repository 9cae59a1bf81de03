/**
 * A deterministic English parser for the `agent` endpoint: "3 telegram numbers from the UK under
 * $0.50" becomes `{ intent: 'order', platform: 'telegram', country: 'gb', quantity: 3, max_price: 0.5 }`.
 *
 * Pure: no I/O, no randomness, no clock. It never guesses when money would be spent: an order or
 * a verification needs exactly one recognised platform, one quantity between 1 and 20, at most one
 * country and at most one price ceiling, or the answer is `understood: false` with suggestions
 * (example queries that would be understood).
 */
import { findPlatform, PLATFORMS, suggestPlatforms } from './catalogue/catalog.js';
import { COUNTRY_DEMONYMS, countryName, countryPhrases } from './catalogue/countries.js';
import { parseUsd, type Micros, MICROS_PER_USD } from './money.js';

export type AgentIntent = 'order' | 'verify' | 'prices' | 'balance' | 'availability';

export interface AgentInterpretation {
  platform?: string;
  country?: string;
  quantity?: number;
  /** USD. */
  max_price?: number;
}

export type ParsedAgentQuery =
  | { understood: true; intent: AgentIntent; interpretation: AgentInterpretation; maxPriceMicros?: number }
  | { understood: false; message: string; suggestions: string[] };

export const AGENT_MAX_QUERY_LENGTH = 500;
export const AGENT_MAX_BATCH = 20;

/** Queries that are always understood; the generic suggestions. */
export const AGENT_EXAMPLES: readonly string[] = [
  'order 1 whatsapp number in United States',
  '3 telegram numbers from United Kingdom under $0.50',
  'verify my instagram account',
  'how much is telegram in Germany?',
  'which platforms are available?',
  "what's my balance?",
];

// ---------------------------------------------------------------------------------------------
// Vocabulary

/** Platform aliases of two letters that are ordinary English words or abbreviations: never platforms. */
const IGNORED_ALIASES = new Set(['go', 'am', 'mm', 'li', 'vi']);

/** Platform names that are also everyday English words: platforms only when nothing stronger is said. */
const WEAK_PLATFORM_WORDS = new Set(['line', 'signal', 'steam', 'apple', 'snap', 'hinge', 'meta']);

/** Platform names written as two words. */
const PLATFORM_PHRASES: Readonly<Record<string, string>> = {
  'tik tok': 'tiktok',
  'chat gpt': 'openai',
  'open ai': 'openai',
  'whats app': 'whatsapp',
  'face book': 'facebook',
  'snap chat': 'snapchat',
  'linked in': 'linkedin',
  'you tube': 'google',
  'g mail': 'google',
  'google mail': 'google',
  'kakao talk': 'kakaotalk',
  'air bnb': 'airbnb',
  'pay pal': 'paypal',
  'coin base': 'coinbase',
  'i cloud': 'apple',
  'apple id': 'apple',
  'x com': 'twitter',
  'insta gram': 'instagram',
  'tele gram': 'telegram',
};

/** Places that are not countries but contain a country's name: US states, Canadian and Australian provinces. */
const AGENT_COUNTRY_PHRASES: Readonly<Record<string, string>> = {
  'new mexico': 'us',
  'new jersey': 'us',
  'new england': 'us',
  'new south wales': 'au',
  'nova scotia': 'ca',
  'british columbia': 'ca',
};

/**
 * Two-letter ISO codes that, written in capitals, are more often something else: English words,
 * US states, units, acronyms. They still count after "in", "from" or "country".
 */
const UPPERCASE_NOT_COUNTRY = new Set([
  'ai', 'al', 'am', 'ar', 'as', 'at', 'az', 'be', 'bo', 'bs', 'by', 'ca', 'cc', 'cd', 'co', 'cv', 'dj', 'do', 'eg',
  'et', 'fm', 'ga', 'gg', 'gm', 'hr', 'id', 'ie', 'il', 'im', 'in', 'io', 'iq', 'is', 'it', 'km', 'ky', 'la', 'ma',
  'md', 'me', 'mg', 'ml', 'mn', 'mo', 'mp', 'ms', 'mt', 'my', 'na', 'nc', 'ne', 'no', 'np', 'pa', 'pe', 'pm', 'pr',
  'ps', 're', 'sa', 'sc', 'sd', 'se', 'si', 'sm', 'so', 'ss', 'st', 'tc', 'td', 'tf', 'tl', 'tm', 'tn', 'to', 'tv',
  'um', 'va',
]);

/** Two-letter codes that, in lower case, are English words even after "in" or "from" ("in my country"). */
const LOWERCASE_NOT_COUNTRY = new Set(['am', 'as', 'at', 'be', 'by', 'do', 'eg', 'id', 'ie', 'in', 'is', 'it', 'me', 'my', 'no', 'so', 'to']);

/** Platform aliases that are also ISO codes (tg Togo, tw Taiwan): a platform unless after "in"/"from". */
const PLATFORM_CODES = new Set(
  PLATFORMS.flatMap((p) => p.aliases).filter((a) => a.length === 2 && !IGNORED_ALIASES.has(a)),
);

const COUNTRY_PREPOSITIONS = new Set(['in', 'from', 'country', 'region', 'located']);

const ONES: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, single: 1, couple: 2, pair: 2, dozen: 12,
};
const TENS: Readonly<Record<string, number>> = {
  twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const BIG: Readonly<Record<string, number>> = { hundred: 100, thousand: 1000, million: 1_000_000 };

/** Words after a number that make it a duration, a length or a rate rather than a count. */
const UNITS = new Set([
  'hour', 'hours', 'hr', 'hrs', 'h', 'minute', 'minutes', 'min', 'mins', 'm', 'second', 'seconds', 'sec', 'secs', 's',
  'day', 'days', 'week', 'weeks', 'month', 'months', 'year', 'years', 'yr', 'yrs', 'digit', 'digits', 'character',
  'characters', 'chars', 'letter', 'letters', 'am', 'pm', 'percent', 'pct', 'star', 'stars', 'gb', 'mb', 'kb', 'fa',
  'times', 'th', 'st', 'nd', 'rd',
]);

/** Nouns a count applies to: "3 numbers", "5 accounts". */
const COUNT_NOUNS = new Set([
  'number', 'numbers', 'num', 'nums', 'phone', 'phones', 'phonenumber', 'phonenumbers', 'sim', 'sims', 'simcard', 'simcards', 'lines',
  'account', 'accounts', 'code', 'codes', 'activation', 'activations', 'verification', 'verifications', 'otp', 'otps',
  'sms', 'pcs', 'piece', 'pieces', 'unit', 'units', 'item', 'items',
]);

/** Nouns that say a number is being bought. */
const NUMBER_NOUNS = new Set([
  'number', 'numbers', 'num', 'nums', 'phone', 'phones', 'phonenumber', 'phonenumbers', 'sim', 'sims', 'simcard', 'simcards', 'lines',
  'activation', 'activations',
]);
const PLURAL_NUMBER_NOUNS = new Set(['numbers', 'nums', 'phones', 'phonenumbers', 'sims', 'simcards', 'lines', 'activations']);

/** Words that may stand between a count and its noun: "3 more fresh UK telegram numbers". */
const COUNT_FILLERS = new Set([
  'more', 'new', 'fresh', 'different', 'extra', 'additional', 'separate', 'virtual', 'temporary', 'temp', 'disposable',
  'burner', 'mobile', 'cell', 'cellular', 'phone', 'local', 'verification', 'sms', 'otp', 'real', 'non', 'voip',
  'private', 'cheap', 'cheapest', 'cheaper', 'based', 'of', 'the', 'unique', 'distinct', 'usable', 'working', 'good',
  'random', 'any', 'only', 'for', 'my', 'your', 'our',
]);

/** Words before a number that make it a count: "order 5", "get me 3", "qty: 2". */
const COUNT_LEADERS = new Set([
  'quantity', 'qty', 'count', 'amount', 'order', 'buy', 'purchase', 'get', 'need', 'want', 'rent', 'grab', 'give',
  'reserve', 'book', 'acquire', 'obtain', 'provide', 'allocate', 'fetch', 'generate', 'gimme', 'verify', 'another',
]);
const COUNT_LEADER_FILLERS = new Set(['me', 'us', 'please', 'pls', 'plz', 'about', 'around', 'exactly', 'just', 'only', 'like', 'another', 'additional']);

const ONE_NOT_A_COUNT_BEFORE = new Set(['which', 'this', 'that', 'the', 'any', 'no', 'each', 'every', 'another', 'other', 'someone', 'anyone']);

/** Questions about how things work, not requests: "how do I verify…", "what is a telegram number?". */
const INFO_QUESTION = /^(?:how (?:do|does|can|should|would|to|did)|what|why|when|where|who|whom|which|should i|is it|is there|are there|does|do i|do you|did)\b/;

const QUESTION_WORDS = new Set(['what', 'whats', 'how', 'why', 'when', 'where', 'who', 'which', 'is', 'are', 'does', 'do', 'should', 'would', 'will', 'could', 'whether']);

const ORDER_VERB = /\b(?:order|orders|ordering|buy|buying|purchase|purchasing|rent|renting|get|getting|need|needs|want|wants|give|gimme|grab|reserve|book|acquire|obtain|provide|allocate|fetch|generate|procure|lease|like|send|require)\b/;

const NEGATION = /\b(?:dont|do not|doesnt|does not|didnt|did not|never|no need to|not|shouldnt|should not|wont|will not|cannot|cant)\s+(?:\w+\s+){0,2}?(?:order|buy|purchase|get|rent|verify|need|want|spend|charge|pay|grab|reserve|book|acquire)\b/;
const UNSUPPORTED = /\b(?:cancel|cancell?ed|cancell?ing|refund|refunds|delete|remove|release|withdraw|deposit|top ?up)\b/;

const BALANCE =
  /\b(?:balance|balances|funds|wallet|credits?)\b|\bhow much (?:money|cash|credit)\b|\b(?:money|cash) (?:do i have|have i got|i have|have i|is) ?(?:left|got|remaining)?\b|\bhow much (?:do i have|have i got|is left|i have left|have i left)\b|\bmoney left\b|\bam i (?:broke|out of money)\b/;
const AVAILABILITY_STRONG =
  /\b(?:available|availability|unavailable|in stock|out of stock|stock|sold out|success rates?|delivery rates?|reliab\w*|supported|do you (?:have|support|offer|carry|sell|provide)|does \w+ work|is \w+ working)\b/;
const PRICES_STRONG =
  /\b(?:how much|price|prices|pricing|cost|costs|quote|quotes|rate|rates|fee|fees|tariff|tariffs|expensive|price list|pricelist)\b/;
const AVAILABILITY_WEAK =
  /\b(?:(?:which|what) (?:platforms|services|apps|countries|sites|websites|platform|service)|list|platforms|services|catalog|catalogue|what can i (?:buy|order|get))\b|^(?:is|are) there\b/;
const VERIFY_STRONG =
  /\b(?:verify|verifies|verifying|verified|verification codes?|sign ?up|signing up|register|registering|registration|activate|activating|2fa|confirm|confirmation|(?:code|codes|otp|otps|pin) (?:for|from|to)|(?:get|receive|fetch|give|send|grab) (?:me |us )?(?:a |an |the |my )?(?:code|otp|pin))\b/;
const VERIFY_WEAK = /\b(?:code|codes|otp|otps|pin|sms|text|texts|receive)\b/;
const PRICES_WEAK = /\b(?:cheapest|cheap|cheaper|priced|costing)\b/;

/** Common English that is not a misspelt platform name. */
const ENGLISH = new Set(
  (
    'a an the and or but if then so to of in on at by for from with without about into onto over under below above ' +
    'up down out off again further once here there all any both each few more most other some such no nor not only own ' +
    'same than too very can will just should would could may might must shall now i me my mine myself we us our ours ' +
    'you your yours he him his she her it its they them their what which who whom this that these those am is are was ' +
    'were be been being have has had having do does did doing please pls plz thanks thank hi hello hey okay ok yes yeah ' +
    'number numbers phone phones sim sims line lines account accounts code codes sms otp otps text texts message ' +
    'messages order orders buy purchase rent get need want give grab reserve book acquire obtain provide allocate fetch ' +
    'generate send require like verify verification register signup sign activate activation activations confirm ' +
    'price prices pricing cost costs how much many money cash balance funds wallet credit credits left remaining ' +
    'available availability stock success rate rates platform platforms service services app apps country countries ' +
    'list cheap cheapest cheaper max maximum min minimum least most dollar dollars cent cents usd each per new fresh ' +
    'another one two three four five six seven eight nine ten eleven twelve twenty dozen couple pair single ' +
    'temporary virtual mobile cell local real private burner disposable fast quick quickly asap now today where ' +
    'when why whats mobile make create set using use used via also then well good work working supported support ' +
    'able want wanna gonna let lets know tell show check see find look give gimme sure right real number receive ' +
    'receiving instead again still else some someone something anything nothing everything every any anyone'
  ).split(' '),
);

// ---------------------------------------------------------------------------------------------
// Text handling

interface Token {
  /** Lower case. */
  readonly t: string;
  /** As typed (after accent stripping), for the capitals rule. */
  readonly raw: string;
  role?: 'country' | 'platform' | 'times' | 'count';
}

function normaliseQuery(query: string): string {
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

function blank(s: string, from: number, to: number): string {
  return s.slice(0, from) + ' '.repeat(Math.max(0, to - from)) + s.slice(to);
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  for (const m of s.matchAll(/(?<![A-Za-z0-9.])-\d+(?![\d.])|\d+\.\d+|[A-Za-z0-9]+/g)) {
    out.push({ t: m[0].toLowerCase(), raw: m[0] });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prices

const NUM = String.raw`(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)`;
const MONEY = new RegExp(
  [
    String.raw`(?:\bus\s?\$|\$|\busd)\s?${NUM}(?:\s?(?:usd|dollars?|bucks?)\b)?`,
    String.raw`(?<![\w.$])${NUM}\s?(?:\$|(?:us\s)?dollars?\b|usd\b|bucks?\b)`,
    String.raw`(?<![\w.$])${NUM}\s?(?:¢|c\b|cents?\b|cts?\b)`,
  ].join('|'),
  'gi',
);
const FOREIGN_MONEY = new RegExp(
  String.raw`[€£¥₽₹]\s?\d|(?<![\w.])${NUM}\s?(?:[€£¥₽₹]|eur\b|euros?\b|gbp\b|pounds?\b|rub\b|rubles?\b|roubles?\b|inr\b|rupees?\b|yen\b)`,
  'i',
);
/** The run of constraint words before an amount: "if the price is at most", "max price:", "under". */
const BEFORE_AMOUNT =
  /(?:\b(?:if|when|only|as|long|provided|the|its|it|each|is|are|be|must|should|stays?|of|at|for|max_price|max|maximum|min|minimum|price|prices|priced|cost|costs|costing|budget|limit|cap|capped|ceiling|spend|spending|pay|paying|rate|under|below|beneath|less|lower|cheaper|than|no|not|more|most|least|up|to|within|over|above|greater|starting|total|per)\b\s*|[<>=:_-]\s*)+$/i;
/** Words that make an amount a ceiling: "under $1", "for $0.50", "max price: $1", "$0.50 each". */
const MAX_WORDS =
  /\b(?:under|below|beneath|less|lower|cheaper|most|max|maximum|max_price|up to|within|no more|not more|not over|not above|budget|limit|cap|capped|ceiling|for|at|price|prices|priced|cost|costs|costing|pay|paying|spend|spending|each|per)\b|[<=:]/i;
const MIN_WORDS = /(?<!\b(?:no|not)\s)\b(?:over|above|more than|greater than)\b|\bat least\b|\bmin(?:imum)?\b|\bstarting at\b|>/i;
const AFTER_MAX =
  /^\s*(?:or (?:less|lower|cheaper|under|below|so)|max(?:imum)?|tops|at (?:the )?most|each|per (?:number|piece|one|item|activation|sms|code|unit)|apiece|a piece|a number|or under|limit|cap)\b/i;
const AFTER_MIN = /^\s*(?:or (?:more|higher|above|over)|and (?:up|above|over|more)|minimum|min\b|at least|\+)/i;
const TOTAL = /\b(?:total|altogether|overall|combined|in all|for all|for everything|for the lot|for the batch|for both|for them all)\b/i;
const MAX_BARE = new RegExp(
  String.raw`(?:\b(?:max(?:imum)?[ _-]?price|price[ _-]?(?:limit|cap|ceiling)|budget|max_price)\s*(?:is|of|=|:)?\s*\$?|\bprice\s*(?:<=|<|=|:)\s*)${NUM}`,
  'gi',
);
const COMPARATOR_BARE = new RegExp(
  String.raw`(?:\b(?:under|below|beneath|less than|cheaper than|at most|max(?:imum)?|no more than|not more than|up to|within)\s*|(?:<=|<)\s*)${NUM}(?![\d.])`,
  'gi',
);
const WORD_AMOUNT = new RegExp(
  String.raw`\b(?:(half a|an?|${Object.keys(TENS).join('|')}|${Object.keys(ONES).join('|')})(?:[\s-](one|two|three|four|five|six|seven|eight|nine))?)\s+(cents?|dollars?|bucks?)\b`,
  'gi',
);
const CURRENCY_LEFT = /[$¢]|\b(?:usd|dollars?|bucks?|cents?)\b/i;

interface PriceResult {
  /** The query with every price phrase blanked out. */
  text: string;
  micros?: Micros;
  problem?: string;
  /** A currency word or sign is left that no price phrase explained ("for a few dollars"). */
  unexplainedCurrency: boolean;
  /** An amount with nothing saying it is a ceiling ("3 numbers, I have $5"). */
  unqualified?: string;
}

function amountToMicros(num: string, unit: 'usd' | 'cents'): Micros | null {
  const plain = num.replace(/,/g, '');
  const usd = parseUsd(plain.startsWith('.') ? `0${plain}` : plain);
  if (usd === null) return null;
  if (unit === 'usd') return usd;
  return usd % 100 === 0 ? usd / 100 : null;
}

function spelledAmount(words: string, unit: string): string {
  const w = words.toLowerCase();
  const [first = '', second] = w.split(/[\s-]+(?=one|two|three|four|five|six|seven|eight|nine)/);
  let n: number;
  if (first === 'half a') n = 0.5;
  else if (first === 'a' || first === 'an') n = 1;
  else n = (TENS[first] ?? ONES[first] ?? 0) + (second ? (ONES[second] ?? 0) : 0);
  return `${n} ${unit}`;
}

function extractPrice(input: string): PriceResult {
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

// ---------------------------------------------------------------------------------------------
// Platforms, countries, quantities

function platformOf(word: string): string | undefined {
  if (IGNORED_ALIASES.has(word) || word === '' || /^\d/.test(word)) return undefined;
  return findPlatform(word)?.id;
}

const isNumeric = (tok: Token | undefined): boolean =>
  tok !== undefined && (/^-?\d+$/.test(tok.t) || ONES[tok.t] !== undefined || TENS[tok.t] !== undefined);

const LONGEST_COUNTRY_PHRASE = Math.max(
  ...[...countryPhrases().keys(), ...Object.keys(AGENT_COUNTRY_PHRASES)].map((k) => k.split(' ').length),
);

/**
 * Countries named in the query. `unclear` holds codes that are also English words, read as words
 * but ending the query after "in"/"from" ("2 numbers from it"), where they might be meant as a country.
 */
function findCountries(tokens: Token[]): { codes: string[]; unclear: string[] } {
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
function isLanguage(tokens: Token[], i: number, len: number): boolean {
  const prev = tokens[i - 1]?.t;
  const next = tokens[i + len]?.t;
  return prev === 'in' || next === 'speaking' || next === 'language' || next === 'speaker' || next === 'speakers';
}

function twoLetterCountry(tokens: Token[], i: number, hasLowercase: boolean): string | undefined {
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

function findPlatforms(tokens: Token[]): { strong: string[]; weak: string[] } {
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

interface Count {
  value: number;
  strong: boolean;
}

function findCounts(tokens: Token[]): Count[] {
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

function nounFollows(tokens: Token[], last: number): boolean {
  for (let j = last + 1; j < tokens.length && j <= last + 5; j++) {
    const t = tokens[j]!;
    if (t.role === 'platform' || COUNT_NOUNS.has(t.t)) return true;
    if (t.role === 'country' || COUNT_FILLERS.has(t.t)) continue;
    return false;
  }
  return false;
}

function leaderPrecedes(tokens: Token[], i: number): boolean {
  for (let j = i - 1; j >= 0 && j >= i - 3; j--) {
    const t = tokens[j]!.t;
    if (COUNT_LEADERS.has(t)) return true;
    if (!COUNT_LEADER_FILLERS.has(t)) return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Suggestions

function exampleQuery(intent: AgentIntent, platform: string | undefined, i: AgentInterpretation): string {
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
function closePlatforms(tokens: Token[]): string[] {
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
function editDistance(a: string, b: string): number {
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

const fail = (message: string, suggestions: readonly string[] = AGENT_EXAMPLES): ParsedAgentQuery => ({
  understood: false,
  message,
  suggestions: [...new Set(suggestions.length > 0 ? suggestions : AGENT_EXAMPLES)],
});

// ---------------------------------------------------------------------------------------------
// The parser

export function parseAgentQuery(query: string): ParsedAgentQuery {
  if (typeof query !== 'string') return fail('The query must be a string of English text.');
  const trimmed = query.trim();
  if (trimmed === '') return fail('The query is empty. Say what you need, for example "order 1 whatsapp number in United States".');
  if (trimmed.length > AGENT_MAX_QUERY_LENGTH) {
    return fail(`The query is too long (${trimmed.length} characters; at most ${AGENT_MAX_QUERY_LENGTH}). Say it in one short sentence.`);
  }

  const price = extractPrice(normaliseQuery(trimmed));
  const tokens = tokenize(price.text);
  if (tokens.length === 0) return fail('Nothing in the query could be read. Say what you need in English.');
  const clean = tokens.map((t) => t.t).join(' ');

  const { codes: countries, unclear: unclearCountries } = findCountries(tokens);
  const platforms = findPlatforms(tokens);
  const counts = findCounts(tokens);

  // Intent
  const hasOrderVerb = ORDER_VERB.test(clean);
  const hasNumberNoun = tokens.some((t) => NUMBER_NOUNS.has(t.t) && t.role !== 'platform');
  const strongCounts = counts.filter((c) => c.strong);
  const isQuestion = QUESTION_WORDS.has(tokens[0]?.t ?? '');
  const orderSignal = hasOrderVerb || (!isQuestion && (hasNumberNoun || strongCounts.length > 0));

  let intent: AgentIntent | undefined;
  if (BALANCE.test(clean)) intent = 'balance';
  else if (AVAILABILITY_STRONG.test(clean)) intent = 'availability';
  else if (PRICES_STRONG.test(clean)) intent = 'prices';
  else if (AVAILABILITY_WEAK.test(clean)) intent = 'availability';
  else if (VERIFY_STRONG.test(clean)) intent = 'verify';
  else if (orderSignal) intent = VERIFY_WEAK.test(clean) && !hasNumberNoun && strongCounts.length === 0 ? 'verify' : 'order';
  else if (VERIFY_WEAK.test(clean) && (platforms.strong.length > 0 || platforms.weak.length > 0)) intent = 'verify';
  else if (PRICES_WEAK.test(clean)) intent = 'prices';

  if (intent === 'balance') return { understood: true, intent, interpretation: {} };

  const spends = intent === 'order' || intent === 'verify';
  if (UNSUPPORTED.test(clean)) {
    return fail('Cancelling, refunds and deposits are not available through the agent endpoint; use the orders API or `tn` for them.');
  }
  if (spends && NEGATION.test(clean)) return fail('The query says not to order; nothing was done.');
  if (!intent) {
    const close = closePlatforms(tokens);
    if (close.length > 0) {
      return fail(`Not understood. Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?`, close.map((c) => exampleQuery('order', c, {})));
    }
    const named = platforms.strong.length === 1 ? platforms.strong[0] : platforms.strong.length === 0 && platforms.weak.length === 1 ? platforms.weak[0] : undefined;
    const known: AgentInterpretation = countries.length === 1 ? { country: countries[0] } : {};
    return fail(
      'Not understood. Ask to order or verify a number for a platform, for prices, availability or your balance.',
      named ? (['order', 'prices', 'availability'] as const).map((i) => exampleQuery(i, named, known)) : AGENT_EXAMPLES,
    );
  }

  // Everything that is known so far, for suggestions.
  const interpretation: AgentInterpretation = {};
  const platformList = platforms.strong.length > 0 ? platforms.strong : platforms.weak;
  if (platformList.length === 1) interpretation.platform = platformList[0];
  if (countries.length === 1) interpretation.country = countries[0];
  if (price.micros !== undefined) interpretation.max_price = price.micros / MICROS_PER_USD;
  const considered = strongCounts.length > 0 ? strongCounts : spends ? counts : [];
  const values = [...new Set(considered.map((c) => c.value))];
  if (values.length === 1 && values[0]! >= 1 && values[0]! <= AGENT_MAX_BATCH) interpretation.quantity = values[0];

  if (spends && INFO_QUESTION.test(clean)) {
    return fail('This reads as a question, so nothing was ordered. To act, say what to do, for example "order 1 telegram number".', [
      exampleQuery('availability', interpretation.platform, interpretation),
      exampleQuery(intent, interpretation.platform, interpretation),
    ]);
  }
  if (price.problem) return fail(price.problem, [exampleQuery(intent, interpretation.platform, interpretation)]);
  if (spends && price.unqualified !== undefined) {
    const amount = price.unqualified;
    return fail(`Is "${amount}" the most to pay per number? Say "under ${amount} each" so nothing is bought at a price you did not mean.`, [
      exampleQuery(intent, interpretation.platform, interpretation),
    ]);
  }
  if (spends && price.micros === undefined && price.unexplainedCurrency) {
    return fail('Could not read the price: say "under $0.50" or "max 40 cents".', [
      exampleQuery(intent, interpretation.platform, { ...interpretation, max_price: 0.5 }),
    ]);
  }
  if (countries.length > 1) {
    const names = countries.map((c) => countryName(c) ?? c);
    return fail(
      `Several countries were mentioned (${names.join(', ')}): say one.`,
      countries.map((c) => exampleQuery(intent, interpretation.platform, { ...interpretation, country: c })),
    );
  }
  if (spends && countries.length === 0 && unclearCountries.length > 0) {
    const code = unclearCountries[0]!;
    return fail(`"${code}" at the end was read as an English word, not a country. To ask for ${countryName(code)}, name it.`, [
      exampleQuery(intent, interpretation.platform, { ...interpretation, country: code }),
      exampleQuery(intent, interpretation.platform, interpretation),
    ]);
  }

  // Quantity
  if (values.length > 1) {
    return fail(
      `Several quantities were mentioned (${values.join(', ')}): say how many numbers, once.`,
      values.filter((v) => v >= 1 && v <= AGENT_MAX_BATCH).map((v) => exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: v })),
    );
  }
  const quantity = values[0];
  if (quantity !== undefined) {
    if (quantity > AGENT_MAX_BATCH) {
      return fail(
        `A batch holds at most ${AGENT_MAX_BATCH} numbers; ${quantity > 1e6 ? 'far more' : quantity} were asked for. Ask for ${AGENT_MAX_BATCH} or fewer at a time.`,
        [exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: AGENT_MAX_BATCH })],
      );
    }
    if (quantity < 1) {
      return fail('The quantity must be a whole number from 1 to 20.', [exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: 1 })]);
    }
  }

  if (platformList.length > 1) {
    return fail(
      `Several platforms were mentioned (${platformList.join(', ')}): ask for one platform at a time.`,
      platformList.map((p) => exampleQuery(intent, p, interpretation)),
    );
  }

  if (spends) {
    if (!interpretation.platform) {
      const close = closePlatforms(tokens);
      if (close.length > 0) {
        return fail(
          `No known platform was named. Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?`,
          close.map((c) => exampleQuery(intent, c, interpretation)),
        );
      }
      return fail(
        'Say which platform the number is for (for example whatsapp, telegram or instagram); `tn services` lists them all.',
        ['whatsapp', 'telegram', 'instagram'].map((p) => exampleQuery(intent, p, interpretation)),
      );
    }
    if (interpretation.quantity === undefined) {
      const plural = tokens.some((t, k) => PLURAL_NUMBER_NOUNS.has(t.t) && !['a', 'an', 'one'].includes(tokens[k - 1]?.t ?? ''));
      if (intent === 'order' && plural) {
        return fail('Say how many numbers (1 to 20), for example "3 telegram numbers".', [
          exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: 1 }),
          exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: 3 }),
        ]);
      }
      interpretation.quantity = 1;
    }
  }

  // The same key order every time: platform, country, quantity, max_price.
  const ordered: AgentInterpretation = {};
  if (interpretation.platform !== undefined) ordered.platform = interpretation.platform;
  if (interpretation.country !== undefined) ordered.country = interpretation.country;
  if (interpretation.quantity !== undefined) ordered.quantity = interpretation.quantity;
  if (interpretation.max_price !== undefined) ordered.max_price = interpretation.max_price;
  const result: ParsedAgentQuery = { understood: true, intent, interpretation: ordered };
  if (price.micros !== undefined) result.maxPriceMicros = price.micros;
  return result;
}
