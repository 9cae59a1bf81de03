#!/usr/bin/env node
// A closed pipe (`tn services | head -1`) ends tn quietly instead of with an EPIPE trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
