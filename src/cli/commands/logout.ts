/** akm logout: forget the credentials `akm login` stored for the profile (keychain entry or file). */
import type { Command } from 'commander';
import { updateProfile } from '../../config/profiles.js';
import { forgetCredentials } from '../../remote/credentials.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';

export function registerLogout(program: Command, ctx: CommandContext): void {
  program
    .command('logout')
    .description('remove the stored server credentials of the profile')
    .addHelpText('after', examples('akm logout', 'akm logout --profile prod'))
    .action(async (_flags: object, command: Command) => runLogout(ctx.deps(command)));
}

export async function runLogout(deps: Deps): Promise<void> {
  const { io, settings, env } = deps;
  const removed = forgetCredentials(deps.keychain, settings.profileName, settings.profile);
  if (settings.profile.credentialsFile) updateProfile(env, settings.profileName, { credentialsFile: undefined });
  const fromEnv = ['AKM_ACCESS_KEY_ID', 'AKM_SECRET_ACCESS_KEY', 'AKM_CREDENTIALS'].filter((name) => env[name]);
  if (io.json) io.outJson({ profile: settings.profileName, removed, stillInEnvironment: fromEnv });
  else
    io.info(
      removed.length > 0
        ? `logged out (profile ${settings.profileName}): removed the credentials from ${removed.join(' and ')}`
        : `no stored credentials for profile ${settings.profileName}`,
    );
  if (fromEnv.length > 0)
    io.warn(`${fromEnv.join(', ')} ${fromEnv.length > 1 ? 'are' : 'is'} set in the environment and will still be used`);
}
