import { describe, expect, it } from 'vitest';
import { makeSandbox, runTn, type OrderJson } from './cli-helpers.js';
import { activeOrderId } from './support/orders.js';
import { hasScript, ptyExit, runInPty } from './support/pty.js';

/**
 * `tn verify` in real pseudo-terminals (util-linux `script`), of the shapes people and CI runners
 * actually give it. Needs `npm run build` first.
 */

// A spinner redraw: the cursor moved up a line, or the line erased.
const REDRAW = /\u001b\[1A|\u001b\[2K|\u001b\[0K/; // eslint-disable-line no-control-regex
const COLOUR = /\u001b\[3\dm/; // eslint-disable-line no-control-regex
// Any SGR that sets a colour or an attribute (a bare reset, ESC[0m or ESC[m, is no colour).
const ANY_COLOUR = /\u001b\[(?!0?m)[0-9;]*m/; // eslint-disable-line no-control-regex

describe.skipIf(!hasScript)('tn verify in a real terminal', () => {
  it('a 0×0 pty (docker exec, some CI runners): no spinner, the code, exit 0, within the timeout', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '500' });
    const run = runInPty(['verify', 'instagram'], box.env, { cols: 0, rows: 0 });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
    const { screen } = await run.done;
    clearTimeout(timer);
    expect(ptyExit(screen), screen.slice(0, 2000)).toBe(0);
    expect(screen).toMatch(/^\d{6}\r?$/m);
    expect(screen).not.toMatch(REDRAW);
    // Progress still shows, once per step, with the order id as soon as it exists.
    expect(screen).toContain('Ordering an Instagram number…');
    expect(screen).toMatch(/Order ord_\w+: \+\d+ \(instagram, /);
  });

  for (const [what, env] of [
    ['TERM=dumb', { TERM: 'dumb' }],
    ['CI=1', { CI: '1' }],
  ] as const) {
    it(`${what} on an 80×24 pty: progress as plain lines, no spinner redraws`, async ({ onTestFinished }) => {
      const box = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '400', ...env });
      const run = runInPty(['verify', 'telegram'], box.env, { cols: 80, rows: 24 });
      const { screen } = await run.done;
      expect(ptyExit(screen)).toBe(0);
      expect(screen).not.toMatch(REDRAW);
      expect(screen).toContain('Code received on +');
    });
  }

  it('an ordinary 80×24 terminal still gets the spinner', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '400', TERM: 'xterm-256color' });
    const { screen } = await runInPty(['verify', 'telegram'], box.env, { cols: 80, rows: 24 }).done;
    expect(ptyExit(screen)).toBe(0);
    expect(screen).toMatch(REDRAW);
    expect(screen).toMatch(COLOUR);
  });

  for (const [what, args, env] of [
    ['NO_COLOR=1', [], { NO_COLOR: '1' }],
    ['--no-color', ['--no-color'], {}],
    ['--no-color over FORCE_COLOR=1', ['--no-color'], { FORCE_COLOR: '1' }],
  ] as const) {
    it(`${what}: the spinner animates without a single colour, its glyph and the final ✔ included`, async ({ onTestFinished }) => {
      const box = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '400', TERM: 'xterm-256color', ...env });
      const { screen } = await runInPty(['verify', 'telegram', ...args], box.env, { cols: 80, rows: 24 }).done;
      expect(ptyExit(screen)).toBe(0);
      expect(screen).toMatch(REDRAW);
      expect(screen).toContain('✔ Code received');
      expect(screen).not.toMatch(ANY_COLOUR);
    });
  }

  it('the terminal closing mid-verify (SIGHUP) ends it as Ctrl-C does: the order is cancelled and refunded', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '120000', TERM: 'xterm-256color' });
    // The sandbox account first: two first runs at once would each create one.
    await box.run(['account']);
    const run = runInPty(['verify', 'instagram', '--timeout', '300'], box.env, { cols: 80, rows: 24 });
    onTestFinished(() => void run.child.kill('SIGKILL'));
    const id = await activeOrderId(box.env);
    // The terminal goes away: `script` dies and its pty with it.
    run.child.kill('SIGKILL');
    let order: OrderJson | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const status = await runTn(['status', id!, '--json'], box.env);
      order = JSON.parse(status.stdout) as OrderJson;
      if (order.status !== 'active') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(order).toMatchObject({ order_id: id, status: 'cancelled', refunded: true });
  });
});
