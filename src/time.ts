/**
 * Durations and instants as users type them, on top of the `ms` library.
 */
import ms from 'ms'
import { usageError } from './errors.ts'

/**
 * Parses a duration such as `500ms`, `10s`, `2m`, `1.5h`, `30d` into milliseconds.
 * A unit is required: a bare number is ambiguous between tools (kcat: ms, rpk: s).
 * @throws EvtError (usage, exit 2) naming the flag and the accepted forms.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  const trimmed = text.trim()
  if (/^(\d+(\.\d*)?|\.\d+)$/.test(trimmed)) {
    throw usageError(`${flag}: "${text}" has no unit`, Number(trimmed) > 0 ? `write it with a unit, e.g. ${trimmed}s or ${trimmed}ms` : 'write it with a unit, e.g. 500ms, 10s, 5m')
  }
  const value = trimmed === '' ? undefined : ms(trimmed as ms.StringValue)
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw usageError(`${flag}: "${text}" is not a duration`, 'use a number and a unit: 500ms, 10s, 5m, 2h, 7d')
  }
  return value
}

/** Digits up to which a bare number is epoch seconds; from 12 digits on it is epoch milliseconds. */
export const EPOCH_SECONDS_MAX_DIGITS = 11

/**
 * Parses an instant: a bare number of up to 11 digits is epoch seconds (`1700000000`, as
 * `date +%s` prints it), of 12 or more digits epoch milliseconds (`1700000000000`, as Kafka
 * timestamps are); RFC 3339 (`2026-11-29T14:00:00Z`, offsets allowed; no offset means local
 * time), or a date (`2026-11-29`, local midnight). 11 digits of seconds reach the year 5138 and
 * 12 digits of milliseconds start at 1973-03-03, so the two ranges do not overlap in practice.
 * Returns epoch ms.
 * @throws EvtError (usage) when the text is none of those.
 */
export function parseInstant(text: string, flag = 'time'): number {
  const t = text.trim()
  if (/^\d+$/.test(t)) return t.length <= EPOCH_SECONDS_MAX_DIGITS ? Number(t) * 1000 : Number(t)
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(t)
  const [y, m, d] = ymd ? [Number(ymd[1]), Number(ymd[2]), Number(ymd[3])] : [0, 0, 0]
  // the day must exist: 2026-02-30 is an error, not a silent March 2
  if (ymd && m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate()) {
    if (t.length === 10) return new Date(y, m - 1, d).getTime()
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(t)) {
      const value = Date.parse(t.replace(' ', 'T'))
      if (Number.isFinite(value)) return value
    }
  }
  throw usageError(`${flag}: "${text}" is not a time`, 'use epoch seconds (1700000000), epoch ms (1700000000000), RFC 3339 (2026-11-29T14:00:00Z) or a date (2026-11-29)')
}

/** The latest instant a JavaScript Date holds (year 275760), epoch ms. */
const MAX_EPOCH_MS = 8.64e15

/**
 * Checks an instant for Kafka: not before 1970-01-01 (Kafka timestamps are epoch ms ≥ 0; a
 * negative one reaches the broker as a request it rejects) and not beyond what a Date holds.
 * `text` is what the user typed, for the message.
 * @throws EvtError (usage, exit 2) with a hint.
 */
export function checkEpoch(epochMs: number, text: string, flag = 'time'): number {
  if (!Number.isFinite(epochMs) || epochMs > MAX_EPOCH_MS) throw usageError(`${flag}: "${text}" is too far in the future`, 'use epoch seconds (1700000000), epoch ms (1700000000000), RFC 3339 (2026-11-29T14:00:00Z) or a date (2026-11-29)')
  if (epochMs < 0) throw usageError(`${flag}: "${text}" is before 1970-01-01`, 'Kafka timestamps start at 1970-01-01T00:00:00Z: give a later time or a shorter duration, or use start')
  return epochMs
}

/** The longest timer Node can run: 2^31 − 1 ms (about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * Parses a timeout: a duration above zero and at most {@link MAX_TIMEOUT_MS}.
 * @throws EvtError (usage) otherwise.
 */
export function parseTimeout(text: string, flag = '--timeout'): number {
  const value = parseDuration(text, flag)
  if (value <= 0) throw usageError(`${flag}: "${text}" must be longer than zero`, 'e.g. 500ms, 10s, 2m')
  if (value > MAX_TIMEOUT_MS) throw usageError(`${flag}: "${text}" is too long`, 'at most 24d')
  return value
}

/** What human output shows for a record without a timestamp (Kafka's −1, written by pre-0.10 producers). */
export const NO_TIMESTAMP = 'no timestamp'

/**
 * A record timestamp (epoch ms) as ISO 8601 UTC (`2026-11-29T14:00:00.123Z`), cut to the given
 * part of that string (`slice(start, end)`), or {@link NO_TIMESTAMP} for a negative timestamp:
 * Kafka's −1 means the record has none (`--json` keeps −1). Same for any value a Date cannot hold.
 */
export function recordTimeText(timestampMs: number, start = 0, end?: number): string {
  if (!Number.isFinite(timestampMs) || timestampMs < 0 || timestampMs > MAX_EPOCH_MS) return NO_TIMESTAMP
  return new Date(timestampMs).toISOString().slice(start, end)
}

/**
 * A window bound such as `--since 24h` (a duration before `now`) or an instant (epoch ms, RFC 3339,
 * a date), as epoch ms.
 * @throws EvtError usage (exit 2) for text that is neither, or an instant out of range.
 */
export function parseWhen(text: string, flag: string, now: number): number {
  return checkEpoch(/^\d+(\.\d+)?(ms|s|m|h|d|w|y)$/i.test(text.trim()) ? now - parseDuration(text, flag) : parseInstant(text, flag), text, flag)
}
