/**
 * Crypto deposits (issue 16): an address per account and coin, derived from the operator's
 * account key; a watcher of the chain index that is due work in the database like the rest
 * (addresses carry their next check, a lease makes one process check each, a per-coin pause
 * shared by every process honours the index's 429 and backs off on errors); and the credit of
 * each paid output once (`coin, txid, vout` is unique), after the configured confirmations, at
 * the configured rate, through `Ledger.move` in the unit of work that settles the output.
 */
import type { Ledger } from '../accounts/ledger.js';
import type { DepositList, DepositView } from '../broker.js';
import type { CoreContext } from '../context.js';
import type { Tx } from '../database.js';
import { TnError, invalid } from '../errors.js';
import type { Outbox } from '../events/outbox.js';
import { MICROS_PER_USD, toUsd, type Micros } from '../money.js';
import type { AddressBook } from './addresses.js';
import { COINS, ChainBusy, type ChainIndex, type ChainTx, type Coin, type DepositRecord, type DueAddress, type UsdRates } from './port.js';

export type { DepositList, DepositView } from '../broker.js';

export interface CoinSettings {
  /** The account-level extended public key (zpub/xpub, vpub/tpub; Ltub for Litecoin). */
  xpub: string;
  confirmations: number;
  chain: ChainIndex;
}

export interface DepositSettings {
  coins: Partial<Record<Coin, CoinSettings>>;
  rates: UsdRates;
  /** Outputs worth less than this are recorded, not credited. */
  minimum: Micros;
  /** How often an address that is waited for is looked at (default 30 s). */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 30_000;
/** Addresses with recent activity (and no one waiting) are looked at this often. */
const SLOW_POLL_MS = 10 * 60_000;
/** Asking for the address (or to check) makes it waited for, at the fast pace, this long. */
const WATCH_MS = 3600_000;
/** A new address, or one that saw a payment, stays watched at the slow pace this long. */
const ACTIVE_MS = 7 * 86_400_000;
/**
 * A check holds its address this long (a tip and an address page, each bounded by the client's
 * timeout); one that dies with its process leaves the address due again after it.
 */
const LEASE_MS = 20_000;
/** Back-off after errors of the chain index: the poll interval doubled per failure, up to this. */
const MAX_BACKOFF_MS = 30 * 60_000;
/** Addresses checked per pass and coin: the index sees one request at a time from us. */
const PASS_SIZE = 20;
/** The longest a running watcher sleeps (it also picks up addresses other processes made due). */
const MAX_SLEEP_MS = 5_000;
const SATS_PER_COIN = 100_000_000n;
const LIST_LIMIT = 200;

interface Configured extends CoinSettings {
  book: AddressBook;
}

export class Deposits {
  private readonly coins = new Map<Coin, Configured>();
  private readonly pollMs: number;
  private readonly manualMs: number;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly ledger: Ledger,
    private readonly outbox: Outbox,
    private readonly settings: DepositSettings | null,
  ) {
    this.pollMs = settings?.pollMs ?? DEFAULT_POLL_MS;
    // A customer's own "check now" is allowed this often per address, so it cannot hammer the index either.
    this.manualMs = Math.min(this.pollMs, 5_000);
  }

  get enabled(): boolean {
    return Object.keys(this.settings?.coins ?? {}).length > 0;
  }

  /**
   * The account keys parsed and checked (a wrong network's key refused), the derivation library
   * loaded only here: a broker without deposits never pays for it. `tn serve` calls it at start.
   */
  ready(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    this.loaded ??= (async () => {
      const { AddressBook } = await import('./addresses.js');
      for (const coin of COINS) {
        const c = this.settings?.coins[coin];
        if (!c) continue;
        if (!Number.isInteger(c.confirmations) || c.confirmations < 1 || c.confirmations > 1000) throw invalid(`deposits.${coin}.confirmations must be a whole number from 1 to 1000.`);
        this.coins.set(coin, { ...c, book: new AddressBook(coin, c.xpub) });
      }
    })();
    return this.loaded;
  }

  private async require(): Promise<void> {
    if (!this.enabled) throw invalid('This broker takes no crypto deposits: its operator has configured none (ask them for credit).');
    await this.ready();
  }

