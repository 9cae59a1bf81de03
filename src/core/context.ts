import { EventEmitter } from 'node:events';
import type { LedgerEntry } from './accounts/port.js';
import type { Clock } from './clock.js';
import type { Database } from './database.js';
import type { AppendedEvent } from './events/port.js';
import type { OrderRecord } from './orders/order.js';
import type { UpstreamErrorKind } from './sources/providers.js';

/** What changed, for anyone listening in-process: waiters, streams, the scheduler. */
export interface OrderEvent {
  type: 'order.created' | 'sms.received' | 'order.ended' | 'order.retried';
  order: OrderRecord;
}

/** Something the operator should act on: an upstream out of money, refusing our key, and the like. */
export interface SourceAlert {
  source: string;
  code: string;
  message: string;
}

/** What became of one recorded webhook delivery attempt: sent, to be tried again, given up, or its URL disabled (410). */
export interface DeliveryAttempted {
  outcome: 'delivered' | 'retrying' | 'failed' | 'disabled';
  statusCode: number | null;
  durationMs: number;
}

/** The calls tn makes to an upstream provider, by what they are for. */
export type UpstreamCallName = 'purchase' | 'poll' | 'retry' | 'release' | 'balance' | 'price_list';

/** One call to an upstream provider that was sent and ended: how long it took, and its failure if it failed. */
export interface UpstreamCallEnded {
  source: string;
  call: UpstreamCallName;
  durationMs: number;
  error: UpstreamErrorKind | null;
}

/**
 * The in-process bus. The core only emits: it never counts, prints or logs; the server's plugins
 * (logs, `/metrics`) and the waiters subscribe.
 */
export interface CoreEvents {
  /** Every order change, after its commit. */
  order: [OrderEvent];
  /** Every event of the log (webhook payloads), after its commit. */
  outbox: [AppendedEvent];
  alert: [SourceAlert];
  /** An order's due time moved (an upstream poll rescheduled it): its waiters look again. */
  rescheduled: [orderId: string];
  /** Every ledger entry (money in and out), after its commit. */
  ledger: [LedgerEntry];
  /** A webhook delivery attempt, once recorded. */
  delivery: [DeliveryAttempted];
  /** An upstream call that ended (not one our own rate limit held back). */
  upstream: [UpstreamCallEnded];
}

/**
 * What every domain module shares: the database, the clock and the in-process event bus. Modules
 * are built in a fixed order, each given only the modules before it, so no two depend on each other.
 */
export class CoreContext {
  readonly bus = new EventEmitter<CoreEvents>();

  constructor(
    readonly db: Database,
    readonly clock: Clock,
  ) {
    this.bus.setMaxListeners(0);
  }

  now(): number {
    return this.clock.now();
  }

  /** Tells in-process listeners that an order changed; call it after the change committed. */
  publish(type: OrderEvent['type'], order: OrderRecord): void {
    this.bus.emit('order', { type, order });
  }
}
