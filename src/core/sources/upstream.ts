/**
 * Orders served by an upstream provider: buying the number, polling for its SMS within the
 * provider's limits, asking for another SMS, and keeping routing away from a provider that fails.
 */
import { UPSTREAM_DELIVERY_RULE } from '../catalogue/delivery-guard.js';
import type { CoreContext } from '../context.js';
import { TnError } from '../errors.js';
import { extractCode } from '../extract.js';
import { DEFAULT_POLL_MS } from '../limits.js';
import type { Micros } from '../money.js';
import type { OrderLife } from '../orders/life.js';
import type { OrderRecord } from '../orders/order.js';
import type { DueRelease } from './port.js';
import { asUpstreamError, UpstreamError, type UpstreamActivation, type UpstreamEndpoint } from './providers.js';
import type { UpstreamSource } from './registry.js';

/** How long a source that answered "out of money" or "refused" is left out of routing. */
const SOURCE_PAUSE_MS = 60_000;
/** How long an upstream endpoint rests after a 429 that named no Retry-After. */
const UPSTREAM_BACKOFF_MS = 10_000;
/** A poll holds its due time this long, longer than its HTTP call may take. */
const POLL_LEASE_MS = 20_000;
/** Errors of a source are kept this long to look back on. */
const ERROR_HISTORY_MS = 7 * 86_400_000;
/** A release holds its due time this long, longer than its HTTP call may take. */
const RELEASE_LEASE_MS = 20_000;
/** A refused release is asked again after this, doubling each time up to RELEASE_BACKOFF_MAX_MS. */
const RELEASE_BACKOFF_MS = 15_000;
const RELEASE_BACKOFF_MAX_MS = 5 * 60_000;
/**
 * After this long from the purchase a release is given up: the family ends an activation itself
 * after 20 minutes (refunding one that got no SMS), so asking on would only spend its rate limit.
 */
export const RELEASE_GIVE_UP_MS = 30 * 60_000;

export interface DuePoll {
  orderId: string;
  platform: string;
  dueAt: number;
  expiresAt: number;
}

