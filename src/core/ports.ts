import type { Micros } from './money.js';
import type { OrderRecord, OrderStatus, RefundedStatus } from './orders/order.js';

/**
 * What the core needs from storage. Every method that changes money is one atomic step of the
 * store, so that the rules "no overdraft", "one debit, at most one refund" and "an order ends
 * once" hold however many processes share the data.
 */
export interface Store {
  createAccount(account: NewAccount): Promise<void>;
  accountIdByKeyHash(keyHash: string): Promise<string | null>;
  countAccounts(): Promise<number>;
  getAccount(accountId: string): Promise<AccountRecord | null>;
  /** Completed orders of the account, which set its loyalty tier. */
  completedOrders(accountId: string): Promise<number>;
  /** Appends a `deposit` or `adjustment` entry and returns the new balance. Refuses to go below zero. */
  credit(accountId: string, amount: Micros, kind: 'deposit' | 'adjustment', note: string, at: number): Promise<Micros>;
  placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult>;
  /** The order an idempotency key created within the last 24 h as of `now`, if any (with the stored hash of its request). */
  idempotentOrder(accountId: string, key: string, now: number): Promise<{ orderId: string; requestHash: string; response: string } | null>;
  getOrder(orderId: string): Promise<OrderRecord | null>;
  recentOrders(accountId: string, limit: number): Promise<OrderRecord[]>;
  recordSms(sms: IncomingSms): Promise<SmsOutcome>;
  /**
   * active → a refunded final state, with its refund entry; null when the order was no longer
   * active. An order that already received a code (a retry in progress) goes back to completed
   * instead, without a refund.
   */
  endOrder(orderId: string, status: RefundedStatus, at: number): Promise<OrderRecord | null>;
  /** completed → active before `expires_at`; null when that transition is not allowed any more. */
  retryOrder(orderId: string, at: number, smsDueAt: number | null): Promise<OrderRecord | null>;
  dueWork(now: number, limit: number): Promise<DueWork>;
  /** Forgets a scheduled delivery that cannot happen (its source is gone), so that expiry takes over. */
  dropDelivery(orderId: string, dueAt: number): Promise<void>;
  /** Earliest moment anything (an SMS, an expiry) falls due; null when nothing is pending. */
  nextDueAt(): Promise<number | null>;
  /** Prices the operator set per platform and country (others come from the catalogue). */
  priceOverrides(): Promise<PriceOverride[]>;
  /** Sets (or with null removes) the price of a platform in a country; `*` is every country. */
  setPrice(platform: string, country: string, price: Micros | null): Promise<void>;
  /** One page of an account's orders, newest first, and how many match in all. */
  listOrders(accountId: string, filter: OrderFilter, limit: number, offset: number): Promise<{ orders: OrderRecord[]; total: number }>;
  /** Orders of one account, platform and country created after a moment: what the delivery-rate guard looks at. */
  guardWindow(accountId: string, platform: string, country: string, since: number): GuardWindow;
  /** Numbers held by orders, per platform and country: active ones, and completed ones that may still be retried. */
  numbersInUse(now: number): Promise<{ source: string; platform: string; country: string; count: number }[]>;
  orderFacts(filter: { since: number; accountId?: string }): Promise<OrderFact[]>;
  audit(): Promise<AuditReport>;
  // ── webhooks: the outbox, deliveries and their attempts ──
  /** Sets (or with null removes) the URL; pending deliveries follow the new URL, due now. Clears a disabled state. */
  setWebhook(accountId: string, url: string | null, at: number, lowBalanceThreshold?: Micros): Promise<void>;
  webhookSettings(accountId: string): Promise<WebhookSettings | null>;
  /** A new current secret; the old one keeps signing until `previousUntil`. */
  rotateWebhookSecret(accountId: string, secret: string, previousUntil: number): Promise<void>;
  /** Writes an event (and its delivery, if a URL is set) on its own, e.g. a test event. */
  emitEvent(accountId: string, type: string, data: unknown, at: number): Promise<OutboxEvent>;
  /** Called after each commit with the events it wrote, in order. */
  onEvents(listener: (events: OutboxEvent[]) => void): void;
  eventsAfter(accountId: string, afterId: number, limit: number): Promise<OutboxEvent[]>;
  /** The outbox position of an account's event by its webhook-id; null if unknown. */
  eventPosition(accountId: string, msgId: string): Promise<number | null>;
  /** For each account, its oldest pending delivery if it is due: deliveries of one account go in order. */
  dueDeliveries(now: number, limit: number): Promise<DueDelivery[]>;
  nextDeliveryAt(): Promise<number | null>;
  recordAttempt(deliveryId: number, attempt: DeliveryAttempt, outcome: DeliveryOutcome): Promise<void>;
  recentAttempts(accountId: string, limit: number): Promise<AttemptLog[]>;
  /** A cheap read that fails when the database cannot be read. */
  // ── sources (issue 7): the operator's gateways and upstreams, their numbers, inbound messages ──
  listSources(): Promise<SourceRecord[]>;
  /** Throws `invalid_request` when the name is taken. */
  addSource(source: SourceRecord): Promise<void>;
  setSourceEnabled(name: string, enabled: boolean): Promise<boolean>;
  /** Removes the source and its pool numbers; refused (`invalid_request`) while it has active orders. */
  removeSource(name: string): Promise<boolean>;
  listPool(): Promise<PoolNumber[]>;
  /** Throws `invalid_request` when the number (or the device and SIM slot) is already in the pool. */
  addPoolNumber(entry: PoolNumber): Promise<void>;
  /** Refused (`invalid_request`) while an order is active on the number. */
  removePoolNumber(phone: string): Promise<boolean>;
  /**
   * Pool numbers in use per platform: `releasedAt` null while an order holds it (or may still take
   * a retry), else when its last order let go of it, if after `since` (for cool-downs).
   */
  heldNumbers(since: number): Promise<{ phone: string; platform: string; releasedAt: number | null }[]>;
  /**
   * Stores an inbound message once (a repeated gateway message id is a duplicate) and, in the same
   * transaction, gives it to the active order `choose` picks among those on the receiving number.
   */
  recordInbound(message: InboundRecord, choose: (candidates: OrderRecord[]) => OrderRecord | null): Promise<InboundOutcome>;
  inbox(filter: { unmatchedOnly: boolean; limit: number }): Promise<InboxEntry[]>;
  activation(orderId: string): Promise<ActivationRecord | null>;
  updateActivation(orderId: string, status: string, awaiting: string | null, at: number): Promise<void>;
  /** Moves an order's next due time (a poll of its upstream) if it is still `dueAt`. */
  /** False when the due time is not `dueAt` any more (another process took it, or the order ended). */
  reschedule(orderId: string, dueAt: number, nextAt: number): Promise<boolean>;
  recordSourceError(source: string, code: string, message: string, at: number): Promise<void>;
  /** The last `limit` ended orders of a source: how many, how many got an SMS. */
  sourceRecord(source: string, limit: number): Promise<{ ended: number; delivered: number }>;
  /** Orders a source served for one platform in one country since `since` (for an upstream's delivery rule). */
  sourceGuardWindow(source: string, platform: string, country: string, since: number): GuardWindow;
  sourceStats(now: number): Promise<SourceStats[]>;
  /**
   * Takes one token from a bucket of `max` tokens refilled over `windowMs`, shared by every process
   * on the database; returns 0 when taken, else milliseconds until one is free (or the block lifts).
   */
  takeToken(key: string, max: number, windowMs: number, now: number): Promise<number>;
  blockBucket(key: string, until: number): Promise<void>;
  cached(source: string, key: string): Promise<{ value: string; fetchedAt: number } | null>;
  cache(source: string, key: string, value: string, at: number): Promise<void>;
  ping(): Promise<void>;
  /** Changes whenever another connection commits: a cheap way to notice other processes' work. */
  changeCounter(): number;
  close(): Promise<void>;
}

