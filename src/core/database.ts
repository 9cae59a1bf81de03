/**
 * The one port between the core and a store engine (SQLite now, PostgreSQL next). Each domain
 * module declares the repository it needs in its own `port.ts`; this file only gathers them.
 *
 * A change is a unit of work: `transaction(work)` runs `work` against repositories bound to one
 * transaction and commits when it resolves (rolls back when it throws). The engine may run it
 * again after a serialization failure, so a unit of work does nothing but read and write through
 * `tx` (no network, no timers); what must happen after the commit goes to `tx.afterCommit`.
 * Outside a unit of work, `read` sees committed data only.
 */
import type { AccountsRepo, AuditRepo, LedgerRepo, SandboxRepo } from './accounts/port.js';
import type { PricesRepo } from './catalogue/port.js';
import type { DepositsRepo } from './deposits/port.js';
import type { EventsRepo } from './events/port.js';
import type { IdempotencyRepo, OrdersRepo } from './orders/port.js';
import type { ActivationsRepo, BucketsRepo, CacheRepo, InboxRepo, PoolRepo, SourcesRepo } from './sources/port.js';
import type { WebhooksRepo } from './webhooks/port.js';

export interface Repositories {
  accounts: AccountsRepo;
  ledger: LedgerRepo;
  sandbox: SandboxRepo;
  audit: AuditRepo;
  prices: PricesRepo;
  orders: OrdersRepo;
  idempotency: IdempotencyRepo;
  events: EventsRepo;
  webhooks: WebhooksRepo;
  sources: SourcesRepo;
  pool: PoolRepo;
  inbox: InboxRepo;
  activations: ActivationsRepo;
  buckets: BucketsRepo;
  cache: CacheRepo;
  deposits: DepositsRepo;
}

export interface Tx extends Repositories {
  /** Runs after the commit (never after a rollback): publishing what changed. */
  afterCommit(fn: () => void): void;
}

export interface Database {
  readonly read: Repositories;
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Reads the audit's rows in one consistent snapshot. */
  snapshot<T>(work: (read: Repositories) => Promise<T>): Promise<T>;
  /** Moves on whenever anything commits, in this process or another: a cheap way to notice others' work. */
  changeCounter(): number;
  /** Calls `listener` (soon, not at once) after commits of other processes; returns the unsubscribe. */
  onForeignChange(listener: () => void): () => void;
  /** A cheap read that fails when the database cannot be read. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
