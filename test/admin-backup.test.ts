/**
 * `tn admin backup <file>` (issue 18 item 6) through the real binary: a copy of the SQLite file
 * taken while a real `tn serve` keeps writing orders to it is a tn database with every order made
 * before it, and clean under `tn admin audit`; an existing file is refused unless --force, and a
 * PostgreSQL URL is sent to pg_dump.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killLeftovers, runTn, startServe, stopServe, tempHome, until, requireBuild } from './support/process.js';

const API = '/api/v1';

beforeAll(requireBuild);
afterEach(killLeftovers);

describe('tn admin backup', () => {
  it('copies the database while tn serve writes to it: every earlier order is in the copy, and its audit is clean', async () => {
    const h = tempHome('tn-backup-');
    const server = await startServe(['--port', '0', '--db', h.file, '--rate-limit', '0', '--sim-delay', '0', '--quiet'], h.env);
    const registered = await fetch(`${server.url}${API}/register`, { method: 'POST' });
    expect(registered.status).toBe(201);
    const { api_key: key, account_id: account } = (await registered.json()) as { api_key: string; account_id: string };
    const credit = await runTn(['admin', 'credit', account, '100', '--db', h.file], h.env);
    expect(credit.code, credit.stderr).toBe(0);

    // Clients order without pause, before, during and after the backup.
    const created: string[] = [];
    const failures: string[] = [];
    let stop = false;
    const client = async (n: number): Promise<void> => {
      const platforms = ['instagram', 'whatsapp', 'telegram'];
      for (let i = n; !stop; i++) {
        const res = await fetch(`${server.url}${API}/order`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ platform: platforms[i % platforms.length] }),
        });
        const body = await res.text();
        if (res.status === 201) created.push((JSON.parse(body) as { order_id: string }).order_id);
        else failures.push(`${res.status} ${body}`);
      }
    };
    const clients = [0, 1, 2].map(client);
    await until(() => created.length >= 30, 15_000, '30 orders');
    const before = [...created];

    const file = join(h.dir, 'copy.db');
    const backup = await runTn(['admin', 'backup', file, '--db', h.file, '--json'], h.env);
    const after = created.length;
    // One more order once the copy is made: the server was still writing.
    await until(() => created.length > after, 15_000, 'an order after the backup');
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);

    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toBe('');
    const answer = JSON.parse(backup.stdout) as { file: string; bytes: number; pages: number };
    expect(answer).toEqual({ file, bytes: statSync(file).size, pages: expect.any(Number) as number });
    expect(answer.pages).toBeGreaterThan(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Nothing of the temporary copy is left beside it.
    expect(existsSync(`${file}-wal`)).toBe(false);

    const copy = new Database(file, { readonly: true });
    const inCopy = new Set((copy.prepare('SELECT id FROM orders').all() as { id: string }[]).map((r) => r.id));
    copy.close();
    expect(before.filter((id) => !inCopy.has(id))).toEqual([]);
    expect(inCopy.size).toBeLessThanOrEqual(created.length);
    for (const id of inCopy) expect(created).toContain(id);

    // The copy is a tn database: the audit checks every invariant on it, as on the original.
    const audit = await runTn(['admin', 'audit', '--db', file], h.env);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(new RegExp(`^OK: 1 accounts, ${inCopy.size} orders, `));
    await stopServe(server);
    const original = await runTn(['admin', 'audit', '--db', h.file], h.env);
    expect(original.code, original.stdout).toBe(0);
  }, 90_000);

  it('refuses an existing file unless --force, and a PostgreSQL URL with the pointer to pg_dump (exit 2)', async () => {
    const h = tempHome('tn-backup-');
    expect((await runTn(['services'], h.env)).code).toBe(0); // the embedded broker's database now exists
    const file = join(h.dir, 'copy.db');
    writeFileSync(file, 'keep me');

    const refused = await runTn(['admin', 'backup', file], h.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file} exists: --force replaces it.`);
    expect(refused.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    const forced = await runTn(['admin', 'backup', file, '--force'], h.env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/^OK: .*tn\.db copied to .*copy\.db \(\d+ bytes, \d+ pages\)\.\n$/);
    expect((await runTn(['admin', 'audit', '--db', file], h.env)).code).toBe(0);

    const postgres = await runTn(['admin', 'backup', join(h.dir, 'pg.db'), '--db', 'postgres://tn:hunter2@db.internal:5432/tn', '--json'], h.env);
    expect(postgres.code).toBe(2);
    const error = (JSON.parse(postgres.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('pg_dump');
    expect(postgres.stdout + postgres.stderr).not.toContain('hunter2');
    expect(existsSync(join(h.dir, 'pg.db'))).toBe(false);

    const missing = await runTn(['admin', 'backup', join(h.dir, 'other.db'), '--db', join(h.dir, 'nowhere.db')], h.env);
    expect(missing.code).toBe(6);
    expect(existsSync(join(h.dir, 'other.db'))).toBe(false);
  }, 60_000);
});
