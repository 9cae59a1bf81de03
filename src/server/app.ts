import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TnError } from '../core/errors.js';
import type { BrokerCore } from '../core/broker-core.js';
import { TokenBuckets } from './rate-limit.js';
import { WebhookDeliverer } from './webhooks.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { accountRoutes } from './routes/account.js';
import { orderRoutes } from './routes/orders.js';
import { publicRoutes } from './routes/public.js';
import { streamRoutes } from './routes/streams.js';
import { inboundRoutes } from './routes/inbound.js';
import { smsActivateRoutes } from './routes/sms-activate.js';
import { depositRoutes } from './routes/deposits.js';

export interface RateLimits {
  /** Requests per second per API key (bursts up to twice that); 0 turns every limit off. */
  perKeyPerSecond: number;
  /** `register` calls per hour per client IP; 0 turns it off. */
  registerPerHour: number;
  /** Extra limits for single routes, keyed `METHOD /api/v1/path` (TempNumber's table is the documented strict example). */
  routes?: Record<string, { limit: number; windowSeconds: number }>;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perKeyPerSecond: 100, registerPerHour: 30 };
export const BODY_LIMIT = 64 * 1024;

/**
 * How long a client may take to send a request (issue 20 §3): its headers within `headersMs` of
 * the connection or of the request's first byte, all of it (headers and a body of at most
 * BODY_LIMIT) within `requestMs`. Neither bounds the answer, so a long poll (up to 300 s) and an
 * event stream (until its end) are never cut; an idle keep-alive connection closes after
 * Fastify's 72 s. No per-IP connection cap: a proxy in front, or one client holding its 2,000
 * long polls, is one address, and each slow connection is gone after `requestMs` anyway.
 */
export interface ServerTimeouts {
  headersMs: number;
  requestMs: number;
}
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 15_000, requestMs: 30_000 };
/** Node checks the timeouts on an interval (30 s by default, which would double them): much finer. */
const TIMEOUT_CHECK_MS = 1_000;

