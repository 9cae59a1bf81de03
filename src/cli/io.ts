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
  /** A line that stays on screen above the spinner (the order id, say). */
  note(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
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
  /**
   * The one colour switch, for our own styling, the spinner and its symbols alike: FORCE_COLOR
   * turns it on, NO_COLOR and --no-color off, otherwise on a terminal only. Nothing else reads
   * the environment for colour.
   */
  color: boolean;
  /**
   * Whether a spinner may animate on stderr: a terminal a person watches, one that reports its width
   * (a 0-column pty would make every redraw infinite), not TERM=dumb, not CI.
   */
  readonly animate: boolean;
  /** Set once stderr's terminal is gone (EIO, EPIPE): nothing more is written to it. */
  readonly terminalLost: boolean;
  /** Called once when stderr's terminal goes away, so that a command can end as on Ctrl-C. */
  onTerminalLost(listener: () => void): () => void;
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

const silentSpinner: Spinner = { update() {}, note() {}, succeed() {}, fail() {}, stop() {} };

/** Errors that mean the stream's terminal or reader went away, not that tn did something wrong. */
const GONE = new Set(['EIO', 'EPIPE', 'ENXIO', 'ECONNRESET']);

/** The colour switch before --no-color is seen: FORCE_COLOR, then NO_COLOR, then whether a terminal is there. */
export function colorFromEnv(env: NodeJS.ProcessEnv, terminal: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return terminal;
}

const isCI = (env: NodeJS.ProcessEnv): boolean => env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false';

export interface StreamsIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export function createIO(streams: StreamsIO): IO {
  const stdoutIsTTY = streams.stdout.isTTY === true;
  const stderrIsTTY = streams.stderr.isTTY === true;
  const env = streams.env;
  const width = (): number => streams.stderr.columns ?? 0;
  const animatable = stderrIsTTY && env.TERM !== 'dumb' && !isCI(env);
  let style: Promise<Style> | undefined;
  let lost = false;
  const lostListeners = new Set<() => void>();
  // Without a listener a failed write to a closed terminal would throw from the event loop.
  streams.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (lost || !GONE.has(err.code ?? '')) return;
    lost = true;
    for (const listener of [...lostListeners]) listener();
  });
  const write = (stream: Writable, text: string): void => {
    if (stream === streams.stderr && lost) return;
    stream.write(text);
  };
  const io: IO = {
    stdin: streams.stdin,
    stdout: streams.stdout,
    stderr: streams.stderr,
    stdinIsTTY: streams.stdin.isTTY === true,
    stdoutIsTTY,
    stderrIsTTY,
    env,
    color: colorFromEnv(env, stdoutIsTTY || stderrIsTTY),
    get animate() {
      return animatable && width() > 0;
    },
    get terminalLost() {
      return lost;
    },
    onTerminalLost(listener) {
      lostListeners.add(listener);
      return () => void lostListeners.delete(listener);
    },
    quiet: false,
    out: (text) => write(streams.stdout, text + '\n'),
    err: (text) => {
      if (!io.quiet) write(streams.stderr, text + '\n');
    },
    style() {
      if (!io.color) return Promise.resolve(plain);
      // chalk is loaded only when something is actually coloured; its level is ours, not its own guess from the environment.
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
      if (!stderrIsTTY || io.quiet || lost) return silentSpinner;
      const s = await io.style();
      const done = (symbol: string, t: string): void => io.err(`${symbol} ${t}`);
      if (!io.animate) return lineSpinner(io, s, text);
      const { default: ora } = await import('ora');
      // Colour and symbols are passed in from our switch: ora's own would read the environment again.
      const spin = ora({ text, stream: streams.stderr, color: io.color ? 'cyan' : false, isEnabled: true, discardStdin: false }).start();
      let active = true;
      const stop = (): void => {
        if (!active) return;
        active = false;
        streams.stderr.removeListener('resize', onResize);
        unwatch();
        spin.stop();
      };
      // A terminal shrunk to 0 columns mid-spin: stop animating before ora redraws at that width.
      const onResize = (): void => {
        if (width() <= 0) stop();
      };
      streams.stderr.on('resize', onResize);
      const unwatch = io.onTerminalLost(stop);
      return {
        update: (t) => {
          if (active) spin.text = t;
        },
        note: (t) => {
          if (!active) return io.err(t);
          spin.clear();
          io.err(t);
          spin.render();
        },
        succeed: (t) => {
          stop();
          done(s.green('✔'), t);
        },
        fail: (t) => {
          stop();
          done(s.red('✖'), t);
        },
        stop,
      };
    },
  };
  return io;
}

/** Progress on a terminal that cannot animate (0 columns, TERM=dumb, CI): each step once, on its own line. */
function lineSpinner(io: IO, s: Style, text: string): Spinner {
  let last = text;
  io.err(text);
  return {
    update: (t) => {
      if (t !== last) io.err((last = t));
    },
    note: (t) => io.err(t),
    succeed: (t) => io.err(`${s.green('✔')} ${t}`),
    fail: (t) => io.err(`${s.red('✖')} ${t}`),
    stop: () => undefined,
  };
}

export const processIO = (): IO =>
  createIO({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
