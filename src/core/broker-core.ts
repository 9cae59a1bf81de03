/**
 * The broker's one façade: the object the CLI, the server, the TUI and the library use. It builds
 * the domain modules in dependency order (each given only those before it) and forwards to them;
 * no rule lives here.
 */
import type { Agent } from './agent/answer.js';
import { randomUUID } from 'node:crypto';
import { Accounts } from './accounts/accounts.js';
import { audit, type AuditReport } from './accounts/audit.js';
import { Ledger } from './accounts/ledger.js';
import type {
  AccountInfo,
  AgentAnswer,
  Availability,
  BatchResult,
  DeliveryGuardState,
  OrderPage,
  OrderQuery,
  OrderRequest,
  PriceList,
  Registration,
  ServicesList,
  Usage,
  VerifyRequest,
  VerifiedOrder,
  WebhookInfo,
} from './broker.js';
import { AccountGuard, DEFAULT_DELIVERY_GUARD, type DeliveryGuard } from './catalogue/delivery-guard.js';
import { Listings } from './catalogue/listings.js';
import { Pricing } from './catalogue/pricing.js';
import { systemClock, type Clock } from './clock.js';
import { CoreContext } from './context.js';
import type { Database } from './database.js';
import { Deposits, type DepositList, type DepositSettings } from './deposits/deposits.js';
import { TnError } from './errors.js';
import { Outbox } from './events/outbox.js';
import type { OutboxEvent } from './events/port.js';
import { ORDER_TTL_MS } from './limits.js';
import type { Micros } from './money.js';
import { History } from './orders/history.js';
import { OrderLife } from './orders/life.js';
import { orderNotActive, toOrderView, type Order } from './orders/order.js';
import { Placing, type OrderLimits } from './orders/placing.js';
import { Retrying } from './orders/retry.js';
import type { InboundParser, InboundReply, InboundRequest, NumberSource, UpstreamFactory } from './sources/providers.js';
import { InboundSms } from './sources/inbound.js';
import { SourceAdmin, type NewSource, type SourceOverview } from './sources/operator.js';
import type { InboxEntry, PoolNumber, SourceRecord } from './sources/port.js';
import { SourceRegistry, type SuccessFloor } from './sources/registry.js';
import { Router } from './sources/routing.js';
import { Upstreams } from './sources/upstream.js';
import { Scheduler } from './waiting/scheduler.js';
import { Verifying, type AttemptPlan, type VerifyControl } from './waiting/verify.js';
import { Waiting, type WaitSettings } from './waiting/waiting.js';
import { DeliveryLog } from './webhooks/delivery.js';
import { Webhooks } from './webhooks/settings.js';

export interface CoreOptions {
  db: Database;
  /** The built-in sources (the simulator), serving every order while the database configures none. */
  sources: readonly NumberSource[];
  /** Builds the client of an upstream source (TempNumber) from its record. */
  upstreams?: UpstreamFactory;
  /** The gateway formats, loaded when the first inbound message comes. */
  inboundParser?: () => Promise<InboundParser>;
  poolCooldownMs?: number;
  successFloor?: SuccessFloor;
  clock?: Clock;
  orderTtlMs?: number;
  /** Crypto deposits (issue 16): the operator's account keys, chain indexes and rates; the sandbox has none. */
  deposits?: DepositSettings;
  /** The delivery-rate guard (TempNumber's 7% rule); `false` turns it off. */
  deliveryGuard?: DeliveryGuard | false;
}

const noParser = (): Promise<InboundParser> => Promise.reject(new TnError('unavailable', 'This broker takes no inbound messages.'));

export class BrokerCore {
  /** This process's broker among the instances sharing a database (shown by `GET /health`). */
  readonly instanceId = randomUUID();
  readonly db: Database;
  /** `order`: every order change, in-process; `outbox`: every webhook event, once committed; `alert`: for the operator. */
  readonly events;
  readonly registry: SourceRegistry;
  readonly deliveries: DeliveryLog;
  private readonly ctx: CoreContext;
  private readonly accounts: Accounts;
  private readonly deposits: Deposits;
  private readonly guard: AccountGuard;
  private readonly pricing: Pricing;
  private readonly outbox: Outbox;
  private readonly life: OrderLife;
  private readonly upstreams: Upstreams;
  private readonly router: Router;
  private readonly scheduler: Scheduler;
  private readonly waiting: Waiting;
  private readonly placing: Placing;
  private readonly verifying: Verifying;
  private readonly retrying: Retrying;
  private readonly history: History;
  private readonly listings: Listings;
  private readonly webhooks: Webhooks;
  private readonly inboundSms: InboundSms;
  private readonly sourceAdmin: SourceAdmin;
  /** The agent and its parser, loaded by the first query: no other command pays for its vocabulary. */
  private agentAnswers: Promise<Agent> | undefined;

