/**
 * Where an order's number comes from (issue 7): the sources an operator configured in the
 * database (own gateways with a number pool, an upstream such as TempNumber, the simulator), read
 * afresh for every order so that a change takes effect without a restart; and routing among them.
 * With no source configured, the built-in simulator serves every order.
 */
import type { Clock } from './clock.js';
import { PLATFORMS, requirePlatform, type Platform } from './catalogue/catalog.js';
import { TnError, invalid } from './errors.js';
import { MICROS_PER_CENT, type Micros } from './money.js';
import type { OrderRecord } from './orders/order.js';
import type { PoolNumber, SourceKind, SourceRecord, Store } from './ports.js';
import type { NumberSource, Upstream, UpstreamEndpoint } from '../providers/types.js';
import { extractCode } from './extract.js';

import { DEFAULT_POOL_COOLDOWN_MS, SOURCE_KINDS, isGatewayKind, type GatewayKind } from './source-kinds.js';

/** Skip a source whose last `window` ended orders had fewer than `minRate` delivered (a source with fewer ended orders is not judged). */
export interface SuccessFloor {
  window: number;
  minRate: number;
}
export const DEFAULT_SUCCESS_FLOOR: SuccessFloor = { window: 20, minRate: 0.2 };
/** How often an upstream activation is polled while its order waits (the shared bucket may space polls further). */
export const DEFAULT_POLL_MS = 3_000;
/** TempNumber publishes prices, not counts: a service it lists counts as this many numbers in stock. */
export const UPSTREAM_LISTED_STOCK = 100;
/** An upstream's price list is fetched at most this often (TempNumber allows 3 calls a minute). */
export const PRICE_LIST_TTL_MS = 60_000;
/** The longest rest a pool number may be given. */
export const MAX_COOLDOWN_MS = 7 * 86_400_000;
/** How long a source's judgement against the success floor is reused. */
const FLOOR_MEMORY_MS = 1_000;

export type LiveSource =
  | { kind: 'simulator'; name: string; cost: Micros; enabled: boolean; numbers: NumberSource }
  | { kind: GatewayKind; name: string; cost: Micros; enabled: boolean; secret: string; cooldownMs: number }
  | { kind: 'tempnumber'; name: string; cost: Micros; enabled: boolean; upstream: Upstream; record: SourceRecord };

export interface Candidate {
  source: LiveSource;
  country: string;
  /** What one number costs the operator: `--cost`, or the upstream's price. */
  cost: Micros;
  /** The customer's list price before the tier discount. */
  listPrice: Micros | null;
  stock: number;
}

export type UpstreamFactory = (record: SourceRecord, limiter: (endpoint: UpstreamEndpoint) => Promise<number>) => Upstream;

export interface SourceOptions {
  store: Store;
  clock: Clock;
  /** Serve when the database names no source. */
  defaults: readonly NumberSource[];
  upstreams?: UpstreamFactory;
  limits?: Record<UpstreamEndpoint, { max: number; windowMs: number }>;
  poolCooldownMs?: number;
  successFloor?: SuccessFloor;
  /** Told of an upstream call that failed (recording it, alerting the operator, backing off). */
  onUpstreamError?: (source: string, err: unknown, endpoint: UpstreamEndpoint) => Promise<void>;
}

export class SourceRegistry {
  readonly poolCooldownMs: number;
  readonly successFloor: SuccessFloor;
  private readonly upstreams = new Map<string, { identity: string; upstream: Upstream }>();
  private readonly priceLists = new Map<string, { at: number; prices: Map<string, Micros> }>();
  private recordCache: { version: number; records: SourceRecord[] } | undefined;
  private readonly floorCache = new Map<string, { at: number; below: boolean }>();

  constructor(private readonly options: SourceOptions) {
    this.poolCooldownMs = options.poolCooldownMs ?? DEFAULT_POOL_COOLDOWN_MS;
    this.successFloor = options.successFloor ?? DEFAULT_SUCCESS_FLOOR;
  }

  /**
   * The configured sources, read again only when the database changed: after another process's
   * commit (`changeCounter`) or this process's own change of a source (`changed`).
   */
  private async records(): Promise<SourceRecord[]> {
    const version = this.options.store.changeCounter();
    if (this.recordCache && this.recordCache.version === version) return this.recordCache.records;
    const records = await this.options.store.listSources();
    this.recordCache = { version, records };
    return records;
  }