  /** The account's addresses, one per configured coin, made in the caller's unit of work when missing. */
  async allocate(tx: Tx, accountId: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (!this.enabled) return out;
    // Loading is I/O, which a unit of work must not wait on: callers call ready() before theirs.
    if (this.coins.size === 0) throw new Error('Deposits.allocate before ready()');
    const now = this.ctx.now();
    for (const [coin, c] of this.coins) {
      let existing = await tx.deposits.address(accountId, coin);
      if (!existing) {
        const index = await tx.deposits.takeIndex(coin);
        const address = { accountId, coin, index, address: c.book.address(index), createdAt: now };
        // A new address is watched (a customer may pay what `register` showed without asking again).
        if (await tx.deposits.insertAddress(address, now + this.pollMs, now + WATCH_MS, now + ACTIVE_MS)) existing = address;
        else existing = await tx.deposits.address(accountId, coin);
      }
      if (existing) out[coin] = existing.address;
    }
    return out;
  }

  /** The account's addresses for `register` and `account`: read, and made only when missing. */
  async addresses(accountId: string): Promise<Record<string, string>> {
    if (!this.enabled) return {};
    await this.ready();
    const rows = await this.ctx.db.read.deposits.addresses(accountId);
    if (rows.filter((r) => this.coins.has(r.coin)).length === this.coins.size) {
      return Object.fromEntries(rows.filter((r) => this.coins.has(r.coin)).map((r) => [r.coin, r.address]));
    }
    return this.ctx.db.transaction((tx) => this.allocate(tx, accountId));
  }

  /** `GET /deposits`: the account is waiting for a payment, so its addresses are watched closely for a while. */
  async list(accountId: string): Promise<DepositList> {
    await this.require();
    const now = this.ctx.now();
    await this.ctx.db.transaction(async (tx) => {
      await this.allocate(tx, accountId);
      for (const coin of this.coins.keys()) await tx.deposits.watch(accountId, coin, now + this.manualMs, now + WATCH_MS, now + ACTIVE_MS);
    });
    return this.view(accountId);
  }

  /** `POST /deposits/check`: the account's addresses looked at now (unless one was a moment ago, or the index asked us to wait). */
  async check(accountId: string): Promise<DepositList> {
    await this.require();
    await this.list(accountId);
    for (const [coin, c] of this.coins) {
      const now = this.ctx.now();
      if ((await this.ctx.db.read.deposits.pause(coin)).pausedUntil > now) continue;
      const claimed = await this.ctx.db.transaction((tx) => tx.deposits.claimOne(accountId, coin, now, now - this.manualMs, now + LEASE_MS));
      // The account gets what is known; the operator hears of the chain index's failure.
      if (claimed) await this.checkAll(coin, c, [claimed]).catch((err: unknown) => this.alert(coin, err));
    }
    return this.view(accountId);
  }

  private alert(coin: Coin, err: unknown): void {
    const busy = err instanceof ChainBusy;
    this.ctx.bus.emit('alert', {
      source: `deposits.${coin}`,
      code: busy ? 'rate_limited' : 'unavailable',
      message: `Deposit watcher (${coin}): ${err instanceof Error ? err.message : String(err)}`,
    });
  }

  private async view(accountId: string): Promise<DepositList> {
    const read = this.ctx.db.read.deposits;
    const addresses = Object.fromEntries((await read.addresses(accountId)).filter((a) => this.coins.has(a.coin)).map((a) => [a.coin, a.address]));
    return {
      addresses,
      minimum_usd: toUsd(this.settings!.minimum),
      confirmations: Object.fromEntries([...this.coins].map(([coin, c]) => [coin, c.confirmations])),
      deposits: (await read.list(accountId, LIST_LIMIT)).map((d) => this.toView(d)),
    };
  }

  private toView(d: DepositRecord): DepositView {
    return {
      coin: d.coin,
      address: d.address,
      txid: d.txid,
      vout: d.vout,
      amount: formatCoin(d.sats),
      amount_sats: d.sats,
      confirmations: d.confirmations,
      confirmations_required: this.coins.get(d.coin)?.confirmations ?? 0,
      status: d.status,
      usd: d.usd === null ? null : toUsd(d.usd),
      seen_at: new Date(d.seenAt).toISOString(),
      credited_at: d.status === 'credited' && d.settledAt !== null ? new Date(d.settledAt).toISOString() : null,
    };
  }

