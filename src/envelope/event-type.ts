/**
 * What a record is when no envelope names its event type: the type from common headers and
 * value fields, else a one-line preview of the value. Used by `evt trace` so that records of
 * estates without an envelope (OpenTelemetry-only, Spring `__TypeId__`, a `type` field) still
 * say what they are.
 *
 * Default order (profile `envelope.typeHeaders` / `envelope.typePaths` replace the lists):
 * - headers, first present wins: `__TypeId__` (Spring Kafka's JsonSerializer: the Java class
 *   name), `eventType`, `event_type`, `type`, `ce_type` (CloudEvents binary), `content-type`
 *   (only its `type=` parameter, e.g. `application/json; type=OrderPlaced`). Names match
 *   case-insensitively; a header whose value is not printable text is skipped.
 * - then value fields of a JSON (or registry-decoded) object: `type`, `eventType`, `event_type`,
 *   `@type` (JSON-LD, Jackson's polymorphic type id), `name`; dotted paths reach nested fields.
 *   Only a string (or number) of at most 200 characters on one line counts.
 */
import type { DecodedRecord } from '../record.ts'
import type { EnvelopeConfig } from './types.ts'
import { atPath, compilePath, connectPayload, headerText, isObject, type JsonPath } from './values.ts'

/** Default header names, in priority order. */
export const DEFAULT_TYPE_HEADERS: readonly string[] = Object.freeze(['__TypeId__', 'eventType', 'event_type', 'type', 'ce_type', 'content-type'])
/** Default value paths, in priority order. */
export const DEFAULT_TYPE_PATHS: readonly string[] = Object.freeze(['type', 'eventType', 'event_type', '@type', 'name'])

/** Where a fallback type came from: `header __TypeId__`, `value.type`. */
export interface FallbackType {
  type: string
  from: string
}

const MAX_TYPE = 200
const CONTENT_TYPE_PARAM = /(?:^|;)\s*type\s*=\s*("([^"]*)"|[^;\s]+)/i

function typeText(text: string | undefined): string | undefined {
  if (text === undefined || text.length > MAX_TYPE || /[\r\n]/.test(text)) return undefined
  return text
}

/**
 * Builds the fallback for one configuration (`typeHeaders`, `typePaths`; absent = defaults).
 * The returned function reads a decoded record's headers (last occurrence of a name wins) and
 * value; undefined when nothing names a type. Never throws.
 */
export function createTypeFallback(config: Pick<EnvelopeConfig, 'typeHeaders' | 'typePaths'> = {}): (record: DecodedRecord) => FallbackType | undefined {
  const headerNames = (config.typeHeaders ?? DEFAULT_TYPE_HEADERS).map((n) => ({ name: n, lower: n.toLowerCase() }))
  const wanted = new Set(headerNames.map((h) => h.lower))
  const paths: Array<{ name: string; path: JsonPath }> = (config.typePaths ?? DEFAULT_TYPE_PATHS).map((p) => ({ name: p, path: compilePath(p) }))
  return (record) => {
    if (headerNames.length && record.headers.length) {
      const found = new Map<string, Buffer | null>()
      for (const h of record.headers) {
        const lower = h.key.toLowerCase()
        if (wanted.has(lower)) found.set(lower, h.value)
      }
      for (const { name, lower } of headerNames) {
        let text = headerText(found.get(lower))
        if (text !== undefined && lower === 'content-type') {
          const m = CONTENT_TYPE_PARAM.exec(text)
          text = m ? (m[2] ?? m[1]).trim() || undefined : undefined
        }
        const type = typeText(text)
        if (type !== undefined) return { type, from: `header ${name}` }
      }
    }
    const decoded = record.valueDecoded
    if (paths.length && decoded && (decoded.kind === 'json' || decoded.kind === 'json-schema' || decoded.kind === 'avro' || decoded.kind === 'protobuf')) {
      const root = connectPayload(decoded.value)
      if (!isObject(root)) return undefined
      for (const { name, path } of paths) {
        const v = atPath(root, path)
        const type = typeText(typeof v === 'string' ? v.trim() || undefined : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined)
        if (type !== undefined) return { type, from: `value.${name}` }
      }
    }
    return undefined
  }
}

/**
 * A one-line preview of a record's value for the trace views: at most `max` characters (60 by
 * default) with `…` when cut, runs of whitespace (line breaks included) folded into one space;
 * `(tombstone)` for a null value, `(empty value)`, `(N bytes, binary)` for bytes that are not text.
 */
export function valuePreview(record: Pick<DecodedRecord, 'value' | 'valueDecoded'>, max = 60): string {
  if (record.value === null) return '(tombstone)'
  if (record.value.length === 0) return '(empty value)'
  const d = record.valueDecoded
  let text: string
  if (d && (d.kind === 'avro' || d.kind === 'protobuf' || d.kind === 'json-schema') && d.value !== undefined) text = JSON.stringify(d.value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? ''
  else if (d && d.kind === 'binary') return `(${record.value.length} bytes, binary)`
  else text = record.value.subarray(0, max * 8).toString('utf8')
  text = text.replace(/\s+/g, ' ').trim()
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