  /** Forget what was read: this process changed a source or the pool. */
  changed(): void {
    this.recordCache = undefined;
    this.floorCache.clear();
  }

  /** Every configured source, disabled ones too (their active orders still finish); the defaults when none is. */
  async all(): Promise<LiveSource[]> {
    const records = await this.records();
    if (records.length === 0) return this.options.defaults.map((numbers) => ({ kind: 'simulator', name: numbers.id, cost: 0, enabled: true, numbers }));
    return records.map((r) => this.live(r));
  }

  async byName(name: string): Promise<LiveSource | undefined> {
    return (await this.all()).find((s) => s.name === name);
  }

  private live(r: SourceRecord): LiveSource {
    if (r.kind === 'simulator') {
      const numbers = this.options.defaults[0];
      if (!numbers) throw new TnError('unavailable', 'This broker has no simulator to serve the "simulator" source.');
      return { kind: 'simulator', name: r.name, cost: r.cost, enabled: r.enabled, numbers };
    }
    if (r.kind === 'tempnumber') return { kind: 'tempnumber', name: r.name, cost: r.cost, enabled: r.enabled, upstream: this.upstream(r), record: r };
    return { kind: r.kind, name: r.name, cost: r.cost, enabled: r.enabled, secret: r.secret ?? '', cooldownMs: r.settings.cooldownMs ?? this.poolCooldownMs };
  }

  private upstream(r: SourceRecord): Upstream {
    // A source removed and added again under the same name is another client.
    const identity = JSON.stringify([r.createdAt, r.secret, r.settings]);
    const known = this.upstreams.get(r.name);
    if (known && known.identity === identity) return known.upstream;
    if (!this.options.upstreams) throw new TnError('unavailable', `This broker cannot reach upstream sources (source "${r.name}").`);
    const limits = this.options.limits;
    const upstream = this.options.upstreams(r, (endpoint) =>
      limits ? this.options.store.takeToken(`${r.name}:${endpoint}`, limits[endpoint].max, limits[endpoint].windowMs, this.options.clock.now()) : Promise.resolve(0),
    );
    this.upstreams.set(r.name, { identity, upstream });
    return upstream;
  }

  /**
   * An upstream's prices: from this process's memory, else the database (shared by short-lived
   * processes), else the upstream itself, at most once a minute; a stale list beats none.
   */
  async upstreamPrices(source: Extract<LiveSource, { kind: 'tempnumber' }>): Promise<Map<string, Micros>> {
    const now = this.options.clock.now();
    const mem = this.priceLists.get(source.name);
    if (mem && now - mem.at < PRICE_LIST_TTL_MS) return mem.prices;
    const stored = await this.options.store.cached(source.name, 'prices');
    if (stored && now - stored.fetchedAt < PRICE_LIST_TTL_MS) {
      const prices = new Map(JSON.parse(stored.value) as [string, Micros][]);
      this.priceLists.set(source.name, { at: stored.fetchedAt, prices });
      return prices;
    }
    try {
      const prices = await source.upstream.priceList();
      await this.options.store.cache(source.name, 'prices', JSON.stringify([...prices]), now);
      this.priceLists.set(source.name, { at: now, prices });
      return prices;
    } catch (err) {
      await this.options.onUpstreamError?.(source.name, err, 'pricelist');
      return mem?.prices ?? (stored ? new Map(JSON.parse(stored.value) as [string, Micros][]) : new Map());
    }
  }

