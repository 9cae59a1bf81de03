import type { Micros } from './money.js';
import type { OrderRecord, OrderStatus, RefundedStatus } from './order.js';

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
  /** The order an idempotency key already created, if any (with the stored hash of its request). */
  idempotentOrder(accountId: string, key: string): Promise<{ orderId: string; requestHash: string; response: string } | null>;
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
  /** Earliest moment anything (an SMS, an expiry) falls due; null when nothing is pending. */
  nextDueAt(): Promise<number | null>;
  /** Numbers held by orders, per platform and country: active ones, and completed ones that may still be retried. */
  numbersInUse(now: number): Promise<{ platform: string; country: string; count: number }[]>;
  orderFacts(filter: { since: number; accountId?: string }): Promise<OrderFact[]>;
  audit(): Promise<AuditReport>;
  setWebhookUrl(accountId: string, url: string | null): Promise<void>;
  webhook(accountId: string): Promise<{ url: string | null; secret: string } | null>;
  /** A cheap read that fails when the database cannot be read. */
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
  deliveries: { orderId: string; platform: string; source: string; dueAt: number }[];
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
