import { findPlatform, type Platform } from '../core/catalogue/catalog.js';
import { pick, randomInt, type Random } from '../core/clock.js';
import type { NumberSource, SimulatedSms } from '../core/sources/providers.js';

/**
 * Number ranges reserved for drama and fiction by each country's regulator, so that no real person
 * is ever texted: NANP 555-0100–0199 in every area code, Ofcom's 07700 900xxx and 020 7946 0xxx,
 * ARCEP's 06 39 98 xx xx.
 */
interface FictionRange {
  prefixes: readonly string[];
  /** How many subscriber digits follow each prefix. */
  digits: number;
  /** The first subscriber number and how many there are. */
  first: number;
  count: number;
}

const US_AREAS = [
  '201', '202', '206', '212', '213', '214', '215', '303', '305', '310', '312', '313', '317', '323', '404', '408', '415',
  '469', '503', '512', '602', '614', '617', '646', '650', '702', '713', '718', '720', '786', '801', '813', '818', '832',
  '917', '919', '925', '949', '972', '978',
];
const CA_AREAS = ['204', '226', '236', '250', '289', '306', '343', '403', '416', '418', '437', '438', '450', '506', '514', '519', '587', '604', '613', '647', '705', '709', '778', '780', '807', '819', '902', '905'];

const RANGES: Readonly<Record<string, readonly FictionRange[]>> = {
  us: [{ prefixes: US_AREAS.map((a) => `+1${a}5550`), digits: 3, first: 100, count: 100 }],
  ca: [{ prefixes: CA_AREAS.map((a) => `+1${a}5550`), digits: 3, first: 100, count: 100 }],
  gb: [
    { prefixes: ['+447700900'], digits: 3, first: 0, count: 1000 },
    { prefixes: ['+442079460'], digits: 3, first: 0, count: 1000 },
  ],
  fr: [{ prefixes: ['+3363998'], digits: 4, first: 0, count: 10_000 }],
};

/** Numbers asked about at once while walking a nearly full range. */
const WALK_STEP = 64;

export const SIMULATOR_COUNTRIES = Object.keys(RANGES);

function* numbersOf(country: string): Generator<string> {
  for (const range of RANGES[country] ?? []) {
    for (const prefix of range.prefixes) {
      for (let i = 0; i < range.count; i++) yield prefix + String(range.first + i).padStart(range.digits, '0');
    }
  }
}

const CAPACITY = Object.fromEntries(
  Object.entries(RANGES).map(([c, ranges]) => [c, ranges.reduce((n, r) => n + r.prefixes.length * r.count, 0)]),
);

export interface SimulatorOptions {
  random?: Random;
  /** Fixed delay before each SMS; default a random 1–4 s. */
  delayMs?: number;
  /** Share of orders whose SMS never comes (0–1); default 0. */
  noSmsRate?: number;
}

export class Simulator implements NumberSource {
  readonly id = 'simulator';
  private readonly random: Random;
  private readonly delayMs: number | undefined;
  private readonly noSmsRate: number;
  private readonly lists = new Map<string, readonly string[]>();

  constructor(options: SimulatorOptions = {}) {
    this.random = options.random ?? Math.random;
    this.delayMs = options.delayMs;
    this.noSmsRate = options.noSmsRate ?? 0;
  }

  countries(): readonly string[] {
    return SIMULATOR_COUNTRIES;
  }

  capacity(_platform: string, country: string): number {
    return CAPACITY[country] ?? 0;
  }

  async pickPhone(_platform: string, country: string, held: (candidates: readonly string[]) => Promise<Set<string>>): Promise<string | null> {
    const numbers = this.numbers(country);
    if (numbers.length === 0) return null;
    // A few random tries find a free number at once while the range is far from full...
    const tries = Array.from({ length: 8 }, () => numbers[Math.floor(this.random() * numbers.length)]!);
    const taken = await held(tries);
    const free = tries.find((phone) => !taken.has(phone));
    if (free !== undefined) return free;
    // ...and a walk from a random place finds the last one when it is nearly full.
    const start = Math.floor(this.random() * numbers.length);
    for (let i = 0; i < numbers.length; i += WALK_STEP) {
      const batch = Array.from({ length: Math.min(WALK_STEP, numbers.length - i) }, (_, k) => numbers[(start + i + k) % numbers.length]!);
      const heldNow = await held(batch);
      const phone = batch.find((p) => !heldNow.has(p));
      if (phone !== undefined) return phone;
    }
    return null;
  }

  planDelivery(): number | null {
    if (this.noSmsRate > 0 && this.random() < this.noSmsRate) return null;
    return this.delayMs ?? randomInt(this.random, 1000, 4000);
  }

  composeSms(platformId: string): SimulatedSms {
    const platform = findPlatform(platformId);
    if (!platform) throw new Error(`simulator: unknown platform ${platformId}`);
    const code = makeCode(platform, this.random);
    const template = pick(this.random, templatesFor(platform));
    return { sender: senderFor(platform), text: template(code, platform.name), code };
  }

