#!/usr/bin/env node
// The one exit point: run the CLI and set process.exitCode from its result.
// `akm --version` is answered before anything else loads, so scripts that probe it stay fast.
import { readFileSync } from 'node:fs';

// `akm list | head`: the reader left, so there is nobody to write to; stop quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// Everything akm writes (store, config, key files) is for its owner only.
process.umask(0o077);

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  // dist/cli is the bundled CLI (npm run build); it starts faster than the module tree.
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv, { version });
}
