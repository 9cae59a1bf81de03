import { TnError } from '../core/errors.js';

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
  message?: unknown;
}

/** What the CLI knows about where its files are, for errors that do not name them (SQLite's). */
export interface ErrorContext {
  databaseFile?: string;
}

/**
 * The machine refusing something (a port taken, a directory not ours, a full disk, a read-only
 * database) is the user's to fix, not a bug in tn: a sentence that says what and where, and the
 * exit code of its kind. Undefined for anything else, which stays "unexpected".
 */
export function systemErrorToTnError(err: unknown, context: ErrorContext = {}): TnError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as SystemError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (!code) return undefined;
  const path = typeof e.path === 'string' ? e.path : undefined;
  const db = context.databaseFile ? `the database ${context.databaseFile}` : 'the database';
  const where = path ?? db;
  const unavailable = (message: string): TnError => new TnError('unavailable', message, { system_error: code });

  if (e.syscall === 'listen' || code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') {
    const address = typeof e.address === 'string' ? e.address : 'this address';
    const port = typeof e.port === 'number' ? e.port : undefined;
    switch (code) {
      case 'EADDRINUSE':
        return unavailable(`Port ${port ?? '?'} on ${address} is already in use by another program. Stop it, or choose another port: \`--port 0\` picks a free one.`);
      case 'EADDRNOTAVAIL':
        return new TnError('invalid_request', `${address} is not an address of this machine: choose another with --host (127.0.0.1, or 0.0.0.0 for every interface).`, { system_error: code });
      case 'EACCES':
      case 'EPERM':
        return unavailable(`Not allowed to listen on port ${port ?? '?'} (ports below 1024 need privileges): choose another with --port, or \`--port 0\` for a free one.`);
    }
  }
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return unavailable(`Permission denied on ${where}: tn must be able to read and write it. Check its owner and mode, or point TN_DATA_DIR / TN_CONFIG_DIR (or --db) elsewhere.`);
    case 'EROFS':
      return unavailable(`${capitalise(where)} is on a read-only file system: point TN_DATA_DIR / TN_CONFIG_DIR (or --db) at a writable place.`);
    case 'ENOSPC':
    case 'EDQUOT':
    case 'SQLITE_FULL':
      return unavailable(`The disk is full: tn could not write ${where}. Free some space and try again; nothing was half-written.`);
    case 'ENOTDIR':
    case 'EEXIST':
      return unavailable(`${capitalise(where)} cannot be created: part of the path is a file, not a directory.`);
    case 'EMFILE':
    case 'ENFILE':
      return unavailable('Too many open files on this machine: close some programs, or raise the limit (ulimit -n), and try again.');
    case 'EIO':
      return unavailable(`The disk reported an I/O error on ${where}.`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return unavailable(`${capitalise(db)} is read-only: tn must write it. Check its mode and owner (and those of its directory), or point TN_DATA_DIR (or --db) elsewhere.`);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) return unavailable(`Cannot open ${db}: check that its directory exists and is writable.`);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return unavailable(`${capitalise(db)} is busy: another program holds a lock on it. Try again.`);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return unavailable(`${capitalise(db)} is not a tn database, or is damaged.`);
  if (code.startsWith('SQLITE_IOERR')) return unavailable(`The disk reported an I/O error on ${db}.`);
  return undefined;
}

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