  private numbers(country: string): readonly string[] {
    let list = this.lists.get(country);
    if (!list) {
      list = [...numbersOf(country)];
      this.lists.set(country, list);
    }
    return list;
  }
}

const STEAM_ALPHABET = 'BCDFGHJKMNPQRTVWXY23456789';

function makeCode(platform: Platform, random: Random): string {
  const { length, alphabet } = platform.code;
  const chars = alphabet === 'alnum' ? STEAM_ALPHABET : '0123456789';
  let code = '';
  // Real services never send a code that starts with 0 in digits-only SMS (it reads like a phone prefix).
  for (let i = 0; i < length; i++) code += i === 0 && alphabet === 'digits' ? String(randomInt(random, 1, 9)) : pick(random, [...chars]);
  return code;
}

const senderFor = (platform: Platform): string => platform.name.replace(/[^A-Za-z]/g, '').slice(0, 11);

type Template = (code: string, name: string) => string;

const split = (code: string): string => `${code.slice(0, 3)}-${code.slice(3)}`;

/** Several wordings per platform, with the distractors real messages carry (numbers, times, links). */
const SPECIFIC: Readonly<Record<string, readonly Template[]>> = {
  instagram: [
    (c) => `Use ${c} to verify your Instagram account.`,
    (c) => `${c} is your Instagram code. Don't share it.`,
    (c) => `Instagram: ${c} is your security code. It expires in 10 minutes. Didn't ask? Ignore this message.`,
  ],
  whatsapp: [
    (c) => `Your WhatsApp code: ${split(c)}\nDon't share this code with others`,
    (c) => `<#> Your WhatsApp code: ${split(c)}\nYou can also tap on this link to verify your phone: v.whatsapp.com/${c}\nDon't share this code with others\n4sgLq1p5sV6`,
    (c) => `WhatsApp code ${split(c)}. Never share this code with anyone, not even with WhatsApp support (24/7).`,
  ],
  telegram: [
    (c) => `Telegram code: ${c}\n\nYou can also tap on this link to log in:\nhttps://t.me/login/${c}`,
    (c) => `Telegram code ${c}. Do not give this code to anyone, even if they say they are from Telegram!`,
    (c) => `Your Telegram login code is ${c}. It was requested at 14:05; if it wasn't you, ignore this.`,
  ],
  google: [
    (c) => `G-${c} is your Google verification code.`,
    (c) => `Your Google verification code is ${c}. Google will never call you to ask for it.`,
    (c) => `G-${c} is your Google verification code. Don't share it with anyone.\n\n@accounts.google.com #${c}`,
  ],
  twitter: [
    (c) => `Your X confirmation code is ${c}.`,
    (c) => `${c} is your X verification code. Reply STOP to 40404 to stop receiving messages.`,
  ],
  facebook: [
    (c) => `${c} is your Facebook confirmation code`,
    (c) => `FB-${c} is your Facebook code. Laz+nxCarLW`,
  ],
  discord: [(c) => `Your Discord security code is: ${c}`, (c) => `${c} is your Discord verification code. It expires in 10 minutes.`],
  steam: [
    (c) => `Your Steam verification code: ${c}`,
    (c) => `Steam Guard code ${c}. Login from a new device on 21/11 at 23:40. Not you? Change your password.`,
  ],
  uber: [(c) => `Your Uber code: ${c}. Never share this code. Reply STOP ALL to 89203 to unsubscribe.`, (c) => `${c} is your Uber verification code.`],
  amazon: [
    (c) => `${c} is your Amazon OTP. Do not share it with anyone.`,
    (c) => `Amazon: Your one-time password is ${c}. Your order #112-4457788 is not affected.`,
  ],
  microsoft: [(c) => `Use ${c} as Microsoft account security code`, (c) => `Microsoft account: your security code is ${c}. Only enter this code on an official website or app.`],
  paypal: [(c) => `PayPal: ${c} is your security code. Don't share your code.`, (c) => `PayPal: Your code is ${c}. It expires in 10 minutes. Never share it, even for a $1.00 refund.`],
  coinbase: [(c) => `Your Coinbase verification code is: ${c}. Don't share this code with anyone; our employees will never ask for the code.`],
};

const GENERIC: readonly Template[] = [
  (c, n) => `${c} is your ${n} verification code.`,
  (c, n) => `Your ${n} code is ${c}. It expires in 5 minutes.`,
  (c, n) => `[${n}] Verification code: ${c}. Do not share this code with anyone. Sent 23:40.`,
];

function templatesFor(platform: Platform): readonly Template[] {
  return [...(SPECIFIC[platform.id] ?? []), ...GENERIC];
}

/** Every wording the simulator can produce for a platform: lets tests check the extractor reads them all. */
export const simulatorTemplates = (platform: Platform): readonly Template[] => templatesFor(platform);
