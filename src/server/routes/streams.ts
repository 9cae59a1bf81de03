import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { toOrderView } from '../../core/order.js';
import type { OrderEvent } from '../../core/service.js';
import { OrderParams, errorResponses, AUTH, SECURITY } from '../schemas.js';
import { openSse } from '../sse.js';

const eventStream = { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } };

/** The webhook event a core event becomes, if any (API.md §6). */
export function webhookEvent(e: OrderEvent): { type: string; timestamp: string; data: unknown } | null {
  const timestamp = new Date().toISOString();
  if (e.type === 'sms.received') return { type: 'sms.received', timestamp, data: toOrderView(e.order) };
  if (e.type === 'order.ended' && (e.order.status === 'expired' || e.order.status === 'failed')) {
    return { type: 'order.failed', timestamp, data: toOrderView(e.order) };
  }
  return null;
}

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
      const onRelease = async (): Promise<void> => end(await app.core.getOrder(request.accountId, first.order_id));
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
      schema: { summary: "Server-Sent Events of the account's webhook events (sms.received, order.failed)", security: SECURITY, response: { ...eventStream, ...errorResponses(401, 429) } },
    },
    async (request, reply) => {
      const accountId = request.accountId;
      const stream = openSse(request, reply, app.heartbeatMs);
      const onEvent = (e: OrderEvent): void => {
        if (e.order.accountId !== accountId) return;
        const event = webhookEvent(e);
        if (event) stream.send(event.type, event);
      };
      const onRelease = (): void => stream.close();
      app.core.events.on('order', onEvent);
      app.release.addEventListener('abort', onRelease, { once: true });
      stream.onClose(() => {
        app.core.events.off('order', onEvent);
        app.release.removeEventListener('abort', onRelease);
      });
    },
  );
};
