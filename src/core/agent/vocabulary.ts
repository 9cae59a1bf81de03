/** The agent's vocabulary: the words and phrases it knows, and those it must not mistake for platforms or countries. */
import { PLATFORMS } from '../catalogue/catalog.js';
import { BATCH_MAX } from '../limits.js';

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

/** The agent orders at most a batch at once. */
export const AGENT_MAX_BATCH = BATCH_MAX;

/** Queries that are always understood; the generic suggestions. */
export const AGENT_EXAMPLES: readonly string[] = [
  'order 1 whatsapp number in United States',
  '3 telegram numbers from United Kingdom under $0.50',
  'verify my instagram account',
  'how much is telegram in Germany?',
  'which platforms are available?',
  "what's my balance?",
];

/** Platform aliases of two letters that are ordinary English words or abbreviations: never platforms. */
export const IGNORED_ALIASES = new Set(['go', 'am', 'mm', 'li', 'vi']);

/** Platform names that are also everyday English words: platforms only when nothing stronger is said. */
export const WEAK_PLATFORM_WORDS = new Set(['line', 'signal', 'steam', 'apple', 'snap', 'hinge', 'meta', 'other', 'generic']);

/** Platform names written as two words. */
export const PLATFORM_PHRASES: Readonly<Record<string, string>> = {
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
export const AGENT_COUNTRY_PHRASES: Readonly<Record<string, string>> = {
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
export const UPPERCASE_NOT_COUNTRY = new Set([
  'ai', 'al', 'am', 'ar', 'as', 'at', 'az', 'be', 'bo', 'bs', 'by', 'ca', 'cc', 'cd', 'co', 'cv', 'dj', 'do', 'eg',
  'et', 'fm', 'ga', 'gg', 'gm', 'hr', 'id', 'ie', 'il', 'im', 'in', 'io', 'iq', 'is', 'it', 'km', 'ky', 'la', 'ma',
  'md', 'me', 'mg', 'ml', 'mn', 'mo', 'mp', 'ms', 'mt', 'my', 'na', 'nc', 'ne', 'no', 'np', 'pa', 'pe', 'pm', 'pr',
  'ps', 're', 'sa', 'sc', 'sd', 'se', 'si', 'sm', 'so', 'ss', 'st', 'tc', 'td', 'tf', 'tl', 'tm', 'tn', 'to', 'tv',
  'um', 'va',
]);

/** Two-letter codes that, in lower case, are English words even after "in" or "from" ("in my country"). */
export const LOWERCASE_NOT_COUNTRY = new Set(['am', 'as', 'at', 'be', 'by', 'do', 'eg', 'id', 'ie', 'in', 'is', 'it', 'me', 'my', 'no', 'so', 'to']);

/** Platform aliases that are also ISO codes (tg Togo, tw Taiwan): a platform unless after "in"/"from". */
export const PLATFORM_CODES = new Set(
  PLATFORMS.flatMap((p) => p.aliases).filter((a) => a.length === 2 && !IGNORED_ALIASES.has(a)),
);

export const COUNTRY_PREPOSITIONS = new Set(['in', 'from', 'country', 'region', 'located']);

export const ONES: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, single: 1, couple: 2, pair: 2, dozen: 12,
};
export const TENS: Readonly<Record<string, number>> = {
  twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
export const BIG: Readonly<Record<string, number>> = { hundred: 100, thousand: 1000, million: 1_000_000 };

/** Words after a number that make it a duration, a length or a rate rather than a count. */
export const UNITS = new Set([
  'hour', 'hours', 'hr', 'hrs', 'h', 'minute', 'minutes', 'min', 'mins', 'm', 'second', 'seconds', 'sec', 'secs', 's',
  'day', 'days', 'week', 'weeks', 'month', 'months', 'year', 'years', 'yr', 'yrs', 'digit', 'digits', 'character',
  'characters', 'chars', 'letter', 'letters', 'am', 'pm', 'percent', 'pct', 'star', 'stars', 'gb', 'mb', 'kb', 'fa',
  'times', 'th', 'st', 'nd', 'rd',
]);

/** Nouns a count applies to: "3 numbers", "5 accounts". */
export const COUNT_NOUNS = new Set([
  'number', 'numbers', 'num', 'nums', 'phone', 'phones', 'phonenumber', 'phonenumbers', 'sim', 'sims', 'simcard', 'simcards', 'lines',
  'account', 'accounts', 'code', 'codes', 'activation', 'activations', 'verification', 'verifications', 'otp', 'otps',
  'sms', 'pcs', 'piece', 'pieces', 'unit', 'units', 'item', 'items',
]);

/** Nouns that say a number is being bought. */
export const NUMBER_NOUNS = new Set([
  'number', 'numbers', 'num', 'nums', 'phone', 'phones', 'phonenumber', 'phonenumbers', 'sim', 'sims', 'simcard', 'simcards', 'lines',
  'activation', 'activations',
]);
export const PLURAL_NUMBER_NOUNS = new Set(['numbers', 'nums', 'phones', 'phonenumbers', 'sims', 'simcards', 'lines', 'activations']);

/** Words that may stand between a count and its noun: "3 more fresh UK telegram numbers". */
export const COUNT_FILLERS = new Set([
  'more', 'new', 'fresh', 'different', 'extra', 'additional', 'separate', 'virtual', 'temporary', 'temp', 'disposable',
  'burner', 'mobile', 'cell', 'cellular', 'phone', 'local', 'verification', 'sms', 'otp', 'real', 'non', 'voip',
  'private', 'cheap', 'cheapest', 'cheaper', 'based', 'of', 'the', 'unique', 'distinct', 'usable', 'working', 'good',
  'random', 'any', 'only', 'for', 'my', 'your', 'our',
]);

/** Words before a number that make it a count: "order 5", "get me 3", "qty: 2". */
export const COUNT_LEADERS = new Set([
  'quantity', 'qty', 'count', 'amount', 'order', 'buy', 'purchase', 'get', 'need', 'want', 'rent', 'grab', 'give',
  'reserve', 'book', 'acquire', 'obtain', 'provide', 'allocate', 'fetch', 'generate', 'gimme', 'verify', 'another',
]);
export const COUNT_LEADER_FILLERS = new Set(['me', 'us', 'please', 'pls', 'plz', 'about', 'around', 'exactly', 'just', 'only', 'like', 'another', 'additional']);

export const ONE_NOT_A_COUNT_BEFORE = new Set(['which', 'this', 'that', 'the', 'any', 'no', 'each', 'every', 'another', 'other', 'someone', 'anyone']);

/** Questions about how things work, not requests: "how do I verify…", "what is a telegram number?". */
export const INFO_QUESTION = /^(?:how (?:do|does|can|should|would|to|did)|what|why|when|where|who|whom|which|should i|is it|is there|are there|does|do i|do you|did)\b/;

export const QUESTION_WORDS = new Set(['what', 'whats', 'how', 'why', 'when', 'where', 'who', 'which', 'is', 'are', 'does', 'do', 'should', 'would', 'will', 'could', 'whether']);

export const ORDER_VERB = /\b(?:order|orders|ordering|buy|buying|purchase|purchasing|rent|renting|get|getting|need|needs|want|wants|give|gimme|grab|reserve|book|acquire|obtain|provide|allocate|fetch|generate|procure|lease|like|send|require)\b/;

export const NEGATION = /\b(?:dont|do not|doesnt|does not|didnt|did not|never|no need to|not|shouldnt|should not|wont|will not|cannot|cant)\s+(?:\w+\s+){0,2}?(?:order|buy|purchase|get|rent|verify|need|want|spend|charge|pay|grab|reserve|book|acquire)\b/;
export const UNSUPPORTED = /\b(?:cancel|cancell?ed|cancell?ing|refund|refunds|delete|remove|release|withdraw|deposit|top ?up)\b/;

export const BALANCE =
  /\b(?:balance|balances|funds|wallet|credits?)\b|\bhow much (?:money|cash|credit)\b|\b(?:money|cash) (?:do i have|have i got|i have|have i|is) ?(?:left|got|remaining)?\b|\bhow much (?:do i have|have i got|is left|i have left|have i left)\b|\bmoney left\b|\bam i (?:broke|out of money)\b/;
export const AVAILABILITY_STRONG =
  /\b(?:available|availability|unavailable|in stock|out of stock|stock|sold out|success rates?|delivery rates?|reliab\w*|supported|do you (?:have|support|offer|carry|sell|provide)|does \w+ work|is \w+ working)\b/;
export const PRICES_STRONG =
  /\b(?:how much|price|prices|pricing|cost|costs|quote|quotes|rate|rates|fee|fees|tariff|tariffs|expensive|price list|pricelist)\b/;
export const AVAILABILITY_WEAK =
  /\b(?:(?:which|what) (?:platforms|services|apps|countries|sites|websites|platform|service)|list|platforms|services|catalog|catalogue|what can i (?:buy|order|get))\b|^(?:is|are) there\b/;
export const VERIFY_STRONG =
  /\b(?:verify|verifies|verifying|verified|verification codes?|sign ?up|signing up|register|registering|registration|activate|activating|2fa|confirm|confirmation|(?:code|codes|otp|otps|pin) (?:for|from|to)|(?:get|receive|fetch|give|send|grab) (?:me |us )?(?:a |an |the |my )?(?:code|otp|pin))\b/;
export const VERIFY_WEAK = /\b(?:code|codes|otp|otps|pin|sms|text|texts|receive)\b/;
export const PRICES_WEAK = /\b(?:cheapest|cheap|cheaper|priced|costing)\b/;

/** Common English that is not a misspelt platform name. */
export const ENGLISH = new Set(
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
