/**
 * `buildApp()`: the HTTP API of API.md §5 on a broker core, composed of its parts (error
 * handling, authentication and rate limits, background work, the routes). The routes only
 * translate HTTP to core calls: every rule lives in the core, shared with the embedded broker.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { BrokerCore } from '../core/broker-core.js';
import { BODY_LIMIT } from '../core/limits.js';
import { installAuthAndLimits, type RateLimits } from './plugins/auth-limits.js';
import { installBackground, type BackgroundOptions } from './plugins/background.js';
import { installOpenApi } from './plugins/openapi.js';
import { answerClientError, frameworkError, installErrorHandlers, parseJson, type ServerTimeouts } from './plugins/errors.js';
import { REDACT, redactUrl } from './request.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { accountRoutes } from './routes/account.js';
import { orderRoutes } from './routes/orders.js';
import { publicRoutes } from './routes/public.js';
import { streamRoutes } from './routes/streams.js';
import { inboundRoutes } from './routes/inbound.js';
import { smsActivateRoutes } from './routes/sms-activate.js';
import { depositRoutes } from './routes/deposits.js';

/** The prefix of the REST API; the sms-activate protocol has its own path. */
const API = '/api/v1';

/**
 * How long a client may take to send a request (issue 20 §3): its headers within `headersMs` of
 * the connection or of the request's first byte, all of it (headers and a body of at most
 * BODY_LIMIT) within `requestMs`. Neither bounds the answer, so a long poll (up to 300 s) and an
 * event stream (until its end) are never cut; an idle keep-alive connection closes after
 * Fastify's 72 s. No per-IP connection cap: a proxy in front, or one client holding its 2,000
 * long polls, is one address, and each slow connection is gone after `requestMs` anyway.
 */
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 15_000, requestMs: 30_000 };
/** Node checks the timeouts on an interval (30 s by default, which would double them): much finer. */
const TIMEOUT_CHECK_MS = 1_000;

export interface AppOptions extends BackgroundOptions {
  core: BrokerCore;
  version: string;
  rateLimits?: RateLimits;
  /** A pino logger, or false for none (tests). */
  logger?: FastifyBaseLogger | boolean;
  /** Trust X-Forwarded-For from a reverse proxy in front (see the README). */
  trustProxy?: boolean | string;
  /** Aborted when the server shuts down: long polls answer with the current state. */
  release?: AbortSignal;
  /** Milliseconds between SSE keep-alive comments. */
  heartbeatMs?: number;
  /** The public origin gateways call (`tn serve --public-url`), for signature checks over the URL. */
  publicUrl?: string;
  /** Slow-client timeouts; DEFAULT_TIMEOUTS for what is not given. */
  timeouts?: Partial<ServerTimeouts>;
  /** Serve `GET /metrics` in the Prometheus text format (`tn serve --metrics`); prom-client is loaded only then. */
  metrics?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    core: BrokerCore;
    release: AbortSignal;
    heartbeatMs: number;
    startedAt: number;
    tnVersion: string;
  }
  interface FastifyRequest {
    accountId: string;
  }
  interface FastifyContextConfig {
    /** Routes that act for an account. */
    auth?: boolean;
  }
}

export type { RateLimits } from './plugins/auth-limits.js';
export type { ServerTimeouts } from './plugins/errors.js';
export { REDACT, redactUrl, apiKeyOf } from './request.js';

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const requestMs = options.timeouts?.requestMs ?? DEFAULT_TIMEOUTS.requestMs;
  // The headers are part of the request: Node refuses a header timeout longer than the request's.
  const headersMs = Math.min(options.timeouts?.headersMs ?? DEFAULT_TIMEOUTS.headersMs, requestMs);
  const app = Fastify({
    logger:
      options.logger === undefined || options.logger === false
        ? false
        : options.logger === true
          ? { redact: REDACT, serializers: { req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }) } }
          : undefined,
    loggerInstance: typeof options.logger === 'object' ? options.logger : undefined,
    bodyLimit: BODY_LIMIT,
    // Fastify sets the server's requestTimeout from its own option (0, off, by default).
    requestTimeout: requestMs,
    http: { headersTimeout: headersMs, requestTimeout: requestMs, connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, Math.ceil(headersMs / 4)) },
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Requests that come while the server closes get 503 from the error handlers, in the error shape.
    return503OnClosing: false,
    // Errors the router raises before any hook runs still leave in the error shape, with a request id.
    frameworkErrors: frameworkError,
    clientErrorHandler: (err, socket) => answerClientError(err, socket, { headersMs, requestMs }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('core', options.core);
  app.decorate('release', options.release ?? new AbortController().signal);
  // Every open long poll and stream listens to it: thousands of listeners are the normal case, not a leak.
  setMaxListeners(0, app.release);
  app.decorate('heartbeatMs', options.heartbeatMs ?? 15_000);
  app.decorate('startedAt', Date.now());
  app.decorate('tnVersion', options.version);
  app.decorateRequest('accountId', '');

  // A JSON body says what is a number; a query string and a form carry only text, so there "7" means 7.
  const coercing = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false });
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false });
  for (const schema of SHARED_SCHEMAS) {
    app.addSchema(schema);
    coercing.addSchema(schema);
    strict.addSchema(schema);
  }
  /** Bodies that came as form fields, read as the query string is. */
  const forms = new WeakSet<object>();
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart !== 'body') return coercing.compile(schema);
    const json = strict.compile(schema);
    const form = coercing.compile(schema);
    const validate = (data: unknown): boolean => {
      const check = typeof data === 'object' && data !== null && forms.has(data) ? form : json;
      const valid = check(data);
      validate.errors = check.errors;
      return valid;
    };
    validate.errors = json.errors;
    return validate;
  });

  // `curl -d '{"platform":"instagram"}'` sends a form content type with a JSON body: accept it, and plain forms too.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, undefined);
    if (text.startsWith('{') || text.startsWith('[')) return parseJson(text, done);
    const fields = Object.fromEntries(new URLSearchParams(text));
    forms.add(fields);
    done(null, fields);
  });

  await installOpenApi(app, { version: options.version, api: API });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  const metrics = options.metrics ? (await import('./plugins/metrics.js')).installMetrics(app) : undefined;
  installBackground(app, options);
  installAuthAndLimits(app, options.rateLimits, metrics?.rateLimited);
  installErrorHandlers(app);

  await app.register(
    async (api) => {
      await api.register(publicRoutes);
      await api.register(orderRoutes);
      await api.register(accountRoutes);
      await api.register(streamRoutes);
      await api.register(depositRoutes);
      await api.register(inboundRoutes, { publicUrl: options.publicUrl });
      api.get(
        '/openapi.json',
        { schema: { summary: 'This OpenAPI 3.1 document', response: { 200: Type.Object({}, { additionalProperties: true, description: 'the OpenAPI document' }) } } },
        async () => app.swagger(),
      );
    },
    { prefix: API },
  );
  await app.register(smsActivateRoutes);
  return app;
}

