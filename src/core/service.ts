import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AGENT_MAX_QUERY_LENGTH, parseAgentQuery } from './agent.js';
import type {
  AccountInfo,
  AgentAnswer,
  Availability,
  AvailabilityItem,
  BatchItemResult,
  BatchResult,
  OrderRequest,
  Registration,
  ServiceItem,
  ServicesList,
  Usage,
  VerifyRequest,
  WebhookInfo,
  DeliveryGuardState,
  OrderPage,
  OrderQuery,
  PriceItem,
  PriceList,
} from './broker.js';
import { PLATFORMS, requirePlatform, type Platform } from './catalogue/catalog.js';
import { systemClock, type Clock } from './clock.js';
import { countryName, requireCountry } from './catalogue/countries.js';
import { TnError, aboveLimit, insufficientBalance, invalid, isTnError, notFound } from './errors.js';
import { extractCode } from './extract.js';
import { accountId as newAccountId, hashApiKey, newApiKey, newWebhookSecret, orderId as newOrderId } from './ids.js';
import { MICROS_PER_CENT, discounted, formatUsd, toUsd, usdNumberToMicros, type Micros } from './money.js';
import { ORDER_STATUSES, ORDER_TTL_MS, orderNotActive, toOrderView, type Order, type OrderRecord, type OrderStatus } from './orders/order.js';
import type { AuditReport, GuardWindow, InboxEntry, OrderFact, OrderFilter, OutboxEvent, PlaceOrderInput, PlaceOrderResult, PoolNumber, SourceRecord, SourceStats, Store } from './ports.js';
import { nextTier, tierFor } from './accounts/tiers.js';
import { median, summariseUsage } from './accounts/usage.js';
import type { InboundReply, InboundRequest } from '../providers/inbound.js';
import { normalisePhone } from './phone.js';
import { FINAL_STATUSES, UpstreamError, type NumberSource, type UpstreamEndpoint } from '../providers/types.js';
import {
  SourceRegistry,
  DEFAULT_POLL_MS,
  chooseOrder,
  markedUp,
  type Candidate,
  type LiveSource,
  type NewSource,
  type OffersMemo,
  type SuccessFloor,
  type UpstreamFactory,
} from './sources.js';

export const VERIFY_TIMEOUT = { min: 30, max: 300, default: 120 } as const;
export const BATCH_MAX = 20;
/** For `country: any`, the countries most verifications expect, in order; then whichever has the most stock. */
const ANY_COUNTRY_PREFERENCE = ['us', 'gb', 'ca'];
/** How long `any` skips a country whose numbers ran out (a named country is always tried). */
const SOLD_OUT_MEMORY_MS = 1000;
/** How long a rotated-out webhook secret keeps signing. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;
/** Availability statistics look at this much history. */
const STATS_WINDOW_MS = 7 * 24 * 3600_000;
/** How often a waiting process looks for commits made by other processes (a cheap PRAGMA, no table read). */
const CROSS_PROCESS_POLL_MS = 100;

export interface CoreOptions {
  store: Store;
  /** The built-in sources (the simulator), serving every order while the database configures none. */
  sources: readonly NumberSource[];
  /** Builds the client of an upstream source (TempNumber) from its record. */
  upstreams?: UpstreamFactory;
  /** Per-endpoint limits of upstreams, enforced with buckets in the database. */
  upstreamLimits?: Record<UpstreamEndpoint, { max: number; windowMs: number }>;
  poolCooldownMs?: number;
  successFloor?: SuccessFloor;
  clock?: Clock;
  orderTtlMs?: number;
  /** Shown by `register` and `account`; an operator fills it in, the sandbox has none. */
  depositAddresses?: Record<string, string>;
  /** The delivery-rate guard (TempNumber's 7% rule); `false` turns it off. */
  deliveryGuard?: DeliveryGuard | false;
}

/**
 * From the `minOrders`-th order of one account for one platform in one country within `windowMs`,
 * if fewer than `minRate` of the ended ones received an SMS, further orders there are refused
 * until the window moves on: it keeps a pool of numbers from being burned.
 */
export interface DeliveryGuard {
  minOrders: number;
  minRate: number;
  windowMs: number;
}

export const DEFAULT_DELIVERY_GUARD: DeliveryGuard = { minOrders: 5, minRate: 0.07, windowMs: 24 * 3600_000 };

/** A source as `tn admin sources` shows it. */
export interface SourceOverview extends SourceStats {
  kind: string;
  enabled: boolean;
  belowFloor: boolean;
  /** An upstream's balance, when asked for and known. */
  upstreamBalance: Micros | null;
}

/** Something the operator should act on: an upstream out of money, refusing our key, and the like. */
export interface SourceAlert {
  source: string;
  code: string;
  message: string;
}

/** A cost in whole cents, rounded up: the lowest price that does not sell below it. */
const atLeastCents = (cost: Micros): Micros => Math.ceil(cost / MICROS_PER_CENT) * MICROS_PER_CENT;

/** TempNumber's own delivery rule: from the 5th activation of a service in a country in 24 h, 7% must get an SMS. */
const UPSTREAM_DELIVERY_RULE: DeliveryGuard = { minOrders: 5, minRate: 0.07, windowMs: 24 * 3600_000 };
/** How long a source that answered "out of money" or "refused" is left out of routing. */
const SOURCE_PAUSE_MS = 60_000;
/** How long an upstream endpoint rests after a 429 that named no Retry-After. */
const UPSTREAM_BACKOFF_MS = 10_000;
/** A poll holds its due time this long, longer than its HTTP call may take. */
const POLL_LEASE_MS = 20_000;
/** How soon to look again at work that is due but taken (a poll in flight). */
const BUSY_RECHECK_MS = 100;
/** How far a gateway's clock may be off ours when telling whether a message came after an order. */
const INBOUND_CLOCK_SKEW_MS = 60_000;
/** Refused inbound requests are recorded for the operator at most this often per source. */
const INBOUND_COMPLAINT_GAP_MS = 5_000;

/** What changed, for anyone listening in-process (waits now; streams and webhooks later). */
export interface OrderEvent {
  type: 'order.created' | 'sms.received' | 'order.ended' | 'order.retried';
  order: OrderRecord;
}

/** Waits on one order: `version` moves on every change, so a waiter can tell whether it missed one. */
interface Watch {
  version: number;
  wakers: Set<() => void>;
  refs: number;
}

/** What a caller may set on an order beyond the API's parameters. */
export interface OrderLimits {
  /** Refuse, inside the order's transaction, if the price (after the tier discount) is above this. */
  maxPrice?: Micros;
}

export interface WaitSettings {
  timeoutMs?: number;
  /** Stop waiting; a verify then cancels its order with a refund (the caller gave up). */
  signal?: AbortSignal;
  /** Stop waiting and answer with the order as it is, leaving it active (the server is shutting down). */
  release?: AbortSignal;
}

export interface VerifyControl {
  signal?: AbortSignal;
  release?: AbortSignal;
  /** Called once the number is assigned, before the code arrives. */
  onOrder?: (order: Order) => void;
}

/**
 * The broker's rules, for every account: prices and tiers, the order life cycle, waiting, expiry,
 * refunds. Each surface (the embedded broker of the CLI, the HTTP server) calls these methods with
 * an authenticated account id; none of them repeats a rule.
 */
export class BrokerCore {
  /** `order`: every order change, in-process; `outbox`: every webhook event, once committed. */
  readonly events = new EventEmitter<{ order: [OrderEvent]; outbox: [OutboxEvent]; alert: [SourceAlert] }>();
  readonly store: Store;
  readonly registry: SourceRegistry;
  private readonly clock: Clock;
  private readonly orderTtlMs: number;
  private readonly depositAddresses: Record<string, string>;
  private readonly guard: DeliveryGuard | null;
  private readonly watched = new Map<string, Watch>();
  private readonly keyCache = new Map<string, string>();
  private readonly soldOut = new Map<string, number>();
  private dueRun: Promise<void> | null = null;
  /** When a refused inbound request was last recorded, per source. */
  private readonly inboundComplaints = new Map<string, number>();
  /** Orders being placed with an idempotency key in this process, by account and key. */
  private readonly placing = new Map<string, Promise<PlaceOrderResult>>();
  /** Upstream polls in flight in this process, by order. */
  private readonly polling = new Map<string, Promise<void>>();
  /** Tells the scheduler that a due time moved earlier than it may be sleeping for. */
  private readonly dueMoved = new EventEmitter<{ due: [] }>();
  private schedulerRunning = false;
  private watcher: { timer: NodeJS.Timeout; version: number; users: number } | null = null;

