import { createRequire } from 'node:module';

/** Read from package.json once, so releases bump one place. */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
