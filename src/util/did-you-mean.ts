/**
 * "Did you mean …?" for names typed by a user (topics, groups): the candidates close to what was
 * typed, by edit distance (Levenshtein, via fastest-levenshtein) or by containing it (a name typed
 * in part), nearest first. A name that is merely the nearest of all (`nope.topic` →
 * `invoices.events`) is not close: such a hint would only mislead.
 */
import { distance } from 'fastest-levenshtein'

/**
 * Up to `max` candidates close to `typed`: those within an edit distance of max(2, a third of its
 * length), and those containing it or contained in it (case-insensitive, at least 3 characters),
 * nearest first, without duplicates. [] when none is close.
 */
export function closeNames(typed: string, candidates: readonly string[], max = 4): string[] {
  const t = typed.toLowerCase()
  const limit = Math.max(2, Math.floor(typed.length / 3))
  const scored: Array<{ name: string; d: number }> = []
  for (const name of candidates) {
    const n = name.toLowerCase()
    const d = distance(t, n)
    const contains = t.length >= 3 && n.length >= 3 && (n.includes(t) || t.includes(n))
    if (d <= limit || contains) scored.push({ name, d })
  }
  return scored.sort((a, b) => a.d - b.d || a.name.localeCompare(b.name)).slice(0, max).map((s) => s.name)
}