export interface NewAccount {
  id: string;
  keyHash: string;
  webhookSecret: string;
  createdAt: number;
  credit: Micros;
  creditNote: string;
  sandbox: boolean;
}

export interface AccountRecord {
  id: string;
  balance: Micros;
  createdAt: number;
  sandbox: boolean;
  webhookUrl: string | null;
}

export interface PlaceOrderInput {
  accountId: string;
  orderId: string;
  platform: string;
  country: string;
  source: string;
  /** The price for an account with this many completed orders (read inside the order's transaction). */
  priceFor(completedOrders: number): Micros;
  createdAt: number;
  expiresAt: number;
  smsDueAt: number | null;
  /** Chooses a free number, asking the store which are held; null when none is left. */
  pickPhone(isTaken: (phone: string) => boolean): string | null;
  idempotency?: { key: string; requestHash: string; respond(order: OrderRecord): string };
  /** Refuse (invalid_request) if the price is above this. */
  maxPrice?: Micros;
  /** Checked inside the order's transaction: throws to refuse the order (the delivery-rate guard). */
  admit?(window: (since: number) => GuardWindow): void;
  /** A number of an operator's pool: the store picks a free one inside the transaction (pickPhone is not called). */
  pool?: { source: string; cooldownMs: number };
  /** The upstream activation behind the order, recorded with it. */
  upstream?: { activationId: string; cost: Micros; status: string };
}

export type PlaceOrderResult =
  | { kind: 'created'; order: OrderRecord }
  | { kind: 'replayed'; orderId: string; response: string };

