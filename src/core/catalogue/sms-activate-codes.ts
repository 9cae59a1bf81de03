/**
 * The identifiers of the sms-activate `handler_api.php` protocol (issue 15): its short service
 * codes and its numeric country ids, each in one table read in both directions, by `tn serve`'s
 * handler (clients of the family call us) and by the `sms-activate` upstream (we call them).
 * Pure data and lookups: no I/O.
 */
import { PLATFORMS } from './catalog.js';
import { COUNTRIES } from './countries.js';

/** Where every provider of the family serves the protocol, and where `tn serve` does. */
export const HANDLER_PATH = '/stubs/handler_api.php';

/**
 * Our platform id → the family's service code. Codes are the ones sms-activate publishes (and its
 * copies reuse); a platform it has no code for goes by our own id, which only our own handler
 * understands. `other` is the family's "any other service", there when the catalogue has it.
 */
const SERVICE_CODE_TABLE: Readonly<Record<string, string>> = {
  instagram: 'ig',
  whatsapp: 'wa',
  telegram: 'tg',
  facebook: 'fb',
  google: 'go',
  twitter: 'tw',
  discord: 'ds',
  tiktok: 'lf',
  snapchat: 'fu',
  amazon: 'am',
  microsoft: 'mm',
  apple: 'wx',
  uber: 'ub',
  lyft: 'tu',
  airbnb: 'uk',
  netflix: 'nf',
  paypal: 'ts',
  linkedin: 'tn',
  signal: 'bw',
  viber: 'vi',
  wechat: 'wb',
  line: 'me',
  kakaotalk: 'kt',
  tinder: 'oi',
  bumble: 'mo',
  hinge: 'vz',
  openai: 'dr',
  steam: 'mt',
  yahoo: 'mb',
  coinbase: 're',
  twitch: 'hb',
  other: 'ot',
};

/**
 * ISO 3166-1 alpha-2 → the family's numeric country id, as sms-activate's `getCountries` numbers
 * them (HeroSMS, Grizzly SMS and SMSBower keep the same ids). `12` (USA, virtual numbers) is read
 * as the United States too, but we answer with `187`.
 */
const COUNTRY_ID_TABLE: Readonly<Record<string, number>> = {
  ru: 0, ua: 1, kz: 2, cn: 3, ph: 4, mm: 5, id: 6, my: 7, ke: 8, tz: 9,
  vn: 10, kg: 11, il: 13, hk: 14, pl: 15, gb: 16, mg: 17, cd: 18, ng: 19,
  mo: 20, eg: 21, in: 22, ie: 23, kh: 24, la: 25, ht: 26, ci: 27, gm: 28, rs: 29,
  ye: 30, za: 31, ro: 32, co: 33, ee: 34, az: 35, ca: 36, ma: 37, gh: 38, ar: 39,
  uz: 40, cm: 41, td: 42, de: 43, lt: 44, hr: 45, se: 46, iq: 47, nl: 48, lv: 49,
  at: 50, by: 51, th: 52, sa: 53, mx: 54, tw: 55, es: 56, ir: 57, dz: 58, si: 59,
  bd: 60, sn: 61, tr: 62, cz: 63, lk: 64, pe: 65, pk: 66, nz: 67, gn: 68, ml: 69,
  ve: 70, et: 71, mn: 72, br: 73, af: 74, ug: 75, ao: 76, cy: 77, fr: 78, pg: 79,
  mz: 80, np: 81, be: 82, bg: 83, hu: 84, md: 85, it: 86, py: 87, hn: 88, tn: 89,
  ni: 90, tl: 91, bo: 92, cr: 93, gt: 94, ae: 95, zw: 96, pr: 97, sd: 98, tg: 99,
  kw: 100, sv: 101, ly: 102, jm: 103, tt: 104, ec: 105, sz: 106, om: 107, ba: 108, do: 109,
  sy: 110, qa: 111, pa: 112, cu: 113, mr: 114, sl: 115, jo: 116, pt: 117, bb: 118, bi: 119,
  bj: 120, bn: 121, bs: 122, bw: 123, bz: 124, cf: 125, dm: 126, gd: 127, ge: 128, gr: 129,
  gw: 130, gy: 131, is: 132, km: 133, kn: 134, lr: 135, ls: 136, mw: 137, na: 138, ne: 139,
  rw: 140, sk: 141, sr: 142, tj: 143, mc: 144, bh: 145, re: 146, zm: 147, am: 148, so: 149,
  cg: 150, cl: 151, bf: 152, lb: 153, ga: 154, al: 155, uy: 156, mu: 157, bt: 158, mv: 159,
  gp: 160, tm: 161, gf: 162, fi: 163, lc: 164, lu: 165, vc: 166, gq: 167, dj: 168, ag: 169,
  ky: 170, me: 171, dk: 172, ch: 173, no: 174, au: 175, er: 176, ss: 177, st: 178, aw: 179,
  ms: 180, ai: 181, jp: 182, mk: 183, sc: 184, nc: 185, cv: 186, us: 187, ps: 188, fj: 189,
  sg: 196, ws: 198, mt: 199, gi: 201, nu: 204,
};

