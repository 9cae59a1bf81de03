import { EXIT } from '../../core/errors.js';
import type { DefineCommand } from '../command.js';
import { printJson } from '../output.js';
import { VERSION } from '../version.js';

/** `tn version`, for those who type it as gh and docker take it: the same as `--version`. */
export const defineVersion: DefineCommand = (program, ctx) => {
  program
    .command('version')
    .description('Print the version (as -V/--version does)')
    .action(() => {
      const f = ctx.factory();
      if (f.globals.json) printJson(f.io, { version: VERSION });
      else f.io.out(VERSION);
      ctx.exit(EXIT.ok);
    });
};
