import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountInfo } from '../src/core/broker.js';
import type { Order } from '../src/core/orders/order.js';

import { BIN, ROOT, cleanEnv } from './support/process.js';

export { BIN, ROOT, cleanEnv };

export interface RunResult {
  /** Exit code, or null if the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed (stdin is always a pipe, never a TTY). */
  input?: string;
  /** Extra variables for this run only; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Kill the process after this many ms (a hung CLI must not hang the suite). */
  killAfterMs?: number;
}

/** Runs `node bin/tn.js ...args` asynchronously with stdout and stderr as pipes. */
export function runTn(args: readonly string[], env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const runEnv = { ...env };
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete runEnv[key];
      else runEnv[key] = value;
    }
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: runEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 20_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Runs any other program (bash -n, …) the same way. */
export function runProgram(file: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

export interface Sandbox {
  readonly root: string;
  readonly configDir: string;
  readonly dataDir: string;
  /** The environment every run of this sandbox starts from. */
  readonly env: NodeJS.ProcessEnv;
  run(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** `run` with `--json` appended, stdout parsed as exactly one JSON document. */
  json<T = Record<string, unknown>>(args: readonly string[], options?: RunOptions): Promise<RunResult & { body: T }>;
  /** The embedded broker's database file. */
  readonly dbFile: string;
  cleanup(): Promise<void>;
}

/** What the sandbox sets unless a test says otherwise: a short simulated SMS delay. */
const DEFAULTS = { TN_SIM_DELAY_MS: '20' };

/**
 * A fresh config dir and data dir under one mkdtemp directory. Pass the test's `onTestFinished`
 * (from its context, so that concurrent tests clean up their own) to remove it afterwards.
 */
export async function makeSandbox(
  onFinished: (fn: () => Promise<void> | void) => void,
  env: Record<string, string | undefined> = {},
): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'tn-cli-'));
  const configDir = join(root, 'config');
  const dataDir = join(root, 'data');
  const baseEnv = cleanEnv({ ...DEFAULTS, TN_CONFIG_DIR: configDir, TN_DATA_DIR: dataDir, ...env });
  const sandbox: Sandbox = {
    root,
    configDir,
    dataDir,
    env: baseEnv,
    dbFile: join(dataDir, 'tn.db'),
    run: (args, options) => runTn(args, baseEnv, options),
    async json<T>(args: readonly string[], options?: RunOptions) {
      const result = await runTn([...args, '--json'], baseEnv, options);
      return { ...result, body: parseOneJson(result.stdout) as T };
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  onFinished(() => sandbox.cleanup());
  return sandbox;
}

/**
 * Stdout of a `--json` run: exactly one JSON document (one line, since stdout is a pipe) and
 * nothing else. Throws with the raw text otherwise, so a failure shows what was printed.
 */
export function parseOneJson(stdout: string): unknown {
  if (!stdout.endsWith('\n') || stdout.slice(0, -1).includes('\n')) {
    throw new Error(`expected exactly one JSON line on stdout, got: ${JSON.stringify(stdout)}`);
  }
  try {
    return JSON.parse(stdout);
  } catch {
    throw new Error(`stdout is not JSON: ${JSON.stringify(stdout)}`);
  }
}

export const readJsonFile = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, 'utf8'));

/** The fields of the order object of API.md §3. */
export const ORDER_FIELDS = [
  'order_id',
  'platform',
  'country',
  'phone',
  'price',
  'status',
  'code',
  'sms',
  'codes',
  'refunded',
  'created_at',
  'expires_at',
  'completed_at',
] as const;

/** What `--json` prints for an order: the API's order object. */
export type OrderJson = Order;

export interface ErrorJson {
  error: { code: string; message: string; status: number; [extra: string]: unknown };
}

/** What `tn account --json` prints: the API's account object. */
export type AccountJson = AccountInfo;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Problems with an order object's shape (API.md §3); empty when it is right. */
export function orderShapeProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['not an object'];
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of ORDER_FIELDS) if (!(field in o)) problems.push(`missing ${field}`);
  const check = (ok: boolean, what: string): void => void (ok || problems.push(what));
  check(typeof o.order_id === 'string' && /^ord_\w+$/.test(o.order_id), 'order_id');
  check(typeof o.platform === 'string', 'platform');
  check(typeof o.country === 'string' && /^[a-z]{2}$/.test(o.country), 'country (lower-case alpha-2)');
  check(typeof o.phone === 'string' && /^\+\d{8,15}$/.test(o.phone), 'phone (E.164)');
  check(typeof o.price === 'number' && o.price >= 0, 'price (USD number)');
  check(['active', 'completed', 'cancelled', 'expired', 'failed'].includes(o.status as string), 'status');
  check(o.code === null || typeof o.code === 'string', 'code');
  check(o.sms === null || typeof o.sms === 'string', 'sms');
  check(Array.isArray(o.codes) && o.codes.every((c) => typeof c === 'string'), 'codes');
  check(typeof o.refunded === 'boolean', 'refunded');
  check(typeof o.created_at === 'string' && ISO.test(o.created_at), 'created_at');
  check(typeof o.expires_at === 'string' && ISO.test(o.expires_at), 'expires_at');
  check(o.completed_at === null || (typeof o.completed_at === 'string' && ISO.test(o.completed_at)), 'completed_at');
  if (o.code === null) check(o.sms === null && o.completed_at === null, 'code, sms and completed_at are null together');
  return problems;
}

/** Any ANSI escape sequence (colour, cursor movement of a spinner). */
export const ANSI = /\x1b\[/; // eslint-disable-line no-control-regex

export const FIRST_USE = 'Created a local sandbox account with $10.00 of test credit';
