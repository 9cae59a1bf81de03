import type { AccountInfo, DeliveryGuardState, Registration, Usage } from '../broker.js';
import type { CoreContext } from '../context.js';
import type { Tx } from '../database.js';
import type { Deposits } from '../deposits/deposits.js';
import { TnError, invalid, notFound } from '../errors.js';
import { accountId as newAccountId, hashApiKey, newApiKey, newWebhookSecret } from '../ids.js';
import { USAGE_DAYS } from '../limits.js';
import { LOW_BALANCE_THRESHOLD, cents, toUsd, type Micros } from '../money.js';
import { toOrderView, type OrderStatus } from '../orders/order.js';
import type { Ledger } from './ledger.js';
import type { AccountRecord } from './port.js';
import { nextTier, tierFor } from './tiers.js';
import { summariseUsage } from './usage.js';

/** The local sandbox account starts with $10.00 (API.md §7). */
export const SANDBOX_CREDIT = cents(1000);

/** How many API keys' accounts a process remembers; keys never change owner, so a hit stays true. */
const KEY_CACHE_SIZE = 10_000;

const DAY_MS = 86_400_000;
export const startOfUtcDay = (ms: number): number => ms - (ms % DAY_MS);

class SandboxTaken extends Error {}

/** Accounts and their keys, money in and the account's own view of itself. */
export class Accounts {
  private readonly keyCache = new Map<string, string>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly ledger: Ledger,
    private readonly deposits: Deposits,
  ) {}

  async authenticate(apiKey: unknown): Promise<string> {
    if (typeof apiKey !== 'string' || apiKey === '') {
      throw new TnError('unauthorized', 'No API key: pass one with `Authorization: Bearer <key>` (or run `tn login`).');
    }
    const hash = hashApiKey(apiKey);
    const cached = this.keyCache.get(hash);
    if (cached) return cached;
    const id = await this.ctx.db.read.accounts.idByKeyHash(hash);
    if (!id) throw new TnError('unauthorized', 'Invalid API key.');
    if (this.keyCache.size >= KEY_CACHE_SIZE) this.keyCache.clear();
    this.keyCache.set(hash, id);
    return id;
  }

  /** The account of a key already seen by this process, without a query; undefined otherwise. */
  knownKey(apiKey: unknown): string | undefined {
    return typeof apiKey === 'string' && apiKey !== '' ? this.keyCache.get(hashApiKey(apiKey)) : undefined;
  }

  async register(options: { credit?: Micros; sandbox?: boolean; note?: string } = {}): Promise<Registration> {
    const apiKey = newApiKey();
    await this.deposits.ready();
    const { accountId, webhookSecret, addresses } = await this.ctx.db.transaction(async (tx) => {
      const created = await this.create(tx, apiKey, options);
      // The account's deposit addresses exist from its first answer on, in its own unit of work.
      return { ...created, addresses: await this.deposits.allocate(tx, created.accountId) };
    });
    return this.registration(apiKey, accountId, webhookSecret, options.credit ?? 0, addresses);
  }

  private async create(tx: Tx, apiKey: string, options: { credit?: Micros; sandbox?: boolean; note?: string }) {
    const now = this.ctx.now();
    const credit = options.credit ?? 0;
    const accountId = newAccountId(now);
    const webhookSecret = newWebhookSecret();
    await tx.accounts.insert({
      id: accountId,
      keyHash: hashApiKey(apiKey),
      webhookSecret,
      createdAt: now,
      sandbox: options.sandbox ?? false,
      lowBalanceThreshold: LOW_BALANCE_THRESHOLD,
      // An account that starts below the threshold has not crossed it: no balance.low for it.
      lowBalanceNotified: credit < LOW_BALANCE_THRESHOLD,
    });
    if (credit > 0) await this.ledger.move(tx, { accountId, kind: 'deposit', amount: credit, orderId: null, note: options.note ?? 'initial credit', at: now });
    return { accountId, webhookSecret };
  }

  private registration(apiKey: string, accountId: string, webhookSecret: string, credit: Micros, addresses: Record<string, string>): Registration {
    return {
      api_key: apiKey,
      account_id: accountId,
      balance: toUsd(credit),
      tier: tierFor(0).name,
      deposit_addresses: addresses,
      webhook_secret: webhookSecret,
    };
  }

  /**
   * The key of the embedded broker's sandbox account: the stored one while the database knows it;
   * else the sandbox the database already has (another process may have just made it); else a new
   * one with the sandbox credit, made once, by whichever process claims the sandbox row first. A
   * stored key that a database with accounts does not know is an error, never replaced silently.
   */
  async sandboxKey(storedKey: string | undefined): Promise<{ apiKey: string; created: boolean }> {
    if (storedKey) {
      try {
        await this.authenticate(storedKey);
        return { apiKey: storedKey, created: false };
      } catch (err) {
        if (!(err instanceof TnError && err.code === 'unauthorized')) throw err;
        if ((await this.ctx.db.read.accounts.count()) > 0) {
          throw new TnError(
            'unauthorized',
            'The API key in the config file is not an account of the local broker: `tn register` creates a new sandbox account, `tn config unset api_key` forgets the key.',
          );
        }
      }
    }
    const existing = await this.ctx.db.read.sandbox.get();
    if (existing) return { apiKey: existing.apiKey, created: false };
    const apiKey = newApiKey();
    try {
      await this.ctx.db.transaction(async (tx) => {
        if (await tx.sandbox.get()) throw new SandboxTaken();
        const { accountId } = await this.create(tx, apiKey, { credit: SANDBOX_CREDIT, sandbox: true, note: 'local sandbox credit' });
        if (!(await tx.sandbox.claim(apiKey, accountId))) throw new SandboxTaken();
      });
      return { apiKey, created: true };
    } catch (err) {
      if (!(err instanceof SandboxTaken)) throw err;
      const winner = await this.ctx.db.read.sandbox.get();
      if (!winner) throw new TnError('unavailable', 'The sandbox account could not be read back.');
      return { apiKey: winner.apiKey, created: false };
    }
  }

  /** Adds money by account id or API key (the operator's `tn admin credit`). */
  async credit(accountOrKey: string, amount: Micros, note = 'operator credit'): Promise<{ account_id: string; balance: number }> {
    if (!Number.isSafeInteger(amount) || amount <= 0) throw invalid('The amount must be a positive number of USD.');
    const read = this.ctx.db.read.accounts;
    const id = accountOrKey.startsWith('vn_') ? await read.idByKeyHash(hashApiKey(accountOrKey)) : (await read.get(accountOrKey))?.id;
    if (!id) throw notFound(`Account ${accountOrKey.startsWith('vn_') ? 'for that API key' : accountOrKey}`);
    const balance = await this.ctx.db.transaction(async (tx) => {
      if (!(await this.ledger.move(tx, { accountId: id, kind: 'deposit', amount, orderId: null, note, at: this.ctx.now() }))) throw notFound(`Account ${id}`);
      return (await tx.accounts.get(id))!.balance;
    });
    return { account_id: id, balance: toUsd(balance) };
  }

  async require(accountId: string): Promise<AccountRecord> {
    const account = await this.ctx.db.read.accounts.get(accountId);
    if (!account) throw new TnError('unauthorized', 'Unknown account.');
    return account;
  }

  async discountPercent(accountId: string): Promise<number> {
    return tierFor(await this.ctx.db.read.accounts.completedOrders(accountId)).discountPercent;
  }

  async info(accountId: string, deliveryGuards: DeliveryGuardState[]): Promise<AccountInfo> {
    const account = await this.require(accountId);
    const facts = await this.ctx.db.read.orders.facts({ since: 0, accountId });
    const count = (status: OrderStatus): number => facts.filter((f) => f.status === status).length;
    const completed = count('completed');
    const tier = tierFor(completed);
    const recent = await this.ctx.db.read.orders.recent(accountId, 10);
    return {
      account_id: account.id,
      balance: toUsd(account.balance),
      tier: tier.name,
      discount_percent: tier.discountPercent,
      completed_orders: completed,
      next_tier: nextTier(completed),
      stats: {
        orders: facts.length,
        completed,
        cancelled: count('cancelled'),
        expired: count('expired'),
        failed: count('failed'),
        spent: toUsd(facts.reduce((sum, f) => sum + (f.refunded ? 0 : f.price), 0)),
      },
      deposit_addresses: await this.deposits.addresses(accountId),
      webhook: account.webhookUrl ? { url: account.webhookUrl } : null,
      recent_orders: recent.map(toOrderView),
      sandbox: account.sandbox,
      delivery_guards: deliveryGuards,
    };
  }

  async usage(accountId: string, days: unknown = USAGE_DAYS.default): Promise<Usage> {
    if (typeof days !== 'number' || !Number.isInteger(days) || days < USAGE_DAYS.min || days > USAGE_DAYS.max) {
      throw invalid(`Parameter "days" must be a whole number from ${USAGE_DAYS.min} to ${USAGE_DAYS.max}.`);
    }
    await this.require(accountId);
    const firstDay = startOfUtcDay(this.ctx.now()) - (days - 1) * DAY_MS;
    return summariseUsage(await this.ctx.db.read.orders.facts({ since: firstDay, accountId }), days, firstDay);
  }
}
