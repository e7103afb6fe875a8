/**
 * akm verify: is this key string valid, active and unexpired? Read from stdin (or a hidden
 * prompt), never from argv, where it would show in `ps` and shell history.
 * Exit 0 valid, 5 well-formed but not valid, 2 malformed.
 */
import type { Command } from 'commander';
import { DeniedError } from '../../core/errors.js';
import { parseKeyString } from '../../core/keyString.js';
import type { VerifyExplanation } from '../../service/types.js';
import { list, printable, when } from '../io/format.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { readStdin } from '../io/stdin.js';
import { renderFields } from '../io/table.js';

export function registerVerify(program: Command, ctx: CommandContext): void {
  program
    .command('verify')
    .description('check a key string read from stdin: exit 0 valid, 5 not valid, 2 malformed')
    .option('--explain', 'say why a key is not valid (administrators, local store only)')
    .addHelpText(
      'after',
      `${examples(
        `printf '%s' "$AKM_KEY" | akm verify`,
        'akm verify < key.txt --json',
        'akm verify --explain < key.txt      # unknown, inactive, expired, wrong or old secret?',
        'akm verify            # asks for it on a terminal',
      )}
On a local store this is a check, not a use: it does not change the key's "last used", and
works on a read-only store. Verifications through a server (/v1/verify, signed requests) are uses.
`,
    )
    .action(async (flags: { explain?: boolean }, command: Command) => runVerify(flags, ctx.deps(command)));
}

async function readKeyString(deps: Deps): Promise<string> {
  const { stdin } = deps.io.streams;
  if (stdin.isTTY) return deps.prompter.password({ message: 'Key string', flag: 'the key string on stdin' });
  return readStdin(stdin, 'key string');
}

export async function runVerify(options: { explain?: boolean }, deps: Deps): Promise<void> {
  const parts = parseKeyString(await readKeyString(deps));
  const { io } = deps;
  if (parts.encrypted) {
    if (io.json) io.outJson({ valid: false });
    throw new DeniedError(
      'not valid: this key string holds the encrypted secret from `akm copy`, which cannot authenticate',
      { code: 'invalid_key' },
    );
  }
  const input = { accessKeyId: parts.accessKeyId, secretKey: parts.secret, tenantId: parts.tenantId };
  const service = await deps.service('read');
  if (options.explain) return explain(await service.explainVerification(input), deps);
  const result = await service.verifyKey(input);
  if (!result.valid) {
    if (io.json) io.outJson(result);
    throw new DeniedError('not valid: unknown, inactive or expired key, or wrong secret', { code: 'invalid_key' });
  }
  if (io.json) return io.outJson(result);
  io.out(
    renderFields(io, [
      ['valid', io.style.green('yes')],
      ['access key id', result.accessKeyId],
      ['tenant', result.tenantId],
      ['owner', result.owner === null ? '(tenant-level)' : printable(result.owner)],
      ['permissions', list(result.permissions)],
      ['expires', when(io, result.expiresAt, { now: deps.now(), empty: 'never', relative: 'always', expiry: true })],
    ]),
  );
}

function explain(result: VerifyExplanation, deps: Deps): void {
  const { io } = deps;
  if (io.json) io.outJson(result);
  else {
    const at = (iso: string | undefined) =>
      iso === undefined ? '' : ` (${when(io, iso, { now: deps.now(), relative: 'always' })})`;
    io.out(
      renderFields(io, [
        ['valid', result.valid ? io.style.green('yes') : io.style.red('no')],
        ['access key id', result.accessKeyId],
        ...result.problems.map((p): [string, string] => ['problem', `${p.message}${at(p.at)}`]),
      ]),
    );
  }
  if (!result.valid)
    throw new DeniedError(`not valid: ${result.problems.map((p) => p.kind.replace('_', ' ')).join(', ')}`, {
      code: 'invalid_key',
    });
}
