/**
 * `tn admin backup`: a consistent copy of a tn SQLite database through SQLite's online backup API
 * (better-sqlite3's `db.backup`), taken while `tn serve` or any other process writes to it. The copy
 * is written beside its name, checked, and only then given the name, so a failed or interrupted
 * backup never leaves a half file where a good one is expected.
 */
import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TnError } from '../../core/errors.js';

export interface BackupResult {
  /** The copy, as an absolute path. */
  file: string;
  bytes: number;
  pages: number;
}

/** Copies the database `source` to `destination`; an existing `destination` is replaced only with `force`. */
export async function backupSqlite(source: string, destination: string, options: { force?: boolean } = {}): Promise<BackupResult> {
  const target = resolve(destination);
  if (!existsSync(source)) throw new TnError('not_found', `Database file ${source} not found.`);
  if (resolve(source) === target) throw new TnError('invalid_request', 'The backup cannot be the database itself: name another file.');
  if (!existsSync(dirname(target))) throw new TnError('not_found', `Directory ${dirname(target)} not found.`);
  if (!options.force && existsSync(target)) throw new TnError('invalid_request', `${destination} exists: --force replaces it.`);
  // A journal beside the name would be read into the new file: someone has a database open there.
  for (const journal of ['-wal', '-shm', '-journal']) {
    if (existsSync(target + journal)) throw new TnError('invalid_request', `${destination}${journal} exists: a database at ${destination} is open or was not closed cleanly; name another file.`);
  }

  const db = new BetterSqlite3(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) throw new TnError('invalid_request', `${source} is not a tn database (it has no tn schema).`);
    // The copy holds what the database holds (secrets among it): its owner alone may read it.
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    closeSync(openSync(temp, 'wx', 0o600));
    try {
      // Every page in one step, inside one read transaction: the copy is the database as of one
      // commit, while writers go on (WAL). In small steps, each commit of another process between
      // two steps would start the copy over.
      const progress = await db.backup(temp, { progress: () => 0x7fffffff });
      verifyCopy(temp, version);
      place(temp, target, destination, options.force ?? false);
      return { file: target, bytes: statSync(target).size, pages: progress.totalPages };
    } finally {
      rmSync(temp, { force: true });
    }
  } finally {
    db.close();
  }
}

/** The copy opens as a database of the same schema and passes SQLite's own check. */
function verifyCopy(file: string, version: number): void {
  const copy = new BetterSqlite3(file, { fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new TnError('unavailable', `The backup did not pass SQLite's check (${String(check)}); nothing was written.`);
    if (copy.pragma('user_version', { simple: true }) !== version) throw new TnError('unavailable', 'The backup has another schema version than the database; nothing was written.');
  } finally {
    copy.close();
  }
}

/** Gives the checked copy its name: a hard link refuses a file that appeared meanwhile; `force` replaces it. */
function place(temp: string, target: string, destination: string, force: boolean): void {
  if (force) return renameSync(temp, target);
  try {
    linkSync(temp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new TnError('invalid_request', `${destination} exists: --force replaces it.`);
    // A file system without hard links: the check above, then a rename.
    if (existsSync(target)) throw new TnError('invalid_request', `${destination} exists: --force replaces it.`);
    renameSync(temp, target);
  }
}
