import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { openCoreOnFile, type CoreFileOptions } from '../src/client/embedded.js';
import type { Clock } from '../src/core/clock.js';
import { TnError } from '../src/core/errors.js';
import type { BrokerCore } from '../src/core/broker-core.js';

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

/** The typed error a promise fails with; fails the test if it succeeds or fails otherwise. */
export async function failure(promise: Promise<unknown>): Promise<TnError> {
  const err = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TnError);
  return err as TnError;
}

/** A small seeded generator (mulberry32): simulator choices and histories replay the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
