import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

/**
 * The real `tn ui` in a real terminal: tmux (from Debian's packages; `.ci/run` installs it) runs
 * `node bin/tn.js ui` at 80×24 against the embedded broker, and the test reads the screen with
 * `tmux capture-pane` as a person would. Needs `npm run build` first (`npm test` does it).
 */

const ROOT = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const socket = `tn-e2e-${process.pid}`;

const tmux = (...args: string[]): string => {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const screen = (escapes = false): string => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'tn');

async function waitForScreen(test: (s: string) => boolean, what: string, timeoutMs = 8000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (test(s)) return s;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; the screen was:\n${s}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The colour parameters of the SGR sequences in `text` (30–38, 40–48, 90–97, 100–107; 39 and 49 are "default"). */
function colours(text: string): string[] {
  const found: string[] = [];
  // eslint-disable-next-line no-control-regex -- reading escape sequences is the point
  for (const [, params] of text.matchAll(/\u001b\[([0-9;]*)m/g)) {
    for (const p of params!.split(';')) if (/^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$/.test(p)) found.push(p);
  }
  return found;
}

afterEach(() => {
  if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
});

const title = 'tn ui in tmux at 80×24: filter to instagram, Enter, a code on screen; a country\u2019s prices, the order history; q exits 0';

describe('tn ui end to end', () => {
  if (!hasTmux) {
    console.warn('tn ui end-to-end test SKIPPED: tmux is not installed (apt-get install tmux, or run .ci/run, which installs it).');
    it.skip(`${title} (SKIPPED: tmux is not installed; apt-get install tmux, or run .ci/run, which installs it)`, () => {});
    return;
  }

  it(title, async () => {
    expect(existsSync(join(ROOT, 'dist/tui/run.js')), 'dist/ is missing the app: run `npm run build` first').toBe(true);
    const home = tempDir('tn-tui-e2e-');
    const exitFile = join(home, 'exit');
    const stderrFile = join(home, 'stderr');
    // CI is unset inside the terminal: Ink draws nothing but the last frame when it thinks it runs in CI.
    const command =
      `env -u CI -u CONTINUOUS_INTEGRATION TN_CONFIG_DIR='${home}/config' TN_DATA_DIR='${home}/data' TN_SIM_DELAY_MS=300 NO_COLOR=1 ` +
      `sh -c 'node bin/tn.js ui 2>"${stderrFile}"; echo EXIT=$? > "${exitFile}"; sleep 30'`;
    tmux('new-session', '-d', '-x', '80', '-y', '24', '-s', 'tn', '-c', ROOT, command);

    await waitForScreen((s) => s.includes('› Instagram') && s.includes('$10.00'), 'the Services screen');
    expect(colours(screen(true))).toEqual([]); // NO_COLOR: no colour at all

    tmux('send-keys', '-t', 'tn', '/');
    tmux('send-keys', '-t', 'tn', '-l', 'instagram');
    tmux('send-keys', '-t', 'tn', 'Enter');
    const filtered = await waitForScreen((s) => s.includes('Filter: instagram ') && s.includes('1–1 of 1'), 'the filter');
    expect(filtered).not.toContain('WhatsApp');

    const ordered = Date.now();
    tmux('send-keys', '-t', 'tn', 'Enter');
    const withCode = await waitForScreen((s) => /Code {5}\d{6}/.test(s), 'the code', 5000);
    expect(Date.now() - ordered).toBeLessThan(5000);
    const code = /Code {5}(\d{6})/.exec(withCode)![1]!;
    expect(withCode).toContain('Status   Code received');
    expect(withCode).toMatch(/Phone {4}\+1\d{10}/);
    expect(withCode).toContain(`Instagram code ${code} arrived`);
    for (const line of withCode.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);

    // A country chosen: the table shows its prices and stock (the simulator's 2000 UK numbers, one of them held).
    tmux('send-keys', '-t', 'tn', 'Escape');
    await waitForScreen((s) => s.includes('[Services]'), 'the Services screen again');
    tmux('send-keys', '-t', 'tn', 'C');
    tmux('send-keys', '-t', 'tn', '-l', 'uk');
    await waitForScreen((s) => /› gb\s+United Kingdom\s+2000\s+\$0\.12/.test(s), 'the UK with its stock in the picker');
    tmux('send-keys', '-t', 'tn', 'Enter');
    const country = await waitForScreen((s) => /› Instagram\s+\$0\.12\s+\$0\.12\s+100%\s+2000\s/.test(s), 'the UK prices');
    expect(country).toContain('Country: United Kingdom (gb)');

    // The order history: the one order of this run.
    tmux('send-keys', '-t', 'tn', 'o');
    const history = await waitForScreen((s) => s.includes('page 1 of 1, 1 order'), 'the Orders screen');
    expect(history).toMatch(new RegExp(`› \\d\\d:\\d\\d:\\d\\d  instagram\\s+US\\s+\\+1\\d{10}\\s+completed\\s+${code}\\s+\\$0\\.12`));

    tmux('send-keys', '-t', 'tn', 'q');
    const deadline = Date.now() + 5000;
    while (!existsSync(exitFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('EXIT=0');
    // The shell's screen is back, and no order was left waiting, so nothing was said about one.
    expect(screen()).not.toContain('[Services]');
    expect(readFileSync(stderrFile, 'utf8')).not.toContain('still waiting');
  });
});
