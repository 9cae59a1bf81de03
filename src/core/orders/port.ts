import type { Micros } from '../money.js';
import type { OrderRecord, OrderStatus, RefundedStatus } from './order.js';

/** What the order life cycle needs from storage; every write is one step inside the caller's unit of work. */
export interface OrdersRepo {
  insert(order: NewOrder): Promise<void>;
  get(orderId: string): Promise<OrderRecord | null>;
  /** The account's order with this numeric alias (the sms-activate protocol's activation id); null for another account's. */
  byNumber(accountId: string, num: number): Promise<OrderRecord | null>;
  /** The numeric aliases of these orders of the account, assigned once at insert; others are left out. */
  numbers(accountId: string, orderIds: readonly string[]): Promise<Map<string, number>>;
  recent(accountId: string, limit: number): Promise<OrderRecord[]>;
  /** One page of an account's orders, newest first, and how many match in all. */
  list(accountId: string, filter: OrderFilter, limit: number, offset: number): Promise<{ orders: OrderRecord[]; total: number }>;
  /** Which of these numbers an order holds for the platform (active, or completed and still open to a retry). */
  held(phones: readonly string[], platform: string, now: number): Promise<Set<string>>;
  /** Orders of one account (or one source) for a platform in a country created after `since`: for delivery-rate rules. */
  window(by: 'account' | 'source', who: string, platform: string, country: string, since: number): Promise<GuardWindow>;
  /** active → completed (delivered); false when it was not active. */
  complete(orderId: string, at: number): Promise<boolean>;
  /** active → a refunded end state; its account and price, or null when it was not active. */
  endRefunded(orderId: string, status: RefundedStatus, at: number): Promise<{ accountId: string; price: Micros } | null>;
  /** active → completed again, for a retried order that already had its code; its account, or null. */
  backToCompleted(orderId: string, completedAt: number): Promise<string | null>;
  /** completed → active before `expires_at`; its account, or null. */
  reopen(orderId: string, at: number, smsDueAt: number | null): Promise<string | null>;
  addSms(orderId: string, sms: StoredSms): Promise<void>;
  lastAcceptedSmsAt(orderId: string): Promise<number | null>;
  /** Active orders on a number, served by a source, that got no inbound message at or after `receivedAt`; newest first. */
  activeOnNumber(phone: string, source: string, receivedAt: number): Promise<OrderRecord[]>;
  /** Scheduled SMS (before their expiry) and expiries that have fallen due. */
  dueWork(now: number, limit: number): Promise<DueWork>;
  /** Moves a due time if it is still `dueAt`: false when another process took it or the order ended. */
  reschedule(orderId: string, dueAt: number, nextAt: number | null): Promise<boolean>;
  nextDueAt(): Promise<number | null>;
  numbersInUse(now: number): Promise<{ source: string; platform: string; country: string; count: number }[]>;
  facts(filter: { since: number; accountId?: string }): Promise<OrderFact[]>;
}

/** An order as its unit of work inserts it: active, not yet completed, ended or retried. */
export type NewOrder = Pick<OrderRecord, 'id' | 'accountId' | 'platform' | 'country' | 'phone' | 'source' | 'price' | 'createdAt' | 'expiresAt' | 'smsDueAt'>;

export interface StoredSms {
  sender: string;
  text: string;
  code: string | null;
  accepted: boolean;
  receivedAt: number;
}

export interface OrderFilter {
  status?: OrderStatus;
  platform?: string;
  country?: string;
  since?: number;
  until?: number;
}

export interface DueWork {
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
  firstSmsAt: number | null;
}

/** Totals of a window, and its orders oldest first when asked (only a refusal needs them). */
export interface GuardWindow {
  orders: number;
  ended: number;
  delivered: number;
  list(): Promise<GuardOrder[]>;
}

export interface GuardOrder {
  createdAt: number;
  ended: boolean;
  delivered: boolean;
}

/**
 * Idempotency keys, decided by a unique (account, key) row. A key whose request must buy upstream
 * first is reserved (`pending`, with a lease) before anything is bought, and completed in the
 * order's transaction.
 */
export interface IdempotencyRepo {
  find(accountId: string, key: string): Promise<IdempotencyRow | null>;
  /** False when the key is taken (a row exists, pending or complete). */
  reserve(row: { accountId: string; key: string; requestHash: string; createdAt: number; leaseUntil: number; token: string }): Promise<boolean>;
  /** Takes over a reservation whose lease ran out (its holder died): false if another process did first. */
  takeOver(accountId: string, key: string, oldToken: string, token: string, leaseUntil: number, at: number): Promise<boolean>;
  complete(accountId: string, key: string, orderId: string, response: string): Promise<void>;
  insert(row: { accountId: string; key: string; requestHash: string; orderId: string; response: string; createdAt: number }): Promise<void>;
  remove(accountId: string, key: string): Promise<void>;
}

export interface IdempotencyRow {
  requestHash: string;
  createdAt: number;
  /** Null while reserved. */
  orderId: string | null;
  response: string | null;
  leaseUntil: number | null;
  token: string | null;
}
