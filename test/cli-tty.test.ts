import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIO } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { tempDir } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs tn in-process with fake streams that claim (or not) to be terminals. */
async function run(argv: string[], options: { stdoutTTY: boolean; stderrTTY?: boolean; env?: Record<string, string>; home: string }): Promise<Run> {
  const stdout = Object.assign(new PassThrough(), { isTTY: options.stdoutTTY });
  // What a terminal stream offers beyond writing, for the spinner.
  const terminal = { columns: 80, cursorTo: () => true, clearLine: () => true, moveCursor: () => true };
  const stderr = Object.assign(new PassThrough(), options.stderrTTY ? terminal : {}, { isTTY: options.stderrTTY ?? false });
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const env = { TN_CONFIG_DIR: join(options.home, 'config'), TN_DATA_DIR: join(options.home, 'data'), TN_SIM_DELAY_MS: '0', ...options.env };
  const code = await main(argv, createIO({ stdin, stdout, stderr, env }));
  return { code, stdout: out, stderr: err };
}

const ESC = '\u001b[';

describe('output on a terminal and in a pipe', () => {
  it('services: an aligned table with a header on a terminal, tab-separated rows in a pipe', async () => {
    const home = tempDir();
    const tty = await run(['services'], { stdoutTTY: true, home, env: { NO_COLOR: '1' } });
    const ttyLines = tty.stdout.trimEnd().split('\n');
    expect(ttyLines[0]).toMatch(/^PLATFORM\s+NAME\s+PRICE\s+YOUR PRICE$/);
    expect(ttyLines).toHaveLength(35);
    expect(ttyLines[1]).toMatch(/^instagram\s+Instagram\s+\$0\.12\s+\$0\.12$/);
    expect(tty.stdout).not.toContain('\t');

    const piped = await run(['services'], { stdoutTTY: false, home });
    const rows = piped.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(34);
    expect(rows[0]).toBe('instagram\tInstagram\t$0.12\t$0.12');
  });

  it('colours a terminal unless NO_COLOR or --no-color, and never a pipe', async () => {
    const home = tempDir();
    const coloured = await run(['services'], { stdoutTTY: true, home });
    expect(coloured.stdout).toContain(ESC);
    const noColor = await run(['services'], { stdoutTTY: true, home, env: { NO_COLOR: '1' } });
    expect(noColor.stdout).not.toContain(ESC);
    const flag = await run(['services', '--no-color'], { stdoutTTY: true, home });
    expect(flag.stdout).not.toContain(ESC);
    const piped = await run(['services'], { stdoutTTY: false, home });
    expect(piped.stdout + piped.stderr).not.toContain(ESC);
  });

  it('verify: with stdout captured by $(…) and a terminal on stderr, only the code reaches stdout', async () => {
    const home = tempDir();
    const r = await run(['verify', 'instagram'], { stdoutTTY: false, stderrTTY: true, home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d{6}\n$/);
    expect(r.stderr).toContain('Code received on +');
  });

  it('order and status: readable lines on a terminal, one tab-separated line in a pipe', async () => {
    const home = tempDir();
    const env = { NO_COLOR: '1', TN_SIM_DELAY_MS: '60000' };
    const tty = await run(['order', 'wa', '--country', 'gb'], { stdoutTTY: true, home, env });
    expect(tty.code).toBe(0);
    const id = /^(ord_\w+)\s+active$/m.exec(tty.stdout)![1]!;
    expect(tty.stdout).toMatch(/phone\s+\+44\d+\s+\(whatsapp, GB\)/);
    expect(tty.stdout).toMatch(/price\s+\$0\.25/);
    expect(tty.stderr).toContain(`tn wait ${id}`);
    const piped = await run(['status', id], { stdoutTTY: false, home, env });
    expect(piped.stdout).toMatch(new RegExp(`^${id}\\tactive\\twhatsapp\\t\\+44\\d+\\t\\n$`));
  });

  it('account on a terminal says it is the local sandbox', async () => {
    const home = tempDir();
    const r = await run(['account'], { stdoutTTY: true, home, env: { NO_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('local sandbox');
    expect(r.stdout).toMatch(/balance\s+\$10\.00/);
    expect(r.stdout).toMatch(/tier\s+Standard \(0% off\), 20 more completed orders to Silver/);
  });

  it('--quiet keeps stderr free of hints', async () => {
    const home = tempDir();
    const r = await run(['verify', 'nope', '-q'], { stdoutTTY: false, home });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tn: Unknown platform "nope". Run `tn services` for the list.\n');
  });
});
