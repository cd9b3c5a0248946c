/**
 * `trace --expect`: which expected event types have not appeared (yet) for a request.
 */
import { EvtError } from '../errors.ts'
import { buildGraph, causalOrder, recordId, type TraceRecord } from './graph.ts'

/**
 * When each record happened in causal order (src/trace/graph.ts `causalOrder`): its timestamp,
 * raised to its cause's when its producer's clock is behind. By record id.
 */
function causalTimes(records: TraceRecord[]): Map<string, number> {
  return new Map(causalOrder(buildGraph(records)).map((x) => [x.node.id, x.at]))
}

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
 * missing when its first appearance (in causal order: by record timestamp, a record never before
 * its cause) comes before that of the type listed before it.
 */
export function missingExpectations(records: TraceRecord[], expected: string[], ordered = false): string[] {
  const at = ordered ? causalTimes(records) : undefined
  const firstSeen = expected.map((t) => {
    let first: number | undefined
    for (const r of records) {
      const when = at?.get(recordId(r)) ?? r.timestamp
      if (typeMatches(r.meta.eventType, t) && (first === undefined || when < first)) first = when
    }
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

/** An `--expect-order` violation: the expected order and the order the types were seen in. */
export interface OrderViolation {
  /** The types in the order they first appeared (causal order); types not seen are left out. */
  seen: Array<{ type: string; recordId: string; timestamp: number }>
  /** The expected type that came too late (or not before the later one) and the one it should precede. */
  late: string
  before: string
}

/**
 * Whether the order of `expected` is already violated by `records`, so that waiting longer cannot
 * meet it: a type has appeared, and a type listed before it first appeared later (in causal
 * order, as {@link missingExpectations}), or has not appeared although the later one was found by the initial scan (anything
 * written from now on comes after it). A later type found while following (`live`) with an earlier
 * one still missing is not decided yet: the earlier one may be on a partition read a moment later.
 * Undefined while the order can still be met.
 */
export function orderViolation(records: TraceRecord[], expected: string[]): OrderViolation | undefined {
  const at = causalTimes(records)
  const when = (r: TraceRecord) => at.get(recordId(r)) ?? r.timestamp
  const first = expected.map((t) => {
    let best: TraceRecord | undefined
    for (const r of records) if (typeMatches(r.meta.eventType, t) && (best === undefined || when(r) < when(best))) best = r
    return best
  })
  for (let j = 1; j < expected.length; j++) {
    const later = first[j]
    if (!later) continue
    for (let i = 0; i < j; i++) {
      const earlier = first[i]
      const violated = earlier ? when(earlier) > when(later) : !later.live
      if (!violated) continue
      const seen = expected
        .map((type, k) => ({ type, r: first[k] }))
        .filter((x): x is { type: string; r: TraceRecord } => x.r !== undefined)
        .sort((a, b) => when(a.r) - when(b.r))
        .map((x) => ({ type: x.type, recordId: recordId(x.r), timestamp: x.r.timestamp }))
      return { seen, late: expected[i], before: expected[j] }
    }
  }
  return undefined
}

/**
 * The outcome of `trace --expect` for request `id` after `elapsedMs`: nothing when every expected
 * type appeared (in order, with `ordered`).
 * @throws EvtError expectation (exit 5): types out of order (with `ordered`), or missing.
 */
export function checkExpectations(id: string, records: TraceRecord[], expected: string[], ordered: boolean, elapsedMs: number): void {
  const violation = ordered ? orderViolation(records, expected) : undefined
  if (violation) {
    throw new EvtError('expectation', `${id}: event types out of order: expected ${expected.join(' → ')}, seen ${violation.seen.map((x) => `${x.type} (${x.recordId})`).join(' → ')}${violation.seen.some((x) => x.type === violation.late) ? '' : ` with ${violation.late} missing before ${violation.before}`}`, { hint: `${violation.late} must come before ${violation.before}: look at the tree above, or fix the order given to --expect` })
  }
  const missing = missingExpectations(records, expected, ordered)
  if (missing.length) throw new EvtError('expectation', `after ${Math.round(elapsedMs / 1000)} s, ${id} ${missing.every((m) => m.endsWith('(out of order)')) ? 'has event types out of order' : 'is missing'}: ${missing.join(', ')}`, { hint: 'raise --timeout, or look at the tree above for a dead letter or a stalled hop' })
}

/** Whether waiting can end: every expected type seen, or (`ordered`) an order violation that waiting cannot fix. */
export function expectationsDecided(records: TraceRecord[], expected: string[], ordered: boolean): boolean {
  return missingExpectations(records, expected, ordered).length === 0 || (ordered && orderViolation(records, expected) !== undefined)
}
