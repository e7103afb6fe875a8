/**
 * "Did you mean …?" for a mistyped command or option, the way git and gh do it: the
 * Damerau–Levenshtein distance (insertions, deletions, substitutions and swaps of two
 * neighbouring characters each cost 1), and only close candidates.
 */
import { UsageError } from './errors.js';

/** Edit distance where swapping two neighbouring characters is one edit ("creaet" → "create"). */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between the first i characters of a and the first j of b.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** How far a guess may be from the typed word: 2 edits, fewer for very short words. */
function tolerance(word: string): number {
  return Math.min(2, Math.max(1, Math.floor(word.length / 3)));
}

/**
 * The candidates closest to `typed` (at most three, nearest first, then alphabetical), or none
 * when nothing is close. Leading dashes are ignored, so "--expire-in" finds "--expires-in".
 */
export function suggest(typed: string, candidates: Iterable<string>): string[] {
  const bare = (text: string) => text.replace(/^-+/, '').toLowerCase();
  const word = bare(typed);
  if (word.length === 0) return [];
  const scored = [...new Set(candidates)]
    .map((candidate) => ({ candidate, distance: editDistance(word, bare(candidate)) }))
    .filter(({ distance }) => distance <= tolerance(word));
  scored.sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate));
  return scored.slice(0, 3).map((s) => s.candidate);
}

/** "did you mean create?" / "did you mean --expires-in or --expires-on?", or undefined. */
export function didYouMean(typed: string, candidates: Iterable<string>): string | undefined {
  const found = suggest(typed, candidates);
  if (found.length === 0) return undefined;
  const last = found.pop()!;
  return `did you mean ${found.length > 0 ? `${found.join(', ')} or ${last}` : last}?`;
}

/** `--status: "actve" is not one of active, inactive, expired` (did you mean active?): a value outside its choices. */
export function notOneOf(flag: string, typed: string, allowed: readonly string[]): UsageError {
  return new UsageError(`${flag}: "${typed.slice(0, 40)}" is not one of ${allowed.join(', ')}`, {
    hint: didYouMean(typed, allowed),
    code: 'invalid_argument',
  });
}
