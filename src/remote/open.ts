/** The CLI's way into remote mode: resolve the credentials for the profile, then a RemoteService. */
import type { Profile } from '../config/profiles.js';
import type { Keychain } from '../keychain/keychain.js';
import { resolveCredentials } from './credentials.js';
import { RemoteService } from './service.js';

export interface RemoteOpenOptions {
  url: string;
  profileName: string;
  profile: Profile;
  /** --tenant / AKM_TENANT: the server refuses a key of another tenant */
  tenant?: string;
  env: NodeJS.ProcessEnv;
  keychain: () => Keychain;
  warn: (text: string) => void;
}

/** Credentials are looked up on the first signed request: `akm verify` needs none. */
export function openRemote(options: RemoteOpenOptions): RemoteService {
  return new RemoteService({
    baseUrl: options.url,
    credentials: () => resolveCredentials(options),
    ...(options.tenant ? { tenantId: options.tenant } : {}),
  });
}
