import { TnError } from '../errors.js';
import { toUsd, type Micros } from '../money.js';

export type OrderStatus = 'active' | 'completed' | 'cancelled' | 'expired' | 'failed';
export type RefundedStatus = 'cancelled' | 'expired' | 'failed';

export const ORDER_STATUSES: readonly OrderStatus[] = ['active', 'completed', 'cancelled', 'expired', 'failed'];

/**
 * The state machine of API.md §3: an active order ends exactly once; the only way back is a retry
 * of a completed order that has not reached `expires_at`.
 */
export function canTransition(from: OrderStatus, to: OrderStatus, at: number, expiresAt: number): boolean {
  if (from === 'active') return to !== 'active';
  if (from === 'completed' && to === 'active') return at < expiresAt;
  return false;
}

export const isRefundedStatus = (s: OrderStatus): s is RefundedStatus =>
  s === 'cancelled' || s === 'expired' || s === 'failed';

export interface ReceivedSms {
  code: string | null;
  text: string;
  receivedAt: number;
}

/** An order as the store keeps it: money in micros, times in epoch milliseconds. */
export interface OrderRecord {
  id: string;
  accountId: string;
  platform: string;
  country: string;
  phone: string;
  source: string;
  price: Micros;
  status: OrderStatus;
  createdAt: number;
  expiresAt: number;
  completedAt: number | null;
  endedAt: number | null;
  refunded: boolean;
  /** When the next SMS is due (a simulated one, or the next poll of an upstream); null when none is scheduled. */
  smsDueAt: number | null;
  /** When it was last retried; null if never. */
  retriedAt: number | null;
  /** SMS accepted for this order, oldest first. */
  messages: ReceivedSms[];
}

/** The order object of the API (API.md §3). */
export interface Order {
  order_id: string;
  platform: string;
  country: string;
  phone: string;
  price: number;
  status: OrderStatus;
  code: string | null;
  sms: string | null;
  codes: string[];
  refunded: boolean;
  created_at: string;
  expires_at: string;
  completed_at: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** When an active order next has something due: its SMS if one is scheduled before it expires, else its expiry. */
export function nextDueAt(rec: OrderRecord): number {
  return Math.min(rec.smsDueAt ?? Infinity, rec.expiresAt);
}

export function toOrderView(rec: OrderRecord): Order {
  const last = rec.messages.at(-1);
  return {
    order_id: rec.id,
    platform: rec.platform,
    country: rec.country,
    phone: rec.phone,
    price: toUsd(rec.price),
    status: rec.status,
    code: last?.code ?? null,
    sms: last?.text ?? null,
    codes: rec.messages.flatMap((m) => (m.code ? [m.code] : [])),
    refunded: rec.refunded,
    created_at: iso(rec.createdAt),
    expires_at: iso(rec.expiresAt),
    completed_at: rec.completedAt === null ? null : iso(rec.completedAt),
  };
}

export const orderNotActive = (rec: OrderRecord, action: string): TnError =>
  new TnError('order_not_active', `Order ${rec.id} is ${rec.status}: it cannot be ${action}.`, { order_status: rec.status });
