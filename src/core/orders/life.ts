import type { Ledger } from '../accounts/ledger.js';
import type { CoreContext } from '../context.js';
import type { Tx } from '../database.js';
import { invalid, notFound } from '../errors.js';
import type { Outbox } from '../events/outbox.js';
import { ORDER_ID_MAX } from '../limits.js';
import { toOrderView, type OrderRecord, type RefundedStatus } from './order.js';

export interface IncomingSms {
  text: string;
  code: string | null;
  sender: string;
  receivedAt: number;
}

/**
 * The order state machine of API.md §3, as steps inside units of work: an active order ends
 * exactly once, with its refund; an SMS completes it; a retry reopens a completed one. Each step
 * writes its ledger entry and its event with it, and publishes after the commit.
 */
export class OrderLife {
  constructor(
    private readonly ctx: CoreContext,
    private readonly ledger: Ledger,
    private readonly outbox: Outbox,
  ) {}

  /** Keeps the SMS and completes the order if it is still active; null (the SMS kept for audit) when it was not. */
  async acceptSms(tx: Tx, order: OrderRecord, sms: IncomingSms): Promise<OrderRecord | null> {
    const completed = order.status === 'active' && (await tx.orders.complete(order.id, sms.receivedAt));
    await tx.orders.addSms(order.id, { ...sms, accepted: completed });
    if (!completed) return null;
    await tx.accounts.addCompleted(order.accountId, 1);
    const done = (await tx.orders.get(order.id))!;
    await this.outbox.emit(tx, order.accountId, 'sms.received', toOrderView(done), sms.receivedAt);
    tx.afterCommit(() => this.ctx.publish('sms.received', done));
    return done;
  }

  /**
   * active → a refunded final state, with its refund entry; null when the order was not active
   * any more. An order that already received a code (a retry in progress) goes back to completed
   * instead, without a refund.
   */
  async end(tx: Tx, orderId: string, status: RefundedStatus, at: number): Promise<OrderRecord | null> {
    const lastSms = await tx.orders.lastAcceptedSmsAt(orderId);
    if (lastSms !== null) {
      const accountId = await tx.orders.backToCompleted(orderId, lastSms);
      if (accountId === null) return null;
      await tx.accounts.addCompleted(accountId, 1);
      return this.published(tx, 'order.ended', orderId);
    }
    const ended = await tx.orders.endRefunded(orderId, status, at);
    if (!ended) return null;
    await this.ledger.move(tx, { accountId: ended.accountId, kind: 'refund', amount: ended.price, orderId, note: status, at });
    const order = (await tx.orders.get(orderId))!;
    // A cancel is the owner's own doing; an expiry or a failure is news to a webhook.
    if (status !== 'cancelled') await this.outbox.emit(tx, ended.accountId, 'order.failed', toOrderView(order), at);
    tx.afterCommit(() => this.ctx.publish('order.ended', order));
    return order;
  }

  /** `end` as its own unit of work. */
  endNow(orderId: string, status: RefundedStatus, at = this.ctx.now()): Promise<OrderRecord | null> {
    return this.ctx.db.transaction((tx) => this.end(tx, orderId, status, at));
  }

  /** completed → active before `expires_at`, waiting for the SMS due at `smsDueAt`; null when that is not allowed any more. */
  async reopen(tx: Tx, orderId: string, at: number, smsDueAt: number | null): Promise<OrderRecord | null> {
    const accountId = await tx.orders.reopen(orderId, at, smsDueAt);
    if (accountId === null) return null;
    await tx.accounts.addCompleted(accountId, -1);
    return this.published(tx, 'order.retried', orderId);
  }

  /** An order of this account; another account's order is "not found": its existence is not revealed. */
  async own(accountId: string, orderId: unknown): Promise<OrderRecord> {
    const rec = await this.ctx.db.read.orders.get(checkOrderId(orderId));
    if (!rec || rec.accountId !== accountId) throw notFound(`Order ${String(orderId)}`);
    return rec;
  }

  /** An order of this account by its numeric alias; another account's number is "not found" too. */
  async ownByNumber(accountId: string, num: number): Promise<OrderRecord> {
    const rec = Number.isSafeInteger(num) && num > 0 ? await this.ctx.db.read.orders.byNumber(accountId, num) : null;
    if (!rec) throw notFound(`Order number ${String(num)}`);
    return rec;
  }

  async get(orderId: string): Promise<OrderRecord> {
    const rec = await this.ctx.db.read.orders.get(orderId);
    if (!rec) throw notFound(`Order ${orderId}`);
    return rec;
  }

  private async published(tx: Tx, type: 'order.ended' | 'order.retried', orderId: string): Promise<OrderRecord> {
    const order = (await tx.orders.get(orderId))!;
    tx.afterCommit(() => this.ctx.publish(type, order));
    return order;
  }
}

export function checkOrderId(orderId: unknown): string {
  if (typeof orderId !== 'string' || orderId === '' || orderId.length > ORDER_ID_MAX) throw invalid('An order id such as "ord_01J…" is required.');
  return orderId;
}
