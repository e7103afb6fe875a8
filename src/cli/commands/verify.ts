/**
 * akm verify: is this key string valid, active and unexpired? Read from stdin (or a hidden
 * prompt), never from argv, where it would show in `ps` and shell history.
 * Exit 0 valid, 5 well-formed but not valid, 2 malformed.
 */
import type { Command } from 'commander';
import { DeniedError } from '../../core/errors.js';
import { parseKeyString } from '../../core/keyString.js';
import { list, printable } from '../io/format.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { readStdin } from '../io/stdin.js';
import { renderFields } from '../io/table.js';

export function registerVerify(program: Command, ctx: CommandContext): void {
  program
    .command('verify')
    .description('check a key string read from stdin: exit 0 valid, 5 not valid, 2 malformed')
    .addHelpText(
      'after',
      examples(
        `printf '%s' "$AKM_KEY" | akm verify`,
        'akm verify < key.txt --json',
        'akm verify            # asks for it on a terminal',
      ),
    )
    .action(async (_flags: object, command: Command) => runVerify(ctx.deps(command)));
}

async function readKeyString(deps: Deps): Promise<string> {
  const { stdin } = deps.io.streams;
  if (stdin.isTTY) return deps.prompter.password({ message: 'Key string', flag: 'the key string on stdin' });
  return readStdin(stdin, 'key string');
}

export async function runVerify(deps: Deps): Promise<void> {
  const parts = parseKeyString(await readKeyString(deps));
  const { io } = deps;
  if (parts.encrypted) {
    if (io.json) io.outJson({ valid: false });
    throw new DeniedError(
      'not valid: this key string holds the encrypted secret from `akm copy`, which cannot authenticate',
      { code: 'invalid_key' },
    );
  }
  const result = await (
    await deps.service()
  ).verifyKey({ accessKeyId: parts.accessKeyId, secretKey: parts.secret, tenantId: parts.tenantId });
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
      ['expires', result.expiresAt ?? 'never'],
    ]),
  );
}
