import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import { tempDir } from './helpers.js';
import { ROOT, cleanEnv, killLeftovers, startServe, requireBuild } from './support/process.js';

// The remote client is importable as `tn/client` (and `createClient` from the root) and needs
// nothing beyond fetch / ReadableStream / AbortSignal (issue 18.1, 18.2): its built files import
// no Node module and no undici, and it works against a real server in a process where undici
// cannot be loaded at all.

beforeAll(requireBuild);
afterEach(killLeftovers);

/** Every module specifier the built file imports, followed through relative imports. */
function importGraph(entry: string): { files: string[]; external: Set<string> } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else external.add(spec);
    }
  };
  visit(entry);
  return { files: [...seen], external };
}

it('the built client imports only the standard surface (and an SSE parser)', () => {
  const { files, external } = importGraph(join(ROOT, 'dist', 'client', 'index.js'));
  expect(files.length).toBeGreaterThan(3);
  expect([...external]).toEqual(['eventsource-parser']);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { import: string; types: string }> };
  expect(pkg.exports['./client']).toEqual({ types: './dist/client/index.d.ts', import: './dist/client/index.js' });
  expect(existsSync(join(ROOT, 'dist', 'client', 'index.d.ts'))).toBe(true);
});

/** Resolving `undici` fails in the child, as it would where it is not installed. */
const NO_UNDICI = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  if (specifier === 'undici' || specifier.startsWith('undici/')) throw Object.assign(new Error('Cannot find package undici'), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}\`));
`)}`;

const SCRIPT = `
const out = {};
out.undici = await import('undici').then(() => 'loaded', (e) => e.code);
const { createClient, TnError, followEvents } = await import('tn/client');
const root = await import('tn');
out.rootExport = typeof root.createClient;
const client = createClient({ endpoint: process.env.ENDPOINT, apiKey: process.env.KEY });
out.health = (await client.health()).status;
out.services = (await client.services()).services.length > 0;
const stop = new AbortController();
const events = [];
let opened;
const open = new Promise((r) => (opened = r));
const following = followEvents({ endpoint: process.env.ENDPOINT, apiKey: process.env.KEY, signal: stop.signal, onOpen: () => opened(), onEvent: (e) => { events.push(e.type); if (events.length >= 2) stop.abort(); } });
await open;
const order = await client.order({ platform: 'telegram' });
const done = await client.wait(order.order_id, { timeoutMs: 20000 });
out.waited = [done.status, typeof done.code];
const verified = await client.verify({ platform: 'instagram', timeoutSeconds: 30 });
out.verified = verified.status;
out.notFound = await client.getOrder('ord_nope').then(() => 'found', (e) => e instanceof TnError ? e.code : String(e));
await following;
out.events = events;
await client.close();
const refused = createClient({ endpoint: 'http://127.0.0.1:9', apiKey: 'x', retries: 0 });
out.refused = await refused.account().then(() => 'answered', (e) => e.code);
console.log(JSON.stringify(out));
`;

it('createClient from tn/client works against a real tn serve with undici impossible to load', async () => {
  const file = join(tempDir('tn-client-'), 'tn.db');
  const core = openCoreOnFile(file);
  const reg = await core.register({ credit: 5_000_000 });
  await core.close();
  const serve = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', '--sim-delay', '200'], cleanEnv({}));

  const child = spawn(process.execPath, ['--import', NO_UNDICI, '--input-type=module', '-e', SCRIPT], {
    cwd: ROOT,
    env: cleanEnv({ ENDPOINT: serve.url, KEY: reg.api_key }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({
    undici: 'ERR_MODULE_NOT_FOUND',
    rootExport: 'function',
    health: 'ok',
    services: true,
    waited: ['completed', 'string'],
    verified: 'completed',
    notFound: 'not_found',
    events: ['sms.received', 'sms.received'],
    refused: 'unavailable',
  });
}, 60_000);
