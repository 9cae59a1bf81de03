/**
 * Placing orders: validation, idempotency, and the routes tried in turn, each order one unit of
 * work (number, price at the tier read in it, conditional debit, ledger entry, event, key row).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Accounts } from '../accounts/accounts.js';
import type { Ledger } from '../accounts/ledger.js';
import { tierFor } from '../accounts/tiers.js';
import type { BatchItemResult, BatchResult, OrderRequest } from '../broker.js';
import { requirePlatform, type Platform } from '../catalogue/catalog.js';
import { countryName, requireCountry } from '../catalogue/countries.js';
import type { AccountGuard } from '../catalogue/delivery-guard.js';
import { atLeastCents, listPrice, type Pricing } from '../catalogue/pricing.js';
import type { CoreContext } from '../context.js';
import type { Tx } from '../database.js';
import { TnError, aboveLimit, insufficientBalance, invalid, isTnError } from '../errors.js';
import { orderId as newOrderId } from '../ids.js';
import { BATCH_MAX, DEFAULT_POLL_MS, IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_TTL_MS } from '../limits.js';
import { discounted, toUsd, usdNumberToMicros, type Micros } from '../money.js';
import type { UpstreamActivation } from '../sources/providers.js';
import { markedUp, type LiveSource, type UpstreamSource } from '../sources/registry.js';
import type { Router } from '../sources/routing.js';
import type { Upstreams } from '../sources/upstream.js';
import { toOrderView, type Order, type OrderRecord } from './order.js';

/** What a caller may set on an order beyond the API's parameters. */
export interface OrderLimits {
  /** Refuse, inside the order's transaction, if the price (after the tier discount) is above this. */
  maxPrice?: Micros;
  /** Sources and numbers already tried (a verify's earlier attempts): other routes first, other numbers only. */
  avoid?: { sources: readonly string[]; phones: readonly string[] };
}

/** A new order, or the stored answer of an idempotency key used before. */
export type Placed = { order: OrderRecord; replayed?: undefined } | { order?: undefined; replayed: Order; orderId: string };

/** A key reserved before buying upstream is held this long, longer than the purchase may take; then another process may take it over. */
const RESERVATION_LEASE_MS = 60_000;
/** How often a request whose key another process holds looks again. */
const RESERVATION_POLL_MS = 50;

const KEY_REUSED = 'This idempotency key was already used with other parameters: use a new key for a new request.';

interface Idempotency {
  key: string;
  requestHash: string;
}

/** Everything the order's unit of work needs, decided before it. */
interface Commit {
  accountId: string;
  platform: Platform;
  country: string;
  source: LiveSource;
  priceFor(completed: number): Micros;
  maxPrice?: Micros;
  avoidPhones?: readonly string[];
  now: number;
  expiresAt: number;
  smsDueAt: number | null;
  upstream?: UpstreamActivation;
  idempotency?: Idempotency & { token?: string };
}

type Committed = { kind: 'created'; order: OrderRecord } | { kind: 'replayed'; orderId: string; response: string };

/** Another process holds this key's reservation: look again shortly. */
class KeyBusy extends Error {}

