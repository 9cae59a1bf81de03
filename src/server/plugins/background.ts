/**
 * What runs while the server runs: the scheduler (due SMS deliveries, expiries, upstream polls),
 * webhook delivery, and the operator's alerts written to the log. Each starts when the app is
 * ready and stops, finishing what it was doing, when it closes.
 */
import type { FastifyInstance } from 'fastify';
import type { BrokerCore } from '../../core/broker-core.js';
import { WebhookDeliverer } from '../webhooks.js';

export interface BackgroundOptions {
  core: BrokerCore;
  version: string;
  /** Carry out due SMS deliveries and expiries while the app runs (default true). */
  scheduler?: boolean;
  /** Webhook delivery while the app runs; `false` turns it off (default on, with API.md §6's schedule). */
  webhooks?: false | { schedule?: readonly number[]; allowPrivate?: boolean; jitter?: number };
}

export function installBackground(app: FastifyInstance, options: BackgroundOptions): void {
  if (options.webhooks !== false) {
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    const deliverer = new WebhookDeliverer({
      core: options.core,
      ...options.webhooks,
      userAgent: `tn-webhooks/${options.version}`,
      onError: (err) => app.log.error({ err }, 'webhook delivery'),
    });
    app.addHook('onReady', async () => {
      running = deliverer.run(stop.signal);
    });
    app.addHook('onClose', async () => {
      stop.abort();
      await running;
    });
  }

  if (options.scheduler !== false) {
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    app.addHook('onReady', async () => {
      running = Promise.all([
        options.core.runScheduler(stop.signal, { onError: (err) => app.log.error({ err }, 'scheduler') }),
        options.core.runDepositWatcher(stop.signal, { onError: (err) => app.log.warn({ err }, 'deposit watcher') }),
      ]).then(() => undefined);
    });
    app.addHook('onClose', async () => {
      stop.abort();
      await running;
    });
  }

  // The core never prints: what an operator must act on (an upstream out of money) goes to the log.
  const onAlert = (alert: { source: string; code: string; message: string }): void => app.log.warn(alert, alert.message);
  options.core.events.on('alert', onAlert);
  app.addHook('onClose', async () => {
    options.core.events.off('alert', onAlert);
  });

}
