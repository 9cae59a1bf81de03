/**
 * The webhook outbox as the deliverer sees it: what is due, and the record of each attempt with
 * what came of it. The HTTP side (signing, the SSRF guard, timeouts) lives with the server; the
 * state lives here, in the database, so any process carries on after a restart.
 */
import type { CoreContext, DeliveryAttempted } from '../context.js';
import type { DeliveryAttempt, DueDelivery } from './port.js';

export type DeliveryOutcome = { kind: 'delivered' } | { kind: 'retry'; at: number } | { kind: 'failed' } | { kind: 'disable'; reason: string };

const TOLD: Record<DeliveryOutcome['kind'], DeliveryAttempted['outcome']> = { delivered: 'delivered', retry: 'retrying', failed: 'failed', disable: 'disabled' };

export class DeliveryLog {
  constructor(private readonly ctx: CoreContext) {}

  /**
   * The due deliveries, each claimed for `leaseMs` (the sender renews it while the attempt runs):
   * two processes or instances never send the same one, and one that dies mid-attempt leaves it
   * to be sent again when the lease runs out.
   */
  claim(now: number, limit: number, leaseMs: number): Promise<DueDelivery[]> {
    return this.ctx.db.transaction((tx) => tx.webhooks.claimDue(now, limit, now + leaseMs));
  }

  /** Keeps claimed deliveries claimed while their attempts run; one already recorded (its lease replaced) is left alone. */
  async renew(deliveryIds: readonly number[], leaseUntil: number, nextLease: number): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.ctx.db.transaction(async (tx) => {
      for (const id of deliveryIds) await tx.webhooks.extendClaim(id, leaseUntil, nextLease);
    });
  }

  nextDueAt(): Promise<number | null> {
    return this.ctx.db.read.webhooks.nextDueAt();
  }

  /**
   * Records one attempt, told on the bus once committed; a delivery that is no longer pending (its
   * URL was removed meanwhile) changes nothing.
   */
  async record(deliveryId: number, attempt: DeliveryAttempt, outcome: DeliveryOutcome): Promise<void> {
    await this.ctx.db.transaction(async (tx) => {
      const delivery = await tx.webhooks.delivery(deliveryId);
      if (!delivery || delivery.state !== 'pending') return;
      const next = outcome.kind === 'retry' ? outcome.at : null;
      await tx.webhooks.addAttempt(deliveryId, delivery.accountId, attempt, next);
      tx.afterCommit(() => this.ctx.bus.emit('delivery', { outcome: TOLD[outcome.kind], statusCode: attempt.statusCode, durationMs: attempt.durationMs }));
      const finished = attempt.at + attempt.durationMs;
      switch (outcome.kind) {
        case 'delivered':
          return tx.webhooks.finish(deliveryId, 'delivered', finished, null);
        case 'retry':
          return tx.webhooks.finish(deliveryId, 'pending', finished, outcome.at);
        case 'failed':
          return tx.webhooks.finish(deliveryId, 'failed', finished, null);
        case 'disable':
          // A 410 stops the URL: nothing more of this account is sent until the owner sets one again.
          await tx.webhooks.disable(delivery.accountId, finished, outcome.reason);
          await tx.webhooks.redirectPending(delivery.accountId, null, finished);
          return tx.webhooks.finish(deliveryId, 'failed', finished, null);
      }
    });
  }
}
