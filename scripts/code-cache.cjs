'use strict';
// Writes V8's code cache for the bundled CLI after warm-up runs, so the cache also holds the
// functions that every start compiles: the program and its commands (`akm --help`), and the
// path of the most common command, opening a store and listing its keys (`akm init`, then
// `akm list --json`, on a throw-away store).
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Writable } = require('node:stream');
const { loadBundle, CACHE } = require('../bin/loadBundle.js');

async function warmUp(cli) {
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const streams = { stdin: process.stdin, stdout: sink, stderr: sink };
  const home = mkdtempSync(join(tmpdir(), 'akm-code-cache-'));
  const env = {
    HOME: home,
    AKM_STORE: join(home, 'akm.db'),
    AKM_MASTER_KEY: randomBytes(32).toString('base64'),
    CI: 'true',
  };
  const run = (args) => cli.main(['node', 'akm', ...args], { version: '0.0.0', streams, env });
  try {
    await run(['--help']);
    await run(['init', '--tenant', 'warmup', '--admin', 'admin@warmup.test']);
    await run(['list', '--json']);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const { exports: cli, script } = loadBundle();
warmUp(cli).then(() => writeFileSync(CACHE, script.createCachedData()));
