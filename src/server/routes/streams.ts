import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { toOrderView } from '../../core/orders/order.js';
import type { OutboxEvent } from '../../core/events/port.js';
import type { OrderEvent } from '../../core/context.js';
import { EventsQuery, OrderParams, errorResponses, AUTH, SECURITY } from '../schemas.js';
import { openSse } from '../sse.js';

const eventStream = { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } };

/** Server-Sent Events, woken by the core's in-memory events: no timer or query per open stream. */
export const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/order/:id/stream',
    {
      config: AUTH,
      schema: {
        summary: 'Server-Sent Events for one order: status (now and on every change), code, end',
        security: SECURITY,
        params: OrderParams,
        response: { ...eventStream, ...errorResponses(401, 404, 429) },
      },
    },
    async (request, reply) => {
      const first = await app.core.getOrder(request.accountId, request.params.id);
      const stream = openSse(request, reply, app.heartbeatMs);
      const end = (order: typeof first): void => {
        stream.send('end', order);
        stream.close();
      };
      stream.send('status', first);
      if (first.status !== 'active') return end(first);

      const onEvent = (e: OrderEvent): void => {
        if (e.order.id !== first.order_id) return;
        const order = toOrderView(e.order);
        if (e.type === 'sms.received') stream.send('code', { order_id: order.order_id, code: order.code, sms: order.sms });
        stream.send('status', order);
        if (order.status !== 'active') end(order);
      };
      // Closed without `end`: the order has not ended, and a client should reconnect and follow it on.
      const onRelease = (): void => stream.close();
      app.core.events.on('order', onEvent);
      app.release.addEventListener('abort', onRelease, { once: true });
      stream.onClose(() => {
        app.core.events.off('order', onEvent);
        app.release.removeEventListener('abort', onRelease);
      });
    },
  );

  app.get(
    '/events',
    {
      config: AUTH,
      schema: {
        summary: "Server-Sent Events of the account's webhook events, with ids: reconnect with Last-Event-ID to miss nothing",
        security: SECURITY,
        querystring: EventsQuery,
        response: { ...eventStream, ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const accountId = request.accountId;
      const header = request.headers['last-event-id'];
      const resumeFrom = await app.core.eventPosition(request.accountId, typeof header === 'string' && header !== '' ? header : request.query.last_event_id);
      const stream = openSse(request, reply, app.heartbeatMs);
      let sent = resumeFrom ?? 0;
      const send = (e: OutboxEvent): void => {
        if (e.id <= sent) return;
        sent = e.id;
        // The id is the event's webhook-id, so a client can resume with it and forward it as it is.
        stream.sendJson(e.type, e.payload, e.msgId);
      };
      // Live events wait in a buffer while the outbox is replayed, so none falls in between.
      let buffer: OutboxEvent[] | null = resumeFrom === undefined ? null : [];
      const onEvent = (e: OutboxEvent): void => {
        if (e.accountId !== accountId) return;
        if (buffer) buffer.push(e);
        else send(e);
      };
      const onRelease = (): void => stream.close();
      app.core.events.on('outbox', onEvent);
      app.release.addEventListener('abort', onRelease, { once: true });
      stream.onClose(() => {
        app.core.events.off('outbox', onEvent);
        app.release.removeEventListener('abort', onRelease);
      });
      if (resumeFrom !== undefined) {
        for (;;) {
          const missed = await app.core.eventsAfter(accountId, sent, 500);
          for (const e of missed) send(e);
          if (missed.length < 500 || stream.closed) break;
        }
        for (const e of buffer ?? []) send(e);
        buffer = null;
      }
    },
  );
};
