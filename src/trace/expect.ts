/**
 * `trace --expect`: which expected event types have not appeared (yet) for a request.
 */
import type { TraceRecord } from './graph.ts'

/**
 * True when an event type matches an expected name: equal ignoring case, or the expected name
 * is its last dot/colon-separated segment (`StockReserved` matches the CloudEvents type
 * `com.shop.inventory.StockReserved`).
 */
export function typeMatches(eventType: string | undefined, expected: string): boolean {
  if (!eventType) return false
  const a = eventType.toLowerCase()
  const b = expected.toLowerCase()
  return a === b || a.endsWith(`.${b}`) || a.endsWith(`:${b}`)
}

/**
 * The expected types still missing, in the order given. With `ordered`, a type also counts as
 * missing when its first appearance (by record timestamp) comes before that of the type listed
 * before it.
 */
export function missingExpectations(records: TraceRecord[], expected: string[], ordered = false): string[] {
  const firstSeen = expected.map((t) => {
    let first: number | undefined
    for (const r of records) if (typeMatches(r.meta.eventType, t) && (first === undefined || r.timestamp < first)) first = r.timestamp
    return first
  })
  const missing: string[] = []
  let previous = -Infinity
  expected.forEach((t, i) => {
    const seen = firstSeen[i]
    if (seen === undefined) missing.push(t)
    else if (ordered && seen < previous) missing.push(`${t} (out of order)`)
    if (seen !== undefined) previous = Math.max(previous, seen)
  })
  return missing
}
