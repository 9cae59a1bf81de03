import type { Command } from 'commander';
import { EXIT } from '../../core/errors.js';
import { DB_OPTION, examples, type CommandContext } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson } from '../output.js';

export interface BackupOptions {
  file: string;
  db?: string;
  force: boolean;
}

/** `tn admin backup <file>`: a consistent copy of the SQLite database, taken while `tn serve` runs on it. */
export function defineAdminBackup(admin: Command, ctx: CommandContext): void {
  const backup = admin
    .command('backup')
    .description('Copy the SQLite database consistently, even while tn serve writes to it (PostgreSQL: use pg_dump)')
    .argument('<file>', 'the copy to write (mode 0600); an existing file is refused unless --force')
    .option(...DB_OPTION)
    .option('--force', 'replace the file if it exists', false)
    .action(async (file: string, opts: { db?: string; force: boolean }) => ctx.exit(await runBackup({ file, db: opts.db, force: opts.force }, ctx.factory())));
  examples(backup, [
    'tn admin backup /var/backups/tn/tn-$(date +%F).db --db /var/lib/tn/tn.db',
    'tn admin backup ./tn-copy.db --force --json',
    'tn admin audit --db ./tn-copy.db      # the copy is a tn database like any other',
  ]);
}

export async function runBackup(opts: BackupOptions, f: Factory): Promise<number> {
  const database = await f.adminDatabase(opts.db);
  const { backupDatabase } = await import('../../compose.js');
  const result = await backupDatabase(database, opts.file, { force: opts.force });
  if (f.globals.json) printJson(f.io, result);
  else f.io.out(`OK: ${database} copied to ${result.file} (${result.bytes} bytes, ${result.pages} pages).`);
  return EXIT.ok;
}
