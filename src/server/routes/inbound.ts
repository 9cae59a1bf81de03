import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY } from '../plugins/openapi.js';
import { SOURCE_NAME_PATTERN } from '../../core/limits.js';

export interface InboundRouteOptions {
  /** `tn serve --public-url`: the origin gateways call, which Twilio signs. */
  publicUrl?: string;
}

const Params = Type.Object({ source: Type.String({ pattern: SOURCE_NAME_PATTERN, description: 'the source name given to `tn admin source add`' }) });

/** What each format posts: read raw by its parser, which checks the sender before anything else. */
const GatewayBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'JSON: SMS Gateway for Android (sms:received), httpSMS (a CloudEvent), generic ({ to, from, text, received_at?, id? }); a form: Twilio (From, To, Body, MessageSid, …), Jasmin (id, from, to, content, …)',
  },
);

/** The answer each gateway expects on success. */
const Acknowledgement = {
  description: "Accepted (stored, and given to the order it is for, if any): the answer the gateway's format expects",
  content: {
    'text/xml': { schema: Type.String({ description: 'Twilio: an empty TwiML <Response/>' }) },
    'text/plain': { schema: Type.String({ description: 'Jasmin: ACK/Jasmin' }) },
    'application/json': { schema: Type.Object({ ok: Type.Literal(true) }, { description: 'the JSON formats' }) },
  },
};

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
    security: GATEWAY,
    params: Params,
    response: { 200: Acknowledgement },
    errors: ['forbidden', 'not_found'] as const,
  };
  app.post('/inbound/:source', { schema: { ...schema, readByHand: { body: GatewayBody, consumes: ['application/json', 'application/x-www-form-urlencoded'] } } }, handle);
  app.get('/inbound/:source', { schema: { ...schema, summary: 'Jasmin: the same, with the fields in the query' } }, handle);
};
