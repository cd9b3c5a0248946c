/**
 * The position grammar shared by tail, replay and dlq (modelled on rpk's `-o`):
 *
 * ```
 * start | oldest        the first retained record (low watermark)
 * end | newest          the end at the time of the call (high watermark / last stable offset)
 * 47                    exactly offset 47
 * +10                   10 records after start
 * -10                   10 records before end
 * @1700000000000        first record at or after that time: epoch ms (12+ digits), epoch seconds
 * @1700000000           (up to 11 digits, as `date +%s`), RFC 3339 or a date
 * @-2h                  … a duration ago (ms library: 30s, 15m, 2h, 7d)
 * FROM:TO               a bounded range; TO is exclusive: 47:50 reads 47, 48, 49
 * FROM:end | FROM:      … up to the end taken at start | (empty TO) keep following
 * :TO                   from start up to TO
 * @T1:T2, @-2h:-1h      time range; TO may omit its '@'
 * FROM:+N               N records from FROM
 * ```
 *
 * Counts are records, not offsets: transaction markers, offsets removed by compaction and (under
 * read_committed) aborted records are not counted. The functions here resolve by offset arithmetic,
 * which is exact where offsets have no gaps; the reader (`KafkaReader.plan`) then counts the records
 * of `+N`, `-N` and `FROM:+N` by reading (see `KafkaReader.countRecords`).
 */
import { usageError } from '../errors.ts'
import { checkEpoch, parseDuration, parseInstant } from '../time.ts'

/** One end of a range, before it is resolved against a partition. */
export type Position =
  | { kind: 'start' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: number }
  | { kind: 'after-start'; count: number }
  | { kind: 'before-end'; count: number }
  /** Epoch ms: the first offset whose timestamp is ≥ this. */
  | { kind: 'time'; timestamp: number }
  /** Only as a range end: this many records after the resolved start. */
  | { kind: 'count'; count: number }

/** A parsed `-o` value. `to` undefined = no end (follow live). */
export interface PositionRange {
  from: Position
  to?: Position
}

/** The grammar, for error hints. */
export const POSITION_GRAMMAR = 'start | end | <offset> | +N | -N | @<time> | @-<duration>, or a range FROM:TO (e.g. 100:200, -50:end, @-2h:-1h, @2026-11-29T14:00:00Z:2026-11-29T15:00:00Z)'

/** The largest offset Kafka has (a signed 64-bit integer). */
const MAX_OFFSET = 2n ** 63n - 1n

function parseOne(text: string, isEnd: boolean, timeContext: boolean, now: number): Position {
  const t = text.trim()
  if (t === 'start' || t === 'oldest' || t === 'beginning') return { kind: 'start' }
  if (t === 'end' || t === 'newest') return { kind: 'end' }
  if (/^\d+$/.test(t)) {
    // the TO of a time range may omit its '@': a number of 10+ digits there is a time (seconds up to 11 digits, else ms)
    if (timeContext && t.length >= 10) return { kind: 'time', timestamp: checkEpoch(parseInstant(t, 'time'), text, 'time') }
    if (BigInt(t) > MAX_OFFSET) throw usageError(`offset ${t} is beyond the largest Kafka offset (2^63-1)`, 'Kafka offsets are 64-bit: use end for the newest record')
    return { kind: 'offset', offset: Number(t) }
  }
  if (/^\+\d+$/.test(t)) return isEnd ? { kind: 'count', count: Number(t.slice(1)) } : { kind: 'after-start', count: Number(t.slice(1)) }
  if (/^-\d+$/.test(t) && !timeContext) return { kind: 'before-end', count: Number(t.slice(1)) }
  if (t.startsWith('@') || timeContext) {
    const spec = t.startsWith('@') ? t.slice(1) : t
    if (spec.startsWith('-')) return { kind: 'time', timestamp: checkEpoch(now - parseDuration(spec.slice(1), 'time offset'), text, 'time') }
    return { kind: 'time', timestamp: checkEpoch(parseInstant(spec, 'time'), text, 'time') }
  }
  throw new Error('unrecognised')
}

/**
 * Splits FROM:TO at the range colon, ignoring colons inside RFC 3339 times
 * (a colon followed by two digits that continue a time, like 14:00).
 */
