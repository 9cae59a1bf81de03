/**
 * The architecture as rules (ARCHITECTURE.md): no import cycles, and every arrow pointing inward:
 * skins (cli, tui, server) → client/compose → core ← store, providers. `npm test` runs it.
 */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-is-pure',
      comment: 'The domain knows only its own ports: no store engine, provider, transport or skin.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/(store|providers|server|client|cli|tui|format)/|^src/compose' },
    },
    {
      name: 'core-without-io-libraries',
      comment: 'The domain reaches no database driver, HTTP client or terminal library.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['npm'], path: 'better-sqlite3|undici|fastify|ink|react|commander|chalk|ora|pg' },
    },
    {
      name: 'store-serves-core',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/(providers|server|client|cli|tui|format)/' },
    },
    {
      name: 'providers-implement-ports',
      comment: 'Providers see the core only through its ports and pure helpers, never its services.',
      severity: 'error',
      from: { path: '^src/providers/' },
      to: { path: '^src/(store|server|client|cli|tui)/|^src/core/(broker-core|context|database)\\.ts|^src/core/(orders|waiting|webhooks|accounts|agent)/' },
    },
    {
      name: 'tui-apart-from-cli',
      severity: 'error',
      from: { path: '^src/tui/' },
      to: { path: '^src/(cli|server|store)/' },
    },
    {
      name: 'server-apart-from-skins',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/(cli|tui)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.tsx', '.js'] },
  },
};
