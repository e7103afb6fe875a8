/** akm list: keys page by page, so memory stays flat however many there are. */
import { Option, type Command } from 'commander';
import { parseDays } from '../../core/expiry.js';
import { FINDINGS, type Finding } from '../../core/findings.js';
import { globToRegExp } from '../../core/glob.js';
import { KEY_FIELDS, parseColumns, parseSort, type KeyField } from '../../core/keyFields.js';
import type { AkmService, KeyFilter, KeyStatus, KeyType, KeyView } from '../../service/types.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { chooseFormat, FORMATS, pages, writeRecords, type OutputFormat } from '../io/records.js';

export interface ListOptions {
  status?: KeyStatus;
  type?: KeyType;
  owner?: string;
  expiringWithin?: string;
  unusedFor?: string;
  name?: string;
  neverExpires?: boolean;
  finding?: Finding;
  sort?: string;
  columns?: string;
  format?: OutputFormat;
  ndjson?: boolean;
}

export function registerList(program: Command, ctx: CommandContext): void {
  program
    .command('list')
    .alias('ls')
    .description('list keys (never their secrets)')
    .addOption(new Option('--status <status>', 'only keys with this status').choices(['active', 'inactive', 'expired']))
    .addOption(new Option('--type <type>', 'only keys of this type').choices(['access', 'api']))
    .option('--owner <email>', 'only keys owned by this user')
    .option('--expiring-within <days>', 'only keys that expire within this many days')
    .option('--unused-for <days>', 'only keys not used for this many days (never used: counted from creation)')
    .option('--name <glob>', 'only keys whose name matches, e.g. "ci-*" (* ? [abc]; any case)')
    .option('--never-expires', 'only keys that never expire')
    .addOption(new Option('--finding <name>', 'only keys with this finding of akm report').choices([...FINDINGS]))
    .option('--sort <field[:desc]>', 'order by a JSON field of the key, e.g. expiresAt:desc (default: createdAt)')
    .option('--columns <fields>', 'these JSON fields, in this order, e.g. accessKeyId,name,expiresAt')
    .addOption(
      new Option('--format <format>', 'table, json (as --json), ndjson (as --ndjson) or csv').choices([...FORMATS]),
    )
    .option('--ndjson', 'one JSON object per key and line, streamed (for huge tenants)')
    .addHelpText(
      'after',
      examples(
        'akm list',
        'akm list --status active --owner alice@acme.test',
        'akm list --expiring-within 7 --sort expiresAt',
        'akm list --unused-for 90 --status active --json | akm deactivate --stdin --yes',
        "akm list --name 'ci-*' --columns accessKeyId,name,lastUsedAt --format csv > ci-keys.csv",
        "akm list --ndjson | jq -r 'select(.owner == null) | .accessKeyId'",
      ),
    )
    .action(async (flags: ListOptions, command: Command) => runList(flags, ctx.deps(command)));
}

/** The flags as the service's filter; every value checked before the store is opened. */
export function listFilter(options: ListOptions): KeyFilter {
  const filter: KeyFilter = {
    status: options.status,
    type: options.type,
    owner: options.owner,
    finding: options.finding,
  };
  if (options.expiringWithin !== undefined)
    filter.expiringWithinDays = parseDays(options.expiringWithin, '--expiring-within');
  if (options.unusedFor !== undefined) filter.unusedForDays = parseDays(options.unusedFor, '--unused-for');
  if (options.name !== undefined) {
    globToRegExp(options.name);
    filter.name = options.name;
  }
  if (options.neverExpires) filter.neverExpires = true;
  if (options.sort !== undefined) filter.sort = parseSort(options.sort);
  return filter;
}

function keyPages(service: AkmService, filter: KeyFilter): AsyncGenerator<KeyView[]> {
  return pages((after) => service.listKeys(filter, { after }));
}

export async function runList(options: ListOptions, deps: Deps): Promise<void> {
  const { io } = deps;
  const filter = listFilter(options);
  const format = chooseFormat(io, options);
  const columns = options.columns === undefined ? undefined : parseColumns<KeyField>(options.columns, KEY_FIELDS);
  const service = await deps.service('read');
  if (format !== 'table') {
    await writeRecords(io, format, keyPages(service, filter), columns ?? KEY_FIELDS, columns === undefined);
    return;
  }
  const { keyTable } = await import('../render/keys.js');
  let count = 0;
  for await (const keys of keyPages(service, filter)) {
    if (keys.length > 0) await io.stream(`${keyTable(io, keys, deps.now(), columns)}\n`);
    count += keys.length;
  }
  if (count === 0) io.info(isNarrowed(filter) ? 'no keys match' : 'no keys yet: `akm create` makes one');
}

/** Whether the filter leaves keys out (an order alone does not). */
function isNarrowed(filter: KeyFilter): boolean {
  return Object.entries(filter).some(([field, value]) => field !== 'sort' && value !== undefined);
}
