/**
 * Who a notice about a key goes to, from the labels the store keeps. A label is an email, or
 * "key:AKM…" when a tenant-level key acted: a key has no inbox and no mailbox, so it is skipped.
 */
export function isPersonLabel(label: string | null | undefined): label is string {
  return typeof label === 'string' && !label.startsWith('key:') && label.includes('@');
}

export function sameLabel(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

/** People named by these labels, each once (emails compare case-insensitively), first mention first. */
export function uniquePeople(labels: Array<string | null | undefined>): string[] {
  const seen = new Set<string>();
  const people: string[] = [];
  for (const label of labels) {
    if (!isPersonLabel(label)) continue;
    const email = label.toLowerCase();
    if (seen.has(email)) continue;
    seen.add(email);
    people.push(email);
  }
  return people;
}
