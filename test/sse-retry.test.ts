import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import { SSE_RETRY_MS } from '../src/core/limits.js';
import { tempDir } from './helpers.js';
import { cleanEnv, killLeftovers, startServe, requireBuild } from './support/process.js';

// Both event streams open with a `retry:` field (issue 18.5), so browsers and `eventsource`
// reconnect at the server's pace rather than their own default.

beforeAll(requireBuild);
afterEach(killLeftovers);

async function firstBlock(url: string, apiKey: string): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' }, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  controller.abort();
  return text.slice(0, text.indexOf('\n\n') + 2);
}

it('GET /events and GET /order/:id/stream start with retry:', async () => {
  const file = join(tempDir('tn-sse-retry-'), 'tn.db');
  const core = openCoreOnFile(file);
  const reg = await core.register({ credit: 5_000_000 });
  await core.close();
  const serve = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', '--sim-delay', '60000'], cleanEnv({}));
  const order = (await (
    await fetch(`${serve.url}/api/v1/order`, { method: 'POST', headers: { authorization: `Bearer ${reg.api_key}`, 'content-type': 'application/json' }, body: '{"platform":"instagram"}' })
  ).json()) as { order_id: string };

  expect(await firstBlock(`${serve.url}/api/v1/events`, reg.api_key)).toBe(`retry: ${SSE_RETRY_MS}\n\n`);
  expect(await firstBlock(`${serve.url}/api/v1/order/${order.order_id}/stream`, reg.api_key)).toBe(`retry: ${SSE_RETRY_MS}\n\n`);
});
