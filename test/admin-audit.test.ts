import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { makeSandbox } from './cli-helpers.js';

// Issue 20 §6: the audit's verdict is the command's answer, so it goes to stdout like all data
// (API.md §7); stderr stays free for hints and warnings. The real binary: `npm run build` first.

describe('tn admin audit', () => {
  it('prints its OK line on stdout and nothing on stderr', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expect((await tn.run(['verify', 'ig'])).code).toBe(0);
    const audit = await tn.run(['admin', 'audit']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/^OK: 1 accounts, 1 orders, \d+ ledger entries checked\.\n$/);
    expect(audit.stderr).toBe('');
  });

  it('prints the violations and their count on stdout, exiting 1', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expect((await tn.run(['verify', 'ig'])).code).toBe(0);
    const db = new Database(tn.dbFile);
    try {
      db.prepare('UPDATE accounts SET balance = balance + 1000000').run();
    } finally {
      db.close();
    }
    const audit = await tn.run(['admin', 'audit']);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/balance .* but its ledger sums to .*\n1 violation\(s\): 1 accounts, 1 orders, \d+ ledger entries checked\.\n$/);
    expect(audit.stderr).toBe('');
  });
});