  /**
   * What each enabled source offers for a platform (in one country, or all): the stock, the
   * operator's cost, and (for an upstream) the customer's list price. Without `exact`, the
   * simulator's stock is its capacity, an upper bound.
   */
  async offers(platform: Platform, country: string | 'any', now: number, options: { exact?: boolean; memo?: OffersMemo } = {}): Promise<Candidate[]> {
    const exact = options.exact ?? true;
    // One read of each table per request, however many platforms it lists.
    const memo = options.memo ?? {};
    const sources = (await this.all()).filter((s) => s.enabled);
    const offers: Candidate[] = [];
    for (const source of sources) {
      if (source.kind === 'simulator') {
        // Routing needs no count here (the order's transaction finds a free number or not), and
        // counting every held number on each order would cost more than the order itself.
        const inUse = exact ? await (memo.inUse ??= this.options.store.numbersInUse(now)) : [];
        const simHeld = new Map(inUse.filter((u) => u.source === source.name).map((u) => [`${u.platform}/${u.country}`, u.count]));
        for (const c of source.numbers.countries(platform.id)) {
          if (country !== 'any' && c !== country) continue;
          const stock = Math.max(0, source.numbers.capacity(platform.id, c) - (simHeld.get(`${platform.id}/${c}`) ?? 0));
          offers.push({ source, country: c, cost: source.cost, listPrice: null, stock });
        }
      } else if (source.kind === 'tempnumber') {
        const prices = await this.upstreamPrices(source);
        for (const [key, price] of prices) {
          const [s, c] = key.split('/') as [string, string];
          if (s !== platform.id || (country !== 'any' && c !== country)) continue;
          offers.push({ source, country: c, cost: price, listPrice: markedUp(price, source.record), stock: UPSTREAM_LISTED_STOCK });
        }
      } else {
        const pool = await (memo.pool ??= this.options.store.listPool());
        const held = await (memo.held ??= this.options.store.heldNumbers(now - MAX_COOLDOWN_MS));
        const resting = new Set(held.filter((h) => h.releasedAt === null || h.releasedAt > now - source.cooldownMs).map((h) => `${h.phone}/${h.platform}`));
        const free = new Map<string, number>();
        for (const n of pool) {
          if (n.source !== source.name || (country !== 'any' && n.country !== country)) continue;
          if (n.platforms !== '*' && !n.platforms.includes(platform.id)) continue;
          free.set(n.country, (free.get(n.country) ?? 0) + (resting.has(`${n.phone}/${platform.id}`) ? 0 : 1));
        }
        for (const [c, stock] of free) offers.push({ source, country: c, cost: source.cost, listPrice: null, stock });
      }
    }
    return offers;
  }

  /** Whether a source's recent record puts it below the success floor. */
  async belowFloor(source: string): Promise<boolean> {
    // Read at most once a second per source: a record of 20 orders does not turn in less.
    const now = this.options.clock.now();
    const known = this.floorCache.get(source);
    if (known && now - known.at < FLOOR_MEMORY_MS && now >= known.at) return known.below;
    const { ended, delivered } = await this.options.store.sourceRecord(source, this.successFloor.window);
    const below = ended >= this.successFloor.window && delivered / ended < this.successFloor.minRate;
    this.floorCache.set(source, { at: now, below });
    return below;
  }

  // ── the operator's commands ─────────────────────────────────────────

  async add(input: NewSource): Promise<SourceRecord> {
    const name = checkName(input.name);
    if (!SOURCE_KINDS.includes(input.kind)) throw invalid(`Unknown source kind "${input.kind}": one of ${SOURCE_KINDS.join(', ')}.`);
    const cost = input.cost ?? 0;
    if (!Number.isSafeInteger(cost) || cost < 0) throw invalid('The cost must be a USD amount of at least 0.');
    const secret = input.secret ?? null;
    if (secret !== null && (secret.length < 8 || secret.length > 512 || /\s/.test(secret))) {
      throw invalid('A token or key must be 8 to 512 characters with no spaces.');
    }
    const needs: Partial<Record<SourceKind, string>> = {
      twilio: '--auth-token',
      'android-gateway': '--signing-key',
      httpsms: '--signing-key',
      jasmin: '--token',
      generic: '--token',
      tempnumber: '--api-key',
    };
    if (needs[input.kind] && secret === null) throw invalid(`A ${input.kind} source needs ${needs[input.kind]}.`);
    const settings = input.settings ?? {};
    if (settings.cooldownMs !== undefined && (!Number.isInteger(settings.cooldownMs) || settings.cooldownMs < 0 || settings.cooldownMs > MAX_COOLDOWN_MS)) {
      throw invalid('The cool-down is a whole number of seconds from 0 to 7 days.');
    }
    if (settings.baseUrl !== undefined) {
      let url: URL;
      try {
        url = new URL(settings.baseUrl);
      } catch {
        throw invalid('--base-url must be an http(s) URL.');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('--base-url must be an http(s) URL.');
    }
    const record: SourceRecord = { name, kind: input.kind, secret, settings, cost, enabled: true, createdAt: this.options.clock.now() };
    await this.options.store.addSource(record);
    this.changed();
    return record;
  }

  async addPoolNumber(input: { phone: string; source: string; country: string; platforms: string[] | '*'; device: string | null; sim: number | null }): Promise<PoolNumber> {
    const source = (await this.records()).find((s) => s.name === input.source);
    if (!source) throw new TnError('not_found', `No source named "${input.source}": add it first with \`tn admin source add\`.`);
    if (!isGatewayKind(source.kind)) throw invalid(`Source "${source.name}" is ${source.kind}: only the operator's own gateways have a pool.`);
    if (source.kind === 'android-gateway' && input.device === null) {
      throw invalid('SMS Gateway for Android names its device and SIM slot, not the number: pass --device <id> (and --sim <slot> for a dual-SIM phone).');
    }
    if (input.sim !== null && (!Number.isInteger(input.sim) || input.sim < 1 || input.sim > 8)) throw invalid('--sim is a slot number from 1 to 8.');
    if (input.device !== null && !/^[\w.:-]{1,128}$/.test(input.device)) throw invalid('--device is the gateway\'s device id (letters, digits, . : _ -).');
    const platforms = input.platforms === '*' ? '*' : [...new Set(input.platforms.map((p) => requirePlatform(p).id))];
    const entry: PoolNumber = { ...input, platforms, addedAt: this.options.clock.now() };
    await this.options.store.addPoolNumber(entry);
    this.changed();
    return entry;
  }
}

/** Reads shared by the `offers` of one request. */
export interface OffersMemo {
  inUse?: Promise<{ source: string; platform: string; country: string; count: number }[]>;
  pool?: Promise<PoolNumber[]>;
  held?: Promise<{ phone: string; platform: string; releasedAt: number | null }[]>;
}

export interface NewSource {
  name: string;
  kind: SourceKind;
  secret?: string;
  cost?: Micros;
  settings?: SourceRecord['settings'];
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,39}$/.test(name)) {
    throw invalid('A source name is 1 to 40 lower-case letters, digits, - or _, starting with a letter or digit (it becomes part of the inbound URL).');
  }
  return name;
}

