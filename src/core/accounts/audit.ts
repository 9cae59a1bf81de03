import type { Database } from '../database.js';
import { isRefundedStatus } from '../orders/order.js';

export interface AuditReport {
  accounts: number;
  orders: number;
  ledgerEntries: number;
  violations: string[];
}

/** Checks every money invariant of API.md §1 across the whole database, in one snapshot. */
export function audit(db: Database): Promise<AuditReport> {
  return db.snapshot(async (read) => {
    const a = read.audit;
    const violations: string[] = [];
    for (const r of await a.balanceMismatches()) violations.push(`account ${r.id}: balance ${r.balance} µUSD but its ledger sums to ${r.total}`);
    for (const r of await a.completedMismatches()) violations.push(`account ${r.id}: ${r.kept} completed orders counted on the account, ${r.counted} in its orders`);
    for (const r of await a.negativeBalances()) violations.push(`account ${r.id}: negative balance ${r.balance} µUSD`);
    for (const r of await a.debitMismatches()) violations.push(`order ${r.id}: ${r.n} debit entries (total ${r.amount ?? 0}) for a price of ${r.price}`);
    for (const r of await a.refunds()) {
      const shouldRefund = isRefundedStatus(r.status);
      if (r.n > 1) violations.push(`order ${r.id}: ${r.n} refunds`);
      if (shouldRefund && (r.n !== 1 || r.amount !== r.price)) violations.push(`order ${r.id}: ${r.status} without a refund of its price`);
      if (!shouldRefund && r.n > 0) violations.push(`order ${r.id}: ${r.status} but refunded`);
      if (r.refunded !== r.n > 0) violations.push(`order ${r.id}: refunded flag ${r.refunded ? 1 : 0} disagrees with the ledger`);
    }
    for (const r of await a.crossAccountEntries()) violations.push(`ledger entry ${r.id}: belongs to another account than order ${r.orderId}`);
    for (const r of await a.wrongSigns()) violations.push(`ledger entry ${r.id}: ${r.kind} of ${r.amount} has the wrong sign`);
    // Issue 16: a credit is never taken back by itself; the operator decides.
    for (const d of await read.deposits.dropped()) {
      violations.push(`deposit ${d.coin} ${d.txid}:${d.vout}: ${d.usd ?? 0} µUSD credited to account ${d.accountId}, no longer confirmed on the chain since ${new Date(d.droppedAt!).toISOString()}`);
    }
    return { ...(await a.counts()), violations };
  });
}
