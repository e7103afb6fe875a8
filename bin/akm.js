#!/usr/bin/env node
// The one exit point: run the CLI and set process.exitCode from its result.
// `akm --version` is answered before anything else loads, so scripts that probe it stay fast.
import { readFileSync } from 'node:fs';

// Everything akm writes (store, config, key files) is for its owner only.
process.umask(0o077);

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(process.argv);
}
