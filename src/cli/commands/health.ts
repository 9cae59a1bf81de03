import { EXIT } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson } from '../output.js';

export const defineHealth: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('health')
    .description('Check that the endpoint answers and its database can be read')
    .action(async () => ctx.exit(await runHealth(ctx.factory())));
  examples(cmd, ['tn health', 'tn health --endpoint http://127.0.0.1:8787 --json']);
};

export async function runHealth(f: Factory): Promise<number> {
  const endpoint = await f.endpoint();
  let health: { status: string; uptime_seconds?: number; version: string };
  if (endpoint === 'local') {
    const [core, { VERSION }] = await Promise.all([f.core(), import('../version.js')]);
    await core.ping();
    health = { status: 'ok', version: VERSION };
  } else {
    const { RemoteBroker } = await import('../../client/remote.js');
    const remote = new RemoteBroker({ endpoint });
    try {
      health = await remote.health();
    } finally {
      await remote.close();
    }
  }
  if (f.globals.json) printJson(f.io, { endpoint, ...health });
  else f.io.out(`${endpoint}\t${health.status}\t${health.version}${health.uptime_seconds === undefined ? '' : `\tup ${health.uptime_seconds}s`}`);
  return health.status === 'ok' ? EXIT.ok : EXIT.unavailable;
}
