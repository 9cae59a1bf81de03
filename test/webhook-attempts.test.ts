import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import type { WebhookInfo } from '../src/core/broker.js';
import { tempDir } from './helpers.js';
import { cleanEnv, killLeftovers, runTn, startServe, until, requireBuild } from './support/process.js';
import { startReceiver } from './support/webhooks-receiver.js';

// Each logged attempt carries its own outcome (issue 18.4): a failed first try followed by a
// delivered second one must not show the first as delivered, and it must say when it retried.

beforeAll(requireBuild);
afterEach(killLeftovers);

it('recent_deliveries and `tn webhook show` give each attempt its answer, duration, outcome and next try', async () => {
  const dir = tempDir('tn-attempts-');
  const file = join(dir, 'tn.db');
  const receiver = await startReceiver({ answer: (hit) => (hit.n === 0 ? { status: 500, delayMs: 30 } : { status: 200 }) });
  const core = openCoreOnFile(file);
  const reg = await core.register({ credit: 5_000_000 });
  receiver.secrets = [(await core.setWebhook(reg.account_id, receiver.url)).secret];
  await core.close();

  const serve = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', '--allow-private-webhooks', '--webhook-retry-schedule', '0,400,800'], cleanEnv({}));
  const headers = { authorization: `Bearer ${reg.api_key}` };
  const sent = (await (await fetch(`${serve.url}/api/v1/webhook/test`, { method: 'POST', headers })).json()) as { webhook_id: string };
  const info = async (): Promise<WebhookInfo> => (await (await fetch(`${serve.url}/api/v1/webhook`, { headers })).json()) as WebhookInfo;
  await until(async () => (await info()).recent_deliveries.length === 2, 10_000, 'two attempts logged');

  const [first, second] = [...(await info()).recent_deliveries].reverse();
  expect(first).toMatchObject({ webhook_id: sent.webhook_id, attempt: 1, status_code: 500, outcome: 'retry_scheduled', state: 'delivered' });
  expect(second).toMatchObject({ webhook_id: sent.webhook_id, attempt: 2, status_code: 200, outcome: 'delivered', next_attempt_at: null });
  expect(first!.duration_ms).toBeGreaterThanOrEqual(30);
  expect(Date.parse(first!.next_attempt_at!)).toBeGreaterThan(Date.parse(first!.attempted_at));
  expect(Date.parse(second!.attempted_at)).toBeGreaterThanOrEqual(Date.parse(first!.next_attempt_at!));

  const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data'), TN_ENDPOINT: serve.url, TN_API_KEY: reg.api_key });
  const shown = await runTn(['webhook', 'show'], env);
  expect(shown.code).toBe(0);
  const rows = shown.stdout.split('\n').filter((l) => l.includes(sent.webhook_id));
  expect(rows).toHaveLength(2);
  // Piped: tab-separated, newest first; the failed try shows its answer and its retry time.
  expect(rows[1]!.split('\t').slice(3)).toEqual(['1', '500', `${first!.duration_ms}ms`, `retry ${first!.next_attempt_at}`]);
  expect(rows[0]!.split('\t').slice(3)).toEqual(['2', '200', `${second!.duration_ms}ms`, 'delivered']);
});
