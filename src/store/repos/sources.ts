import { median } from '../../core/accounts/usage.js';
import type { SourceKind } from '../../core/sources/kinds.js';
import type {
  ActivationsRepo,
  BucketsRepo,
  CacheRepo,
  InboxEntry,
  InboxRepo,
  PoolNumber,
  PoolRepo,
  SourceRecord,
  SourceSettings,
  SourcesRepo,
} from '../../core/sources/port.js';
import type { Sql } from '../sql.js';

interface SourceRow {
  name: string;
  kind: SourceKind;
  secret: string | null;
  settings: string;
  cost: number;
  enabled: number;
  created_at: number;
}

const toSource = (r: SourceRow): SourceRecord => ({
  name: r.name,
  kind: r.kind,
  secret: r.secret,
  settings: JSON.parse(r.settings) as SourceSettings,
  cost: r.cost,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
});

export function sourcesRepo(sql: Sql): SourcesRepo {
  return {
    async list() {
      return (await sql.all<SourceRow>('SELECT * FROM sources ORDER BY created_at, name')).map(toSource);
    },
    async exists(name) {
      return (await sql.get('SELECT 1 FROM sources WHERE name = ?', name)) !== undefined;
    },
    async insert(s) {
      await sql.run(
        'INSERT INTO sources (name, kind, secret, settings, cost, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        s.name, s.kind, s.secret, JSON.stringify(s.settings), s.cost, s.enabled ? 1 : 0, s.createdAt,
      );
    },
    async setEnabled(name, enabled) {
      return (await sql.run('UPDATE sources SET enabled = ? WHERE name = ?', enabled ? 1 : 0, name)) === 1;
    },
    async remove(name) {
      return (await sql.run('DELETE FROM sources WHERE name = ?', name)) === 1;
    },
    async activeOrders(name) {
      return (await sql.get<{ n: number }>("SELECT count(*) AS n FROM orders WHERE source = ? AND status = 'active'", name))!.n;
    },
    async record(source, limit) {
      const row = (await sql.get<{ ended: number; delivered: number | null }>(
        `SELECT count(*) AS ended, sum(delivered) AS delivered FROM (
           SELECT delivered FROM orders WHERE source = ? AND status != 'active' ORDER BY created_at DESC LIMIT ?) AS recent`,
        source, limit,
      ))!;
      return { ended: row.ended, delivered: row.delivered ?? 0 };
    },
    async stats(now) {
      const orders = await sql.all<{ source: string; status: string; delivered: number; created_at: number; first_sms: number | null }>(
        `SELECT source, status, delivered, created_at,
                (SELECT min(received_at) FROM sms WHERE sms.order_id = o.id AND accepted = 1) AS first_sms
         FROM orders o WHERE created_at > ? OR status = 'active'`,
        now - 86_400_000,
      );
      const names = new Set([...(await sql.all<{ name: string }>('SELECT name FROM sources ORDER BY created_at, name')).map((s) => s.name), ...orders.map((o) => o.source)]);
      return [...names].map((name) => {
        const mine = orders.filter((o) => o.source === name);
        const ended = mine.filter((o) => o.status !== 'active');
        const times = mine.filter((o) => o.first_sms !== null).map((o) => o.first_sms! - o.created_at).sort((a, b) => a - b);
        return {
          source: name,
          active: mine.length - ended.length,
          ended: ended.length,
          delivered: ended.filter((o) => o.delivered === 1).length,
          medianDeliveryMs: times.length ? median(times) : null,
        };
      });
    },
    async addError(source, code, message, at, keepSince) {
      await sql.run('INSERT INTO source_errors (source, at, code, message) VALUES (?, ?, ?, ?)', source, at, code, message);
      // The table must not grow without bound.
      await sql.run('DELETE FROM source_errors WHERE source = ? AND at < ?', source, keepSince);
    },
    async errorsSince(since) {
      return new Map((await sql.all<{ source: string; n: number }>('SELECT source, count(*) AS n FROM source_errors WHERE at > ? GROUP BY source', since)).map((r) => [r.source, r.n]));
    },
    async lastError(source) {
      return (await sql.get<{ at: number; code: string; message: string }>('SELECT at, code, message FROM source_errors WHERE source = ? ORDER BY id DESC LIMIT 1', source)) ?? null;
    },
  };
}

interface PoolRow {
  phone: string;
  source: string;
  country: string;
  platforms: string;
  device: string | null;
  sim: number | null;
  added_at: number;
}

const toPoolNumber = (r: PoolRow): PoolNumber => ({
  phone: r.phone,
  source: r.source,
  country: r.country,
  platforms: r.platforms === '*' ? '*' : r.platforms.split(','),
  device: r.device,
  sim: r.sim,
  addedAt: r.added_at,
});

/** When an order let its number go: a completed one at its expiry (a retry may come until then), others when they ended. */
const RELEASED_AT = "CASE WHEN o.status = 'completed' THEN o.expires_at ELSE o.ended_at END";

