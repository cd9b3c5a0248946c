/**
 * Schema-registry framing and value mapping without a registry: Confluent framing, Protobuf
 * message indexes in every valid encoding, schema GUID headers, Apicurio framing, Avro logical
 * types, and what the decoder says about bytes it cannot (or need not) decode.
 */
import { describe, expect, it } from 'vitest'
import { avroFromJson, avroToJson, avroType, decimalString, parseDecimal, parseTimestamp } from '../../src/codec/avro.ts'
import { decodeProto, encodeProto, messageAt, protoSchema } from '../../src/codec/protobuf.ts'
import { decodeProtobuf, parseSchemaSelector, RegistryDecoder } from '../../src/codec/registry.ts'
import {
  apicurioFraming,
  encodeConfluentFrame,
  encodeMessageIndexes,
  encodeSchemaIdHeader,
  formatGuid,
  parseConfluentFrame,
  readMessageIndexes,
  schemaIdHeader,
} from '../../src/codec/registry-framing.ts'
import { jsonLine, prettyRecord } from '../../src/output/records.ts'
import type { RawRecord } from '../../src/record.ts'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

function raw(value: Buffer | null, headers: RawRecord['headers'] = [], key: Buffer | null = null): RawRecord {
  return { topic: 'orders', partition: 0, offset: '7', timestamp: 1_764_424_800_000, key, value, headers }
}

describe('Confluent framing', () => {
  it('reads magic 0x00 + big-endian int32 id, and the rest as payload', () => {
    const frame = parseConfluentFrame(hex('00 00 00 01 2c 06 61 62 63'))
    expect(frame?.schemaId).toBe(300)
    expect(frame?.payload).toEqual(hex('06 61 62 63'))
  })

  it('is not framing: another first byte, or fewer than 5 bytes', () => {
    expect(parseConfluentFrame(Buffer.from('{"a":1}'))).toBeUndefined()
    expect(parseConfluentFrame(hex('00 00 00 01'))).toBeUndefined()
    expect(parseConfluentFrame(null)).toBeUndefined()
  })

  it('writes what it reads', () => {
    expect(encodeConfluentFrame(12, hex('ab'))).toEqual(hex('00 0000000c ab'))
    expect(encodeConfluentFrame(12, hex('ab'), [0])).toEqual(hex('00 0000000c 00 ab'))
    expect(encodeConfluentFrame(12, hex('ab'), [0, 1])).toEqual(hex('00 0000000c 04 00 02 ab'))
  })
})

describe('Protobuf message indexes', () => {
  const cases: Array<[string, number[]]> = [
    ['00', [0]],
    ['02 00', [0]],
    ['02 02', [1]],
    ['04 00 02', [0, 1]],
    ['06 02 04 00', [1, 2, 0]],
    ['02 d8 04', [300]],
  ]
  for (const [bytes, indexes] of cases) {
    it(`${bytes} → [${indexes.join(', ')}]`, () => {
      const b = Buffer.concat([hex(bytes), hex('0a 01 78')])
      const read = readMessageIndexes(b)
      expect(read.indexes).toEqual(indexes)
      expect(b.subarray(read.end)).toEqual(hex('0a 01 78'))
    })
  }

  it('writes [0] as the single byte 00, others as count + zigzag varints', () => {
    expect(encodeMessageIndexes([0])).toEqual(hex('00'))
    expect(encodeMessageIndexes([1])).toEqual(hex('02 02'))
    expect(encodeMessageIndexes([0, 1])).toEqual(hex('04 00 02'))
    expect(encodeMessageIndexes([300])).toEqual(hex('02 d8 04'))
  })

  it('refuses negative or impossible counts and indexes, and truncated varints', () => {
    expect(() => readMessageIndexes(hex('01 00'))).toThrow(/impossible count -1/)
    expect(() => readMessageIndexes(hex('08 00'))).toThrow(/impossible count 4/)
    expect(() => readMessageIndexes(hex('02 01'))).toThrow(/negative index/)
    expect(() => readMessageIndexes(hex('02 80'))).toThrow(/truncated/)
    expect(() => readMessageIndexes(hex(''))).toThrow(/no bytes/)
  })
})

