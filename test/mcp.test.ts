import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BIN, ROOT, cleanEnv, killLeftovers, runTn, startServe, requireBuild } from './support/process.js';
import { tempDir } from './helpers.js';

// `tn mcp` (issue 17 §3): the real binary as an MCP server over stdio, driven by the SDK's own client.

beforeAll(requireBuild);

afterEach(killLeftovers);

interface OrderOut {
  order_id: string;
  status: string;
  code: string | null;
  price: number;
  attempts?: { outcome: string }[];
}

async function connect(args: string[], extraEnv: Record<string, string> = {}): Promise<Client> {
  const dir = tempDir('tn-mcp-');
  const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data'), TN_SIM_DELAY_MS: '20', ...extraEnv });
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], env: env as Record<string, string>, cwd: ROOT, stderr: 'pipe' });
  const client = new Client({ name: 'tn-test', version: '1.0.0' });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return client;
}

describe('tn mcp', () => {
  it('lists its tools with input and output schemas, verifies with progress, and answers the balance', async () => {
    const client = await connect(['--max-spend', '1']);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['cancel_order', 'get_balance', 'get_order', 'get_prices', 'list_services', 'order_number', 'verify', 'wait_for_code']);
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe('object');
      expect(t.outputSchema?.type, t.name).toBe('object');
    }
    expect(Object.keys(tools.find((t) => t.name === 'verify')!.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['platform', 'country', 'attempts', 'per_attempt_seconds', 'max_price']),
    );

    const progress: string[] = [];
    const verified = await client.callTool({ name: 'verify', arguments: { platform: 'instagram', country: 'us', attempts: 2 } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
    });
    expect(verified.isError, JSON.stringify(verified.content)).toBeFalsy();
    const order = (verified.structuredContent as { order: OrderOut }).order;
    expect(order).toMatchObject({ status: 'completed', price: 0.12 });
    expect(order.code).toMatch(/^\d+$/);
    expect(order.attempts!.map((a) => a.outcome)).toEqual(['completed']);
    expect(progress.some((m) => m.startsWith('waiting for the SMS on +'))).toBe(true);

    const services = await client.callTool({ name: 'list_services', arguments: {} });
    expect((services.structuredContent as { services: { platform: string }[] }).services.map((s) => s.platform)).toContain('other');

    const ordered = await client.callTool({ name: 'order_number', arguments: { platform: 'telegram', country: 'us' } });
    const active = (ordered.structuredContent as { order: OrderOut }).order;
    const waited = await client.callTool({ name: 'wait_for_code', arguments: { order_id: active.order_id, timeout_seconds: 30 } }, undefined, { onprogress: () => undefined });
    expect((waited.structuredContent as { order: OrderOut }).order.status).toBe('completed');

    const balance = await client.callTool({ name: 'get_balance', arguments: {} });
    expect(balance.structuredContent).toMatchObject({ balance: 9.58, budget: { max_spend: 1, spent: 0.42, left: 0.58 } });
  });

  it('the spend cap refuses, with a tool error, a call that would go over, and nothing is charged; a refund gives room back', async () => {
    // No SMS ever comes, so the first order is still active when it is cancelled.
    const client = await connect(['--max-spend', '0.30', '--max-price', '0.25'], { TN_SIM_NO_SMS_RATE: '1' });
    // --max-price holds on its own: Telegram at $0.30 is above it.
    const pricey = await client.callTool({ name: 'order_number', arguments: { platform: 'telegram', country: 'us' } });
    expect(pricey.isError).toBe(true);
    expect((pricey.content as { text: string }[])[0]!.text).toMatch(/\$0\.30.*above your limit of \$0\.25/);
    const first = await client.callTool({ name: 'order_number', arguments: { platform: 'instagram', country: 'us' } });
    expect(first.isError).toBeFalsy();
    const firstOrder = (first.structuredContent as { order: OrderOut }).order;

    // $0.18 left: WhatsApp at $0.25 would go over.
    const over = await client.callTool({ name: 'verify', arguments: { platform: 'whatsapp', country: 'us' } });
    expect(over.isError).toBe(true);
    expect((over.content as { text: string }[])[0]!.text).toMatch(/spending cap.*nothing was ordered/);

    let balance = await client.callTool({ name: 'get_balance', arguments: {} });
    expect(balance.structuredContent).toMatchObject({ balance: 9.88, budget: { spent: 0.12, left: 0.18 } });

    const cancelled = await client.callTool({ name: 'cancel_order', arguments: { order_id: firstOrder.order_id } });
    expect((cancelled.structuredContent as { order: OrderOut }).order.status).toBe('cancelled');
    balance = await client.callTool({ name: 'get_balance', arguments: {} });
    expect(balance.structuredContent).toMatchObject({ balance: 10, budget: { spent: 0, left: 0.3 } });
    const now = await client.callTool({ name: 'order_number', arguments: { platform: 'whatsapp', country: 'us' } });
    expect(now.isError, JSON.stringify(now.content)).toBeFalsy();
  });

  it('works against tn serve with the configured key, the cap enforced there the same way', async () => {
    const dir = tempDir('tn-mcp-serve-');
    const file = join(dir, 'serve.db');
    const base = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const server = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', '--sim-delay', '20', '-q'], base);
    const reg = (await (await fetch(`${server.url}/api/v1/register`, { method: 'POST' })).json()) as { api_key: string; account_id: string };
    expect((await runTn(['admin', 'credit', reg.account_id, '5', '--db', file], base)).code).toBe(0);
    const client = await connect(['--max-spend', '0.20'], { TN_ENDPOINT: server.url, TN_API_KEY: reg.api_key });
    const verified = await client.callTool({ name: 'verify', arguments: { platform: 'instagram', country: 'us' } });
    expect((verified.structuredContent as { order: OrderOut }).order.status).toBe('completed');
    const over = await client.callTool({ name: 'order_number', arguments: { platform: 'instagram', country: 'us' } });
    expect(over.isError).toBe(true);
    expect((over.content as { text: string }[])[0]!.text).toMatch(/\$0\.12 is more than the \$0\.08 left/);
    const balance = await client.callTool({ name: 'get_balance', arguments: {} });
    expect(balance.structuredContent).toMatchObject({ balance: 4.88, budget: { spent: 0.12 } });
  });
});
