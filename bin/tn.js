#!/usr/bin/env node
import module from 'node:module';

// Where Node has it (22.1 and later), compiled code is kept between runs, so a start skips
// compiling the bundle again; Node 20 goes without.
module.enableCompileCache?.();
// A closed pipe (`tn services | head -1`) ends tn quietly instead of with an EPIPE trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V' || args[0] === 'version')) {
  // Asked often and by scripts: answered without loading the command tree.
  const { VERSION } = await import('../dist/cli/version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  const { main } = await import('../dist/bundle/main.js');
  process.exitCode = await main(args);
}
