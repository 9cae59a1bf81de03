import type { Tx } from '../database.js';

/**
 * Takes one token from a bucket of `max` tokens refilled over `windowMs`, shared by every process
 * on the database; 0 when taken, else milliseconds until one is free (or the block lifts).
 */
export async function takeToken(tx: Tx, key: string, max: number, windowMs: number, now: number): Promise<number> {
  const row = await tx.buckets.get(key);
  if (row && row.blockedUntil > now) return row.blockedUntil - now;
  const refill = max / windowMs;
  const tokens = row ? Math.min(max, row.tokens + Math.max(0, now - row.updatedAt) * refill) : max;
  const granted = tokens >= 1;
  await tx.buckets.put(key, granted ? tokens - 1 : tokens, now);
  return granted ? 0 : Math.ceil((1 - tokens) / refill);
}
