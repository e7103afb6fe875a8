// Bundles the CLI into a few files under dist/cli. Start-up time is dominated by resolving
// and loading ~120 ES modules one by one; one bundle (with lazily loaded chunks for the
// rarely used parts: prompts, the server, mail) starts several times faster.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native addons and packages that find files next to themselves stay in node_modules.
  external: ['better-sqlite3', '@napi-rs/keyring', 'clipboardy', 'nodemailer', 'cli-table3'],
  banner: { js: "import { createRequire as __akmCreateRequire } from 'node:module'; const require = __akmCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
  // Less to parse at every start; identifiers stay, so AKM_DEBUG stack traces remain readable.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: false,
});
