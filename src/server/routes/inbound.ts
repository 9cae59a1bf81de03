import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorResponses } from '../schemas.js';
import { SOURCE_NAME_PATTERN } from '../../core/limits.js';

export interface InboundRouteOptions {
  /** `tn serve --public-url`: the origin gateways call, which Twilio signs. */
  publicUrl?: string;
}

const Params = Type.Object({ source: Type.String({ pattern: SOURCE_NAME_PATTERN, description: 'the source name given to `tn admin source add`' }) });

/**
 * `POST /api/v1/inbound/:source`: SMS from the operator's own gateways. The body is read raw, as
 * signatures are computed over the exact bytes; each format's parser (in the core) checks who sent
 * it before it reads anything else. Jasmin may call with GET and the fields in the query.
 */
export const inboundRoutes: FastifyPluginAsyncTypebox<InboundRouteOptions> = async (app, options) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const handle = async (request: FastifyRequest<{ Params: { source: string } }>, reply: FastifyReply): Promise<void> => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    const origin = options.publicUrl ? options.publicUrl.replace(/\/+$/, '') : `${request.protocol}://${request.host}`;
    const answer = await app.core.inbound(request.params.source, {
      method: request.method,
      url: `${origin}${request.url}`,
      headers,
      rawBody: typeof request.body === 'string' ? request.body : '',
    });
    // Sent as is: the 200 answer is TwiML, `ACK/Jasmin` or JSON, whatever the gateway expects.
    await reply.code(answer.status).type(answer.contentType).send(answer.body);
  };

  const schema = {
    summary: "An SMS from one of the operator's gateways (Twilio, SMS Gateway for Android, httpSMS, Jasmin, generic JSON)",
    params: Params,
    response: errorResponses(400, 403, 404, 429),
  };
  app.post('/inbound/:source', { schema }, handle);
  app.get('/inbound/:source', { schema: { ...schema, summary: 'Jasmin: the same, with the fields in the query' } }, handle);
};
