import { createHash, randomBytes, randomFillSync, randomInt } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random bytes drawn from one buffer filled at a time: a CSPRNG call per id costs more than the rest of the id. */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function randomChunk(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += n;
  return pool.subarray(poolAt - n, poolAt);
}

/** A ULID: sortable by creation time, so ids order like the orders do. */
export function ulid(now: number): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (const byte of randomChunk(16)) rand += CROCKFORD[byte % 32]!;
  return time + rand;
}

export const orderId = (now: number): string => `ord_${ulid(now)}`;
export const accountId = (now: number): string => `acc_${ulid(now)}`;

/** `vn_` and 40 base62 characters from the OS's CSPRNG (about 238 bits). */
export function newApiKey(): string {
  let key = 'vn_';
  for (let i = 0; i < 40; i++) key += BASE62[randomInt(62)]!;
  return key;
}

/** Standard Webhooks secrets are `whsec_` and the base64 of 24–64 random bytes. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** Only this digest of an API key is ever stored. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export const looksLikeApiKey = (text: string): boolean => /^vn_[0-9A-Za-z]{32,}$/.test(text);

/** A hint that lets a person recognise a secret without revealing it. */
export const secretHint = (secret: string): string =>
  secret.length <= 12 ? '••••' : `${secret.slice(0, secret.indexOf('_') + 1 || 4)}…${secret.slice(-4)}`;
