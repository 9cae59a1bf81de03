import type { AttemptStep, OrderRequest, VerifiedOrder, VerifyAttempt, VerifyRequest } from '../broker.js';
import type { CoreContext } from '../context.js';
import { invalid } from '../errors.js';
import { PER_ATTEMPT_SECONDS, VERIFY_ATTEMPTS, VERIFY_TIMEOUT } from '../limits.js';
import { toUsd } from '../money.js';
import type { OrderLife } from '../orders/life.js';
import { toOrderView, type Order, type OrderRecord } from '../orders/order.js';
import type { OrderLimits, Placing } from '../orders/placing.js';
import type { Upstreams } from '../sources/upstream.js';
import type { Waiting } from './waiting.js';

export interface VerifyControl {
  signal?: AbortSignal;
  release?: AbortSignal;
  /** Called once the number is assigned, before the code arrives (once per attempt). */
  onOrder?: (order: Order) => void;
  /** Called when an attempt got no SMS in time, before the next number is ordered. */
  onAttempt?: (step: AttemptStep) => void;
}

/** How many numbers a verify may try, and how long each may wait (`within`'s units: milliseconds). */
export interface AttemptPlan {
  attempts?: number;
  perAttemptMs?: number;
}

const given = (n: unknown): n is number => typeof n === 'number';

/**
 * The whole verify's time when the request does not set it: 120 s as always, or, once attempts
 * are asked for, each attempt's time over all of them, bounded like every verify. Also what the
 * HTTP client waits for the answer, so it never gives up before the server does.
 */
export function verifySeconds(request: VerifyRequest): number {
  if (given(request.timeoutSeconds)) return request.timeoutSeconds;
  if (!given(request.attempts) && !given(request.perAttemptSeconds)) return VERIFY_TIMEOUT.default;
  const attempts = given(request.attempts) ? request.attempts : VERIFY_ATTEMPTS.default;
  const per = given(request.perAttemptSeconds) ? request.perAttemptSeconds : PER_ATTEMPT_SECONDS.default;
  return Math.min(attempts * per, VERIFY_TIMEOUT.max);
}

function wholeIn(value: unknown, bounds: { min: number; max: number }, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw invalid(`Parameter "${name}" must be a whole number from ${bounds.min} to ${bounds.max}.`);
  }
}

/**
 * Order, wait for the code; if the time runs out first the order is expired early and refunded.
 * With attempts, a number that gets no SMS within its own time is cancelled (refunded) and a fresh
 * one ordered, from another source where routing has one, until a code comes, the attempts are
 * used up or the whole time is.
 */
export class Verifying {
  constructor(
    private readonly ctx: CoreContext,
    private readonly placing: Placing,
    private readonly waiting: Waiting,
    private readonly life: OrderLife,
    private readonly upstreams: Upstreams,
  ) {}

  async verify(accountId: string, request: VerifyRequest, control: VerifyControl = {}): Promise<VerifiedOrder> {
    wholeIn(request.timeoutSeconds, VERIFY_TIMEOUT, 'timeout_seconds');
    wholeIn(request.attempts, VERIFY_ATTEMPTS, 'attempts');
    wholeIn(request.perAttemptSeconds, PER_ATTEMPT_SECONDS, 'per_attempt_seconds');
    const { timeoutSeconds: _t, attempts, perAttemptSeconds, ...order } = request;
    const plan: AttemptPlan = {
      attempts,
      perAttemptMs: given(perAttemptSeconds) ? perAttemptSeconds * 1000 : given(attempts) ? PER_ATTEMPT_SECONDS.default * 1000 : undefined,
    };
    return this.within(accountId, order, verifySeconds(request) * 1000, { ...control, ...plan });
  }

  /** `verify` without the API's bounds on the times: for the embedded broker's own callers and tests. */
  async within(accountId: string, request: OrderRequest, timeoutMs: number, control: VerifyControl & OrderLimits & AttemptPlan = {}): Promise<VerifiedOrder> {
    const attempts = control.attempts ?? VERIFY_ATTEMPTS.default;
    const perAttemptMs = control.perAttemptMs ?? timeoutMs;
    // The attempts array answers only a caller that asked for attempts: a plain verify keeps its shape.
    const answer = (rec: OrderRecord): VerifiedOrder => (control.attempts === undefined ? toOrderView(rec) : { ...toOrderView(rec), attempts: log });
    const deadline = this.ctx.now() + timeoutMs;
    const log: VerifyAttempt[] = [];
    const avoid = { sources: [] as string[], phones: [] as string[] };
    for (let n = 1; ; n++) {
      // Each attempt is its own order: a repeated request with the same key replays each one in turn.
      const idempotencyKey = request.idempotencyKey === undefined || n === 1 ? request.idempotencyKey : `${request.idempotencyKey}#${n}`;
      const placed = await this.placing.place(accountId, { ...request, idempotencyKey }, 'verify', { maxPrice: control.maxPrice, avoid });
      const id = placed.order ? placed.order.id : placed.orderId;
      const started = placed.order ?? (await this.life.get(id));
      control.onOrder?.(toOrderView(started));
      const begun = this.ctx.now();
      const last = n >= attempts;
      const waitMs = Math.max(0, Math.min(perAttemptMs, deadline - begun));
      const settled = await this.waiting.until(id, { timeoutMs: waitMs, signal: control.signal, release: control.release });
      let rec = settled;
      let letGo = false;
      if (settled.status === 'active') {
        if (control.release?.aborted && !control.signal?.aborted) return answer(settled);
        // A poll of this order still in flight may be bringing the code: its answer comes first (and
        // if it completes the order, the conditional end below finds it so).
        await this.upstreams.inFlight(id);
        const aborted = control.signal?.aborted === true;
        letGo = !aborted && !last && this.ctx.now() < deadline;
        // The last number times out as a plain verify does (expired); an earlier one is let go (cancelled).
        const ended = await this.life.endNow(id, aborted || letGo ? 'cancelled' : 'expired', this.ctx.now());
        // Null: an SMS won the race against the timeout; the order completed, and that is the answer.
        rec = ended ?? (await this.life.get(id));
      }
      const outcome: VerifyAttempt['outcome'] = letGo && rec.status === 'cancelled' ? 'no_sms' : (rec.status as VerifyAttempt['outcome']);
      log.push({ order_id: rec.id, phone: rec.phone, price: toUsd(rec.price), outcome, refund: rec.refunded ? toUsd(rec.price) : 0 });
      if (rec.status === 'completed' || control.signal?.aborted || last || this.ctx.now() >= deadline) return answer(rec);
      control.onAttempt?.({ attempt: log.at(-1)!, index: n, of: attempts, waitedSeconds: Math.round((this.ctx.now() - begun) / 1000) });
      avoid.sources.push(rec.source);
      avoid.phones.push(rec.phone);
    }
  }
}
