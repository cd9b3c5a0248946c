/**
 * Avro through avsc, with values shown right (see docs MESSAGE-FORMATS.md):
 *
 * - `decimal` (bytes or fixed): an exact decimal string ("1234.50"), never a float or raw bytes
 * - `timestamp-millis` / `-micros`, `local-timestamp-*`: ISO 8601 strings (micros keep 6 digits)
 * - `date`: "YYYY-MM-DD"; `time-millis` / `-micros`: "HH:MM:SS.sss[sss]"
 * - `long`: a number, or beyond ±2^53 its exact digits (JSON.rawJSON: JSON output stays exact)
 * - `bytes` / `fixed`: base64; NaN and ±Infinity: the strings "NaN", "Infinity", "-Infinity"
 * - unions: `["null", T]` as the T value or null; other unions as `{"<branch>": value}` (Avro's
 *   JSON encoding), so a top-level union of records says which record it is
 *
 * {@link avroFromJson} takes the same shape back for encoding (`evt produce --value-schema`).
 */
import { createRequire } from 'node:module'
import type avro from 'avsc'

const require = createRequire(import.meta.url)
let avscModule: typeof avro | undefined
/** avsc, loaded on first use (not at start-up: most runs never see an Avro record). */
const avsc = (): typeof avro => (avscModule ??= require('avsc') as typeof avro)

type AvroType = avro.Type
type Schema = Parameters<typeof avro.Type.forSchema>[0]
type ForSchemaOptions = NonNullable<Parameters<typeof avro.Type.forSchema>[1]>

/** `JSON.rawJSON` (Node ≥ 21): a value JSON.stringify writes verbatim. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): object }).rawJSON

/** A 64-bit integer as JSON: a number when exact, else its digits verbatim (JSON.rawJSON). */
export function exactInteger(n: bigint): number | object {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : rawJSON(n.toString())
}

/** The digits of a number, string, bigint or JSON.rawJSON value, as a bigint. @throws Error otherwise. */
function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim())
  if (v && typeof v === 'object' && typeof (v as { rawJSON?: unknown }).rawJSON === 'string') return toBigInt((v as { rawJSON: string }).rawJSON)
  throw new Error(`${JSON.stringify(v) ?? String(v)} is not an integer`)
}

const MIN_LONG = -(2n ** 63n)
const MAX_LONG = 2n ** 63n - 1n

/** `long` as a bigint: all 64 bits exact (avsc's own long refuses values beyond 2^53). */
function bigintLong(): AvroType {
  return avsc().types.LongType.__with({
    fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
    toBuffer: (n: bigint) => {
      const buf = Buffer.alloc(8)
      buf.writeBigInt64LE(n, 0)
      return buf
    },
    fromJSON: (v: unknown) => toBigInt(v),
    toJSON: (n: bigint) => exactInteger(n),
    isValid: (n: unknown) => typeof n === 'bigint' && n >= MIN_LONG && n <= MAX_LONG,
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
  })
}

// ---------------------------------------------------------------------------------------------
// Logical types

/** The unscaled two's-complement big-endian integer of `bytes`. */
function fromTwosComplement(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n
  let n = BigInt(`0x${bytes.toString('hex')}`)
  if (bytes[0] & 0x80) n -= 1n << BigInt(bytes.length * 8)
  return n
}

/** `n` as big-endian two's complement: minimal length, or exactly `size` bytes. @throws when it does not fit. */
function toTwosComplement(n: bigint, size?: number): Buffer {
  let length = 1
  while (n < -(1n << BigInt(length * 8 - 1)) || n >= 1n << BigInt(length * 8 - 1)) length++
  if (size !== undefined && length > size) throw new Error(`does not fit in fixed(${size})`)
  const total = size ?? length
  let u = n < 0n ? (1n << BigInt(total * 8)) + n : n
  const out = Buffer.alloc(total)
  for (let i = total - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn)
    u >>= 8n
  }
  return out
}