  constructor(options: CoreOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.registry = new SourceRegistry({
      store: options.store,
      clock: this.clock,
      defaults: options.sources,
      upstreams: options.upstreams,
      limits: options.upstreamLimits,
      poolCooldownMs: options.poolCooldownMs,
      successFloor: options.successFloor,
      onUpstreamError: (source, err, endpoint) =>
        this.upstreamFailed(source, err instanceof UpstreamError ? err : new UpstreamError('unavailable', err instanceof Error ? err.message : String(err)), endpoint, this.now()),
    });
    this.orderTtlMs = options.orderTtlMs ?? ORDER_TTL_MS;
    this.depositAddresses = options.depositAddresses ?? {};
    this.guard = options.deliveryGuard === false ? null : (options.deliveryGuard ?? DEFAULT_DELIVERY_GUARD);
    this.events.setMaxListeners(0);
    this.store.onEvents((events) => {
      for (const event of events) this.events.emit('outbox', event);
    });
  }

  now(): number {
    return this.clock.now();
  }

  // ── accounts ──────────────────────────────────────────────────────────

  async authenticate(apiKey: unknown): Promise<string> {
    if (typeof apiKey !== 'string' || apiKey === '') {
      throw new TnError('unauthorized', 'No API key: pass one with `Authorization: Bearer <key>` (or run `tn login`).');
    }
    const hash = hashApiKey(apiKey);
    const cached = this.keyCache.get(hash);
    if (cached) return cached;
    const id = await this.store.accountIdByKeyHash(hash);
    if (!id) throw new TnError('unauthorized', 'Invalid API key.');
    // Keys never change owner, so a hit stays true; the bound keeps memory flat under many keys.
    if (this.keyCache.size >= 10_000) this.keyCache.clear();
    this.keyCache.set(hash, id);
    return id;
  }

  /** The account of a key already seen by this process, without a query; undefined otherwise. */
  knownKey(apiKey: unknown): string | undefined {
    return typeof apiKey === 'string' && apiKey !== '' ? this.keyCache.get(hashApiKey(apiKey)) : undefined;
  }

  async register(options: { credit?: Micros; sandbox?: boolean; note?: string } = {}): Promise<Registration> {
    const now = this.now();
    const apiKey = newApiKey();
    const webhookSecret = newWebhookSecret();
    const id = newAccountId(now);
    await this.store.createAccount({
      id,
      keyHash: hashApiKey(apiKey),
      webhookSecret,
      createdAt: now,
      credit: options.credit ?? 0,
      creditNote: options.note ?? 'initial credit',
      sandbox: options.sandbox ?? false,
    });
    return {
      api_key: apiKey,
      account_id: id,
      balance: toUsd(options.credit ?? 0),
      tier: tierFor(0).name,
      deposit_addresses: this.depositAddresses,
      webhook_secret: webhookSecret,
    };
  }

  /** Adds money by account id or API key (the operator's `tn admin credit`). */
  async credit(accountOrKey: string, amount: Micros, note = 'operator credit'): Promise<{ account_id: string; balance: number }> {
    if (!Number.isSafeInteger(amount) || amount <= 0) throw invalid('The amount must be a positive number of USD.');
    const id = accountOrKey.startsWith('vn_')
      ? await this.store.accountIdByKeyHash(hashApiKey(accountOrKey))
      : (await this.store.getAccount(accountOrKey))?.id;
    if (!id) throw notFound(`Account ${accountOrKey.startsWith('vn_') ? 'for that API key' : accountOrKey}`);
    const balance = await this.store.credit(id, amount, 'deposit', note, this.now());
    return { account_id: id, balance: toUsd(balance) };
  }

  async account(accountId: string): Promise<AccountInfo> {
    await this.catchUp();
    const account = await this.requireAccount(accountId);
    const facts = await this.store.orderFacts({ since: 0, accountId });
    const completed = facts.filter((f) => f.status === 'completed').length;
    const tier = tierFor(completed);
    const count = (status: OrderFact['status']): number => facts.filter((f) => f.status === status).length;
    const recent = await this.store.recentOrders(accountId, 10);
    return {
      account_id: account.id,
      balance: toUsd(account.balance),
      tier: tier.name,
      discount_percent: tier.discountPercent,
      completed_orders: completed,
      next_tier: nextTier(completed),
      stats: {
        orders: facts.length,
        completed,
        cancelled: count('cancelled'),
        expired: count('expired'),
        failed: count('failed'),
        spent: toUsd(facts.reduce((sum, f) => sum + (f.refunded ? 0 : f.price), 0)),
      },
      deposit_addresses: this.depositAddresses,
      webhook: account.webhookUrl ? { url: account.webhookUrl } : null,
      recent_orders: recent.map(toOrderView),
      sandbox: account.sandbox,
      delivery_guards: await this.deliveryGuards(accountId),
    };
  }

