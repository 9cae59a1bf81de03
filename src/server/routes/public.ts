import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { apiKeyOf } from '../request.js';
import { KEY_OPTIONAL } from '../plugins/openapi.js';
import { Availability, ErrorRef, Health, PriceList, PricesQuery, Registration, ServicesList } from '../schemas.js';

/** The routes anyone may call: the catalogue, availability, registration, health. */
export const publicRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/services',
    { schema: { summary: 'Platforms and prices; with a key, `your_price` after the tier discount', security: KEY_OPTIONAL, response: { 200: ServicesList } } },
    async (request) => {
      const key = apiKeyOf(request);
      return app.core.services(key ? await app.core.authenticate(key) : undefined);
    },
  );

  app.get(
    '/availability',
    { schema: { summary: 'Stock, success rate and median delivery time per platform, from real order history', response: { 200: Availability } } },
    async () => app.core.availability(),
  );

  app.get(
    '/prices',
    {
      schema: {
        summary: 'Price list: every country for one platform (by=country&platform=…) or every platform in one country (by=service&country=…), with stock',
        security: KEY_OPTIONAL,
        querystring: PricesQuery,
        response: { 200: PriceList },
        errors: ['unknown_platform', 'unknown_country'],
      },
    },
    async (request) => {
      const key = apiKeyOf(request);
      return app.core.prices(key ? await app.core.authenticate(key) : undefined, request.query);
    },
  );

  app.post(
    '/register',
    { schema: { summary: 'Create an account; the API key is shown once', response: { 201: Registration } } },
    async (_request, reply) => reply.code(201).send(await app.core.register()),
  );

  // 503: degraded (the database cannot be read), or the error shape while the server shuts down.
  app.get('/health', { schema: { summary: 'Service health', response: { 200: Health, 503: Type.Union([Health, ErrorRef], { description: 'degraded (the database cannot be read), or unavailable while the server shuts down' }) } } }, async (_request, reply) => {
    const uptime = Math.round((Date.now() - app.startedAt) / 1000);
    try {
      await app.core.ping();
      return { status: 'ok', uptime_seconds: uptime, version: app.tnVersion, database: 'reachable', instance: app.core.instanceId };
    } catch {
      return reply.code(503).send({ status: 'degraded', uptime_seconds: uptime, version: app.tnVersion, database: 'unreachable', instance: app.core.instanceId });
    }
  });
};
