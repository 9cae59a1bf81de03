import { createInterface } from 'node:readline/promises';
import type { IO } from './io.js';

/** Asks on the terminal; anything but y/yes is no. */
export async function confirm(io: IO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdinIsTTY && io.stderrIsTTY });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

type TerminalInput = NodeJS.ReadableStream & { isRaw?: boolean; setRawMode?: (raw: boolean) => unknown };

/**
 * Reads a secret from the terminal without echoing it (an API key must not land in the
 * scrollback). Ctrl-C restores the terminal and stops tn as it would anywhere else.
 */
export function askHidden(io: IO, question: string): Promise<string> {
  const input = io.stdin as unknown as TerminalInput;
  return new Promise((resolve) => {
    const wasRaw = input.isRaw === true;
    // Echo off before the question shows: a key typed the instant it appears must not echo.
    input.setRawMode?.(true);
    io.stderr.write(question);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const finish = (): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      io.stderr.write('\n');
    };
    const onData = (chunk: string | Buffer): void => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          return resolve(value);
        }
        if (ch === '\u0003') {
          finish();
          // Raw mode swallowed the Ctrl-C: deliver it, so tn ends with 130 as usual.
          process.kill(process.pid, 'SIGINT');
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}
