import { describe, expect, it } from 'vitest'
import { parseB3, parseTraceparent } from '../../src/envelope/index.ts'
import { parseTimeSent } from '../../src/envelope/nservicebus.ts'
import { atPath, compilePath, connectPayload, decodedId, headerEpochMs, headerId, headerText, parseRfc3339, uuidFromBytes } from '../../src/envelope/values.ts'
import { buildRecord, int64BE, uuidBytes } from '../support/fixtures/envelope-record.ts'

describe('parseRfc3339', () => {
  it.each<[string, number | undefined]>([
    ['2023-11-14T22:13:20Z', 1_700_000_000_000],
    ['2023-11-14T22:13:20.123Z', 1_700_000_000_123],
    ['2023-11-14T22:13:20.123456789Z', 1_700_000_000_123],
    ['2023-11-14T22:13:20.1z', 1_700_000_000_100],
    ['2023-11-15T00:13:20+02:00', 1_700_000_000_000],
    ['2023-11-14T17:13:20-05:00', 1_700_000_000_000],
    ['2023-11-14 22:13:20Z', 1_700_000_000_000],
    ['2023-11-14T22:13:20', undefined],
    ['2023-02-30T00:00:00Z', undefined],
    ['2023-11-14', undefined],
    ['1700000000000', undefined],
    ['yesterday', undefined],
  ])('%s → %s', (text, expected) => {
    expect(parseRfc3339(text)).toBe(expected)
  })
})

describe('header values', () => {
  it('text: trimmed printable UTF-8; empty, null, invalid UTF-8 or control characters → undefined', () => {
    expect(headerText(Buffer.from(' abc \n'))).toBe('abc')
    expect(headerText(null)).toBeUndefined()
    expect(headerText(undefined)).toBeUndefined()
    expect(headerText(Buffer.alloc(0))).toBeUndefined()
    expect(headerText(Buffer.from('  '))).toBeUndefined()
    expect(headerText(Buffer.from([0xc3, 0x28]))).toBeUndefined()
    expect(headerText(Buffer.from([0x00, 0x41]))).toBeUndefined()
  })

  it('ids: text, or 16 binary bytes as a UUID; forced UUID for printable 16 bytes', () => {
    const uuid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301'
    expect(headerId(uuidBytes(uuid))).toBe(uuid)
    expect(uuidFromBytes(uuidBytes(uuid))).toBe(uuid)
    expect(headerId(Buffer.from('abcdefghijklmnop'))).toBe('abcdefghijklmnop')
    expect(headerId(Buffer.from('abcdefghijklmnop'), true)).toBe('61626364-6566-6768-696a-6b6c6d6e6f70')
    expect(headerId(Buffer.from([0xff, 0xfe]))).toBeUndefined()
  })

  it('epoch ms: 8-byte BE, decimal text, RFC 3339', () => {
    expect(headerEpochMs(int64BE(1_700_000_000_000))).toBe(1_700_000_000_000)
    expect(headerEpochMs(Buffer.from('1700000000000'))).toBe(1_700_000_000_000)
    expect(headerEpochMs(Buffer.from('2023-11-14T22:13:20Z'))).toBe(1_700_000_000_000)
    expect(headerEpochMs(Buffer.from([0, 0, 0, 3]))).toBeUndefined()
    expect(headerEpochMs(Buffer.alloc(8, 0x7f))).toBeUndefined()
  })

  it('NServiceBus TimeSent', () => {
    expect(parseTimeSent('2023-11-14 22:13:20:123456 Z')).toBe(1_700_000_000_123)
    expect(parseTimeSent('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000)
    expect(parseTimeSent('14/11/2023')).toBeUndefined()
  })
})

describe('JSON helpers', () => {
  it('paths: objects, array indexes, missing, own properties only', () => {
    const v = { a: { b: [{ c: 'x' }] } }
    expect(atPath(v, compilePath('a.b.0.c'))).toBe('x')
    expect(atPath(v, compilePath('a.b.1.c'))).toBeUndefined()
    expect(atPath(v, compilePath('a.b.c'))).toBeUndefined()
    expect(atPath(v, compilePath('a.toString'))).toBeUndefined()
    expect(atPath('text', compilePath('a'))).toBeUndefined()
  })

  it("Kafka Connect's {schema, payload} wrapper is unwrapped, other objects are not", () => {
    expect(connectPayload({ schema: { type: 'string' }, payload: 'x' })).toBe('x')
    expect(connectPayload({ schema: null, payload: 1 })).toBe(1)
    expect(connectPayload({ schema: 'v1', payload: 'x' })).toEqual({ schema: 'v1', payload: 'x' })
    expect(connectPayload({ schema: {}, payload: 'x', extra: 1 })).toEqual({ schema: {}, payload: 'x', extra: 1 })
  })

  it('ids from keys: JSON strings, Connect payloads, raw text (1e5 stays 1e5); objects are no id', () => {
    const id = (key: string | Buffer | null) => {
      const r = buildRecord({ key })
      return decodedId(r.keyDecoded, r.key)
    }
    expect(id('"order-1"')).toBe('order-1')
    expect(id('order-1')).toBe('order-1')
    expect(id('1e5')).toBe('1e5')
    expect(id('{"schema":{"type":"string"},"payload":"order-1"}')).toBe('order-1')
    expect(id('{"id":1}')).toBeUndefined()
    expect(id(null)).toBeUndefined()
    expect(id(Buffer.from([0xff]))).toBeUndefined()
  })
})

describe('trace-context parsers', () => {
  it('traceparent', () => {
    expect(parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01')).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' })
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future')).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' })
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')).toBeUndefined()
  })

  it('b3 single header', () => {
    expect(parseB3('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90')).toEqual({ traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: 'e457b5a2e4d86bd1', parentSpanId: '05e3ac9a4f6e3b90' })
    expect(parseB3('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1')).toEqual({ traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: 'e457b5a2e4d86bd1' })
    expect(parseB3('0')).toBeUndefined()
    expect(parseB3('d')).toBeUndefined()
    expect(parseB3('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-zz')).toBeUndefined()
  })
})
