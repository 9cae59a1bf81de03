/**
 * Issue 16: crypto deposits on the core, against a fake Esplora on loopback through the real
 * HTTP client. Addresses are checked against BIP84's published test vectors; the watcher's
 * scenarios (payment then confirmations, a restart in the middle, the same transaction seen twice,
 * two outputs to one address, 429) run on both store engines.
 */
import { join } from 'node:path';
import { createBase58check } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { openCore, type DepositConfig } from '../src/compose.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import { AddressBook } from '../src/core/deposits/addresses.js';
import { writeFileSync } from 'node:fs';
import { readServeConfig } from '../src/server/config.js';
import { ManualClock, failure, tempDir } from './helpers.js';
import { FakeEsplora } from './support/fake-esplora.js';
import { freshPostgres } from './support/postgres.js';

/** BIP84's test vectors: the account key m/84'/0'/0' of "abandon … about" and its first receive addresses. */
const BIP84_ZPUB = 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const BIP84_ZPRV = 'zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE';
const BIP84_ROOT_ZPUB = 'zpub6jftahH18ngZxLmXaKw3GSZzZsszmt9WqedkyZdezFtWRFBZqsQH5hyUmb4pCEeZGmVfQuP5bedXTB8is6fTv19U1GQRyQUKQGUTzyHACMF';
const BIP84_ADDRESS_0 = 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu';
const BIP84_ADDRESS_1 = 'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g';

const b58 = createBase58check(sha256);
/** The same key under other version bytes (SLIP-132), as another wallet would show it. */
function reencode(key: string, version: number): string {
  const bytes = b58.decode(key);
  bytes.set([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff], 0);
  return b58.encode(bytes);
}
const XPUB = reencode(BIP84_ZPUB, 0x0488b21e);
const VPUB = reencode(BIP84_ZPUB, 0x045f1cf6);
const LTUB = reencode(BIP84_ZPUB, 0x019da462);

const USD = 1_000_000;
const SATS = 100_000_000;

describe('BIP84 addresses', () => {
  it("derive the specification's test vectors from its zpub, and the same from the key as xpub", () => {
    for (const key of [BIP84_ZPUB, XPUB]) {
      const book = new AddressBook('btc', key);
      expect(book.address(0)).toBe(BIP84_ADDRESS_0);
      expect(book.address(1)).toBe(BIP84_ADDRESS_1);
      expect(book.uri(book.address(0))).toBe(`bitcoin:${BIP84_ADDRESS_0}`);
    }
  });

  it("make each network's own addresses: tb1q from a vpub, ltc1q from an Ltub", () => {
    const testnet = new AddressBook('btc', VPUB).address(0);
    const litecoin = new AddressBook('ltc', LTUB).address(0);
    expect(testnet).toMatch(/^tb1q[02-9ac-hj-np-z]{38}$/);
    expect(litecoin).toMatch(/^ltc1q[02-9ac-hj-np-z]{38}$/);
    // The same key hash under each network's prefix: only the human-readable part differs.
    expect(testnet.slice(3, -6)).toBe(BIP84_ADDRESS_0.slice(3, -6));
  });

  it("never produce a wrong network's address: another coin's key, a private key, a key of the wrong depth are refused", () => {
    expect(() => new AddressBook('btc', LTUB)).toThrow(/not a public key of BTC/);
    expect(() => new AddressBook('ltc', reencode(BIP84_ZPUB, 0x043587cf + 1))).toThrow(/not a public key of LTC/);
    expect(() => new AddressBook('btc', BIP84_ZPRV)).toThrow(/never a private key/);
    expect(() => new AddressBook('btc', BIP84_ROOT_ZPUB)).toThrow(/depth 3/);
    expect(() => new AddressBook('btc', 'zpub-not-a-key')).toThrow(/base58check/);
  });
});

type Make = (onFinished: (fn: () => Promise<void>) => void) => Promise<string>;
const ENGINES: Record<string, Make> = {
  sqlite: async () => join(tempDir(), 'tn.db'),
  postgres: (onFinished) => freshPostgres(onFinished),
};

interface Setup {
  db: string;
  esplora: FakeEsplora;
  clock: ManualClock;
  config: DepositConfig;
  open(): Promise<BrokerCore>;
}

