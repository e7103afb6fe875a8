/**
 * akm login <url>: check an access key against a server, then keep it in the OS keychain under
 * the profile and make the server the profile's store. The secret never comes from argv: a
 * hidden prompt on a terminal, stdin otherwise (the secret alone, or a whole key string).
 */
import type { Command } from 'commander';
import { rmSync } from 'node:fs';
import { isAccessKeyId, isWellFormedSecret } from '../../core/credentials.js';
import { AkmError, DeniedError, UsageError } from '../../core/errors.js';
import { parseKeyString } from '../../core/keyString.js';
import { isRemoteStore } from '../../config/paths.js';
import { updateProfile } from '../../config/profiles.js';
import { checkKeychain } from '../../keychain/keychain.js';
import { insecureFilePath, storeInFile, storeInKeychain } from '../../remote/credentials.js';
import { isLoopback } from '../../server/listen.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { printable, tenantLabel } from '../io/format.js';
import { readStdin } from '../io/stdin.js';
import { renderFields } from '../io/table.js';

export interface LoginOptions {
  accessKeyId?: string;
  insecureStorage?: boolean;
}

export function registerLogin(program: Command, ctx: CommandContext): void {
  program
    .command('login')
    .description('sign in to an akm server: check the key, keep it in the OS keychain')
    .argument('<url>', 'the server, e.g. https://akm.example.com')
    .option('--access-key-id <id>', 'the access key id (the secret is asked for, or read from stdin)')
    .option('--insecure-storage', 'no keychain here: keep the credentials in a 0600 file (warned about on every use)')
    .addHelpText(
      'after',
      examples(
        'akm login https://akm.example.com',
        'printf \'%s\' "$SECRET" | akm login https://akm.example.com --access-key-id AKMEXAMPLE7Q2XK4ZL5PA',
        'akm login https://akm.example.com < key-string.txt --profile prod',
      ),
    )
    .action(async (url: string, flags: LoginOptions, command: Command) => runLogin(url, flags, ctx.deps(command)));
}