export class Placing {
  /** Orders being placed with an idempotency key in this process, by account and key. */
  private readonly inProcess = new Map<string, Promise<Placed>>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly accounts: Accounts,
    private readonly ledger: Ledger,
    private readonly pricing: Pricing,
    private readonly guard: AccountGuard,
    private readonly router: Router,
    private readonly upstreams: Upstreams,
    private readonly orderTtlMs: number,
  ) {}

  async place(accountId: string, request: OrderRequest, operation: 'order' | 'verify', limits: OrderLimits = {}): Promise<Placed> {
    if (typeof request !== 'object' || request === null) throw invalid('The request must be an object { platform, country? }.');
    const platform = requirePlatform(request.platform);
    const requested = requireCountry(request.country);
    const key = request.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > IDEMPOTENCY_KEY_MAX)) {
      throw invalid(`Parameter "idempotency_key" must be a string of 1 to ${IDEMPOTENCY_KEY_MAX} characters.`);
    }
    limits = withMaxPrice(limits, request.maxPrice);
    const idempotency = key === undefined ? undefined : { key, requestHash: requestHash({ operation, platform: platform.id, country: requested }) };
    if (!idempotency) return this.onRoutes(accountId, platform, requested, limits, undefined);
    // A repeated key answers from what it stored, whatever stock there is now.
    const seen = await this.replay(this.ctx.db.read.idempotency, accountId, idempotency);
    if (seen) return seen;
    // Two requests with one key in this process run one after the other, so the second replays the first.
    const keyed = `${accountId}\n${idempotency.key}`;
    const earlier = this.inProcess.get(keyed);
    if (earlier) {
      await earlier.catch(() => undefined);
      return this.place(accountId, request, operation, limits);
    }
    const placing = this.onRoutes(accountId, platform, requested, limits, idempotency);
    this.inProcess.set(keyed, placing);
    try {
      return await placing;
    } catch (err) {
      if (!(err instanceof KeyBusy)) throw err;
    } finally {
      if (this.inProcess.get(keyed) === placing) this.inProcess.delete(keyed);
    }
    // Another process holds the key: once it is done, this request replays its answer.
    await sleep(RESERVATION_POLL_MS);
    return this.place(accountId, request, operation, limits);
  }

  async batch(accountId: string, items: unknown, limits: OrderLimits = {}): Promise<BatchResult> {
    if (!Array.isArray(items)) throw invalid('Parameter "orders" must be an array of { platform, country? }.');
    if (items.length < 1 || items.length > BATCH_MAX) {
      throw new TnError('batch_too_large', `A batch holds 1 to ${BATCH_MAX} orders; this one has ${items.length}.`);
    }
    await this.accounts.require(accountId);
    const results: BatchItemResult[] = [];
    let total = 0;
    // One after another, so that a short balance fills the first items and refuses the rest, in order.
    for (const item of items) {
      try {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid('Each batch item must be an object { platform, country? }.');
        const placed = await this.place(accountId, item as OrderRequest, 'order', limits);
        const order = placed.replayed ?? toOrderView(placed.order);
        total += placed.replayed ? (usdNumberToMicros(order.price) ?? 0) : placed.order.price;
        results.push({ ok: true, order });
      } catch (err) {
        if (!isTnError(err)) throw err;
        results.push({ ok: false, error: { code: err.code, message: err.message } });
      }
    }
    return { results, total_price: toUsd(total) };
  }

  /** The stored answer of a key (or `KEY_REUSED` for other parameters); null when the key is new, expired or only reserved. */
  private async replay(repo: Tx['idempotency'], accountId: string, idem: Idempotency): Promise<Placed | null> {
    const row = await repo.find(accountId, idem.key);
    if (!row || row.createdAt <= this.ctx.now() - IDEMPOTENCY_TTL_MS) return null;
    if (row.requestHash !== idem.requestHash) throw new TnError('idempotency_key_reused', KEY_REUSED);
    if (row.orderId === null || row.response === null) return null;
    return { replayed: JSON.parse(row.response) as Order, orderId: row.orderId };
  }

  /** Tries each route in turn; the order's unit of work finds out whether it has a free number. */
  private async onRoutes(accountId: string, platform: Platform, requested: string, limits: OrderLimits, idempotency: Idempotency | undefined): Promise<Placed> {
    const now = this.ctx.now();
    let refusal: TnError | undefined;
    const table = await this.pricing.table();
    // The tier as it is now, to skip routes above the customer's limit; the transaction reads it again.
    const discount = await this.accounts.discountPercent(accountId);
    const routes = [...(await this.router.route(platform, requested, now))];
    const tried = new Set(limits.avoid?.sources ?? []);
    // Stable: the router's order among fresh sources, then among the ones tried already.
    if (tried.size) routes.sort((a, b) => Number(tried.has(a.source.name)) - Number(tried.has(b.source.name)));
    for (const route of routes) {
      const { source, country } = route;
      let base = route.listPrice ?? listPrice(table, platform, country);
      // An upstream number is never sold below what it costs, whatever the tier discount.
      let floor = source.role === 'upstream' ? atLeastCents(route.cost) : 0;
      const expected = Math.max(discounted(base, discount), floor);
      if (limits.maxPrice !== undefined && expected > limits.maxPrice) {
        refusal ??= aboveLimit(expected, limits.maxPrice);
        continue;
      }
      const commit: Commit = {
        accountId,
        platform,
        country,
        source,
        priceFor: (completed) => Math.max(discounted(base, tierFor(completed).discountPercent), floor),
        maxPrice: limits.maxPrice,
        avoidPhones: limits.avoid?.phones,
        now,
        expiresAt: now + this.orderTtlMs,
        smsDueAt: null,
        idempotency,
      };
      let bought: UpstreamActivation | undefined;
      let committed = false;
      try {
        if (source.role === 'simulator') {
          const delay = source.numbers.planDelivery('order');
          commit.smsDueAt = delay === null ? null : now + delay;
        } else if (source.role === 'upstream') {
          if (idempotency) {
            const reserved = await this.reserve(accountId, idempotency);
            if ('replayed' in reserved) return reserved;
            commit.idempotency = { ...idempotency, token: reserved.token };
          }
          const priced = (cost: Micros): void => {
            base = markedUp(cost, source.record);
            floor = atLeastCents(cost);
          };
          // Checked before buying upstream, so a short balance costs nothing there; the transaction checks again.
          await this.precheck(commit);
          const activation = await this.upstreams.activate(source, platform.id, country, route.cost, async (cost) => {
            priced(cost);
            await this.precheck(commit);
          });
          if (!activation) {
            await this.release(accountId, commit.idempotency);
            continue;
          }
          bought = activation;
          priced(activation.price);
          commit.upstream = activation;
          commit.smsDueAt = now + (source.record.settings.pollMs ?? DEFAULT_POLL_MS);
        }
        const result = await this.ctx.db.transaction((tx) => this.commit(tx, commit));
        committed = true;
        if (result.kind === 'replayed') return { replayed: JSON.parse(result.response) as Order, orderId: result.orderId };
        return { order: result.order };
      } catch (err) {
        if (bought && !committed) await this.upstreams.orphaned(source as UpstreamSource, platform.id, country, bought, err instanceof Error ? err.message : String(err));
        if (!committed) await this.release(accountId, commit.idempotency);
        if (!(err instanceof TnError)) throw err;
        // Another route may be cheaper, or elsewhere: a refusal is final only when none serves.
        if (err.code === 'insufficient_balance' || err.code === 'price_above_max' || (err.code === 'delivery_rate_low' && requested === 'any')) {
          refusal ??= err;
          continue;
        }
        if (err.code !== 'no_numbers') throw err;
        this.router.soldOutAt(source.name, platform.id, country, now);
      }
    }
    if (refusal) throw refusal;
    const where = requested === 'any' ? '' : ` in ${countryName(requested) ?? requested}`;
    throw new TnError('no_numbers', `No ${platform.name} numbers are available${where} right now: try another country or later.`);
  }

  /** The order's unit of work. */
  private async commit(tx: Tx, c: Commit): Promise<Committed> {
    const idem = c.idempotency;
    if (idem) {
      const row = await tx.idempotency.find(c.accountId, idem.key);
      if (row && row.createdAt <= c.now - IDEMPOTENCY_TTL_MS) await tx.idempotency.remove(c.accountId, idem.key);
      else if (row) {
        if (row.requestHash !== idem.requestHash) throw new TnError('idempotency_key_reused', KEY_REUSED);
        if (row.orderId !== null && row.response !== null) return { kind: 'replayed', orderId: row.orderId, response: row.response };
        if (row.token !== idem.token) throw new KeyBusy();
      }
    }
    await this.guard.admit(tx, c.accountId, c.platform, c.country, c.now);
    const phone = await this.pickPhone(tx, c);
    if (phone === null) throw new TnError('no_numbers', `No ${c.platform.id} numbers are free in "${c.country}" right now: try another country or later.`);
    // The tier is read in the same transaction that debits, so the price matches the count at commit.
    const price = c.priceFor(await tx.accounts.completedOrders(c.accountId));
    if (c.maxPrice !== undefined && price > c.maxPrice) throw aboveLimit(price, c.maxPrice);
    const id = newOrderId(c.now);
    const inserted = { id, accountId: c.accountId, platform: c.platform.id, country: c.country, phone, source: c.source.name, price, createdAt: c.now, expiresAt: c.expiresAt, smsDueAt: c.smsDueAt };
    await tx.orders.insert(inserted);
    if (!(await this.ledger.move(tx, { accountId: c.accountId, kind: 'order_debit', amount: -price, orderId: id, note: c.platform.id, at: c.now }))) {
      const account = await tx.accounts.get(c.accountId);
      if (!account) throw new TnError('unauthorized', 'Unknown account.');
      throw insufficientBalance(account.balance, price);
    }
    if (c.upstream) {
      await tx.activations.insert({ orderId: id, source: c.source.name, activationId: c.upstream.id, cost: c.upstream.price, status: c.upstream.status, phase: 'first' }, c.now);
    }
    // As inserted: a new order is active, with nothing received, ended or retried yet.
    const order: OrderRecord = { ...inserted, status: 'active', completedAt: null, endedAt: null, refunded: false, retriedAt: null, messages: [] };
    if (idem) {
      const response = JSON.stringify(toOrderView(order));
      if (idem.token) await tx.idempotency.complete(c.accountId, idem.key, id, response);
      else await tx.idempotency.insert({ accountId: c.accountId, key: idem.key, requestHash: idem.requestHash, orderId: id, response, createdAt: c.now });
    }
    tx.afterCommit(() => this.ctx.publish('order.created', order));
    return { kind: 'created', order };
  }

  private pickPhone(tx: Tx, c: Commit): Promise<string | null> {
    const source = c.source;
    if (source.role === 'upstream') return Promise.resolve(c.upstream?.phone ?? null);
    if (source.role === 'gateway') return tx.pool.free(source.name, c.platform.id, c.country, c.now, source.cooldownMs);
    const avoid = c.avoidPhones ?? [];
    return source.numbers.pickPhone(c.platform.id, c.country, async (candidates) => {
      const held = await tx.orders.held(candidates, c.platform.id, c.now);
      for (const phone of avoid) held.add(phone);
      return held;
    });
  }

  /** Checks, before anything is bought upstream, what the order's transaction will check again. */
  private async precheck(c: Commit): Promise<void> {
    const account = await this.accounts.require(c.accountId);
    const price = c.priceFor(await this.ctx.db.read.accounts.completedOrders(c.accountId));
    await this.guard.admit(this.ctx.db.read, c.accountId, c.platform, c.country, c.now);
    if (c.maxPrice !== undefined && price > c.maxPrice) throw aboveLimit(price, c.maxPrice);
    if (account.balance < price) throw insufficientBalance(account.balance, price);
  }

  /**
   * Decides the key before anything is bought: a reservation row (unique per account and key)
   * with a lease. A key another process holds is waited for; one whose holder died (its lease
   * ran out) is taken over.
   */
  private async reserve(accountId: string, idem: Idempotency): Promise<{ token: string } | Extract<Placed, { replayed: Order }>> {
    const token = randomUUID();
    for (;;) {
      const now = this.ctx.now();
      const outcome = await this.ctx.db.transaction(async (tx): Promise<{ token: string } | Extract<Placed, { replayed: Order }> | 'busy'> => {
        const stored = await this.replay(tx.idempotency, accountId, idem);
        if (stored?.replayed) return stored;
        const row = await tx.idempotency.find(accountId, idem.key);
        if (row && row.createdAt <= now - IDEMPOTENCY_TTL_MS) await tx.idempotency.remove(accountId, idem.key);
        else if (row) {
          if (row.leaseUntil !== null && row.leaseUntil > now) return 'busy';
          return (await tx.idempotency.takeOver(accountId, idem.key, row.token ?? '', token, now + RESERVATION_LEASE_MS, now)) ? { token } : 'busy';
        }
        return (await tx.idempotency.reserve({ accountId, key: idem.key, requestHash: idem.requestHash, createdAt: now, leaseUntil: now + RESERVATION_LEASE_MS, token })) ? { token } : 'busy';
      });
      if (outcome !== 'busy') return outcome;
      await sleep(RESERVATION_POLL_MS);
    }
  }

  /** Gives a reservation up (nothing was sold): the key may be used again. */
  private async release(accountId: string, idem: Commit['idempotency']): Promise<void> {
    const token = idem?.token;
    if (!idem || !token) return;
    await this.ctx.db.transaction(async (tx) => {
      const row = await tx.idempotency.find(accountId, idem.key);
      if (row && row.orderId === null && row.token === token) await tx.idempotency.remove(accountId, idem.key);
    });
    delete (idem as { token?: string }).token;
  }
}

/** The request's `max_price` (USD, as the API takes it) joined to the caller's own limit: the lower holds. */
function withMaxPrice(limits: OrderLimits, maxPrice: unknown): OrderLimits {
  if (maxPrice === undefined) return limits;
  const micros = typeof maxPrice === 'number' && maxPrice > 0 ? usdNumberToMicros(maxPrice) : null;
  if (micros === null) throw invalid('Parameter "max_price" must be a positive USD amount, at most 6 decimals (such as 0.25).');
  return { ...limits, maxPrice: limits.maxPrice === undefined ? micros : Math.min(micros, limits.maxPrice) };
}

function requestHash(params: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(params)).digest('hex');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
