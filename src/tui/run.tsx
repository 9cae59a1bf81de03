import { render } from 'ink';
import { EXIT, TnError } from '../core/errors.js';
import type { Factory } from '../cli/factory.js';
import { App } from './app.js';
import { exitNotice, Session } from './session.js';

/** The alternate screen: the app draws there and the shell's screen comes back intact on exit. */
const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H\u001b[2J';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';

/**
 * `tn ui`: the full-screen app on the factory's broker. Returns once the person quits; orders still
 * waiting are left running on the broker and named on stderr.
 */
export async function runUi(f: Factory): Promise<number> {
  const { io } = f;
  if (!io.stdinIsTTY || !io.stdoutIsTTY) {
    throw new TnError('invalid_request', '`tn ui` needs a terminal; in scripts use `tn verify`, `tn order` or `tn services`.');
  }
  const broker = await f.broker();
  const country = await defaultCountry(f);
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

/** `tn config set country` if set, else `any`. */
async function defaultCountry(f: Factory): Promise<string> {
  try {
    const value = (await f.config()).get('country');
    return typeof value === 'string' && value ? value : 'any';
  } catch {
    return 'any';
  }
}