function splitRange(text: string): [string, string] | [string] {
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ':') continue
    const before = text.slice(0, i)
    const after = text.slice(i + 1)
    // inside a time of day: "T14:00" or " 14:00", or its offset "14:00:00+01:00" (not "-10:20", "2026-11-29:…")
    if (/(\d{4}-\d{2}-\d{2}[T ]\d{2}(:\d{2})?|[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?[+-]\d{2})$/i.test(before) && /^\d{2}/.test(after)) continue
    return [before, after]
  }
  return [text]
}

function inverted(text: string): never {
  throw usageError(`bad position "${text}": the range ends before it starts`, 'write FROM:TO with FROM first, e.g. 100:200 or @-2h:-1h')
}

/**
 * Parses an `-o/--offset` (or `--from` / `--to`) value. `now` (epoch ms) anchors `@-duration`.
 * @throws EvtError (usage, exit 2) with the grammar when the text does not parse.
 */
export function parsePositionRange(text: string, now: number = Date.now()): PositionRange {
  const parts = splitRange(text.trim())
  try {
    if (parts.length === 1) {
      const from = parseOne(parts[0], false, false, now)
      if (from.kind === 'count') throw new Error('count')
      return { from }
    }
    const [a, b] = parts
    const timeContext = a.trim().startsWith('@')
    const from: Position = a.trim() === '' ? { kind: 'start' } : parseOne(a, false, false, now)
    if (b.trim() === '') return { from }
    const to = parseOne(b, true, timeContext, now)
    const backwards =
      (from.kind === 'offset' && to.kind === 'offset' && to.offset < from.offset) ||
      (from.kind === 'time' && to.kind === 'time' && to.timestamp < from.timestamp) ||
      (from.kind === 'end' && to.kind !== 'end' && to.kind !== 'count')
    if (backwards) return inverted(text)
    return { from, to }
  } catch (err) {
    if (err instanceof Error && err.name === 'EvtError' && err.message.includes('ends before it starts')) throw err
    if (err instanceof Error && err.name === 'EvtError') {
      // a position out of Kafka's range (before 1970, beyond 2^63-1) keeps its own hint (those start with "Kafka "); a syntax error gets the grammar
      const hint = (err as { hint?: string }).hint
      throw usageError(`bad position "${text}": ${err.message}`, hint && /^Kafka /.test(hint) ? hint : `positions: ${POSITION_GRAMMAR}`)
    }
    throw usageError(`bad position "${text}"`, `positions: ${POSITION_GRAMMAR}`)
  }
}

/** What is known about one partition when resolving positions (all offsets as numbers). */
export interface PartitionBounds {
  /** Low watermark (log start offset). */
  low: number
  /** End: high watermark, or last stable offset under read_committed. */
  high: number
  /** Offsets for the time positions in the range, from ListOffsets: first offset with timestamp ≥ t, or null when none (→ end). */
  timeOffsets?: Map<number, number | null>
}

/**
 * Resolves a position to an offset within [low, high]. Offsets outside are clamped (a start
 * below the low watermark begins at the first retained record, as kcat and rpk do). Counts
 * (`after-start`, `before-end`, `count`) are taken as offsets here: the reader replaces them by
 * counted records.
 */
export function resolvePosition(position: Position, bounds: PartitionBounds, base?: number): number {
  const clamp = (n: number) => Math.min(Math.max(n, bounds.low), bounds.high)
  switch (position.kind) {
    case 'start':
      return bounds.low
    case 'end':
      return bounds.high
    case 'offset':
      return clamp(position.offset)
    case 'after-start':
      return clamp(bounds.low + position.count)
    case 'before-end':
      return clamp(bounds.high - position.count)
    case 'count':
      return clamp((base ?? bounds.low) + position.count)
    case 'time': {
      const found = bounds.timeOffsets?.get(position.timestamp)
      return found === null || found === undefined ? bounds.high : clamp(found)
    }
  }
}

/** The timestamps a range needs looked up (ListOffsets by time), deduplicated. */
export function timesIn(range: PositionRange): number[] {
  const out = new Set<number>()
  for (const p of [range.from, range.to]) if (p?.kind === 'time') out.add(p.timestamp)
  return [...out]
}

/**
 * Resolves a range for one partition: `[start, end)`; `end` undefined = follow live.
 * `end` is never below `start`.
 */
export function resolveRange(range: PositionRange, bounds: PartitionBounds): { start: number; end?: number } {
  const start = resolvePosition(range.from, bounds)
  if (!range.to) return { start }
  const end = Math.max(start, resolvePosition(range.to, bounds, start))
  return { start, end }
}