async function setup(db: string, onFinished: (fn: () => Promise<void>) => void, overrides: Partial<DepositConfig> = {}): Promise<Setup> {
  const esplora = await FakeEsplora.start('bc');
  const clock = new ManualClock();
  const config: DepositConfig = { btc: { xpub: BIP84_ZPUB, esplora_url: esplora.url, confirmations: 2 }, usd_rates: { btc: 97_000 }, minimum_usd: 1, poll_seconds: 10, ...overrides };
  const opened: BrokerCore[] = [];
  onFinished(async () => void (await Promise.all(opened.map((c) => c.close().catch(() => undefined)))));
  return {
    db,
    esplora,
    clock,
    config,
    async open() {
      const core = await openCore(db, { clock, deposits: config });
      opened.push(core);
      return core;
    },
  };
}

for (const [engine, make] of Object.entries(ENGINES)) {
  describe(`deposits on the ${engine} engine`, () => {
    it('give each account its own index, once: register and account show the same address, never another account’s', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished);
      const [a, b] = [await s.open(), await s.open()];
      const regs = await Promise.all([...Array.from({ length: 4 }, () => a.register()), ...Array.from({ length: 4 }, () => b.register())]);
      const addresses = regs.map((r) => r.deposit_addresses.btc!);
      expect(new Set(addresses).size).toBe(8);
      const book = new AddressBook('btc', BIP84_ZPUB);
      expect(new Set(addresses)).toEqual(new Set(Array.from({ length: 8 }, (_, i) => book.address(i))));
      for (const r of regs) expect((await b.account(r.account_id)).deposit_addresses).toEqual({ btc: r.deposit_addresses.btc });
    });

    it('record a payment as pending, follow its confirmations, credit it once at the rate, rounded down', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished);
      const core = await s.open();
      const reg = await core.register();
      const address = reg.deposit_addresses.btc!;
      // 0.00123457 BTC at $97,000 is $119.75329 exactly; 1 sat more of precision is dropped, never rounded up.
      const txid = s.esplora.pay([{ address, sats: 123_457 }]);
      let list = await core.checkDeposits(reg.account_id);
      expect(list.addresses).toEqual({ btc: address });
      expect(list.deposits).toMatchObject([{ coin: 'btc', txid, vout: 0, amount: '0.00123457', amount_sats: 123_457, confirmations: 0, confirmations_required: 2, status: 'pending', usd: null }]);
      s.esplora.mine(1);
      s.clock.advance(10_000);
      list = await core.checkDeposits(reg.account_id);
      expect(list.deposits[0]).toMatchObject({ status: 'pending', confirmations: 1 });
      expect((await core.account(reg.account_id)).balance).toBe(0);
      s.esplora.mine(1);
      s.clock.advance(10_000);
      list = await core.checkDeposits(reg.account_id);
      const micros = Number((123_457n * 97_000_000_000n) / BigInt(SATS));
      expect(list.deposits[0]).toMatchObject({ status: 'credited', confirmations: 2, usd: micros / USD });
      expect((await core.account(reg.account_id)).balance).toBe(micros / USD);
      // Seen again and again: nothing more.
      s.esplora.mine(3);
      s.clock.advance(10_000);
      await core.checkDeposits(reg.account_id);
      expect((await core.account(reg.account_id)).balance).toBe(micros / USD);
      const events = (await core.eventsAfter(reg.account_id, 0)).map((e) => JSON.parse(e.payload) as { type: string; data: Record<string, unknown> });
      expect(events.map((e) => e.type)).toEqual(['deposit.pending', 'deposit.credited']);
      expect(events[1]!.data).toMatchObject({ txid, status: 'credited', usd: micros / USD, balance: micros / USD });
      expect((await core.audit()).violations).toEqual([]);
    });

    it('carry on after a restart in the middle: a check that died with its process is taken up when its lease ends, credited once', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished, { poll_seconds: 5 });
      const first = await s.open();
      const reg = await first.register();
      const address = reg.deposit_addresses.btc!;
      s.esplora.pay([{ address, sats: 50_000 }]);
      s.clock.advance(5_000);
      await first.processDueDeposits();
      expect((await first.listDeposits(reg.account_id)).deposits[0]).toMatchObject({ status: 'pending', confirmations: 0 });
      await first.close();

      s.esplora.mine(2);
      const second = await s.open();
      s.clock.advance(5_000);
      await second.processDueDeposits();
      const list = await second.listDeposits(reg.account_id);
      expect(list.deposits).toHaveLength(1);
      expect(list.deposits[0]).toMatchObject({ status: 'credited', confirmations: 2, usd: 48.5 });
      expect((await second.account(reg.account_id)).balance).toBe(48.5);

      // A process that claimed the address and died: no other checks it while the lease lasts, one does after.
      const third = await s.open();
      s.esplora.pay([{ address, sats: 20_000 }]);
      s.clock.advance(3600_000);
      const crashed = await s.open();
      await crashed.db.transaction((tx) => tx.deposits.claimDue('btc', s.clock.now(), 10, s.clock.now() + 20_000));
      await crashed.close();
      const before = s.esplora.addressRequests();
      await third.processDueDeposits();
      expect(s.esplora.addressRequests()).toBe(before);
      s.clock.advance(20_000);
      await third.processDueDeposits();
      expect(s.esplora.addressRequests()).toBe(before + 1);
      expect((await third.listDeposits(reg.account_id)).deposits.map((d) => d.status)).toEqual(['pending', 'credited']);
      expect((await third.audit()).violations).toEqual([]);
    });

    it('credit the same transaction seen twice, by two instances at once, only once', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished, { btc: undefined });
      s.config.btc = { xpub: BIP84_ZPUB, esplora_url: s.esplora.url, confirmations: 1 };
      const cores = await Promise.all([s.open(), s.open(), s.open()]);
      const reg = await cores[0]!.register();
      s.esplora.pay([{ address: reg.deposit_addresses.btc!, sats: 100_000 }]);
      s.esplora.mine(1);
      s.clock.advance(3600_000);
      await Promise.all(cores.flatMap((c) => [c.checkDeposits(reg.account_id), c.processDueDeposits(), c.db.transaction((tx) => tx.deposits.watch(reg.account_id, 'btc', 0, 0, 0))]));
      s.clock.advance(3600_000);
      await Promise.all(cores.map((c) => c.checkDeposits(reg.account_id)));
      const list = await cores[1]!.listDeposits(reg.account_id);
      expect(list.deposits).toHaveLength(1);
      expect((await cores[2]!.account(reg.account_id)).balance).toBe(97);
      const credited = (await cores[0]!.eventsAfter(reg.account_id, 0)).filter((e) => e.type === 'deposit.credited');
      expect(credited).toHaveLength(1);
      expect((await cores[0]!.audit()).violations).toEqual([]);
    });

    it('credit two outputs to one address in one transaction separately, and record one below the minimum without crediting it', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished);
      const core = await s.open();
      const [reg, other] = [await core.register(), await core.register()];
      const mine = reg.deposit_addresses.btc!;
      const txid = s.esplora.pay([
        { address: mine, sats: 10_000 },
        { address: other.deposit_addresses.btc!, sats: 30_000 },
        { address: mine, sats: 20_000 },
        { address: mine, sats: 1_000 },
      ]);
      s.esplora.mine(2);
      const list = await core.checkDeposits(reg.account_id);
      const byVout = Object.fromEntries(list.deposits.map((d) => [d.vout, d]));
      expect(Object.keys(byVout).sort()).toEqual(['0', '2', '3']);
      expect(byVout[0]).toMatchObject({ txid, status: 'credited', usd: 9.7 });
      expect(byVout[2]).toMatchObject({ txid, status: 'credited', usd: 19.4 });
      // $0.97 is under the $1 minimum: shown to the account, not credited.
      expect(byVout[3]).toMatchObject({ txid, status: 'below_minimum', usd: 0.97, credited_at: null });
      expect((await core.account(reg.account_id)).balance).toBe(29.1);
      expect((await core.account(other.account_id)).balance).toBe(0);
      await core.checkDeposits(other.account_id);
      expect((await core.account(other.account_id)).balance).toBe(29.1);
      expect((await core.audit()).violations).toEqual([]);
    });

    it('honour a 429 of the chain index for every instance, and back off on errors', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished);
      const [a, b] = [await s.open(), await s.open()];
      const reg = await a.register();
      s.esplora.pay([{ address: reg.deposit_addresses.btc!, sats: 100_000 }]);
      s.esplora.busy(1, 120);
      s.clock.advance(10_000);
      await a.processDueDeposits();
      const after429 = s.esplora.requests.length;
      s.clock.advance(60_000);
      await b.processDueDeposits();
      await b.checkDeposits(reg.account_id);
      expect(s.esplora.requests.length).toBe(after429);
      s.clock.advance(61_000);
      s.esplora.fail(1);
      await b.processDueDeposits();
      const afterError = s.esplora.requests.length;
      s.clock.advance(5_000);
      await a.processDueDeposits();
      expect(s.esplora.requests.length).toBe(afterError);
      // Backed off for the poll interval doubled per failure in a row (two so far: 20 s).
      s.clock.advance(16_000);
      await a.processDueDeposits();
      expect((await a.listDeposits(reg.account_id)).deposits).toMatchObject([{ status: 'pending' }]);
    });

    it('never take back a credit whose block was reorganised away, but show it in the audit until it confirms again', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished, { btc: undefined });
      s.config.btc = { xpub: BIP84_ZPUB, esplora_url: s.esplora.url, confirmations: 1 };
      const core = await s.open();
      const reg = await core.register();
      const txid = s.esplora.pay([{ address: reg.deposit_addresses.btc!, sats: 100_000 }]);
      s.esplora.mine(1);
      await core.checkDeposits(reg.account_id);
      expect((await core.account(reg.account_id)).balance).toBe(97);
      s.esplora.unconfirm(txid);
      s.clock.advance(10_000);
      await core.checkDeposits(reg.account_id);
      expect((await core.account(reg.account_id)).balance).toBe(97);
      const report = await core.audit();
      expect(report.violations).toHaveLength(1);
      expect(report.violations[0]).toContain(`deposit btc ${txid}:0: 97000000 µUSD credited to account ${reg.account_id}, no longer confirmed`);
      s.esplora.mine(1);
      s.clock.advance(10_000);
      await core.checkDeposits(reg.account_id);
      expect((await core.audit()).violations).toEqual([]);
      expect((await core.account(reg.account_id)).balance).toBe(97);
    });

    it('change nothing when an unconfirmed transaction disappears', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const s = await setup(await make(onTestFinished), onTestFinished);
      const core = await s.open();
      const reg = await core.register();
      const txid = s.esplora.pay([{ address: reg.deposit_addresses.btc!, sats: 100_000 }]);
      await core.checkDeposits(reg.account_id);
      s.esplora.drop(txid);
      s.esplora.mine(5);
      s.clock.advance(10_000);
      const list = await core.checkDeposits(reg.account_id);
      expect(list.deposits).toMatchObject([{ txid, status: 'pending', confirmations: 0 }]);
      expect((await core.account(reg.account_id)).balance).toBe(0);
    });
  });
}

