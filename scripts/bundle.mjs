// Bundles the CLI into one CommonJS file, dist/cli/main.js. Start-up time is dominated by
// module loading: resolving and linking ~120 ES modules one by one (and the ES module loader
// itself) costs more than the work of most commands. One CommonJS file, with the rarely used
// heavy packages (prompts, dates, mail, clipboard, metrics) still loaded on demand from node_modules,
// starts several times faster. The tests run the same bundle through bin/akm.js.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/main.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Loaded on demand (dynamic import) or by path, from node_modules: ESM-only packages,
  // native addons, packages that find files next to themselves, and the PostgreSQL driver
  // (only a postgres:// store needs it; bundled, it would be parsed by every run). better-sqlite3's
  // JavaScript is bundled; its compiled addon is loaded by path (store/open.ts), so
  // `bindings` is never called.
  external: [
    'bindings',
    '@napi-rs/keyring',
    'clipboardy',
    'nodemailer',
    'cli-table3',
    '@inquirer/prompts',
    'date-fns',
    'date-fns/*',
    'pg',
    'prom-client',
  ],
  // Keep import() as it is: Node 20's require() cannot load ES modules, import() can.
  supported: { 'dynamic-import': true },
  define: { 'import.meta.url': '__akm_module_url' },
  banner: { js: "const __akm_module_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
  legalComments: 'none',
  // Less to parse at every start; identifiers stay, so AKM_DEBUG stack traces remain readable.
  minifyWhitespace: true,
  minifySyntax: true,
});
// The clipboard-clearing helper that create and rotate start detached (src/cli/io/clipboard.ts
// finds it next to the bundle). Run by node directly, so its import() needs no hook.
await build({
  entryPoints: ['src/cli/io/clear-clipboard.ts'],
  outfile: 'dist/cli/clear-clipboard.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['clipboardy'],
  supported: { 'dynamic-import': true },
  define: { 'import.meta.url': '__akm_module_url' },
  banner: { js: "const __akm_module_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
  legalComments: 'none',
});
// The bundle is compiled through vm.Script (bin/loadBundle.js), where import() has no module
// to resolve from: its import() calls go through a hook that bin/loadBundle.js defines.
const bundled = readFileSync('dist/cli/main.js', 'utf8');
const hooked = deferBuiltins(bundled.replace(/\bimport\((?=["'])/g, 'globalThis.__akmImport('));
if (/\bimport\(/.test(hooked))
  throw new Error('dist/cli/main.js: an import() with a computed specifier cannot be hooked');
writeFileSync('dist/cli/main.js', hooked);
/**
 * child_process (with net and dgram under it) costs two milliseconds to load, and only the
 * clipboard and commander's external subcommands, which akm has none of, use it. Both read
 * its functions when they call them (`cp.spawn(…)`), so the bundle gets an object that loads
 * the module on the first such read.
 */
function deferBuiltins(text) {
  const id = 'node:child_process';
  const plain = `require("${id}")`;
  if (text.includes(`__toESM(${plain}`))
    throw new Error(`dist/cli/main.js: ${id} is imported whole (import * or default); it cannot be deferred`);
  const deferred = `new Proxy({}, { get: (_, name) => require("${id}")[name] })`;
  return text.replaceAll(plain, deferred);
}
// The package is "type": "module"; this folder holds CommonJS.
writeFileSync('dist/cli/package.json', '{ "type": "commonjs" }\n');
// V8's code cache for the bundle, made by the Node.js that will run it (see bin/loadBundle.js).
execFileSync(process.execPath, ['scripts/code-cache.cjs'], { stdio: 'inherit' });