/** An unscaled integer and a scale as an exact decimal string: (-5, 2) → "-0.05". */
export function decimalString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n
  let digits = (negative ? -unscaled : unscaled).toString()
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0')
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`
  } else if (scale < 0) digits += '0'.repeat(-scale)
  return negative ? `-${digits}` : digits
}

/** A decimal string (or number) as the unscaled integer at `scale`. @throws on more fraction digits than the scale. */
export function parseDecimal(value: unknown, scale: number, precision?: number): bigint {
  const text = typeof value === 'number' ? numberText(value) : typeof value === 'string' ? value.trim() : undefined
  const m = text === undefined ? null : /^([+-])?(\d*)(?:\.(\d*))?$/.exec(text)
  if (!m || (m[2] === '' && !m[3])) throw new Error(`${JSON.stringify(value)} is not a decimal number`)
  let fraction = m[3] ?? ''
  while (fraction.length > scale && fraction.endsWith('0')) fraction = fraction.slice(0, -1)
  if (fraction.length > scale) throw new Error(`${JSON.stringify(value)} has more than ${scale} decimal places`)
  const unscaled = BigInt(`${m[2] || '0'}${fraction.padEnd(scale, '0')}`)
  if (precision !== undefined && unscaled.toString().replace(/^0+(?=\d)/, '').length > precision) throw new Error(`${JSON.stringify(value)} has more than ${precision} digits`)
  return m[1] === '-' ? -unscaled : unscaled
}

/** A JS number without exponent notation (1e-7 → "0.0000001"). */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  const s = String(n)
  if (!/e/i.test(s)) return s
  return n.toFixed(20).replace(/\.?0+$/, '')
}

/** Parses an ISO 8601 timestamp into epoch milliseconds (3) or microseconds (6). */
export function parseTimestamp(text: string, digits: 3 | 6, utc = true): bigint {
  const m = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/i.exec(text.trim())
  if (!m) throw new Error(`${JSON.stringify(text)} is not an ISO 8601 timestamp`)
  const zone = m[3] ?? (utc ? '' : 'Z')
  if (!zone) throw new Error(`${JSON.stringify(text)} has no time zone (add Z or +hh:mm)`)
  const seconds = Date.parse(`${m[1].replace(' ', 'T')}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`)
  if (Number.isNaN(seconds)) throw new Error(`${JSON.stringify(text)} is not a valid time`)
  const fraction = BigInt((m[2] ?? '').padEnd(9, '0').slice(0, digits))
  return BigInt(seconds) * (digits === 6 ? 1000n : 1n) + fraction
}

/**
 * evt's logical types for avsc (decimal, timestamps, date, time), by logical type name. Built on
 * first use: the classes extend avsc's LogicalType, and avsc is loaded only when a record or a
 * schema needs it.
 */
function logicalTypes(): Record<string, new (schema: Schema, opts?: unknown) => avro.types.LogicalType> {
  return (logicalTypesCache ??= makeLogicalTypes())
}
let logicalTypesCache: Record<string, new (schema: Schema, opts?: unknown) => avro.types.LogicalType> | undefined

function makeLogicalTypes(): Record<string, new (schema: Schema, opts?: unknown) => avro.types.LogicalType> {
  abstract class EvtLogicalType extends avsc().types.LogicalType {
    protected underlyingName(): string {
      return this.underlyingType.typeName
    }
    protected override _resolve(): undefined {
      return undefined
    }
  }

  class DecimalType extends EvtLogicalType {
    readonly scale: number
    readonly precision: number
    readonly size?: number
    constructor(schema: Schema, opts?: unknown) {
      super(schema, opts)
      const s = schema as { precision?: unknown; scale?: unknown }
      this.precision = Number(s.precision)
      this.scale = s.scale === undefined ? 0 : Number(s.scale)
      if (!Number.isInteger(this.precision) || this.precision <= 0 || !Number.isInteger(this.scale) || this.scale < 0 || this.scale > this.precision) throw new Error('invalid decimal precision/scale')
      const t = this.underlyingName()
      if (t === 'fixed') this.size = (this.underlyingType as unknown as { size: number }).size
      else if (t !== 'bytes') throw new Error('decimal on neither bytes nor fixed')
    }
    protected override _fromValue(buf: Buffer): string {
      return decimalString(fromTwosComplement(buf), this.scale)
    }
    protected override _toValue(value: unknown): Buffer | undefined {
      if (Buffer.isBuffer(value)) return value
      return toTwosComplement(parseDecimal(value, this.scale, this.precision), this.size)
    }
  }

  /** `2026-11-28T14:00:00.123Z` (+ extra digits for micros) ↔ epoch units; `utc` false = local-timestamp. */
  class TimestampType extends EvtLogicalType {
    readonly digits: 3 | 6
    readonly utc: boolean
    constructor(schema: Schema, opts?: unknown) {
      super(schema, opts)
      const name = (schema as { logicalType: string }).logicalType
      this.digits = name.endsWith('micros') ? 6 : 3
      this.utc = !name.startsWith('local-')
      if (this.underlyingName() !== 'long' && this.underlyingName() !== 'abstract:long') throw new Error('timestamp on a non-long')
    }
    protected override _fromValue(v: number | bigint): string | number {
      const units = BigInt(v)
      const perMs = this.digits === 6 ? 1000n : 1n
      let ms = units / perMs
      let extra = units % perMs
      if (extra < 0n) {
        extra += perMs
        ms -= 1n
      }
      const date = new Date(Number(ms))
      if (Number.isNaN(date.getTime())) return Number(units)
      const iso = date.toISOString().slice(0, -1) + (this.digits === 6 ? extra.toString().padStart(3, '0') : '')
      return this.utc ? `${iso}Z` : iso
    }
    protected override _toValue(value: unknown): number | bigint | undefined {
      const underlyingBig = this.underlyingName() === 'abstract:long'
      let units: bigint
      if (typeof value === 'number' || typeof value === 'bigint') units = BigInt(value)
      else if (value instanceof Date) units = BigInt(value.getTime()) * (this.digits === 6 ? 1000n : 1n)
      else if (typeof value === 'string') units = parseTimestamp(value, this.digits, this.utc)
      else return undefined
      return underlyingBig ? units : Number(units)
    }
  }


  class DateType extends EvtLogicalType {
    constructor(schema: Schema, opts?: unknown) {
      super(schema, opts)
      if (this.underlyingName() !== 'int') throw new Error('date on a non-int')
    }
    protected override _fromValue(days: number): string | number {
      const date = new Date(days * 86_400_000)
      return Number.isNaN(date.getTime()) ? days : date.toISOString().slice(0, 10)
    }
    protected override _toValue(value: unknown): number | undefined {
      if (typeof value === 'number') return value
      if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\d$/.test(value)) return undefined
      const ms = Date.parse(`${value}T00:00:00Z`)
      return Number.isNaN(ms) ? undefined : ms / 86_400_000
    }
  }

  class TimeType extends EvtLogicalType {
    readonly digits: 3 | 6
    constructor(schema: Schema, opts?: unknown) {
      super(schema, opts)
      this.digits = (schema as { logicalType: string }).logicalType === 'time-micros' ? 6 : 3
      const want = this.digits === 6 ? ['long', 'abstract:long'] : ['int']
      if (!want.includes(this.underlyingName())) throw new Error('time on the wrong type')
    }
    protected override _fromValue(v: number | bigint): string {
      const perSecond = this.digits === 6 ? 1_000_000 : 1000
      const n = Number(v)
      const seconds = Math.floor(n / perSecond)
      const fraction = n - seconds * perSecond
      const hh = Math.floor(seconds / 3600)
      const mm = Math.floor((seconds % 3600) / 60)
      const ss = seconds % 60
      return `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}.${String(fraction).padStart(this.digits, '0')}`
    }
    protected override _toValue(value: unknown): number | bigint | undefined {
      let n: number
      if (typeof value === 'number') n = value
      else if (typeof value === 'bigint') n = Number(value)
      else if (typeof value === 'string') {
        const m = /^(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?$/.exec(value.trim())
        if (!m) return undefined
        const perSecond = this.digits === 6 ? 1_000_000 : 1000
        n = (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0)) * perSecond + Number((m[4] ?? '').padEnd(9, '0').slice(0, this.digits))
      } else return undefined
      return this.underlyingName() === 'abstract:long' ? BigInt(n) : n
    }
  }

  return {
    decimal: DecimalType,
    'timestamp-millis': TimestampType,
    'timestamp-micros': TimestampType,
    'local-timestamp-millis': TimestampType,
    'local-timestamp-micros': TimestampType,
    date: DateType,
    'time-millis': TimeType,
    'time-micros': TimeType,
  } as Record<string, new (schema: Schema, opts?: unknown) => avro.types.LogicalType>
}

/**
 * Builds an avsc type for a registry schema. `references` are the referenced schemas' texts,
 * dependencies first; their named types are visible to the schema (and to each other).
 * @throws Error when a schema does not parse.
 */
export function avroType(schema: string, references: string[] = []): AvroType {
  const long = bigintLong()
  const registry: Record<string, AvroType> = {}
  const typeHook = (s: Schema) => {
    if (s === 'long') return long
    if (s && typeof s === 'object' && !Array.isArray(s) && (s as { type?: unknown }).type === 'long' && !((s as { logicalType?: string }).logicalType! in logicalTypes())) return long
    return undefined
  }
  const opts = (): ForSchemaOptions => ({ registry, logicalTypes: logicalTypes(), wrapUnions: true, typeHook })
  for (const ref of references) avsc().Type.forSchema(JSON.parse(ref) as Schema, opts())
  return avsc().Type.forSchema(JSON.parse(schema) as Schema, opts())
}

// ---------------------------------------------------------------------------------------------
// Values ↔ JSON

interface UnionLike {
  types: AvroType[]
}
interface RecordLike {
  fields: Array<{ name: string; type: AvroType }>
}

function isNullableSingle(union: UnionLike): boolean {
  return union.types.length === 2 && union.types.some((t) => t.typeName === 'null')
}

function branchName(t: AvroType): string {
  return (t as unknown as { branchName: string }).branchName
}

/** A decoded Avro value as plain JSON-able data (see the module doc for the shapes). */
export function avroToJson(type: AvroType, value: unknown): unknown {
  if (type instanceof avsc().types.LogicalType) return value
  switch (type.typeName) {
    case 'abstract:long':
      return exactInteger(value as bigint)
    case 'float':
    case 'double':
      return Number.isFinite(value as number) ? value : String(value)
    case 'bytes':
    case 'fixed':
      return (value as Buffer).toString('base64')
    case 'array': {
      const items = (type as unknown as { itemsType: AvroType }).itemsType
      return (value as unknown[]).map((v) => avroToJson(items, v))
    }
    case 'map': {
      const values = (type as unknown as { valuesType: AvroType }).valuesType
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = avroToJson(values, v)
      return out
    }
    case 'record':
    case 'error': {
      const out: Record<string, unknown> = {}
      for (const f of (type as unknown as RecordLike).fields) out[f.name] = avroToJson(f.type, (value as Record<string, unknown>)[f.name])
      return out
    }
    case 'union:wrapped': {
      if (value === null) return null
      const union = type as unknown as UnionLike
      const key = Object.keys(value as object)[0]
      const branch = union.types.find((t) => branchName(t) === key)
      if (!branch) return value
      const inner = avroToJson(branch, (value as Record<string, unknown>)[key])
      return isNullableSingle(union) ? inner : { [key]: inner }
    }
    default:
      return value
  }
}

/**
 * JSON (as {@link avroToJson} writes it, or Avro's JSON encoding for unions) back to an avsc
 * value ready for `type.toBuffer`. @throws Error naming the path of the first bad value.
 */
export function avroFromJson(type: AvroType, value: unknown, path = 'value'): unknown {
  const bad = (what: string) => new Error(`${path}: ${JSON.stringify(value) ?? String(value)} is not ${what}`)
  if (type instanceof avsc().types.LogicalType) {
    if (!type.isValid(value)) {
      try {
        ;(type as unknown as { _toValue(v: unknown): unknown })._toValue(value)
      } catch (err) {
        throw new Error(`${path}: ${(err as Error).message}`)
      }
      throw bad(`a valid ${type.typeName.replace('logical:', '')}`)
    }
    return value
  }
  switch (type.typeName) {
    case 'null':
      if (value !== null) throw bad('null')
      return null
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('a boolean')
      return value
    case 'int':
      if (!Number.isInteger(value) || (value as number) < -(2 ** 31) || (value as number) >= 2 ** 31) throw bad('an int')
      return value
    case 'abstract:long':
      try {
        const n = toBigInt(value)
        if (n < MIN_LONG || n > MAX_LONG) throw new Error()
        return n
      } catch {
        throw bad('a long')
      }
    case 'float':
    case 'double':
      if (typeof value === 'number') return value
      if (typeof value === 'bigint' || value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value)
      throw bad(`a ${type.typeName}`)
    case 'string':
      if (typeof value !== 'string') throw bad('a string')
      return value
    case 'bytes':
    case 'fixed': {
      if (typeof value !== 'string') throw bad('base64 text')
      const buf = Buffer.from(value, 'base64')
      const size = (type as unknown as { size?: number }).size
      if (type.typeName === 'fixed' && buf.length !== size) throw bad(`base64 of ${size} bytes`)
      return buf
    }
    case 'enum': {
      const symbols = (type as unknown as { symbols: string[] }).symbols
      if (typeof value !== 'string' || !symbols.includes(value)) throw bad(`one of ${symbols.join(', ')}`)
      return value
    }
    case 'array': {
      if (!Array.isArray(value)) throw bad('an array')
      const items = (type as unknown as { itemsType: AvroType }).itemsType
      return value.map((v, i) => avroFromJson(items, v, `${path}[${i}]`))
    }
    case 'map': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('an object (map)')
      const values = (type as unknown as { valuesType: AvroType }).valuesType
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) out[k] = avroFromJson(values, v, `${path}.${k}`)
      return out
    }
    case 'record':
    case 'error': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad(`a ${type.name ?? 'record'} object`)
      const fields = (type as unknown as RecordLike).fields
      const known = new Set(fields.map((f) => f.name))
      for (const k of Object.keys(value)) if (!known.has(k)) throw new Error(`${path}: unknown field "${k}" (${type.name ?? 'record'} has ${[...known].join(', ')})`)
      const out: Record<string, unknown> = {}
      for (const f of fields) {
        const v = (value as Record<string, unknown>)[f.name]
        if (v === undefined) {
          if ((f as { defaultValue?: () => unknown }).defaultValue?.() === undefined) throw new Error(`${path}.${f.name}: missing (no default)`)
          continue
        }
        out[f.name] = avroFromJson(f.type, v, `${path}.${f.name}`)
      }
      return out
    }
    case 'union:wrapped': {
      const union = type as unknown as UnionLike
      if (value === null) {
        if (union.types.some((t) => t.typeName === 'null')) return null
        throw bad(`one of ${union.types.map(branchName).join(', ')}`)
      }
      if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1) {
        const key = Object.keys(value)[0]
        const branch = union.types.find((t) => branchName(t) === key)
        if (branch) return { [key]: avroFromJson(branch, (value as Record<string, unknown>)[key], `${path}.${key}`) }
      }
      const errors: string[] = []
      for (const branch of union.types) {
        if (branch.typeName === 'null') continue
        try {
          return { [branchName(branch)]: avroFromJson(branch, value, path) }
        } catch (err) {
          errors.push((err as Error).message)
        }
      }
      if (errors.length === 1) throw new Error(errors[0])
      throw bad(`any of ${union.types.map(branchName).join(', ')} (wrap it as {"<branch>": value} to choose)`)
    }
    default:
      return value
  }
}
