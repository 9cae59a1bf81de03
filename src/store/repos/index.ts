import type { Repositories } from '../../core/database.js';
import { accountsRepo, auditRepo, ledgerRepo, pricesRepo, sandboxRepo } from './accounts.js';
import { depositsRepo } from './deposits.js';
import { eventsRepo, webhooksRepo } from './events.js';
import { idempotencyRepo, ordersRepo } from './orders.js';
import { activationsRepo, bucketsRepo, cacheRepo, inboxRepo, poolRepo, sourcesRepo } from './sources.js';
import type { Sql } from '../sql.js';

/** Every repository, bound to one connection. */
export function repositories(sql: Sql): Repositories {
  const orders = ordersRepo(sql);
  return {
    accounts: accountsRepo(sql),
    ledger: ledgerRepo(sql),
    sandbox: sandboxRepo(sql),
    audit: auditRepo(sql),
    prices: pricesRepo(sql),
    orders,
    idempotency: idempotencyRepo(sql),
    events: eventsRepo(sql),
    webhooks: webhooksRepo(sql),
    sources: sourcesRepo(sql),
    pool: poolRepo(sql),
    inbox: inboxRepo(sql),
    activations: activationsRepo(sql),
    buckets: bucketsRepo(sql),
    cache: cacheRepo(sql),
    deposits: depositsRepo(sql),
  };
}