  async usage(accountId: string, days: unknown = 30): Promise<Usage> {
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 365) {
      throw invalid('Parameter "days" must be a whole number from 1 to 365.');
    }
    await this.catchUp();
    await this.requireAccount(accountId);
    const now = this.now();
    const firstDay = startOfUtcDay(now) - (days - 1) * 86_400_000;
    return summariseUsage(await this.store.orderFacts({ since: firstDay, accountId }), days, firstDay);
  }

  // ── catalogue ─────────────────────────────────────────────────────────

  async services(accountId?: string): Promise<ServicesList> {
    const discount = accountId ? await this.discountPercent(accountId) : null;
    return {
      service: 'Telenumerus',
      total_platforms: PLATFORMS.length,
      services: PLATFORMS.map((p): ServiceItem => {
        const item: ServiceItem = { platform: p.id, name: p.name, price: toUsd(p.price) };
        if (discount !== null) item.your_price = toUsd(discounted(p.price, discount));
        return item;
      }),
    };
  }

  async availability(): Promise<Availability> {
    await this.catchUp();
    const now = this.now();
    const facts = await this.store.orderFacts({ since: now - STATS_WINDOW_MS });
    const platforms: AvailabilityItem[] = [];
    const memo: OffersMemo = {};
    for (const p of PLATFORMS) {
      const stock = (await this.registry.offers(p, 'any', now, { memo })).reduce((sum, o) => sum + o.stock, 0);
      const mine = facts.filter((f) => f.platform === p.id);
      const ended = mine.filter((f) => f.status !== 'active');
      const delivered = mine.filter((f) => f.firstSmsAt !== null);
      platforms.push({
        platform: p.id,
        success_rate: ended.length ? round(ended.filter((f) => f.firstSmsAt !== null).length / ended.length, 3) : null,
        stock,
        median_delivery_seconds: delivered.length ? round(median(delivered.map((f) => (f.firstSmsAt! - f.createdAt) / 1000)), 1) : null,
      });
    }
    return { platforms };
  }

  // ── price lists and history ──────────────────────────────────────────

  async prices(accountId: string | undefined, query: { by?: unknown; platform?: unknown; country?: unknown }): Promise<PriceList> {
    const discount = accountId ? await this.discountPercent(accountId) : 0;
    const table = await this.priceTable();
    const now = this.now();
    // The price shown is the one the first route would charge; the stock, all sources' together.
    const memo: OffersMemo = {};
    const items = async (platform: Platform, country: string | 'any'): Promise<PriceItem[]> => {
      const offers = await this.route(platform, country, now, { all: true, memo });
      const countries = country === 'any'
        ? new Set([...offers.map((o) => o.country), ...[...table.keys()].filter((k) => k.startsWith(`${platform.id}/`)).map((k) => k.split('/')[1]!)])
        : new Set([country]);
      countries.delete('*');
      return [...countries].sort().map((c) => {
        const here = offers.filter((o) => o.country === c);
        const first = here.find((o) => o.stock > 0) ?? here[0];
        const price = first?.listPrice ?? this.listPrice(table, platform, c);
        const stock = here.reduce((sum, o) => sum + o.stock, 0);
        return { platform: platform.id, country: c, price: toUsd(price), your_price: toUsd(discounted(price, discount)), stock };
      });
    };
    if (query.by === 'country') {
      const platform = requirePlatform(query.platform);
      return { by: 'country', platform: platform.id, items: await items(platform, 'any') };
    }
    if (query.by === 'service') {
      const country = requireCountry(query.country);
      if (country === 'any') throw invalid('Parameter "country" must name a country for by=service.');
      const list: PriceItem[] = [];
      for (const p of PLATFORMS) list.push(...(await items(p, country)));
      return { by: 'service', country, items: list };
    }
    throw invalid('Parameter "by" must be "country" (with "platform") or "service" (with "country").');
  }

  async orders(accountId: string, query: OrderQuery = {}): Promise<OrderPage> {
    const page = query.page ?? 1;
    const limit = query.limit ?? 20;
    if (!Number.isInteger(page) || page < 1 || page > 1_000_000) throw invalid('Parameter "page" must be a whole number of at least 1.');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('Parameter "limit" must be a whole number from 1 to 100.');
    if (query.status !== undefined && !ORDER_STATUSES.includes(query.status as OrderStatus)) {
      throw invalid(`Parameter "status" must be one of ${ORDER_STATUSES.join(', ')}.`);
    }
    const filter: OrderFilter = {
      status: query.status as OrderStatus | undefined,
      platform: query.platform === undefined ? undefined : requirePlatform(query.platform).id,
      country: query.country === undefined ? undefined : requireCountry(query.country),
      since: query.since === undefined ? undefined : parseInstant(query.since, 'since'),
      until: query.until === undefined ? undefined : parseInstant(query.until, 'until'),
    };
    if (filter.country === 'any') filter.country = undefined;
    await this.catchUp();
    const { orders, total } = await this.store.listOrders(accountId, filter, limit, (page - 1) * limit);
    return { orders: orders.map(toOrderView), page, limit, pages: Math.ceil(total / limit), total };
  }

  /** The operator's price for a platform in a country (`*`: every country), or null to fall back to the catalogue. */
  async setPrice(platform: unknown, country: unknown, price: Micros | null): Promise<{ platform: string; country: string; price: number | null }> {
    const p = requirePlatform(platform);
    const c = country === '*' ? '*' : requireCountry(country);
    if (c === 'any') throw invalid('Name a country, or * for every country.');
    if (price !== null && (!Number.isSafeInteger(price) || price < 0 || price % MICROS_PER_CENT !== 0)) {
      throw invalid('Prices are whole cents, so that tier discounts stay exact.');
    }
    await this.store.setPrice(p.id, c, price);
    return { platform: p.id, country: c, price: price === null ? null : toUsd(price) };
  }

  async priceOverrides(): Promise<{ platform: string; country: string; price: number }[]> {
    return (await this.store.priceOverrides()).map((p) => ({ ...p, price: toUsd(p.price) }));
  }

  /** Where the delivery-rate guard refuses this account's orders right now. */
  async deliveryGuards(accountId: string): Promise<DeliveryGuardState[]> {
    const guard = this.guard;
    if (!guard) return [];
    const now = this.now();
    const recent = (await this.store.orderFacts({ since: now - guard.windowMs, accountId })).map((f) => `${f.platform}/${f.country}`);
    const states: DeliveryGuardState[] = [];
    for (const key of new Set(recent)) {
      const [platform, country] = key.split('/') as [string, string];
      const verdict = judgeDeliveryRate(guard, this.store.guardWindow(accountId, platform, country, now - guard.windowMs), now);
      if (verdict) states.push({ platform, country, ended: verdict.ended, delivered: verdict.delivered, lifts_at: verdict.liftsAt });
    }
    return states;
  }

  // ── orders ────────────────────────────────────────────────────────────

  async order(accountId: string, request: OrderRequest, limits: OrderLimits = {}): Promise<Order> {
    const { order, replayed } = await this.place(accountId, request, 'order', limits);
    return replayed ?? toOrderView(order!);
  }

  async getOrder(accountId: string, orderId: unknown): Promise<Order> {
    const rec = await this.ownOrder(accountId, orderId);
    // A read carries out what is due for this order (API.md §3), and costs nothing more otherwise.
    if (!this.isDue(rec)) return toOrderView(rec);
    await this.processDue();
    // Its own upstream poll, if one started, is part of this read; others' polls run on.
    await this.polling.get(rec.id);
    return toOrderView((await this.store.getOrder(rec.id))!);
  }

  async cancel(accountId: string, orderId: unknown): Promise<Order> {
    await this.catchUp();
    const rec = await this.ownOrder(accountId, orderId);
    const ended = await this.store.endOrder(rec.id, 'cancelled', this.now());
    if (!ended) throw orderNotActive((await this.store.getOrder(rec.id))!, 'cancelled');
    this.publish('order.ended', ended);
    return toOrderView(ended);
  }

  async retry(accountId: string, orderId: unknown): Promise<Order> {
    await this.catchUp();
    const rec = await this.ownOrder(accountId, orderId);
    if (rec.status !== 'completed') throw orderNotActive(rec, 'retried (only a completed order can wait for another code)');
    const now = this.now();
    const source = await this.sourceOf(rec);
    let dueAt: number | null = null;
    if (source.kind === 'simulator') {
      const delay = source.numbers.planDelivery('retry');
      dueAt = delay === null ? null : now + delay;
    } else if (source.kind === 'tempnumber') {
      if (rec.expiresAt <= now) throw new TnError('order_not_active', `Order ${rec.id} reached its expiry at ${new Date(rec.expiresAt).toISOString()}: order a new number.`);
      dueAt = await this.retryUpstream(source, rec, now);
    }
    const retried = await this.store.retryOrder(rec.id, now, dueAt);
    if (!retried) {
      const current = (await this.store.getOrder(rec.id))!;
      throw current.status === 'completed'
        ? new TnError('order_not_active', `Order ${rec.id} reached its expiry at ${new Date(rec.expiresAt).toISOString()}: order a new number.`)
        : orderNotActive(current, 'retried');
    }
    this.publish('order.retried', retried);
    return toOrderView(retried);
  }

  /** Waits until the order leaves `active` (or the time is up) and returns it as it then is. */
  async wait(accountId: string, orderId: unknown, settings: WaitSettings = {}): Promise<Order> {
    const rec = await this.ownOrder(accountId, orderId);
    return toOrderView(await this.waitForEnd(rec.id, settings));
  }

  /** Order, wait for the code; if the time runs out first the order is expired early and refunded. */
  async verify(
    accountId: string,
    request: VerifyRequest,
    options: VerifyControl = {},
  ): Promise<Order> {
    const timeoutSeconds = request.timeoutSeconds ?? VERIFY_TIMEOUT.default;
    if (
      typeof timeoutSeconds !== 'number' ||
      !Number.isInteger(timeoutSeconds) ||
      timeoutSeconds < VERIFY_TIMEOUT.min ||
      timeoutSeconds > VERIFY_TIMEOUT.max
    ) {
      throw invalid(`Parameter "timeout_seconds" must be a whole number from ${VERIFY_TIMEOUT.min} to ${VERIFY_TIMEOUT.max}.`);
    }
    return this.verifyWithin(accountId, request, timeoutSeconds * 1000, options);
  }

  /** `verify` without the API's bounds on the timeout: for the embedded broker's own callers and tests. */
  async verifyWithin(
    accountId: string,
    request: OrderRequest,
    timeoutMs: number,
    options: VerifyControl & OrderLimits = {},
  ): Promise<Order> {
    const placed = await this.place(accountId, request, 'verify', options);
    const id = placed.order?.id ?? placed.replayedId!;
    const started = (await this.store.getOrder(id))!;
    options.onOrder?.(toOrderView(started));
    const settled = await this.waitForEnd(id, { timeoutMs, signal: options.signal, release: options.release });
    if (settled.status !== 'active') return toOrderView(settled);
    if (options.release?.aborted && !options.signal?.aborted) return toOrderView(settled);
    // A poll of this order still in flight may be bringing the code: its answer comes first (and
    // if it completes the order, the conditional end below finds it so).
    await this.polling.get(id);
    const outcome = options.signal?.aborted ? 'cancelled' : 'expired';
    const ended = await this.store.endOrder(id, outcome, this.now());
    if (ended) {
      this.publish('order.ended', ended);
      return toOrderView(ended);
    }
    // An SMS won the race against the timeout: the order completed, and that is the answer.
    return toOrderView((await this.store.getOrder(id))!);
  }

  async batch(accountId: string, items: unknown, limits: OrderLimits = {}): Promise<BatchResult> {
    if (!Array.isArray(items)) throw invalid('Parameter "orders" must be an array of { platform, country? }.');
    if (items.length < 1 || items.length > BATCH_MAX) {
      throw new TnError('batch_too_large', `A batch holds 1 to ${BATCH_MAX} orders; this one has ${items.length}.`);
    }
    await this.requireAccount(accountId);
    const results: BatchItemResult[] = [];
    let total = 0;
    // One after another, so that a short balance fills the first items and refuses the rest, in order.
    for (const item of items) {
      try {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid('Each batch item must be an object { platform, country? }.');
        const order = await this.order(accountId, item as OrderRequest, limits);
        total += Math.round(order.price * 1_000_000);
        results.push({ ok: true, order });
      } catch (err) {
        if (!isTnError(err)) throw err;
        results.push({ ok: false, error: { code: err.code, message: err.message } });
      }
    }
    return { results, total_price: toUsd(total) };
  }

  // ── agent ─────────────────────────────────────────────────────────────

  async agent(accountId: string, query: unknown, control: { release?: AbortSignal; signal?: AbortSignal } = {}): Promise<AgentAnswer> {
    if (typeof query !== 'string' || query.trim() === '') throw invalid('Parameter "query" must be a non-empty string.');
    if (query.length > AGENT_MAX_QUERY_LENGTH) throw invalid(`Parameter "query" is longer than ${AGENT_MAX_QUERY_LENGTH} characters.`);
    const parsed = parseAgentQuery(query);
    if (!parsed.understood) return { understood: false, message: parsed.message, suggestions: parsed.suggestions };
    const { intent, interpretation } = parsed;
    const base = { understood: true, intent, interpretation };
    const where = interpretation.country ? ` in ${countryName(interpretation.country) ?? interpretation.country.toUpperCase()}` : '';

    if (intent === 'balance') {
      const account = await this.account(accountId);
      return { ...base, message: `Your balance is ${formatUsd(Math.round(account.balance * 1e6))} (${account.tier} tier).`, balance: account.balance };
    }
    if (intent === 'prices') {
      const { services } = await this.services(accountId);
      const prices = interpretation.platform ? services.filter((s) => s.platform === interpretation.platform) : services;
      const message =
        prices.length === 1
          ? `${prices[0]!.name} costs ${formatUsd(Math.round(prices[0]!.your_price! * 1e6))} per number${where} for you (list price ${formatUsd(Math.round(prices[0]!.price * 1e6))}).` +
            (interpretation.country &&
            !(await this.registry.offers(requirePlatform(prices[0]!.platform), interpretation.country, this.now())).some((o) => o.stock > 0)
              ? ` There is no stock${where} right now.`
              : '')
          : `${prices.length} platforms; prices are per number, after your tier discount.`;
      return { ...base, message, prices };
    }
    if (intent === 'availability') {
      const all = (await this.availability()).platforms;
      const items = interpretation.platform ? all.filter((a) => a.platform === interpretation.platform) : all;
      const inStock = items.filter((a) => a.stock > 0).length;
      return {
        ...base,
        message: interpretation.platform
          ? `${interpretation.platform}: ${items[0]!.stock} numbers in stock.`
          : `${inStock} of ${items.length} platforms have numbers in stock.`,
        availability: items,
      };
    }

    const platform = requirePlatform(interpretation.platform);
    const table = await this.priceTable();
    const country = interpretation.country;
    const listPrice = country ? this.listPrice(table, platform, country) : (table.get(`${platform.id}/*`) ?? platform.price);
    const price = discounted(listPrice, await this.discountPercent(accountId));
    // A first answer for the common case; the order's own transaction enforces the limit for any country.
    if (parsed.maxPriceMicros !== undefined && price > parsed.maxPriceMicros) {
      return {
        ...base,
        message: `${platform.name} costs ${formatUsd(price)}, above your limit of ${formatUsd(parsed.maxPriceMicros)}: nothing was ordered.`,
        orders: [],
      };
    }
    const quantity = interpretation.quantity ?? 1;
    const request = { platform: platform.id, country: interpretation.country };
    if (intent === 'verify' && quantity === 1) {
      const order = await this.verifyWithin(accountId, request, VERIFY_TIMEOUT.default * 1000, { ...control, maxPrice: parsed.maxPriceMicros });
      return {
        ...base,
        message: order.code ? `Code ${order.code} for ${platform.name} on ${order.phone}.` : `No code arrived for ${platform.name}; the order was ${order.status} and refunded.`,
        orders: [order],
      };
    }
    const { results } = await this.batch(
      accountId,
      Array.from({ length: quantity }, () => request),
      { maxPrice: parsed.maxPriceMicros },
    );
    const orders = results.flatMap((r) => (r.ok ? [r.order] : []));
    const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
    return {
      ...base,
      message:
        `Ordered ${orders.length} of ${quantity} ${platform.name} number${quantity === 1 ? '' : 's'}${where}` +
        (orders.length ? `: ${orders.map((o) => o.phone).join(', ')}.` : '.') +
        (errors.length ? ` ${errors[0]!.message}` : ''),
      orders,
      ...(errors.length ? { errors } : {}),
    };
  }

  // ── due work: scheduled SMS and expiry ─────────────────────────────────

  /**
   * Carries out whatever has fallen due (an SMS, an expiry), in due-time order. Any live process
   * may do it; the store's conditional updates make sure each thing happens once.
   */
  processDue(): Promise<void> {
    this.dueRun ??= this.runDue().finally(() => {
      this.dueRun = null;
    });
    return this.dueRun;
  }

  /**
   * Due work before acting, for processes without a scheduler (the CLI's short-lived ones). With
   * a scheduler running, due work happens at its due time anyway, and doing it again on every
   * request would put a commit in front of each one.
   */
  private catchUp(): Promise<void> {
    return this.schedulerRunning ? Promise.resolve() : this.processDue();
  }

  private async runDue(): Promise<void> {
    for (;;) {
      const { deliveries, expiries } = await this.store.dueWork(this.now(), 500);
      // All at once, so the store commits them together (one fsync for a whole backlog).
      const delivered = deliveries.map(async (due) => {
        const source = await this.registry.byName(due.source).catch(() => undefined);
        if (source?.kind === 'tempnumber') return this.startPoll(source, due);
        let sms;
        try {
          if (source?.kind !== 'simulator') throw new Error(`source ${due.source} has no scheduled SMS`);
          sms = source.numbers.composeSms(due.platform);
        } catch {
          // No SMS can come from here: drop the delivery, and the order expires (with its refund) on time.
          await this.store.dropDelivery(due.orderId, due.dueAt);
          return;
        }
        const outcome = await this.store.recordSms({
          orderId: due.orderId,
          text: sms.text,
          code: extractCode(sms.text, { platform: due.platform })?.code ?? null,
          sender: sms.sender,
          receivedAt: due.dueAt,
          dueAt: due.dueAt,
        });
        if (outcome.accepted) this.publish('sms.received', outcome.order);
      });
      const expired = expiries.map(async (due) => {
        const ended = await this.store.endOrder(due.orderId, 'expired', due.expiresAt);
        if (ended) this.publish('order.ended', ended);
      });
      await Promise.all([...delivered, ...expired]);
      if (deliveries.length < 500 && expiries.length < 500) return;
    }
  }

  /**
   * For long-running processes (`tn serve`): carries out due work at its due time until `signal`
   * aborts. It sleeps until the next due time, at most `maxSleepMs` (which also picks up work
   * other processes wrote), and wakes early when a new order brings an earlier due time.
   */
  async runScheduler(signal: AbortSignal, options: { maxSleepMs?: number; onError?: (err: unknown) => void } = {}): Promise<void> {
    const maxSleep = options.maxSleepMs ?? 2000;
    this.schedulerRunning = true;
    signal.addEventListener('abort', () => (this.schedulerRunning = false), { once: true });
    while (!signal.aborted) {
      let next: number | null = null;
      const passAt = this.now();
      try {
        await this.processDue();
        next = await this.nextDueAt();
      } catch (err) {
        options.onError?.(err);
      }
      const ms = next === null ? maxSleep : Math.min(maxSleep, this.sleepBefore(next, passAt));
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.events.off('order', onOrder);
          this.dueMoved.off('due', done);
          resolve();
        };
        const onOrder = (e: OrderEvent): void => {
          if (e.type === 'order.created' || e.type === 'order.retried') done();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        this.events.on('order', onOrder);
        this.dueMoved.on('due', done);
      });
    }
  }

  /** When the next thing falls due, so a long-running process can sleep until then. */
  nextDueAt(): Promise<number | null> {
    return this.store.nextDueAt();
  }

  // ── webhook settings (delivery comes with the outbox) ────────────────

  async setWebhook(accountId: string, url: unknown, lowBalanceThreshold?: unknown): Promise<{ url: string; secret: string }> {
    const checked = checkWebhookUrl(url);
    let threshold: Micros | undefined;
    if (lowBalanceThreshold !== undefined) {
      threshold = typeof lowBalanceThreshold === 'number' ? (usdNumberToMicros(lowBalanceThreshold) ?? undefined) : undefined;
      if (threshold === undefined) throw invalid('Parameter "low_balance_threshold" must be a USD amount of at least 0.');
    }
    await this.requireAccount(accountId);
    await this.store.setWebhook(accountId, checked, this.now(), threshold);
    const settings = (await this.store.webhookSettings(accountId))!;
    return { url: checked, secret: settings.secret };
  }

  async webhook(accountId: string): Promise<WebhookInfo> {
    const settings = await this.store.webhookSettings(accountId);
    if (!settings) throw new TnError('unauthorized', 'Unknown account.');
    const now = this.now();
    const overlap = settings.previousUntil !== null && settings.previousUntil > now;
    return {
      url: settings.url,
      secret: settings.secret,
      previous_secret_expires_at: overlap ? new Date(settings.previousUntil!).toISOString() : null,
      disabled: settings.disabledAt === null ? null : { at: new Date(settings.disabledAt).toISOString(), reason: settings.disabledReason ?? '' },
      low_balance_threshold: toUsd(settings.lowBalanceThreshold),
      recent_deliveries: (await this.store.recentAttempts(accountId, 20)).map((a) => ({
        webhook_id: a.webhookId,
        type: a.type,
        attempted_at: new Date(a.at).toISOString(),
        attempt: a.attempt,
        status_code: a.statusCode,
        error: a.error,
        state: a.state,
      })),
    };
  }

  /** The secrets that sign a delivery now: the current one, and the previous one during its overlap. */
  async signingSecrets(accountId: string): Promise<string[]> {
    const settings = await this.store.webhookSettings(accountId);
    if (!settings) return [];
    const overlap = settings.previousSecret !== null && settings.previousUntil !== null && settings.previousUntil > this.now();
    return overlap ? [settings.secret, settings.previousSecret!] : [settings.secret];
  }

  async removeWebhook(accountId: string): Promise<void> {
    await this.requireAccount(accountId);
    await this.store.setWebhook(accountId, null, this.now());
  }

  /** Queues a signed `webhook.test` event for the account's URL, delivered at once. */
  async testWebhook(accountId: string): Promise<{ webhook_id: string; type: string }> {
    const settings = await this.store.webhookSettings(accountId);
    if (!settings) throw new TnError('unauthorized', 'Unknown account.');
    if (!settings.url) throw invalid('No webhook URL is set: `tn webhook set <url>` first.');
    const event = await this.store.emitEvent(accountId, 'webhook.test', { account_id: accountId, message: 'A test event from tn.' }, this.now());
    return { webhook_id: event.msgId, type: event.type };
  }

  /** A new secret; the old one keeps signing for 24 h so receivers can switch without losing events. */
  async rotateWebhookSecret(accountId: string): Promise<{ secret: string; previous_secret_expires_at: string }> {
    await this.requireAccount(accountId);
    const until = this.now() + SECRET_OVERLAP_MS;
    const secret = newWebhookSecret();
    await this.store.rotateWebhookSecret(accountId, secret, until);
    return { secret, previous_secret_expires_at: new Date(until).toISOString() };
  }

  /**
   * Where a stream resumes: the outbox position of the event a client saw last (its `msg_…` id, as
   * sent in the stream's `id:` lines); undefined when none is given or it is not this account's.
   */
  async eventPosition(accountId: string, lastEventId: string | undefined): Promise<number | undefined> {
    if (lastEventId === undefined || !/^msg_[0-9A-Z]{26}$/.test(lastEventId)) return undefined;
    return (await this.store.eventPosition(accountId, lastEventId)) ?? undefined;
  }

  /** Outbox events of the account after `afterId`, oldest first: for streams resuming with Last-Event-ID. */
  async eventsAfter(accountId: string, afterId: number, limit = 1000): Promise<OutboxEvent[]> {
    return this.store.eventsAfter(accountId, afterId, limit);
  }

  /** Throws `unavailable` when the database cannot be read. */
  async ping(): Promise<void> {
    try {
      await this.store.ping();
    } catch (err) {
      throw new TnError('unavailable', `The database cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async audit(): Promise<AuditReport> {
    return this.store.audit();
  }

  async close(): Promise<void> {
    // A poll in flight finishes (its HTTP call is bounded) before the database closes under it.
    await Promise.allSettled([...this.polling.values()]);
    if (this.watcher) clearInterval(this.watcher.timer);
    this.watcher = null;
    await this.store.close();
  }

  // ── sources: inbound messages, upstream activations, the operator's commands ──

  /**
   * A message from one of the operator's gateways: authenticated and parsed by the source's format,
   * stored once (a repeated gateway message id changes nothing), and given to the active order on
   * the receiving number. Answers what the gateway expects to hear.
   */
  async inbound(sourceName: string, request: Omit<InboundRequest, 'now'>): Promise<InboundReply> {
    const source = await this.registry.byName(sourceName);
    if (!source || source.kind === 'simulator' || source.kind === 'tempnumber') throw notFound(`Inbound source "${sourceName}"`);
    const now = this.now();
    // The parsers are loaded by the first inbound message, not by every command that opens the core.
    const { parseInbound } = await import('../providers/inbound.js');
    const parsed = parseInbound(source.kind, source.secret, { ...request, now });
    if (!parsed.ok) {
      // Why is not told to whoever sent it, but the operator sees it in `tn admin sources`: at most
      // once in a few seconds per source, so that a flood of bad requests is not a flood of writes.
      if ((this.inboundComplaints.get(source.name) ?? -Infinity) + INBOUND_COMPLAINT_GAP_MS <= now) {
        this.inboundComplaints.set(source.name, now);
        await this.store.recordSourceError(source.name, parsed.status === 403 ? 'inbound_forbidden' : 'inbound_malformed', parsed.reason, now);
      }
      if (parsed.status === 403) throw new TnError('forbidden', `The request is not authenticated as source "${sourceName}".`);
      throw invalid(`Not a valid ${source.kind} message: ${parsed.reason}`);
    }
    const m = parsed.message;
    const outcome = await this.store.recordInbound(
      {
        source: source.name,
        messageId: m.messageId,
        to: m.to,
        from: m.from,
        text: m.text,
        receivedAt: m.receivedAt,
        device: m.device ?? null,
        storedAt: now,
        codeFor: (platform) => extractCode(m.text, { platform })?.code ?? null,
      },
      // A message the gateway received before the order existed (or was retried) is not its code.
      (orders) => chooseOrder(orders.filter((o) => Math.max(o.createdAt, o.retriedAt ?? 0) - INBOUND_CLOCK_SKEW_MS <= m.receivedAt), m.from, m.text),
    );
    if (!outcome.duplicate && outcome.order) this.publish('sms.received', outcome.order);
    return parsed.reply;
  }

  private async activateUpstream(
    source: Extract<LiveSource, { kind: 'tempnumber' }>,
    route: Candidate,
    platform: Platform,
    country: string,
    now: number,
    affordable: (cost: Micros) => Promise<void>,
  ): Promise<{ id: string; phone: string; price: Micros; status: string } | null> {
    let expected = route.cost;
    // Once more at most, when its price moved since the list was read, if the customer can pay the new one.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return await source.upstream.activate(platform.id, country, expected);
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        await this.upstreamFailed(source.name, err, 'createActivation', now, `${platform.id}/${country}`);
        if (err.kind !== 'price_changed' || err.newPrice === undefined || attempt > 0) return null;
        expected = err.newPrice;
        await affordable(expected);
      }
    }
    return null;
  }

  /** Records an upstream's failure, and keeps routing away from it for as long as it asked or deserves. */
  private async upstreamFailed(
    name: string,
    err: UpstreamError,
    endpoint: UpstreamEndpoint,
    now: number,
    where?: string,
    backoffMs = UPSTREAM_BACKOFF_MS,
  ): Promise<void> {
    if (err.local) return;
    await this.store.recordSourceError(name, err.kind, err.message, now);
    if (err.kind === 'rate_limited') await this.store.blockBucket(`${name}:${endpoint}`, now + (err.retryAfterMs ?? backoffMs));
    if (err.kind === 'payment_required' || err.kind === 'unauthorized') {
      await this.store.blockBucket(`${name}:createActivation`, now + SOURCE_PAUSE_MS);
      this.events.emit('alert', {
        source: name,
        code: err.kind,
        message:
          err.kind === 'payment_required'
            ? `Source "${name}" is out of money upstream: top up its balance. Its orders go to other sources meanwhile.`
            : `Source "${name}" refuses our API key (${err.message}): check it with \`tn admin source list\`.`,
      });
    }
    if (err.kind === 'low_success_rate' && where) await this.store.cache(name, `paused:${where}`, String(now + UPSTREAM_DELIVERY_RULE.windowMs), now);
  }

  /** An upstream's service and country left out: paused after it refused, or about to break its delivery rule. */
  private async upstreamPaused(name: string, platform: string, country: string, now: number): Promise<boolean> {
    const paused = await this.store.cached(name, `paused:${platform}/${country}`);
    if (paused && Number(paused.value) > now) return true;
    const window = this.store.sourceGuardWindow(name, platform, country, now - UPSTREAM_DELIVERY_RULE.windowMs);
    return judgeDeliveryRate(UPSTREAM_DELIVERY_RULE, window, now) !== null;
  }

  /** Checks, before anything is bought upstream, what the order's transaction will check again. */
  private async precheck(input: PlaceOrderInput): Promise<void> {
    const account = await this.requireAccount(input.accountId);
    const price = input.priceFor(await this.store.completedOrders(input.accountId));
    input.admit?.((since) => this.store.guardWindow(input.accountId, input.platform, input.country, since));
    if (input.maxPrice !== undefined && price > input.maxPrice) throw aboveLimit(price, input.maxPrice);
    if (account.balance < price) throw insufficientBalance(account.balance, price);
  }

  /**
   * Starts one poll of an upstream activation whose order waits, without holding up other due
   * work: the poll first claims its due time (moving it past the poll's own timeout, so neither
   * this loop nor another process starts it again), then asks the upstream.
   */
  private startPoll(source: Extract<LiveSource, { kind: 'tempnumber' }>, due: { orderId: string; platform: string; dueAt: number; expiresAt: number }): void {
    if (this.polling.has(due.orderId)) return;
    const poll = this.pollUpstream(source, due)
      .catch((err: unknown) => {
        this.events.emit('alert', { source: source.name, code: 'internal', message: `Polling order ${due.orderId} failed: ${err instanceof Error ? err.message : String(err)}` });
      })
      .finally(() => this.polling.delete(due.orderId));
    this.polling.set(due.orderId, poll);
  }

  /**
   * One poll. Its SMS completes the order; a final status without one fails it (refunded);
   * anything else polls again later, later still when the upstream asks for patience. A
   * cancelled order is not polled: its late SMS is ignored.
   */
  private async pollUpstream(source: Extract<LiveSource, { kind: 'tempnumber' }>, due: { orderId: string; platform: string; dueAt: number; expiresAt: number }): Promise<void> {
    // Below the expiry, so the order does not expire while its poll may still bring the code.
    const lease = Math.min(this.now() + POLL_LEASE_MS, due.expiresAt - 1);
    // No time left for a poll: the order expires (and is refunded) on time instead.
    if (lease <= due.dueAt) return this.store.dropDelivery(due.orderId, due.dueAt);
    if (!(await this.store.reschedule(due.orderId, due.dueAt, lease))) return;
    const activation = await this.store.activation(due.orderId);
    if (!activation) return this.store.dropDelivery(due.orderId, lease);
    const pollMs = source.record.settings.pollMs ?? DEFAULT_POLL_MS;
    const again = async (ms: number): Promise<void> => {
      await this.store.reschedule(due.orderId, lease, this.now() + ms);
      this.dueMoved.emit('due');
      this.wake(due.orderId);
    };
    let check;
    try {
      check = await source.upstream.check(activation.activationId);
    } catch (err) {
      const failure = err instanceof UpstreamError ? err : new UpstreamError('unavailable', err instanceof Error ? err.message : String(err));
      const backoff = Math.min(30_000, pollMs * 4);
      await this.upstreamFailed(source.name, failure, 'getActivation', this.now(), undefined, backoff);
      if (failure.kind === 'not_found') {
        const ended = await this.store.endOrder(due.orderId, 'failed', this.now());
        if (ended) this.publish('order.ended', ended);
        return;
      }
      return again(Math.max(250, failure.retryAfterMs ?? backoff));
    }
    const now = this.now();
    const status = check.status.toLowerCase();
    if (activation.awaiting !== null && status === activation.awaiting.toLowerCase() && check.message !== null) {
      const outcome = await this.store.recordSms({
        orderId: due.orderId,
        text: check.message,
        // A code the provider already read is trusted first; the text is read when it gives none.
        code: check.code ?? extractCode(check.message, { platform: due.platform })?.code ?? null,
        sender: source.name,
        receivedAt: now,
        dueAt: lease,
      });
      if (!outcome.accepted) return;
      await this.store.updateActivation(due.orderId, check.status, null, now);
      this.publish('sms.received', outcome.order);
      return;
    }
    if (FINAL_STATUSES.has(status)) {
      await this.store.updateActivation(due.orderId, check.status, null, now);
      const ended = await this.store.endOrder(due.orderId, 'failed', now);
      if (ended) this.publish('order.ended', ended);
      return;
    }
    if (check.status !== activation.status) await this.store.updateActivation(due.orderId, check.status, activation.awaiting, now);
    await again(pollMs);
  }

  /** Our retry is TempNumber's `PUT … { status: "retry" }`; then polling waits for `retryReceived`. */
  private async retryUpstream(source: Extract<LiveSource, { kind: 'tempnumber' }>, rec: OrderRecord, now: number): Promise<number> {
    const activation = await this.store.activation(rec.id);
    if (!activation) throw new TnError('unavailable', `Order ${rec.id} has no upstream activation to retry.`);
    try {
      await source.upstream.retry(activation.activationId);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      await this.upstreamFailed(source.name, err, 'updateActivation', now);
      if (err.kind === 'rate_limited') {
        throw new TnError('rate_limited', 'Too many retries upstream right now: try again shortly.', { retry_after: Math.max(1, Math.ceil((err.retryAfterMs ?? 10_000) / 1000)) });
      }
      if (err.kind === 'bad_state' || err.kind === 'not_found') throw new TnError('order_not_active', `The number of order ${rec.id} cannot take another SMS: order a new number.`);
      throw new TnError('unavailable', `The retry could not be asked for upstream: ${err.message}`);
    }
    await this.store.updateActivation(rec.id, 'retryRequested', 'retryReceived', now);
    return now + (source.record.settings.pollMs ?? DEFAULT_POLL_MS);
  }

  /** An order as the operator sees it: with the source that served it and, upstream, its activation. */
  async operatorOrder(orderId: unknown): Promise<Order & { account_id: string; source: string; upstream: { activation_id: string; status: string; cost: number } | null }> {
    if (typeof orderId !== 'string' || orderId === '' || orderId.length > 64) throw invalid('An order id such as "ord_01J…" is required.');
    const rec = await this.store.getOrder(orderId);
    if (!rec) throw notFound(`Order ${orderId}`);
    const activation = await this.store.activation(rec.id);
    return {
      ...toOrderView(rec),
      account_id: rec.accountId,
      source: rec.source,
      upstream: activation ? { activation_id: activation.activationId, status: activation.status, cost: toUsd(activation.cost) } : null,
    };
  }

  async addSource(input: NewSource): Promise<SourceRecord> {
    return this.registry.add(input);
  }

  async listSources(): Promise<SourceRecord[]> {
    return this.store.listSources();
  }

  async setSourceEnabled(name: string, enabled: boolean): Promise<void> {
    const found = await this.store.setSourceEnabled(name, enabled);
    this.registry.changed();
    if (!found) throw notFound(`Source "${name}"`);
  }

  async removeSource(name: string): Promise<void> {
    const removed = await this.store.removeSource(name);
    this.registry.changed();
    if (!removed) throw notFound(`Source "${name}"`);
  }

  async addPoolNumber(input: { phone: string; source: string; country: unknown; platforms: string[] | '*'; device: string | null; sim: number | null }): Promise<PoolNumber> {
    const phone = normalisePhone(input.phone);
    if (phone === null || phone.length < 8) throw invalid(`"${input.phone}" is not a phone number in E.164 form, e.g. +447700900123.`);
    const country = requireCountry(input.country);
    if (country === 'any') throw invalid('Name the country of the number, e.g. --country gb.');
    return this.registry.addPoolNumber({ ...input, phone, country });
  }

  async listPool(): Promise<PoolNumber[]> {
    return this.store.listPool();
  }

  async removePoolNumber(phone: string): Promise<void> {
    const normal = normalisePhone(phone);
    if (normal === null || !(await this.store.removePoolNumber(normal))) throw notFound(`Pool number ${phone}`);
  }

  async inbox(options: { all?: boolean; limit?: number } = {}): Promise<InboxEntry[]> {
    return this.store.inbox({ unmatchedOnly: !options.all, limit: options.limit ?? 50 });
  }

  /** Per source: active orders, the last day's success and delivery time, errors of the last hour. */
  async sourceOverview(options: { balances?: boolean } = {}): Promise<SourceOverview[]> {
    await this.catchUp();
    const sources = await this.registry.all();
    const stats = await this.store.sourceStats(this.now());
    const out: SourceOverview[] = [];
    for (const st of stats) {
      const source = sources.find((s) => s.name === st.source);
      out.push({ ...st, kind: source?.kind ?? 'removed', enabled: source?.enabled ?? false, belowFloor: await this.registry.belowFloor(st.source), upstreamBalance: null });
    }
    for (const source of sources) {
      if (!out.some((o) => o.source === source.name)) {
        out.push({ source: source.name, kind: source.kind, enabled: source.enabled, belowFloor: false, active: 0, ended: 0, delivered: 0, medianDeliveryMs: null, errorsLastHour: 0, lastError: null, upstreamBalance: null });
      }
    }
    // Asked only on request: it is a call upstream (10 a minute allowed).
    if (options.balances) {
      for (const source of sources) {
        if (source.kind !== 'tempnumber') continue;
        try {
          out.find((o) => o.source === source.name)!.upstreamBalance = await source.upstream.balance();
        } catch (err) {
          if (err instanceof UpstreamError) await this.upstreamFailed(source.name, err, 'balance', this.now());
        }
      }
    }
    return out;
  }

  // ── internals ─────────────────────────────────────────────────────────

  private async place(
    accountId: string,
    request: OrderRequest,
    operation: 'order' | 'verify',
    limits: OrderLimits = {},
  ): Promise<{ order?: OrderRecord; replayed?: Order; replayedId?: string }> {
    if (typeof request !== 'object' || request === null) throw invalid('The request must be an object { platform, country? }.');
    const platform = requirePlatform(request.platform);
    const requested = requireCountry(request.country);
    const key = request.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 255)) {
      throw invalid('Parameter "idempotency_key" must be a string of 1 to 255 characters.');
    }
    await this.catchUp();
    const now = this.now();
    const idempotency =
      key === undefined
        ? undefined
        : {
            key,
            requestHash: requestHash({ operation, platform: platform.id, country: requested }),
            respond: (order: OrderRecord) => JSON.stringify(toOrderView(order)),
          };
    // A repeated key answers from what it stored, whatever stock there is now (the check inside
    // the transaction below still settles races between two first uses).
    if (idempotency) {
      const seen = await this.store.idempotentOrder(accountId, idempotency.key, now);
      if (seen && seen.requestHash !== idempotency.requestHash) {
        throw new TnError('idempotency_key_reused', 'This idempotency key was already used with other parameters: use a new key for a new request.');
      }
      if (seen) return { replayed: JSON.parse(seen.response) as Order, replayedId: seen.orderId };
    }
    // Two requests with one key in this process (a client's retry of a slow order) run one after
    // the other, so that the second replays the first instead of buying a second upstream number.
    const keyed = idempotency ? `${accountId}\n${idempotency.key}` : undefined;
    const earlier = keyed === undefined ? undefined : this.placing.get(keyed);
    if (earlier) {
      await earlier.catch(() => undefined);
      return this.place(accountId, request, operation, limits);
    }
    const placing = this.placeOnRoutes(accountId, platform, requested, now, limits, idempotency);
    if (keyed !== undefined) {
      this.placing.set(keyed, placing);
      void placing.catch(() => undefined).finally(() => this.placing.delete(keyed));
    }
    const result = await placing;
    if (result.kind === 'replayed') {
      return { replayed: JSON.parse(result.response) as Order, replayedId: result.orderId };
    }
    this.publish('order.created', result.order);
    return { order: result.order };
  }

  /** Tries each route in turn; the store finds out inside the order's transaction whether it has a free number. */
  private async placeOnRoutes(
    accountId: string,
    platform: Platform,
    requested: string,
    now: number,
    limits: OrderLimits,
    idempotency: PlaceOrderInput['idempotency'],
  ): Promise<PlaceOrderResult> {
    let result: PlaceOrderResult | undefined;
    let refusal: TnError | undefined;
    const prices = await this.priceTable();
    // The tier as it is now, to skip routes above the customer's limit; the transaction reads it again.
    const discount = tierFor(await this.store.completedOrders(accountId)).discountPercent;
    for (const route of await this.route(platform, requested, now)) {
      const { source, country } = route;
      let base = route.listPrice ?? this.listPrice(prices, platform, country);
      // An upstream number is never sold below what it costs, whatever the tier discount.
      let floor = source.kind === 'tempnumber' ? atLeastCents(route.cost) : 0;
      const expected = Math.max(discounted(base, discount), floor);
      if (limits.maxPrice !== undefined && expected > limits.maxPrice) {
        refusal ??= aboveLimit(expected, limits.maxPrice);
        continue;
      }
      const input: PlaceOrderInput = {
        accountId,
        orderId: newOrderId(now),
        platform: platform.id,
        country,
        source: source.name,
        priceFor: (completed) => Math.max(discounted(base, tierFor(completed).discountPercent), floor),
        admit: (stats) => this.admit(platform, country, now, stats),
        maxPrice: limits.maxPrice,
        createdAt: now,
        expiresAt: now + this.orderTtlMs,
        smsDueAt: null,
        pickPhone: () => null,
        idempotency,
      };
      let bought: { id: string; price: Micros } | undefined;
      try {
        if (source.kind === 'simulator') {
          const delay = source.numbers.planDelivery('order');
          input.smsDueAt = delay === null ? null : now + delay;
          input.pickPhone = (taken) => source.numbers.pickPhone(platform.id, country, taken);
        } else if (source.kind === 'tempnumber') {
          // Checked before buying upstream, so a short balance costs nothing there; the transaction checks again.
          await this.precheck(input);
          const priced = (cost: Micros): void => {
            base = markedUp(cost, source.record);
            floor = atLeastCents(cost);
          };
          const activation = await this.activateUpstream(source, route, platform, country, now, async (cost) => {
            priced(cost);
            await this.precheck(input);
          });
          if (!activation) continue;
          bought = activation;
          priced(activation.price);
          input.pickPhone = () => activation.phone;
          input.upstream = { activationId: activation.id, cost: activation.price, status: activation.status };
          input.smsDueAt = now + (source.record.settings.pollMs ?? DEFAULT_POLL_MS);
        } else {
          input.pool = { source: source.name, cooldownMs: source.cooldownMs };
        }
        result = await this.store.placeOrder(input);
        break;
      } catch (err) {
        if (bought) {
          // Bought but not sold: it lapses and is refunded upstream; the operator should know.
          const why = err instanceof Error ? err.message : String(err);
          await this.store.recordSourceError(source.name, 'orphaned_activation', `Activation ${bought.id} was bought but no order was placed (${why}); it lapses upstream.`, this.now());
        }
        if (!(err instanceof TnError)) throw err;
        // Another route may be cheaper, or elsewhere: a refusal is final only when none serves.
        if (err.code === 'insufficient_balance' || (err.code === 'invalid_request' && err.details.limit !== undefined) || (err.code === 'delivery_rate_low' && requested === 'any')) {
          refusal ??= err;
          continue;
        }
        if (err.code !== 'no_numbers') throw err;
        this.soldOut.set(`${source.name}/${platform.id}/${country}`, now + SOLD_OUT_MEMORY_MS);
      }
    }
    if (!result && refusal) throw refusal;
    if (!result) {
      const where = requested === 'any' ? '' : ` in ${countryName(requested) ?? requested}`;
      throw new TnError('no_numbers', `No ${platform.name} numbers are available${where} right now: try another country or later.`);
    }
    return result;
  }

  /** Refuses an order where this account's recent orders show the numbers are not getting SMS (see `DeliveryGuard`). */
  private admit(platform: Platform, country: string, now: number, window: (since: number) => GuardWindow): void {
    if (!this.guard) return;
    const verdict = judgeDeliveryRate(this.guard, window(now - this.guard.windowMs), now);
    if (!verdict) return;
    throw new TnError(
      'delivery_rate_low',
      `Only ${verdict.delivered} of your last ${verdict.ended} ended ${platform.name} orders in ${countryName(country) ?? country} received an SMS ` +
        `(below ${Math.round(this.guard.minRate * 100)}%): new orders there are paused until ${verdict.liftsAt}. Another country or platform is not affected.`,
      { retry_after: Math.max(1, Math.ceil((Date.parse(verdict.liftsAt) - now) / 1000)), lifts_at: verdict.liftsAt, platform: platform.id, country },
    );
  }

  /** Operator prices by `platform/country` (and `platform/*`), over the catalogue's. */
  private async priceTable(): Promise<Map<string, Micros>> {
    return new Map((await this.store.priceOverrides()).map((p) => [`${p.platform}/${p.country}`, p.price]));
  }

  /** The operator's price for a platform in a country, else for every country, else the catalogue's. */
  private listPrice(table: Map<string, Micros>, platform: Platform, country: string): Micros {
    return table.get(`${platform.id}/${country}`) ?? table.get(`${platform.id}/*`) ?? platform.price;
  }

  /**
   * Where an order may go, best first: the cheapest source for the operator, then (for `any`) the
   * countries most verifications expect, then the largest stock. Left out: what has no stock or was
   * found sold out a moment ago, an upstream service and country about to break its delivery rule
   * or paused after an error. A source below the success floor goes last: it is tried only when
   * nothing else can serve (so that it can also recover). `all` keeps every offer, for price lists.
   */
  private async route(platform: Platform, requested: string, now: number, options: { all?: boolean; memo?: OffersMemo } = {}): Promise<Candidate[]> {
    const rank = (country: string): number => {
      const i = ANY_COUNTRY_PREFERENCE.indexOf(country);
      return i === -1 ? ANY_COUNTRY_PREFERENCE.length : i;
    };
    const offers = await this.registry.offers(platform, requested, now, { exact: options.all === true, memo: options.memo });
    const open: Candidate[] = [];
    for (const o of offers) {
      if (options.all) {
        open.push(o);
        continue;
      }
      if (o.stock <= 0) continue;
      if (requested === 'any' && (this.soldOut.get(`${o.source.name}/${platform.id}/${o.country}`) ?? 0) > now) continue;
      if (o.source.kind === 'tempnumber' && (await this.upstreamPaused(o.source.name, platform.id, o.country, now))) continue;
      open.push(o);
    }
    const floor = new Map<string, boolean>();
    for (const name of new Set(open.map((o) => o.source.name))) floor.set(name, await this.registry.belowFloor(name));
    return open.sort(
      (a, b) =>
        Number(floor.get(a.source.name)) - Number(floor.get(b.source.name)) ||
        a.cost - b.cost ||
        rank(a.country) - rank(b.country) ||
        b.stock - a.stock,
    );
  }

  private async discountPercent(accountId: string): Promise<number> {
    return tierFor(await this.store.completedOrders(accountId)).discountPercent;
  }

  private async requireAccount(accountId: string) {
    const account = await this.store.getAccount(accountId);
    if (!account) throw new TnError('unauthorized', 'Unknown account.');
    return account;
  }

  private async ownOrder(accountId: string, orderId: unknown): Promise<OrderRecord> {
    if (typeof orderId !== 'string' || orderId === '' || orderId.length > 64) throw invalid('An order id such as "ord_01J…" is required.');
    const rec = await this.store.getOrder(orderId);
    // Another account's order is "not found": its existence is not revealed.
    if (!rec || rec.accountId !== accountId) throw notFound(`Order ${orderId}`);
    return rec;
  }

  private isDue(rec: OrderRecord): boolean {
    const now = this.now();
    return rec.status === 'active' && (rec.expiresAt <= now || (rec.smsDueAt !== null && rec.smsDueAt <= now));
  }

  private async sourceOf(rec: OrderRecord): Promise<LiveSource> {
    const source = await this.registry.byName(rec.source);
    if (!source) throw new TnError('unavailable', `The source of order ${rec.id} (${rec.source}) is not configured any more.`);
    return source;
  }

  /**
   * How long to sleep before `next` falls due. Something due before the pass that just ran is
   * taken (a poll in flight, here or in another process, whose end wakes the sleeper): look again
   * shortly rather than at once, in a spin.
   */
  private sleepBefore(next: number, passAt: number): number {
    return next <= passAt ? BUSY_RECHECK_MS : Math.max(0, next - this.now());
  }

  /** Wakes this process's waiters on an order, to look again (its due time moved). */
  private wake(orderId: string): void {
    const watch = this.watched.get(orderId);
    if (!watch) return;
    watch.version++;
    for (const wake of [...watch.wakers]) wake();
  }

  private publish(type: OrderEvent['type'], order: OrderRecord): void {
    const watch = this.watched.get(order.id);
    if (watch) {
      watch.version++;
      for (const wake of [...watch.wakers]) wake();
    }
    this.events.emit('order', { type, order });
  }

  private async waitForEnd(orderId: string, settings: WaitSettings): Promise<OrderRecord> {
    const deadline = settings.timeoutMs === undefined ? Infinity : this.now() + settings.timeoutMs;
    // Both signals are listened to directly: a combined signal per wait would hang on the
    // server-wide release signal for as long as the server runs.
    const signals = [settings.signal, settings.release].filter((s): s is AbortSignal => s !== undefined);
    const stopped = (): boolean => signals.some((s) => s.aborted);
    // Watching starts before the first read, so a change between the read and the sleep is not missed.
    let watch = this.watched.get(orderId);
    if (!watch) this.watched.set(orderId, (watch = { version: 0, wakers: new Set(), refs: 0 }));
    watch.refs++;
    try {
      for (;;) {
        const seen = watch.version;
        const passAt = this.now();
        await this.catchUp();
        const rec = (await this.store.getOrder(orderId))!;
        const now = this.now();
        if (rec.status !== 'active' || now >= deadline || stopped()) return rec;
        // With a scheduler, its events wake this wait; without one, this wait wakes itself when something falls due.
        const next = this.schedulerRunning ? deadline : Math.min(deadline, rec.smsDueAt ?? Infinity, rec.expiresAt);
        if (watch.version === seen) await this.sleepUntilChange(watch, Math.min(deadline - now, this.sleepBefore(next, passAt)), signals);
      }
    } finally {
      if (--watch.refs === 0) this.watched.delete(orderId);
    }
  }

  /**
   * Sleeps until the watched order changes in this process, another process commits to the
   * store, the next due time comes, or the wait is aborted. One shared watcher serves every waiter.
   */
  private sleepUntilChange(watch: Watch, ms: number, signals: readonly AbortSignal[]): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', done);
        watch.wakers.delete(done);
        this.releaseWatcher();
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      for (const s of signals) s.addEventListener('abort', done, { once: true });
      watch.wakers.add(done);
      this.acquireWatcher();
    });
  }

  private acquireWatcher(): void {
    if (this.watcher) {
      this.watcher.users++;
      return;
    }
    const watcher = {
      users: 1,
      version: this.store.changeCounter(),
      timer: setInterval(() => {
        const version = this.store.changeCounter();
        if (version === watcher.version) return;
        watcher.version = version;
        for (const watch of [...this.watched.values()]) for (const wake of [...watch.wakers]) wake();
      }, CROSS_PROCESS_POLL_MS),
    };
    watcher.timer.unref();
    this.watcher = watcher;
  }

  private releaseWatcher(): void {
    if (!this.watcher || --this.watcher.users > 0) return;
    clearInterval(this.watcher.timer);
    this.watcher = null;
  }
}

