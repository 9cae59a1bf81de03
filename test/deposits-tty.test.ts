/**
 * Issue 16: `tn deposit` on a terminal shows the payment URI as a QR code (the QR library's own
 * rendering), and in a pipe the address alone; `--wait` on a terminal spins on stderr.
 */
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import encodeQR from '@paulmillr/qr';
import { describe, expect, it } from 'vitest';
import { createIO } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { openCore } from '../src/compose.js';
import { buildApp } from '../src/server/app.js';
import { tempDir } from './helpers.js';
import { FakeEsplora } from './support/fake-esplora.js';

const BIP84_ZPUB = 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const BIP84_ADDRESS_0 = 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu';

async function run(argv: string[], tty: boolean, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  const terminal = { columns: 80, cursorTo: () => true, clearLine: () => true, moveCursor: () => true };
  const stderr = Object.assign(new PassThrough(), tty ? terminal : {}, { isTTY: tty });
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(argv, createIO({ stdin, stdout, stderr, env }));
  return { code, stdout: out, stderr: err };
}

describe('tn deposit on a terminal', () => {
  it('prints the address with a QR code of its bitcoin: URI; piped, the address alone; --wait spins, then the balance', { timeout: 60_000 }, async ({ onTestFinished }) => {
    const dir = tempDir();
    const esplora = await FakeEsplora.start('bc');
    const core = await openCore(join(dir, 'tn.db'), {
      deposits: { btc: { xpub: BIP84_ZPUB, esplora_url: esplora.url, confirmations: 1 }, usd_rates: { btc: 100_000 }, poll_seconds: 1 },
    });
    const app = await buildApp({ core, version: 'test', logger: false, rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 } });
    onTestFinished(async () => {
      await app.close();
      await core.close();
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const reg = await core.register();
    const env = { TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data'), TN_API_KEY: reg.api_key, NO_COLOR: '1' };

    const tty = await run(['deposit', '--endpoint', url], true, env);
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).toContain(`Send BTC to:\n\n  ${BIP84_ADDRESS_0}\n`);
    expect(tty.stdout).toContain(encodeQR(`bitcoin:${BIP84_ADDRESS_0}`, 'ascii', { ecc: 'medium' }));
    expect(tty.stdout).toMatch(/Credited after 1 confirmation at the broker's USD rate; payments under \$1\.00 are recorded, not credited\./);

    const piped = await run(['deposit', '--endpoint', url], false, env);
    expect(piped.stdout).toBe(`${BIP84_ADDRESS_0}\n`);

    const waiting = run(['deposit', 'btc', '--wait', '--endpoint', url], true, env);
    setTimeout(() => {
      esplora.pay([{ address: BIP84_ADDRESS_0, sats: 10_000 }]);
      esplora.mine(1);
    }, 500);
    const waited = await waiting;
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toContain(`Waiting for a payment to ${BIP84_ADDRESS_0}`);
    expect(waited.stderr).toMatch(/Credited \$10\.00 for 0\.00010000 BTC/);
    expect(waited.stdout.trimEnd().split('\n').at(-1)).toBe('Balance $10.00');
  });
});
