/**
 * The PostgreSQL engine, for many `tn serve` instances acting as one broker. The same
 * repositories as SQLite (`store/repos/`) run on node-postgres: a unit of work is one transaction
 * on a pooled connection, run again on a serialization failure, a deadlock or a lost race for a
 * unique row; commits announce themselves with NOTIFY, and every instance LISTENs, so a waiter on
 * one instance wakes within milliseconds of a change on another and reads the row again.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Database, Repositories, Tx } from '../../core/database.js';
import { TnError } from '../../core/errors.js';
import { repositories } from '../repos/index.js';
import type { Param, Sql } from '../sql.js';
import { PG_MIGRATIONS } from './migrations.js';

/** Which changes instances tell each other of: the payload is the sender's id, never trusted for data. */
const CHANNEL = 'tn_changes';
/** Serializes migrations of instances starting together. */
const MIGRATION_LOCK = 7_421_001;
/** Other instances' commits are told to this instance's waiters at most this often. */
const FOREIGN_COALESCE_MS = 10;
/** A unit of work is tried this many times at most before its failure is the caller's. */
const MAX_ATTEMPTS = 8;
/** Waits between reconnects of the LISTEN connection: from this, doubling, up to 5 s. */
const LISTEN_RETRY_MS = 100;

/** Failures after which the whole unit of work runs again: serialization, deadlock, a unique row another transaction took first. */
const RETRYABLE = new Set(['40001', '40P01', '23505']);

// Counts and sums come back as int8/numeric strings; every value tn keeps is far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

/** Failures of the connection itself (not of a statement): the broker is unavailable until PostgreSQL is back. */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err instanceof Error && /Connection terminated|connect/i.test(err.message);
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(code);
}

/** A connection failure as the caller sees it: `unavailable` (HTTP 503, exit 8); any other error as it is. */
const orUnavailable = (err: unknown): unknown => (isConnectionError(err) ? unavailable(err) : err);

class PgSql implements Sql {
  /** Concurrent transactions each take their own from the sequence, none waiting on another. */
  readonly nextOrderNumber = "nextval('orders_num_seq')";

  skipLocked(alias: string): string {
    return `FOR UPDATE OF ${alias} SKIP LOCKED`;
  }
  private static readonly texts = new Map<string, string>();

  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  /** `?` → `$1…`: the repositories' SQL has no `?` inside literals. */
  private static text(sql: string): string {
    let text = PgSql.texts.get(sql);
    if (!text) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      PgSql.texts.set(sql, text);
    }
    return text;
  }

  async get<R>(text: string, ...params: Param[]): Promise<R | undefined> {
    return (await this.query(text, params)).rows[0] as R | undefined;
  }

  async all<R>(text: string, ...params: Param[]): Promise<R[]> {
    return (await this.query(text, params)).rows as R[];
  }

  async run(text: string, ...params: Param[]): Promise<number> {
    return (await this.query(text, params)).rowCount ?? 0;
  }

  private async query(text: string, params: Param[]): Promise<pg.QueryResult> {
    try {
      return await this.client.query(PgSql.text(text), params);
    } catch (err) {
      throw orUnavailable(err);
    }
  }
}

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number;
}

/** Connects, runs the migrations under an advisory lock, and starts listening for other instances. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // A connection that breaks must not end the process: idle ones are dropped by the pool (its
  // 'error'), and one checked out by a unit of work at that moment errors on itself, while its
  // query rejects and the unit of work answers `unavailable`.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw unavailable(err);
  }
  const db = new PostgresDatabase(pool, url);
  await db.listen();
  return db;
}

/** Brings the schema up to date; `tn admin migrate` runs only this. */
export async function migrate(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS tn_schema (version INTEGER NOT NULL)');
      const row = (await client.query<{ version: number }>('SELECT version FROM tn_schema')).rows[0];
      const from = row?.version ?? 0;
      if (from > PG_MIGRATIONS.length) {
        throw new TnError('unavailable', `Database schema version ${from} is newer than this tn (${PG_MIGRATIONS.length}): upgrade tn.`);
      }
      for (let v = from; v < PG_MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(PG_MIGRATIONS[v]!);
          if (v === 0 && !row) await client.query('INSERT INTO tn_schema (version) VALUES (1)');
          else await client.query('UPDATE tn_schema SET version = $1', [v + 1]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
      return { from, to: PG_MIGRATIONS.length };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

const unavailable = (err: unknown): Error =>
  err instanceof TnError ? err : new TnError('unavailable', `PostgreSQL cannot be used: ${err instanceof Error ? err.message : String(err)}`);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class PostgresDatabase implements Database {
  readonly read: Repositories;
  /** This instance, so that it does not wake itself on its own NOTIFY. */
  private readonly instance = randomUUID();
  private readonly foreign = new Set<() => void>();
  private counter = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private listener: pg.Client | null = null;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
  ) {
    this.read = repositories(new PgSql(pool));
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect().catch((err: unknown) => Promise.reject(unavailable(err)));
      const after: (() => void)[] = [];
      try {
        await client.query('BEGIN');
        const value = await work({ ...repositories(new PgSql(client)), afterCommit: (fn) => after.push(fn) });
        // Delivered at commit, to every instance listening (this one ignores its own).
        await client.query('SELECT pg_notify($1, $2)', [CHANNEL, this.instance]);
        await client.query('COMMIT');
        client.release();
        for (const fn of after) fn();
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          // Apart a little, at random, so the transactions that collided do not collide again.
          await sleep(Math.random() * 5 * attempt);
          continue;
        }
        throw orUnavailable(err);
      }
    }
  }

  async snapshot<T>(work: (read: Repositories) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const value = await work(repositories(new PgSql(client)));
      await client.query('COMMIT');
      return value;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  changeCounter(): number {
    return this.counter;
  }

  onForeignChange(listener: () => void): () => void {
    this.foreign.add(listener);
    return () => this.foreign.delete(listener);
  }

  /**
   * Another instance committed. Caches see it at once (the counter); waiters are told once per
   * `FOREIGN_COALESCE_MS` however many commits came meanwhile, since each of them reads its rows
   * again: under load every commit of every instance would otherwise wake every waiter.
   */
  private changed(): void {
    this.counter++;
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      for (const fn of [...this.foreign]) fn();
    }, FOREIGN_COALESCE_MS);
    this.wakeTimer.unref();
  }

  /**
   * One connection per instance LISTENs. When it breaks it is made again with backoff, and every
   * waiter is woken once it is back: what changed meanwhile is read from the tables, so no NOTIFY
   * missed during the gap leaves anyone asleep until a timeout.
   */
  async listen(first = true): Promise<void> {
    let delay = LISTEN_RETRY_MS;
    while (!this.closed) {
      const client = new pg.Client({ connectionString: this.url });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
      } catch (err) {
        await client.end().catch(() => undefined);
        // The first connection of a starting instance: a failure is the caller's to see.
        if (first) throw unavailable(err);
        await sleep(delay);
        delay = Math.min(5000, delay * 2);
        continue;
      }
      client.on('notification', (message) => {
        if (message.payload !== this.instance) this.changed();
      });
      client.on('error', () => undefined);
      client.once('end', () => {
        if (this.listener === client) this.listener = null;
        if (!this.closed) void this.listen(false).catch(() => undefined);
      });
      this.listener = client;
      if (!first) this.changed();
      return;
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1').catch((err: unknown) => Promise.reject(orUnavailable(err)));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}
