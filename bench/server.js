// Server benchmark: tn serve against a bare node:http server answering a fixed JSON body, both in
// their own processes, loaded by autocannon from this one with the same connection count.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, fetch, request } from 'undici';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tn = join(root, 'bin', 'tn.js');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = 50;

/** Starts a process and resolves with its URL once it says it listens. */
function start(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

const stop = (child) => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGKILL'))));

async function load(url, options = {}) {
  const result = await autocannon({ url, connections, duration: seconds, ...options });
  if (result.non2xx > result.requests.total * 0.01) throw new Error(`${result.non2xx} non-2xx answers of ${result.requests.total} for ${url}`);
  return result.requests.average;
}

const progress = (text) => process.stderr.write(`  ${text}\n`);
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const home = mkdtempSync(join(tmpdir(), 'tn-bench-server-'));
const env = { TN_CONFIG_DIR: join(home, 'c'), TN_DATA_DIR: join(home, 'd'), NO_COLOR: '1' };
const db = join(home, 'tn.db');
const runTn = (args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tn, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`tn ${args.join(' ')} exited ${code}`))));
  });

const results = [];
try {
  // Baseline: the least an HTTP server on this Node can do.
  const bare = await start(
    [
      '-e',
      `const body = JSON.stringify({ order_id: 'ord_1', status: 'completed', code: '123456' });
       require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(body); })
         .listen(0, '127.0.0.1', function () { console.error('listening on http://127.0.0.1:' + this.address().port); });`,
    ],
    {},
  );
  progress('bare node:http');
  const baseline = await load(bare.url);
  await stop(bare.child);

  // SMS deliveries fall due after the run, so POST /order measures the order path alone.
  const server = await start([tn, 'serve', '--port', '0', '--db', db, '--rate-limit', '0', '--register-limit', '0', '--sim-delay', '60000', '-q'], env);
  const [accountId, apiKey] = (await runTn(['register', '--endpoint', server.url])).split('\t');
  await runTn(['admin', 'credit', accountId, '1000000', '--db', db]);
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const dispatcher = new Agent({ connections: 6000 });
  const post = async (base, path, body) => {
    const res = await request(`${base}/api/v1${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body), dispatcher, headersTimeout: 120_000, bodyTimeout: 120_000 });
    return { status: res.statusCode, body: await res.body.json(), at: Date.now() };
  };

  const { body: one } = await post(server.url, '/order', { platform: 'instagram' });
  if (!one.order_id) throw new Error(`POST /order failed: ${JSON.stringify(one)}`);
  progress('GET /order/:id');
  const getOrder = await load(`${server.url}/api/v1/order/${one.order_id}`, { headers: auth });

  // Orders spread over every platform, so the simulator's stock is not the limit.
  const platforms = JSON.parse(await runTn(['services', '--json', '--endpoint', server.url])).services.map((s) => s.platform);
  let i = 0;
  progress('POST /order');
  const postOrder = await load(`${server.url}/api/v1/order`, {
    method: 'POST',
    headers: auth,
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ platform: platforms[i++ % platforms.length] }) }) }],
  });
  await stop(server.child);

  // From the SMS arriving (its due time, which becomes completed_at) to the verify client holding the code.
  const latencyServer = await start([tn, 'serve', '--port', '0', '--db', db, '--rate-limit', '0', '--sim-delay', '50', '-q'], env);
  progress('SMS → verify latency');
  const latencies = [];
  const verifyRound = (platform) => Promise.all(Array.from({ length: 10 }, () => post(latencyServer.url, '/verify', { platform, timeout_seconds: 30 })));
  // One round first, not counted: the server's first verifies compile its code paths (20-30 ms).
  await verifyRound(platforms[0]);
  for (let round = 0; round < 20; round++) {
    const answers = await verifyRound(platforms[round % platforms.length]);
    for (const a of answers) if (a.body.completed_at) latencies.push(a.at - Date.parse(a.body.completed_at));
  }
  await stop(latencyServer.child);

  // 5,000 verify long polls open at once (no SMS ever comes): the server's resident memory.
  const idle = await start([tn, 'serve', '--port', '0', '--db', db, '--rate-limit', '0', '--sim-no-sms-rate', '1', '-q'], env);
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${idle.child.pid}/status`, 'utf8'))[1]) / 1024;
  progress('5,000 open verify waits');
  const before = rss();
  const account = async () => (await request(`${idle.url}/api/v1/account`, { headers: auth, dispatcher })).body.json();
  const ordersBefore = (await account()).stats.orders;
  const waits = Array.from({ length: 5000 }, (_, k) => post(idle.url, '/verify', { platform: platforms[k % platforms.length], timeout_seconds: 120 }).catch(() => undefined));
  for (let t = 0; t < 120 && (await account()).stats.orders < ordersBefore + 5000; t++) await new Promise((r) => setTimeout(r, 500));
  const during = rss();
  await stop(idle.child);
  await Promise.allSettled(waits);
  await dispatcher.close();

  // PostgreSQL: the same two routes with one instance, then two instances sharing the database
  // (load split over both), as ratios against the single SQLite instance above.
  const pgRows = [];
  const pgAdmin = process.env.TN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  let pgClient;
  try {
    const { default: pg } = await import('pg');
    pgClient = new pg.Client({ connectionString: pgAdmin });
    await pgClient.connect();
  } catch {
    pgClient = undefined;
    progress('PostgreSQL not reachable: its rows are left out');
  }
  if (pgClient) {
    const name = `tn_bench_${Date.now()}`;
    await pgClient.query(`CREATE DATABASE ${name}`);
    const pgUrl = Object.assign(new URL(pgAdmin), { pathname: `/${name}` }).toString();
    try {
      const serveArgs = [tn, 'serve', '--port', '0', '--db', pgUrl, '--rate-limit', '0', '--register-limit', '0', '--sim-delay', '60000', '-q'];
      const one = await start(serveArgs, env);
      const [pgAccount, pgKey] = (await runTn(['register', '--endpoint', one.url])).split('\t');
      await runTn(['admin', 'credit', pgAccount, '1000000', '--db', pgUrl]);
      const pgAuth = { authorization: `Bearer ${pgKey}`, 'content-type': 'application/json' };
      const first = await (await fetch(`${one.url}/api/v1/order`, { method: 'POST', headers: pgAuth, body: JSON.stringify({ platform: 'instagram' }) })).json();
      const orderLoad = (url, c) => ({
        url: `${url}/api/v1/order`,
        method: 'POST',
        headers: pgAuth,
        connections: c,
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ platform: platforms[i++ % platforms.length] }) }) }],
      });
      progress('PostgreSQL, one instance');
      const getOne = await load(`${one.url}/api/v1/order/${first.order_id}`, { headers: pgAuth });
      const postOne = await load(orderLoad(one.url, connections).url, orderLoad(one.url, connections));
      const two = await start(serveArgs, env);
      progress('PostgreSQL, two instances');
      const half = connections / 2;
      const getTwo = (await Promise.all([one, two].map((x) => load(`${x.url}/api/v1/order/${first.order_id}`, { headers: pgAuth, connections: half })))).reduce((a, b) => a + b, 0);
      const postTwo = (await Promise.all([one, two].map((x) => load(orderLoad(x.url, half).url, orderLoad(x.url, half))))).reduce((a, b) => a + b, 0);
      await stop(one.child);
      await stop(two.child);
      pgRows.push(
        ['GET /order/:id, PostgreSQL, 1 instance', `${getOne.toFixed(0)} req/s`, `${(getOne / getOrder).toFixed(2)} × SQLite`],
        ['GET /order/:id, PostgreSQL, 2 instances', `${getTwo.toFixed(0)} req/s`, `${(getTwo / getOrder).toFixed(2)} × SQLite`],
        ['POST /order, PostgreSQL, 1 instance', `${postOne.toFixed(0)} req/s`, `${(postOne / postOrder).toFixed(2)} × SQLite`],
        ['POST /order, PostgreSQL, 2 instances', `${postTwo.toFixed(0)} req/s`, `${(postTwo / postOrder).toFixed(2)} × SQLite`],
      );
    } finally {
      await pgClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await pgClient.end();
    }
  }

  results.push(
    ['bare node:http, fixed JSON (baseline)', `${baseline.toFixed(0)} req/s`, '1.00'],
    ['GET /api/v1/order/:id', `${getOrder.toFixed(0)} req/s`, (getOrder / baseline).toFixed(2)],
    ['POST /api/v1/order (durable)', `${postOrder.toFixed(0)} req/s`, (postOrder / baseline).toFixed(2)],
    ['SMS arrival → verify answer', `p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${latencies.length} verifies)`, ''],
    ['5,000 open verify waits', `RSS ${during.toFixed(0)} MB (idle ${before.toFixed(0)} MB)`, ''],
    ...pgRows,
  );
  console.log(`\nserver: autocannon, ${connections} connections, ${seconds} s each, node ${process.version}`);
  for (const [name, value, ratio] of results) console.log(`${name.padEnd(40)} ${value.padEnd(44)} ${ratio}`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
