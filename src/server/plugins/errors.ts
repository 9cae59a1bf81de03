/**
 * The one way a failure leaves the server: the error shape of API.md §4, with a request id, for
 * route errors, unknown routes, router errors, requests too broken or too slow to parse, and
 * requests that arrive while the server closes.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { TnError } from '../../core/errors.js';
import { BODY_LIMIT } from '../../core/limits.js';
import { validationMessage } from '../validation-message.js';

export interface ServerTimeouts {
  headersMs: number;
  requestMs: number;
}

/**
 * Route errors, unknown routes, and requests that arrive while the server closes (on a connection
 * a long poll keeps open): those get 503 `unavailable` here, as Fastify's own answer to them
 * (`return503OnClosing`, off in `buildApp`) is another shape and has no request id.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | TnError, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(new TnError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`), request, reply),
  );
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new TnError('unavailable', 'The server is shutting down.');
  });
}

/** Errors the router raises before any hook runs still leave in the error shape, with a request id. */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : `The URL ${JSON.stringify(request.url.slice(0, 200))} is not valid.`;
  void sendError(new TnError('invalid_request', message), request, reply);
}

/**
 * Requests too broken to parse (bad header lines, headers over Node's limit) get the error shape
 * too, and so do requests that did not arrive in time. A connection that sent nothing at all is
 * closed without a word: it may be a browser's preconnect, which must not read an answer to a
 * request it has not made.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, timeouts: ServerTimeouts): void {
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

export function parseJson(text: string, done: (err: Error | null, body?: unknown) => void): void {
  try {
    done(null, JSON.parse(text));
  } catch {
    done(new TnError('invalid_request', 'The body is not valid JSON.'));
  }
}

/** The one error handler: every failure leaves as the error shape of API.md §4, never a stack trace. */
export function sendError(err: FastifyError | TnError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const tn = toTnError(err, request);
  if (tn.code === 'internal') request.log.error({ err }, 'unhandled error');
  if (tn.code === 'rate_limited' && !reply.hasHeader('retry-after')) reply.header('retry-after', String(tn.details.retry_after ?? 1));
  return reply.code(tn.status).type('application/json; charset=utf-8').send({ error: tn.toBody() });
}

/** A failure as the broker's error it is: Fastify's own refusals (a body too large, broken JSON, a failed validation) are the client's, anything else a bug. */
export function toTnError(err: FastifyError | TnError, request: FastifyRequest): TnError {
  if (err instanceof TnError) return err;
  if (err.validation && err.validation.length) {
    const context = err.validationContext as keyof FastifySchema | undefined;
    return new TnError('invalid_request', validationMessage(err.validation, context ? request.routeOptions.schema?.[context] : undefined));
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TnError('payload_too_large', `The body is larger than ${BODY_LIMIT / 1024} KiB.`);
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
  return new TnError('internal', 'Internal error: the server logged it. This is a bug.');
}
