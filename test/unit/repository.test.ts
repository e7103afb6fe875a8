/**
 * The repository stands on its own and keeps its shape: the layers import only what
 * docs/architecture.md allows, no line of src/ is longer than 120 characters (what prettier
 * cannot break is broken by hand), and nothing cites documents that are not in the repository.
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../helpers/paths.js';

function filesUnder(dir: string, skip: ReadonlySet<string> = new Set()): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (skip.has(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, skip) : [path];
  });
}

const SRC = join(ROOT, 'src');
const sources = filesUnder(SRC).filter((f) => f.endsWith('.ts'));

/** Every module a source file loads: static and dynamic imports, and createRequire()(…) calls. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [
    ...text.matchAll(/\bfrom '([^']+)'/g),
    ...text.matchAll(/\bimport\('([^']+)'\)/g),
    ...text.matchAll(/\)\('([^']+)'\)/g), // createRequire(import.meta.url)('pkg')
  ].map((m) => m[1]!);
  return found.map((spec) => (spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec));
}

/** A rule: files under `from` must not load anything matching `never` (paths relative to src/). */
interface Rule {
  from: string;
  never: RegExp;
  why: string;
  /** files allowed to break the rule, each with its reason in docs/architecture.md */
  except?: string[];
}

const RULES: Rule[] = [
  {
    from: 'core/',
    never: /^(?!core\/|node:crypto$|node:url$)/,
    why: 'core is pure rules: it loads only core, node:crypto and node:url (no I/O, no packages)',
  },
  {
    from: 'store/',
    never: /^(cli|server|remote|service|notify|crypto|keychain|config)\//,
    why: 'the store sits on core alone',
  },
  { from: 'service/', never: /^(cli|server|remote)\//, why: 'the service knows no front end and no remote' },
  {
    from: 'remote/',
    never: /^(store|server|cli|service\/local)\//,
    why: 'the remote client implements the service interface over HTTP; it never touches a store',
  },
  {
    from: 'server/',
    never: /^(cli\/|store\/|remote\/(?!wire\.js$))/,
    why: 'the server shares only the wire format with the client, and reaches data only through the service',
  },
  {
    from: 'cli/',
    never: /^store\//,
    why: 'commands reach data only through the service',
  },
  ...['notify/', 'crypto/', 'keychain/', 'config/'].map((from) => ({
    from,
    never: /^(cli|server|remote|service|store)\//,
    why: `${from} is a helper below the service`,
  })),
];

test('each layer imports only what docs/architecture.md allows', (t) => {
  const broken: string[] = [];
  for (const file of sources) {
    const path = relative(SRC, file);
    for (const rule of RULES.filter((r) => path.startsWith(r.from) && !r.except?.includes(path)))
      for (const target of importsOf(file).filter((i) => rule.never.test(i)))
        broken.push(`${path} imports ${target}: ${rule.why}`);
  }
  t.deepEqual(broken, []);
  t.true(sources.length > 50, 'found the sources');
});

test('no line in src/ is longer than 120 characters', (t) => {
  const long = sources.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => [line, i + 1] as const)
      .filter(([line]) => line.length > 120)
      .map(([line, n]) => `${relative(ROOT, file)}:${n} (${line.length})`),
  );
  t.deepEqual(long, []);
});

test('nothing in the repository cites documents that are not in it', (t) => {
  // Built from parts, so this file does not match itself.
  const outside = new RegExp(['SP' + 'EC(\\.md| §)', 'DES' + 'IGN(\\.md)?\\b'].join('|'));
  const files = filesUnder(ROOT, new Set(['node_modules', 'dist', '.git']));
  const citing = files.filter((f) => !/\.(db|png|ico|cache|tgz)$/.test(f) && outside.test(readFileSync(f, 'utf8')));
  t.deepEqual(
    citing.map((f) => relative(ROOT, f)),
    [],
  );
  t.true(files.length > 100, 'walked the repository');
});
