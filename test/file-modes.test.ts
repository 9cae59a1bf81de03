/** Issue 19.6: the database holds secrets, so tn creates it for its owner alone. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSandbox } from './cli-helpers.js';
import { killLeftovers, startServe, stopServe } from './support/process.js';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('files tn creates', () => {
  it('the embedded broker: data directory 0700, tn.db 0600', { timeout: 60_000 }, async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const r = await box.run(['order', 'instagram']);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(box.dataDir)).toBe('700');
    // The last connection to close removes -wal and -shm; the server test below sees them open.
    expect(mode(box.dbFile)).toBe('600');
    // The config file holds the API key too.
    expect(mode(join(box.configDir, 'config.json'))).toBe('600');
  });

  it('tn serve --db in a new directory: the same modes', { timeout: 60_000 }, async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const dir = join(box.root, 'srv', 'db');
    const file = join(dir, 'broker.db');
    const server = await startServe(['--port', '0', '--db', file, '-q'], box.env);
    onTestFinished(killLeftovers);
    const res = await fetch(`${server.url}/api/v1/register`, { method: 'POST' });
    expect(res.status).toBe(201);
    expect(mode(dir)).toBe('700');
    expect(mode(join(box.root, 'srv'))).toBe('700');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, mode(f)]).toEqual([f, '600']);
    await stopServe(server);
  });
});