  constructor(options: CoreOptions) {
    const ctx = new CoreContext(options.db, options.clock ?? systemClock);
    this.ctx = ctx;
    this.db = options.db;
    this.events = ctx.bus;
    this.outbox = new Outbox(ctx);
    const ledger = new Ledger(ctx, this.outbox);
    this.deposits = new Deposits(ctx, ledger, this.outbox, options.deposits ?? null);
    this.accounts = new Accounts(ctx, ledger, this.deposits);
    this.guard = new AccountGuard(options.deliveryGuard === false ? null : (options.deliveryGuard ?? DEFAULT_DELIVERY_GUARD));
    this.pricing = new Pricing(ctx);
    this.life = new OrderLife(ctx, ledger, this.outbox);
    this.upstreams = new Upstreams(ctx, this.life);
    this.registry = new SourceRegistry(ctx, {
      defaults: options.sources,
      upstreams: options.upstreams,
      poolCooldownMs: options.poolCooldownMs,
      successFloor: options.successFloor,
      onUpstreamError: this.upstreams.onRegistryError,
    });
    this.router = new Router(ctx, this.registry);
    this.scheduler = new Scheduler(ctx, this.registry, this.life, this.upstreams);
    this.waiting = new Waiting(ctx, this.scheduler);
    this.placing = new Placing(ctx, this.accounts, ledger, this.pricing, this.guard, this.router, this.upstreams, options.orderTtlMs ?? ORDER_TTL_MS);
    this.verifying = new Verifying(ctx, this.placing, this.waiting, this.life, this.upstreams);
    this.retrying = new Retrying(ctx, this.registry, this.life, this.upstreams);
    this.history = new History(ctx, this.scheduler);
    this.listings = new Listings(ctx, this.accounts, this.pricing, this.router, this.scheduler);
    this.webhooks = new Webhooks(ctx, this.outbox);
    this.deliveries = new DeliveryLog(ctx);
    this.inboundSms = new InboundSms(ctx, this.registry, this.life, this.upstreams, options.inboundParser ?? noParser);
    this.sourceAdmin = new SourceAdmin(ctx, this.registry, this.upstreams, this.life);
  }

  now(): number {
    return this.ctx.now();
  }

  // ── accounts and money ──

  authenticate(apiKey: unknown): Promise<string> {
    return this.accounts.authenticate(apiKey);
  }

  /** The account of a key seen before in this process, without a database read; undefined otherwise. */
  knownKey(apiKey: unknown): string | undefined {
    return this.accounts.knownKey(apiKey);
  }

  register(options: { credit?: Micros; sandbox?: boolean; note?: string } = {}): Promise<Registration> {
    return this.accounts.register(options);
  }

  /** The embedded broker's sandbox key: made once per database, whichever process comes first. */
  sandboxKey(storedKey: string | undefined): Promise<{ apiKey: string; created: boolean }> {
    return this.accounts.sandboxKey(storedKey);
  }

  credit(accountOrKey: string, amount: Micros, note?: string): Promise<{ account_id: string; balance: number }> {
    return this.accounts.credit(accountOrKey, amount, note);
  }

  async account(accountId: string): Promise<AccountInfo> {
    await this.scheduler.catchUp();
    return this.accounts.info(accountId, await this.deliveryGuards(accountId));
  }

  async usage(accountId: string, days?: unknown): Promise<Usage> {
    await this.scheduler.catchUp();
    return this.accounts.usage(accountId, days);
  }

  /** Where the delivery-rate guard refuses this account's orders right now. */
  deliveryGuards(accountId: string): Promise<DeliveryGuardState[]> {
    return this.guard.states(this.db.read, accountId, this.now());
  }

  audit(): Promise<AuditReport> {
    return audit(this.db);
  }

  // ── catalogue ──

  services(accountId?: string): Promise<ServicesList> {
    return this.listings.services(accountId);
  }

