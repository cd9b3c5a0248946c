/**
 * Protobuf through protobufjs, for registry schemas: the .proto text with its references
 * (imports registered as other subjects) and Google's well-known types, the message type picked
 * by Confluent message indexes, and values as proto3 JSON (lowerCamelCase names, enums by name,
 * 64-bit integers as strings, bytes as base64, Timestamp / Duration / wrappers / Struct as their
 * JSON forms; fields absent from the wire are left out).
 */
import { createRequire } from 'node:module'
import type protobuf from 'protobufjs'

const require = createRequire(import.meta.url)
let protobufModule: typeof protobuf | undefined
/** protobufjs, loaded on first use (not at start-up: most runs never see a Protobuf record). */
const pb = (): typeof protobuf => (protobufModule ??= require('protobufjs') as typeof protobuf)

type PbType = protobuf.Type
type PbField = protobuf.Field

/** A parsed registry schema. */
export interface ProtoSchema {
  root: protobuf.Root
  /** Top-level messages of the schema's own file, in declaration order (what index 0, 1, … name). */
  messages: PbType[]
}

/** One `.proto` file a schema imports, by its import name. */
export interface ProtoReference {
  name: string
  schema: string
}

const PARSE_OPTIONS = { keepCase: false, alternateCommentMode: true }

/**
 * Parses a schema and its references (imports) into one root. Imports of Google's well-known
 * types (google/protobuf/timestamp.proto, …) need no reference.
 * @throws Error when a file does not parse or a type cannot be resolved.
 */
export function protoSchema(text: string, references: ProtoReference[] = []): ProtoSchema {
  const { Root } = pb()
  const root = new Root()
  const main = pb().parse(text, root, PARSE_OPTIONS)
  const own = main.package ? root.lookup(main.package) : root
  const messages = own instanceof pb().Namespace ? own.nestedArray.filter((n): n is PbType => n instanceof pb().Type) : []
  const imports = new Set([...(main.imports ?? []), ...(main.weakImports ?? [])])
  const provided = new Set<string>()
  for (const ref of references) {
    if (provided.has(ref.name)) continue
    provided.add(ref.name)
    const parsed = pb().parse(ref.schema, root, PARSE_OPTIONS)
    for (const i of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) imports.add(i)
  }
  for (const name of imports) {
    if (provided.has(name)) continue
    const common = pb().common.get(name) as { nested?: Record<string, unknown> } | null
    if (common?.nested) {
      root.addJSON(common.nested as Parameters<protobuf.Root['addJSON']>[0])
      provided.add(name)
    }
  }
  root.resolveAll()
  return { root, messages }
}

/** The message type the indexes name: top-level `[i]`, nested `[i, j, …]`. @throws Error when out of range. */
export function messageAt(schema: ProtoSchema, indexes: number[]): PbType {
  let list = schema.messages
  let type: PbType | undefined
  for (const i of indexes) {
    type = list[i]
    if (!type) throw new Error(`message indexes [${indexes.join(', ')}] name no message of the schema`)
    list = nestedMessages(type)
  }
  if (!type) throw new Error('no message indexes')
  return type
}

function nestedMessages(type: PbType): PbType[] {
  return type.nestedArray.filter((n): n is PbType => n instanceof pb().Type)
}

/** The indexes of a message type in its schema (inverse of {@link messageAt}), or undefined. */
export function indexesOf(schema: ProtoSchema, target: PbType): number[] | undefined {
  const search = (list: PbType[], path: number[]): number[] | undefined => {
    for (let i = 0; i < list.length; i++) {
      if (list[i] === target) return [...path, i]
      const inner = search(nestedMessages(list[i]), [...path, i])
      if (inner) return inner
    }
    return undefined
  }
  return search(schema.messages, [])
}

/** Full name without the leading dot: "acme.Order". */
export function typeName(type: PbType): string {
  return type.fullName.replace(/^\./, '')
}

// ---------------------------------------------------------------------------------------------
// Decoding to proto3 JSON

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])

function longText(v: unknown): string {
  return typeof v === 'number' ? String(v) : String((v as { toString(): string }).toString())
}

