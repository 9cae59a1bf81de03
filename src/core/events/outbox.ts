import type { CoreContext } from '../context.js';
import type { Tx } from '../database.js';
import { ulid } from '../ids.js';
import type { OutboxEvent } from './port.js';

/** The event types of the account's log: the webhook types of API.md §6, the deposits' (issue 16), and the test event. */
export type EventType = 'sms.received' | 'order.failed' | 'balance.low' | 'deposit.pending' | 'deposit.credited' | 'webhook.test';

/**
 * The account's event log: what webhooks deliver and `/events` streams. An event is written in
 * the unit of work of the change it reports, so it exists if and only if the change does.
 */
export class Outbox {
  constructor(private readonly ctx: CoreContext) {}

  async emit(tx: Tx, accountId: string, type: EventType, data: unknown, at: number): Promise<OutboxEvent> {
    const event = await tx.events.append({
      msgId: `msg_${ulid(at)}`,
      accountId,
      type,
      payload: JSON.stringify({ type, timestamp: new Date(at).toISOString(), data }),
      createdAt: at,
    });
    tx.afterCommit(() => this.ctx.bus.emit('outbox', event));
    return event;
  }

  /** Where a stream resumes: the position of the event a client saw last (its `msg_…` id); undefined when unknown. */
  async position(accountId: string, lastEventId: string | undefined): Promise<number | undefined> {
    if (lastEventId === undefined || !/^msg_[0-9A-Z]{26}$/.test(lastEventId)) return undefined;
    return (await this.ctx.db.read.events.position(accountId, lastEventId)) ?? undefined;
  }

  /** Where a stream that asked to resume from nothing starts: after everything already written. */
  latest(accountId: string): Promise<number> {
    return this.ctx.db.read.events.latest(accountId);
  }

  after(accountId: string, afterId: number, limit = 1000): Promise<OutboxEvent[]> {
    return this.ctx.db.read.events.after(accountId, afterId, limit);
  }
}
