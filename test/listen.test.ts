import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { tempDir } from './helpers.js';

const TN = join(import.meta.dirname, '..', 'bin', 'tn.js');
const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TN_CONFIG_DIR: join(home, 'config'), TN_DATA_DIR: join(home, 'data'), NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('TN_') && k !== 'TN_CONFIG_DIR' && k !== 'TN_DATA_DIR') delete env[k];
  return env;
}

/** Starts a long-running tn process and resolves once its stderr matches `ready`. */
function start(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray; out: () => string; err: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const match = ready.exec(err);
      if (match) resolve({ child, match, out: () => out, err: () => err });
    });
    child.on('exit', (code) => reject(new Error(`tn ${args.join(' ')} exited ${code}: ${err}`)));
  });
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tn listen', () => {
  it('forwards every event, signed with the account secret, to a local app written with standardwebhooks', async () => {
    const home = tempDir();
    const env = cleanEnv(home);
    const db = join(home, 'tn.db');
    const server = await start(['serve', '--port', '0', '--db', db, '--sim-delay', '100', '-q'], env, /listening on (http:\/\/[\d.:]+)/);
    const url = server.match[1]!;
    const registered = await run(['register', '--endpoint', url], env);
    expect(registered.code).toBe(0);
    const [accountId] = registered.stdout.trim().split('\t');
    expect((await run(['admin', 'credit', accountId!, '1.20', '--db', db], env)).code).toBe(0);
    const secret = JSON.parse((await run(['webhook', 'show', '--reveal', '--json'], env)).stdout).secret as string;

    const received: { id: string; type: string }[] = [];
    const app = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        try {
          const payload = new Webhook(secret).verify(body, req.headers as Record<string, string>) as { type: string };
          received.push({ id: String(req.headers['webhook-id']), type: payload.type });
          res.writeHead(202).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    servers.push(app);
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const port = (app.address() as { port: number }).port;

    const listener = await start(['listen', '--forward-to', `http://127.0.0.1:${port}/hook`], env, /Ready: listening/);
    const verified = await run(['verify', 'instagram'], env);
    expect(verified.code).toBe(0);
    expect((await run(['order', 'whatsapp'], env)).code).toBe(0);

    await until(() => received.length >= 3);
    expect(received.map((r) => r.type)).toEqual(['sms.received', 'balance.low', 'sms.received']);
    expect(new Set(received.map((r) => r.id)).size).toBe(3);
    for (const r of received) expect(r.id).toMatch(/^msg_[0-9A-Z]{26}$/);
    await until(() => listener.out().trim().split('\n').length >= 3);
    const lines = listener.out().trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`sms\\.received\\s+ord_\\w+ instagram \\+\\d+ code ${verified.stdout.trim()}\\s+→ 202$`));
    expect(lines[1]).toMatch(/balance\.low\s+balance \$0\.83 below \$1\.00\s+→ 202$/);
    listener.child.kill('SIGINT');
    await new Promise((r) => listener.child.once('exit', r));
    expect(listener.child.exitCode).toBe(0);
  });

  it('--json prints one JSON line per event, --events filters, and it resumes where it left off after the server restarts', async () => {
    const home = tempDir();
    const env = cleanEnv(home);
    const db = join(home, 'tn.db');
    let server = await start(['serve', '--port', '0', '--db', db, '--sim-delay', '50', '-q'], env, /listening on (http:\/\/[\d.:]+)/);
    const url = server.match[1]!;
    const port = url.split(':').at(-1)!;
    const [accountId] = (await run(['register', '--endpoint', url], env)).stdout.trim().split('\t');
    await run(['admin', 'credit', accountId!, '5', '--db', db], env);

    const listener = await start(['listen', '--json', '--events', 'sms.received'], env, /Ready: listening for sms\.received events/);
    await run(['verify', 'telegram'], env);
    await until(() => listener.out().split('\n').filter(Boolean).length >= 1);

    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    server = await start(['serve', '--port', port, '--db', db, '--sim-delay', '50', '-q'], env, /listening on/);
    await until(() => /Reconnected/.test(listener.err()), 15_000);
    await run(['verify', 'discord'], env);
    await until(() => listener.out().split('\n').filter(Boolean).length >= 2);

    const events = listener.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: { platform: string } });
    expect(events.map((e) => [e.type, e.data.platform])).toEqual([
      ['sms.received', 'telegram'],
      ['sms.received', 'discord'],
    ]);
  });

  it('explains that the local endpoint has no event stream, exit 2', async () => {
    const env = cleanEnv(tempDir());
    const r = await run(['listen'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('tn serve');
  });
});
