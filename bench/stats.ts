/**
 * Small statistics for benchmark samples.
 *
 * @module
 */

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The `p`-th percentile (0 to 100) of `sorted`, which must be sorted
 * ascending: the smallest value with at least `p` percent of the values at
 * or below it (nearest rank).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** `values` sorted ascending, as numbers. */
export function sortedNumbers(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}
