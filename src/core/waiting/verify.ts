import type { OrderRequest, VerifyRequest } from '../broker.js';
import type { CoreContext } from '../context.js';
import { invalid } from '../errors.js';
import { VERIFY_TIMEOUT } from '../limits.js';
import type { OrderLife } from '../orders/life.js';
import { toOrderView, type Order } from '../orders/order.js';
import type { OrderLimits, Placing } from '../orders/placing.js';
import type { Upstreams } from '../sources/upstream.js';
import type { Waiting } from './waiting.js';

export interface VerifyControl {
  signal?: AbortSignal;
  release?: AbortSignal;
  /** Called once the number is assigned, before the code arrives. */
  onOrder?: (order: Order) => void;
}

/** Order, wait for the code; if the time runs out first the order is expired early and refunded. */
export class Verifying {
  constructor(
    private readonly ctx: CoreContext,
    private readonly placing: Placing,
    private readonly waiting: Waiting,
    private readonly life: OrderLife,
    private readonly upstreams: Upstreams,
  ) {}

  async verify(accountId: string, request: VerifyRequest, control: VerifyControl = {}): Promise<Order> {
    const timeoutSeconds = request.timeoutSeconds ?? VERIFY_TIMEOUT.default;
    if (typeof timeoutSeconds !== 'number' || !Number.isInteger(timeoutSeconds) || timeoutSeconds < VERIFY_TIMEOUT.min || timeoutSeconds > VERIFY_TIMEOUT.max) {
      throw invalid(`Parameter "timeout_seconds" must be a whole number from ${VERIFY_TIMEOUT.min} to ${VERIFY_TIMEOUT.max}.`);
    }
    return this.within(accountId, request, timeoutSeconds * 1000, control);
  }

  /** `verify` without the API's bounds on the timeout: for the embedded broker's own callers and tests. */
  async within(accountId: string, request: OrderRequest, timeoutMs: number, control: VerifyControl & OrderLimits = {}): Promise<Order> {
    const placed = await this.placing.place(accountId, request, 'verify', control);
    const id = placed.order ? placed.order.id : placed.orderId;
    const started = placed.order ?? (await this.life.get(id));
    control.onOrder?.(toOrderView(started));
    const settled = await this.waiting.until(id, { timeoutMs, signal: control.signal, release: control.release });
    if (settled.status !== 'active') return toOrderView(settled);
    if (control.release?.aborted && !control.signal?.aborted) return toOrderView(settled);
    // A poll of this order still in flight may be bringing the code: its answer comes first (and
    // if it completes the order, the conditional end below finds it so).
    await this.upstreams.inFlight(id);
    const ended = await this.life.endNow(id, control.signal?.aborted ? 'cancelled' : 'expired', this.ctx.now());
    // Null: an SMS won the race against the timeout; the order completed, and that is the answer.
    return toOrderView(ended ?? (await this.life.get(id)));
  }
}
