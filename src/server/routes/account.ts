import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AccountInfo, Usage, UsageQuery, WebhookBody, WebhookInfo, WebhookRotated, WebhookSet, WebhookTest, errorResponses, AUTH, SECURITY } from '../schemas.js';


export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/account',
    { config: AUTH, schema: { summary: 'Balance, tier, statistics and recent orders', security: SECURITY, response: { 200: AccountInfo, ...errorResponses(401, 429) } } },
    async (request) => app.core.account(request.accountId),
  );

  app.get(
    '/usage',
    {
      config: AUTH,
      schema: { summary: 'Per-platform and daily usage', security: SECURITY, querystring: UsageQuery, response: { 200: Usage, ...errorResponses(400, 401, 429) } },
    },
    async (request) => app.core.usage(request.accountId, request.query.days ?? 30),
  );

  app.put(
    '/webhook',
    {
      config: AUTH,
      schema: { summary: 'Set the webhook URL (http or https)', security: SECURITY, body: WebhookBody, response: { 200: WebhookSet, ...errorResponses(400, 401, 429) } },
    },
    async (request) => app.core.setWebhook(request.accountId, request.body.url, request.body.low_balance_threshold),
  );

  app.post(
    '/webhook/test',
    { config: AUTH, schema: { summary: 'Send a signed webhook.test event to the URL now', security: SECURITY, response: { 200: WebhookTest, ...errorResponses(400, 401, 429) } } },
    async (request) => app.core.testWebhook(request.accountId),
  );

  app.post(
    '/webhook/rotate-secret',
    {
      config: AUTH,
      schema: { summary: 'A new signing secret; the old one keeps signing for 24 h', security: SECURITY, response: { 200: WebhookRotated, ...errorResponses(401, 429) } },
    },
    async (request) => app.core.rotateWebhookSecret(request.accountId),
  );

  app.get(
    '/webhook',
    { config: AUTH, schema: { summary: 'The webhook URL, its secret and recent deliveries', security: SECURITY, response: { 200: WebhookInfo, ...errorResponses(401, 429) } } },
    async (request) => app.core.webhook(request.accountId),
  );

  app.delete(
    '/webhook',
    { config: AUTH, schema: { summary: 'Remove the webhook', security: SECURITY, response: { 204: { type: 'null' }, ...errorResponses(401, 429) } } },
    async (request, reply) => {
      await app.core.removeWebhook(request.accountId);
      return reply.code(204).send();
    },
  );
};
