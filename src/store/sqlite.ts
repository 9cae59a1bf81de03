import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TnError, aboveLimit, insufficientBalance } from '../core/errors.js';
import type { Micros } from '../core/money.js';
import { LOW_BALANCE_THRESHOLD, formatUsd, toUsd } from '../core/money.js';
import { ulid } from '../core/ids.js';
import { toOrderView, type OrderRecord, type OrderStatus, type ReceivedSms, type RefundedStatus } from '../core/orders/order.js';
import type {
  AccountRecord,
  AuditReport,
  DueWork,
  IncomingSms,
  NewAccount,
  AttemptLog,
  DeliveryAttempt,
  DeliveryOutcome,
  DueDelivery,
  OutboxEvent,
  WebhookSettings,
  GuardWindow,
  OrderFilter,
  PriceOverride,
  OrderFact,
  PlaceOrderInput,
  PlaceOrderResult,
  SmsOutcome,
  Store,
  ActivationRecord,
  InboundOutcome,
  InboundRecord,
  InboxEntry,
  PoolNumber,
  SourceKind,
  SourceRecord,
  SourceSettings,
  SourceStats,
} from '../core/ports.js';
import { MIGRATIONS } from './migrations.js';
import { median } from '../core/accounts/usage.js';

/** Idempotency keys are honoured for 24 hours, like Stripe's. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

interface EventRow {
  id: number;
  msg_id: string;
  account_id: string;
  type: string;
  payload: string;
  created_at: number;
}

const toEvent = (r: EventRow): OutboxEvent => ({
  id: r.id,
  msgId: r.msg_id,
  accountId: r.account_id,
  type: r.type,
  payload: r.payload,
  createdAt: r.created_at,
});

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
}

export interface SqliteStoreOptions {
  busyTimeoutMs?: number;
  readonly?: boolean;
}

/** Opens (creating if needed) a tn database file and brings its schema up to date. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false });
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    // Refuse a newer schema before changing anything in the file.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) throw newerSchema(version);
    if (!options.readonly) db.pragma('journal_mode = WAL');
    // better-sqlite3 reopens WAL databases with synchronous=NORMAL; an acknowledged order must survive power loss.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (!options.readonly) migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db);
}

const newerSchema = (version: number): TnError =>
  new TnError('unavailable', `Database schema version ${version} is newer than this tn (${MIGRATIONS.length}): upgrade tn.`);

function migrate(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) throw newerSchema(version);
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

export class SqliteStore implements Store {
  readonly db: Database.Database;
  private readonly stmt;
  private readonly statements = new Map<string, Database.Statement>();

  private queue: { work: () => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void }[] = [];
  private emitted: OutboxEvent[] = [];
  private readonly eventListeners: ((events: OutboxEvent[]) => void)[] = [];

  /**
   * Group commit. Writes that arrive together (concurrent requests of a server) share one
   * immediate transaction and so one fsync; each runs in its own savepoint, so one that throws
   * (a short balance, say) undoes only itself. A write's promise settles after the commit: what
   * was acknowledged is on disk.
   */
  private write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.emitted = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
    try {
      this.db
        .transaction(() => {
          for (const item of batch) {
            const mark = this.emitted.length;
            try {
              // A transaction inside a transaction is a savepoint in better-sqlite3.
              outcomes.push({ ok: true, value: this.db.transaction(item.work)() });
            } catch (err) {
              // Some errors (a full disk, an I/O error) roll back the whole transaction, not just the
              // savepoint: then nothing of this batch is committed, and nothing more may run in it.
              if (!this.db.inTransaction) throw err;
              // Its savepoint is rolled back, and so are the events it wrote.
              this.emitted.length = mark;
              outcomes.push({ ok: false, err });
            }
          }
        })
        .immediate();
    } catch (err) {
      this.emitted = [];
      for (const item of batch) item.reject(err);
      return;
    }
    const events = this.emitted;
    this.emitted = [];
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.err);
    });
    if (events.length) for (const listener of this.eventListeners) listener(events);
  }

  /**
   * Writes an event to the outbox inside the current transaction, with its delivery when the
   * account has a working webhook URL: the event exists if and only if the change it reports does.
   */
  private emit(accountId: string, type: string, data: unknown, at: number): OutboxEvent {
    const msgId = `msg_${ulid(at)}`;
    const payload = JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
    const { id } = this.sql<[string, string, string, string, number], { id: number }>(
      'INSERT INTO events (msg_id, account_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
    ).get(msgId, accountId, type, payload, at)!;
    this.sql(
      `INSERT INTO deliveries (event_id, account_id, url, state, next_attempt_at, created_at)
       SELECT ?, id, webhook_url, 'pending', ?, ? FROM accounts WHERE id = ? AND webhook_url IS NOT NULL AND webhook_disabled_at IS NULL`,
    ).run(id, at, at, accountId);
    const event = { id, msgId, accountId, type, payload, createdAt: at };
    this.emitted.push(event);
    return event;
  }

  /** `balance.low` once per crossing below the account's threshold; climbing back above re-arms it. */
  private checkLowBalance(accountId: string, at: number): void {
    const a = this.sql<[string], { balance: number; threshold: number; notified: number }>(
      'SELECT balance, low_balance_threshold AS threshold, low_balance_notified AS notified FROM accounts WHERE id = ?',
    ).get(accountId);
    if (!a) return;
    if (a.balance < a.threshold && a.notified === 0) {
      this.sql('UPDATE accounts SET low_balance_notified = 1 WHERE id = ?').run(accountId);
      this.emit(accountId, 'balance.low', { balance: toUsd(a.balance), threshold: toUsd(a.threshold) }, at);
    } else if (a.balance >= a.threshold && a.notified === 1) {
      this.sql('UPDATE accounts SET low_balance_notified = 0 WHERE id = ?').run(accountId);
    }
  }

  /** Prepared once per connection: compiling SQL costs more than running these small queries. */
  private sql<P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement as Database.Statement<P, R>;
  }

  constructor(db: Database.Database) {
    this.db = db;
    this.stmt = {
      order: db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE id = ?'),
      messages: db.prepare<[string], { code: string | null; text: string; received_at: number }>(
        'SELECT code, text, received_at FROM sms WHERE order_id = ? AND accepted = 1 ORDER BY id',
      ),
      debit: db.prepare('UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?'),
      addBalance: db.prepare('UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0'),
      ledger: db.prepare(
        'INSERT INTO ledger (account_id, kind, amount, order_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      balance: db.prepare<[string], { balance: number }>('SELECT balance FROM accounts WHERE id = ?'),
      completedDelta: db.prepare('UPDATE accounts SET completed_orders = completed_orders + ? WHERE id = ?'),
      completedCount: db.prepare<[string], { n: number }>('SELECT completed_orders AS n FROM accounts WHERE id = ?'),
      numberTaken: db.prepare<[string, string, number], { one: number }>(
        `SELECT 1 AS one FROM orders WHERE phone = ? AND platform = ?
           AND (status = 'active' OR (status = 'completed' AND expires_at > ?)) LIMIT 1`,
      ),
    };
  }

  async createAccount(a: NewAccount): Promise<void> {
    await this.write(() => {
        this
          .sql(
            // An account that starts below the threshold has not crossed it: no balance.low for it.
            `INSERT INTO accounts (id, key_hash, balance, created_at, sandbox, webhook_secret, low_balance_threshold, low_balance_notified)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(a.id, a.keyHash, a.credit, a.createdAt, a.sandbox ? 1 : 0, a.webhookSecret, LOW_BALANCE_THRESHOLD, a.credit < LOW_BALANCE_THRESHOLD ? 1 : 0);
        if (a.credit > 0) this.stmt.ledger.run(a.id, 'deposit', a.credit, null, a.creditNote, a.createdAt);
      });
  }

  async accountIdByKeyHash(keyHash: string): Promise<string | null> {
    const row = this.sql<[string], { id: string }>('SELECT id FROM accounts WHERE key_hash = ?').get(keyHash);
    return row?.id ?? null;
  }

  async countAccounts(): Promise<number> {
    return this.sql<[], { n: number }>('SELECT count(*) AS n FROM accounts').get()!.n;
  }

  async getAccount(accountId: string): Promise<AccountRecord | null> {
    const row = this
      .sql<[string], { id: string; balance: number; created_at: number; sandbox: number; webhook_url: string | null }>(
        'SELECT id, balance, created_at, sandbox, webhook_url FROM accounts WHERE id = ?',
      )
      .get(accountId);
    return row
      ? { id: row.id, balance: row.balance, createdAt: row.created_at, sandbox: row.sandbox === 1, webhookUrl: row.webhook_url }
      : null;
  }

  async completedOrders(accountId: string): Promise<number> {
    return this.stmt.completedCount.get(accountId)?.n ?? 0;
  }




  async credit(accountId: string, amount: Micros, kind: 'deposit' | 'adjustment', note: string, at: number): Promise<Micros> {
    return this.write(() => {
        const changed = this.stmt.addBalance.run(amount, accountId, amount).changes;
        if (changed !== 1) {
          const exists = this.stmt.balance.get(accountId);
          if (!exists) throw new TnError('not_found', `Account ${accountId} not found.`);
          throw new TnError('invalid_request', `An adjustment of ${formatUsd(amount)} would take the balance below zero.`);
        }
        this.stmt.ledger.run(accountId, kind, amount, null, note, at);
        this.checkLowBalance(accountId, at);
        return this.stmt.balance.get(accountId)!.balance;
      });
  }

  async idempotentOrder(accountId: string, key: string, now: number) {
    const row = this.sql<[string, string, number], { order_id: string; request_hash: string; response: string }>(
      'SELECT order_id, request_hash, response FROM idempotency_keys WHERE account_id = ? AND key = ? AND created_at > ?',
    ).get(accountId, key, now - IDEMPOTENCY_TTL_MS);
    return row ? { orderId: row.order_id, requestHash: row.request_hash, response: row.response } : null;
  }


  async placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult> {
    return this.write((): PlaceOrderResult => {
        const { idempotency } = input;
        if (idempotency) {
          this
            .sql('DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND created_at <= ?')
            .run(input.accountId, idempotency.key, input.createdAt - IDEMPOTENCY_TTL_MS);
          const seen = this
            .sql<[string, string], { order_id: string; request_hash: string; response: string }>(
              'SELECT order_id, request_hash, response FROM idempotency_keys WHERE account_id = ? AND key = ?',
            )
            .get(input.accountId, idempotency.key);
          if (seen) {
            if (seen.request_hash !== idempotency.requestHash) {
              throw new TnError(
                'idempotency_key_reused',
                'This idempotency key was already used with other parameters: use a new key for a new request.',
              );
            }
            return { kind: 'replayed', orderId: seen.order_id, response: seen.response };
          }
        }

        input.admit?.((since) => this.guardWindow(input.accountId, input.platform, input.country, since));
        const phone = input.pool
          ? this.freePoolNumber(input.pool.source, input.platform, input.country, input.createdAt, input.pool.cooldownMs)
          : input.pickPhone((candidate) => this.stmt.numberTaken.get(candidate, input.platform, input.createdAt) !== undefined);
        if (phone === null) {
          throw new TnError('no_numbers', `No ${input.platform} numbers are free in "${input.country}" right now: try another country or later.`);
        }

        // The tier is read in the same transaction that debits, so the price matches the count at commit.
        const price = input.priceFor(this.stmt.completedCount.get(input.accountId)?.n ?? 0);
        if (input.maxPrice !== undefined && price > input.maxPrice) throw aboveLimit(price, input.maxPrice);
        if (this.stmt.debit.run(price, input.accountId, price).changes !== 1) {
          const row = this.stmt.balance.get(input.accountId);
          if (!row) throw new TnError('unauthorized', 'Unknown account.');
          throw insufficientBalance(row.balance, price);
        }
        this
          .sql(
            `INSERT INTO orders (id, account_id, platform, country, phone, source, price, status, created_at, expires_at, sms_due_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
          )
          .run(
            input.orderId,
            input.accountId,
            input.platform,
            input.country,
            phone,
            input.source,
            price,
            input.createdAt,
            input.expiresAt,
            input.smsDueAt,
          );
        this.stmt.ledger.run(input.accountId, 'order_debit', -price, input.orderId, input.platform, input.createdAt);
        if (input.upstream) {
          this.sql(
            "INSERT INTO upstream_activations (order_id, source, activation_id, cost, status, awaiting, updated_at) VALUES (?, ?, ?, ?, ?, 'smsReceived', ?)",
          ).run(input.orderId, input.source, input.upstream.activationId, input.upstream.cost, input.upstream.status, input.createdAt);
        }
        this.checkLowBalance(input.accountId, input.createdAt);
        const order = this.readOrder(input.orderId)!;
        if (idempotency) {
          this
            .sql(
              'INSERT INTO idempotency_keys (account_id, key, request_hash, order_id, response, created_at) VALUES (?, ?, ?, ?, ?, ?)',
            )
            .run(input.accountId, idempotency.key, idempotency.requestHash, input.orderId, idempotency.respond(order), input.createdAt);
        }
        return { kind: 'created', order };
      });
  }

  async getOrder(orderId: string): Promise<OrderRecord | null> {
    return this.readOrder(orderId);
  }

  async recentOrders(accountId: string, limit: number): Promise<OrderRecord[]> {
    return this
      .sql<[string, number], OrderRow>('SELECT * FROM orders WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?')
      .all(accountId, limit)
      .map((row) => this.toRecord(row));
  }

  async recordSms(sms: IncomingSms): Promise<SmsOutcome> {
    return this.write((): SmsOutcome => {
      const row = this.stmt.order.get(sms.orderId);
      if (!row) return { accepted: false, reason: 'unknown_order', order: null };
      if (sms.dueAt !== undefined && row.sms_due_at !== sms.dueAt) {
        return { accepted: false, reason: 'stale', order: this.toRecord(row) };
      }
      return this.acceptSms(row, sms);
    });
  }

  /** Inside a write: keeps the SMS, and completes the order if it is still active. */
  private acceptSms(row: OrderRow, sms: Omit<IncomingSms, 'dueAt'>): SmsOutcome {
    const accepted = row.status === 'active';
    this.sql('INSERT INTO sms (order_id, sender, text, code, accepted, received_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      row.id,
      sms.sender,
      sms.text,
      sms.code,
      accepted ? 1 : 0,
      sms.receivedAt,
    );
    if (!accepted) return { accepted: false, reason: 'not_active', order: this.toRecord(row) };
    this.sql("UPDATE orders SET status = 'completed', completed_at = ?, sms_due_at = NULL, delivered = 1 WHERE id = ? AND status = 'active'").run(
      sms.receivedAt,
      row.id,
    );
    this.stmt.completedDelta.run(1, row.account_id);
    const order = this.readOrder(row.id)!;
    this.emit(row.account_id, 'sms.received', toOrderView(order), sms.receivedAt);
    return { accepted: true, order };
  }

  async endOrder(orderId: string, status: RefundedStatus, at: number): Promise<OrderRecord | null> {
    return this.write((): OrderRecord | null => {
      // A retried order already delivered a code: it goes back to completed, and nothing is refunded.
      const lastSms = this.sql<[string], { at: number | null }>('SELECT max(received_at) AS at FROM sms WHERE order_id = ? AND accepted = 1').get(orderId)!.at;
      if (lastSms !== null) {
        const back = this.sql(
          "UPDATE orders SET status = 'completed', completed_at = ?, sms_due_at = NULL WHERE id = ? AND status = 'active' RETURNING account_id",
        ).get(lastSms, orderId) as { account_id: string } | undefined;
        if (!back) return null;
        this.stmt.completedDelta.run(1, back.account_id);
        return this.readOrder(orderId);
      }
      const ended = this.sql(
        "UPDATE orders SET status = ?, ended_at = ?, refunded = 1, sms_due_at = NULL WHERE id = ? AND status = 'active' RETURNING account_id, price",
      ).get(status, at, orderId) as { account_id: string; price: number } | undefined;
      if (!ended) return null;
      this.stmt.addBalance.run(ended.price, ended.account_id, ended.price);
      this.stmt.ledger.run(ended.account_id, 'refund', ended.price, orderId, status, at);
      const order = this.readOrder(orderId)!;
      if (status === 'expired' || status === 'failed') this.emit(ended.account_id, 'order.failed', toOrderView(order), at);
      this.checkLowBalance(ended.account_id, at);
      return order;
    });
  }

  async retryOrder(orderId: string, at: number, smsDueAt: number | null): Promise<OrderRecord | null> {
    return this.write((): OrderRecord | null => {
      const retried = this.sql(
        "UPDATE orders SET status = 'active', completed_at = NULL, sms_due_at = ?, retried_at = ? WHERE id = ? AND status = 'completed' AND expires_at > ? RETURNING account_id",
      ).get(smsDueAt, at, orderId, at) as { account_id: string } | undefined;
      if (!retried) return null;
      this.stmt.completedDelta.run(-1, retried.account_id);
      return this.readOrder(orderId);
    });
  }

  async dueWork(now: number, limit: number): Promise<DueWork> {
    const deliveries = this
      .sql<[number, number], { id: string; platform: string; source: string; sms_due_at: number; expires_at: number }>(
        `SELECT id, platform, source, sms_due_at, expires_at FROM orders
         WHERE status = 'active' AND sms_due_at IS NOT NULL AND sms_due_at <= ? AND sms_due_at < expires_at
         ORDER BY sms_due_at LIMIT ?`,
      )
      .all(now, limit)
      .map((r) => ({ orderId: r.id, platform: r.platform, source: r.source, dueAt: r.sms_due_at, expiresAt: r.expires_at }));
    const expiries = this
      .sql<[number, number], { id: string; expires_at: number }>(
        `SELECT id, expires_at FROM orders
         WHERE status = 'active' AND expires_at <= ? AND (sms_due_at IS NULL OR sms_due_at >= expires_at)
         ORDER BY expires_at LIMIT ?`,
      )
      .all(now, limit)
      .map((r) => ({ orderId: r.id, expiresAt: r.expires_at }));
    return { deliveries, expiries };
  }

  async dropDelivery(orderId: string, dueAt: number): Promise<void> {
    await this.write(() => {
      this.sql("UPDATE orders SET sms_due_at = NULL WHERE id = ? AND status = 'active' AND sms_due_at = ?").run(orderId, dueAt);
    });
  }

  async nextDueAt(): Promise<number | null> {
    const row = this
      .sql<[], { due: number | null }>(
        `SELECT min(due) AS due FROM (
           SELECT min(sms_due_at) AS due FROM orders WHERE status = 'active' AND sms_due_at IS NOT NULL
           UNION ALL SELECT min(expires_at) FROM orders WHERE status = 'active')`,
      )
      .get();
    return row?.due ?? null;
  }

  async priceOverrides(): Promise<PriceOverride[]> {
    return this.sql<[], PriceOverride>('SELECT platform, country, price FROM prices ORDER BY platform, country').all();
  }

  async setPrice(platform: string, country: string, price: Micros | null): Promise<void> {
    await this.write(() => {
      if (price === null) this.sql('DELETE FROM prices WHERE platform = ? AND country = ?').run(platform, country);
      else this.sql('INSERT INTO prices (platform, country, price) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET price = excluded.price').run(platform, country, price);
    });
  }

  async listOrders(accountId: string, filter: OrderFilter, limit: number, offset: number): Promise<{ orders: OrderRecord[]; total: number }> {
    const where = ['account_id = @accountId'];
    const params: Record<string, string | number> = { accountId, limit, offset };
    const add = (name: keyof OrderFilter, condition: string): void => {
      if (filter[name] === undefined) return;
      where.push(condition);
      params[name] = filter[name];
    };
    add('status', 'status = @status');
    add('platform', 'platform = @platform');
    add('country', 'country = @country');
    add('since', 'created_at >= @since');
    add('until', 'created_at < @until');
    const clause = where.join(' AND ');
    const total = this.sql<[typeof params], { n: number }>(`SELECT count(*) AS n FROM orders WHERE ${clause}`).get(params)!.n;
    const orders = this.sql<[typeof params], OrderRow>(`SELECT * FROM orders WHERE ${clause} ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`)
      .all(params)
      .map((row) => this.toRecord(row));
    return { orders, total };
  }

  guardWindow(accountId: string, platform: string, country: string, since: number): GuardWindow {
    return this.window('account_id', accountId, platform, country, since);
  }

  /** Orders of one account (or one source) for a platform in a country since `since`: for delivery-rate rules. */
  private window(by: 'account_id' | 'source', who: string, platform: string, country: string, since: number): GuardWindow {
    const args = [who, platform, country, since] as const;
    const totals = this.sql<[string, string, string, number], { orders: number; ended: number | null; delivered: number | null }>(
      `SELECT count(*) AS orders, sum(status != 'active') AS ended, sum(status != 'active' AND delivered = 1) AS delivered
       FROM orders WHERE ${by} = ? AND platform = ? AND country = ? AND created_at > ?`,
    ).get(...args)!;
    return {
      orders: totals.orders,
      ended: totals.ended ?? 0,
      delivered: totals.delivered ?? 0,
      // Only a refusal needs each order (to tell when it lifts): read them then, not on every order.
      list: () =>
        this.sql<[string, string, string, number], { created_at: number; ended: number; delivered: number }>(
          `SELECT created_at, status != 'active' AS ended, delivered
           FROM orders WHERE ${by} = ? AND platform = ? AND country = ? AND created_at > ? ORDER BY created_at`,
        )
          .all(...args)
          .map((r) => ({ createdAt: r.created_at, ended: r.ended === 1, delivered: r.delivered === 1 })),
    };
  }

  async numbersInUse(now: number): Promise<{ source: string; platform: string; country: string; count: number }[]> {
    return this
      .sql<[number], { source: string; platform: string; country: string; count: number }>(
        `SELECT source, platform, country, count(*) AS count FROM orders
         WHERE status = 'active' OR (status = 'completed' AND expires_at > ?) GROUP BY source, platform, country`,
      )
      .all(now);
  }

  async orderFacts(filter: { since: number; accountId?: string }): Promise<OrderFact[]> {
    const rows = this
      .sql<
        [number, string | null, string | null],
        OrderRow & { first_sms_at: number | null }
      >(
        `SELECT o.*, (SELECT min(received_at) FROM sms WHERE sms.order_id = o.id AND accepted = 1) AS first_sms_at
         FROM orders o WHERE o.created_at >= ? AND (? IS NULL OR o.account_id = ?)`,
      )
      .all(filter.since, filter.accountId ?? null, filter.accountId ?? null);
    return rows.map((r) => ({
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
  }

  /** Checks every money invariant of API.md §1 across the whole file. */
  async audit(): Promise<AuditReport> {
    const violations: string[] = [];
    const q = <T>(sql: string): T[] => this.sql(sql).all() as T[];
    return this.db
      .transaction((): AuditReport => {
        for (const r of q<{ id: string; balance: number; total: number }>(
          `SELECT a.id, a.balance, coalesce(sum(l.amount), 0) AS total FROM accounts a
           LEFT JOIN ledger l ON l.account_id = a.id GROUP BY a.id HAVING a.balance != total`,
        )) {
          violations.push(`account ${r.id}: balance ${r.balance} µUSD but its ledger sums to ${r.total}`);
        }
        for (const r of q<{ id: string; kept: number; counted: number }>(
          `SELECT a.id, a.completed_orders AS kept, (SELECT count(*) FROM orders o WHERE o.account_id = a.id AND o.status = 'completed') AS counted
           FROM accounts a WHERE kept != counted`,
        )) {
          violations.push(`account ${r.id}: ${r.kept} completed orders counted on the account, ${r.counted} in its orders`);
        }
        for (const r of q<{ id: string; balance: number }>('SELECT id, balance FROM accounts WHERE balance < 0')) {
          violations.push(`account ${r.id}: negative balance ${r.balance} µUSD`);
        }
        for (const r of q<{ id: string; n: number; amount: number | null; price: number }>(
          `SELECT o.id, count(l.id) AS n, sum(l.amount) AS amount, o.price FROM orders o
           LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'order_debit' GROUP BY o.id
           HAVING n != 1 OR amount != -o.price`,
        )) {
          violations.push(`order ${r.id}: ${r.n} debit entries (total ${r.amount ?? 0}) for a price of ${r.price}`);
        }
        for (const r of q<{ id: string; status: string; refunded: number; n: number; amount: number | null; price: number }>(
          `SELECT o.id, o.status, o.refunded, count(l.id) AS n, sum(l.amount) AS amount, o.price FROM orders o
           LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'refund' GROUP BY o.id`,
        )) {
          const shouldRefund = r.status === 'cancelled' || r.status === 'expired' || r.status === 'failed';
          if (r.n > 1) violations.push(`order ${r.id}: ${r.n} refunds`);
          if (shouldRefund && (r.n !== 1 || r.amount !== r.price)) violations.push(`order ${r.id}: ${r.status} without a refund of its price`);
          if (!shouldRefund && r.n > 0) violations.push(`order ${r.id}: ${r.status} but refunded`);
          if ((r.refunded === 1) !== (r.n > 0)) violations.push(`order ${r.id}: refunded flag ${r.refunded} disagrees with the ledger`);
        }
        for (const r of q<{ id: number; order_id: string }>(
          `SELECT l.id, l.order_id FROM ledger l JOIN orders o ON o.id = l.order_id WHERE o.account_id != l.account_id`,
        )) {
          violations.push(`ledger entry ${r.id}: belongs to another account than order ${r.order_id}`);
        }
        for (const r of q<{ id: number; kind: string; amount: number }>(
          `SELECT id, kind, amount FROM ledger WHERE (kind = 'deposit' AND amount <= 0) OR (kind = 'refund' AND amount <= 0) OR (kind = 'order_debit' AND amount > 0)`,
        )) {
          violations.push(`ledger entry ${r.id}: ${r.kind} of ${r.amount} has the wrong sign`);
        }
        const count = (sql: string): number => (this.sql(sql).get() as { n: number }).n;
        return {
          accounts: count('SELECT count(*) AS n FROM accounts'),
          orders: count('SELECT count(*) AS n FROM orders'),
          ledgerEntries: count('SELECT count(*) AS n FROM ledger'),
          violations,
        };
      })
      .deferred();
  }

  async setWebhook(accountId: string, url: string | null, at: number, lowBalanceThreshold?: Micros): Promise<void> {
    await this.write(() => {
      this.sql('UPDATE accounts SET webhook_url = ?, webhook_disabled_at = NULL, webhook_disabled_reason = NULL WHERE id = ?').run(url, accountId);
      if (lowBalanceThreshold !== undefined) {
        this.sql('UPDATE accounts SET low_balance_threshold = ?, low_balance_notified = CASE WHEN balance < ? THEN 1 ELSE 0 END WHERE id = ?').run(
          lowBalanceThreshold,
          lowBalanceThreshold,
          accountId,
        );
      }
      if (url === null) {
        this.sql("UPDATE deliveries SET state = 'failed', finished_at = ? WHERE account_id = ? AND state = 'pending'").run(at, accountId);
      } else {
        // Whatever waits goes to the new URL, now, in its order.
        this.sql("UPDATE deliveries SET url = ?, next_attempt_at = ? WHERE account_id = ? AND state = 'pending'").run(url, at, accountId);
      }
    });
  }

  async webhookSettings(accountId: string): Promise<WebhookSettings | null> {
    const row = this.sql<
      [string],
      {
        webhook_url: string | null;
        webhook_secret: string;
        webhook_previous_secret: string | null;
        webhook_previous_until: number | null;
        webhook_disabled_at: number | null;
        webhook_disabled_reason: string | null;
        low_balance_threshold: number;
      }
    >(
      `SELECT webhook_url, webhook_secret, webhook_previous_secret, webhook_previous_until, webhook_disabled_at,
              webhook_disabled_reason, low_balance_threshold FROM accounts WHERE id = ?`,
    ).get(accountId);
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
  }

  async rotateWebhookSecret(accountId: string, secret: string, previousUntil: number): Promise<void> {
    await this.write(() => {
      this.sql(
        'UPDATE accounts SET webhook_previous_secret = webhook_secret, webhook_previous_until = ?, webhook_secret = ? WHERE id = ?',
      ).run(previousUntil, secret, accountId);
    });
  }

  async emitEvent(accountId: string, type: string, data: unknown, at: number): Promise<OutboxEvent> {
    return this.write(() => this.emit(accountId, type, data, at));
  }

  onEvents(listener: (events: OutboxEvent[]) => void): void {
    this.eventListeners.push(listener);
  }

  async eventsAfter(accountId: string, afterId: number, limit: number): Promise<OutboxEvent[]> {
    return this.sql<[string, number, number], EventRow>(
      'SELECT * FROM events WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?',
    )
      .all(accountId, afterId, limit)
      .map(toEvent);
  }

  async eventPosition(accountId: string, msgId: string): Promise<number | null> {
    return this.sql<[string, string], { id: number }>('SELECT id FROM events WHERE msg_id = ? AND account_id = ?').get(msgId, accountId)?.id ?? null;
  }

  async dueDeliveries(now: number, limit: number): Promise<DueDelivery[]> {
    return this.sql<[number, number], EventRow & { delivery_id: number; attempts: number; url: string }>(
      `SELECT d.id AS delivery_id, d.attempts, d.url, e.* FROM deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.id IN (SELECT min(id) FROM deliveries WHERE state = 'pending' GROUP BY account_id) AND d.next_attempt_at <= ?
       ORDER BY d.next_attempt_at LIMIT ?`,
    )
      .all(now, limit)
      .map((r) => ({ id: r.delivery_id, attempts: r.attempts, url: r.url, event: toEvent(r) }));
  }

  async nextDeliveryAt(): Promise<number | null> {
    return (
      this.sql<[], { at: number | null }>(
        "SELECT min(next_attempt_at) AS at FROM deliveries WHERE id IN (SELECT min(id) FROM deliveries WHERE state = 'pending' GROUP BY account_id)",
      ).get()?.at ?? null
    );
  }

  async recordAttempt(deliveryId: number, attempt: DeliveryAttempt, outcome: DeliveryOutcome): Promise<void> {
    await this.write(() => {
      const d = this.sql<[number], { account_id: string; state: string }>('SELECT account_id, state FROM deliveries WHERE id = ?').get(deliveryId);
      if (!d || d.state !== 'pending') return;
      this.sql('INSERT INTO delivery_attempts (delivery_id, account_id, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
        deliveryId,
        d.account_id,
        attempt.at,
        attempt.statusCode,
        attempt.error,
        attempt.durationMs,
      );
      const finished = attempt.at + attempt.durationMs;
      switch (outcome.kind) {
        case 'delivered':
          this.sql("UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, finished_at = ? WHERE id = ?").run(finished, deliveryId);
          break;
        case 'retry':
          this.sql('UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?').run(outcome.at, deliveryId);
          break;
        case 'failed':
          this.sql("UPDATE deliveries SET state = 'failed', attempts = attempts + 1, finished_at = ? WHERE id = ?").run(finished, deliveryId);
          break;
        case 'disable':
          this.sql('UPDATE accounts SET webhook_disabled_at = ?, webhook_disabled_reason = ? WHERE id = ?').run(finished, outcome.reason, d.account_id);
          this.sql("UPDATE deliveries SET state = 'failed', finished_at = ? WHERE account_id = ? AND state = 'pending'").run(finished, d.account_id);
          this.sql('UPDATE deliveries SET attempts = attempts + 1 WHERE id = ?').run(deliveryId);
          break;
      }
    });
  }

  async recentAttempts(accountId: string, limit: number): Promise<AttemptLog[]> {
    return this.sql<
      [string, number],
      { msg_id: string; type: string; at: number; status_code: number | null; error: string | null; attempt: number; state: AttemptLog['state'] }
    >(
      `SELECT e.msg_id, e.type, a.at, a.status_code, a.error, d.state,
              (SELECT count(*) FROM delivery_attempts x WHERE x.delivery_id = a.delivery_id AND x.id <= a.id) AS attempt
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id
       WHERE a.account_id = ? ORDER BY a.id DESC LIMIT ?`,
    )
      .all(accountId, limit)
      .map((r) => ({ webhookId: r.msg_id, type: r.type, at: r.at, statusCode: r.status_code, error: r.error, attempt: r.attempt, state: r.state }));
  }

  // ── sources, pool, inbox, upstream bookkeeping (issue 7) ──────────────

  async listSources(): Promise<SourceRecord[]> {
    return this.sql<[], SourceRow>('SELECT * FROM sources ORDER BY created_at, name').all().map(toSource);
  }

  async addSource(source: SourceRecord): Promise<void> {
    await this.write(() => {
      if (this.sql('SELECT 1 FROM sources WHERE name = ?').get(source.name)) {
        throw new TnError('invalid_request', `A source named "${source.name}" already exists: pick another name, or remove it first.`);
      }
      this.sql('INSERT INTO sources (name, kind, secret, settings, cost, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        source.name,
        source.kind,
        source.secret,
        JSON.stringify(source.settings),
        source.cost,
        source.enabled ? 1 : 0,
        source.createdAt,
      );
    });
  }

  async setSourceEnabled(name: string, enabled: boolean): Promise<boolean> {
    return this.write(() => this.sql('UPDATE sources SET enabled = ? WHERE name = ?').run(enabled ? 1 : 0, name).changes === 1);
  }

  async removeSource(name: string): Promise<boolean> {
    return this.write(() => {
      const active = this.sql<[string], { n: number }>("SELECT count(*) AS n FROM orders WHERE source = ? AND status = 'active'").get(name)!.n;
      if (active > 0) {
        throw new TnError('invalid_request', `Source "${name}" has ${active} active order(s): disable it now (\`tn admin source disable ${name}\`) and remove it once they end.`);
      }
      this.sql('DELETE FROM pool_numbers WHERE source = ?').run(name);
      return this.sql('DELETE FROM sources WHERE name = ?').run(name).changes === 1;
    });
  }

  async listPool(): Promise<PoolNumber[]> {
    return this.sql<[], PoolRow>('SELECT * FROM pool_numbers ORDER BY source, country, phone').all().map(toPoolNumber);
  }

  async addPoolNumber(entry: PoolNumber): Promise<void> {
    await this.write(() => {
      if (this.sql('SELECT 1 FROM pool_numbers WHERE phone = ?').get(entry.phone)) {
        throw new TnError('invalid_request', `${entry.phone} is already in the pool: remove it first to change it.`);
      }
      if (entry.device !== null && this.sql('SELECT 1 FROM pool_numbers WHERE source = ? AND device = ? AND sim IS ?').get(entry.source, entry.device, entry.sim)) {
        throw new TnError('invalid_request', `Device ${entry.device}${entry.sim === null ? '' : ` SIM ${entry.sim}`} of ${entry.source} already has a number in the pool.`);
      }
      this.sql('INSERT INTO pool_numbers (phone, source, country, platforms, device, sim, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        entry.phone,
        entry.source,
        entry.country,
        entry.platforms === '*' ? '*' : entry.platforms.join(','),
        entry.device,
        entry.sim,
        entry.addedAt,
      );
    });
  }

  async removePoolNumber(phone: string): Promise<boolean> {
    return this.write(() => {
      const active = this.sql<[string], { n: number }>(
        "SELECT count(*) AS n FROM orders o JOIN pool_numbers p ON p.phone = o.phone AND p.source = o.source WHERE o.phone = ? AND o.status = 'active'",
      ).get(phone)!.n;
      if (active > 0) throw new TnError('invalid_request', `${phone} has ${active} active order(s): remove it once they end.`);
      return this.sql('DELETE FROM pool_numbers WHERE phone = ?').run(phone).changes === 1;
    });
  }

  async heldNumbers(since: number): Promise<{ phone: string; platform: string; releasedAt: number | null }[]> {
    return this.sql<[number], { phone: string; platform: string; released_at: number | null }>(
      `SELECT o.phone, o.platform, CASE WHEN sum(o.status = 'active') > 0 THEN NULL ELSE max(CASE WHEN o.status = 'completed' THEN o.expires_at ELSE o.ended_at END) END AS released_at
       FROM pool_numbers p JOIN orders o ON o.phone = p.phone
       WHERE o.status = 'active' OR (CASE WHEN o.status = 'completed' THEN o.expires_at ELSE o.ended_at END) > ?
       GROUP BY o.phone, o.platform`,
    )
      .all(since)
      .map((r) => ({ phone: r.phone, platform: r.platform, releasedAt: r.released_at }));
  }

  /**
   * Inside the order's transaction: a pool number of the source for the platform and country that
   * no order holds (active, or completed and still open to a retry) and that is not cooling down;
   * the one used longest ago, so use spreads over the pool.
   */
  private freePoolNumber(source: string, platform: string, country: string, now: number, cooldownMs: number): string | null {
    const row = this.sql<[string, string, string, string, number, number], { phone: string }>(
      `SELECT p.phone FROM pool_numbers p
       WHERE p.source = ? AND p.country = ? AND (p.platforms = '*' OR instr(',' || p.platforms || ',', ',' || ? || ',') > 0)
         AND NOT EXISTS (
           SELECT 1 FROM orders o WHERE o.phone = p.phone AND o.platform = ?
             AND (o.status = 'active' OR (CASE WHEN o.status = 'completed' THEN o.expires_at ELSE o.ended_at END) > ? - ?))
       ORDER BY (SELECT max(created_at) FROM orders o WHERE o.phone = p.phone) ASC NULLS FIRST, p.phone
       LIMIT 1`,
    ).get(source, country, platform, platform, now, cooldownMs);
    return row?.phone ?? null;
  }

  async recordInbound(message: InboundRecord, choose: (candidates: OrderRecord[]) => OrderRecord | null): Promise<InboundOutcome> {
    return this.write((): InboundOutcome => {
      if (message.messageId !== null && this.sql('SELECT 1 FROM inbox WHERE source = ? AND message_id = ?').get(message.source, message.messageId)) {
        return { duplicate: true };
      }
      let phone = message.to;
      if (phone === null && message.device) {
        // A message with no SIM slot fits a device with one number in the pool.
        const rows = this.sql<[string, string], { phone: string; sim: number | null }>(
          'SELECT phone, sim FROM pool_numbers WHERE source = ? AND device = ?',
        ).all(message.source, message.device.id);
        const sim = message.device.sim;
        phone = (sim === null ? (rows.length === 1 ? rows[0] : undefined) : (rows.find((r) => r.sim === sim) ?? (rows.length === 1 && rows[0]!.sim === null ? rows[0] : undefined)))?.phone ?? null;
      }
      const { id } = this.sql<unknown[], { id: number }>(
        `INSERT INTO inbox (source, message_id, to_phone, sender, device, sim, text, received_at, stored_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ).get(
        message.source,
        message.messageId,
        phone,
        message.from,
        message.device?.id ?? null,
        message.device?.sim ?? null,
        message.text,
        message.receivedAt,
        message.storedAt,
      )!;
      if (phone === null) return { duplicate: false, order: null };
      // Only orders this source served: a gateway's credentials cannot complete another's orders.
      // A retried order waits for a message the gateway received after the one it already got.
      const rows = this.sql<[string, string, number], OrderRow>(
        `SELECT * FROM orders o WHERE phone = ? AND source = ? AND status = 'active'
           AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.order_id = o.id AND i.received_at >= ?)
         ORDER BY created_at DESC, id DESC`,
      ).all(phone, message.source, message.receivedAt);
      const chosen = rows.length ? choose(rows.map((r) => this.toRecord(r))) : null;
      if (!chosen) return { duplicate: false, order: null };
      const row = rows.find((r) => r.id === chosen.id)!;
      const outcome = this.acceptSms(row, { orderId: row.id, sender: message.from, text: message.text, code: message.codeFor(row.platform), receivedAt: message.storedAt });
      if (!outcome.accepted) return { duplicate: false, order: null };
      this.sql('UPDATE inbox SET order_id = ? WHERE id = ?').run(row.id, id);
      return { duplicate: false, order: outcome.order };
    });
  }

  async inbox(filter: { unmatchedOnly: boolean; limit: number }): Promise<InboxEntry[]> {
    return this.sql<[number, number], InboxRow>(
      'SELECT * FROM inbox WHERE (? = 0 OR order_id IS NULL) ORDER BY id DESC LIMIT ?',
    )
      .all(filter.unmatchedOnly ? 1 : 0, filter.limit)
      .map((r) => ({
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
      }));
  }

  async activation(orderId: string): Promise<ActivationRecord | null> {
    const r = this.sql<[string], { order_id: string; source: string; activation_id: string; cost: number; status: string; awaiting: string | null }>(
      'SELECT * FROM upstream_activations WHERE order_id = ?',
    ).get(orderId);
    return r ? { orderId: r.order_id, source: r.source, activationId: r.activation_id, cost: r.cost, status: r.status, awaiting: r.awaiting } : null;
  }

  async updateActivation(orderId: string, status: string, awaiting: string | null, at: number): Promise<void> {
    await this.write(() => {
      this.sql('UPDATE upstream_activations SET status = ?, awaiting = ?, updated_at = ? WHERE order_id = ?').run(status, awaiting, at, orderId);
    });
  }

  async reschedule(orderId: string, dueAt: number, nextAt: number): Promise<boolean> {
    return this.write(
      () => this.sql("UPDATE orders SET sms_due_at = ? WHERE id = ? AND status = 'active' AND sms_due_at = ?").run(nextAt, orderId, dueAt).changes === 1,
    );
  }

  async recordSourceError(source: string, code: string, message: string, at: number): Promise<void> {
    await this.write(() => {
      this.sql('INSERT INTO source_errors (source, at, code, message) VALUES (?, ?, ?, ?)').run(source, at, code, message.slice(0, 500));
      // A week of errors is plenty to look back on; the table must not grow without bound.
      this.sql('DELETE FROM source_errors WHERE source = ? AND at < ?').run(source, at - 7 * 86_400_000);
    });
  }

  async sourceRecord(source: string, limit: number): Promise<{ ended: number; delivered: number }> {
    const row = this.sql<[string, number], { ended: number; delivered: number | null }>(
      `SELECT count(*) AS ended, sum(delivered) AS delivered FROM (
         SELECT delivered FROM orders WHERE source = ? AND status != 'active' ORDER BY created_at DESC LIMIT ?)`,
    ).get(source, limit)!;
    return { ended: row.ended, delivered: row.delivered ?? 0 };
  }

  sourceGuardWindow(source: string, platform: string, country: string, since: number): GuardWindow {
    return this.window('source', source, platform, country, since);
  }

  async sourceStats(now: number): Promise<SourceStats[]> {
    const since = now - 86_400_000;
    const orders = this.sql<[number], { source: string; status: string; delivered: number; created_at: number; first_sms: number | null }>(
      `SELECT source, status, delivered, created_at,
              (SELECT min(received_at) FROM sms WHERE sms.order_id = o.id AND accepted = 1) AS first_sms
       FROM orders o WHERE created_at > ? OR status = 'active'`,
    ).all(since);
    const errors = this.sql<[number], { source: string; n: number }>('SELECT source, count(*) AS n FROM source_errors WHERE at > ? GROUP BY source').all(now - 3_600_000);
    const names = new Set([...(await this.listSources()).map((s) => s.name), ...orders.map((o) => o.source)]);
    return [...names].map((name): SourceStats => {
      const mine = orders.filter((o) => o.source === name);
      const ended = mine.filter((o) => o.status !== 'active');
      const times = mine.filter((o) => o.first_sms !== null).map((o) => o.first_sms! - o.created_at).sort((a, b) => a - b);
      const last = this.sql<[string], { at: number; code: string; message: string }>(
        'SELECT at, code, message FROM source_errors WHERE source = ? ORDER BY id DESC LIMIT 1',
      ).get(name);
      return {
        source: name,
        active: mine.length - ended.length,
        ended: ended.length,
        delivered: ended.filter((o) => o.delivered === 1).length,
        medianDeliveryMs: times.length ? median(times) : null,
        errorsLastHour: errors.find((e) => e.source === name)?.n ?? 0,
        lastError: last ?? null,
      };
    });
  }

  async takeToken(key: string, max: number, windowMs: number, now: number): Promise<number> {
    return this.write(() => {
      const row = this.sql<[string], { tokens: number; updated_at: number; blocked_until: number }>(
        'SELECT tokens, updated_at, blocked_until FROM rate_buckets WHERE key = ?',
      ).get(key);
      if (row && row.blocked_until > now) return row.blocked_until - now;
      const refill = max / windowMs;
      const tokens = row ? Math.min(max, row.tokens + Math.max(0, now - row.updated_at) * refill) : max;
      const granted = tokens >= 1;
      this.sql(
        `INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
      ).run(key, granted ? tokens - 1 : tokens, now);
      return granted ? 0 : Math.ceil((1 - tokens) / refill);
    });
  }

  async blockBucket(key: string, until: number): Promise<void> {
    await this.write(() => {
      this.sql(
        `INSERT INTO rate_buckets (key, tokens, updated_at, blocked_until) VALUES (?, 0, ?, ?)
         ON CONFLICT (key) DO UPDATE SET blocked_until = max(blocked_until, excluded.blocked_until)`,
      ).run(key, until, until);
    });
  }

  async cached(source: string, key: string): Promise<{ value: string; fetchedAt: number } | null> {
    const row = this.sql<[string, string], { value: string; fetched_at: number }>('SELECT value, fetched_at FROM source_cache WHERE source = ? AND key = ?').get(source, key);
    return row ? { value: row.value, fetchedAt: row.fetched_at } : null;
  }

  async cache(source: string, key: string, value: string, at: number): Promise<void> {
    await this.write(() => {
      this.sql(
        'INSERT INTO source_cache (source, key, value, fetched_at) VALUES (?, ?, ?, ?) ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at',
      ).run(source, key, value, at);
    });
  }

  async ping(): Promise<void> {
    this.sql('SELECT count(*) FROM accounts').get();
  }

  changeCounter(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private readOrder(orderId: string): OrderRecord | null {
    const row = this.stmt.order.get(orderId);
    return row ? this.toRecord(row) : null;
  }

  private toRecord(row: OrderRow): OrderRecord {
    // Most reads are of orders still waiting for their first SMS: those have no messages to look up.
    const messages: ReceivedSms[] =
      row.delivered === 0 ? [] : this.stmt.messages.all(row.id).map((m) => ({ code: m.code, text: m.text, receivedAt: m.received_at }));
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
  }
}
