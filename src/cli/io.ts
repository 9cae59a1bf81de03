import type { Readable, Writable } from 'node:stream';

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export interface Spinner {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  /** A line that stays above the spinner, which goes on spinning. */
  note(text: string): void;
  stop(): void;
}

/**
 * The process's streams and what they are connected to. Commands print through this only, so
 * colour and spinners appear on terminals alone and tests can fake either side.
 */
export interface IO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Colour for stdout and stderr: only on a terminal, and never when NO_COLOR or --no-color says no. */
  color: boolean;
  /** -q/--quiet: no hints or progress on stderr. */
  quiet: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Progress on stderr: a spinner on a terminal, nothing otherwise. */
  spinner(text: string): Promise<Spinner>;
  style(): Promise<Style>;
}

const plain: Style = {
  bold: (t) => t,
  dim: (t) => t,
  green: (t) => t,
  red: (t) => t,
  yellow: (t) => t,
  cyan: (t) => t,
};

const silentSpinner: Spinner = { update() {}, succeed() {}, fail() {}, note() {}, stop() {} };

export interface StreamsIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export function createIO(streams: StreamsIO): IO {
  const stdoutIsTTY = streams.stdout.isTTY === true;
  const stderrIsTTY = streams.stderr.isTTY === true;
  let style: Promise<Style> | undefined;
  const io: IO = {
    stdin: streams.stdin,
    stdout: streams.stdout,
    stderr: streams.stderr,
    stdinIsTTY: streams.stdin.isTTY === true,
    stdoutIsTTY,
    stderrIsTTY,
    env: streams.env,
    color: (stdoutIsTTY || stderrIsTTY) && !('NO_COLOR' in streams.env && streams.env.NO_COLOR !== ''),
    quiet: false,
    out: (text) => void streams.stdout.write(text + '\n'),
    err: (text) => {
      if (!io.quiet) streams.stderr.write(text + '\n');
    },
    style() {
      if (!io.color) return Promise.resolve(plain);
      // chalk is loaded only when something is actually coloured.
      style ??= import('chalk').then(({ Chalk }) => {
        const chalk = new Chalk({ level: 1 });
        return {
          bold: (t) => chalk.bold(t),
          dim: (t) => chalk.dim(t),
          green: (t) => chalk.green(t),
          red: (t) => chalk.red(t),
          yellow: (t) => chalk.yellow(t),
          cyan: (t) => chalk.cyan(t),
        } satisfies Style;
      });
      return style;
    },
    async spinner(text) {
      if (!stderrIsTTY || io.quiet) return silentSpinner;
      const { default: ora } = await import('ora');
      const spin = ora({ text, stream: streams.stderr, color: 'cyan', isEnabled: true, discardStdin: false }).start();
      if (!io.color) spin.color = 'white';
      return {
        update: (t) => void (spin.text = t),
        succeed: (t) => void spin.succeed(t),
        fail: (t) => void spin.fail(t),
        note: (t) => {
          const current = spin.text;
          spin.stopAndPersist({ symbol: '↻', text: t });
          spin.start(current);
        },
        stop: () => void spin.stop(),
      };
    },
  };
  return io;
}

export const processIO = (): IO =>
  createIO({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
