/** What kind of store a `--store` value names, and how to show it without its password. */

export function isPostgresStore(store: string): boolean {
  return /^postgres(ql)?:\/\//i.test(store);
}

/**
 * The store as messages, logs and `whoami` show it: a PostgreSQL URL loses its password (the
 * user, host, port and database stay, they say which store it is).
 */
export function displayStore(store: string): string {
  if (!isPostgresStore(store)) return store;
  try {
    const url = new URL(store);
    if (url.password === '') return store;
    url.password = '';
    return url.toString();
  } catch {
    // Not a URL we can parse: drop whatever sits between "//" and "@", user included.
    return store.replace(/^(postgres(?:ql)?:\/\/)[^@/]*@/i, '$1');
  }
}

/** Does this store value carry a password in clear (which would show in the process list when given as an argument)? */
export function storeHasPassword(store: string): boolean {
  return isPostgresStore(store) && displayStore(store) !== store;
}
