#!/usr/bin/env node
'use strict';
// The one exit point: run the CLI and set process.exitCode from its result.
// CommonJS on purpose (see bin/package.json): the ES module loader alone costs more start-up
// time than `akm --version` needs, and `--version` is answered before anything else loads.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// `akm list | head`: the reader left, so there is nobody to write to; stop quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// Everything akm writes (store, config, key files) is for its owner only.
process.umask(0o077);

const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  // dist/cli/main.js is the bundled CLI (npm run build).
  require('./loadBundle.js')
    .loadBundle()
    .exports.main(process.argv, { version })
    .then((code) => {
      process.exitCode = code;
    });
}
