/**
 * System services some tests need (Secret Service, an X clipboard, tmux, curl, openssl).
 * Decided when the test is registered: with the services present it is an ordinary test;
 * without them it is registered as skipped (so the count says so) on a developer machine, and
 * as a failing test under CI, where scripts/test.sh must have started them.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';

export interface SystemService {
  name: string;
  available(): boolean;
  /** how to get it */
  install: string;
}

function once(probe: () => boolean): () => boolean {
  let known: boolean | undefined;
  return () => (known ??= probe());
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

const command = (name: string): SystemService => ({
  name,
  available: once(() => hasCommand(name)),
  install: `apt-get install ${name}`,
});

export const TMUX = command('tmux');
export const CURL = command('curl');
export const OPENSSL = command('openssl');
export const SECRET_SERVICE: SystemService = {
  name: 'Secret Service',
  available: once(() => {
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) return false;
    const probe = spawnSync('secret-tool', ['search', 'service', 'akm-probe'], { encoding: 'utf8', timeout: 10_000 });
    return probe.status === 0 || probe.status === 1;
  }),
  install: 'apt-get install gnome-keyring dbus libsecret-tools',
};
export const X_CLIPBOARD: SystemService = {
  name: 'an X clipboard',
  available: once(() => !!process.env.DISPLAY && hasCommand('xsel')),
  install: 'apt-get install xvfb xsel; run under xvfb-run',
};

/** A PostgreSQL cluster for the second store engine: scripts/test.sh starts one and exports its URL. */
export const POSTGRES: SystemService = {
  name: 'PostgreSQL',
  available: () => !!process.env.AKM_TEST_PG_URL,
  install: 'apt-get install postgresql',
};

type Body = (t: ExecutionContext) => Promise<void> | void;
type Register = (title: string, body: Body) => void;

/** `needing(TMUX)('title', async (t) => …)`, and `needing(…).serial(…)` for test.serial. */
export function needing(...services: SystemService[]): Register & { serial: Register } {
  const missing = services.filter((s) => !s.available());
  const what = missing.map((s) => `${s.name} (${s.install})`).join(', ');
  const register =
    (serial: boolean): Register =>
    (title, body) => {
      const run = serial ? test.serial : test;
      if (missing.length === 0) run(title, body);
      else if (process.env.CI) run(title, (t) => t.fail(`CI: needs ${what}; scripts/test.sh starts them`));
      else run.skip(`${title} [needs ${what}]`, body);
    };
  return Object.assign(register(false), { serial: register(true) });
}
