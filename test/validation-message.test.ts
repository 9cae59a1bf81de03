import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TnError } from '../src/core/errors.js';
import { makeCore, tempDir } from './helpers.js';
import { cleanEnv, killLeftovers, runTn, startServe } from './support/process.js';

/**
 * One mistake, one sentence: what the server's schema refuses reads as the core (and so the local
 * broker) words it, not as Ajv does. A real `tn serve`; needs `npm run build`.
 */
afterEach(killLeftovers);

async function localMessage(call: (core: ReturnType<typeof makeCore>['core'], account: string) => Promise<unknown>): Promise<string> {
  const { core } = makeCore();
  const { account_id } = await core.register();
  try {
    await call(core, account_id);
  } catch (err) {
    if (err instanceof TnError) return err.message;
    throw err;
  }
  throw new Error('the core accepted it');
}

describe('schema errors read as the core words them', () => {
  it('a bad --status, a bad timeout_seconds, a bad limit: the same sentence remotely and locally', async () => {
    const dir = tempDir('tn-validation-');
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const server = await startServe(['--port', '0', '--db', join(dir, 'serve.db'), '--rate-limit', '0'], env);
    const { api_key: key } = (await (await fetch(`${server.url}/api/v1/register`, { method: 'POST' })).json()) as { api_key: string };

    const remote = await runTn(['orders', '--status', 'bogus', '--json'], { ...env, TN_ENDPOINT: server.url, TN_API_KEY: key });
    const local = await runTn(['orders', '--status', 'bogus', '--json'], env);
    expect(remote.code).toBe(2);
    expect(local.code).toBe(2);
    const remoteError = (JSON.parse(remote.stdout) as { error: { message: string } }).error.message;
    expect(remoteError).toBe((JSON.parse(local.stdout) as { error: { message: string } }).error.message);
    expect(remoteError).toBe('Parameter "status" must be one of active, completed, cancelled, expired, failed.');

    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const verify = await fetch(`${server.url}/api/v1/verify`, { method: 'POST', headers: auth, body: JSON.stringify({ platform: 'instagram', timeout_seconds: 5 }) });
    expect(verify.status).toBe(400);
    expect(((await verify.json()) as { error: { message: string } }).error.message).toBe(
      await localMessage((core, account) => core.verify(account, { platform: 'instagram', timeoutSeconds: 5 })),
    );

    const orders = await fetch(`${server.url}/api/v1/orders?limit=500`, { headers: auth });
    expect(orders.status).toBe(400);
    expect(((await orders.json()) as { error: { message: string } }).error.message).toBe(
      await localMessage((core, account) => core.orders(account, { limit: 500 })),
    );

    const unknown = await fetch(`${server.url}/api/v1/orders?colour=blue`, { headers: auth });
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe('Unknown parameter "colour".');
  });
});
