// The CLI as shipped: dist/cli bundled, so that a `tn` process reads and compiles a few files
// instead of seventy, in one wave instead of a waterfall of dynamic imports. Everything a command
// like `tn verify` needs is one chunk; what pulls in a heavy package (the server and fastify, the
// terminal app and Ink, PostgreSQL, undici, MCP, the deposit key derivation) stays a chunk of its
// own, loaded only by the command that needs it. Packages stay external (better-sqlite3 is native,
// and npm dedupes them with the library's). `tn --version` reads dist/cli/version.js alone, unbundled.
// Chunks sit beside the entry, at the depth from which version.js finds package.json.
import { defineConfig } from 'rolldown';

const LOADED_ON_DEMAND = [
  /dist[\\/]server[\\/]/,
  /dist[\\/]tui[\\/]/,
  /dist[\\/]store[\\/]postgres[\\/]/,
  /dist[\\/]cli[\\/](mcp-server|undici-transport|prompt)\.js$/,
  /dist[\\/]cli[\\/]commands[\\/](serve|ui|mcp)\.js$/,
  /dist[\\/]client[\\/](remote|events)\.js$/,
  /dist[\\/]providers[\\/](esplora|sms-activate|tempnumber)\.js$/,
  /dist[\\/]core[\\/]deposits[\\/]addresses\.js$/,
];

export default defineConfig({
  input: { main: 'dist/cli/main.js' },
  platform: 'node',
  external: [/^[^./]/],
  // Grouping the CLI into one chunk is what makes many of tsc's lazy imports static: on purpose.
  checks: { ineffectiveDynamicImport: false },
  output: {
    dir: 'dist/bundle',
    cleanDir: true,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    codeSplitting: { groups: [{ debugName: 'tn', name: (id) => (LOADED_ON_DEMAND.some((re) => re.test(id)) ? null : 'tn'), test: /dist[\\/]/ }] },
  },
});