describe('schema GUID headers and Apicurio framing', () => {
  const guid = '0f8fad5b-d9cb-469f-a165-70867728950e'

  it('reads 0x01 + 16-byte GUID (+ Protobuf indexes) from __value_schema_id', () => {
    const h = schemaIdHeader([{ key: '__value_schema_id', value: encodeSchemaIdHeader(guid, [0, 1]) }], 'value')
    expect(h).toEqual({ header: '__value_schema_id', guid, rest: hex('04 00 02') })
    expect(schemaIdHeader([{ key: '__value_schema_id', value: encodeSchemaIdHeader(guid) }], 'key')).toBeUndefined()
    expect(formatGuid(hex('0f8fad5bd9cb469fa16570867728950e'))).toBe(guid)
  })

  it('says what is wrong with a malformed header', () => {
    expect(schemaIdHeader([{ key: '__key_schema_id', value: hex('02 00') }], 'key')?.invalid).toMatch(/not 0x01 \+ a 16-byte GUID \(2 bytes\)/)
    expect(schemaIdHeader([{ key: '__key_schema_id', value: null }], 'key')?.invalid).toMatch(/\(null\)/)
  })

  it('recognises Apicurio headers and its 8-byte globalId prefix', () => {
    const id = Buffer.alloc(8)
    id.writeBigInt64BE(42n)
    expect(apicurioFraming([{ key: 'apicurio.value.globalId', value: id }], 'value', Buffer.from('x'))).toBe('Apicurio serde framing (globalId 42 in header apicurio.value.globalId)')
    expect(apicurioFraming([], 'value', Buffer.concat([hex('00'), id, hex('02 61')]))).toBe('Apicurio serde framing (0x00 + 8-byte globalId 42)')
    expect(apicurioFraming([], 'value', Buffer.from('{}'))).toBeUndefined()
  })
})

describe('RegistryDecoder without a registry, or for bytes that are not framed', () => {
  it('framed bytes without --registry: binary, with the schema id and what to do', () => {
    const d = new RegistryDecoder(undefined).decode(raw(hex('00 0000000c 02 78')), 'value')
    expect(d).toMatchObject({ kind: 'binary', schemaId: 12, note: 'starts like a Confluent frame (magic byte 0, schema id 12); pass --registry to try decoding it' })
  })

  it('a JSON value with a registry configured: JSON, with a note, never "magic byte was 123"', () => {
    const decoder = new RegistryDecoder({ url: 'http://127.0.0.1:1' })
    const d = decoder.decode(raw(Buffer.from('{"a":1}')), 'value')
    expect(d).toMatchObject({ kind: 'json', value: { a: 1 }, note: "not Confluent-framed (first byte 0x7b '{'): shown as JSON" })
    // plain keys beside framed values are normal: no note
    expect(decoder.decode(raw(null, [], Buffer.from('order-1')), 'key')).toEqual({ kind: 'text', value: 'order-1', text: 'order-1' })
    // without a registry nothing is expected: no note either
    expect(new RegistryDecoder(undefined).decode(raw(Buffer.from('{"a":1}')), 'value').note).toBeUndefined()
  })

  it("Apicurio's header framing: decoded as what it is, with a note naming the header", () => {
    const id = Buffer.alloc(8)
    id.writeBigInt64BE(7n)
    const d = new RegistryDecoder(undefined).decode(raw(hex('0a 01 78'), [{ key: 'apicurio.value.globalId', value: id }]), 'value')
    expect(d.kind).toBe('binary')
    expect(d.note).toBe('Apicurio serde framing (globalId 7 in header apicurio.value.globalId), not Confluent framing: shown as binary')
  })

  it('a GUID header without a registry: the payload as what it is, and the GUID', () => {
    const guid = '0f8fad5b-d9cb-469f-a165-70867728950e'
    const d = new RegistryDecoder(undefined).decode(raw(Buffer.from('{"a":1}'), [{ key: '__value_schema_id', value: encodeSchemaIdHeader(guid) }]), 'value')
    expect(d).toMatchObject({ kind: 'json', value: { a: 1 }, schema: { guid } })
    expect(d.note).toBe(`schema GUID ${guid} in header __value_schema_id; pass --registry to decode; payload shown as JSON`)
  })

  it('a framed record not prepared (registry down) is shown raw with the reason', () => {
    const d = new RegistryDecoder({ url: 'http://127.0.0.1:1' }).decode(raw(hex('00 0000000c 02 78')), 'value')
    expect(d).toMatchObject({ kind: 'binary', schemaId: 12, error: 'schema id 12 was not looked up' })
  })

  it('tombstones and null keys stay null, whatever the headers', () => {
    expect(new RegistryDecoder(undefined).decode(raw(null, [{ key: '__value_schema_id', value: encodeSchemaIdHeader('0f8fad5b-d9cb-469f-a165-70867728950e') }]), 'value')).toEqual({ kind: 'null', value: null })
  })
})

