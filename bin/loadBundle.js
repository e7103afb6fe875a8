'use strict';
// Loads the bundled CLI (dist/cli/main.js) with V8's code cache (dist/cli/main.js.cache, made
// by `npm run build`): compiling the bundle is the largest single cost of starting akm, and
// the cache skips it. The cache is checked by V8 against the source and the V8 version; a
// stale or missing one only means compiling as usual.
//
// AKM_CODE_CACHE=0 loads the bundle without the cache: `npm run bench` measures what the cache
// is worth that way (worth keeping while it saves more than 10% of `akm list --json`).
//
// Code compiled by vm.Script cannot call import() by itself, so the bundle's import() calls
// (packages loaded on demand: prompts, clipboard, dates, mail) go through __akmImport, an
// import() made here, in a real module (see scripts/bundle.mjs). Node 20 offers nothing simpler:
// module.enableCompileCache() arrives in Node 22.1, and vm's USE_MAIN_CONTEXT_DEFAULT_LOADER is
// experimental (it warns) and loses its import() callback in functions restored from the cache.
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'cli', 'main.js');
const CACHE = `${BUNDLE}.cache`;

globalThis.__akmImport = (specifier) => import(specifier);

function loadBundle() {
  let cachedData;
  try {
    cachedData = process.env.AKM_CODE_CACHE === '0' ? undefined : readFileSync(CACHE);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(BUNDLE, 'utf8')), {
    filename: BUNDLE,
    cachedData,
  });
  const module = { exports: {} };
  script
    .runInThisContext()
    .call(module.exports, module.exports, Module.createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return { exports: module.exports, script };
}

module.exports = { loadBundle, CACHE };
