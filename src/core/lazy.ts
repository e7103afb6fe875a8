/** A value made on its first use and kept: for what would cost every start but few runs need. */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