export function serverUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`not a URL: "${printable(text.slice(0, 100))}"`, {
      hint: 'e.g. akm login https://akm.example.com',
    });
  }
  if (!isRemoteStore(url.href) || url.username || url.password || url.search || url.hash) {
    throw new UsageError(
      `expected an http(s) server URL without credentials or query, got "${printable(text.slice(0, 100))}"`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

/** A whole key string (what `akm create` copies) holds the id and the secret: split it. */
function fromKeyString(text: string, options: LoginOptions): { accessKeyId: string; secretKey: string } {
  const parts = parseKeyString(text);
  if (parts.encrypted)
    throw new UsageError('this key string holds the encrypted secret from `akm copy`, which cannot sign in');
  if (options.accessKeyId && options.accessKeyId !== parts.accessKeyId)
    throw new UsageError('--access-key-id does not match the key string');
  return { accessKeyId: parts.accessKeyId, secretKey: parts.secret };
}

/**
 * What the access key id prompt shows while a key string or a secret is pasted into it: the
 * part before "::" (the id), then stars. The typed value itself is kept as it is.
 */
export function maskPasted(value: string): string {
  const cut = value.indexOf('::');
  if (cut >= 0) return `${value.slice(0, cut + 2)}${'*'.repeat(Math.min(value.length - cut - 2, 48))}`;
  if (/^akms_/i.test(value)) return '*'.repeat(Math.min(value.length, 48)); // a secret pasted here by mistake
  return value;
}

async function askCredentials(options: LoginOptions, deps: Deps): Promise<{ accessKeyId: string; secretKey: string }> {
  const { stdin } = deps.io.streams;
  if (!stdin.isTTY) {
    const text = await readStdin(stdin, 'secret key');
    if (text.startsWith('key:')) return fromKeyString(text, options);
    if (!options.accessKeyId)
      throw new UsageError('missing --access-key-id', {
        hint: 'pass it with the secret on stdin, or pipe a whole key string',
        code: 'missing_flag',
      });
    return { accessKeyId: options.accessKeyId, secretKey: text };
  }
  const first = (
    options.accessKeyId ??
    (await deps.prompter.input({
      message: 'Access key id (or paste the whole key string)',
      flag: '--access-key-id',
      mask: maskPasted,
    }))
  ).trim();
  if (first.startsWith('key:')) return fromKeyString(first, options);
  const secretKey = await deps.prompter.password({ message: 'Secret access key', flag: 'the secret key on stdin' });
  return { accessKeyId: first, secretKey: secretKey.trim() };
}

/** A keychain that cannot keep the credentials: its error, with what to do instead. */
function withKeychainHint(work: () => void): void {
  try {
    work();
  } catch (error) {
    if (!(error instanceof AkmError)) throw error;
    throw new AkmError(error.message, error.exitCode, {
      code: error.code,
      hint:
        'use AKM_ACCESS_KEY_ID and AKM_SECRET_ACCESS_KEY (or AKM_CREDENTIALS) instead, ' +
        'or akm login --insecure-storage',
    });
  }
}

export async function runLogin(urlText: string, options: LoginOptions, deps: Deps): Promise<void> {
  const { io, env, settings } = deps;
  const url = serverUrl(urlText);
  if (url.startsWith('http:') && !isLoopback(new URL(url).hostname.replace(/^\[|\]$/g, ''))) {
    io.warn(`${url} is plain HTTP: new secrets from create and rotate would cross the network unencrypted`);
  }
  // Before a person is asked anything: credentials typed in for nothing are a poor welcome.
  // (Read from stdin, they are checked first, and the keychain only when they are kept.)
  if (!options.insecureStorage && io.terminal.canPrompt) withKeychainHint(() => checkKeychain(deps.keychain()));
  const { accessKeyId, secretKey } = await askCredentials(options, deps);
  if (!isAccessKeyId(accessKeyId))
    throw new UsageError('the access key id is not AKM + 17 base32 characters', { code: 'credentials_invalid' });
  if (!isWellFormedSecret(secretKey))
    throw new UsageError('the secret key is malformed (its checksum fails)', {
      hint: 'check for a typo or a truncated copy',
      code: 'credentials_invalid',
    });

  let identity;
  try {
    const { RemoteService } = await import('../../remote/service.js');
    identity = await new RemoteService({
      baseUrl: url,
      credentials: { accessKeyId, secretAccessKey: secretKey },
    }).whoami();
  } catch (error) {
    if (error instanceof DeniedError)
      throw new DeniedError(`${url} refused these credentials: ${error.message}`, {
        hint: error.hint,
        code: error.code,
      });
    throw error;
  }

  const stored = { accessKeyId, secretAccessKey: secretKey, tenantId: identity.tenantId };
  let where: string;
  if (options.insecureStorage) {
    const file = insecureFilePath(env, settings.profileName);
    storeInFile(file, stored);
    updateProfile(env, settings.profileName, { store: url, tenant: identity.tenantId, credentialsFile: file });
    io.warn(
      `credentials stored in plaintext at ${file} (--insecure-storage); ` +
        `anyone who can read that file can act as ${identity.actor}`,
    );
    where = `file ${file}`;
  } else {
    withKeychainHint(() => storeInKeychain(deps.keychain(), settings.profileName, stored));
    // A plaintext file from an earlier --insecure-storage login would win over the keychain: remove it.
    if (settings.profile.credentialsFile) rmSync(settings.profile.credentialsFile, { force: true });
    updateProfile(env, settings.profileName, { store: url, tenant: identity.tenantId, credentialsFile: undefined });
    where = 'OS keychain';
  }

  const result = {
    url,
    profile: settings.profileName,
    tenantId: identity.tenantId,
    actor: identity.actor,
    accessKeyId,
    admin: identity.admin,
    credentials: where,
  };
  if (io.json) return io.outJson(result);
  io.out(
    renderFields(io, [
      ['server', url],
      ['signed in as', `${printable(identity.actor)}${identity.admin ? ' (tenant administrator)' : ''}`],
      ['tenant', tenantLabel(identity.tenantId, identity.tenantName)],
      ['access key', accessKeyId],
      ['profile', settings.profileName],
      ['credentials', where],
    ]),
  );
  io.info(
    io.errStyle.green('✓ logged in') +
      (settings.profileName === 'default'
        ? ' — akm commands now use this server'
        : ` — use it with --profile ${settings.profileName}`),
  );
}
