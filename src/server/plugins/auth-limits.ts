/**
 * Who is asking, then rate limits, then authentication for the routes that act for an account.
 * A known key has its own bucket; no key, or a key that is not an account, counts against the
 * client's address, so made-up keys cannot buy fresh buckets. `onRefused` is told the name of
 * the limit behind each 429 (the metrics count them).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TnError } from '../../core/errors.js';
import { DEFAULT_RATE_LIMITS } from '../../core/limits.js';
import { TokenBuckets } from '../rate-limit.js';
import { apiKeyOf } from '../request.js';

export interface RateLimits {
  /** Requests per second per API key (bursts up to twice that); 0 turns every limit off. */
  perKeyPerSecond: number;
  /** `register` calls per hour per client IP; 0 turns it off. */
  registerPerHour: number;
  /** Extra limits for single routes, keyed `METHOD /api/v1/path` (TempNumber's table is the documented strict example). */
  routes?: Record<string, { limit: number; windowSeconds: number }>;
}

export function installAuthAndLimits(app: FastifyInstance, rateLimits: RateLimits | undefined, onRefused: (limit: string) => void = () => undefined): void {
  const off = rateLimits?.perKeyPerSecond === 0;
  const perSecond = rateLimits?.perKeyPerSecond ?? DEFAULT_RATE_LIMITS.perKeyPerSecond;
  const perHour = rateLimits?.registerPerHour ?? DEFAULT_RATE_LIMITS.registerPerHour;
  const perKey = off ? null : new TokenBuckets({ name: 'per-key', rate: perSecond, burst: 2 * perSecond });
  const perIpRegister = off || perHour === 0 ? null : new TokenBuckets({ name: 'register', rate: perHour / 3600, burst: perHour });
  const perRoute = new Map(
    off
      ? []
      : Object.entries(rateLimits?.routes ?? {}).map(([route, l]) => [
          route,
          new TokenBuckets({ name: route.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''), rate: l.limit / l.windowSeconds, burst: l.limit }),
        ]),
  );

  /** Limits, then the account for routes that act for one; throws the refusal. */
  const admit = (request: FastifyRequest, reply: FastifyReply, key: string | undefined, accountId: string | undefined): boolean => {
    const who = accountId ? `key:${key}` : `ip:${request.ip}`;
    if (request.routeOptions.url === '/api/v1/register') {
      if (perIpRegister) limit(perIpRegister, `ip:${request.ip}`, reply, onRefused);
    } else if (perKey) limit(perKey, who, reply, onRefused);
    // HEAD runs the GET handler, so it counts as GET.
    const route = perRoute.get(`${request.method === 'HEAD' ? 'GET' : request.method} ${request.routeOptions.url}`);
    if (route) limit(route, who, reply, onRefused);
    if (!request.routeOptions.config.auth) return true;
    if (!accountId) return false;
    request.accountId = accountId;
    return true;
  };

  // A callback hook, not an async one: a key this process has seen (nearly every request) is
  // decided without a promise; only a new key waits for the database.
  app.addHook('preHandler', (request, reply, done) => {
    const key = apiKeyOf(request);
    const finish = (accountId: string | undefined, authError?: unknown): void => {
      let admitted: boolean;
      try {
        admitted = admit(request, reply, key, accountId);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (admitted) done();
      else if (authError !== undefined) done(authError as Error);
      // No key at all: the error authenticate gives for none.
      else app.core.authenticate(undefined).then((v) => done(v as unknown as Error), (err: unknown) => done(err as Error));
    };
    const known = key ? app.core.knownKey(key) : undefined;
    if (!key || known) finish(known);
    else app.core.authenticate(key).then((accountId) => finish(accountId), (err: unknown) => finish(undefined, err));
  });

}

function limit(buckets: TokenBuckets, key: string, reply: FastifyReply, onRefused: (limit: string) => void): void {
  const verdict = buckets.take(key);
  reply.headers(buckets.headers(verdict));
  if (!verdict.allowed) {
    onRefused(buckets.limit.name);
    reply.header('retry-after', String(verdict.retryAfter));
    throw new TnError('rate_limited', `Too many requests: retry in ${verdict.retryAfter} s.`, { retry_after: verdict.retryAfter });
  }
}

