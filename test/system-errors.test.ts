import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, makeSandbox, parseOneJson, runProgram, type ErrorJson } from './cli-helpers.js';

/**
 * The machine saying no (a port taken, a directory or database tn may not write) is not a bug in
 * tn: a sentence naming what and where, exit 8, never "This is a bug". Real ports, real files,
 * a real unprivileged user where the tests run as root. Needs `npm run build`.
 */

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

const NOBODY = 65534;
// As root every permission check passes: the permission tests run tn as nobody instead.
const canDropToNobody =
  process.getuid?.() === 0 && spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, '-e', ''], { cwd: ROOT }).status === 0;

const asNobody = (args: string[], env: NodeJS.ProcessEnv) =>
  runProgram('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, BIN, ...args]);

describe('system errors are explained, not called bugs', () => {
  it('tn serve on a port in use: says so, suggests --port 0, exit 8', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const { server, port } = await listen();
    onTestFinished(() => void server.close());
    const r = await box.run(['serve', '--port', String(port)]);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(r.stderr).toContain('--port 0');
    expect(r.stderr).not.toMatch(/bug/i);

    const json = await box.run(['serve', '--port', String(port), '--json']);
    expect(json.code).toBe(8);
    expect((parseOneJson(json.stdout) as ErrorJson).error).toMatchObject({ code: 'unavailable', status: 503 });
  });

  it('a data directory whose path runs through a file: names it, exit 8', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const file = join(box.root, 'a-file');
    writeFileSync(file, '');
    const r = await box.run(['services'], { env: { TN_DATA_DIR: join(file, 'tn') } });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(join(file, 'tn'));
    expect(r.stderr).not.toMatch(/bug/i);
  });

  it.skipIf(!canDropToNobody)('a data or config directory tn may not write: permission denied, named, exit 8', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    chmodSync(box.root, 0o755);
    const locked = join(box.root, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    const open = join(box.root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const data = await asNobody(['services'], { TN_CONFIG_DIR: open, TN_DATA_DIR: join(locked, 'data') });
    expect(data.stderr).toMatch(/Permission denied on \S*locked/);
    expect(data.code).toBe(8);
    expect(data.stderr).not.toMatch(/bug/i);
    const config = await asNobody(['config', 'set', 'country', 'gb'], { TN_CONFIG_DIR: join(locked, 'config') });
    expect(config.stderr).toMatch(/Permission denied on \S*locked/);
    expect(config.code).toBe(8);
  });

  it.skipIf(!canDropToNobody)('a read-only database file: says it is read-only and which file, exit 8', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    chmodSync(box.root, 0o755);
    expect((await box.run(['account'])).code).toBe(0);
    const open = join(box.root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    // The database stays root's, mode 0644 in a 0755 directory: nobody can read it but not write it.
    chmodSync(box.dataDir, 0o755);
    chmodSync(box.dbFile, 0o644);
    const r = await asNobody(['order', 'instagram'], { TN_CONFIG_DIR: open, TN_DATA_DIR: box.dataDir, TN_API_KEY: 'tn_whatever' });
    expect(r.stderr).toContain(`The database ${box.dbFile} is read-only`);
    expect(r.code).toBe(8);
    expect(r.stderr).not.toMatch(/bug/i);
  });
});
