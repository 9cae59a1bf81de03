/**
 * Issue 16 end to end: a real `tn serve --config` watching a fake Esplora on loopback, driven by
 * the real `tn` binary (the compiled dist/: `npm run build` first). A payment seen in the
 * mempool, the server killed in the middle, its confirmations, then `tn deposit --wait` until
 * the credit; and the clear refusals of brokers without deposits.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { FakeEsplora } from './support/fake-esplora.js';
import { cleanEnv, killLeftovers, runTn, startServe, requireBuild } from './support/process.js';
import { startReceiver } from './support/webhooks-receiver.js';

const BIP84_ZPUB = 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const BIP84_ADDRESS_0 = 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu';

beforeAll(requireBuild);
afterEach(killLeftovers);

describe('tn deposit against tn serve', () => {
  it('shows the address, follows a payment across a killed server to its credit, and prints the new balance', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const esplora = await FakeEsplora.start('bc');
    const config = join(dir, 'serve.json');
    writeFileSync(
      config,
      JSON.stringify({ deposits: { btc: { xpub: BIP84_ZPUB, esplora_url: esplora.url, confirmations: 2 }, usd_rates: { btc: 97_000 }, minimum_usd: 1, poll_seconds: 1 } }),
    );
    const db = join(dir, 'tn.db');
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const serveArgs = ['--port', String(await freePort()), '--db', db, '--config', config, '--rate-limit', '0', '--allow-private-webhooks'];
    let server = await startServe(serveArgs, env);

    const reg = await runTn(['register', '--endpoint', server.url, '--json'], env);
    expect(reg.code, reg.stderr).toBe(0);
    const registration = JSON.parse(reg.stdout) as { account_id: string; api_key: string; deposit_addresses: Record<string, string> };
    expect(registration.deposit_addresses).toEqual({ btc: BIP84_ADDRESS_0 });

    const shown = await runTn(['deposit', '--endpoint', server.url, '--json'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ coin: 'btc', address: BIP84_ADDRESS_0, uri: `bitcoin:${BIP84_ADDRESS_0}`, confirmations: 2, minimum_usd: 1, deposits: [] });
    const piped = await runTn(['deposit', 'btc', '--endpoint', server.url], env);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toBe(`${BIP84_ADDRESS_0}\n`);
    const wrongCoin = await runTn(['deposit', 'ltc', '--endpoint', server.url], env);
    expect(wrongCoin.code).toBe(2);
    expect(wrongCoin.stderr).toMatch(/takes no LTC deposits; it takes btc/);

    const receiver = await startReceiver();
    const hook = await runTn(['webhook', 'set', `${receiver.url}/hook`, '--endpoint', server.url, '--json'], env);
    expect(hook.code, hook.stderr).toBe(0);
    receiver.secrets = [(JSON.parse(hook.stdout) as { secret: string }).secret];

    // Waiting, then paid; the running server's watcher sees it in the mempool by itself.
    const waiting = runTn(['deposit', '--wait', '--json', '--endpoint', server.url], env, 90_000);
    const txid = esplora.pay([{ address: BIP84_ADDRESS_0, sats: 250_000 }]);
    const auth = { authorization: `Bearer ${registration.api_key}` };
    await until(async () => {
      const list = (await (await fetch(`${server.url}/api/v1/deposits`, { headers: auth })).json()) as { deposits: { status: string }[] };
      return list.deposits.length === 1 && list.deposits[0]!.status === 'pending';
    }, 15_000);

    // Killed in the middle; the block and its successor come while it is down; started again on the same port.
    server.child.kill('SIGKILL');
    await server.exited;
    esplora.mine(2);
    server = await startServe(serveArgs, env);

    const waited = await waiting;
    expect(waited.code, waited.stderr.slice(-800)).toBe(0);
    const result = JSON.parse(waited.stdout) as { deposit: Record<string, unknown>; balance: number };
    expect(result.deposit).toMatchObject({ txid, vout: 0, status: 'credited', confirmations: 2, usd: 242.5 });
    expect(result.balance).toBe(242.5);

    // Both events reached the webhook, signed as Standard Webhooks, across the restart.
    await receiver.waitFor((hits) => hits.some((h) => h.payload?.type === 'deposit.credited'), 15_000, 'deposit.credited');
    const delivered = receiver.accepted().filter((h) => h.verified[0]);
    expect(delivered.map((h) => h.payload!.type)).toEqual(['deposit.pending', 'deposit.credited']);
    expect(delivered[1]!.payload!.data).toMatchObject({ txid, status: 'credited', usd: 242.5, balance: 242.5 });

    // Seen again by later checks and passes: still one credit.
    await fetch(`${server.url}/api/v1/deposits/check`, { method: 'POST', headers: auth });
    const account = await runTn(['account', '--endpoint', server.url, '--json'], env);
    expect(JSON.parse(account.stdout)).toMatchObject({ balance: 242.5, deposit_addresses: { btc: BIP84_ADDRESS_0 } });
    const audit = await runTn(['admin', 'audit', '--db', db], env);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
  });

  it('says clearly that a broker takes no deposits, with exit 2: the embedded sandbox, and a server without settings', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const local = await runTn(['deposit'], env);
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/local sandbox takes no crypto deposits/);
    const json = await runTn(['deposit', '--json'], env);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'invalid_request' } });

    const server = await startServe(['--port', '0', '--db', join(dir, 'plain.db')], env);
    expect((await runTn(['register', '--endpoint', server.url], env)).code).toBe(0);
    const remote = await runTn(['deposit', '--endpoint', server.url], env);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/takes no crypto deposits/);
  });

  it("refuses to start with another network's key than the coin's", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const config = join(dir, 'serve.json');
    writeFileSync(config, JSON.stringify({ deposits: { ltc: { xpub: BIP84_ZPUB.replace(/^zpub/, 'tpub'), esplora_url: 'http://127.0.0.1:9/api' }, usd_rates: { ltc: 100 } } }));
    const started = await runTn(['serve', '--port', '0', '--db', join(dir, 'tn.db'), '--config', config], env);
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/deposits\.ltc\.xpub/);
  });
});

/** A port nothing listens on now, for a server that must come back at the same URL. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
