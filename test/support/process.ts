import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root and the real binary (it imports the compiled dist/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'tn.js');

/**
 * For tests that run what `npm run build` makes: the bundled CLI that bin/tn.js loads, and the
 * library entries. One check, so that a change of what ships changes it once.
 */
export function requireBuild(): void {
  for (const file of ['dist/bundle/main.js', 'dist/index.js', 'dist/client/index.js']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` before these tests.`);
  }
}

/**
 * The test runner's environment without any TN_* variable, colour switch or CI (CI sets it; a test
 * that means CI says so), plus `extra`, where `undefined` removes a variable: only what a test
 * sets reaches tn.
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TN_') || key === 'NO_COLOR' || key === 'FORCE_COLOR' || key === 'CI') delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A fresh config and data directory, and a database file beside them, for one test's `tn` runs. */
export function tempHome(prefix = 'tn-home-'): { dir: string; env: NodeJS.ProcessEnv; file: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, env: cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') }), file: join(dir, 'tn.db') };
}

/** Stops a `tn serve` the polite way and waits until it has exited. */
export async function stopServe(server: ServeProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
  await server.exited;
}

/** Runs `node bin/tn.js …args` to its end (killed after `killAfterMs`). */
export function runTn(args: readonly string[], env: NodeJS.ProcessEnv, killAfterMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A running `node bin/tn.js serve …`. */
export interface ServeProcess {
  /** `http://127.0.0.1:PORT`, from the "listening on" line on stderr. */
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Kills (SIGKILL) every server a test left running; for afterEach. */
export async function killLeftovers(): Promise<void> {
  for (const child of [...running]) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    running.delete(child);
  }
}

/** Starts `tn serve` with these arguments and waits until it listens. */
export function startServe(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tn serve did not listen within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    const onData = (): void => {
      const m = /listening on (http:\/\/\S+?)[\s,]/.exec(stderr);
      if (!m) return;
      clearTimeout(timer);
      child.stderr.off('data', onData);
      resolve({ url: m[1]!, child, stdout: () => stdout, stderr: () => stderr, exited });
    };
    child.stderr.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`tn serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
}

/** Polls until `check` returns true, or throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