  availability(): Promise<Availability> {
    return this.listings.availability();
  }

  prices(accountId: string | undefined, query: { by?: unknown; platform?: unknown; country?: unknown }): Promise<PriceList> {
    return this.listings.prices(accountId, query);
  }

  setPrice(platform: unknown, country: unknown, price: Micros | null): Promise<{ platform: string; country: string; price: number | null }> {
    return this.pricing.set(platform, country, price);
  }

  priceOverrides(): Promise<{ platform: string; country: string; price: number }[]> {
    return this.pricing.overrides();
  }

  // ── orders ──

  async order(accountId: string, request: OrderRequest, limits: OrderLimits = {}): Promise<Order> {
    const placed = await this.placing.place(accountId, request, 'order', limits);
    return placed.replayed ?? toOrderView(placed.order);
  }

  batch(accountId: string, items: unknown, limits: OrderLimits = {}): Promise<BatchResult> {
    return this.placing.batch(accountId, items, limits);
  }

  orders(accountId: string, query: OrderQuery = {}): Promise<OrderPage> {
    return this.history.orders(accountId, query);
  }

  async getOrder(accountId: string, orderId: unknown): Promise<Order> {
    const rec = await this.life.own(accountId, orderId);
    // A read carries out what is due for this order (API.md §3), and costs nothing more otherwise.
    if (!this.scheduler.isDue(rec)) return toOrderView(rec);
    await this.scheduler.processDue();
    // Its own upstream poll, if one started, is part of this read; others' polls run on.
    await this.upstreams.inFlight(rec.id);
    return toOrderView(await this.life.get(rec.id));
  }

  /** The order id behind a numeric alias of this account's (the sms-activate protocol's activation id). */
  async orderIdByNumber(accountId: string, num: number): Promise<string> {
    return (await this.life.ownByNumber(accountId, num)).id;
  }

  /** The numeric aliases of these orders of the account. */
  orderNumbers(accountId: string, orderIds: readonly string[]): Promise<Map<string, number>> {
    return this.db.read.orders.numbers(accountId, orderIds);
  }

  async cancel(accountId: string, orderId: unknown): Promise<Order> {
    await this.scheduler.catchUp();
    const rec = await this.life.own(accountId, orderId);
    const ended = await this.life.endNow(rec.id, 'cancelled');
    if (!ended) throw orderNotActive(await this.life.get(rec.id), 'cancelled');
    return toOrderView(ended);
  }

  async retry(accountId: string, orderId: unknown): Promise<Order> {
    await this.scheduler.catchUp();
    return this.retrying.retry(accountId, orderId);
  }

  /** Waits until the order leaves `active` (or the time is up) and returns it as it then is. */
  async wait(accountId: string, orderId: unknown, settings: WaitSettings = {}): Promise<Order> {
    const rec = await this.life.own(accountId, orderId);
    return toOrderView(await this.waiting.until(rec.id, settings));
  }

  verify(accountId: string, request: VerifyRequest, control: VerifyControl = {}): Promise<VerifiedOrder> {
    return this.verifying.verify(accountId, request, control);
  }

  /** `verify` without the API's bounds on the timeout: for the embedded broker's own callers and tests. */
  verifyWithin(accountId: string, request: OrderRequest, timeoutMs: number, control: VerifyControl & OrderLimits & AttemptPlan = {}): Promise<VerifiedOrder> {
    return this.verifying.within(accountId, request, timeoutMs, control);
  }

  async agent(accountId: string, query: unknown, control: { release?: AbortSignal; signal?: AbortSignal } = {}): Promise<AgentAnswer> {
    this.agentAnswers ??= import('./agent/answer.js').then(
      ({ Agent }) => new Agent(this.ctx, this.accounts, (id) => this.account(id), this.listings, this.pricing, this.router, this.placing, this.verifying),
    );
    return (await this.agentAnswers).answer(accountId, query, control);
  }

  // ── due work ──

  processDue(): Promise<void> {
    return this.scheduler.processDue();
  }

  runScheduler(signal: AbortSignal, options: { maxSleepMs?: number; onError?: (err: unknown) => void } = {}): Promise<void> {
    return this.scheduler.run(signal, options);
  }

  nextDueAt(): Promise<number | null> {
    return this.scheduler.nextDueAt();
  }

  // ── crypto deposits ──

