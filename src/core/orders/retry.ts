import type { CoreContext } from '../context.js';
import { TnError } from '../errors.js';
import type { SourceRegistry } from '../sources/registry.js';
import type { Upstreams } from '../sources/upstream.js';
import type { OrderLife } from './life.js';
import { orderNotActive, toOrderView, type Order, type OrderRecord } from './order.js';

const expiredForRetry = (rec: OrderRecord): TnError =>
  new TnError('order_not_active', `Order ${rec.id} reached its expiry at ${new Date(rec.expiresAt).toISOString()}: order a new number.`);

/** A completed order that has not reached `expires_at` waits for another SMS on the same number, free of charge. */
export class Retrying {
  constructor(
    private readonly ctx: CoreContext,
    private readonly registry: SourceRegistry,
    private readonly life: OrderLife,
    private readonly upstreams: Upstreams,
  ) {}

  async retry(accountId: string, orderId: unknown): Promise<Order> {
    const rec = await this.life.own(accountId, orderId);
    if (rec.status !== 'completed') throw orderNotActive(rec, 'retried (only a completed order can wait for another code)');
    const now = this.ctx.now();
    const source = await this.registry.of(rec);
    let dueAt: number | null = null;
    if (source.role === 'simulator') {
      const delay = source.numbers.planDelivery('retry');
      dueAt = delay === null ? null : now + delay;
    } else if (source.role === 'upstream') {
      if (rec.expiresAt <= now) throw expiredForRetry(rec);
      dueAt = await this.upstreams.retry(source, rec, now);
    }
    const retried = await this.ctx.db.transaction((tx) => this.life.reopen(tx, rec.id, now, dueAt));
    if (!retried) {
      const current = await this.life.get(rec.id);
      throw current.status === 'completed' ? expiredForRetry(rec) : orderNotActive(current, 'retried');
    }
    return toOrderView(retried);
  }
}
