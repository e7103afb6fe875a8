/**
 * `akm serve` as a real child process (node bin/akm.js serve), over a temp store with an
 * admin key, for the TLS, shutdown and login suites. The first stdout line is the URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IssuedKey } from '../../src/service/types.js';
import { killHard, spawnNode, type Child } from './children.js';
import { BIN } from './cli.js';
import type { Engine } from './engines.js';
import { adminKey, tempStore, type TempStore } from './store.js';

export interface ServeProcess {
  child: Child;
  url: string;
  store: TempStore;
  admin: IssuedKey;
  /** a HOME for clients, separate from the server's */
  clientHome: string;
  clientEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * Another `akm serve` process on an existing store (a restart, or a second server beside the
 * first). The store comes in AKM_STORE: a PostgreSQL URL carries the test cluster's password.
 */
export async function serveOn(
  store: TempStore,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: Child; url: string }> {
  const child = spawnNode(BIN, ['serve', '--listen', '127.0.0.1:0', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: store.dir,
      AKM_STORE: store.location,
      AKM_MASTER_KEY: store.masterKey,
      CI: '1',
      NO_COLOR: '1',
      ...env,
    },
  });
  try {
    return { child, url: await child.waitForLine((line) => /^https?:\/\//.test(line), 15_000) };
  } catch (error) {
    await killHard(child);
    throw error;
  }
}

export async function spawnServe(
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  engine: Engine = 'sqlite',
): Promise<ServeProcess> {
  const store = await tempStore(engine, 'akm-serve-');
  const admin = await adminKey(store);
  let started: { child: Child; url: string };
  try {
    started = await serveOn(store, args, env);
  } catch (error) {
    await store.cleanup();
    throw error;
  }
  const { child, url } = started;
  const clientHome = mkdtempSync(join(tmpdir(), 'akm-client-'));
  return {
    child,
    url,
    store,
    admin,
    clientHome,
    clientEnv: (extra = {}) => {
      const merged: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: clientHome,
        XDG_CONFIG_HOME: join(clientHome, '.config'),
        XDG_DATA_HOME: join(clientHome, '.local', 'share'),
        CI: '1',
        NO_COLOR: '1',
        LANG: 'C.UTF-8',
        ...extra,
      };
      for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
      return merged;
    },
    stop: async () => {
      await killHard(child);
      await store.cleanup();
      rmSync(clientHome, { recursive: true, force: true });
    },
  };
}
