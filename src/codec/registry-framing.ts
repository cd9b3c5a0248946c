/**
 * Schema-registry wire framing, as real serializers write it (see docs MESSAGE-FORMATS.md):
 *
 * - Confluent framing: `0x00`, the schema id as a big-endian int32, then the data. Protobuf data
 *   starts with the message indexes: zigzag varints, a count then each index; `[0]` is written
 *   as the single byte `00` (and readers also accept `02 00`).
 * - Schema id in a header (newer Confluent serializers): `__key_schema_id` / `__value_schema_id`
 *   = `0x01` + a 16-byte GUID (+ the Protobuf message indexes); the payload is not framed.
 * - Apicurio's own serdes: headers `apicurio.value.globalId` (8-byte big-endian) and friends, or
 *   `0x00` + an 8-byte globalId; neither is Confluent framing.
 *
 * Pure functions; nothing here talks to a registry.
 */
import type { RecordHeader } from '../record.ts'

/** Which side of a record: its key or its value. */
export type RecordSide = 'key' | 'value'

/** The magic byte of Confluent framing. */
export const CONFLUENT_MAGIC = 0x00
/** The magic byte of a schema GUID in a `__key_schema_id` / `__value_schema_id` header. */
export const GUID_MAGIC = 0x01

/** The headers newer Confluent serializers put the schema GUID in. */
export const SCHEMA_ID_HEADERS: Record<RecordSide, string> = { key: '__key_schema_id', value: '__value_schema_id' }

/** A Confluent-framed key or value: schema id and the bytes after the 5-byte prefix. */
export interface ConfluentFrame {
  schemaId: number
  /** Everything after magic byte and id (for Protobuf: message indexes, then the message). */
  payload: Buffer
}

/** Parses Confluent framing: `0x00` + BE int32 id + data. Undefined when the bytes are not framed. */
export function parseConfluentFrame(bytes: Buffer | null): ConfluentFrame | undefined {
  if (!bytes || bytes.length < 5 || bytes[0] !== CONFLUENT_MAGIC) return undefined
  return { schemaId: bytes.readInt32BE(1), payload: bytes.subarray(5) }
}

/** Builds Confluent framing; for Protobuf pass the message indexes (`[0]` is written as `00`). */
export function encodeConfluentFrame(schemaId: number, data: Buffer, messageIndexes?: number[]): Buffer {
  const prefix = Buffer.alloc(5)
  prefix.writeInt32BE(schemaId, 1)
  return Buffer.concat(messageIndexes ? [prefix, encodeMessageIndexes(messageIndexes), data] : [prefix, data])
}

/** Reads one zigzag varint (int32, at most 5 bytes). @throws Error when truncated or too long. */
export function readZigzagVarint(bytes: Buffer, offset: number): { value: number; end: number } {
  let result = 0
  let shift = 0
  for (let i = offset; i < bytes.length && i < offset + 5; i++) {
    const b = bytes[i]
    result += (b & 0x7f) * 2 ** shift
    shift += 7
    if ((b & 0x80) === 0) {
      const value = result % 2 === 0 ? result / 2 : -(result + 1) / 2
      return { value, end: i + 1 }
    }
  }
  throw new Error(offset >= bytes.length ? 'message indexes: no bytes left' : 'message indexes: truncated or too long varint')
}

/** Writes one zigzag varint (int32). */
export function writeZigzagVarint(value: number): Buffer {
  let n = value >= 0 ? value * 2 : -value * 2 - 1
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Buffer.from(out)
}

/**
 * Reads Protobuf message indexes at `offset`: a count, then that many indexes, all zigzag
 * varints. A count of 0 means `[0]` (the first message). Accepts every valid encoding (`00`,
 * `02 00`, `04 00 02`, `02 d8 04`, …). @throws Error on a negative or impossible count/index.
 */
export function readMessageIndexes(bytes: Buffer, offset = 0): { indexes: number[]; end: number } {
  const count = readZigzagVarint(bytes, offset)
  if (count.value === 0) return { indexes: [0], end: count.end }
  if (count.value < 0 || count.value > bytes.length - count.end) throw new Error(`message indexes: impossible count ${count.value}`)
  const indexes: number[] = []
  let at = count.end
  for (let i = 0; i < count.value; i++) {
    const index = readZigzagVarint(bytes, at)
    if (index.value < 0) throw new Error(`message indexes: negative index ${index.value}`)
    indexes.push(index.value)
    at = index.end
  }
  return { indexes, end: at }
}

