import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { toOrderView } from '../../core/orders/order.js';
import type { OutboxEvent } from '../../core/events/port.js';
import type { OrderEvent } from '../../core/context.js';
import { EventsQuery, OrderParams, AUTH } from '../schemas.js';
import { openSse } from '../sse.js';

/** A 200 whose body is a stream of Server-Sent Events; `events` says which. */
const eventStream = (events: string) => ({ 200: { description: `Server-Sent Events: ${events}`, content: { 'text/event-stream': { schema: Type.String() } } } });

/** Server-Sent Events, woken by the core's in-memory events: no timer or query per open stream. */
export const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/order/:id/stream',
    {
      config: AUTH,
      schema: {
        summary: 'Server-Sent Events for one order: status (now and on every change), code, end',
        params: OrderParams,
        response: eventStream('`status` (the order, at once and on every change), `code` ({ order_id, code, sms }), `end` (the final order), then the stream closes; a comment every 15 s'),
        errors: ['not_found'],
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

      let last = first;
      const show = (order: typeof first, smsArrived: boolean): void => {
        if (stream.closed) return;
        if (smsArrived) stream.send('code', { order_id: order.order_id, code: order.code, sms: order.sms });
        stream.send('status', order);
        last = order;
        if (order.status !== 'active') end(order);
      };
      const onEvent = (e: OrderEvent): void => {
        if (e.order.id === first.order_id) show(toOrderView(e.order), e.type === 'sms.received');
      };
      // Another process or instance changed something: read the order again, and tell what moved.
      const onForeign = (): void => {
        void app.core.getOrder(request.accountId, first.order_id).then(
          (order) => {
            if (order.status === last.status && order.codes.length === last.codes.length) return;
            show(order, order.codes.length > last.codes.length);
          },
          () => undefined,
        );
      };
      // Closed without `end`: the order has not ended, and a client should reconnect and follow it on.
      const onRelease = (): void => stream.close();
      app.core.events.on('order', onEvent);
      const unwatch = app.core.onForeignChange(onForeign);
      app.release.addEventListener('abort', onRelease, { once: true });
      stream.onClose(() => {
        app.core.events.off('order', onEvent);
        unwatch();
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
        querystring: EventsQuery,
        readByHand: { headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ description: 'resume after this event, as last_event_id' })) }) },
        response: eventStream("the account's webhook events: `event: <type>`, `id: <webhook-id>`, the webhook payload as data; a comment every 15 s"),
      },
    },
    async (request, reply) => {
      const accountId = request.accountId;
      const header = request.headers['last-event-id'];
      const resumeFrom = await app.core.eventPosition(request.accountId, typeof header === 'string' && header !== '' ? header : request.query.last_event_id);
      const stream = openSse(request, reply, app.heartbeatMs);
      let sent = resumeFrom ?? (await app.core.latestEventPosition(accountId));
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
      // Events another process or instance wrote come from the log itself, after the last one sent.
      let catchingUp = false;
      const onForeign = (): void => {
        if (buffer || catchingUp) return;
        catchingUp = true;
        void app.core
          .eventsAfter(accountId, sent, 500)
          .then((missed) => missed.forEach(send), () => undefined)
          .finally(() => (catchingUp = false));
      };
      const onRelease = (): void => stream.close();
      app.core.events.on('outbox', onEvent);
      const unwatch = app.core.onForeignChange(onForeign);
      app.release.addEventListener('abort', onRelease, { once: true });
      stream.onClose(() => {
        app.core.events.off('outbox', onEvent);
        unwatch();
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
