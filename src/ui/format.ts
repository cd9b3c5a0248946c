/**
 * Plain-text pieces of the live views (no colours, no React): short one-line previews for lists,
 * the lines of a detail pane, rates and sparklines. Pure functions, tested without rendering.
 */
import { headerText, type DecodedWithText } from '../codec/decode.ts'
import type { Decoded, DecodedRecord } from '../record.ts'
import { escapeControl } from '../util/terminal-text.ts'
import { recordTimeText } from '../time.ts'

/** Longest text a one-line preview is built from; the view truncates to the terminal width. */
const PREVIEW_CHARS = 240

/** `topic/partition@offset`. */
export function recordPosition(record: DecodedRecord): string {
  return `${record.topic}/${record.partition}@${record.offset}`
}

/** The record time as `HH:MM:SS.mmm` (UTC, like the ISO times of the plain output). */
export function recordClock(record: DecodedRecord): string {
  return recordTimeText(record.timestamp, 11, 23)
}

/** Collapses line breaks and runs of whitespace so a preview stays on one line; control characters escaped. */
function oneLine(text: string): string {
  return escapeControl(text.replace(/\s+/g, ' ').trim())
}

function textOf(decoded: Decoded, bytes: Buffer | null, maxChars: number): string {
  switch (decoded.kind) {
    case 'null':
      return ''
    case 'binary':
      // 3 bytes → 4 base64 characters: encode only what can be shown
      return `base64:${(bytes ?? Buffer.alloc(0)).subarray(0, Math.ceil(maxChars * 0.75)).toString('base64')}`
    case 'json':
    case 'text': {
      const text = (decoded as DecodedWithText).text
      if (text !== undefined) return text.slice(0, maxChars)
      return (typeof decoded.value === 'string' ? decoded.value : JSON.stringify(decoded.value)).slice(0, maxChars)
    }
    default:
      return (JSON.stringify(decoded.value ?? null) ?? '').slice(0, maxChars)
  }
}

/** The key on one line: its text, `base64:…` for binary, `(no key)` for a null key. */
export function keyPreview(record: DecodedRecord, maxChars = 40): string {
  if (record.keyDecoded.kind === 'null') return '(no key)'
  const text = oneLine(textOf(record.keyDecoded, record.key, maxChars + 1))
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text
}

/** The value on one line (cut; the view truncates to the width): `(tombstone)` for a null value. */
export function valuePreview(record: DecodedRecord, maxChars = PREVIEW_CHARS): string {
  if (record.valueDecoded.kind === 'null') return '(tombstone)'
  return oneLine(textOf(record.valueDecoded, record.value, maxChars))
}

/** `event_type` (or else `type`) of a JSON object value, when it is a string. */
export function eventType(record: DecodedRecord): string | undefined {
  const decoded = record.valueDecoded
  if (decoded.kind !== 'json' || decoded.value === null || typeof decoded.value !== 'object' || Array.isArray(decoded.value)) return undefined
  const value = decoded.value as Record<string, unknown>
  if (typeof value.event_type === 'string') return escapeControl(value.event_type)
  if (typeof value.type === 'string') return escapeControl(value.type)
  return undefined
}

/** One header as the detail pane shows it. */
export interface HeaderLine {
  key: string
  /** Text, base64 text, or null for a null header value. */
  value: string | null
  encoding: 'text' | 'base64' | 'null'
}

/** All headers in record order, duplicates and nulls kept; names escaped (values are text only when printable). */
export function headerLines(record: DecodedRecord): HeaderLine[] {
  return record.headers.map((h) => ({ key: escapeControl(h.key), ...headerText(h.value) }))
}

/** The decoded value as lines: JSON pretty-printed, text as is, binary as base64 in 76-char lines. */
export function valueLines(record: DecodedRecord): string[] {
  const decoded = record.valueDecoded
  let text: string
  switch (decoded.kind) {
    case 'null':
      return ['(null: tombstone)']
    case 'text':
      text = escapeControl(String(decoded.value))
      break
    case 'binary': {
      const b64 = (record.value ?? Buffer.alloc(0)).toString('base64')
      const lines: string[] = []
      for (let i = 0; i < b64.length; i += 76) lines.push(`${i === 0 ? 'base64:' : '       '}${b64.slice(i, i + 76)}`)
      return lines.length ? lines : ['base64:']
    }
    default:
      text = JSON.stringify(decoded.value, null, 2) ?? 'null'
  }
  return text.split(/\r?\n/)
}

/** `12.3/s`, `0.4/s`, `1.2k/s`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 10_000) return `${(perSecond / 1000).toFixed(0)}k/s`
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k/s`
  return `${perSecond.toFixed(1)}/s`
}

const BARS = '▁▂▃▄▅▆▇█'

/** A sparkline of non-negative values, scaled to their maximum: zero is `▁`, any activity at least `▂`. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values)
  let out = ''
  for (const v of values) out += v <= 0 || max === 0 ? BARS[0] : BARS[1 + Math.round((v / max) * (BARS.length - 2))]
  return out
}