  /** Whether this broker takes crypto deposits at all. */
  get depositsEnabled(): boolean {
    return this.deposits.enabled;
  }

  /** Checks the deposit settings (the account keys) and loads what deriving addresses needs. */
  depositsReady(): Promise<void> {
    return this.deposits.ready();
  }

  /** The account's addresses and deposits; asking makes its addresses watched closely for a while. */
  listDeposits(accountId: string): Promise<DepositList> {
    return this.deposits.list(accountId);
  }

  /** The account's addresses looked at on the chain now, then its deposits. */
  checkDeposits(accountId: string): Promise<DepositList> {
    return this.deposits.check(accountId);
  }

  processDueDeposits(): Promise<void> {
    return this.deposits.processDue();
  }

  runDepositWatcher(signal: AbortSignal, options: { onError?: (err: unknown) => void; maxSleepMs?: number } = {}): Promise<void> {
    return this.deposits.run(signal, options);
  }

  // ── webhooks and the event log ──

  setWebhook(accountId: string, url: unknown, lowBalanceThreshold?: unknown): Promise<{ url: string; secret: string }> {
    return this.webhooks.set(accountId, url, lowBalanceThreshold);
  }

  webhook(accountId: string): Promise<WebhookInfo> {
    return this.webhooks.get(accountId);
  }

  signingSecrets(accountId: string): Promise<string[]> {
    return this.webhooks.signingSecrets(accountId);
  }

  removeWebhook(accountId: string): Promise<void> {
    return this.webhooks.remove(accountId);
  }

  testWebhook(accountId: string): Promise<{ webhook_id: string; type: string }> {
    return this.webhooks.test(accountId);
  }

  rotateWebhookSecret(accountId: string): Promise<{ secret: string; previous_secret_expires_at: string }> {
    return this.webhooks.rotateSecret(accountId);
  }

  eventPosition(accountId: string, lastEventId: string | undefined): Promise<number | undefined> {
    return this.outbox.position(accountId, lastEventId);
  }

  latestEventPosition(accountId: string): Promise<number> {
    return this.outbox.latest(accountId);
  }

  eventsAfter(accountId: string, afterId: number, limit?: number): Promise<OutboxEvent[]> {
    return this.outbox.after(accountId, afterId, limit);
  }

  /** Calls `listener` after commits of other processes or instances: a stream then reads again what it follows. */
  onForeignChange(listener: () => void): () => void {
    return this.db.onForeignChange(listener);
  }

  // ── sources: inbound messages and the operator's commands ──

  inbound(sourceName: string, request: Omit<InboundRequest, 'now'>): Promise<InboundReply> {
    return this.inboundSms.receive(sourceName, request);
  }

  addSource(input: NewSource): Promise<SourceRecord> {
    return this.sourceAdmin.add(input);
  }

  listSources(): Promise<SourceRecord[]> {
    return this.sourceAdmin.list();
  }

  setSourceEnabled(name: string, enabled: boolean): Promise<void> {
    return this.sourceAdmin.setEnabled(name, enabled);
  }

  removeSource(name: string): Promise<void> {
    return this.sourceAdmin.remove(name);
  }

  addPoolNumber(input: Parameters<SourceAdmin['addPoolNumber']>[0]): Promise<PoolNumber> {
    return this.sourceAdmin.addPoolNumber(input);
  }

  listPool(): Promise<PoolNumber[]> {
    return this.sourceAdmin.listPool();
  }

  removePoolNumber(phone: string): Promise<void> {
    return this.sourceAdmin.removePoolNumber(phone);
  }

  inbox(options: { all?: boolean; limit?: number } = {}): Promise<InboxEntry[]> {
    return this.sourceAdmin.inbox(options);
  }

  sourceOverview(options: { balances?: boolean } = {}): Promise<SourceOverview[]> {
    return this.sourceAdmin.overview(options);
  }

  operatorOrder(orderId: unknown): ReturnType<SourceAdmin['order']> {
    return this.sourceAdmin.order(orderId);
  }

  // ── life ──

  async ping(): Promise<void> {
    try {
      await this.db.ping();
    } catch (err) {
      throw new TnError('unavailable', `The database cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async close(): Promise<void> {
    // A poll in flight finishes (its HTTP call is bounded) before the database closes under it.
    await this.upstreams.settled();
    this.waiting.close();
    await this.db.close();
  }
}
