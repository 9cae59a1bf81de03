/**
 * Waiting for an order to leave `active`: woken by this process's own changes (the event bus),
 * by other processes' commits (the database's change feed) and by the order's own due times.
 */
import type { CoreContext } from '../context.js';
import { nextDueAt, type OrderRecord } from '../orders/order.js';
import type { Scheduler } from './scheduler.js';

export interface WaitSettings {
  timeoutMs?: number;
  /** Stop waiting; a verify then cancels its order with a refund (the caller gave up). */
  signal?: AbortSignal;
  /** Stop waiting and answer with the order as it is, leaving it active (the server is shutting down). */
  release?: AbortSignal;
}

/** Waits on one order: `version` moves on every change, so a waiter can tell whether it missed one. */
interface Watch {
  version: number;
  wakers: Set<() => void>;
  refs: number;
}

export class Waiting {
  private readonly watched = new Map<string, Watch>();
  private foreign: { unsubscribe: () => void; users: number } | null = null;

  constructor(
    private readonly ctx: CoreContext,
    private readonly scheduler: Scheduler,
  ) {
    ctx.bus.on('order', (e) => this.wake(e.order.id));
    ctx.bus.on('rescheduled', (orderId) => this.wake(orderId));
  }

  /** Waits until the order leaves `active` (or the time is up, or a signal stops it) and returns it as it then is. */
  async until(orderId: string, settings: WaitSettings): Promise<OrderRecord> {
    const deadline = settings.timeoutMs === undefined ? Infinity : this.ctx.now() + settings.timeoutMs;
    // Both signals are listened to directly: a combined signal per wait would hang on the
    // server-wide release signal for as long as the server runs.
    const signals = [settings.signal, settings.release].filter((s): s is AbortSignal => s !== undefined);
    const stopped = (): boolean => signals.some((s) => s.aborted);
    // Watching starts before the first read, so a change between the read and the sleep is not missed.
    let watch = this.watched.get(orderId);
    if (!watch) this.watched.set(orderId, (watch = { version: 0, wakers: new Set(), refs: 0 }));
    watch.refs++;
    try {
      for (;;) {
        const seen = watch.version;
        const passAt = this.ctx.now();
        await this.scheduler.catchUp();
        const rec = (await this.ctx.db.read.orders.get(orderId))!;
        const now = this.ctx.now();
        if (rec.status !== 'active' || now >= deadline || stopped()) return rec;
        // With a scheduler, its events wake this wait; without one, this wait wakes itself when something falls due.
        const next = this.scheduler.isRunning ? deadline : Math.min(deadline, nextDueAt(rec));
        if (watch.version === seen) await this.sleep(watch, Math.min(deadline - now, this.scheduler.sleepBefore(next, passAt)), signals);
      }
    } finally {
      if (--watch.refs === 0) this.watched.delete(orderId);
    }
  }

  /** Wakes this process's waiters on an order, to look again. */
  private wake(orderId: string): void {
    const watch = this.watched.get(orderId);
    if (!watch) return;
    watch.version++;
    for (const wake of [...watch.wakers]) wake();
  }

  /** Sleeps until the order changes, another process commits, the time comes, or a signal aborts. */
  private sleep(watch: Watch, ms: number, signals: readonly AbortSignal[]): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', done);
        watch.wakers.delete(done);
        this.releaseForeign();
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      for (const s of signals) s.addEventListener('abort', done, { once: true });
      watch.wakers.add(done);
      this.acquireForeign();
    });
  }

  /** One subscription to other processes' commits serves every waiter. */
  private acquireForeign(): void {
    if (this.foreign) {
      this.foreign.users++;
      return;
    }
    const unsubscribe = this.ctx.db.onForeignChange(() => {
      for (const watch of [...this.watched.values()]) for (const wake of [...watch.wakers]) wake();
    });
    this.foreign = { unsubscribe, users: 1 };
  }

  private releaseForeign(): void {
    if (!this.foreign || --this.foreign.users > 0) return;
    this.foreign.unsubscribe();
    this.foreign = null;
  }

  close(): void {
    this.foreign?.unsubscribe();
    this.foreign = null;
  }
}
