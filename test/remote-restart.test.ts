import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order } from '../src/core/orders/order.js';
import { tempDir } from './helpers.js';
import { BIN, ROOT, cleanEnv, killLeftovers, runTn, startServe, until } from './support/process.js';
import { hasScript, ptyExit, runInPty } from './support/pty.js';

/**
 * A remote `tn verify` whose `tn serve` restarts under it (same database file, same port): the
 * client must follow its paid order to the code, and when it cannot, say which order it let go of
 * and how to go on. Real server processes, real sockets; needs `npm run build`.
 */

const API = '/api/v1';
afterEach(killLeftovers);

interface Setup {
  db: string;
  env: NodeJS.ProcessEnv;
  url: string;
  port: string;
  key: string;
}

async function setUp(simDelayMs: number): Promise<Setup & { server: Awaited<ReturnType<typeof startServe>> }> {
  const dir = tempDir('tn-restart-');
  const db = join(dir, 'tn.db');
  const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
  const server = await startServe(['--port', '0', '--db', db, '--rate-limit', '0', '--sim-delay', String(simDelayMs)], env);
  const reg = (await (await fetch(`${server.url}${API}/register`, { method: 'POST' })).json()) as { api_key: string; account_id: string };
  const credit = await runTn(['admin', 'credit', reg.account_id, '10', '--db', db], env);
  expect(credit.code, credit.stderr).toBe(0);
  return { db, env, url: server.url, port: new URL(server.url).port, key: reg.api_key, server };
}

function startVerify(s: Setup, args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill(signal: NodeJS.Signals): void } {
  const env = { ...s.env, TN_ENDPOINT: s.url, TN_API_KEY: s.key };
  const child = spawn(process.execPath, [BIN, 'verify', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { done, kill: (signal) => void child.kill(signal) };
}

async function activeOrder(s: Setup): Promise<Order> {
  let found: Order | undefined;
  await until(
    async () => {
      const res = await fetch(`${s.url}${API}/orders?status=active`, { headers: { authorization: `Bearer ${s.key}` } });
      found = ((await res.json()) as { orders: Order[] }).orders[0];
      return found !== undefined;
    },
    10_000,
    'the verify to place its order',
  );
  return found!;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('remote verify across a server restart', () => {
  for (const [how, signal] of [
    ['stopped gracefully (SIGTERM: the long poll is answered with the order still active)', 'SIGTERM'],
    ['killed (SIGKILL: the connection just drops)', 'SIGKILL'],
  ] as const) {
    it(`server ${how} and back 3 s later on the same port: the client follows the order to its code`, async () => {
      const s = await setUp(6_000);
      const verify = startVerify(s, ['instagram', '-t', '60', '--json']);
      const order = await activeOrder(s);
      s.server.child.kill(signal);
      await s.server.exited;
      // Longer than the client's ordinary retries (200 + 400 + 800 ms) ever waited.
      await pause(3_000);
      const again = await startServe(['--port', s.port, '--db', s.db, '--rate-limit', '0', '--sim-delay', '6000'], s.env);
      const result = await verify.done;
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ order_id: order.order_id, status: 'completed', code: expect.stringMatching(/^\d+$/) });
      again.child.kill('SIGTERM');
      await again.exited;
    }, 45_000);
  }

  it('stopped by SIGTERM while the server is down: stderr names the order and the two ways on, which then work', async () => {
    const s = await setUp(60_000);
    const verify = startVerify(s, ['instagram', '-t', '60']);
    const order = await activeOrder(s);
    // Other readers see an order a few milliseconds before its creator is answered (the server
    // syncs the WAL before the 201): give the answer time to reach the client, which is what this
    // test is about, before the server goes.
    await pause(300);
    s.server.child.kill('SIGKILL');
    await s.server.exited;
    await pause(500);
    verify.kill('SIGTERM');
    const result = await verify.done;
    expect(result.code).toBe(143);
    expect(result.stderr).toContain(`tn wait ${order.order_id}`);
    expect(result.stderr).toContain(`tn cancel ${order.order_id}`);

    // Back up: the named order is still there, and `tn cancel` refunds it.
    const again = await startServe(['--port', s.port, '--db', s.db, '--rate-limit', '0'], s.env);
    const cancel = await runTn(['cancel', order.order_id, '--json'], { ...s.env, TN_ENDPOINT: s.url, TN_API_KEY: s.key });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ order_id: order.order_id, status: 'cancelled', refunded: true });
    again.child.kill('SIGTERM');
    await again.exited;
  }, 45_000);

  it.skipIf(!hasScript)('on a terminal, a remote verify shows the order id before the code comes', async () => {
    const s = await setUp(2_000);
    const run = runInPty(['verify', 'instagram'], { ...s.env, TN_ENDPOINT: s.url, TN_API_KEY: s.key, NO_COLOR: '1' }, { cols: 100, rows: 30 });
    const [, id] = await run.waitFor(/Order (ord_\w+): \+\d+ \(instagram, /);
    const { screen } = await run.done;
    expect(ptyExit(screen)).toBe(0);
    expect(screen.indexOf(`Order ${id}`)).toBeLessThan(screen.indexOf('Code received'));
  });
});
