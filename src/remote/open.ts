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

export function openRemote(options: RemoteOpenOptions): RemoteService {
  const credentials = resolveCredentials(options);
  const tenantId = options.tenant ?? credentials.tenantId;
  return new RemoteService({
    baseUrl: options.url,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    ...(tenantId ? { tenantId } : {}),
  });
}