/** The upstream's price plus the operator's markup, rounded up to whole cents (tier discounts stay exact). */
export function markedUp(price: Micros, record: SourceRecord): Micros {
  const percent = record.settings.markupPercent ?? 0;
  const fixed = record.settings.markupMicros ?? 0;
  const raw = price + Math.ceil((price * percent) / 100) + fixed;
  return Math.ceil(raw / MICROS_PER_CENT) * MICROS_PER_CENT;
}

/**
 * Which active order on a number an inbound SMS is for. Only an order whose platform's code can
 * be read from the text, and (when the sender is a platform's name, as most senders are) only an
 * order of that platform, of the same company, or one the text names: a Telegram code must not
 * complete an Instagram order, and a carrier's "welcome" text completes nothing. Among those, the
 * one whose platform the text or the sender names (the text counts more); among equals, the newest.
 */
export function chooseOrder(candidates: readonly OrderRecord[], sender: string, text: string): OrderRecord | null {
  const from = words(sender);
  const body = words(text);
  const senderNames = new Set(PLATFORMS.filter((p) => namesOf(p).some((n) => from.includes(n))).flatMap((p) => SAME_SENDERS[p.id] ?? [p.id]));
  let best: OrderRecord | null = null;
  let bestScore = -1;
  // Newest first, so that a tie keeps the newest.
  const newestFirst = [...candidates].sort((a, b) => b.createdAt - a.createdAt);
  for (const order of newestFirst) {
    const platform = PLATFORMS.find((p) => p.id === order.platform);
    const names = platform ? namesOf(platform) : [];
    const inText = names.some((n) => body.includes(n));
    // A sender naming another platform rules an order out, unless the text names the order's own
    // (Meta sends Instagram codes as "Facebook").
    if (senderNames.size > 0 && !senderNames.has(order.platform) && !inText) continue;
    if (extractCode(text, { platform: order.platform }) === null) continue;
    // The text naming the platform outranks the sender (Meta sends for several of its own).
    const score = (inText ? 2 : 0) + (names.some((n) => from.includes(n)) ? 1 : 0);
    if (score > bestScore) {
      best = order;
      bestScore = score;
    }
  }
  return best;
}

/** Platforms whose codes come under one another's sender names. */
const META = ['facebook', 'instagram', 'whatsapp'];
const SAME_SENDERS: Record<string, readonly string[]> = { facebook: META, instagram: META, whatsapp: META };

/** Text as ` word word `, folded, so that names match whole words only. */
const words = (s: string): string => ` ${s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;

/** A platform's id, name and aliases as whole words; two-letter aliases (`go`, `li`) are too common in text to count. */
function namesOf(platform: Platform): string[] {
  return [platform.id, platform.name, ...platform.aliases].map((n) => words(n)).filter((n) => n.trim().length >= 3);
}
