import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, runProgram } from './cli-helpers.js';
import { tempDir } from './helpers.js';
import { cleanEnv, killLeftovers, runTn, startServe } from './support/process.js';
import { hasScript, ptyExit, runInPty } from './support/pty.js';

/** The smaller things a new user trips on (issue 19, item 9). Needs `npm run build`. */
afterEach(killLeftovers);

describe('small things', () => {
  it('tn version prints what --version prints', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const flag = await box.run(['--version']);
    const command = await box.run(['version']);
    expect(command.code).toBe(0);
    expect(command.stdout).toBe(flag.stdout);
    expect((await box.json<{ version: string }>(['version'])).body.version).toBe(flag.stdout.trim());
  });

  it.skipIf(!hasScript)('tn admin without --db says on a terminal which database file it works on', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    await box.run(['account']);
    const { screen } = await runInPty(['admin', 'audit'], box.env, { cols: 200, rows: 30 }).done;
    expect(ptyExit(screen)).toBe(0);
    expect(screen).toContain(`using the embedded broker's database ${box.dbFile}`);
    const named = await runInPty(['admin', 'audit', '--db', box.dbFile], box.env, { cols: 200, rows: 30 }).done;
    expect(named.screen).not.toContain('using the embedded');
    // Piped, stderr stays the command's own lines.
    expect((await box.run(['admin', 'audit'])).stderr).not.toContain('using the embedded');
  });

  it('tn webhook set of a loopback URL warns at once, pointing at --allow-private-webhooks', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const r = await box.run(['webhook', 'set', 'http://127.0.0.1:9/hook']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Warning: 127\.0\.0\.1 is a private address: .*--allow-private-webhooks/);
    const pub = await box.run(['webhook', 'set', 'https://93.184.215.14/hook']);
    expect(pub.stderr).not.toContain('Warning');
  });

  it('tn webhook test exits non-zero when the server refuses to deliver to a private address', async () => {
    const receiver = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    await new Promise((resolve) => receiver.once('listening', resolve));
    const address = receiver.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const dir = tempDir('tn-webhook-test-');
      const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
      const server = await startServe(['--port', '0', '--db', join(dir, 'serve.db'), '--rate-limit', '0'], env);
      const { api_key: key } = (await (await fetch(`${server.url}/api/v1/register`, { method: 'POST' })).json()) as { api_key: string };
      const remote = { ...env, TN_ENDPOINT: server.url, TN_API_KEY: key };
      expect((await runTn(['webhook', 'set', `http://127.0.0.1:${port}/hook`], remote)).code).toBe(0);
      const r = await runTn(['webhook', 'test'], remote);
      expect(r.code).toBe(8);
      expect(r.stderr).toContain('--allow-private-webhooks');
    } finally {
      receiver.close();
    }
  });

  it.skipIf(!hasScript)('tn login on a terminal asks for the key without echoing it', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const reg = await box.json<{ api_key: string; account_id: string }>(['register']);
    const run = runInPty(['login'], box.env, { cols: 100, rows: 30 });
    onTestFinished(() => void run.child.kill('SIGKILL'));
    await run.waitFor(/API key for local: /);
    run.child.stdin!.write(`${reg.body.api_key}\r`);
    const { screen } = await run.done;
    expect(ptyExit(screen), screen).toBe(0);
    expect(screen).toContain(`Logged in to local as ${reg.body.account_id}`);
    expect(screen).not.toContain(reg.body.api_key);
  });

  it('tn login piped without --key is a usage error, not a hang', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const r = await box.run(['login']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--key');
  });

  it.skipIf(!hasScript)('numbers are right-aligned in terminal tables', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished, { NO_COLOR: '1' });
    await box.run(['account']);
    const { screen } = await runInPty(['prices', '--platform', 'whatsapp'], box.env, { cols: 120, rows: 40 }).done;
    const rows = screen.split(/\r?\n/).filter((l) => /^whatsapp\s/.test(l));
    expect(rows.length).toBeGreaterThan(2);
    // Right-aligned: every row ends at the same column, whatever the stock's number of digits.
    expect(new Set(rows.map((r) => r.trimEnd().length)).size).toBe(1);
  });

  it.skipIf(!hasScript)('times are relative on a terminal, ISO when piped', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished, { NO_COLOR: '1', TN_SIM_DELAY_MS: '600000' });
    await box.run(['account']);
    const order = await runInPty(['order', 'instagram'], box.env, { cols: 120, rows: 30 }).done;
    expect(order.screen).toMatch(/created\s+(now|\d+s ago)/);
    expect(order.screen).toMatch(/expires\s+in \d+m \d+s/);
    expect(order.screen).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    const list = await runInPty(['orders'], box.env, { cols: 160, rows: 30 }).done;
    expect(list.screen).toMatch(/\$0\.12\s+(now|\d+s ago)/);
    const piped = await box.json<{ orders: { created_at: string }[] }>(['orders']);
    expect(piped.body.orders[0]!.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});

describe('completion offers values', () => {
  it('bash: platforms after verify, countries with stock after -c, active orders after cancel, config keys after config set', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '600000' });
    const order = await box.json<{ order_id: string }>(['order', 'whatsapp', '--country', 'gb']);
    const script = join(box.root, 'tn.bash');
    writeFileSync(script, (await box.run(['completion', 'bash'])).stdout);
    // `tn` on PATH, as an installed one would be.
    const bin = join(box.root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tn'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 });
    const complete = async (...words: string[]): Promise<string[]> => {
      const line = `source '${script}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tn; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = await runProgram('env', [...Object.entries({ ...box.env, PATH: `${bin}:${process.env.PATH}` }).map(([k, v]) => `${k}=${v}`), 'bash', '-c', line]);
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(await complete('tn', 'verify', 'insta')).toEqual(['instagram']);
    expect(await complete('tn', 'verify', 'whatsapp', '-c', '')).toEqual(expect.arrayContaining(['any', 'gb', 'us']));
    expect(await complete('tn', 'cancel', '')).toContain(order.body.order_id);
    expect(await complete('tn', 'config', 'set', '')).toEqual(expect.arrayContaining(['country', 'timeout', 'endpoint']));
    expect(await complete('tn', '')).not.toContain('__complete');
  });
});
