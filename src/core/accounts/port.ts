import type { OrderStatus } from '../orders/order.js';
import type { Micros } from '../money.js';

/** What the accounts and the ledger need from storage. Every method runs inside the caller's unit of work. */
export interface AccountsRepo {
  insert(account: NewAccount): Promise<void>;
  idByKeyHash(keyHash: string): Promise<string | null>;
  count(): Promise<number>;
  get(accountId: string): Promise<AccountRecord | null>;
  /** Completed orders of the account, kept on the account row: they set its loyalty tier. */
  completedOrders(accountId: string): Promise<number>;
  addCompleted(accountId: string, delta: 1 | -1): Promise<void>;
  /**
   * balance += delta, only if the result stays at or above zero (the conditional debit); the new
   * balance with its `balance.low` state, or null when refused or without the account.
   */
  changeBalance(accountId: string, delta: Micros): Promise<LowBalanceState | null>;
  /** The balance, its `balance.low` threshold and whether the crossing below it was already told. */
  lowBalance(accountId: string): Promise<LowBalanceState | null>;
  setLowBalance(accountId: string, state: { threshold?: Micros; notified: boolean }): Promise<void>;
}

/** A balance, its `balance.low` threshold and whether the crossing below it was already told. */
export interface LowBalanceState {
  balance: Micros;
  threshold: Micros;
  notified: boolean;
}

export interface NewAccount {
  id: string;
  keyHash: string;
  webhookSecret: string;
  createdAt: number;
  sandbox: boolean;
  lowBalanceThreshold: Micros;
  lowBalanceNotified: boolean;
}

export interface AccountRecord {
  id: string;
  balance: Micros;
  createdAt: number;
  sandbox: boolean;
  webhookUrl: string | null;
}

export type LedgerKind = 'deposit' | 'order_debit' | 'refund' | 'adjustment';

export interface LedgerEntry {
  accountId: string;
  kind: LedgerKind;
  /** Signed: a debit is negative. */
  amount: Micros;
  orderId: string | null;
  note: string;
  at: number;
}

export interface LedgerRepo {
  append(entry: LedgerEntry): Promise<void>;
}

/** The embedded broker's one sandbox account: decided once by a unique row, its key kept so every process finds it. */
export interface SandboxRepo {
  get(): Promise<{ apiKey: string; accountId: string } | null>;
  /** False when another process claimed the sandbox first (the row exists). */
  claim(apiKey: string, accountId: string): Promise<boolean>;
}

/** Rows that break an invariant of API.md §1; the audit words them. */
export interface AuditRepo {
  balanceMismatches(): Promise<{ id: string; balance: Micros; total: Micros }[]>;
  completedMismatches(): Promise<{ id: string; kept: number; counted: number }[]>;
  negativeBalances(): Promise<{ id: string; balance: Micros }[]>;
  debitMismatches(): Promise<{ id: string; n: number; amount: Micros | null; price: Micros }[]>;
  refunds(): Promise<{ id: string; status: OrderStatus; refunded: boolean; n: number; amount: Micros | null; price: Micros }[]>;
  crossAccountEntries(): Promise<{ id: number; orderId: string }[]>;
  wrongSigns(): Promise<{ id: number; kind: string; amount: Micros }[]>;
  counts(): Promise<{ accounts: number; orders: number; ledgerEntries: number }>;
}
