import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openCoreOnFile, type CoreFileOptions } from '../src/client/embedded.js';
import type { Clock } from '../src/core/clock.js';
import type { BrokerCore } from '../src/core/service.js';

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(public t = Date.UTC(2026, 10, 21, 12, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(prefix = 'tn-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A core on a fresh SQLite file; closed after the test. */
export function makeCore(options: CoreFileOptions & { file?: string } = {}): { core: BrokerCore; file: string } {
  const file = options.file ?? join(tempDir(), 'tn.db');
  const core = openCoreOnFile(file, { simulator: { delayMs: 20, ...options.simulator }, ...options });
  cleanups.push(() => core.close());
  return { core, file };
}

/** A registered account with this much credit, in micro-USD. */
export async function fundedAccount(core: BrokerCore, micros: number): Promise<{ accountId: string; apiKey: string }> {
  const reg = await core.register({ credit: micros });
  return { accountId: reg.account_id, apiKey: reg.api_key };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