function scalarToJson(type: string, v: unknown): unknown {
  if (LONG_TYPES.has(type)) return longText(v)
  if (type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64')
  if ((type === 'double' || type === 'float') && !Number.isFinite(v as number)) return String(v)
  return v
}

function fieldValueToJson(field: PbField, v: unknown): unknown {
  const resolved = field.resolvedType
  if (resolved instanceof pb().Enum) {
    if (resolved.fullName === '.google.protobuf.NullValue') return null
    return resolved.valuesById[v as number] ?? v
  }
  if (resolved instanceof pb().Type) return messageToJson(resolved, v as protobuf.Message)
  return scalarToJson(field.type, v)
}

function mapKey(field: protobuf.MapField, key: string): string {
  if (LONG_TYPES.has(field.keyType) && key.length === 8 && !/^-?\d+$/.test(key)) {
    return pb().util.longFromHash(key, field.keyType.startsWith('u') || field.keyType === 'fixed64').toString()
  }
  return key
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Nanoseconds as the shortest of 0, 3, 6 or 9 fraction digits (protojson's style). */
function fraction(nanos: number): string {
  if (nanos === 0) return ''
  if (nanos % 1_000_000 === 0) return `.${pad(nanos / 1_000_000, 3)}`
  if (nanos % 1000 === 0) return `.${pad(nanos / 1000, 6)}`
  return `.${pad(nanos, 9)}`
}

/** A Timestamp's seconds/nanos as RFC 3339 ("2026-11-28T14:00:00.123Z"). */
export function timestampText(seconds: number, nanos: number): string {
  const date = new Date(seconds * 1000)
  if (Number.isNaN(date.getTime())) return `${seconds}s`
  return `${date.toISOString().slice(0, 19)}${fraction(nanos)}Z`
}

function num(v: unknown): number {
  return v === undefined || v === null ? 0 : typeof v === 'number' ? v : Number(longText(v))
}

function wellKnownToJson(type: PbType, m: Record<string, unknown>): { value: unknown } | undefined {
  switch (type.fullName) {
    case '.google.protobuf.Timestamp':
      return { value: timestampText(num(m.seconds), num(m.nanos)) }
    case '.google.protobuf.Duration': {
      const s = num(m.seconds)
      const n = num(m.nanos)
      const negative = s < 0 || n < 0
      return { value: `${negative ? '-' : ''}${Math.abs(s)}${fraction(Math.abs(n))}s` }
    }
    case '.google.protobuf.DoubleValue':
    case '.google.protobuf.FloatValue':
    case '.google.protobuf.Int64Value':
    case '.google.protobuf.UInt64Value':
    case '.google.protobuf.Int32Value':
    case '.google.protobuf.UInt32Value':
    case '.google.protobuf.BoolValue':
    case '.google.protobuf.StringValue':
    case '.google.protobuf.BytesValue': {
      const field = type.fields.value
      return { value: scalarToJson(field.type, m.value ?? field.typeDefault) }
    }
    case '.google.protobuf.Struct': {
      const out: Record<string, unknown> = {}
      const valueType = type.fields.fields.resolvedType as PbType
      for (const [k, v] of Object.entries((m.fields ?? {}) as Record<string, protobuf.Message>)) out[k] = messageToJson(valueType, v)
      return { value: out }
    }
    case '.google.protobuf.Value': {
      if (m.structValue) return { value: messageToJson(type.fields.structValue.resolvedType as PbType, m.structValue as protobuf.Message) }
      if (m.listValue) return { value: messageToJson(type.fields.listValue.resolvedType as PbType, m.listValue as protobuf.Message) }
      for (const k of ['numberValue', 'stringValue', 'boolValue'] as const) if (Object.hasOwn(m, k)) return { value: k === 'numberValue' ? scalarToJson('double', m[k]) : m[k] }
      return { value: null }
    }
    case '.google.protobuf.ListValue': {
      const valueType = type.fields.values.resolvedType as PbType
      return { value: ((m.values ?? []) as protobuf.Message[]).map((v) => messageToJson(valueType, v)) }
    }
    case '.google.protobuf.Empty':
      return { value: {} }
    case '.google.protobuf.FieldMask':
      return { value: ((m.paths ?? []) as string[]).map((p) => pb().util.camelCase(p)).join(',') }
    case '.google.protobuf.Any': {
      const url = String(m.typeUrl ?? '')
      const bytes = Buffer.from((m.value ?? new Uint8Array()) as Uint8Array)
      try {
        const inner = type.root.lookupType(url.slice(url.lastIndexOf('/') + 1))
        const json = messageToJson(inner, inner.decode(bytes))
        return { value: json && typeof json === 'object' && !Array.isArray(json) ? { '@type': url, ...json } : { '@type': url, value: json } }
      } catch {
        return { value: { '@type': url, value: bytes.toString('base64') } }
      }
    }
    default:
      return undefined
  }
}

/** A decoded message as proto3 JSON (see the module doc). */
export function messageToJson(type: PbType, message: protobuf.Message | Record<string, unknown>): unknown {
  const m = message as unknown as Record<string, unknown>
  const known = wellKnownToJson(type, m)
  if (known) return known.value
  const out: Record<string, unknown> = {}
  for (const field of type.fieldsArray) {
    if (!Object.hasOwn(m, field.name)) continue
    const v = m[field.name]
    if (v === null || v === undefined) continue
    if (field.map) {
      const entries = Object.entries(v as Record<string, unknown>)
      if (entries.length === 0) continue
      const obj: Record<string, unknown> = {}
      for (const [k, x] of entries) obj[mapKey(field as unknown as protobuf.MapField, k)] = fieldValueToJson(field, x)
      out[field.name] = obj
    } else if (field.repeated) {
      const list = v as unknown[]
      if (list.length === 0) continue
      out[field.name] = list.map((x) => fieldValueToJson(field, x))
    } else out[field.name] = fieldValueToJson(field, v)
  }
  return out
}

/** Decodes message bytes as `type` into proto3 JSON. @throws Error on malformed bytes. */
export function decodeProto(type: PbType, bytes: Buffer): unknown {
  return messageToJson(type, type.decode(bytes))
}

// ---------------------------------------------------------------------------------------------
// Encoding from proto3 JSON

function parseDurationText(text: string): { seconds: string; nanos: number } {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text.trim())
  if (!m) throw new Error(`${JSON.stringify(text)} is not a Duration ("1.5s")`)
  const sign = m[1] ? -1 : 1
  return { seconds: `${m[1] ?? ''}${m[2]}`, nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) }
}

function parseTimestampText(text: string): { seconds: number; nanos: number } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(text.trim())
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN
  if (!m || Number.isNaN(ms)) throw new Error(`${JSON.stringify(text)} is not an RFC 3339 timestamp`)
  return { seconds: ms / 1000, nanos: Number((m[2] ?? '').padEnd(9, '0')) }
}

