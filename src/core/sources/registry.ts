/**
 * The sources an operator configured in the database (own gateways with a number pool, upstreams,
 * the simulator), read again only when the database changed, so that a change takes effect from
 * the next order without a restart. With no source configured, the built-in simulator serves.
 */
import type { CoreContext } from '../context.js';
import { TnError } from '../errors.js';
import { DEFAULT_POOL_COOLDOWN_MS } from '../limits.js';
import { MICROS_PER_CENT, type Micros } from '../money.js';
import { isGatewayKind, type GatewayKind, type UpstreamKind } from './kinds.js';
import type { SourceRecord } from './port.js';
import type { NumberSource, Upstream, UpstreamEndpoint, UpstreamFactory } from './providers.js';
import { takeToken } from './buckets.js';
import { timedUpstream } from './timed-upstream.js';

/** Skip a source whose last `window` ended orders had fewer than `minRate` delivered (a source with fewer ended orders is not judged). */
export interface SuccessFloor {
  window: number;
  minRate: number;
}
export const DEFAULT_SUCCESS_FLOOR: SuccessFloor = { window: 20, minRate: 0.2 };
/** An upstream's price list is fetched at most this often (TempNumber allows 3 calls a minute). */
export const PRICE_LIST_TTL_MS = 60_000;
/** How long a source's judgement against the success floor is reused. */
const FLOOR_MEMORY_MS = 1_000;

export type SimulatorSource = { role: 'simulator'; kind: 'simulator'; name: string; cost: Micros; enabled: boolean; numbers: NumberSource };
export type GatewaySource = { role: 'gateway'; kind: GatewayKind; name: string; cost: Micros; enabled: boolean; secret: string; cooldownMs: number };
export type UpstreamSource = { role: 'upstream'; kind: UpstreamKind; name: string; cost: Micros; enabled: boolean; upstream: Upstream; record: SourceRecord };
export type LiveSource = SimulatorSource | GatewaySource | UpstreamSource;

export interface RegistryOptions {
  /** Serve when the database names no source. */
  defaults: readonly NumberSource[];
  upstreams?: UpstreamFactory;
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

  constructor(
    private readonly ctx: CoreContext,
    private readonly options: RegistryOptions,
  ) {
    this.poolCooldownMs = options.poolCooldownMs ?? DEFAULT_POOL_COOLDOWN_MS;
    this.successFloor = options.successFloor ?? DEFAULT_SUCCESS_FLOOR;
  }

  /** The configured sources, read again only after a commit (this process's or another's). */
  async records(): Promise<SourceRecord[]> {
    const version = this.ctx.db.changeCounter();
    if (this.recordCache && this.recordCache.version === version) return this.recordCache.records;
    const records = await this.ctx.db.read.sources.list();
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
    if (records.length === 0) return this.options.defaults.map((numbers) => ({ role: 'simulator', kind: 'simulator', name: numbers.id, cost: 0, enabled: true, numbers }));
    return records.map((r) => this.live(r));
  }

  async byName(name: string): Promise<LiveSource | undefined> {
    return (await this.all()).find((s) => s.name === name);
  }

  /** The source of an order; `unavailable` when the operator removed it since. */
  async of(order: { id: string; source: string }): Promise<LiveSource> {
    const source = await this.byName(order.source);
    if (!source) throw new TnError('unavailable', `The source of order ${order.id} (${order.source}) is not configured any more.`);
    return source;
  }

  private live(r: SourceRecord): LiveSource {
    if (r.kind === 'simulator') {
      const numbers = this.options.defaults[0];
      if (!numbers) throw new TnError('unavailable', 'This broker has no simulator to serve the "simulator" source.');
      return { role: 'simulator', kind: 'simulator', name: r.name, cost: r.cost, enabled: r.enabled, numbers };
    }
    if (isGatewayKind(r.kind)) {
      return { role: 'gateway', kind: r.kind, name: r.name, cost: r.cost, enabled: r.enabled, secret: r.secret ?? '', cooldownMs: r.settings.cooldownMs ?? this.poolCooldownMs };
    }
    return { role: 'upstream', kind: r.kind, name: r.name, cost: r.cost, enabled: r.enabled, upstream: this.upstream(r), record: r };
  }

  private upstream(r: SourceRecord): Upstream {
    // A source removed and added again under the same name is another client.
    const identity = JSON.stringify([r.createdAt, r.secret, r.settings]);
    const known = this.upstreams.get(r.name);
    if (known && known.identity === identity) return known.upstream;
    if (!this.options.upstreams) throw new TnError('unavailable', `This broker cannot reach upstream sources (source "${r.name}").`);
    const client = this.options.upstreams(r, (endpoint, limit) =>
      this.ctx.db.transaction((tx) => takeToken(tx, `${r.name}:${endpoint}`, limit.max, limit.windowMs, this.ctx.now())),
    );
    const upstream = timedUpstream(client, r.name, this.ctx);
    this.upstreams.set(r.name, { identity, upstream });
    return upstream;
  }

  /**
   * An upstream's prices: from this process's memory, else the database (shared by short-lived
   * processes), else the upstream itself, at most once a minute; a stale list beats none.
   */
  async upstreamPrices(source: UpstreamSource): Promise<Map<string, Micros>> {
    const now = this.ctx.now();
    const mem = this.priceLists.get(source.name);
    if (mem && now - mem.at < PRICE_LIST_TTL_MS) return mem.prices;
    const stored = await this.ctx.db.read.cache.get(source.name, 'prices');
    if (stored && now - stored.fetchedAt < PRICE_LIST_TTL_MS) {
      const prices = new Map(JSON.parse(stored.value) as [string, Micros][]);
      this.priceLists.set(source.name, { at: stored.fetchedAt, prices });
      return prices;
    }
    try {
      const prices = await source.upstream.priceList();
      await this.ctx.db.transaction((tx) => tx.cache.put(source.name, 'prices', JSON.stringify([...prices]), now));
      this.priceLists.set(source.name, { at: now, prices });
      return prices;
    } catch (err) {
      await this.options.onUpstreamError?.(source.name, err, 'pricelist');
      return mem?.prices ?? (stored ? new Map(JSON.parse(stored.value) as [string, Micros][]) : new Map());
    }
  }

  /** Whether a source's recent record puts it below the success floor (read at most once a second per source). */
  async belowFloor(source: string): Promise<boolean> {
    const now = this.ctx.now();
    const known = this.floorCache.get(source);
    if (known && now - known.at < FLOOR_MEMORY_MS && now >= known.at) return known.below;
    const { ended, delivered } = await this.ctx.db.read.sources.record(source, this.successFloor.window);
    const below = ended >= this.successFloor.window && delivered / ended < this.successFloor.minRate;
    this.floorCache.set(source, { at: now, below });
    return below;
  }
}

/** The upstream's price plus the operator's markup, rounded up to whole cents (tier discounts stay exact). */
export function markedUp(price: Micros, record: Pick<SourceRecord, 'settings'>): Micros {
  const percent = record.settings.markupPercent ?? 0;
  const fixed = record.settings.markupMicros ?? 0;
  const raw = price + Math.ceil((price * percent) / 100) + fixed;
  return Math.ceil(raw / MICROS_PER_CENT) * MICROS_PER_CENT;
}
