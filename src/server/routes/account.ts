import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AccountInfo, Usage, UsageQuery, WebhookBody, WebhookInfo, WebhookRotated, WebhookSet, WebhookTest, AUTH } from '../schemas.js';


export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/account',
    { config: AUTH, schema: { summary: 'Balance, tier, statistics and recent orders', response: { 200: AccountInfo } } },
    async (request) => app.core.account(request.accountId),
  );

  app.get(
    '/usage',
    {
      config: AUTH,
      schema: { summary: 'Per-platform and daily usage', querystring: UsageQuery, response: { 200: Usage } },
    },
    async (request) => app.core.usage(request.accountId, request.query.days ?? 30),
  );

  app.put(
    '/webhook',
    {
      config: AUTH,
      schema: { summary: 'Set the webhook URL (http or https)', body: WebhookBody, response: { 200: WebhookSet } },
    },
    async (request) => app.core.setWebhook(request.accountId, request.body.url, request.body.low_balance_threshold),
  );

  app.post(
    '/webhook/test',
    { config: AUTH, schema: { summary: 'Send a signed webhook.test event to the URL now', response: { 200: WebhookTest } } },
    async (request) => app.core.testWebhook(request.accountId),
  );

  app.post(
    '/webhook/rotate-secret',
    {
      config: AUTH,
      schema: { summary: 'A new signing secret; the old one keeps signing for 24 h', response: { 200: WebhookRotated } },
    },
    async (request) => app.core.rotateWebhookSecret(request.accountId),
  );

  app.get(
    '/webhook',
    { config: AUTH, schema: { summary: 'The webhook URL, its secret and recent deliveries', response: { 200: WebhookInfo } } },
    async (request) => app.core.webhook(request.accountId),
  );

  app.delete(
    '/webhook',
    { config: AUTH, schema: { summary: 'Remove the webhook', response: { 204: { type: 'null' } } } },
    async (request, reply) => {
      await app.core.removeWebhook(request.accountId);
      return reply.code(204).send();
    },
  );
};
