import type { WebhookInfo } from '../broker.js';
import type { CoreContext } from '../context.js';
import { TnError, invalid } from '../errors.js';
import type { Outbox } from '../events/outbox.js';
import type { AttemptLog } from './port.js';
import { newWebhookSecret } from '../ids.js';
import { SECRET_OVERLAP_MS, WEBHOOK_URL_MAX } from '../limits.js';
import { toUsd, usdNumberToMicros, type Micros } from '../money.js';

/** An account's webhook: its URL, its secrets, its low-balance threshold, its recent deliveries. */
export class Webhooks {
  constructor(
    private readonly ctx: CoreContext,
    private readonly outbox: Outbox,
  ) {}

  async set(accountId: string, url: unknown, lowBalanceThreshold?: unknown): Promise<{ url: string; secret: string }> {
    const checked = checkWebhookUrl(url);
    let threshold: Micros | undefined;
    if (lowBalanceThreshold !== undefined) {
      threshold = typeof lowBalanceThreshold === 'number' ? (usdNumberToMicros(lowBalanceThreshold) ?? undefined) : undefined;
      if (threshold === undefined) throw invalid('Parameter "low_balance_threshold" must be a USD amount of at least 0.');
    }
    const secret = await this.ctx.db.transaction(async (tx) => {
      const settings = await tx.webhooks.settings(accountId);
      if (!settings) throw new TnError('unauthorized', 'Unknown account.');
      await tx.webhooks.setUrl(accountId, checked);
      if (threshold !== undefined) {
        // A new threshold starts a new watch: the balance below it now is no crossing to report.
        const state = (await tx.accounts.lowBalance(accountId))!;
        await tx.accounts.setLowBalance(accountId, { threshold, notified: state.balance < threshold });
      }
      // Whatever waits goes to the new URL, now, in its order.
      await tx.webhooks.redirectPending(accountId, checked, this.ctx.now());
      return settings.secret;
    });
    return { url: checked, secret };
  }

  async get(accountId: string): Promise<WebhookInfo> {
    const read = this.ctx.db.read;
    const settings = await read.webhooks.settings(accountId);
    if (!settings) throw new TnError('unauthorized', 'Unknown account.');
    const now = this.ctx.now();
    const overlap = settings.previousUntil !== null && settings.previousUntil > now;
    return {
      url: settings.url,
      secret: settings.secret,
      previous_secret_expires_at: overlap ? new Date(settings.previousUntil!).toISOString() : null,
      disabled: settings.disabledAt === null ? null : { at: new Date(settings.disabledAt).toISOString(), reason: settings.disabledReason ?? '' },
      low_balance_threshold: toUsd(settings.lowBalanceThreshold),
      recent_deliveries: (await read.webhooks.recentAttempts(accountId, 20)).map((a) => ({
        webhook_id: a.webhookId,
        type: a.type,
        attempted_at: new Date(a.at).toISOString(),
        attempt: a.attempt,
        status_code: a.statusCode,
        error: a.error,
        duration_ms: a.durationMs,
        outcome: attemptOutcome(a),
        next_attempt_at: a.nextAttemptAt === null ? null : new Date(a.nextAttemptAt).toISOString(),
        state: a.state,
      })),
    };
  }

  /** The secrets that sign a delivery now: the current one, and the previous one during its overlap. */
  async signingSecrets(accountId: string): Promise<string[]> {
    const settings = await this.ctx.db.read.webhooks.settings(accountId);
    if (!settings) return [];
    const overlap = settings.previousSecret !== null && settings.previousUntil !== null && settings.previousUntil > this.ctx.now();
    return overlap ? [settings.secret, settings.previousSecret!] : [settings.secret];
  }

  async remove(accountId: string): Promise<void> {
    await this.ctx.db.transaction(async (tx) => {
      if (!(await tx.webhooks.settings(accountId))) throw new TnError('unauthorized', 'Unknown account.');
      await tx.webhooks.setUrl(accountId, null);
      await tx.webhooks.redirectPending(accountId, null, this.ctx.now());
    });
  }

  /** Queues a signed `webhook.test` event for the account's URL, delivered at once. */
  async test(accountId: string): Promise<{ webhook_id: string; type: string }> {
    const settings = await this.ctx.db.read.webhooks.settings(accountId);
    if (!settings) throw new TnError('unauthorized', 'Unknown account.');
    if (!settings.url) throw invalid('No webhook URL is set: `tn webhook set <url>` first.');
    const event = await this.ctx.db.transaction((tx) =>
      this.outbox.emit(tx, accountId, 'webhook.test', { account_id: accountId, message: 'A test event from tn.' }, this.ctx.now()),
    );
    return { webhook_id: event.msgId, type: event.type };
  }

  /** A new secret; the old one keeps signing for 24 h so receivers can switch without losing events. */
  async rotateSecret(accountId: string): Promise<{ secret: string; previous_secret_expires_at: string }> {
    const until = this.ctx.now() + SECRET_OVERLAP_MS;
    const secret = newWebhookSecret();
    await this.ctx.db.transaction(async (tx) => {
      if (!(await tx.webhooks.settings(accountId))) throw new TnError('unauthorized', 'Unknown account.');
      await tx.webhooks.rotateSecret(accountId, secret, until);
    });
    return { secret, previous_secret_expires_at: new Date(until).toISOString() };
  }
}

/** Read from the attempt alone, so an early failure stays a failure once a later try succeeds. */
function attemptOutcome(a: AttemptLog): 'delivered' | 'retry_scheduled' | 'failed' {
  if (a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300) return 'delivered';
  return a.nextAttemptAt === null ? 'failed' : 'retry_scheduled';
}

/** Only absolute http(s) URLs without credentials, of a sane length (API.md §5). */
export function checkWebhookUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0 || url.length > WEBHOOK_URL_MAX) {
    throw invalid(`Parameter "url" must be an http(s) URL of at most ${WEBHOOK_URL_MAX} characters.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('Parameter "url" is not a valid URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid('Parameter "url" must use http or https.');
  if (parsed.username || parsed.password) throw invalid('Parameter "url" must not carry credentials.');
  return parsed.toString();
}
