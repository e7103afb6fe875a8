/**
 * akm installs like any npm CLI: `npm pack` makes a tarball of the built program, and
 * `npm install -g` of that tarball into an empty prefix gives a working `akm`. Offline: the
 * dependencies come from npm's cache (the tarball pins them with npm-shrinkwrap.json), and
 * better-sqlite3's addon from a local prebuild, as on a mirror — nothing is compiled.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runNode, Sandbox } from '../helpers/cli.js';

const require = createRequire(import.meta.url);

/** better-sqlite3's addon as prebuild-install names a download: a local prebuild, so npm compiles nothing. */
function localPrebuild(dir: string): void {
  const { version } = require(join(ROOT, 'node_modules', 'better-sqlite3', 'package.json')) as { version: string };
  const stage = join(dir, 'stage');
  mkdirSync(join(stage, 'build', 'Release'), { recursive: true });
  execFileSync('cp', [
    join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
    join(stage, 'build', 'Release'),
  ]);
  mkdirSync(join(dir, 'prebuilds'));
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  const libc = process.platform === 'linux' && !header?.glibcVersionRuntime ? 'musl' : '';
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}${libc}-${process.arch}.tar.gz`;
  execFileSync('tar', ['czf', join(dir, 'prebuilds', name), '-C', stage, 'build']);
}

test('npm pack, then npm install -g into an empty prefix: a working akm, without compiling anything', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'akm-install-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const npm = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
    spawnSync('npm', args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });

  const packed = npm(['pack', '--pack-destination', dir], ROOT);
  t.is(packed.status, 0, packed.stderr);
  const tarball = join(dir, packed.stdout.trim().split('\n').pop()!);
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n');
  for (const file of [
    'bin/akm.js',
    'dist/cli/main.js',
    'dist/cli/clear-clipboard.js',
    'man/akm.1',
    'npm-shrinkwrap.json',
  ])
    t.true(files.includes(`package/${file}`), `the tarball has ${file}`);
  t.false(
    files.some((f) => f.startsWith('package/dist/test/')),
    'no tests in the package',
  );
  t.false(existsSync(join(ROOT, 'npm-shrinkwrap.json')), 'the pinned copy is removed after packing');

  localPrebuild(dir);
  const prefix = join(dir, 'prefix');
  const installed = npm(
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--offline',
      '--no-audit',
      '--no-fund',
      '--allow-scripts=better-sqlite3',
      '--foreground-scripts',
      tarball,
    ],
    dir,
    { npm_config_better_sqlite3_local_prebuilds: join(dir, 'prebuilds') },
  );
  t.is(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
  t.notRegex(`${installed.stdout}${installed.stderr}`, /gyp info/, 'better-sqlite3 was not compiled');
  t.true(existsSync(join(prefix, 'share', 'man', 'man1', 'akm.1')), 'the man page is installed');

  const akm = join(prefix, 'bin', 'akm');
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  t.is(execFileSync(akm, ['--version'], { encoding: 'utf8' }), `${version}\n`);
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const run = (args: string[]) => runNode([akm, ...args], { env: box.env() });
  const init = await run(['init', '--tenant', 'acme', '--admin', 'admin@acme.test']);
  t.is(init.code, 0, init.stderr);
  t.is((await run(['create', '--name', 'first', '--tenant-level', '--expires-in', '5'])).code, 0);
  const listed = await run(['list', '--json']);
  t.is(JSON.parse(listed.stdout).length, 1, listed.stderr);
});