function jsonToValueMessage(v: unknown): Record<string, unknown> {
  if (v === null) return { nullValue: 0 }
  if (typeof v === 'number') return { numberValue: v }
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValueMessage) } }
  if (typeof v === 'object') return { structValue: { fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonToValueMessage(x)])) } }
  throw new Error(`${String(v)} is not JSON`)
}

function wellKnownFromJson(type: PbType, v: unknown, path: string): { value: unknown } | undefined {
  try {
    switch (type.fullName) {
      case '.google.protobuf.Timestamp':
        return typeof v === 'string' ? { value: parseTimestampText(v) } : undefined
      case '.google.protobuf.Duration':
        return typeof v === 'string' ? { value: parseDurationText(v) } : undefined
      case '.google.protobuf.DoubleValue':
      case '.google.protobuf.FloatValue':
      case '.google.protobuf.Int64Value':
      case '.google.protobuf.UInt64Value':
      case '.google.protobuf.Int32Value':
      case '.google.protobuf.UInt32Value':
      case '.google.protobuf.BoolValue':
      case '.google.protobuf.StringValue':
      case '.google.protobuf.BytesValue':
        return v !== null && typeof v !== 'object' ? { value: { value: v } } : undefined
      case '.google.protobuf.Struct':
        return { value: (jsonToValueMessage(v).structValue as object | undefined) ?? { fields: {} } }
      case '.google.protobuf.Value':
        return { value: jsonToValueMessage(v) }
      case '.google.protobuf.ListValue':
        return Array.isArray(v) ? { value: { values: v.map(jsonToValueMessage) } } : undefined
      case '.google.protobuf.FieldMask':
        return typeof v === 'string' ? { value: { paths: v.split(',').filter(Boolean).map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)) } } : undefined
      default:
        return undefined
    }
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`)
  }
}

const INT32_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32'])

function fieldFromJson(field: PbField, v: unknown, path: string): unknown {
  const resolved = field.resolvedType
  if (resolved instanceof pb().Type) return messageFromJson(resolved, v, path)
  const bad = (what: string) => new Error(`${path}: ${JSON.stringify(v)} is not ${what}`)
  if (resolved instanceof pb().Enum) {
    if (typeof v === 'string' && v in resolved.values) return v
    if (Number.isInteger(v)) return v
    throw bad(`one of ${Object.keys(resolved.values).join(', ')}`)
  }
  const t = field.type
  if (INT32_TYPES.has(t)) {
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
    if (!Number.isInteger(n) || (t.startsWith('u') || t === 'fixed32' ? (n as number) < 0 || (n as number) > 0xffffffff : (n as number) < -(2 ** 31) || (n as number) >= 2 ** 31)) throw bad(`a ${t}`)
    return n
  }
  if (LONG_TYPES.has(t)) {
    if (typeof v === 'bigint' || Number.isInteger(v) || (typeof v === 'string' && /^-?\d+$/.test(v))) return typeof v === 'string' ? v : String(v)
    throw bad(`a ${t} (a number or a string of digits)`)
  }
  if (t === 'double' || t === 'float') {
    if (typeof v === 'number' || typeof v === 'bigint') return Number(v)
    if (typeof v === 'string' && (['NaN', 'Infinity', '-Infinity'].includes(v) || /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v))) return Number(v)
    throw bad(`a ${t}`)
  }
  if (t === 'bool' && typeof v !== 'boolean') throw bad('a boolean')
  if (t === 'string' && typeof v !== 'string') throw bad('a string')
  if (t === 'bytes' && typeof v !== 'string') throw bad('base64 text')
  return v
}

/** proto3 JSON (lowerCamelCase or original field names) to a plain object protobufjs's fromObject takes. */
function messageFromJson(type: PbType, v: unknown, path: string): unknown {
  const known = wellKnownFromJson(type, v, path)
  if (known) return known.value
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${path}: ${JSON.stringify(v)} is not a ${typeName(type)} object`)
  const out: Record<string, unknown> = {}
  for (const [key, x] of Object.entries(v)) {
    const field = type.fields[key] ?? type.fields[pb().util.camelCase(key)]
    if (!field) throw new Error(`${path}: unknown field "${key}" (${typeName(type)} has ${type.fieldsArray.map((f) => f.name).join(', ')})`)
    const at = `${path}.${field.name}`
    if (x === null && !(field.resolvedType instanceof pb().Type && field.resolvedType.fullName === '.google.protobuf.Value')) continue
    if (field.map) {
      if (!x || typeof x !== 'object' || Array.isArray(x)) throw new Error(`${at}: not an object (map)`)
      out[field.name] = Object.fromEntries(Object.entries(x).map(([k, y]) => [k, fieldFromJson(field, y, `${at}.${k}`)]))
    } else if (field.repeated) {
      if (!Array.isArray(x)) throw new Error(`${at}: not an array`)
      out[field.name] = x.map((y, i) => fieldFromJson(field, y, `${at}[${i}]`))
    } else out[field.name] = fieldFromJson(field, x, at)
  }
  return out
}

/** Encodes proto3 JSON as `type`. @throws Error naming the path of a bad value. */
export function encodeProto(type: PbType, json: unknown): Buffer {
  const plain = messageFromJson(type, json, 'value') as Record<string, unknown>
  return Buffer.from(type.encode(type.fromObject(plain)).finish())
}