/**
 * Whether the guard refuses the next order, given the window's orders oldest first; and if so,
 * when it lifts: the first moment, as old orders leave the window, at which the rule no longer holds.
 */
export function judgeDeliveryRate(
  guard: DeliveryGuard,
  window: GuardWindow,
  now: number,
): { ended: number; delivered: number; liftsAt: string } | null {
  const refuses = (orders: number, ended: number, delivered: number): boolean =>
    orders + 1 >= guard.minOrders && ended > 0 && delivered / ended < guard.minRate;
  if (!refuses(window.orders, window.ended, window.delivered)) return null;
  // An order leaves the window at created_at + windowMs (the window excludes its start).
  const list = window.list();
  let { ended, delivered } = window;
  let liftsAt = now;
  for (let k = 0; k < list.length; k++) {
    const leaving = list[k]!;
    if (leaving.ended) ended--;
    if (leaving.ended && leaving.delivered) delivered--;
    liftsAt = leaving.createdAt + guard.windowMs;
    if (!refuses(list.length - k - 1, ended, delivered)) break;
  }
  return { ended: window.ended, delivered: window.delivered, liftsAt: new Date(liftsAt).toISOString() };
}

/** An ISO 8601 date or date-time, as epoch milliseconds. */
function parseInstant(text: unknown, name: string): number {
  const ms = typeof text === 'string' && /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw invalid(`Parameter "${name}" must be an ISO 8601 date or date-time, e.g. 2026-11-21 or 2026-11-21T12:00:00Z.`);
  return ms;
}

/** Only absolute http(s) URLs without credentials, of a sane length (API.md §5). */
function checkWebhookUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0 || url.length > 2048) throw invalid('Parameter "url" must be an http(s) URL of at most 2048 characters.');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('Parameter "url" is not a valid URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid('Parameter "url" must use http or https.');
  if (parsed.username || parsed.password) throw invalid('Parameter "url" must not carry credentials.');
  return parsed.toString();
}

function requestHash(params: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(params)).digest('hex');
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

export const startOfUtcDay = (ms: number): number => ms - (ms % 86_400_000);
