import { DEFAULT_RATE_LIMITS } from '../../core/limits.js';
import { InvalidArgumentError } from 'commander';
import { examples, integerIn, publicUrlArgument, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';

export interface ServeOptions {
  host: string;
  port: number;
  db?: string;
  simDelay?: number;
  simNoSmsRate?: number;
  rateLimit?: number;
  registerLimit?: number;
  config?: string;
  allowPrivateWebhooks: boolean;
  webhookRetrySchedule?: number[];
  trustProxy: boolean;
  publicUrl?: string;
  metrics: boolean;
}

export const defineServe: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('serve')
    .description('Run the Telenumerus HTTP API on the broker core, for a team to share')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'port (0 picks a free one)', integerIn(0, 65535, 'port'), 8787)
    .option('--db <file|url>', "SQLite database file, or postgres://… for many instances on one PostgreSQL (env TN_DB_URL; default: the embedded broker's file)")
    .option('--sim-delay <ms>', 'simulator: milliseconds before each SMS (default: random 1–4 s)', integerIn(0, 3_600_000, 'sim-delay'))
    .option('--sim-no-sms-rate <rate>', 'simulator: share of orders that never get an SMS, 0–1', parseRate)
    .option('--rate-limit <n>', `requests per second per API key, bursts up to 2n; 0 turns limits off (default ${DEFAULT_RATE_LIMITS.perKeyPerSecond})`, integerIn(0, 1_000_000, 'rate-limit'))
    .option('--register-limit <n>', `register calls per hour per client IP; 0 turns it off (default ${DEFAULT_RATE_LIMITS.registerPerHour})`, integerIn(0, 1_000_000, 'register-limit'))
    .option('--config <file>', 'JSON settings: per-route rate limits, the delivery-rate guard, slow-client timeouts, crypto deposits (flags win over it)')
    .option('--allow-private-webhooks', 'deliver webhooks to private and loopback addresses too (local development)', false)
    .option('--webhook-retry-schedule <ms,…>', 'milliseconds before each delivery try (default 0,5s,5m,30m,2h,5h,10h,10h)', parseSchedule)
    .option('--trust-proxy', 'take the client address from X-Forwarded-For (behind a reverse proxy)', false)
    .option('--public-url <url>', 'the URL gateways call this server at, e.g. https://tn.example.com (Twilio signs it)', publicUrlArgument)
    .option('--metrics', "serve Prometheus metrics at GET /metrics on the same port, unauthenticated: keep it from the public at the proxy", false)
    .action(async (opts: ServeOptions) => ctx.exit(await runServe(opts, ctx.factory())));
  examples(cmd, ['tn serve', 'tn serve --port 8787 --db ./tn.db', 'tn serve --host 0.0.0.0 --trust-proxy --rate-limit 50', 'tn serve --sim-delay 0 --rate-limit 0   # benchmarks',
    'tn serve --config ./tn-serve.json      # per-route limits, delivery-rate guard, routing',
    'tn serve --host 0.0.0.0 --public-url https://tn.example.com   # gateways post SMS here',
    'tn serve --db /var/lib/tn/tn.db --port 8080 --metrics   # Prometheus scrapes /metrics']);
};

function parseSchedule(value: string): number[] {
  const steps = value.split(',').map((v) => Number(v.trim()));
  if (steps.length === 0 || steps.length > 20 || steps.some((n) => !Number.isInteger(n) || n < 0 || n > 7 * 86_400_000)) {
    throw new InvalidArgumentError('a comma-separated list of 1 to 20 millisecond delays, e.g. 0,100,500');
  }
  return steps;
}

function parseRate(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('the rate is a number from 0 to 1');
  return n;
}

export async function runServe(opts: ServeOptions, f: Factory): Promise<number> {
  const [{ startServer }, { localDatabase }, { VERSION }] = await Promise.all([
    import('../../server/serve.js'),
    import('../paths.js'),
    import('../version.js'),
  ]);
  // The config validator is loaded only when there is a config file to check.
  const config: import('../../server/config.js').ServeConfig = opts.config ? (await import('../../server/config.js')).readServeConfig(opts.config) : {};
  const guard = config.deliveryGuard;
  const db = opts.db ?? (f.io.env.TN_DB_URL || localDatabase(f.io.env));
  f.databaseFile = db;
  const server = await startServer({
    host: opts.host,
    port: opts.port,
    db,
    version: VERSION,
    simulator: { delayMs: opts.simDelay, noSmsRate: opts.simNoSmsRate },
    rateLimits: {
      perKeyPerSecond: opts.rateLimit ?? config.rateLimits?.perKeyPerSecond ?? DEFAULT_RATE_LIMITS.perKeyPerSecond,
      registerPerHour: opts.registerLimit ?? config.rateLimits?.registerPerHour ?? DEFAULT_RATE_LIMITS.registerPerHour,
      routes: config.rateLimits?.routes,
    },
    deliveryGuard: guard === undefined ? undefined : guard === false ? false : { minOrders: guard.minOrders, minRate: guard.minRate, windowMs: guard.windowHours * 3600_000 },
    trustProxy: opts.trustProxy,
    log: !f.globals.quiet,
    allowPrivateWebhooks: opts.allowPrivateWebhooks,
    webhookSchedule: opts.webhookRetrySchedule,
    publicUrl: opts.publicUrl,
    metrics: opts.metrics,
    successFloor: config.routing?.successFloor,
    deposits: config.deposits,
    timeouts: {
      headersMs: config.timeouts?.headersSeconds === undefined ? undefined : Math.ceil(config.timeouts.headersSeconds * 1000),
      requestMs: config.timeouts?.requestSeconds === undefined ? undefined : Math.ceil(config.timeouts.requestSeconds * 1000),
    },
  });
  // Printed even with --quiet: with --port 0 it is the only way to learn the address.
  f.io.stderr.write(`tn serve ${VERSION}: listening on ${server.url} (database ${redactUrl(db)}). Ctrl-C stops.\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  f.io.err(`tn serve: ${signal}: answering requests in flight, then stopping.`);
  await server.stop();
  f.io.err('tn serve: stopped.');
  return 0;
}

/** A database URL as it may be printed: without its password. */
export function redactUrl(db: string): string {
  return db.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
}
