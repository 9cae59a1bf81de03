import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { BIN, ROOT } from '../cli-helpers.js';

/** util-linux `script` gives the command a real pseudo-terminal; the tests that need one skip without it. */
export const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

export interface PtyRun {
  child: ChildProcess;
  /** Everything the terminal showed so far (stdout and stderr of tn together, as a terminal does). */
  readonly screen: string;
  /** Resolves with the output once `script` (and so tn) ended. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; screen: string }>;
  /** Resolves once the screen matches, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * Runs `node bin/tn.js …args` in a pseudo-terminal of `cols`×`rows` (0×0 is what some CI runners
 * and `docker exec` give). The shell prints `EXIT=<code>` after tn, so tn's own exit code is seen.
 */
export function runInPty(args: readonly string[], env: NodeJS.ProcessEnv, size: { cols: number; rows: number }): PtyRun {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const shell = `stty cols ${size.cols} rows ${size.rows}; ${quoted}; echo "EXIT=$?"`;
  const child = spawn('script', ['-qec', shell, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    for (const w of [...watchers]) w();
  });
  child.stderr!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; screen: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, screen })),
  );
  return {
    child,
    get screen() {
      return screen;
    },
    done,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(screen);
          if (!m) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; the screen was:\n${JSON.stringify(screen.slice(-2000))}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
  };
}

/** The exit code tn reported through the shell's `EXIT=` line. */
export const ptyExit = (screen: string): number | undefined => {
  const m = /EXIT=(\d+)/.exec(screen);
  return m ? Number(m[1]) : undefined;
};
