import type { EventsRepo, OutboxEvent } from '../../core/events/port.js';
import type { AttemptLog, WebhooksRepo } from '../../core/webhooks/port.js';
import type { Sql } from '../sql.js';

interface EventRow {
  id: number;
  msg_id: string;
  account_id: string;
  type: string;
  payload: string;
  created_at: number;
}

const toEvent = (r: EventRow): OutboxEvent => ({ id: r.id, msgId: r.msg_id, accountId: r.account_id, type: r.type, payload: r.payload, createdAt: r.created_at });

/** Deliveries of one account go in order: only its oldest pending one may be attempted. */
const HEADS = "SELECT min(id) FROM deliveries WHERE state = 'pending' GROUP BY account_id";

export function eventsRepo(sql: Sql): EventsRepo {
  return {
    async append(e) {
      const { id } = (await sql.get<{ id: number }>(
        'INSERT INTO events (msg_id, account_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
        e.msgId, e.accountId, e.type, e.payload, e.createdAt,
      ))!;
      const deliveries = await sql.run(
        `INSERT INTO deliveries (event_id, account_id, url, state, next_attempt_at, created_at)
         SELECT ?, id, webhook_url, 'pending', ?, ? FROM accounts WHERE id = ? AND webhook_url IS NOT NULL AND webhook_disabled_at IS NULL`,
        id, e.createdAt, e.createdAt, e.accountId,
      );
      return { ...e, id, deliveries };
    },
    async after(accountId, afterId, limit) {
      return (await sql.all<EventRow>('SELECT * FROM events WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?', accountId, afterId, limit)).map(toEvent);
    },
    async latest(accountId) {
      return (await sql.get<{ id: number | null }>('SELECT max(id) AS id FROM events WHERE account_id = ?', accountId))?.id ?? 0;
    },
    async position(accountId, msgId) {
      return (await sql.get<{ id: number }>('SELECT id FROM events WHERE msg_id = ? AND account_id = ?', msgId, accountId))?.id ?? null;
    },
  };
}

export function webhooksRepo(sql: Sql): WebhooksRepo {
  return {
    async settings(accountId) {
      const row = await sql.get<{
        webhook_url: string | null;
        webhook_secret: string;
        webhook_previous_secret: string | null;
        webhook_previous_until: number | null;
        webhook_disabled_at: number | null;
        webhook_disabled_reason: string | null;
        low_balance_threshold: number;
      }>(
        `SELECT webhook_url, webhook_secret, webhook_previous_secret, webhook_previous_until, webhook_disabled_at,
                webhook_disabled_reason, low_balance_threshold FROM accounts WHERE id = ?`,
        accountId,
      );
      return row
        ? {
            url: row.webhook_url,
            secret: row.webhook_secret,
            previousSecret: row.webhook_previous_secret,
            previousUntil: row.webhook_previous_until,
            disabledAt: row.webhook_disabled_at,
            disabledReason: row.webhook_disabled_reason,
            lowBalanceThreshold: row.low_balance_threshold,
          }
        : null;
    },
    async setUrl(accountId, url) {
      await sql.run('UPDATE accounts SET webhook_url = ?, webhook_disabled_at = NULL, webhook_disabled_reason = NULL WHERE id = ?', url, accountId);
    },
    async rotateSecret(accountId, secret, previousUntil) {
      await sql.run('UPDATE accounts SET webhook_previous_secret = webhook_secret, webhook_previous_until = ?, webhook_secret = ? WHERE id = ?', previousUntil, secret, accountId);
    },
    async disable(accountId, at, reason) {
      await sql.run('UPDATE accounts SET webhook_disabled_at = ?, webhook_disabled_reason = ? WHERE id = ?', at, reason, accountId);
    },
    async redirectPending(accountId, url, at) {
      if (url === null) await sql.run("UPDATE deliveries SET state = 'failed', finished_at = ? WHERE account_id = ? AND state = 'pending'", at, accountId);
      // Whatever waits goes to the new URL, now, in its order.
      else await sql.run("UPDATE deliveries SET url = ?, next_attempt_at = ? WHERE account_id = ? AND state = 'pending'", url, at, accountId);
    },
    async claimDue(now, limit, leaseUntil) {
      const rows = await sql.all<EventRow & { delivery_id: number; attempts: number; url: string }>(
        `SELECT d.id AS delivery_id, d.attempts, d.url, e.* FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.id IN (${HEADS}) AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ? ${sql.skipLocked('d')}`,
        now, limit,
      );
      const claimed = [];
      for (const r of rows) {
        if ((await sql.run('UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND state = ? AND next_attempt_at <= ?', leaseUntil, r.delivery_id, 'pending', now)) === 1) {
          claimed.push({ id: r.delivery_id, attempts: r.attempts, url: r.url, event: toEvent(r) });
        }
      }
      return claimed;
    },
    async extendClaim(deliveryId, leaseUntil, nextLease) {
      await sql.run("UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND state = 'pending' AND next_attempt_at = ?", nextLease, deliveryId, leaseUntil);
    },
    async nextDueAt() {
      return (await sql.get<{ at: number | null }>(`SELECT min(next_attempt_at) AS at FROM deliveries WHERE id IN (${HEADS})`))?.at ?? null;
    },
    async delivery(deliveryId) {
      const d = await sql.get<{ account_id: string; state: string }>('SELECT account_id, state FROM deliveries WHERE id = ?', deliveryId);
      return d ? { accountId: d.account_id, state: d.state } : null;
    },
    async addAttempt(deliveryId, accountId, a, nextAttemptAt) {
      await sql.run(
        'INSERT INTO delivery_attempts (delivery_id, account_id, at, status_code, error, duration_ms, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        deliveryId, accountId, a.at, a.statusCode, a.error, a.durationMs, nextAttemptAt,
      );
    },
    async finish(deliveryId, state, at, nextAttemptAt) {
      if (state === 'pending') await sql.run('UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?', nextAttemptAt, deliveryId);
      else await sql.run('UPDATE deliveries SET state = ?, attempts = attempts + 1, finished_at = ? WHERE id = ?', state, at, deliveryId);
    },
    async recentAttempts(accountId, limit) {
      return (await sql
        .all<{ msg_id: string; type: string; at: number; status_code: number | null; error: string | null; duration_ms: number; next_attempt_at: number | null; attempt: number; state: AttemptLog['state'] }>(
          `SELECT e.msg_id, e.type, a.at, a.status_code, a.error, a.duration_ms, a.next_attempt_at, d.state,
                  (SELECT count(*) FROM delivery_attempts x WHERE x.delivery_id = a.delivery_id AND x.id <= a.id) AS attempt
           FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id
           WHERE a.account_id = ? ORDER BY a.id DESC LIMIT ?`,
          accountId, limit,
        ))
        .map((r) => ({
          webhookId: r.msg_id,
          type: r.type,
          at: r.at,
          statusCode: r.status_code,
          error: r.error,
          durationMs: r.duration_ms,
          nextAttemptAt: r.next_attempt_at,
          attempt: r.attempt,
          state: r.state,
        }));
    },
  };
}