/** Writes Protobuf message indexes the way Confluent serializers do: `[0]` → `00`. */
export function encodeMessageIndexes(indexes: number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  return Buffer.concat([writeZigzagVarint(indexes.length), ...indexes.map(writeZigzagVarint)])
}

/** A schema GUID from a `__key_schema_id` / `__value_schema_id` header. */
export interface SchemaIdHeader {
  header: string
  /** The GUID, lower-case 8-4-4-4-12. */
  guid?: string
  /** Bytes after the GUID (Protobuf message indexes), empty for Avro and JSON Schema. */
  rest: Buffer
  /** Set when the header is there but not `0x01` + 16 bytes. */
  invalid?: string
}

/** Formats 16 bytes as a GUID (8-4-4-4-12, lower case). */
export function formatGuid(bytes: Buffer): string {
  const h = bytes.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** Parses a GUID (with or without dashes) into its 16 bytes. @throws Error when it is not one. */
export function parseGuid(text: string): Buffer {
  const hex = text.replaceAll('-', '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`"${text}" is not a GUID`)
  return Buffer.from(hex, 'hex')
}

/** The schema-id header of one side (the last one when repeated), or undefined when absent. */
export function schemaIdHeader(headers: RecordHeader[], side: RecordSide): SchemaIdHeader | undefined {
  const name = SCHEMA_ID_HEADERS[side]
  let found: RecordHeader | undefined
  for (const h of headers) if (h.key === name) found = h
  if (!found) return undefined
  const v = found.value
  if (!v || v.length < 17 || v[0] !== GUID_MAGIC) {
    const what = !v ? 'null' : v.length < 17 ? `${v.length} bytes` : `first byte 0x${v[0].toString(16).padStart(2, '0')}`
    return { header: name, rest: Buffer.alloc(0), invalid: `header ${name} is not 0x01 + a 16-byte GUID (${what})` }
  }
  return { header: name, guid: formatGuid(v.subarray(1, 17)), rest: v.subarray(17) }
}

/** Builds a `__value_schema_id` header value: `0x01` + GUID (+ Protobuf message indexes). */
export function encodeSchemaIdHeader(guid: string, messageIndexes?: number[]): Buffer {
  return Buffer.concat([Buffer.from([GUID_MAGIC]), parseGuid(guid), ...(messageIndexes ? [encodeMessageIndexes(messageIndexes)] : [])])
}

/**
 * Describes Apicurio serde framing found on one side, or undefined: headers
 * `apicurio.<side>.globalId` / `.contentId` (8-byte big-endian), or a `0x00` + 8-byte
 * globalId prefix (Apicurio 2.x's default; Confluent's reading of it is "schema id 0").
 */
export function apicurioFraming(headers: RecordHeader[], side: RecordSide, bytes: Buffer | null): string | undefined {
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]
    if (!h.key.startsWith('apicurio.')) continue
    const kind = h.key === APICURIO_HEADERS[side].globalId ? 'globalId' : h.key === APICURIO_HEADERS[side].contentId ? 'contentId' : undefined
    if (!kind) continue
    const id = h.value && h.value.length === 8 ? h.value.readBigInt64BE(0).toString() : h.value ? `(${h.value.length} bytes)` : '(null)'
    return `Apicurio serde framing (${kind} ${id} in header ${h.key})`
  }
  if (bytes && bytes.length >= 9 && bytes[0] === CONFLUENT_MAGIC && bytes.readInt32BE(1) === 0) {
    return `Apicurio serde framing (0x00 + 8-byte globalId ${bytes.readBigInt64BE(1).toString()})`
  }
  return undefined
}

const APICURIO_HEADERS: Record<RecordSide, { globalId: string; contentId: string }> = {
  key: { globalId: 'apicurio.key.globalId', contentId: 'apicurio.key.contentId' },
  value: { globalId: 'apicurio.value.globalId', contentId: 'apicurio.value.contentId' },
}

/** `0x7b '{'`: a byte as hex, with the character when printable. */
export function describeByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`
  return b >= 0x20 && b < 0x7f ? `${hex} '${String.fromCharCode(b)}'` : hex
}