describe('Avro values', () => {
  it('decimal: exact strings from two’s complement, both ways', () => {
    expect(decimalString(123450n, 2)).toBe('1234.50')
    expect(decimalString(-5n, 2)).toBe('-0.05')
    expect(decimalString(7n, 0)).toBe('7')
    expect(parseDecimal('1234.5', 2)).toBe(123450n)
    expect(parseDecimal('-0.05', 2)).toBe(-5n)
    expect(parseDecimal(12.5, 2)).toBe(1250n)
    expect(parseDecimal('1.230', 2)).toBe(123n)
    expect(() => parseDecimal('1.234', 2)).toThrow(/more than 2 decimal places/)
    expect(() => parseDecimal('123456', 2, 5)).toThrow(/more than 5 digits/)
  })

  it('decimal on bytes and fixed, timestamps, date, time, long beyond 2^53', () => {
    const type = avroType(JSON.stringify({
      type: 'record', name: 'R', fields: [
        { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 4 } },
        { name: 'rate', type: { type: 'fixed', name: 'Rate', size: 8, logicalType: 'decimal', precision: 18, scale: 6 } },
        { name: 'ms', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'us', type: { type: 'long', logicalType: 'timestamp-micros' } },
        { name: 'day', type: { type: 'int', logicalType: 'date' } },
        { name: 'tod', type: { type: 'int', logicalType: 'time-millis' } },
        { name: 'big', type: 'long' },
      ],
    }))
    // bytes as a Java serializer writes them: BigDecimal("-12345678901234.5678") unscaled, two's complement
    const unscaled = -123456789012345678n
    const bytes = Buffer.from((2n ** 64n + unscaled).toString(16), 'hex')
    const value = { price: bytes, rate: Buffer.from('00000000000f4240', 'hex'), ms: 1_764_424_800_123n, us: 1_764_424_800_123_456n, day: 20_421, tod: 50_400_001, big: 2n ** 62n + 1n }
    // encode with plain types (no logical types: what any Avro library writes), decode with evt's
    const plain = avroType(JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'price', type: 'bytes' }, { name: 'rate', type: { type: 'fixed', name: 'Rate', size: 8 } }, { name: 'ms', type: 'long' }, { name: 'us', type: 'long' }, { name: 'day', type: 'int' }, { name: 'tod', type: 'int' }, { name: 'big', type: 'long' }] }))
    const json = avroToJson(type, type.fromBuffer(plain.toBuffer(value)))
    expect(JSON.stringify(json)).toBe('{"price":"-12345678901234.5678","rate":"1.000000","ms":"2025-11-29T14:00:00.123Z","us":"2025-11-29T14:00:00.123456Z","day":"2025-11-29","tod":"14:00:00.001","big":4611686018427387905}')
    // and back
    expect(type.toBuffer(avroFromJson(type, JSON.parse(JSON.stringify(json), (_k, v, ctx?: { source?: string }) => (typeof v === 'number' && !Number.isSafeInteger(v) ? BigInt(ctx!.source!) : v))))).toEqual(plain.toBuffer(value))
    expect(parseTimestamp('2025-11-29T15:00:00.123456+01:00', 6)).toBe(1_764_424_800_123_456n)
  })

  it('unions: nullable as the value, others wrapped with the branch name (a top-level union too)', () => {
    const type = avroType(JSON.stringify([
      'null',
      { type: 'record', name: 'Placed', namespace: 'acme', fields: [{ name: 'id', type: 'string' }, { name: 'note', type: ['null', 'string'], default: null }] },
      { type: 'record', name: 'Cancelled', namespace: 'acme', fields: [{ name: 'id', type: 'string' }, { name: 'why', type: ['string', 'int'] }] },
    ]))
    const buf = type.toBuffer(avroFromJson(type, { 'acme.Cancelled': { id: 'o-1', why: { int: 3 } } }))
    expect(avroToJson(type, type.fromBuffer(buf))).toEqual({ 'acme.Cancelled': { id: 'o-1', why: { int: 3 } } })
    const placed = type.toBuffer(avroFromJson(type, { 'acme.Placed': { id: 'o-2', note: 'hi' } }))
    expect(avroToJson(type, type.fromBuffer(placed))).toEqual({ 'acme.Placed': { id: 'o-2', note: 'hi' } })
    expect(avroToJson(type, type.fromBuffer(type.toBuffer(null)))).toBeNull()
  })
})

