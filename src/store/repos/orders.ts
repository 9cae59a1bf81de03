import type { GuardWindow, IdempotencyRepo, IdempotencyRow, OrdersRepo } from '../../core/orders/port.js';
import type { OrderRecord, OrderStatus, ReceivedSms } from '../../core/orders/order.js';
import type { Sql } from '../sql.js';

interface OrderRow {
  id: string;
  account_id: string;
  platform: string;
  country: string;
  phone: string;
  source: string;
  price: number;
  status: OrderStatus;
  created_at: number;
  expires_at: number;
  completed_at: number | null;
  ended_at: number | null;
  refunded: number;
  sms_due_at: number | null;
  delivered: number;
  retried_at: number | null;
}

/** Holds a number for the platform: an active order, or a completed one still open to a retry. */
const HOLDS = "(status = 'active' OR (status = 'completed' AND expires_at > ?))";

export function ordersRepo(sql: Sql): OrdersRepo {
  const record = async (row: OrderRow): Promise<OrderRecord> => {
    // Most reads are of orders still waiting for their first SMS: those have no messages to look up.
    const messages: ReceivedSms[] =
      row.delivered === 0
        ? []
        : (await sql
            .all<{ code: string | null; text: string; received_at: number }>('SELECT code, text, received_at FROM sms WHERE order_id = ? AND accepted = 1 ORDER BY id', row.id))
            .map((m) => ({ code: m.code, text: m.text, receivedAt: m.received_at }));
    return {
      id: row.id,
      accountId: row.account_id,
      platform: row.platform,
      country: row.country,
      phone: row.phone,
      source: row.source,
      price: row.price,
      status: row.status,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      completedAt: row.completed_at,
      endedAt: row.ended_at,
      refunded: row.refunded === 1,
      smsDueAt: row.sms_due_at,
      retriedAt: row.retried_at,
      messages,
    };
  };

  const window = async (column: 'account_id' | 'source', who: string, platform: string, country: string, since: number): Promise<GuardWindow> => {
    const totals = (await sql.get<{ orders: number; ended: number | null; delivered: number | null }>(
      `SELECT count(*) AS orders, sum(CASE WHEN status != 'active' THEN 1 ELSE 0 END) AS ended, sum(CASE WHEN status != 'active' AND delivered = 1 THEN 1 ELSE 0 END) AS delivered
       FROM orders WHERE ${column} = ? AND platform = ? AND country = ? AND created_at > ?`,
      who, platform, country, since,
    ))!;
    return {
      orders: totals.orders,
      ended: totals.ended ?? 0,
      delivered: totals.delivered ?? 0,
      // Only a refusal needs each order (to tell when it lifts): read them then, not on every order.
      list: async () =>
        (await sql
          .all<{ created_at: number; ended: number; delivered: number }>(
            `SELECT created_at, CASE WHEN status != 'active' THEN 1 ELSE 0 END AS ended, delivered
             FROM orders WHERE ${column} = ? AND platform = ? AND country = ? AND created_at > ? ORDER BY created_at`,
            who, platform, country, since,
          ))
          .map((r) => ({ createdAt: r.created_at, ended: r.ended === 1, delivered: r.delivered === 1 })),
    };
  };

  return {
    async insert(o) {
      await sql.run(
        `INSERT INTO orders (id, account_id, platform, country, phone, source, price, status, created_at, expires_at, sms_due_at, num)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ${sql.nextOrderNumber})`,
        o.id, o.accountId, o.platform, o.country, o.phone, o.source, o.price, o.createdAt, o.expiresAt, o.smsDueAt,
      );
    },
    async get(orderId) {
      const row = await sql.get<OrderRow>('SELECT * FROM orders WHERE id = ?', orderId);
      return row ? record(row) : null;
    },
    async byNumber(accountId, num) {
      const row = await sql.get<OrderRow>('SELECT * FROM orders WHERE num = ? AND account_id = ?', num, accountId);
      return row ? record(row) : null;
    },
    async numbers(accountId, orderIds) {
      const numbers = new Map<string, number>();
      for (const id of orderIds) {
        const row = await sql.get<{ num: number }>('SELECT num FROM orders WHERE id = ? AND account_id = ?', id, accountId);
        if (row) numbers.set(id, row.num);
      }
      return numbers;
    },
    async recent(accountId, limit) {
      return Promise.all((await sql.all<OrderRow>('SELECT * FROM orders WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?', accountId, limit)).map(record));
    },
    async list(accountId, filter, limit, offset) {
      const where = ['account_id = ?'];
      const params: (string | number)[] = [accountId];
      const add = (value: string | number | undefined, condition: string): void => {
        if (value === undefined) return;
        where.push(condition);
        params.push(value);
      };
      add(filter.status, 'status = ?');
      add(filter.platform, 'platform = ?');
      add(filter.country, 'country = ?');
      add(filter.since, 'created_at >= ?');
      add(filter.until, 'created_at < ?');
      const clause = where.join(' AND ');
      const total = (await sql.get<{ n: number }>(`SELECT count(*) AS n FROM orders WHERE ${clause}`, ...params))!.n;
      const rows = await sql.all<OrderRow>(`SELECT * FROM orders WHERE ${clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, ...params, limit, offset);
      return { orders: await Promise.all(rows.map(record)), total };
    },
    async held(phones, platform, now) {
      if (phones.length === 0) return new Set<string>();
      // One statement for the candidates together; its text is cached per count of them.
      const rows = await sql.all<{ phone: string }>(
        `SELECT DISTINCT phone FROM orders WHERE platform = ? AND phone IN (${phones.map(() => '?').join(', ')}) AND ${HOLDS}`,
        platform, ...phones, now,
      );
      return new Set(rows.map((r) => r.phone));
    },
    async window(by, who, platform, country, since) {
      return window(by === 'account' ? 'account_id' : 'source', who, platform, country, since);
    },
    async complete(orderId, at) {
      return (await sql.run("UPDATE orders SET status = 'completed', completed_at = ?, sms_due_at = NULL, delivered = 1 WHERE id = ? AND status = 'active'", at, orderId)) === 1;
    },
    async endRefunded(orderId, status, at) {
      const row = await sql.get<{ account_id: string; price: number }>(
        "UPDATE orders SET status = ?, ended_at = ?, refunded = 1, sms_due_at = NULL WHERE id = ? AND status = 'active' RETURNING account_id, price",
        status, at, orderId,
      );
      return row ? { accountId: row.account_id, price: row.price } : null;
    },
    async backToCompleted(orderId, completedAt) {
      return (
        (await sql.get<{ account_id: string }>(
          "UPDATE orders SET status = 'completed', completed_at = ?, sms_due_at = NULL WHERE id = ? AND status = 'active' RETURNING account_id",
          completedAt, orderId,
        ))?.account_id ?? null
      );
    },
    async reopen(orderId, at, smsDueAt) {
      return (
        (await sql.get<{ account_id: string }>(
          "UPDATE orders SET status = 'active', completed_at = NULL, sms_due_at = ?, retried_at = ? WHERE id = ? AND status = 'completed' AND expires_at > ? RETURNING account_id",
          smsDueAt, at, orderId, at,
        ))?.account_id ?? null
      );
    },
    async addSms(orderId, sms) {
      await sql.run('INSERT INTO sms (order_id, sender, text, code, accepted, received_at) VALUES (?, ?, ?, ?, ?, ?)', orderId, sms.sender, sms.text, sms.code, sms.accepted ? 1 : 0, sms.receivedAt);
    },
    async lastAcceptedSmsAt(orderId) {
      return (await sql.get<{ at: number | null }>('SELECT max(received_at) AS at FROM sms WHERE order_id = ? AND accepted = 1', orderId))!.at;
    },
    async activeOnNumber(phone, source, receivedAt) {
      // A retried order waits for a message the gateway received after the one it already got.
      const rows = await sql.all<OrderRow>(
        `SELECT * FROM orders o WHERE phone = ? AND source = ? AND status = 'active'
           AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.order_id = o.id AND i.received_at >= ?)
         ORDER BY created_at DESC, id DESC`,
        phone, source, receivedAt,
      );
      return Promise.all(rows.map(record));
    },
    async dueWork(now, limit) {
      const deliveries = (await sql
        .all<{ id: string; platform: string; source: string; sms_due_at: number; expires_at: number }>(
          `SELECT id, platform, source, sms_due_at, expires_at FROM orders
           WHERE status = 'active' AND sms_due_at IS NOT NULL AND sms_due_at <= ? AND sms_due_at < expires_at
           ORDER BY sms_due_at LIMIT ?`,
          now, limit,
        ))
        .map((r) => ({ orderId: r.id, platform: r.platform, source: r.source, dueAt: r.sms_due_at, expiresAt: r.expires_at }));
      const expiries = (await sql
        .all<{ id: string; expires_at: number }>(
          `SELECT id, expires_at FROM orders
           WHERE status = 'active' AND expires_at <= ? AND (sms_due_at IS NULL OR sms_due_at >= expires_at)
           ORDER BY expires_at LIMIT ?`,
          now, limit,
        ))
        .map((r) => ({ orderId: r.id, expiresAt: r.expires_at }));
      return { deliveries, expiries };
    },
    async reschedule(orderId, dueAt, nextAt) {
      return (await sql.run("UPDATE orders SET sms_due_at = ? WHERE id = ? AND status = 'active' AND sms_due_at = ?", nextAt, orderId, dueAt)) === 1;
    },
    async nextDueAt() {
      return (
        (await sql.get<{ due: number | null }>(
          `SELECT min(due) AS due FROM (
             SELECT min(sms_due_at) AS due FROM orders WHERE status = 'active' AND sms_due_at IS NOT NULL
             UNION ALL SELECT min(expires_at) FROM orders WHERE status = 'active') AS due_times`,
        ))?.due ?? null
      );
    },
    async numbersInUse(now) {
      return await sql.all(`SELECT source, platform, country, count(*) AS count FROM orders WHERE ${HOLDS} GROUP BY source, platform, country`, now);
    },
    async facts(filter) {
      const columns = 'o.*, (SELECT min(received_at) FROM sms WHERE sms.order_id = o.id AND accepted = 1) AS first_sms_at';
      // Two statements, not `(? IS NULL OR account_id = ?)`: that OR kept SQLite off the account's
      // index, so one account's figures read every account's orders of the period.
      return (await (filter.accountId === undefined
        ? sql.all<OrderRow & { first_sms_at: number | null }>(`SELECT ${columns} FROM orders o WHERE o.created_at >= ?`, filter.since)
        : sql.all<OrderRow & { first_sms_at: number | null }>(
            `SELECT ${columns} FROM orders o WHERE o.account_id = ? AND o.created_at >= ?`,
            filter.accountId,
            filter.since,
          )))
        .map((r) => ({
          accountId: r.account_id,
          platform: r.platform,
          country: r.country,
          status: r.status,
          price: r.price,
          refunded: r.refunded === 1,
          createdAt: r.created_at,
          completedAt: r.completed_at,
          firstSmsAt: r.first_sms_at,
        }));
    },
  };
}

export function idempotencyRepo(sql: Sql): IdempotencyRepo {
  return {
    async find(accountId, key) {
      const r = await sql.get<{ request_hash: string; created_at: number; order_id: string | null; response: string | null; lease_until: number | null; token: string | null }>(
        'SELECT request_hash, created_at, order_id, response, lease_until, token FROM idempotency_keys WHERE account_id = ? AND key = ?',
        accountId, key,
      );
      const row: IdempotencyRow | null = r
        ? { requestHash: r.request_hash, createdAt: r.created_at, orderId: r.order_id, response: r.response, leaseUntil: r.lease_until, token: r.token }
        : null;
      return row;
    },
    async reserve(r) {
      return (
        (await sql.run(
          'INSERT INTO idempotency_keys (account_id, key, request_hash, created_at, lease_until, token) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
          r.accountId, r.key, r.requestHash, r.createdAt, r.leaseUntil, r.token,
        )) === 1
      );
    },
    async takeOver(accountId, key, oldToken, token, leaseUntil, at) {
      return (
        (await sql.run(
          'UPDATE idempotency_keys SET token = ?, lease_until = ? WHERE account_id = ? AND key = ? AND order_id IS NULL AND coalesce(token, \'\') = ? AND coalesce(lease_until, 0) <= ?',
          token, leaseUntil, accountId, key, oldToken, at,
        )) === 1
      );
    },
    async complete(accountId, key, orderId, response) {
      await sql.run('UPDATE idempotency_keys SET order_id = ?, response = ?, lease_until = NULL, token = NULL WHERE account_id = ? AND key = ?', orderId, response, accountId, key);
    },
    async insert(r) {
      await sql.run(
        'INSERT INTO idempotency_keys (account_id, key, request_hash, order_id, response, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        r.accountId, r.key, r.requestHash, r.orderId, r.response, r.createdAt,
      );
    },
    async remove(accountId, key) {
      await sql.run('DELETE FROM idempotency_keys WHERE account_id = ? AND key = ?', accountId, key);
    },
  };
}
