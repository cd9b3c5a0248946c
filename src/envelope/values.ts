/**
 * Small, allocation-light readers for header bytes and JSON values, shared by the extractors.
 * None of them throws: bytes that do not fit give `undefined`.
 */
import { isUtf8 } from 'node:buffer'
import type { Decoded } from '../record.ts'

/** Control characters other than tab, LF and CR: such text is not shown as text. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

/** A header value as trimmed text when it is valid, printable UTF-8 and not empty. */
export function headerText(value: Buffer | null | undefined): string | undefined {
  if (!value || value.length === 0) return undefined
  if (!isUtf8(value)) return undefined
  const text = value.toString('utf8')
  if (CONTROL.test(text)) return undefined
  const trimmed = text.trim()
  return trimmed === '' ? undefined : trimmed
}

/**
 * A header value holding an id: printable text, or 16 raw bytes of a UUID (Spring's
 * `kafka_correlationId`) formatted 8-4-4-4-12. `rawUuid` forces the UUID reading for 16 bytes
 * even when they happen to be printable.
 */
export function headerId(value: Buffer | null | undefined, rawUuid = false): string | undefined {
  if (!value) return undefined
  if (value.length === 16 && rawUuid) return uuidFromBytes(value)
  const text = headerText(value)
  if (text !== undefined) return text
  return value.length === 16 ? uuidFromBytes(value) : undefined
}

/** 16 bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase). */
export function uuidFromBytes(bytes: Buffer): string {
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** True for `8-4-4-4-12` hex. */
export function isUuid(text: string): boolean {
  return UUID.test(text)
}

/**
 * An epoch-ms header: 8-byte big-endian int64 (Axon, Spring), else decimal text, else RFC 3339
 * text.
 */
export function headerEpochMs(value: Buffer | null | undefined): number | undefined {
  if (!value) return undefined
  if (value.length === 8) {
    const ms = Number(value.readBigInt64BE(0))
    return Number.isSafeInteger(ms) ? ms : undefined
  }
  const text = headerText(value)
  if (text === undefined) return undefined
  if (/^\d{1,16}$/.test(text)) return Number(text)
  return parseRfc3339(text)
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/

/**
 * RFC 3339 date-time → epoch ms (fraction truncated to ms). Strict: an offset is required and
 * the date must exist. Anything else → undefined.
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text)
  if (!m) return undefined
  const [y, mo, d, h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])]
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59 || s > 60) return undefined
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
  let t = Date.UTC(y, mo - 1, d, h, mi, s, ms)
  if (m[8] === undefined) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60_000
    t += m[9] === '+' ? -offset : offset
  }
  return t
}

/** A time in JSON: RFC 3339 text, or a number taken as epoch ms. */
export function jsonEpochMs(value: unknown): number | undefined {
  if (typeof value === 'string') return parseRfc3339(value.trim())
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  return undefined
}

/** A JSON scalar usable as an id or name: a non-empty string (trimmed) or a finite number. */
export function jsonId(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const t = value.trim()
    return t === '' ? undefined : t
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A compiled dotted path: `metadata.correlation_id`, `items.0.id`. */
export type JsonPath = readonly string[]

/** Splits a dotted path once, at build time. */
export function compilePath(path: string): JsonPath {
  return path.split('.').filter((s) => s !== '')
}

/** Follows a compiled path; a numeric segment indexes an array. */
export function atPath(root: unknown, path: JsonPath): unknown {
  let cur = root
  for (const seg of path) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined
      cur = cur[Number(seg)]
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, seg)) return undefined
      cur = cur[seg]
    } else {
      return undefined
    }
  }
  return cur
}

/** The first path (in list order) that leads to an id-like scalar. */
export function firstId(root: unknown, paths: readonly JsonPath[]): string | undefined {
  for (const p of paths) {
    const v = jsonId(atPath(root, p))
    if (v !== undefined) return v
  }
  return undefined
}

/**
 * Kafka Connect's JsonConverter with schemas on wraps a value as `{"schema": …, "payload": …}`;
 * returns the payload, else the value itself.
 */
export function connectPayload(value: unknown): unknown {
  if (isObject(value) && Object.hasOwn(value, 'payload') && Object.hasOwn(value, 'schema')) {
    let keys = 0
    for (const _ in value) keys++
    if (keys === 2 && (value.schema === null || isObject(value.schema))) return value.payload
  }
  return value
}

/**
 * A key (or other decoded bytes) as an id: a JSON string or number (JsonConverter), a Connect
 * `{schema, payload}` payload, else the printable UTF-8 text of the raw bytes — so a key such
 * as `1e5` stays "1e5", not "100000". A JSON object or array is no id.
 */
export function decodedId(decoded: Decoded, raw: Buffer | null): string | undefined {
  if (decoded.kind === 'json') {
    const v = connectPayload(decoded.value)
    if (v !== decoded.value || typeof v === 'string') return jsonId(v)
    if (typeof v === 'object' && v !== null) return undefined
  }
  return headerText(raw)
}