/** Ids read as a country but never given out. */
const COUNTRY_ID_ALIASES: Readonly<Record<number, string>> = { 12: 'us' };

/**
 * Countries tn knows that the family has no id for get one of ours, from here up in ISO order, so
 * a client of the protocol can order every country `tn serve` has. Never sent to a provider.
 */
export const PRIVATE_COUNTRY_ID_BASE = 2000;

const PLATFORM_IDS = new Set(PLATFORMS.map((p) => p.id));
const CODE_TO_PLATFORM = new Map<string, string>();
const PLATFORM_TO_CODE = new Map<string, string>();
for (const p of PLATFORMS) {
  const code = SERVICE_CODE_TABLE[p.id] ?? p.id;
  PLATFORM_TO_CODE.set(p.id, code);
  CODE_TO_PLATFORM.set(code, p.id);
}

const KNOWN = new Set(COUNTRIES.map((c) => c.code));
const ISO_TO_ID = new Map<string, number>();
const ID_TO_ISO = new Map<number, string>();
for (const [iso, id] of Object.entries(COUNTRY_ID_TABLE)) {
  if (!KNOWN.has(iso)) continue;
  ISO_TO_ID.set(iso, id);
  ID_TO_ISO.set(id, iso);
}
for (const [id, iso] of Object.entries(COUNTRY_ID_ALIASES)) ID_TO_ISO.set(Number(id), iso);
let nextPrivate = PRIVATE_COUNTRY_ID_BASE;
// Code-unit order (the codes are ASCII): the same as localeCompare, without ICU's collator at every start.
for (const { code } of [...COUNTRIES].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))) {
  if (ISO_TO_ID.has(code)) continue;
  ISO_TO_ID.set(code, nextPrivate);
  ID_TO_ISO.set(nextPrivate, code);
  nextPrivate += 1;
}

/** The service code of one of our platforms. */
export function serviceCodeOf(platform: string): string | undefined {
  return PLATFORM_TO_CODE.get(platform);
}

/** Our platform for a service code of the family, or our own platform id; undefined otherwise (never a guess). */
export function platformOfServiceCode(code: string): string | undefined {
  const found = CODE_TO_PLATFORM.get(code.trim().toLowerCase());
  return found ?? (PLATFORM_IDS.has(code) ? code : undefined);
}

/** True when a provider of the family knows this code (not one of our ids standing in for a missing code). */
export function hasFamilyServiceCode(platform: string): boolean {
  return Object.hasOwn(SERVICE_CODE_TABLE, platform) && PLATFORM_IDS.has(platform);
}

/** The numeric id of a country tn knows (the family's, else one of ours from PRIVATE_COUNTRY_ID_BASE). */
export function countryIdOf(iso: string): number | undefined {
  return ISO_TO_ID.get(iso);
}

/** The family's own id of a country, for a request to a provider; undefined when it has none. */
export function familyCountryIdOf(iso: string): number | undefined {
  const id = ISO_TO_ID.get(iso);
  return id !== undefined && id < PRIVATE_COUNTRY_ID_BASE ? id : undefined;
}

/** The ISO code of a numeric id (as a number or its decimal text); undefined for an id we do not know. */
export function countryOfId(id: number | string): string | undefined {
  const n = typeof id === 'number' ? id : /^\d{1,6}$/.test(id.trim()) ? Number(id.trim()) : NaN;
  return Number.isInteger(n) ? ID_TO_ISO.get(n) : undefined;
}

/** Every country with its id, by id: for `getCountries`. */
export function countryIds(): { iso: string; id: number }[] {
  return [...ISO_TO_ID].map(([iso, id]) => ({ iso, id })).sort((a, b) => a.id - b.id);
}
