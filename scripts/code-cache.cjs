'use strict';
// Writes V8's code cache for the bundled CLI after a warm-up run (`akm --help`), so the cache
// also holds the functions that every start compiles: the program and its commands.
const { writeFileSync } = require('node:fs');
const { Writable } = require('node:stream');
const { loadBundle, CACHE } = require('../bin/loadBundle.js');

const { exports: cli, script } = loadBundle();
{
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const streams = { stdin: process.stdin, stdout: sink, stderr: sink };
  cli.main(['node', 'akm', '--help'], { version: '0.0.0', streams, env: {} }).then(() => {
    writeFileSync(CACHE, script.createCachedData());
  });
}
