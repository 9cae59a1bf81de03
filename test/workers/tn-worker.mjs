// A separate OS process acting on a shared tn database through the compiled library (run `npm run build` first).
//
//   node test/workers/tn-worker.mjs <command> <dbFile> <apiKey> '<json options>'
//
// Commands: order-many, race-cancel, race-deliver, place, wait, get.
// With `barrier: true` the worker opens the database, prints "ready" and waits for a line "go" on
// stdin (optionally "go <json>", more options), so that the test can start several workers at the
// same moment, and even hand them orders made after they were ready.
// The last line it prints is `result <json>`.
import { createInterface } from 'node:readline';
import { openCoreOnFile, TnError } from '../../dist/index.js';

const [command, dbFile, apiKey, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? '{}');

/** The system clock, or one stopped at `clockMs` (which may also come with "go"). */
const clock = { now: () => (typeof opts.clockMs === 'number' ? opts.clockMs : Date.now()) };

const core = openCoreOnFile(dbFile, {
  simulator: opts.simulator ?? {},
  clock,
  orderTtlMs: opts.orderTtlMs,
});

async function barrier() {
  if (!opts.barrier) return;
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const m = /^go(?: (.*))?$/.exec(line.trim());
    if (m) {
      Object.assign(opts, JSON.parse(m[1] ?? '{}'));
      break;
    }
  }
  lines.close();
  process.stdin.destroy();
}

const sleepUntil = (at) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

const errorCode = (err) => {
  if (err instanceof TnError) return err.code;
  throw err;
};

async function run(accountId) {
  switch (command) {
    case 'order-many': {
      // All at once: every order of this process in flight together, and every process started together.
      const settled = await Promise.allSettled(
        Array.from({ length: opts.count }, () => core.order(accountId, { platform: opts.platform, country: opts.country })),
      );
      const ok = [];
      const errors = {};
      for (const s of settled) {
        if (s.status === 'fulfilled') ok.push(s.value.order_id);
        else {
          const code = errorCode(s.reason);
          errors[code] = (errors[code] ?? 0) + 1;
        }
      }
      return { ok, errors };
    }
    case 'race-cancel': {
      // Each order at its own moment (`at`, epoch ms) when given, otherwise one after another at once.
      const outcomes = {};
      for (const [i, id] of opts.ids.entries()) {
        if (opts.at) await sleepUntil(opts.at[i]);
        try {
          const order = await core.cancel(accountId, id);
          outcomes[id] = order.status;
        } catch (err) {
          outcomes[id] = errorCode(err);
        }
      }
      return { outcomes };
    }
    case 'race-deliver': {
      // getOrder runs the due work (the SMS) before it reads: poll each order from its moment until it has ended.
      const seen = {};
      for (const [i, id] of opts.ids.entries()) {
        if (opts.at) await sleepUntil(opts.at[i]);
        const giveUp = Date.now() + 5000;
        let status = (await core.getOrder(accountId, id)).status;
        while (status === 'active' && Date.now() < giveUp) {
          await sleepUntil(Date.now() + 1);
          status = (await core.getOrder(accountId, id)).status;
        }
        seen[id] = status;
      }
      return { seen };
    }
    case 'place':
      return { order: await core.order(accountId, { platform: opts.platform, country: opts.country, idempotencyKey: opts.idempotencyKey }) };
    case 'wait': {
      const started = Date.now();
      const order = await core.wait(accountId, opts.orderId, { timeoutMs: opts.timeoutMs });
      return { order, waitedMs: Date.now() - started };
    }
    case 'get':
      return { order: await core.getOrder(accountId, opts.orderId) };
    default:
      throw new Error(`unknown command ${command}`);
  }
}

try {
  const accountId = await core.authenticate(apiKey);
  await barrier();
  const result = await run(accountId);
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
} finally {
  await core.close();
}
