import { render } from 'ink';
import { EXIT, TnError } from '../core/errors.js';
import type { Broker } from '../core/broker.js';
import { App } from './app.js';
import { exitNotice, Session } from './session.js';

/** The alternate screen: the app draws there and the shell's screen comes back intact on exit. */
const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H\u001b[2J';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';

/**
 * `tn ui`: the full-screen app on the factory's broker. Returns once the person quits; orders still
 * waiting are left running on the broker and named on stderr.
 */
export interface UiTerminal {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  color: boolean;
}

export async function runUi(io: UiTerminal, openBroker: () => Promise<Broker>, country: string): Promise<number> {
  if (!io.stdinIsTTY || !io.stdoutIsTTY) {
    throw new TnError('invalid_request', '`tn ui` needs a terminal; in scripts use `tn verify`, `tn order` or `tn services`.');
  }
  const broker = await openBroker();
  const session = new Session();
  const stdout = io.stdout as NodeJS.WriteStream;

  let onScreen = true;
  const restore = (): void => {
    if (onScreen) stdout.write(LEAVE_ALT_SCREEN);
    onScreen = false;
  };
  stdout.write(ENTER_ALT_SCREEN);
  // Also on a signal or a crash, the shell gets its screen back.
  process.once('exit', restore);
  try {
    const app = render(<App broker={broker} color={io.color} country={country} session={session} />, {
      stdin: io.stdin as NodeJS.ReadStream,
      stdout,
      stderr: io.stderr as NodeJS.WriteStream,
      exitOnCtrlC: false,
      patchConsole: true,
    });
    await app.waitUntilExit();
  } finally {
    restore();
    process.off('exit', restore);
  }
  for (const line of exitNotice(await session.waiting(broker))) io.stderr.write(line + '\n');
  return EXIT.ok;
}