describe('Protobuf: the message type by indexes, nested types, well-known types', () => {
  const schema = protoSchema(`syntax = "proto3";
package acme;
import "google/protobuf/timestamp.proto";
message Order {
  string id = 1;
  google.protobuf.Timestamp placed_at = 2;
  message Line { string sku = 1; int64 qty = 2; message Tax { string code = 1; } }
  Line first = 3;
}
message Payment { string id = 1; }
`)

  it('indexes pick top-level and nested messages', () => {
    expect(messageAt(schema, [0]).fullName).toBe('.acme.Order')
    expect(messageAt(schema, [1]).fullName).toBe('.acme.Payment')
    expect(messageAt(schema, [0, 0]).fullName).toBe('.acme.Order.Line')
    expect(messageAt(schema, [0, 0, 0]).fullName).toBe('.acme.Order.Line.Tax')
    expect(() => messageAt(schema, [2])).toThrow(/name no message/)
  })

  it('decodes after every valid index encoding, and without indexes as the first message', () => {
    const order = encodeProto(messageAt(schema, [0]), { id: 'o-1', placedAt: '2026-11-28T14:00:00.5Z', first: { sku: 'a', qty: '9007199254740993' } })
    const line = encodeProto(messageAt(schema, [0, 0]), { sku: 'b', qty: 2 })
    expect(decodeProtobuf(schema, Buffer.concat([hex('00'), order]))).toEqual({ message: 'acme.Order', value: { id: 'o-1', placedAt: '2026-11-28T14:00:00.500Z', first: { sku: 'a', qty: '9007199254740993' } } })
    expect(decodeProtobuf(schema, Buffer.concat([hex('02 00'), order])).message).toBe('acme.Order')
    expect(decodeProtobuf(schema, Buffer.concat([hex('04 00 00'), line]))).toEqual({ message: 'acme.Order.Line', value: { sku: 'b', qty: '2' } })
    const payment = encodeProto(messageAt(schema, [1]), { id: 'p-1' })
    expect(decodeProtobuf(schema, Buffer.concat([hex('02 02'), payment]))).toEqual({ message: 'acme.Payment', value: { id: 'p-1' } })
    // @kafkajs/confluent-schema-registry writes no indexes at all
    const bare = decodeProtobuf(schema, order)
    expect(bare.message).toBe('acme.Order')
    expect(bare.note).toMatch(/no message indexes/)
    // indexes from a schema-id header
    expect(decodeProtobuf(schema, payment, hex('02 02')).message).toBe('acme.Payment')
    expect(decodeProto(messageAt(schema, [0]), order)).toMatchObject({ id: 'o-1' })
  })
})

describe('output of registry decodings', () => {
  it('-f json: valueEncoding, valueSchemaId, notes and errors only where they apply', () => {
    const base = { ...raw(hex('00 0000000c 02 78')), keyDecoded: { kind: 'text' as const, value: 'k', text: 'k' } }
    expect(jsonLine({ ...base, valueDecoded: { kind: 'avro', value: { total: '12.50', big: JSON.parse('1') }, schemaId: 12, schema: { subject: 'orders-value', version: 3 } } })).toContain('"keyEncoding":"text","value":{"total":"12.50","big":1},"valueEncoding":"avro","valueSchemaId":12,"headers":[]')
    expect(jsonLine({ ...base, valueDecoded: { kind: 'binary', value: base.value, schemaId: 12, error: 'schema id 12 not found in the registry' } })).toContain('"value":"AAAAAAwCeA==","valueEncoding":"base64","valueSchemaId":12,"valueError":"schema id 12 not found in the registry"')
    expect(jsonLine({ ...base, valueDecoded: { kind: 'json-schema', value: { n: 1 }, text: '{"n":12345678901234567890}', schemaId: 5 } as never })).toContain('"value":{"n":12345678901234567890},"valueEncoding":"json-schema","valueSchemaId":5')
  })

  it('pretty: subject, version and id per record', () => {
    const text = prettyRecord({ ...raw(hex('00 0000000c 02 78')), keyDecoded: { kind: 'null', value: null }, valueDecoded: { kind: 'protobuf', value: { id: 'o-1' }, schemaId: 12, schema: { subject: 'orders-value', version: 3, message: 'acme.Order' } } })
    expect(text).toContain('value schema: orders-value v3 · id 12 · protobuf acme.Order')
  })

  it('schema selectors: subject, subject:version, subject:latest', () => {
    expect(parseSchemaSelector('orders-value', '--value-schema')).toEqual({ subject: 'orders-value', version: 'latest' })
    expect(parseSchemaSelector('orders-value:3', '--value-schema')).toEqual({ subject: 'orders-value', version: 3 })
    expect(parseSchemaSelector('com.acme:Order:latest', '--value-schema')).toEqual({ subject: 'com.acme:Order', version: 'latest' })
  })
})
