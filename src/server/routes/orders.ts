import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ORDER_ID_HEADER } from '../../client/headers.js';
import { TnError, type ErrorCode } from '../../core/errors.js';
import {
  AgentAnswer,
  AgentBody,
  BatchBody,
  BatchResult,
  OrderBody,
  OrderPage,
  OrderParams,
  OrdersQuery,
  OrderRef,
  VerifyAnswer,
  VerifyBody,
  IdempotencyHeaders,
  AUTH,
} from '../schemas.js';
import { IDEMPOTENCY_KEY_MAX } from '../../core/limits.js';


/** `idempotency_key` in the body or the `Idempotency-Key` header; both at once must agree. */
function idempotencyKey(request: FastifyRequest, bodyKey: string | undefined): string | undefined {
  const header = request.headers['idempotency-key'];
  const headerKey = typeof header === 'string' && header !== '' ? header : undefined;
  if (headerKey !== undefined && headerKey.length > IDEMPOTENCY_KEY_MAX) throw new TnError('invalid_request', `The Idempotency-Key header is longer than ${IDEMPOTENCY_KEY_MAX} characters.`);
  if (bodyKey !== undefined && headerKey !== undefined && bodyKey !== headerKey) {
    throw new TnError('invalid_request', 'The Idempotency-Key header and the body\'s "idempotency_key" differ.');
  }
  return bodyKey ?? headerKey;
}

/**
 * Aborts when the client goes away before its answer is sent (Ctrl-C on a `tn verify`): the core
 * then cancels the order and refunds it, instead of charging for a code nobody will read.
 */
function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) gone.abort();
  });
  return gone.signal;
}

/**
 * A `103 Early Hints` with the order's id as soon as the order exists, long before the long poll
 * answers: a client whose connection then drops (a server restart) still knows which order it
 * paid for, and follows or cancels it. Clients that do not read 1xx answers never see it.
 */
function announceOrder(reply: FastifyReply, orderId: string): void {
  try {
    reply.raw.writeEarlyHints({ link: `</api/v1/order/${encodeURIComponent(orderId)}>; rel="related"`, [ORDER_ID_HEADER]: orderId });
  } catch {
    // A response that cannot carry 1xx (an injected test request): the final answer still has the order.
  }
}

/** What placing an order can refuse, beyond every route's errors. */
const ORDERING_ERRORS: readonly ErrorCode[] = ['unknown_platform', 'unknown_country', 'insufficient_balance', 'price_above_max', 'idempotency_key_reused', 'delivery_rate_low', 'no_numbers'];
/** The agent orders only what it understood, from a known platform and country. */
const AGENT_ERRORS: readonly ErrorCode[] = ['insufficient_balance', 'price_above_max', 'delivery_rate_low', 'no_numbers'];

/** Ordering, waiting, cancelling: each route is one call into the core. */
export const orderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/order',
    {
      config: AUTH,
      schema: {
        summary: 'Order a number; poll /order/:id or stream /order/:id/stream for the code',
        body: OrderBody,
        readByHand: { headers: IdempotencyHeaders },
        response: { 201: OrderRef },
        errors: ORDERING_ERRORS,
      },
    },
    async (request, reply) => {
      const { platform, country, idempotency_key, max_price } = request.body;
      const order = await app.core.order(request.accountId, { platform, country, idempotencyKey: idempotencyKey(request, idempotency_key), maxPrice: max_price });
      return reply.code(201).send(order);
    },
  );

  app.post(
    '/verify',
    {
      config: AUTH,
      schema: {
        summary: 'Order a number, wait for the SMS and answer with the code (long poll, up to timeout_seconds)',
        description:
          'If timeout_seconds pass first, the order is expired early with a refund and the answer is 200 with status "expired". ' +
          'With attempts, a number that gets no SMS within per_attempt_seconds is cancelled (refunded) and another ordered; the answer lists them in "attempts".',
        body: VerifyBody,
        readByHand: { headers: IdempotencyHeaders },
        response: { 200: VerifyAnswer },
        errors: ORDERING_ERRORS,
      },
    },
    async (request, reply) => {
      const { platform, country, idempotency_key, timeout_seconds, max_price, attempts, per_attempt_seconds } = request.body;
      return app.core.verify(
        request.accountId,
        {
          platform,
          country,
          timeoutSeconds: timeout_seconds,
          idempotencyKey: idempotencyKey(request, idempotency_key),
          maxPrice: max_price,
          attempts,
          perAttemptSeconds: per_attempt_seconds,
        },
        { release: app.release, signal: clientGone(reply), onOrder: (order) => announceOrder(reply, order.order_id) },
      );
    },
  );

  app.get(
    '/orders',
    {
      config: AUTH,
      schema: {
        summary: "The account's orders, newest first, filtered and paged",
        querystring: OrdersQuery,
        response: { 200: OrderPage },
      },
    },
    async (request) => app.core.orders(request.accountId, request.query),
  );

  app.get(
    '/order/:id',
    { config: AUTH, schema: { summary: 'An order, with its code once it arrived', params: OrderParams, response: { 200: OrderRef }, errors: ['not_found'] } },
    async (request) => app.core.getOrder(request.accountId, request.params.id),
  );

  app.post(
    '/order/:id/cancel',
    {
      config: AUTH,
      schema: { summary: 'Cancel an active order; its price is refunded', params: OrderParams, response: { 200: OrderRef }, errors: ['not_found', 'order_not_active'] },
    },
    async (request) => app.core.cancel(request.accountId, request.params.id),
  );

  app.post(
    '/order/:id/retry',
    {
      config: AUTH,
      schema: {
        summary: 'Wait for another SMS on the same number (a completed order before expires_at), free',
        params: OrderParams,
        response: { 200: OrderRef },
        errors: ['not_found', 'order_not_active'],
      },
    },
    async (request) => app.core.retry(request.accountId, request.params.id),
  );

  app.post(
    '/batch',
    {
      config: AUTH,
      schema: {
        summary: 'Order 1–20 numbers; each item succeeds or fails on its own',
        body: BatchBody,
        readByHand: { headers: IdempotencyHeaders },
        response: { 200: BatchResult },
        errors: ['batch_too_large'],
      },
    },
    async (request) => {
      const header = idempotencyKey(request, undefined);
      const items = request.body.orders.map((item, i) => ({
        platform: item.platform,
        country: item.country,
        maxPrice: item.max_price,
        // One header key for the whole batch gives each item its own key.
        idempotencyKey: item.idempotency_key ?? (header === undefined ? undefined : `${header}#${i}`),
      }));
      return app.core.batch(request.accountId, items);
    },
  );

  app.post(
    '/agent',
    {
      config: AUTH,
      schema: { summary: 'Plain-English ordering; never spends money on a guess', body: AgentBody, response: { 200: AgentAnswer }, errors: AGENT_ERRORS },
    },
    async (request, reply) => app.core.agent(request.accountId, request.body.query, { release: app.release, signal: clientGone(reply) }),
  );
};
