/**
 * The SQLite engine: one file, a writer connection that group-commits units of work, a reader
 * connection that sees committed data only, and `PRAGMA data_version` to notice other processes.
 */
import BetterSqlite3 from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Database, Repositories, Tx } from '../../core/database.js';
import { TnError } from '../../core/errors.js';
import { MIGRATIONS } from './migrations.js';
import { repositories } from '../repos/index.js';
import { SqliteSql } from './sql.js';

export interface SqliteOptions {
  busyTimeoutMs?: number;
  readonly?: boolean;
}

/** How often a process looks whether another one committed: the bound on a cross-process wake-up. */
const FOREIGN_CHANGE_POLL_MS = 100;

export const newerSchema = (version: number): TnError =>
  new TnError('unavailable', `Database schema version ${version} is newer than this tn (${MIGRATIONS.length}): upgrade tn.`);

/** Opens a connection with the pragmas every tn connection needs; migrates when `migrate`. */
export function connect(file: string, options: SqliteOptions & { migrate: boolean }): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { readonly: options.readonly ?? false });
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    // Refuse a newer schema before changing anything in the file.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) throw newerSchema(version);
    const journal = db.pragma(options.readonly ? 'journal_mode' : 'journal_mode = WAL', { simple: true });
    // In WAL mode, NORMAL: a commit writes the WAL without an fsync of its own (the engine syncs it
    // off the event loop before anything is acknowledged, see `durable`); checkpoints still sync
    // first. A file system that cannot share memory keeps a rollback journal: SQLite syncs each
    // commit itself (FULL).
    db.pragma(journal === 'wal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Savepoints keep their undo pages in a statement journal: in memory, not a temporary file per unit of work.
    db.pragma('temp_store = MEMORY');
    if (options.migrate && !options.readonly) migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function migrate(db: BetterSqlite3.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) throw newerSchema(version);
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

/** Opens (creating if needed) a tn database file and brings its schema up to date. */
export function openSqlite(file: string, options: SqliteOptions = {}): SqliteDatabase {
  if (file !== ':memory:') {
    // The file holds webhook secrets, gateway signing keys and upstream API keys: only its owner
    // may read it. Directories made here are 0700; a new file is 0600, and SQLite gives its -wal
    // and -shm the file's own mode.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    if (!options.readonly && !existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  }
  const writer = connect(file, { ...options, migrate: true });
  // An in-memory database is one connection: the reader is the writer.
  let reader = writer;
  if (file !== ':memory:') {
    try {
      reader = connect(file, { ...options, migrate: false });
    } catch (err) {
      writer.close();
      throw err;
    }
  }
  return new SqliteDatabase(writer, reader);
}

interface Queued {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** A unit of work awaited something outside the database (a timer, the network) while holding the write lock. */
class WorkOutsideDatabase extends Error {}

export class SqliteDatabase implements Database {
  readonly read: Repositories;
  private readonly writes: Repositories;
  private readonly writeSql: SqliteSql;
  private queue: Queued[] = [];
  private flushing = false;
  private readonly foreign = new Set<() => void>();
  private foreignTimer: NodeJS.Timeout | null = null;
  private seenVersion = 0;
  private wal: Promise<FileHandle> | null = null;
  /** Whether commits leave the WAL to this engine to sync (see `connect`); otherwise SQLite syncs them. */
  private readonly syncsWal: boolean;
  private readonly syncing = new Set<Promise<void>>();
  private counter = 0;
  private counterTurn: NodeJS.Immediate | null = null;

  constructor(
    /** The connection that writes; exposed for tests and the admin's raw checks. */
    readonly writer: BetterSqlite3.Database,
    private readonly reader: BetterSqlite3.Database,
  ) {
    this.writeSql = new SqliteSql(writer);
    this.writes = repositories(this.writeSql);
    this.syncsWal = writer.pragma('synchronous', { simple: true }) === 1 && writer.pragma('journal_mode', { simple: true }) === 'wal';
    this.read = reader === writer ? this.writes : repositories(new SqliteSql(reader));
  }

  /**
   * Group commit. Units of work that arrive together (concurrent requests of a server) share one
   * immediate transaction and so one fsync; each runs in its own savepoint, so one that throws (a
   * short balance, say) undoes only itself. Its promise settles after the commit: what was
   * acknowledged is on disk.
   */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1 && !this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const batch = this.queue;
    this.queue = [];
    const sql = this.writeSql;
    const outcomes: ({ ok: true; value: unknown; after: (() => void)[] } | { ok: false; err: unknown })[] = [];
    // Work runs on the database only: if a macrotask runs before the batch ends, one awaited elsewhere.
    let leaked = false;
    const sentinel = setImmediate(() => (leaked = true));
    let failed: unknown;
    try {
      sql.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        const after: (() => void)[] = [];
        const tx: Tx = { ...this.writes, afterCommit: (fn) => after.push(fn) };
        sql.exec('SAVEPOINT work');
        try {
          const value = await item.work(tx);
          if (leaked) throw new WorkOutsideDatabase('A unit of work waited on something outside the database.');
          sql.exec('RELEASE work');
          outcomes.push({ ok: true, value, after });
        } catch (err) {
          // Some errors (a full disk, an I/O error) roll back the whole transaction, not just the
          // savepoint: then nothing of this batch is committed, and nothing more may run in it.
          if (!this.writer.inTransaction) throw err;
          sql.exec('ROLLBACK TO work');
          sql.exec('RELEASE work');
          outcomes.push({ ok: false, err });
        }
      }
      sql.exec('COMMIT');
    } catch (err) {
      failed = err;
      if (this.writer.inTransaction) sql.exec('ROLLBACK');
    } finally {
      clearImmediate(sentinel);
    }
    this.flushing = false;
    if (this.queue.length) setImmediate(() => void this.flush());
    if (failed === undefined && outcomes.some((o) => o.ok)) {
      const synced = this.durable();
      this.syncing.add(synced);
      try {
        await synced;
      } catch (err) {
        // Committed but perhaps not on disk (an I/O error): not acknowledged. A retry with the
        // same idempotency key finds the order if it is there.
        failed = err;
      } finally {
        this.syncing.delete(synced);
      }
    }
    if (failed !== undefined) {
      for (const item of batch) item.reject(failed);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        for (const fn of outcome.after) fn();
        item.resolve(outcome.value);
      } else item.reject(outcome.err);
    });
  }

  /**
   * The commit's WAL frames on disk (fdatasync), on the thread pool: the event loop goes on parsing
   * requests and running the next batch meanwhile, where SQLite's own fsync at COMMIT would block
   * it. Nothing of a batch is acknowledged (no promise settles, no after-commit hook runs) before.
   */
  private async durable(): Promise<void> {
    if (!this.syncsWal) return;
    const file = this.writer.name;
    // Opened once the WAL exists (after the first commit); a failed open is tried again next time.
    this.wal ??= open(`${file}-wal`, 'r+').catch((err: unknown) => {
      this.wal = null;
      throw err;
    });
    await (await this.wal).datasync();
  }

  async snapshot<T>(work: (read: Repositories) => Promise<T>): Promise<T> {
    // A deferred transaction on the reader holds one snapshot for every query of the work.
    const own = !this.reader.inTransaction;
    if (own) this.reader.exec('BEGIN');
    try {
      return await work(this.read);
    } finally {
      if (own && this.reader.inTransaction) this.reader.exec('COMMIT');
    }
  }

  changeCounter(): number {
    // The writer's data_version moves on commits of every other connection (other processes), not
    // its own. Read once per turn of the event loop: caches ask on every order, and a commit of
    // another process landing within the same turn is no different from one landing just after it.
    // The immediate that ends the turn is not unref'd: unref'd, an idle loop would wait in poll and
    // serve the next request on a value read before it.
    if (this.counterTurn === null) {
      this.counter = this.writeSql.statement('PRAGMA data_version').pluck().get() as number;
      this.counterTurn = setImmediate(() => (this.counterTurn = null));
    }
    return this.counter;
  }

  onForeignChange(listener: () => void): () => void {
    this.foreign.add(listener);
    if (!this.foreignTimer) {
      this.seenVersion = this.changeCounter();
      this.foreignTimer = setInterval(() => {
        if (!this.writer.open) return;
        const version = this.changeCounter();
        if (version === this.seenVersion) return;
        this.seenVersion = version;
        for (const fn of [...this.foreign]) fn();
      }, FOREIGN_CHANGE_POLL_MS);
      this.foreignTimer.unref();
    }
    return () => {
      this.foreign.delete(listener);
      if (this.foreign.size === 0 && this.foreignTimer) {
        clearInterval(this.foreignTimer);
        this.foreignTimer = null;
      }
    };
  }

  async ping(): Promise<void> {
    this.reader.prepare('SELECT count(*) FROM accounts').get();
  }

  async close(): Promise<void> {
    if (this.foreignTimer) clearInterval(this.foreignTimer);
    this.foreignTimer = null;
    // Let queued work finish first: what was asked before close is kept.
    while (this.queue.length || this.flushing || this.syncing.size) {
      await Promise.allSettled([...this.syncing]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const wal = this.wal;
    this.wal = null;
    await wal?.then((handle) => handle.close()).catch(() => undefined);
    if (this.reader !== this.writer && this.reader.open) this.reader.close();
    if (this.writer.open) this.writer.close();
  }
}
