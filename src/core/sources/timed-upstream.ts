/**
 * An upstream client whose every call is told on the bus when it ends (`upstream`): which source,
 * what for, how long, and its failure. The registry hands out only such clients, so no call site
 * has to remember; a call our own rate limit held back (nothing was sent) is not told.
 */
import type { CoreContext, UpstreamCallName } from '../context.js';
import { UpstreamError, type Upstream } from './providers.js';

export function timedUpstream(upstream: Upstream, source: string, ctx: CoreContext): Upstream {
  const timed = async <T>(call: UpstreamCallName, run: () => Promise<T>): Promise<T> => {
    const started = ctx.now();
    try {
      const value = await run();
      ctx.bus.emit('upstream', { source, call, durationMs: ctx.now() - started, error: null });
      return value;
    } catch (err) {
      if (!(err instanceof UpstreamError && err.local)) {
        ctx.bus.emit('upstream', { source, call, durationMs: ctx.now() - started, error: err instanceof UpstreamError ? err.kind : 'unavailable' });
      }
      throw err;
    }
  };
  const release = upstream.release?.bind(upstream);
  return {
    priceList: () => timed('price_list', () => upstream.priceList()),
    activate: (platform, country, expectedPrice) => timed('purchase', () => upstream.activate(platform, country, expectedPrice)),
    check: (activationId, phase) => timed('poll', () => upstream.check(activationId, phase)),
    retry: (activationId) => timed('retry', () => upstream.retry(activationId)),
    balance: () => timed('balance', () => upstream.balance()),
    ...(release ? { release: (activationId: string, outcome: Parameters<typeof release>[1]) => timed('release', () => release(activationId, outcome)) } : {}),
  };
}