export function poolRepo(sql: Sql): PoolRepo {
  return {
    async list() {
      return (await sql.all<PoolRow>('SELECT * FROM pool_numbers ORDER BY source, country, phone')).map(toPoolNumber);
    },
    async has(phone) {
      return (await sql.get('SELECT 1 FROM pool_numbers WHERE phone = ?', phone)) !== undefined;
    },
    async deviceTaken(source, device, sim) {
      return (await sql.get('SELECT 1 FROM pool_numbers WHERE source = ? AND device = ? AND sim IS NOT DISTINCT FROM ?', source, device, sim)) !== undefined;
    },
    async insert(e) {
      await sql.run(
        'INSERT INTO pool_numbers (phone, source, country, platforms, device, sim, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        e.phone, e.source, e.country, e.platforms === '*' ? '*' : e.platforms.join(','), e.device, e.sim, e.addedAt,
      );
    },
    async remove(phone) {
      return (await sql.run('DELETE FROM pool_numbers WHERE phone = ?', phone)) === 1;
    },
    async removeOfSource(source) {
      await sql.run('DELETE FROM pool_numbers WHERE source = ?', source);
    },
    async activeOrdersOn(phone) {
      return (await sql.get<{ n: number }>(
        "SELECT count(*) AS n FROM orders o JOIN pool_numbers p ON p.phone = o.phone AND p.source = o.source WHERE o.phone = ? AND o.status = 'active'",
        phone,
      ))!.n;
    },
    async held(since) {
      return (await sql
        .all<{ phone: string; platform: string; released_at: number | null }>(
          `SELECT o.phone, o.platform, CASE WHEN sum(CASE WHEN o.status = 'active' THEN 1 ELSE 0 END) > 0 THEN NULL ELSE max(${RELEASED_AT}) END AS released_at
           FROM pool_numbers p JOIN orders o ON o.phone = p.phone
           WHERE o.status = 'active' OR (${RELEASED_AT}) > ?
           GROUP BY o.phone, o.platform`,
          since,
        ))
        .map((r) => ({ phone: r.phone, platform: r.platform, releasedAt: r.released_at }));
    },
    async free(source, platform, country, now, cooldownMs) {
      return (
        (await sql.get<{ phone: string }>(
          `SELECT p.phone FROM pool_numbers p
           WHERE p.source = ? AND p.country = ? AND (p.platforms = '*' OR (',' || p.platforms || ',') LIKE ('%,' || ? || ',%'))
             AND NOT EXISTS (
               SELECT 1 FROM orders o WHERE o.phone = p.phone AND o.platform = ?
                 AND (o.status = 'active' OR (${RELEASED_AT}) > ?))
           ORDER BY (SELECT max(created_at) FROM orders o WHERE o.phone = p.phone) ASC NULLS FIRST, p.phone
           LIMIT 1`,
          source, country, platform, platform, now - cooldownMs,
        ))?.phone ?? null
      );
    },
    async ofDevice(source, device) {
      return await sql.all<{ phone: string; sim: number | null }>('SELECT phone, sim FROM pool_numbers WHERE source = ? AND device = ?', source, device);
    },
  };
}

interface InboxRow {
  id: number;
  source: string;
  message_id: string | null;
  to_phone: string | null;
  sender: string;
  device: string | null;
  sim: number | null;
  text: string;
  received_at: number;
  stored_at: number;
  order_id: string | null;
  note: string | null;
}

