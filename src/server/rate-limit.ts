/**
 * Token buckets: `rate` tokens a second up to `burst`. A hand-written piece because the fastify
 * plugin counts fixed windows (no bursts) and emits only the older header names; the IETF
 * `RateLimit` / `RateLimit-Policy` fields are set from what this returns.
 */
export interface Limit {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: how many requests may come at once. */
  burst: number;
  /** Name of the policy in the headers. */
  name: string;
}

export interface Verdict {
  allowed: boolean;
  remaining: number;
  /** Seconds until a refused request may be retried (0 when allowed). */
  retryAfter: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    readonly limit: Limit,
    private readonly now: () => number = () => Date.now(),
  ) {}

  take(key: string): Verdict {
    const now = this.now();
    this.sweep(now);
    const { rate, burst } = this.limit;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      retryAfter: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / rate)),
      resetSeconds: Math.ceil((burst - bucket.tokens) / rate),
    };
  }

  /** Forgets full buckets now and then, so memory follows the active clients only. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.limit.rate >= this.limit.burst) this.buckets.delete(key);
    }
  }

  /** The `RateLimit-Policy` and `RateLimit` fields of the IETF draft. */
  headers(v: Verdict): Record<string, string> {
    const window = Math.max(1, Math.round(this.limit.burst / this.limit.rate));
    return {
      'ratelimit-policy': `"${this.limit.name}";q=${this.limit.burst};w=${window}`,
      ratelimit: `"${this.limit.name}";r=${v.remaining};t=${v.resetSeconds}`,
    };
  }
}
