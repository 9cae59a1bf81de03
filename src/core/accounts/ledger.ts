import type { CoreContext } from '../context.js';
import type { Tx } from '../database.js';
import type { Outbox } from '../events/outbox.js';
import { toUsd } from '../money.js';
import type { LedgerEntry, LowBalanceState } from './port.js';

/**
 * Every change of a balance: the conditional change of the cached balance, its ledger entry and
 * the `balance.low` rule, always together, in the caller's unit of work (API.md §1). The entry is
 * told on the bus once committed.
 */
export class Ledger {
  constructor(
    private readonly ctx: CoreContext,
    private readonly outbox: Outbox,
  ) {}

  /** False (and nothing written) when the entry would take the balance below zero or the account is unknown. */
  async move(tx: Tx, entry: LedgerEntry): Promise<boolean> {
    const state = await tx.accounts.changeBalance(entry.accountId, entry.amount);
    if (!state) return false;
    await tx.ledger.append(entry);
    tx.afterCommit(() => this.ctx.bus.emit('ledger', entry));
    await this.checkLowBalance(tx, entry.accountId, state, entry.at);
    return true;
  }

  /** `balance.low` once per crossing below the account's threshold; climbing back to it re-arms the event. */
  async checkLowBalance(tx: Tx, accountId: string, state: LowBalanceState, at: number): Promise<void> {
    if (state.balance < state.threshold && !state.notified) {
      await tx.accounts.setLowBalance(accountId, { notified: true });
      await this.outbox.emit(tx, accountId, 'balance.low', { balance: toUsd(state.balance), threshold: toUsd(state.threshold) }, at);
    } else if (state.balance >= state.threshold && state.notified) {
      await tx.accounts.setLowBalance(accountId, { notified: false });
    }
  }
}
