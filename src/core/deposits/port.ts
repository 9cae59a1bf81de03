import type { Micros } from '../money.js';

/** The coins an operator may take deposits in. */
export const COINS = ['btc', 'ltc'] as const;
export type Coin = (typeof COINS)[number];

/** One account's address on one coin: receive chain `0/index` of the operator's account key. */
export interface DepositAddress {
  accountId: string;
  coin: Coin;
  index: number;
  address: string;
  createdAt: number;
}

export type DepositStatus = 'pending' | 'credited' | 'below_minimum';

/** One output paid to an account's address (`txid:vout`), as last seen. */
export interface DepositRecord {
  id: number;
  accountId: string;
  coin: Coin;
  address: string;
  txid: string;
  vout: number;
  /** In the coin's smallest unit (satoshis, litoshis). */
  sats: number;
  confirmations: number;
  status: DepositStatus;
  /** What it was worth at the rate of its credit (or of its refusal below the minimum); null while pending. */
  usd: Micros | null;
  /** Micro-USD per whole coin, at that time. */
  rate: Micros | null;
  seenAt: number;
  settledAt: number | null;
  /** When the chain stopped showing a credited output confirmed; null while it does. */
  droppedAt: number | null;
}

/** An address whose turn to be looked at has come, claimed until `leaseUntil`. */
export interface DueAddress extends DepositAddress {
  leaseUntil: number;
  /** Whether its account asked recently, so it is watched at the fast pace. */
  watchUntil: number;
  activeUntil: number;
}

/** What the deposits need from storage. Every method runs inside the caller's unit of work. */
export interface DepositsRepo {
  address(accountId: string, coin: Coin): Promise<DepositAddress | null>;
  addresses(accountId: string): Promise<DepositAddress[]>;
  /** The coin's next index; the counter row serialises concurrent takers, so no index goes to two accounts. */
  takeIndex(coin: Coin): Promise<number>;
  /** False when the account already has an address on that coin (the unique key). */
  insertAddress(address: DepositAddress, dueAt: number, watchUntil: number, activeUntil: number): Promise<boolean>;
  /** Moves the address's watch window forward (never back) and makes it due by `dueAt` at the latest. */
  watch(accountId: string, coin: Coin, dueAt: number, watchUntil: number, activeUntil: number): Promise<void>;
  /** Up to `limit` due addresses of the coin, each leased until `leaseUntil` so no other process checks it meanwhile. */
  claimDue(coin: Coin, now: number, limit: number, leaseUntil: number): Promise<DueAddress[]>;
  /** This one address, leased, unless another process holds it or it was checked after `notCheckedSince`. */
  claimOne(accountId: string, coin: Coin, now: number, notCheckedSince: number, leaseUntil: number): Promise<DueAddress | null>;
  /**
   * The end of a check, only while the lease is still ours: when to look again (null: not
   * watched), or `fastAt` if someone started waiting for the address during the check.
   */
  finishCheck(coin: Coin, index: number, leaseUntil: number, checkedAt: number, nextAt: number | null, fastAt: number, activeUntil: number): Promise<void>;
  /** A claimed address left unchecked (the index failed): due again at `dueAt`, while the lease is still ours. */
  release(coin: Coin, index: number, leaseUntil: number, dueAt: number): Promise<void>;
  nextDueAt(coin: Coin): Promise<number | null>;
  /** The watcher of a coin as every process sees it: paused after errors or a 429, and its failures in a row. */
  pause(coin: Coin): Promise<{ pausedUntil: number; failures: number }>;
  setPause(coin: Coin, pausedUntil: number, failures: number): Promise<void>;
  /** False (nothing written) when this output was recorded before: the unique `coin, txid, vout`. */
  insertDeposit(d: Omit<DepositRecord, 'id' | 'droppedAt'>): Promise<boolean>;
  deposit(coin: Coin, txid: string, vout: number): Promise<DepositRecord | null>;
  setConfirmations(id: number, confirmations: number): Promise<void>;
  /** pending → credited or below_minimum, once: false when it had already left pending. */
  settle(id: number, status: 'credited' | 'below_minimum', usd: Micros, rate: Micros, at: number, confirmations: number): Promise<boolean>;
  list(accountId: string, limit: number): Promise<DepositRecord[]>;
  /** The address's credited outputs. */
  credited(coin: Coin, address: string): Promise<DepositRecord[]>;
  /** Marks a credited output as no longer confirmed on the chain (`at`), or as back (null). */
  setDropped(id: number, at: number | null): Promise<void>;
  /** Credited outputs the chain no longer shows confirmed: for the audit, never taken back automatically. */
  dropped(): Promise<DepositRecord[]>;
}

/** One output of a transaction as the chain index shows it. */
export interface ChainOutput {
  address: string | null;
  sats: number;
}

export interface ChainTx {
  txid: string;
  outputs: ChainOutput[];
  /** Null while in the mempool. */
  blockHeight: number | null;
}

/**
 * An Esplora-compatible chain index (what Blockstream's and mempool.space's servers share). A
 * provider implements it; the core never speaks HTTP.
 */
export interface ChainIndex {
  tipHeight(): Promise<number>;
  /**
   * The address's transactions: those in the mempool and the confirmed ones, newest first;
   * `complete` when that is its whole history (not cut at a page limit).
   */
  addressTxs(address: string): Promise<{ txs: ChainTx[]; complete: boolean }>;
}

/** A refusal of the chain index to serve us for now (its 429), with how long it asked us to wait. */
export class ChainBusy extends Error {
  constructor(readonly retryAfterMs: number | null) {
    super('The chain index asked us to slow down.');
    this.name = 'ChainBusy';
  }
}

/** USD per whole coin. One method, so a rate source that fetches (later) fits behind it. */
export interface UsdRates {
  usdPerCoin(coin: Coin): Promise<number>;
}
