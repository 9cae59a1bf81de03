import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import type { DeliveryOutcome } from '../core/webhooks/delivery.js';
import type { AppendedEvent } from '../core/events/port.js';
import type { DueDelivery } from '../core/webhooks/port.js';
import { webhookHeaders } from '../core/webhooks/signing.js';
import type { BrokerCore } from '../core/broker-core.js';

/** Svix's schedule (API.md §6): the first try at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_SCHEDULE_MS: readonly number[] = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
export const DELIVERY_TIMEOUT_MS = 15_000;
/**
 * A claimed delivery is held this long, and the claim renewed while its attempt runs: no other
 * process sends it meanwhile, and one whose holder died is sent again this soon after.
 */
const CLAIM_LEASE_MS = 3_000;
const CLAIM_RENEW_MS = 1_000;

// ── SSRF guard ─────────────────────────────────────────────────────────────

const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  // ::/96 holds the loopback, the unspecified and the old IPv4-compatible addresses (::127.0.0.1).
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
  ['fec0::', 10],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** IPv4 inside IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`) as the IPv4 address it stands for. */
function embeddedIpv4(address: string): string | null {
  const dotted = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address) ?? /^::(?:ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (dotted) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** Whether an address is on the public internet: not loopback, private, link-local, CGNAT, reserved or mapped onto one. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== null) return isIP(v4) === 4 && !NOT_PUBLIC.check(v4, 'ipv4');
    return !NOT_PUBLIC.check(bare, 'ipv6');
  }
  return !NOT_PUBLIC.check(bare, 'ipv4');
}

export class SsrfError extends Error {
  readonly code = 'ESSRF';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A DNS lookup that only ever hands the socket public addresses: the check is on what is actually connected to. */
function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const allowed = addresses.filter((a) => isPublicAddress(a.address));
    if (allowed.length === 0) {
      return callback(new SsrfError(`${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}, which is not a public address`), []);
    }
    if (options.all) callback(null, allowed);
    else callback(null, allowed[0]!.address, allowed[0]!.family);
  });
}

/** A dispatcher for webhook deliveries: keep-alive, and, unless private targets are allowed, the guarded lookup. */
export function webhookDispatcher(allowPrivate: boolean): Dispatcher {
  return new Agent({
    keepAliveTimeout: 10_000,
    connections: 16,
    connect: allowPrivate ? { timeout: DELIVERY_TIMEOUT_MS } : { timeout: DELIVERY_TIMEOUT_MS, lookup: guardedLookup },
  });
}

/** A literal IP in the URL never reaches a lookup, so it is checked here. */
export function checkTarget(url: string, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !isPublicAddress(host)) throw new SsrfError(`${host} is not a public address`);
}

// ── delivery ───────────────────────────────────────────────────────────────

/** `Retry-After` as seconds or as an HTTP date. */
function retryAfterMsOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export interface DelivererOptions {
  core: BrokerCore;
  /** Milliseconds before each try: the first entry is the first try (API.md §6 by default). */
  schedule?: readonly number[];
  allowPrivate?: boolean;
  timeoutMs?: number;
  /** ± share of each retry delay, so receivers that failed together are not retried together. */
  jitter?: number;
  userAgent?: string;
  onError?: (err: unknown) => void;
}

/**
 * Sends the outbox: each account's deliveries one after another in the order of the changes,
 * retried on the schedule, every attempt recorded. It keeps no state of its own: after a restart
 * it carries on from the database.
 */
export class WebhookDeliverer {
  private readonly core: BrokerCore;
  private readonly schedule: readonly number[];
  private readonly allowPrivate: boolean;
  private readonly timeoutMs: number;
  private readonly jitter: number;
  private readonly userAgent: string;
  private readonly dispatcher: Dispatcher;
  private readonly onError: (err: unknown) => void;

  constructor(options: DelivererOptions) {
    this.core = options.core;
    this.schedule = options.schedule ?? RETRY_SCHEDULE_MS;
    this.allowPrivate = options.allowPrivate ?? false;
    this.timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.jitter = options.jitter ?? 0.1;
    this.userAgent = options.userAgent ?? 'tn-webhooks';
    this.dispatcher = webhookDispatcher(this.allowPrivate);
    this.onError = options.onError ?? (() => undefined);
  }

  /** Delivers until `signal` aborts: sleeps until the next due delivery, wakes early for new events. */
  async run(signal: AbortSignal, maxSleepMs = 5000): Promise<void> {
    const log = this.core.deliveries;
    while (!signal.aborted) {
      let next: number | null = null;
      try {
        const claimedAt = Date.now();
        const due = await log.claim(claimedAt, 32, CLAIM_LEASE_MS);
        let lease = claimedAt + CLAIM_LEASE_MS;
        const renew = setInterval(() => {
          const next = Date.now() + CLAIM_LEASE_MS;
          void log.renew(due.map((d) => d.id), lease, next).then(() => (lease = next), this.onError);
        }, CLAIM_RENEW_MS);
        const recorded = await Promise.all(due.map((d) => this.deliver(d, signal))).finally(() => clearInterval(renew));
        // An attempt that could not be recorded stays due: pause rather than hammer the receiver.
        if (recorded.includes(false)) next = Date.now() + 1000;
        else if (due.length === 32) continue;
        else next = await log.nextDueAt();
      } catch (err) {
        this.onError(err);
      }
      const ms = next === null ? maxSleepMs : Math.min(maxSleepMs, Math.max(0, next - Date.now()));
      if (signal.aborted) break;
      if (ms === 0) continue;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.core.events.off('outbox', onEvent);
          unwatch();
          resolve();
        };
        // Only an event that queued a delivery: claiming (a write) after every SMS of an account
        // without a webhook put a commit in front of the next one.
        const onEvent = (event: AppendedEvent): void => {
          if (event.deliveries > 0) done();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        this.core.events.on('outbox', onEvent);
        // Events written by other processes or instances wake it too.
        const unwatch = this.core.onForeignChange(done);
      });
    }
    await this.dispatcher.close();
  }

  /** One attempt, recorded with what came of it; false if the record could not be written. */
  async deliver(d: DueDelivery, stop?: AbortSignal): Promise<boolean> {
    // One deadline for the whole attempt, body included: a receiver that trickles bytes cannot hold the queue.
    const attempt = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      attempt.abort();
    }, this.timeoutMs);
    const onStop = (): void => attempt.abort();
    stop?.addEventListener('abort', onStop, { once: true });
    const signal = attempt.signal;
    const started = Date.now();
    const timestamp = Math.floor(started / 1000);
    let statusCode: number | null = null;
    let error: string | null = null;
    let retryAfterMs: number | undefined;
    try {
      checkTarget(d.url, this.allowPrivate);
      const secrets = await this.core.signingSecrets(d.event.accountId);
      const res = await request(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': this.userAgent,
          ...webhookHeaders(secrets, d.event.msgId, timestamp, d.event.payload),
        },
        body: d.event.payload,
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      });
      statusCode = res.statusCode;
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      retryAfterMs = retryAfterMsOf(res.headers['retry-after']);
    } catch (err) {
      error = timedOut
        ? `Timeout: no complete answer within ${this.timeoutMs / 1000} s`
        : err instanceof Error
          ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}`
          : String(err);
    }
    clearTimeout(deadline);
    stop?.removeEventListener('abort', onStop);
    const durationMs = Date.now() - started;
    const outcome = this.outcome(d, statusCode, retryAfterMs, started + durationMs);
    try {
      await this.core.deliveries.record(d.id, { at: started, statusCode, error, durationMs }, outcome);
      return true;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }

  /** 2xx delivered; 410 disables the URL; anything else (3xx included: no redirects are followed) tries again later. */
  private outcome(d: DueDelivery, statusCode: number | null, retryAfterMs: number | undefined, now: number): DeliveryOutcome {
    if (statusCode !== null && statusCode >= 200 && statusCode < 300) return { kind: 'delivered' };
    if (statusCode === 410) return { kind: 'disable', reason: 'The receiver answered 410 Gone.' };
    const delay = this.schedule[d.attempts + 1];
    if (delay === undefined) return { kind: 'failed' };
    const jittered = delay * (1 + this.jitter * (Math.random() * 2 - 1));
    return { kind: 'retry', at: Math.round(now + Math.max(jittered, retryAfterMs ?? 0)) };
  }
}
