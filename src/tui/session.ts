import type { Broker } from '../core/broker.js';
import type { Order } from '../core/orders/order.js';

/** The orders placed or watched in this run of the app, newest state last, for the Orders list and the exit notice. */
export class Session {
  private readonly orders = new Map<string, Order>();

  note(order: Order): void {
    this.orders.set(order.order_id, order);
  }

  list(): Order[] {
    return [...this.orders.values()];
  }

  /** This session's orders still waiting for a code, as the broker now has them. */
  async waiting(broker: Broker): Promise<Order[]> {
    const candidates = this.list().filter((o) => o.status === 'active');
    const current = await Promise.all(candidates.map((o) => broker.getOrder(o.order_id).catch(() => o)));
    return current.filter((o) => o.status === 'active');
  }
}

/** What is said on stderr at exit about orders left waiting on the broker. */
export function exitNotice(waiting: readonly Order[]): string[] {
  return waiting.map(
    (o) =>
      `tn: order ${o.order_id} (${o.platform}, ${o.phone}) is still waiting for its code on the broker until ${o.expires_at}: ` +
      `\`tn wait ${o.order_id}\` prints it, \`tn cancel ${o.order_id}\` ends it with a refund.`,
  );
}
