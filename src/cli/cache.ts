import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResponseCache } from '../client/remote.js';

/** A small cache of answers on disk, so that short-lived CLI runs share it (price lists, for a minute). */
export class FileCache implements ResponseCache {
  constructor(private readonly dir: string) {}

  get(key: string): unknown {
    try {
      const entry = JSON.parse(readFileSync(this.file(key), 'utf8')) as { expires: number; value: unknown };
      return entry.expires > Date.now() ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: unknown, ttlMs: number): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const file = this.file(key);
      // Written aside and renamed, so a concurrent reader never sees half a file.
      writeFileSync(`${file}.${process.pid}`, JSON.stringify({ expires: Date.now() + ttlMs, value }), { mode: 0o600 });
      renameSync(`${file}.${process.pid}`, file);
    } catch {
      // A cache that cannot be written is only a slower run.
    }
  }

  private file(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }
}