export interface IncomingSms {
  orderId: string;
  text: string;
  code: string | null;
  sender: string;
  receivedAt: number;
  /** For scheduled deliveries: deliver only if this is still the order's pending delivery. */
  dueAt?: number;
}

export type SmsOutcome =
  | { accepted: true; order: OrderRecord }
  | { accepted: false; reason: 'not_active' | 'stale' | 'unknown_order'; order: OrderRecord | null };

export interface DueWork {
  /** Orders whose scheduled SMS is due (before their expiry). */
  deliveries: { orderId: string; platform: string; source: string; dueAt: number; expiresAt: number }[];
  /** Active orders past `expires_at` with no SMS due before it. */
  expiries: { orderId: string; expiresAt: number }[];
}

export interface OrderFact {
  accountId: string;
  platform: string;
  country: string;
  status: OrderStatus;
  price: Micros;
  refunded: boolean;
  createdAt: number;
  completedAt: number | null;
  /** First SMS accepted, for delivery-time statistics. */
  firstSmsAt: number | null;
}

export interface AuditReport {
  accounts: number;
  orders: number;
  ledgerEntries: number;
  violations: string[];
}

/** An event of the outbox: `payload` is the exact JSON body a webhook delivers. */
export interface OutboxEvent {
  id: number;
  msgId: string;
  accountId: string;
  type: string;
  payload: string;
  createdAt: number;
}

export interface WebhookSettings {
  url: string | null;
  secret: string;
  previousSecret: string | null;
  previousUntil: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
  lowBalanceThreshold: Micros;
}

export interface DueDelivery {
  id: number;
  attempts: number;
  url: string;
  event: OutboxEvent;
}

export interface DeliveryAttempt {
  at: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export type DeliveryOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: number }
  | { kind: 'failed' }
  | { kind: 'disable'; reason: string };

export interface AttemptLog {
  webhookId: string;
  type: string;
  at: number;
  statusCode: number | null;
  error: string | null;
  attempt: number;
  state: 'pending' | 'delivered' | 'failed';
}

export interface PriceOverride {
  platform: string;
  country: string;
  price: Micros;
}

export interface OrderFilter {
  status?: OrderStatus;
  platform?: string;
  country?: string;
  since?: number;
  until?: number;
}

/** Totals of the window, and its orders oldest first when asked (only a refusal needs them). */
export interface GuardWindow {
  orders: number;
  ended: number;
  delivered: number;
  list(): GuardOrder[];
}

export interface GuardOrder {
  createdAt: number;
  /** completed, cancelled, expired or failed: orders still waiting are not judged. */
  ended: boolean;
  /** Received an SMS. */
  delivered: boolean;
}

export type SourceKind = 'simulator' | 'twilio' | 'android-gateway' | 'httpsms' | 'jasmin' | 'generic' | 'tempnumber';

export interface SourceRecord {
  name: string;
  kind: SourceKind;
  /** The auth token, signing key or bearer token the gateway proves itself with; the API key of an upstream. */
  secret: string | null;
  settings: SourceSettings;
  /** What one number costs the operator, for routing. */
  cost: Micros;
  enabled: boolean;
  createdAt: number;
}

export interface SourceSettings {
  baseUrl?: string;
  /** Upstream markup: a percentage of its price, or a fixed amount in micro-USD. */
  markupPercent?: number;
  markupMicros?: Micros;
  pollMs?: number;
  /** A pool number's rest after an order, per platform (own gateways). */
  cooldownMs?: number;
  /** The origin gateways call, as given to `add`, for the inbound URL shown later. */
  publicUrl?: string;
}

export interface PoolNumber {
  phone: string;
  source: string;
  country: string;
  /** Platform ids, or '*' for all. */
  platforms: string[] | '*';
  device: string | null;
  sim: number | null;
  addedAt: number;
}

export interface InboundRecord {
  source: string;
  messageId: string | null;
  to: string | null;
  from: string;
  text: string;
  receivedAt: number;
  device: { id: string; sim: number | null } | null;
  storedAt: number;
  /** The code read from the text, per candidate platform. */
  codeFor(platform: string): string | null;
}

/** A repeated message changes nothing; a new one is stored, and completes the order it was for, if any. */
export type InboundOutcome = { duplicate: true } | { duplicate: false; order: OrderRecord | null };

export interface InboxEntry {
  id: number;
  source: string;
  messageId: string | null;
  to: string | null;
  from: string;
  device: string | null;
  sim: number | null;
  text: string;
  receivedAt: number;
  orderId: string | null;
}

export interface ActivationRecord {
  orderId: string;
  source: string;
  activationId: string;
  cost: Micros;
  status: string;
  awaiting: string | null;
}

export interface SourceStats {
  source: string;
  active: number;
  ended: number;
  delivered: number;
  medianDeliveryMs: number | null;
  errorsLastHour: number;
  lastError: { at: number; code: string; message: string } | null;
}
