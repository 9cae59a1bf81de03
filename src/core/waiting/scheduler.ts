/**
 * Due work: scheduled SMS (the simulator's, an upstream's next poll) and expiries with their
 * refunds. Any live process may carry it out; the conditional steps of the order's life make
 * sure each thing happens once. Nothing here is a timer that dies with its process: due times
 * are in the database, and whoever is alive does what fell due.
 */
import type { CoreContext, OrderEvent } from '../context.js';
import { extractCode } from '../extract.js';
import type { OrderLife } from '../orders/life.js';
import { nextDueAt, type OrderRecord } from '../orders/order.js';
import type { SourceRegistry } from '../sources/registry.js';
import type { Upstreams } from '../sources/upstream.js';

/** Due work is read in pages of this many. */
const DUE_PAGE = 500;
/** How soon to look again at work that is due but taken (a poll in flight). */
const BUSY_RECHECK_MS = 100;
/** The longest a long-running scheduler sleeps (it also picks up work other processes wrote). */
const MAX_SLEEP_MS = 2000;

export class Scheduler {
  private dueRun: Promise<void> | null = null;
  private running = false;

  constructor(
    private readonly ctx: CoreContext,
    private readonly registry: SourceRegistry,
    private readonly life: OrderLife,
    private readonly upstreams: Upstreams,
  ) {}

  /** Whether a long-running scheduler carries out due work at its due time in this process. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Carries out whatever has fallen due, in due-time order; one pass at a time per process. */
  processDue(): Promise<void> {
    this.dueRun ??= this.runDue().finally(() => {
      this.dueRun = null;
    });
    return this.dueRun;
  }

  /**
   * Due work before acting, for processes without a scheduler (the CLI's short-lived ones). With a
   * scheduler running, due work happens at its due time anyway, and doing it again on every request
   * would put a commit in front of each one.
   */
  catchUp(): Promise<void> {
    return this.running ? Promise.resolve() : this.processDue();
  }

  /** Whether a read of this order must first carry out what is due for it (API.md §3). */
  isDue(rec: OrderRecord): boolean {
    const now = this.ctx.now();
    return rec.status === 'active' && nextDueAt(rec) <= now;
  }

  nextDueAt(): Promise<number | null> {
    return this.ctx.db.read.orders.nextDueAt();
  }

  /**
   * How long to sleep before `next` falls due. Something due before the pass that just ran is
   * taken (a poll in flight, here or in another process, whose end wakes the sleeper): look again
   * shortly rather than at once, in a spin.
   */
  sleepBefore(next: number, passAt: number): number {
    return next <= passAt ? BUSY_RECHECK_MS : Math.max(0, next - this.ctx.now());
  }

  private async runDue(): Promise<void> {
    for (;;) {
      const { deliveries, expiries } = await this.ctx.db.read.orders.dueWork(this.ctx.now(), DUE_PAGE);
      // All at once, so the store commits them together (one fsync for a whole backlog).
      const delivered = deliveries.map(async (due) => {
        const source = await this.registry.byName(due.source).catch(() => undefined);
        if (source?.role === 'upstream') return this.upstreams.startPoll(source, due);
        let sms;
        try {
          if (source?.role !== 'simulator') throw new Error(`source ${due.source} has no scheduled SMS`);
          sms = source.numbers.composeSms(due.platform);
        } catch {
          // No SMS can come from here: drop the delivery, and the order expires (with its refund) on time.
          await this.ctx.db.transaction((tx) => tx.orders.reschedule(due.orderId, due.dueAt, null));
          return;
        }
        const { text, sender } = sms;
        // The simulator knows the code it sent, as a provider that parses its SMS does: trusted over
        // the text, which spares a short-lived `tn verify` the cost of the full extractor. Read before
        // the unit of work: the write lock is held for writing, not for parsing text.
        const code = extractCode(text, { platform: due.platform, providerCode: sms.code })?.code ?? null;
        await this.ctx.db.transaction(async (tx) => {
          const order = await tx.orders.get(due.orderId);
          // Delivered only while it is still the order's pending delivery (another process may have done it).
          if (!order || order.smsDueAt !== due.dueAt) return;
          await this.life.acceptSms(tx, order, { text, sender, code, receivedAt: due.dueAt });
        });
      });
      const expired = expiries.map((due) => this.life.endNow(due.orderId, 'expired', due.expiresAt));
      await Promise.all([...delivered, ...expired]);
      if (deliveries.length < DUE_PAGE && expiries.length < DUE_PAGE) break;
    }
    // Upstream activations of orders that are over, told to their providers (after the orders' commits above).
    for (const due of await this.ctx.db.read.activations.dueReleases(this.ctx.now(), DUE_PAGE)) {
      const source = await this.registry.byName(due.source).catch(() => undefined);
      this.upstreams.startRelease(source?.role === 'upstream' ? source : undefined, due);
    }
  }

  /**
   * For long-running processes (`tn serve`): carries out due work at its due time until `signal`
   * aborts. It sleeps until the next due time, at most `maxSleepMs`, and wakes early when a new
   * order or a moved due time brings an earlier one.
   */
  async run(signal: AbortSignal, options: { maxSleepMs?: number; onError?: (err: unknown) => void } = {}): Promise<void> {
    const maxSleep = options.maxSleepMs ?? MAX_SLEEP_MS;
    this.running = true;
    signal.addEventListener('abort', () => (this.running = false), { once: true });
    while (!signal.aborted) {
      let next: number | null = null;
      const passAt = this.ctx.now();
      try {
        await this.processDue();
        next = await this.nextDueAt();
      } catch (err) {
        options.onError?.(err);
      }
      const ms = next === null ? maxSleep : Math.min(maxSleep, this.sleepBefore(next, passAt));
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const bus = this.ctx.bus;
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          bus.off('order', onOrder);
          bus.off('rescheduled', done);
          resolve();
        };
        const wakeAt = this.ctx.now() + ms;
        // Only an order due before this sleep ends moves the next pass: under load, waking for every
        // new order would put a pass (three reads) behind each one.
        const onOrder = (e: OrderEvent): void => {
          if ((e.type === 'order.created' || e.type === 'order.retried') && nextDueAt(e.order) < wakeAt) done();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        bus.on('order', onOrder);
        bus.on('rescheduled', done);
      });
    }
  }
}
