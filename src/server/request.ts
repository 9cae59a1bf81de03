/** What the server reads off a request, and what it must never log of one. */
import type { FastifyRequest } from 'fastify';

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

/** A URL as logged: a gateway's `token` query parameter (Jasmin's credential) and an sms-activate client's `api_key` are replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|api_key)=)[^&#]*/gi, '$1[Redacted]');
}