export interface AppOptions {
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
  /** Carry out due SMS deliveries and expiries while the app runs (default true). */
  scheduler?: boolean;
  /** Webhook delivery while the app runs; `false` turns it off (default on, with API.md §6's schedule). */
  webhooks?: false | { schedule?: readonly number[]; allowPrivate?: boolean; jitter?: number };
  /** The public origin gateways call (`tn serve --public-url`), for signature checks over the URL. */
  publicUrl?: string;
  /** Slow-client timeouts; DEFAULT_TIMEOUTS for what is not given. */
  timeouts?: Partial<ServerTimeouts>;
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

/** What the logs must never show. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.body.api_key',
  'api_key',
  'secret',
  'webhook_secret',
  '*.api_key',
  '*.secret',
  '*.webhook_secret',
];

/**
 * Builds the HTTP API of API.md §5 on a broker core. The routes only translate HTTP to core calls:
 * every rule lives in the core, shared with the embedded broker of the CLI.
 */
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
    return503OnClosing: true,
    // Errors the router raises before any hook runs still leave in the error shape, with a request id.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : `The URL ${JSON.stringify(request.url.slice(0, 200))} is not valid.`;
      void sendError(new TnError('invalid_request', message), request, reply);
    },
    clientErrorHandler: (err, socket) => answerClientError(err, socket, { headersMs, requestMs }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('core', options.core);
  app.decorate('release', options.release ?? new AbortController().signal);
  app.decorate('heartbeatMs', options.heartbeatMs ?? 15_000);
  app.decorate('startedAt', Date.now());
  app.decorate('tnVersion', options.version);
  app.decorateRequest('accountId', '');

  // Bodies are JSON; a query string is the only place where "7" means 7.
  const coercing = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false });
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false });
  for (const schema of SHARED_SCHEMAS) {
    app.addSchema(schema);
    coercing.addSchema(schema);
    strict.addSchema(schema);
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  // `curl -d '{"platform":"instagram"}'` sends a form content type with a JSON body: accept it, and plain forms too.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, undefined);
    if (text.startsWith('{') || text.startsWith('[')) return parseJson(text, done);
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Telenumerus API (tn)',
        version: options.version,
        description: 'Temporary phone numbers and SMS verification codes. Money is exact to the micro-dollar.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  const perKey =
    options.rateLimits?.perKeyPerSecond === 0
      ? null
      : new TokenBuckets({ name: 'per-key', rate: options.rateLimits?.perKeyPerSecond ?? 100, burst: 2 * (options.rateLimits?.perKeyPerSecond ?? 100) });
  const registerLimit = options.rateLimits?.registerPerHour ?? DEFAULT_RATE_LIMITS.registerPerHour;
  const perIpRegister =
    options.rateLimits?.perKeyPerSecond === 0 || registerLimit === 0
      ? null
      : new TokenBuckets({ name: 'register', rate: registerLimit / 3600, burst: registerLimit });

  // Callback-style hooks: no promise per request where nothing waits.
  const perRoute = new Map(
    options.rateLimits?.perKeyPerSecond === 0
      ? []
      : Object.entries(options.rateLimits?.routes ?? {}).map(([route, l]) => [
          route,
          new TokenBuckets({ name: route.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''), rate: l.limit / l.windowSeconds, burst: l.limit }),
        ]),
  );

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  if (options.webhooks !== false) {
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    const deliverer = new WebhookDeliverer({
      core: options.core,
      ...options.webhooks,
      userAgent: `tn-webhooks/${options.version}`,
      onError: (err) => app.log.error({ err }, 'webhook delivery'),
    });
    app.addHook('onReady', async () => {
      running = deliverer.run(stop.signal);
    });
    app.addHook('onClose', async () => {
      stop.abort();
      await running;
    });
  }

  if (options.scheduler !== false) {
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    app.addHook('onReady', async () => {
      running = Promise.all([
        options.core.runScheduler(stop.signal, { onError: (err) => app.log.error({ err }, 'scheduler') }),
        options.core.runDepositWatcher(stop.signal, { onError: (err) => app.log.warn({ err }, 'deposit watcher') }),
      ]).then(() => undefined);
    });
    app.addHook('onClose', async () => {
      stop.abort();
      await running;
    });
  }

  /**
   * Who is asking, then rate limits, then authentication for the routes that act for an account.
   * A known key has its own bucket; no key, or a key that is not an account, counts against the
   * client's address, so made-up keys cannot buy fresh buckets.
   */
  app.addHook('preHandler', async (request, reply) => {
    const key = apiKeyOf(request);
    let accountId = key ? app.core.knownKey(key) : undefined;
    let authError: unknown;
    if (key && !accountId) {
      try {
        accountId = await app.core.authenticate(key);
      } catch (err) {
        authError = err;
      }
    }
    const who = accountId ? `key:${key}` : `ip:${request.ip}`;
    if (request.routeOptions.url === '/api/v1/register') {
      if (perIpRegister) limit(perIpRegister, `ip:${request.ip}`, reply);
    } else if (perKey) limit(perKey, who, reply);
    // HEAD runs the GET handler, so it counts as GET.
    const route = perRoute.get(`${request.method === 'HEAD' ? 'GET' : request.method} ${request.routeOptions.url}`);
    if (route) limit(route, who, reply);
    if (!request.routeOptions.config.auth) return;
    if (!accountId) throw authError ?? (await app.core.authenticate(undefined).catch((err: unknown) => err));
    request.accountId = accountId;
  });

  // The core never prints: what an operator must act on (an upstream out of money) goes to the log.
  const onAlert = (alert: { source: string; code: string; message: string }): void => app.log.warn(alert, alert.message);
  options.core.events.on('alert', onAlert);
  app.addHook('onClose', async () => {
    options.core.events.off('alert', onAlert);
  });

  app.setErrorHandler((err: FastifyError | TnError, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(new TnError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`), request, reply),
  );

  await app.register(
    async (api) => {
      await api.register(publicRoutes);
      await api.register(orderRoutes);
      await api.register(accountRoutes);
      await api.register(streamRoutes);
      await api.register(depositRoutes);
      await api.register(inboundRoutes, { publicUrl: options.publicUrl });
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );
  await app.register(smsActivateRoutes);
  return app;
}

/** A URL as logged: a gateway's `token` query parameter (Jasmin's credential) and an sms-activate client's `api_key` are replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|api_key)=)[^&#]*/gi, '$1[Redacted]');
}

/**
 * Requests too broken to parse (bad header lines, headers over Node's limit) get the error shape
 * too, and so do requests that did not arrive in time. A connection that sent nothing at all is
 * closed without a word: it may be a browser's preconnect, which must not read an answer to a
 * request it has not made.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, timeouts: ServerTimeouts): void {
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  if (err.code === 'ECONNRESET' || !socket.writable || (timedOut && (socket as Duplex & { bytesRead?: number }).bytesRead === 0)) {
    socket.destroy();
    return;
  }
  const message =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'The request headers are too large.'
      : timedOut
        ? `The request did not arrive in time: headers within ${timeouts.headersMs / 1000} s, all of it within ${timeouts.requestMs / 1000} s.`
        : 'The request is not valid HTTP.';
  const body = JSON.stringify({ error: new TnError('invalid_request', message).toBody() });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function parseJson(text: string, done: (err: Error | null, body?: unknown) => void): void {
  try {
    done(null, JSON.parse(text));
  } catch {
    done(new TnError('invalid_request', 'The body is not valid JSON.'));
  }
}

function limit(buckets: TokenBuckets, key: string, reply: FastifyReply): void {
  const verdict = buckets.take(key);
  reply.headers(buckets.headers(verdict));
  if (!verdict.allowed) {
    reply.header('retry-after', String(verdict.retryAfter));
    throw new TnError('rate_limited', `Too many requests: retry in ${verdict.retryAfter} s.`, { retry_after: verdict.retryAfter });
  }
}

/** The key from `Authorization: Bearer`, `X-API-Key` or the body's `api_key`, in that order. */
export function apiKeyOf(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const body = request.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const key = (body as Record<string, unknown>).api_key;
    if (typeof key === 'string' && key !== '') return key;
  }
  return undefined;
}

/** The one error handler: every failure leaves as the error shape of API.md §4, never a stack trace. */
function sendError(err: FastifyError | TnError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const tn = toTnError(err);
  if (tn.code === 'internal') request.log.error({ err }, 'unhandled error');
  if (tn.code === 'rate_limited' && !reply.hasHeader('retry-after')) reply.header('retry-after', String(tn.details.retry_after ?? 1));
  return reply.code(tn.status).type('application/json; charset=utf-8').send({ error: tn.toBody() });
}

function toTnError(err: FastifyError | TnError): TnError {
  if (err instanceof TnError) return err;
  if (err.validation && err.validation.length) {
    const v = err.validation[0]!;
    const where = (err.validationContext === 'querystring' ? 'query ' : '') + 'parameter';
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'required') return new TnError('invalid_request', `The ${where} "${String(params.missingProperty)}" is required.`);
    if (v.keyword === 'additionalProperties') return new TnError('invalid_request', `Unknown ${where} "${String(params.additionalProperty)}".`);
    const name = v.instancePath.replace(/^\//, '').replace(/\//g, '.') || (err.validationContext === 'body' ? 'body' : 'value');
    return new TnError('invalid_request', `The ${where} "${name}" ${v.message ?? 'is invalid'}.`);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TnError('payload_too_large', 'The body is larger than 64 KiB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TnError('invalid_request', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TnError('invalid_request', 'The body is empty: send a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TnError('invalid_request', 'Content-Length does not match the body.');
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new TnError('invalid_request', 'The body is not valid JSON.');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new TnError('invalid_request', err.message || 'Bad request.');
  }
  if (err.statusCode === 503) return new TnError('unavailable', 'The server is shutting down.');
  return new TnError('internal', 'Internal error: the server logged it. This is a bug.');
}