export class Upstreams {
  /** Polls in flight in this process, by order. */
  private readonly polling = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly life: OrderLife,
  ) {}

  /** Records a source's failure for the operator (kept a week). */
  async recordError(source: string, code: string, message: string, at = this.ctx.now()): Promise<void> {
    await this.ctx.db.transaction((tx) => tx.sources.addError(source, code, message.slice(0, 500), at, at - ERROR_HISTORY_MS));
  }

  /** Records an upstream's failure, and keeps routing away from it for as long as it asked or deserves. */
  async failed(name: string, err: UpstreamError, endpoint: UpstreamEndpoint, now: number, where?: string, backoffMs = UPSTREAM_BACKOFF_MS): Promise<void> {
    if (err.local) return;
    await this.ctx.db.transaction(async (tx) => {
      await tx.sources.addError(name, err.kind, err.message.slice(0, 500), now, now - ERROR_HISTORY_MS);
      if (err.kind === 'rate_limited') await tx.buckets.block(`${name}:${endpoint}`, now + (err.retryAfterMs ?? backoffMs));
      if (err.kind === 'payment_required' || err.kind === 'unauthorized') await tx.buckets.block(`${name}:createActivation`, now + SOURCE_PAUSE_MS);
      if (err.kind === 'low_success_rate' && where) await tx.cache.put(name, `paused:${where}`, String(now + UPSTREAM_DELIVERY_RULE.windowMs), now);
    });
    if (err.kind === 'payment_required' || err.kind === 'unauthorized') {
      this.ctx.bus.emit('alert', {
        source: name,
        code: err.kind,
        message:
          err.kind === 'payment_required'
            ? `Source "${name}" is out of money upstream: top up its balance. Its orders go to other sources meanwhile.`
            : `Source "${name}" refuses our API key (${err.message}): check it with \`tn admin source list\`.`,
      });
    }
  }

  /** Told by the registry of a failed call it made (a price list). */
  onRegistryError = (source: string, err: unknown, endpoint: UpstreamEndpoint): Promise<void> => this.failed(source, asUpstreamError(err), endpoint, this.ctx.now());

  /**
   * Buys a number; once more at most when its price moved since the list was read, if the
   * customer can pay the new one (`affordable` throws when not). Null when it cannot be bought.
   */
  async activate(source: UpstreamSource, platform: string, country: string, expected: Micros, affordable: (cost: Micros) => Promise<void>): Promise<UpstreamActivation | null> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return await source.upstream.activate(platform, country, expected);
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        await this.failed(source.name, err, 'createActivation', this.ctx.now(), `${platform}/${country}`);
        if (err.kind !== 'price_changed' || err.newPrice === undefined || attempt > 0) return null;
        expected = err.newPrice;
        await affordable(expected);
      }
    }
    return null;
  }

  /** A number bought and never sold: it lapses (and is refunded) upstream; it counts against the source's delivery rule. */
  async orphaned(source: UpstreamSource, platform: string, country: string, activation: UpstreamActivation, reason: string): Promise<void> {
    const at = this.ctx.now();
    await this.ctx.db.transaction(async (tx) => {
      await tx.activations.addOrphan({ source: source.name, platform, country, activationId: activation.id, cost: activation.price, at, reason: reason.slice(0, 300) });
      await tx.sources.addError(source.name, 'orphaned_activation', `Activation ${activation.id} was bought but no order was placed (${reason}); it lapses upstream.`.slice(0, 500), at, at - ERROR_HISTORY_MS);
    });
  }

  /**
   * Starts telling a provider that an activation is over (its order was cancelled, expired, or
   * completed past its retry window), without holding up other due work. The customer's money
   * moved already, in the order's own unit of work; this only settles ours with the provider.
   * A refusal (too early to cancel, rate limited, unreachable) is a later due time in the
   * database, never a timer; a provider without releases, or a source since removed, is done at once.
   */
  startRelease(source: UpstreamSource | undefined, due: DueRelease): void {
    const key = `release:${due.orderId}`;
    if (this.polling.has(key)) return;
    const run = this.release(source, due)
      .catch((err: unknown) => {
        this.ctx.bus.emit('alert', { source: due.source, code: 'internal', message: `Releasing order ${due.orderId} upstream failed: ${err instanceof Error ? err.message : String(err)}` });
      })
      .finally(() => this.polling.delete(key));
    this.polling.set(key, run);
  }

  private async release(source: UpstreamSource | undefined, due: DueRelease): Promise<void> {
    const db = this.ctx.db;
    const now = this.ctx.now();
    const lease = now + RELEASE_LEASE_MS;
    if (!(await db.transaction((tx) => tx.activations.rescheduleRelease(due.orderId, due.releaseAt, lease, false)))) return;
    const done = (status: string | null): Promise<void> => db.transaction((tx) => tx.activations.released(due.orderId, status, this.ctx.now()));
    if (!source) return done('source removed: left to lapse upstream');
    if (!source.upstream.release) return done(null);
    try {
      await source.upstream.release(due.activationId, due.outcome);
      return done(due.outcome === 'cancel' ? 'cancelled' : 'finished');
    } catch (err) {
      const failure = asUpstreamError(err);
      // Over upstream already (finished, cancelled, or gone): nothing is left to settle.
      if (failure.kind === 'not_found' || failure.kind === 'bad_state') return done(`${due.outcome}: ${failure.message}`.slice(0, 200));
      if (this.ctx.now() - due.orderCreatedAt >= RELEASE_GIVE_UP_MS) return done(`${due.outcome} given up, lapses upstream: ${failure.message}`.slice(0, 200));
      // Too early to cancel is the provider's rule, not its failure.
      if (failure.kind !== 'too_early') await this.failed(source.name, failure, 'updateActivation', this.ctx.now());
      const wait = failure.retryAfterMs ?? Math.min(RELEASE_BACKOFF_MAX_MS, RELEASE_BACKOFF_MS * 2 ** due.attempts);
      await db.transaction((tx) => tx.activations.rescheduleRelease(due.orderId, lease, this.ctx.now() + wait, true));
    }
  }

  /** The poll of this order in flight in this process, if any: a read of the order waits for it. */
  inFlight(orderId: string): Promise<void> | undefined {
    return this.polling.get(orderId);
  }

  /** Every poll in flight, so that a close waits for them (their HTTP calls are bounded). */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.polling.values()]);
  }

  /**
   * Starts one poll of an upstream activation whose order waits, without holding up other due
   * work: the poll first claims its due time (moving it past the poll's own timeout, so neither
   * this loop nor another process starts it again), then asks the upstream.
   */
  startPoll(source: UpstreamSource, due: DuePoll): void {
    if (this.polling.has(due.orderId)) return;
    const poll = this.poll(source, due)
      .catch((err: unknown) => {
        this.ctx.bus.emit('alert', { source: source.name, code: 'internal', message: `Polling order ${due.orderId} failed: ${err instanceof Error ? err.message : String(err)}` });
      })
      .finally(() => this.polling.delete(due.orderId));
    this.polling.set(due.orderId, poll);
  }

  /**
   * One poll. Its SMS completes the order; a final status without one fails it (refunded);
   * anything else polls again later, later still when the upstream asks for patience. A
   * cancelled order is not polled: its late SMS is ignored.
   */
  private async poll(source: UpstreamSource, due: DuePoll): Promise<void> {
    const db = this.ctx.db;
    // Below the expiry, so the order does not expire while its poll may still bring the code.
    const lease = Math.min(this.ctx.now() + POLL_LEASE_MS, due.expiresAt - 1);
    // No time left for a poll: the order expires (and is refunded) on time instead.
    if (lease <= due.dueAt) {
      await db.transaction((tx) => tx.orders.reschedule(due.orderId, due.dueAt, null));
      return;
    }
    if (!(await db.transaction((tx) => tx.orders.reschedule(due.orderId, due.dueAt, lease)))) return;
    const activation = await db.read.activations.get(due.orderId);
    if (!activation || activation.phase === null) {
      await db.transaction((tx) => tx.orders.reschedule(due.orderId, lease, null));
      return;
    }
    const pollMs = source.record.settings.pollMs ?? DEFAULT_POLL_MS;
    const again = async (ms: number): Promise<void> => {
      await db.transaction((tx) => tx.orders.reschedule(due.orderId, lease, this.ctx.now() + ms));
      this.ctx.bus.emit('rescheduled', due.orderId);
    };
    let check;
    try {
      check = await source.upstream.check(activation.activationId, activation.phase);
    } catch (err) {
      const failure = asUpstreamError(err);
      const backoff = Math.min(30_000, pollMs * 4);
      await this.failed(source.name, failure, 'getActivation', this.ctx.now(), undefined, backoff);
      if (failure.kind === 'not_found') {
        await this.life.endNow(due.orderId, 'failed');
        return;
      }
      return again(Math.max(250, failure.retryAfterMs ?? backoff));
    }
    const now = this.ctx.now();
    if (check.state === 'sms' && check.message !== null) {
      const text = check.message;
      // A code the provider already read is trusted first; the text is read when it gives none (before the unit of work, which only writes).
      const code = check.code ?? extractCode(text, { platform: due.platform })?.code ?? null;
      await db.transaction(async (tx) => {
        const order = await tx.orders.get(due.orderId);
        // Only while the poll's own lease still holds: another process may have taken the order on.
        if (!order || order.smsDueAt !== lease) return;
        const done = await this.life.acceptSms(tx, order, {
          text,
          code,
          sender: source.name,
          receivedAt: now,
        });
        if (done) await tx.activations.update(due.orderId, check.status, null, now);
      });
      return;
    }
    if (check.state === 'final') {
      await db.transaction(async (tx) => {
        await tx.activations.update(due.orderId, check.status, null, now);
        await this.life.end(tx, due.orderId, 'failed', now);
      });
      return;
    }
    if (check.status !== activation.status) await db.transaction((tx) => tx.activations.update(due.orderId, check.status, activation.phase, now));
    await again(pollMs);
  }

  /** Asks the provider for another SMS on the order's number; returns when to poll next. */
  async retry(source: UpstreamSource, rec: OrderRecord, now: number): Promise<number> {
    const activation = await this.ctx.db.read.activations.get(rec.id);
    if (!activation) throw new TnError('unavailable', `Order ${rec.id} has no upstream activation to retry.`);
    try {
      await source.upstream.retry(activation.activationId);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      await this.failed(source.name, err, 'updateActivation', now);
      if (err.kind === 'rate_limited') {
        throw new TnError('rate_limited', 'Too many retries upstream right now: try again shortly.', { retry_after: Math.max(1, Math.ceil((err.retryAfterMs ?? UPSTREAM_BACKOFF_MS) / 1000)) });
      }
      if (err.kind === 'bad_state' || err.kind === 'not_found') throw new TnError('order_not_active', `The number of order ${rec.id} cannot take another SMS: order a new number.`);
      throw new TnError('unavailable', `The retry could not be asked for upstream: ${err.message}`);
    }
    await this.ctx.db.transaction((tx) => tx.activations.update(rec.id, 'retryRequested', 'retry', now));
    return now + (source.record.settings.pollMs ?? DEFAULT_POLL_MS);
  }

  /** What is left of the operator's money at a provider; null when it cannot be asked now. */
  async balance(source: UpstreamSource): Promise<Micros | null> {
    try {
      return await source.upstream.balance();
    } catch (err) {
      if (err instanceof UpstreamError) await this.failed(source.name, err, 'balance', this.ctx.now());
      return null;
    }
  }
}
