import { text } from 'node:stream/consumers';
import { EXIT, TnError } from '../../core/errors.js';
import { looksLikeApiKey, secretHint } from '../../core/ids.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, usd } from '../output.js';

/** `register`, `login`, `logout`: how an endpoint and its key get into the config file. */
export const defineAuth: DefineCommand = (program, ctx) => {
  const register = program
    .command('register')
    .description('Create an account on the endpoint and save its key (shown once); it becomes the default endpoint')
    .action(async () => ctx.exit(await runRegister(ctx.factory())));
  examples(register, ['tn register --endpoint http://127.0.0.1:8787', 'tn register --endpoint https://tn.example.com --json']);

  const login = program
    .command('login')
    .description('Save an existing API key for the endpoint (checked first); it becomes the default endpoint')
    .option('--key <key>', 'the API key, or - to read it from stdin (keeps it out of shell history); on a terminal, asked for without echo when absent')
    .action(async (opts: { key?: string }) => ctx.exit(await runLogin(opts, ctx.factory())));
  examples(login, [
    'tn login --endpoint https://tn.example.com      # asks for the key, without echo',
    'tn login --endpoint http://127.0.0.1:8787 --key vn_…',
    'pass show tn | tn login --endpoint https://tn.example.com --key -',
  ]);

  const logout = program
    .command('logout')
    .description('Forget the API key of the endpoint')
    .action(async () => ctx.exit(await runLogout(ctx.factory())));
  examples(logout, ['tn logout', 'tn logout --endpoint http://127.0.0.1:8787']);
};

export async function runRegister(f: Factory): Promise<number> {
  const endpoint = await f.endpoint();
  const config = await f.config();
  let registration;
  if (endpoint === 'local') {
    const { SANDBOX_CREDIT } = await import('../../core/accounts/accounts.js');
    registration = await (await f.core()).register({ credit: SANDBOX_CREDIT, sandbox: true, note: 'local sandbox credit' });
  } else {
    const { RemoteBroker } = await import('../../client/remote.js');
    const remote = new RemoteBroker({ endpoint });
    try {
      registration = await remote.register();
    } finally {
      await remote.close();
    }
  }
  await config.setApiKey(endpoint, registration.api_key);
  await config.set('endpoint', endpoint);
  if (f.globals.json) printJson(f.io, registration);
  else if (f.io.stdoutIsTTY) {
    f.io.out(`Registered ${registration.account_id} at ${endpoint} (balance ${usd(registration.balance)}).`);
    f.io.out(`API key (shown once, saved in ${config.path}): ${registration.api_key}`);
  } else f.io.out(`${registration.account_id}\t${registration.api_key}`);
  return EXIT.ok;
}

export async function runLogin(opts: { key?: string }, f: Factory): Promise<number> {
  let key: string;
  if (opts.key === undefined) {
    if (!f.io.stdinIsTTY) throw new TnError('invalid_request', 'No key given: pass --key <key>, or --key - to read it from stdin.');
    const { askHidden } = await import('../prompt.js');
    key = (await askHidden(f.io, `API key for ${await f.endpoint()}: `)).trim();
  } else key = opts.key === '-' ? (await text(f.io.stdin)).trim() : opts.key.trim();
  if (!looksLikeApiKey(key)) throw new TnError('invalid_request', 'That does not look like an API key (vn_ followed by at least 32 letters and digits).');
  const endpoint = await f.endpoint();
  const account = await accountFor(f, endpoint, key);
  const config = await f.config();
  await config.setApiKey(endpoint, key);
  await config.set('endpoint', endpoint);
  if (f.globals.json) printJson(f.io, { endpoint, account_id: account.account_id });
  else f.io.err(`Logged in to ${endpoint} as ${account.account_id} (key ${secretHint(key)}).`);
  return EXIT.ok;
}

export async function runLogout(f: Factory): Promise<number> {
  const endpoint = await f.endpoint();
  const config = await f.config();
  const had = config.apiKeyFor(endpoint) !== undefined;
  await config.setApiKey(endpoint, undefined);
  if (f.globals.json) printJson(f.io, { endpoint, logged_out: had });
  else f.io.err(had ? `Forgot the key for ${endpoint}.` : `No key was saved for ${endpoint}.`);
  return EXIT.ok;
}

/** Checks a key against the endpoint before saving it. */
async function accountFor(f: Factory, endpoint: string, key: string): Promise<{ account_id: string }> {
  if (endpoint === 'local') {
    const core = await f.core();
    return { account_id: await core.authenticate(key) };
  }
  const { RemoteBroker } = await import('../../client/remote.js');
  const remote = new RemoteBroker({ endpoint, apiKey: key });
  try {
    return await remote.account();
  } finally {
    await remote.close();
  }
}
