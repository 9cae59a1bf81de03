#!/usr/bin/env node
// Cold-start benchmark: the median wall time of whole `tn` processes against `node -e 0`,
// measured in the same run and environment, printed as ratios. Usage: npm run bench [-- --runs 31]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tn = join(root, 'bin', 'tn.js');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 21;

const home = mkdtempSync(join(tmpdir(), 'tn-bench-'));
// A clean environment, the same for the baseline: variables such as NODE_EXTRA_CA_CERTS (which
// alone makes `node -e 0` three times slower here) or NODE_OPTIONS would hide the difference.
const env = { PATH: process.env.PATH, HOME: home, TN_CONFIG_DIR: join(home, 'config'), TN_DATA_DIR: join(home, 'data'), TN_SIM_DELAY_MS: '0', NO_COLOR: '1' };

const cases = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'tn --version', args: [tn, '--version'] },
  { name: 'tn --help', args: [tn, '--help'] },
  { name: 'tn services --json', args: [tn, 'services', '--json'] },
  { name: 'tn verify instagram', args: [tn, 'verify', 'instagram'] },
];

function once(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

// Warm the file cache and create the sandbox account, so every measured run does the same work.
for (const c of cases) once(c.args);
const samples = cases.map(() => []);
// Interleaved, so a burst of load on the machine touches every case alike.
for (let i = 0; i < runs; i++) cases.forEach((c, j) => samples[j].push(once(c.args)));
rmSync(home, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const base = median(samples[0]);
console.log(`median of ${runs} runs each, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('command                    median ms   × node -e 0');
cases.forEach((c, j) => {
  const m = median(samples[j]);
  console.log(`${c.name.padEnd(26)} ${m.toFixed(1).padStart(9)}   ${(m / base).toFixed(2).padStart(10)}`);
});
