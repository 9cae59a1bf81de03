/**
 * `GET /metrics` (`tn serve --metrics`): this process's counts in the Prometheus text format, from
 * its own prom-client registry (never the global one). The core only emits events on its bus;
 * this plugin subscribes and counts, so prom-client is loaded (by `buildApp`, dynamically) only
 * when metrics are on. Labels are names from bounded sets (platforms, order states, source
 * names, outcomes, limits): never a phone number, key, account or order id.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LedgerEntry } from '../../core/accounts/port.js';
import type { DeliveryAttempted, OrderEvent, UpstreamCallEnded } from '../../core/context.js';

/** What the rest of the server tells the metrics directly (the rate limits are the server's, not the core's). */
export interface ServerMetrics {
  rateLimited(limit: string): void;
}

/** Seconds, from an SMS in a few seconds to the 300 s of the longest wait. */
const WAIT_BUCKETS = [1, 2, 5, 10, 15, 30, 60, 90, 120, 180, 240, 300];
/** Seconds an upstream HTTP call takes; its clients give up after 15 s. */
const CALL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15];
const VERIFY_ROUTE = '/api/v1/verify';

export function installMetrics(app: FastifyInstance): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  new Gauge({ name: 'tn_info', help: 'This tn serve process: its version and instance id (GET /health names the same instance).', labelNames: ['version', 'instance'], registers })
    .set({ version: app.tnVersion, instance: app.core.instanceId }, 1);
  const created = new Counter({ name: 'tn_orders_created_total', help: 'Orders placed through this process.', labelNames: ['platform'], registers });
  const ended = new Counter({
    name: 'tn_orders_ended_total',
    help: 'Orders that reached a final state in this process: completed (first code), cancelled, expired or failed.',
    labelNames: ['platform', 'state'],
    registers,
  });
  const retried = new Counter({ name: 'tn_orders_retried_total', help: 'Completed orders sent back to wait for another SMS.', labelNames: ['platform'], registers });
  const charged = new Counter({ name: 'tn_charged_micro_usd_total', help: 'Order debits, in micro-USD (1 USD = 1,000,000).', registers });
  const refunded = new Counter({ name: 'tn_refunded_micro_usd_total', help: 'Refunds of cancelled, expired and failed orders, in micro-USD.', registers });
  const credited = new Counter({ name: 'tn_credited_micro_usd_total', help: 'Deposits credited to accounts, in micro-USD.', registers });
  const wait = new Histogram({
    name: 'tn_order_code_wait_seconds',
    help: "From an order's creation to its first code, by the source that served it.",
    labelNames: ['source'],
    buckets: WAIT_BUCKETS,
    registers,
  });
  const verify = new Histogram({
    name: 'tn_verify_duration_seconds',
    help: 'POST /api/v1/verify from request to answer, by outcome: the order status answered, or the error code.',
    labelNames: ['outcome'],
    buckets: WAIT_BUCKETS,
    registers,
  });
  const deliveries = new Counter({
    name: 'tn_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered, retrying (failed, tried again later), failed (given up), disabled (410).',
    labelNames: ['outcome'],
    registers,
  });
  const callSeconds = new Histogram({
    name: 'tn_source_call_duration_seconds',
    help: 'Calls to upstream sources (purchase, poll, retry, release, balance, price_list), by source name, failed ones included.',
    labelNames: ['source', 'call'],
    buckets: CALL_BUCKETS,
    registers,
  });
  const callErrors = new Counter({
    name: 'tn_source_errors_total',
    help: 'Failed calls to upstream sources, by source name, call and kind of failure.',
    labelNames: ['source', 'call', 'kind'],
    registers,
  });
  const refusals = new Counter({ name: 'tn_rate_limited_total', help: 'Requests refused with 429 rate_limited, by limit.', labelNames: ['limit'], registers });
  for (const outcome of ['delivered', 'retrying', 'failed', 'disabled'] as const) deliveries.inc({ outcome }, 0);

  const onOrder = ({ type, order }: OrderEvent): void => {
    const platform = order.platform;
    if (type === 'order.created') created.inc({ platform });
    else if (type === 'order.retried') retried.inc({ platform });
    else if (type === 'sms.received') {
      // A retried order's next code is not another ending: the first one counted.
      if (order.retriedAt !== null || order.completedAt === null) return;
      ended.inc({ platform, state: 'completed' });
      wait.observe({ source: order.source }, Math.max(0, order.completedAt - order.createdAt) / 1000);
    } else if (order.status !== 'completed') ended.inc({ platform, state: order.status });
  };
  const onLedger = (entry: LedgerEntry): void => {
    if (entry.kind === 'order_debit') charged.inc(-entry.amount);
    else if (entry.kind === 'refund') refunded.inc(entry.amount);
    else if (entry.kind === 'deposit') credited.inc(entry.amount);
  };
  const onDelivery = (attempt: DeliveryAttempted): void => deliveries.inc({ outcome: attempt.outcome });
  const onUpstream = (call: UpstreamCallEnded): void => {
    callSeconds.observe({ source: call.source, call: call.call }, Math.max(0, call.durationMs) / 1000);
    if (call.error !== null) callErrors.inc({ source: call.source, call: call.call, kind: call.error });
  };
  const events = app.core.events;
  events.on('order', onOrder);
  events.on('ledger', onLedger);
  events.on('delivery', onDelivery);
  events.on('upstream', onUpstream);
  app.addHook('onClose', async () => {
    events.off('order', onOrder);
    events.off('ledger', onLedger);
    events.off('delivery', onDelivery);
    events.off('upstream', onUpstream);
  });

  // What a verify answered, read before it is serialized: the order's status, or the error's code.
  const outcomes = new WeakMap<FastifyRequest, string>();
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (request.routeOptions.url === VERIFY_ROUTE) outcomes.set(request, outcomeOf(payload));
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== VERIFY_ROUTE || request.method !== 'POST') return;
    verify.observe({ outcome: outcomes.get(request) ?? String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  // A scrape every few seconds is not worth a request log line each.
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return { rateLimited: (limit) => refusals.inc({ limit }) };
}

function outcomeOf(payload: unknown): string {
  const body = payload as { status?: unknown; error?: { code?: unknown } } | null;
  if (typeof body?.status === 'string') return body.status;
  if (typeof body?.error?.code === 'string') return body.error.code;
  return 'unknown';
}
