/**
 * The field names of every command's --json output, in one table: scripts rely on them, so a
 * renamed, dropped or added field fails here (and belongs in the README's JSON section). A
 * last test walks the program's commands, so a new command cannot be left out of the table.
 */
import test from 'ava';
import { commandPaths, MemoryKeychain } from '../helpers/akm.js';
import { killHard, spawnNode } from '../helpers/children.js';
import { BIN, Sandbox } from '../helpers/cli.js';
import { serverFixture } from '../helpers/server.js';

/** Any string, number, boolean or null. */
const VALUE = 'value';
/** Anything at all (free-form details). */
const ANY = 'any';
type Spec = typeof VALUE | typeof ANY | Spec[] | Fields;
interface Fields {
  [field: string]: Spec;
}

/** Mismatches between a JSON value and a spec; a list of objects must not be empty, or nothing was checked. */
function mismatches(value: unknown, spec: Spec, path = '$'): string[] {
  if (spec === ANY) return [];
  if (spec === VALUE)
    return value === null || ['string', 'number', 'boolean'].includes(typeof value) ? [] : [`${path}: not a value`];
  if (Array.isArray(spec)) {
    if (!Array.isArray(value)) return [`${path}: not a list`];
    if (spec.length === 0) return value.flatMap((item, i) => mismatches(item, VALUE, `${path}[${i}]`));
    if (value.length === 0) return [`${path}: empty, so its items cannot be checked`];
    return value.flatMap((item, i) => mismatches(item, spec[0]!, `${path}[${i}]`));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`];
  const actual = Object.keys(value);
  return [
    ...Object.keys(spec)
      .filter((k) => !actual.includes(k))
      .map((k) => `${path}.${k}: missing`),
    ...actual.filter((k) => !(k in spec)).map((k) => `${path}.${k}: not documented`),
    ...actual
      .filter((k) => k in spec)
      .flatMap((k) => mismatches((value as Record<string, unknown>)[k], spec[k]!, `${path}.${k}`)),
  ];
}

const fields = (...names: string[]): Fields => Object.fromEntries(names.map((n) => [n, VALUE]));
const KEY: Fields = {
  ...fields('accessKeyId', 'name', 'description', 'type', 'status', 'tenantId', 'owner'),
  groups: [],
  roles: [],
  ...fields('createdAt', 'createdBy', 'modifiedAt', 'modifiedBy', 'expiresAt', 'lastUsedAt', 'secretCreatedAt'),
  ...fields('canary', 'inactiveUntil'),
};
const ISSUED: Fields = { ...KEY, ...fields('secretKey', 'keyString') };
const USER: Fields = { ...fields('email', 'name'), groups: [], ...fields('keyCount', 'createdAt') };
const GROUP: Fields = { ...fields('name', 'builtin'), members: [], roles: [], createdAt: VALUE };
const ROLE: Fields = { ...fields('name', 'builtin'), permissions: [], createdAt: VALUE };
/** Where each setting came from (akm config show, and whoami's "settings"). */
const SHOWN = fields('value', 'from');
const LOCAL_SETTINGS: Fields = { profile: SHOWN, store: SHOWN, tenant: SHOWN, masterKey: SHOWN, configFile: SHOWN };
const REMOTE_SETTINGS: Fields = { profile: SHOWN, store: SHOWN, tenant: SHOWN, credentials: SHOWN, configFile: SHOWN };
const IDENTITY: Fields = {
  ...fields('tenantId', 'tenantName', 'actor', 'accessKeyId', 'admin'),
  permissions: [],
  ...fields('store', 'mode', 'profile', 'credentials'),
  settings: LOCAL_SETTINGS,
};
const AUDIT_RECORD: Fields = {
  ...fields('seq', 'at', 'tenantId', 'actor', 'action', 'target', 'source'),
  details: ANY,
};
const NOTIFICATION: Fields = fields(
  'id',
  'at',
  'action',
  'accessKeyId',
  'keyName',
  'actor',
  'message',
  'read',
  'readAt',
);
const EXPIRY_MESSAGE: Fields = {
  ...fields('id', 'accessKeyId', 'keyName', 'expiresAt', 'recipient', 'subject', 'state', 'attempts', 'error'),
  ...fields('sentAt', 'retry'),
  reasons: [],
};
const ERROR: Fields = { error: fields('code', 'message', 'hint') };
const WEBHOOK: Fields = {
  ...fields('id', 'url'),
  events: [],
  ...fields('createdAt', 'createdBy', 'pending'),
  lastAttempt: ANY,
};
const DELIVERY_ATTEMPT: Fields = fields('at', 'eventType', 'ok', 'status', 'error');
const POLICY: Fields = fields('maxLifetimeDays', 'neverExpires', 'rotateEveryDays', 'enforceOn');
const STATE = fields('status', 'expiresAt');
const BULK: Fields = {
  ...fields('action', 'dryRun'),
  keys: [{ ...fields('accessKeyId', 'name', 'owner', 'changed'), from: STATE, to: STATE }],
  warnings: [],
};
const REPORT_ROW: Fields = {
  ...fields('accessKeyId', 'name', 'description', 'owner', 'type', 'status', 'createdAt', 'ageDays', 'expiresAt'),
  ...fields('daysLeft', 'lastUsedAt', 'lastUsedFrom', 'secretCreatedAt', 'secretAgeDays'),
  findings: [],
};
const ROTATION = fields('dryRun', 'newKey', 'tenants', 'secrets', 'rows', 'auditRecords', 'auditHead', 'rotatedAt');

interface Row {
  /** the command as typed, without --json (a function: it names something an earlier row made) */
  args: string[] | (() => string[]);
  spec: Spec;
  /** exit code, when not 0 */
  code?: number;
  input?: () => string;
  /** the JSON is the error on stderr */
  stderr?: boolean;
}

const box = new Sandbox();
let keyString = '';
/** the webhook the rows add: an https URL nothing listens on, so a delivery fails at once */
let webhookId = '';
test.before(() => box.init());
test.after.always(() => box.cleanup());

const ROWS: Row[] = [
  { args: ['users', 'add', 'bob@acme.test', '--name', 'Bob'], spec: USER },
  { args: ['users', 'list'], spec: [USER] },
  { args: ['users', 'add', 'carol@acme.test'], spec: USER },
  { args: ['groups', 'create', 'Ops'], spec: GROUP },
  { args: ['groups', 'add-member', 'Ops', 'bob@acme.test'], spec: GROUP },
  { args: ['groups', 'add-role', 'Ops', 'ReadOnly'], spec: GROUP },
  { args: ['groups', 'remove-role', 'Ops', 'ReadOnly'], spec: GROUP },
  { args: ['groups', 'remove-member', 'Ops', 'bob@acme.test'], spec: GROUP },
  { args: ['groups', 'list'], spec: [GROUP] },
  { args: ['roles', 'create', 'Deployer', '--permission', 'deploy:run'], spec: ROLE },
  { args: ['roles', 'list'], spec: [ROLE] },
  {
    args: ['create', '--name', 'k', '--tenant-level', '--expires-in', '1', '--role', 'Deployer', '--no-copy'],
    spec: ISSUED,
  },
  // carol's key: she hears of changes to it (the actor never does).
  { args: ['create', '--name', 'c', '--owner', 'carol@acme.test', '--expires-in', '30', '--no-copy'], spec: ISSUED },
  { args: ['list'], spec: [KEY] },
  {
    args: ['show', 'k'],
    spec: {
      ...KEY,
      permissions: [],
      previousSecretValidUntil: VALUE,
      secrets: ANY,
      grace: ANY,
      brownoutAttempts: ANY,
      canaryAlarm: ANY,
    },
  },
  // From here on, each change to a key queues an event for it.
  { args: ['webhooks', 'add', 'https://127.0.0.1:2/akm'], spec: { ...WEBHOOK, secret: VALUE } },
  { args: ['extend', 'k', '--days', '1'], spec: KEY },
  { args: ['edit', 'k', '--description', 'deploys'], spec: KEY },
  { args: ['policy', 'show'], spec: POLICY },
  {
    args: ['policy', 'set', '--max-lifetime', '20', '--dry-run'],
    spec: { policy: POLICY, violations: [fields('accessKeyId', 'name', 'owner', 'expiresAt', 'reason')] },
  },
  { args: ['policy', 'apply', '--cap', '--dry-run'], spec: { ...BULK, keys: [] } },
  {
    args: ['report'],
    spec: {
      ...fields('generatedAt', 'unusedForDays'),
      policy: POLICY,
      keys: [REPORT_ROW],
      summary: { keys: VALUE, findings: ANY, expiriesPerWeek: [fields('weekStart', 'count')] },
    },
  },
  { args: ['deactivate', 'k', 'c', '--dry-run'], spec: BULK },
  { args: ['assign', 'k', '--group', 'Ops'], spec: KEY },
  { args: ['rotate', 'k', '--no-copy', '--yes'], spec: { ...ISSUED, previousSecretValidUntil: VALUE, grace: VALUE } },
  {
    args: ['rotate', 'k', '--grace', 'auto', '--no-copy', '--yes'],
    spec: {
      ...ISSUED,
      previousSecretValidUntil: VALUE,
      grace: { ...fields('mode', 'quietForMs', 'rotatedAt', 'endsAt', 'endsBy') },
    },
  },
  { args: ['copy', 'k'], spec: fields('accessKeyId', 'tenantId', 'keyString') },
  { args: ['deactivate', 'k'], spec: KEY },
  { args: ['activate', 'k'], spec: KEY },
  { args: ['permissions', 'k'], spec: { accessKeyId: VALUE, permissions: [fields('permission', 'role', 'viaGroup')] } },
  {
    args: ['verify'],
    input: () => keyString,
    spec: { ...fields('valid', 'accessKeyId', 'tenantId', 'owner', 'name', 'type', 'expiresAt'), permissions: [] },
  },
  {
    args: ['verify'],
    input: () => keyString.replace(/::akms_\w{4}/, '::akms_AAAA'),
    code: 2,
    spec: ERROR,
    stderr: true,
  },
  {
    args: ['verify'],
    input: () => keyString.replace(/tenant id:acme/, 'tenant id:other'),
    code: 5,
    spec: fields('valid'),
  },
  { args: ['notifications', '--user', 'carol@acme.test'], spec: { user: VALUE, items: [NOTIFICATION], unread: VALUE } },
  {
    args: ['notify-expiring', '--dry-run'],
    spec: {
      ...fields('dryRun', 'withinDays', 'checkedAt', 'keys', 'sent', 'failed', 'cancelled'),
      messages: [EXPIRY_MESSAGE],
    },
  },
  { args: ['audit'], spec: [AUDIT_RECORD] },
  {
    args: ['audit', 'verify'],
    spec: { ...fields('ok', 'tenantId', 'records', 'head'), problems: [], alteredRows: [] },
  },
  { args: ['audit', 'head'], spec: fields('tenantId', 'head') },
  {
    args: () => ['webhooks', 'test', webhookId],
    code: 6,
    spec: fields('id', 'eventId', 'delivered', 'status', 'error'),
  },
  {
    args: ['deliver'],
    code: 6,
    spec: { webhooks: fields('sent', 'failed', 'gaveUp', 'waiting'), mail: fields('sent', 'failed') },
  },
  { args: ['webhooks', 'list'], spec: [{ ...WEBHOOK, lastAttempt: DELIVERY_ATTEMPT }] },
  { args: () => ['webhooks', 'remove', webhookId, '--yes'], spec: { removed: VALUE, ...WEBHOOK } },
  { args: ['whoami'], spec: IDENTITY },
  { args: ['config', 'show'], spec: LOCAL_SETTINGS },
  { args: ['delete', 'k', '--yes'], spec: { deleted: VALUE, ...KEY } },
  { args: ['groups', 'delete', 'Ops', '--yes'], spec: { deleted: VALUE, ...GROUP } },
  { args: ['roles', 'delete', 'Deployer', '--yes'], spec: { deleted: VALUE, ...ROLE } },
  { args: ['users', 'remove', 'bob@acme.test', '--yes'], spec: { removed: VALUE, ...USER } },
  { args: ['show', 'k'], code: 3, spec: ERROR, stderr: true },
  { args: ['logout'], spec: { profile: VALUE, removed: [], stillInEnvironment: [] } },
  {
    args: ['master-key', 'export', '--to', `${box.home}/exported.key`, '--yes'],
    spec: fields('dryRun', 'file', 'source'),
  },
  { args: ['master-key', 'rotate', '--dry-run'], spec: ROTATION },
  // Last: the sandbox's AKM_MASTER_KEY no longer opens the store after this.
  { args: ['master-key', 'rotate', '--new-key-file', `${box.home}/new.key`, '--yes'], spec: ROTATION },
];

// In order, on one store: each row finds what the rows before it made.
const argsOf = (row: Row) => (typeof row.args === 'function' ? row.args() : row.args);
for (const row of ROWS) {
  const title = argsOf(row)
    .map((a) => a || '<id>')
    .join(' ');
  test.serial(`akm ${title} --json${row.code ? ` (exit ${row.code})` : ''}`, async (t) => {
    const result = await box.akm([...argsOf(row), '--json'], { input: row.input?.() });
    t.is(result.code, row.code ?? 0, result.stderr);
    const json = row.stderr ? (JSON.parse(result.stderr) as unknown) : result.json();
    t.deepEqual(mismatches(json, row.spec), []);
    const issued = (json as { keyString?: string }).keyString;
    if (issued?.includes('::akms_')) keyString = issued;
    const secret = (json as { secret?: string; id?: string }).secret;
    if (secret?.startsWith('whsec_')) webhookId = (json as { id: string }).id;
  });
}

test('akm init --json', async (t) => {
  const own = new Sandbox();
  t.teardown(() => own.cleanup());
  const result = await own.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test', '--json']);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(
    mismatches(result.json(), {
      ...fields('tenantId', 'tenantName', 'admin', 'store', 'masterKey', 'profile'),
      next: [],
    }),
    [],
  );
});

test('akm login, whoami, config show and logout --json against a server', async (t) => {
  const server = await serverFixture();
  const own = new Sandbox();
  const keychain = new MemoryKeychain();
  t.teardown(async () => {
    own.cleanup();
    await server.close();
  });
  const login = await own.akm(['login', server.url, '--json'], { input: server.admin.keyString, keychain });
  t.is(login.code, 0, login.stderr);
  t.deepEqual(
    mismatches(login.json(), fields('url', 'profile', 'tenantId', 'actor', 'accessKeyId', 'admin', 'credentials')),
    [],
  );
  const whoami = await own.akm(['whoami', '--json'], { keychain });
  t.is(whoami.code, 0, whoami.stderr);
  t.deepEqual(mismatches(whoami.json(), { ...IDENTITY, settings: REMOTE_SETTINGS }), []);
  const config = await own.akm(['config', 'show', '--json'], { keychain });
  t.deepEqual(mismatches(config.json(), REMOTE_SETTINGS), []);
  const logout = await own.akm(['logout', '--json'], { keychain });
  t.deepEqual(mismatches(logout.json(), { profile: VALUE, removed: [VALUE], stillInEnvironment: [] }), []);
});

test('akm serve --json (the real binary: it runs until a signal)', async (t) => {
  const own = await new Sandbox().init();
  const serve = spawnNode(BIN, ['serve', '--listen', '127.0.0.1:0', '--json'], { env: own.env() });
  t.teardown(async () => {
    await killHard(serve);
    own.cleanup();
  });
  await serve.waitForLine((l) => l === '}');
  t.deepEqual(mismatches(JSON.parse(serve.lines.join('\n')), fields('url', 'store')), []);
  serve.process.kill('SIGTERM');
  t.is((await serve.exited).code, 0);
});

test('akm store copy --json', async (t) => {
  const own = await new Sandbox().init();
  t.teardown(() => own.cleanup());
  const result = await own.akm(['store', 'copy', own.storePath, `${own.home}/copy.db`, '--json']);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(
    mismatches(result.json(), {
      ...fields('from', 'to'),
      tables: [fields('table', 'rows')],
      tenants: [fields('tenantId', 'records', 'head')],
    }),
    [],
  );
});

test('every command that prints JSON is in the table', (t) => {
  const tested = new Set([
    ...ROWS.map((r) =>
      argsOf(r)
        .filter((a) => /^[a-z-]+$/.test(a))
        .slice(0, 2)
        .join(' '),
    ),
    'init',
    'login',
    'serve',
    'store copy',
    'completion', // prints a shell script, never JSON
  ]);
  const commands = commandPaths().map((c) => c.path);
  const untested = commands.filter((c) => ![...tested].some((s) => s === c || s.startsWith(`${c} `)));
  t.deepEqual(untested, []);
});
