import { TnError } from '../errors.js';
import { cents, type Micros } from '../money.js';
import { hiddenCharacter, refuseHiddenCharacters } from './countries.js';

export interface Platform {
  /** The canonical id used in the API (`instagram`). */
  readonly id: string;
  readonly name: string;
  /** Other names people and clients use: short codes of the sms-activate family, brand renames. */
  readonly aliases: readonly string[];
  /** Base price, whole cents by construction. */
  readonly price: Micros;
  /** What the platform's codes look like, for the simulator and the extractor's platform rule. */
  readonly code: { readonly length: number; readonly alphabet: 'digits' | 'alnum' };
}

const p = (
  id: string,
  name: string,
  priceCents: number,
  aliases: string[] = [],
  code: Platform['code'] = { length: 6, alphabet: 'digits' },
): Platform => ({ id, name, aliases, price: cents(priceCents), code });

const digits = (length: number): Platform['code'] => ({ length, alphabet: 'digits' });

const LISTED: readonly Platform[] = [
  p('instagram', 'Instagram', 12, ['ig', 'insta']),
  p('whatsapp', 'WhatsApp', 25, ['wa']),
  p('telegram', 'Telegram', 30, ['tg'], digits(5)),
  p('facebook', 'Facebook', 10, ['fb', 'meta']),
  p('google', 'Google', 20, ['go', 'gmail', 'youtube', 'yt']),
  p('twitter', 'X (Twitter)', 8, ['x', 'tw']),
  p('discord', 'Discord', 15, ['ds']),
  p('tiktok', 'TikTok', 10, ['tt']),
  p('snapchat', 'Snapchat', 9, ['sc', 'snap']),
  p('amazon', 'Amazon', 15, ['am']),
  p('microsoft', 'Microsoft', 12, ['mm', 'outlook', 'hotmail', 'skype']),
  p('apple', 'Apple', 35, ['icloud']),
  p('uber', 'Uber', 14, ['ub'], digits(4)),
  p('lyft', 'Lyft', 14, [], digits(4)),
  p('airbnb', 'Airbnb', 18, []),
  p('netflix', 'Netflix', 12, []),
  p('paypal', 'PayPal', 40, ['pp']),
  p('linkedin', 'LinkedIn', 22, ['li']),
  p('signal', 'Signal', 20, []),
  p('viber', 'Viber', 8, ['vi']),
  p('wechat', 'WeChat', 45, ['weixin']),
  p('line', 'LINE', 18, []),
  p('kakaotalk', 'KakaoTalk', 30, ['kakao']),
  p('tinder', 'Tinder', 25, []),
  p('bumble', 'Bumble', 20, []),
  p('hinge', 'Hinge', 22, []),
  p('openai', 'OpenAI (ChatGPT)', 35, ['chatgpt']),
  p('steam', 'Steam', 10, [], { length: 5, alphabet: 'alnum' }),
  p('yahoo', 'Yahoo', 8, []),
  p('coinbase', 'Coinbase', 50, [], digits(7)),
  p('binance', 'Binance', 45, []),
  p('reddit', 'Reddit', 10, []),
  p('twitch', 'Twitch', 12, []),
];

/**
 * The sms-activate family's generic service (code `ot`): a number for any site not listed. Priced
 * as the cheapest listed platform, since it is sold for sites nobody prices on their own.
 */
export const GENERIC_PLATFORM = 'other';

export const PLATFORMS: readonly Platform[] = [
  ...LISTED,
  p(GENERIC_PLATFORM, 'Other (any site not listed)', Math.min(...LISTED.map((l) => l.price)) / cents(1), ['ot', 'any other', 'generic']),
];

const BY_NAME = new Map<string, Platform>();
for (const platform of PLATFORMS) {
  for (const name of [platform.id, platform.name, ...platform.aliases]) BY_NAME.set(normalise(name), platform);
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/**
 * Finds a platform by id, name or alias, ignoring case, spaces and punctuation; never a name with
 * a control or invisible character in it, which would otherwise be stripped along with punctuation.
 */
export function findPlatform(text: string): Platform | undefined {
  if (typeof text !== 'string' || hiddenCharacter(text)) return undefined;
  return BY_NAME.get(normalise(text));
}

export function requirePlatform(text: unknown): Platform {
  if (typeof text === 'string') refuseHiddenCharacters('platform', text);
  if (typeof text !== 'string' || text.trim() === '') {
    throw new TnError('invalid_request', 'Parameter "platform" is required: a platform id such as "instagram".');
  }
  const found = findPlatform(text);
  if (!found) {
    throw new TnError('unknown_platform', `Unknown platform "${text.slice(0, 64)}". Run \`tn services\` for the list.`, {
      suggestions: suggestPlatforms(text),
    });
  }
  return found;
}

/** Close matches for a mistyped name, by edit distance, best first; short aliases are left out as too noisy. */
export function suggestPlatforms(text: string, max = 3): string[] {
  const needle = normalise(text);
  if (needle.length < 3) return [];
  const limit = needle.length <= 5 ? 1 : 2;
  return PLATFORMS.map((p) => ({
    id: p.id,
    d: Math.min(...[p.id, normalise(p.name), ...p.aliases.filter((a) => a.length >= 3)].map((n) => editDistance(needle, n))),
  }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d)
    .slice(0, max)
    .map((x) => x.id);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
