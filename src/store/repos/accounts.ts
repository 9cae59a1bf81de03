import type { AccountsRepo, AuditRepo, LedgerRepo, SandboxRepo } from '../../core/accounts/port.js';
import type { PricesRepo, PriceOverride } from '../../core/catalogue/port.js';
import type { OrderStatus } from '../../core/orders/order.js';
import type { Sql } from '../sql.js';

export function accountsRepo(sql: Sql): AccountsRepo {
  return {
    async insert(a) {
      await sql.run(
        `INSERT INTO accounts (id, key_hash, balance, created_at, sandbox, webhook_secret, low_balance_threshold, low_balance_notified)
         VALUES (?, ?, 0, ?, ?, ?, ?, ?)`,
        a.id, a.keyHash, a.createdAt, a.sandbox ? 1 : 0, a.webhookSecret, a.lowBalanceThreshold, a.lowBalanceNotified ? 1 : 0,
      );
    },
    async idByKeyHash(keyHash) {
      return (await sql.get<{ id: string }>('SELECT id FROM accounts WHERE key_hash = ?', keyHash))?.id ?? null;
    },
    async count() {
      return (await sql.get<{ n: number }>('SELECT count(*) AS n FROM accounts'))!.n;
    },
    async get(accountId) {
      const row = await sql.get<{ id: string; balance: number; created_at: number; sandbox: number; webhook_url: string | null }>(
        'SELECT id, balance, created_at, sandbox, webhook_url FROM accounts WHERE id = ?',
        accountId,
      );
      return row ? { id: row.id, balance: row.balance, createdAt: row.created_at, sandbox: row.sandbox === 1, webhookUrl: row.webhook_url } : null;
    },
    async completedOrders(accountId) {
      return (await sql.get<{ n: number }>('SELECT completed_orders AS n FROM accounts WHERE id = ?', accountId))?.n ?? 0;
    },
    async addCompleted(accountId, delta) {
      await sql.run('UPDATE accounts SET completed_orders = completed_orders + ? WHERE id = ?', delta, accountId);
    },
    async changeBalance(accountId, delta) {
      const row = await sql.get<{ balance: number; threshold: number; notified: number }>(
        'UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0 RETURNING balance, low_balance_threshold AS threshold, low_balance_notified AS notified',
        delta, accountId, delta,
      );
      return row ? { balance: row.balance, threshold: row.threshold, notified: row.notified === 1 } : null;
    },
    async lowBalance(accountId) {
      const row = await sql.get<{ balance: number; threshold: number; notified: number }>(
        'SELECT balance, low_balance_threshold AS threshold, low_balance_notified AS notified FROM accounts WHERE id = ?',
        accountId,
      );
      return row ? { balance: row.balance, threshold: row.threshold, notified: row.notified === 1 } : null;
    },
    async setLowBalance(accountId, state) {
      if (state.threshold === undefined) await sql.run('UPDATE accounts SET low_balance_notified = ? WHERE id = ?', state.notified ? 1 : 0, accountId);
      else await sql.run('UPDATE accounts SET low_balance_threshold = ?, low_balance_notified = ? WHERE id = ?', state.threshold, state.notified ? 1 : 0, accountId);
    },
  };
}

export function ledgerRepo(sql: Sql): LedgerRepo {
  return {
    async append(e) {
      await sql.run('INSERT INTO ledger (account_id, kind, amount, order_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?)', e.accountId, e.kind, e.amount, e.orderId, e.note, e.at);
    },
  };
}

export function sandboxRepo(sql: Sql): SandboxRepo {
  return {
    async get() {
      const row = await sql.get<{ api_key: string; account_id: string }>('SELECT api_key, account_id FROM sandbox WHERE id = 1');
      return row ? { apiKey: row.api_key, accountId: row.account_id } : null;
    },
    async claim(apiKey, accountId) {
      return (await sql.run('INSERT INTO sandbox (id, api_key, account_id) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING', apiKey, accountId)) === 1;
    },
  };
}

export function pricesRepo(sql: Sql): PricesRepo {
  return {
    async all() {
      return await sql.all<PriceOverride>('SELECT platform, country, price FROM prices ORDER BY platform, country');
    },
    async set(platform, country, price) {
      if (price === null) await sql.run('DELETE FROM prices WHERE platform = ? AND country = ?', platform, country);
      else await sql.run('INSERT INTO prices (platform, country, price) VALUES (?, ?, ?) ON CONFLICT (platform, country) DO UPDATE SET price = excluded.price', platform, country, price);
    },
  };
}

export function auditRepo(sql: Sql): AuditRepo {
  return {
    async balanceMismatches() {
      return await sql.all(
        `SELECT a.id, a.balance, coalesce(sum(l.amount), 0) AS total FROM accounts a
         LEFT JOIN ledger l ON l.account_id = a.id GROUP BY a.id HAVING a.balance != coalesce(sum(l.amount), 0)`,
      );
    },
    async completedMismatches() {
      return await sql.all(
        `SELECT * FROM (SELECT a.id, a.completed_orders AS kept, (SELECT count(*) FROM orders o WHERE o.account_id = a.id AND o.status = 'completed') AS counted
         FROM accounts a) AS counts WHERE kept != counted`,
      );
    },
    async negativeBalances() {
      return await sql.all('SELECT id, balance FROM accounts WHERE balance < 0');
    },
    async debitMismatches() {
      return await sql.all(
        `SELECT o.id, count(l.id) AS n, sum(l.amount) AS amount, o.price FROM orders o
         LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'order_debit' GROUP BY o.id
         HAVING count(l.id) != 1 OR sum(l.amount) != -o.price`,
      );
    },
    async refunds() {
      return (await sql
        .all<{ id: string; status: OrderStatus; refunded: number; n: number; amount: number | null; price: number }>(
          `SELECT o.id, o.status, o.refunded, count(l.id) AS n, sum(l.amount) AS amount, o.price FROM orders o
           LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'refund' GROUP BY o.id`,
        ))
        .map((r) => ({ ...r, refunded: r.refunded === 1 }));
    },
    async crossAccountEntries() {
      return (await sql
        .all<{ id: number; order_id: string }>('SELECT l.id, l.order_id FROM ledger l JOIN orders o ON o.id = l.order_id WHERE o.account_id != l.account_id'))
        .map((r) => ({ id: r.id, orderId: r.order_id }));
    },
    async wrongSigns() {
      return await sql.all(
        `SELECT id, kind, amount FROM ledger WHERE (kind = 'deposit' AND amount <= 0) OR (kind = 'refund' AND amount <= 0) OR (kind = 'order_debit' AND amount > 0)`,
      );
    },
    async counts() {
      const n = async (table: string): Promise<number> => (await sql.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;
      return { accounts: await n('accounts'), orders: await n('orders'), ledgerEntries: await n('ledger') };
    },
  };
}