  /** One pass of the watcher: the due addresses of each coin, claimed, looked at, recorded. */
  async processDue(): Promise<void> {
    if (!this.enabled) return;
    await this.ready();
    for (const [coin, c] of this.coins) {
      const now = this.ctx.now();
      if ((await this.ctx.db.read.deposits.pause(coin)).pausedUntil > now) continue;
      // One address claimed at a time, so each lease covers one check; a coin whose index fails is paused (in checkAll).
      for (let i = 0; i < PASS_SIZE; i++) {
        const at = this.ctx.now();
        const due = await this.ctx.db.transaction((tx) => tx.deposits.claimDue(coin, at, 1, at + LEASE_MS));
        if (!due.length) break;
        if (!(await this.checkAll(coin, c, due).then(() => true, (err: unknown) => (this.alert(coin, err), false)))) break;
      }
    }
  }

  /** When the watcher has something to do next: the earliest due address or the end of a pause. */
  async nextDueAt(): Promise<number | null> {
    await this.ready();
    let next: number | null = null;
    for (const coin of this.coins.keys()) {
      const due = await this.ctx.db.read.deposits.nextDueAt(coin);
      if (due === null) continue;
      const at = Math.max(due, (await this.ctx.db.read.deposits.pause(coin)).pausedUntil);
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  /** For `tn serve`: the watcher until `signal` aborts. */
  async run(signal: AbortSignal, options: { onError?: (err: unknown) => void; maxSleepMs?: number } = {}): Promise<void> {
    if (!this.enabled) return;
    const maxSleep = options.maxSleepMs ?? MAX_SLEEP_MS;
    while (!signal.aborted) {
      let next: number | null = null;
      try {
        await this.processDue();
        next = await this.nextDueAt();
      } catch (err) {
        options.onError?.(err);
      }
      const ms = next === null ? maxSleep : Math.min(maxSleep, Math.max(50, next - this.ctx.now()));
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Looks at claimed addresses one after the other; the first failure pauses the coin for every process. */
  private async checkAll(coin: Coin, c: Configured, due: DueAddress[]): Promise<void> {
    try {
      const [tip, rate] = await Promise.all([c.chain.tipHeight(), this.settings!.rates.usdPerCoin(coin)]);
      const rateMicros = Math.round(rate * MICROS_PER_USD);
      if (!Number.isSafeInteger(rateMicros) || rateMicros <= 0) throw new TnError('unavailable', `No usable USD rate for ${coin}.`);
      for (const address of due) {
        const { txs, complete } = await c.chain.addressTxs(address.address);
        await this.record(coin, c, address, txs, complete, tip, rateMicros);
      }
      const pause = await this.ctx.db.read.deposits.pause(coin);
      if (pause.failures > 0) await this.ctx.db.transaction((tx) => tx.deposits.setPause(coin, 0, 0));
    } catch (err) {
      // The coin waits (every process sees the pause); the addresses not done fall due when it ends.
      const now = this.ctx.now();
      const pause = await this.ctx.db.read.deposits.pause(coin);
      const failures = pause.failures + 1;
      const backoff = Math.min(MAX_BACKOFF_MS, this.pollMs * 2 ** Math.min(failures - 1, 16));
      const wait = err instanceof ChainBusy ? Math.max(err.retryAfterMs ?? 0, backoff) : backoff;
      await this.ctx.db.transaction(async (tx) => {
        await tx.deposits.setPause(coin, now + wait, failures);
        for (const d of due) await tx.deposits.release(coin, d.index, d.leaseUntil, now + wait);
      });
      throw err;
    }
  }

  /** What one look at an address found, in one unit of work: new outputs, confirmations, credits. */
  private async record(coin: Coin, c: Configured, address: DueAddress, txs: ChainTx[], complete: boolean, tip: number, rateMicros: Micros): Promise<void> {
    const now = this.ctx.now();
    await this.ctx.db.transaction(async (tx) => {
      let waiting = false;
      let activity = false;
      for (const t of txs) {
        for (const [vout, out] of t.outputs.entries()) {
          if (out.address !== address.address || !Number.isSafeInteger(out.sats) || out.sats <= 0) continue;
          const confirmations = t.blockHeight === null ? 0 : Math.max(0, tip - t.blockHeight + 1);
          let d = await tx.deposits.deposit(coin, t.txid, vout);
          if (!d) {
            activity = true;
            const fresh = { accountId: address.accountId, coin, address: address.address, txid: t.txid, vout, sats: out.sats, confirmations, status: 'pending' as const, usd: null, rate: null, seenAt: now, settledAt: null };
            if ((await tx.deposits.insertDeposit(fresh)) && confirmations < c.confirmations) {
              await this.outbox.emit(tx, address.accountId, 'deposit.pending', this.toView({ ...fresh, id: 0, droppedAt: null }), now);
            }
            d = await tx.deposits.deposit(coin, t.txid, vout);
            if (!d) continue;
          }
          if (d.status !== 'pending') continue;
          if (confirmations < c.confirmations) {
            waiting = true;
            activity = true;
            if (confirmations !== d.confirmations) await tx.deposits.setConfirmations(d.id, confirmations);
            continue;
          }
          await this.settle(tx, d, confirmations, rateMicros, now);
        }
      }
      // A credit stays (API rule: never taken back by itself); one the chain stopped confirming is marked for the audit.
      const confirmedTxids = new Set(txs.filter((t) => t.blockHeight !== null).map((t) => t.txid));
      const seenTxids = new Set(txs.map((t) => t.txid));
      for (const d of await tx.deposits.credited(coin, address.address)) {
        const gone = confirmedTxids.has(d.txid) ? false : seenTxids.has(d.txid) || complete ? true : null;
        if (gone === null) continue;
        if (gone && d.droppedAt === null) await tx.deposits.setDropped(d.id, now);
        else if (!gone && d.droppedAt !== null) await tx.deposits.setDropped(d.id, null);
      }
      const activeUntil = activity ? Math.max(address.activeUntil, now + ACTIVE_MS) : address.activeUntil;
      const next = waiting || now < address.watchUntil ? now + this.pollMs : now < activeUntil ? now + SLOW_POLL_MS : null;
      await tx.deposits.finishCheck(coin, address.index, address.leaseUntil, now, next, now + this.pollMs, activeUntil);
    });
  }

  /** A confirmed output: credited once at the rate (rounded down to the micro-dollar), or recorded below the minimum. */
  private async settle(tx: Tx, d: DepositRecord, confirmations: number, rateMicros: Micros, now: number): Promise<void> {
    const usd = Number((BigInt(d.sats) * BigInt(rateMicros)) / SATS_PER_COIN);
    const credit = usd > 0 && usd >= this.settings!.minimum;
    if (!(await tx.deposits.settle(d.id, credit ? 'credited' : 'below_minimum', usd, rateMicros, now, confirmations))) return;
    if (!credit) return;
    const note = `${d.coin} deposit ${d.txid}:${d.vout}`;
    if (!(await this.ledger.move(tx, { accountId: d.accountId, kind: 'deposit', amount: usd, orderId: null, note, at: now }))) {
      throw new Error(`account ${d.accountId} of deposit ${d.txid}:${d.vout} is gone`);
    }
    const settled = { ...d, status: 'credited' as const, usd, rate: rateMicros, confirmations, settledAt: now };
    await this.outbox.emit(tx, d.accountId, 'deposit.credited', { ...this.toView(settled), balance: toUsd((await tx.accounts.get(d.accountId))!.balance) }, now);
  }
}

/** Satoshis as whole coins, exactly: `123456` → `0.00123456`. */
export function formatCoin(sats: number): string {
  const s = String(sats).padStart(9, '0');
  return `${s.slice(0, -8)}.${s.slice(-8)}`;
}

/** The rates of the settings: fixed numbers, behind the interface a rate source will share. */
export class FixedRates implements UsdRates {
  constructor(private readonly rates: Partial<Record<Coin, number>>) {}

  usdPerCoin(coin: Coin): Promise<number> {
    const rate = this.rates[coin];
    return rate === undefined ? Promise.reject(new TnError('unavailable', `No USD rate for ${coin} in the settings.`)) : Promise.resolve(rate);
  }
}