export function inboxRepo(sql: Sql): InboxRepo {
  return {
    async seen(source, messageId) {
      return (await sql.get('SELECT 1 FROM inbox WHERE source = ? AND message_id = ?', source, messageId)) !== undefined;
    },
    async insert(m) {
      return (await sql.get<{ id: number }>(
        `INSERT INTO inbox (source, message_id, to_phone, sender, device, sim, text, received_at, stored_at, note)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        m.source, m.messageId, m.to, m.from, m.device, m.sim, m.text, m.receivedAt, m.storedAt, m.note ?? null,
      ))!.id;
    },
    async link(id, orderId) {
      await sql.run('UPDATE inbox SET order_id = ? WHERE id = ?', orderId, id);
    },
    async list(filter) {
      return (await sql
        .all<InboxRow>('SELECT * FROM inbox WHERE (? = 0 OR order_id IS NULL) ORDER BY id DESC LIMIT ?', filter.unmatchedOnly ? 1 : 0, filter.limit))
        .map(
          (r): InboxEntry => ({
            id: r.id,
            source: r.source,
            messageId: r.message_id,
            to: r.to_phone,
            from: r.sender,
            device: r.device,
            sim: r.sim,
            text: r.text,
            receivedAt: r.received_at,
            orderId: r.order_id,
            ...(r.note === null ? {} : { note: r.note }),
          }),
        );
    },
  };
}

export function activationsRepo(sql: Sql): ActivationsRepo {
  return {
    async insert(a, at) {
      await sql.run(
        'INSERT INTO upstream_activations (order_id, source, activation_id, cost, status, phase, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        a.orderId, a.source, a.activationId, a.cost, a.status, a.phase, at,
      );
    },
    async dueReleases(now, limit) {
      return (await sql
        .all<{ order_id: string; source: string; activation_id: string; status: string; release_at: number | null; release_attempts: number; created_at: number }>(
          // CROSS JOIN: SQLite then walks the few unreleased activations and looks each order up,
          // where on its own it chose to walk every order in created_at order (1.6 ms a pass with
          // 15,000 orders, on every scheduler pass). PostgreSQL reads it as the inner join it is.
          `SELECT a.order_id, a.source, a.activation_id, o.status, a.release_at, a.release_attempts, o.created_at
           FROM upstream_activations a CROSS JOIN orders o
           WHERE o.id = a.order_id AND a.released_at IS NULL AND coalesce(a.release_at, 0) <= ?
             AND (o.status IN ('cancelled', 'expired') OR (o.status = 'completed' AND o.expires_at <= ?))
           ORDER BY o.created_at LIMIT ?`,
          now, now, limit,
        ))
        .map((r) => ({
          orderId: r.order_id,
          source: r.source,
          activationId: r.activation_id,
          outcome: r.status === 'completed' ? 'finish' : 'cancel',
          releaseAt: r.release_at,
          attempts: r.release_attempts,
          orderCreatedAt: r.created_at,
        }));
    },
    async rescheduleRelease(orderId, releaseAt, nextAt, attempt) {
      return (
        (await sql.run(
          'UPDATE upstream_activations SET release_at = ?, release_attempts = release_attempts + ? WHERE order_id = ? AND released_at IS NULL AND release_at IS NOT DISTINCT FROM ?',
          nextAt, attempt ? 1 : 0, orderId, releaseAt,
        )) === 1
      );
    },
    async released(orderId, status, at) {
      await sql.run('UPDATE upstream_activations SET released_at = ?, status = coalesce(?, status), updated_at = ? WHERE order_id = ? AND released_at IS NULL', at, status, at, orderId);
    },
    async get(orderId) {
      const r = await sql.get<{ order_id: string; source: string; activation_id: string; cost: number; status: string; phase: 'first' | 'retry' | null }>(
        'SELECT * FROM upstream_activations WHERE order_id = ?',
        orderId,
      );
      return r ? { orderId: r.order_id, source: r.source, activationId: r.activation_id, cost: r.cost, status: r.status, phase: r.phase } : null;
    },
    async update(orderId, status, phase, at) {
      await sql.run('UPDATE upstream_activations SET status = ?, phase = ?, updated_at = ? WHERE order_id = ?', status, phase, at, orderId);
    },
    async addOrphan(o) {
      await sql.run(
        'INSERT INTO upstream_orphans (source, platform, country, activation_id, cost, at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
        o.source, o.platform, o.country, o.activationId, o.cost, o.at, o.reason.slice(0, 500),
      );
    },
    async orphansSince(source, platform, country, since) {
      return (await sql.get<{ n: number }>('SELECT count(*) AS n FROM upstream_orphans WHERE source = ? AND platform = ? AND country = ? AND at > ?', source, platform, country, since))!.n;
    },
    async orphanCounts(since) {
      return new Map((await sql.all<{ source: string; n: number }>('SELECT source, count(*) AS n FROM upstream_orphans WHERE at > ? GROUP BY source', since)).map((r) => [r.source, r.n]));
    },
  };
}

export function bucketsRepo(sql: Sql): BucketsRepo {
  return {
    async get(key) {
      const row = await sql.get<{ tokens: number; updated_at: number; blocked_until: number }>('SELECT tokens, updated_at, blocked_until FROM rate_buckets WHERE key = ?', key);
      return row ? { tokens: row.tokens, updatedAt: row.updated_at, blockedUntil: row.blocked_until } : null;
    },
    async put(key, tokens, updatedAt) {
      await sql.run(
        `INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
        key, tokens, updatedAt,
      );
    },
    async block(key, until) {
      await sql.run(
        `INSERT INTO rate_buckets (key, tokens, updated_at, blocked_until) VALUES (?, 0, ?, ?)
         ON CONFLICT (key) DO UPDATE SET blocked_until = CASE WHEN rate_buckets.blocked_until > excluded.blocked_until THEN rate_buckets.blocked_until ELSE excluded.blocked_until END`,
        key, until, until,
      );
    },
  };
}

export function cacheRepo(sql: Sql): CacheRepo {
  return {
    async get(source, key) {
      const row = await sql.get<{ value: string; fetched_at: number }>('SELECT value, fetched_at FROM source_cache WHERE source = ? AND key = ?', source, key);
      return row ? { value: row.value, fetchedAt: row.fetched_at } : null;
    },
    async put(source, key, value, at) {
      await sql.run(
        'INSERT INTO source_cache (source, key, value, fetched_at) VALUES (?, ?, ?, ?) ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at',
        source, key, value, at,
      );
    },
  };
}