describe('the deposit settings of tn serve --config', () => {
  it("read the README's shape, and refuse a coin without its rate or with a malformed key", () => {
    const file = join(tempDir(), 'serve.json');
    const good = { deposits: { btc: { xpub: BIP84_ZPUB, esplora_url: 'https://esplora.example/api', confirmations: 1 }, usd_rates: { btc: 97000 }, minimum_usd: 1, poll_seconds: 30 } };
    writeFileSync(file, JSON.stringify(good));
    expect(readServeConfig(file)).toEqual(good);
    writeFileSync(file, JSON.stringify({ deposits: { ...good.deposits, usd_rates: {} } }));
    expect(() => readServeConfig(file)).toThrow(/usd_rates\/btc is required/);
    writeFileSync(file, JSON.stringify({ deposits: { ...good.deposits, btc: { ...good.deposits.btc, esplora_url: 'ftp://x' } } }));
    expect(() => readServeConfig(file)).toThrow(/deposits\/btc\/esplora_url/);
  });
});

describe('a broker without deposits', () => {
  it('shows no addresses and refuses the deposit calls with a message that says so', async () => {
    const core = await openCore(join(tempDir(), 'tn.db'));
    try {
      const reg = await core.register();
      expect(reg.deposit_addresses).toEqual({});
      const err = await failure(core.listDeposits(reg.account_id));
      expect(err.code).toBe('invalid_request');
      expect(err.message).toMatch(/takes no crypto deposits/);
    } finally {
      await core.close();
    }
  });
});
