import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, makeSandbox, type AccountJson, type OrderJson } from './cli-helpers.js';
import { activeOrderId } from './support/orders.js';

/**
 * `timeout`, `docker stop`, a CI cancel and a closed terminal stop `tn verify` with SIGTERM or
 * SIGHUP, not Ctrl-C: each must end the order with a refund all the same. Needs `npm run build`.
 */
describe('tn verify stopped by a signal', () => {
  for (const [signal, exit] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal}: the order is cancelled and refunded, stderr says so, exit ${exit}`, async ({ onTestFinished }) => {
      const box = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '120000' });
      // The sandbox account first: two first runs at once would each create one.
      await box.run(['account']);
      const child = spawn(process.execPath, [BIN, 'verify', 'instagram', '--timeout', '300'], { cwd: ROOT, env: box.env, stdio: ['pipe', 'pipe', 'pipe'] });
      onTestFinished(() => void child.kill('SIGKILL'));
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

      const id = await activeOrderId(box.env);
      child.kill(signal);
      expect(await closed).toBe(exit);
      expect(stdout).toBe('');
      expect(stderr).toMatch(new RegExp(`Interrupted \\(${signal}\\): order ${id} is cancelled and \\$0\\.\\d+ refunded\\.`));

      const status = await box.json<OrderJson>(['status', id]);
      expect(status.body).toMatchObject({ status: 'cancelled', refunded: true });
      const account = await box.json<AccountJson>(['account']);
      expect(account.body.balance).toBe(10);
    });
  }
});
