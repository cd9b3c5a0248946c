import { describe, expect, it } from 'vitest'
import { decodeBytes, decodeRecord, headerText } from '../../src/codec/decode.ts'
import type { RawRecord } from '../../src/record.ts'

const utf8 = (s: string) => Buffer.from(s, 'utf8')

describe('decodeBytes', () => {
  it('null stays null (tombstone / no key)', () => {
    expect(decodeBytes(null)).toEqual({ kind: 'null', value: null })
  })

  it('an empty buffer is text "", not null', () => {
    expect(decodeBytes(Buffer.alloc(0))).toEqual({ kind: 'text', value: '', text: '' })
  })

  it('a JSON object keeps its exact text', () => {
    const text = '{"event_type":"OrderPlaced", "n": 1}'
    expect(decodeBytes(utf8(text))).toEqual({ kind: 'json', value: { event_type: 'OrderPlaced', n: 1 }, text })
  })

  it('a JSON array', () => {
    expect(decodeBytes(utf8('[1,"a",null]'))).toEqual({ kind: 'json', value: [1, 'a', null], text: '[1,"a",null]' })
  })

  it('JSON numbers, including negative and exponent', () => {
    expect(decodeBytes(utf8('42'))).toEqual({ kind: 'json', value: 42, text: '42' })
    expect(decodeBytes(utf8('-1.5e2'))).toEqual({ kind: 'json', value: -150, text: '-1.5e2' })
  })

  it('a JSON string', () => {
    expect(decodeBytes(utf8('"hello"'))).toEqual({ kind: 'json', value: 'hello', text: '"hello"' })
  })

  it('JSON literals true/false/null', () => {
    expect(decodeBytes(utf8('true'))).toEqual({ kind: 'json', value: true, text: 'true' })
    expect(decodeBytes(utf8('false'))).toEqual({ kind: 'json', value: false, text: 'false' })
    expect(decodeBytes(utf8('null'))).toEqual({ kind: 'json', value: null, text: 'null' })
  })

  it('JSON with surrounding whitespace is still JSON, and the text keeps the whitespace', () => {
    expect(decodeBytes(utf8('  {"a":1}\n'))).toEqual({ kind: 'json', value: { a: 1 }, text: '  {"a":1}\n' })
  })

  it('invalid UTF-8 is binary, with the bytes themselves as value', () => {
    const bytes = Buffer.from([0xc3, 0x28, 0x41])
    const d = decodeBytes(bytes)
    expect(d.kind).toBe('binary')
    expect(d.value).toBe(bytes)
    expect(d.text).toBeUndefined()
  })

  it('valid UTF-8 with control characters is binary', () => {
    const bytes = Buffer.from([0x00, 0x00, 0x00, 0x03])
    expect(decodeBytes(bytes)).toEqual({ kind: 'binary', value: bytes })
    const withBell = utf8('hello\u0007world')
    expect(decodeBytes(withBell)).toEqual({ kind: 'binary', value: withBell })
    const withDel = utf8('abc\u007f')
    expect(decodeBytes(withDel)).toEqual({ kind: 'binary', value: withDel })
  })

  it('a Confluent-framed value (magic byte 0) is binary', () => {
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), utf8('{"a":1}')])
    expect(decodeBytes(framed).kind).toBe('binary')
  })

  it('plain text (tab, CR, LF and non-ASCII allowed)', () => {
    expect(decodeBytes(utf8('order-1'))).toEqual({ kind: 'text', value: 'order-1', text: 'order-1' })
    expect(decodeBytes(utf8('a\tb\r\nc'))).toEqual({ kind: 'text', value: 'a\tb\r\nc', text: 'a\tb\r\nc' })
    expect(decodeBytes(utf8('Grüße ✓'))).toEqual({ kind: 'text', value: 'Grüße ✓', text: 'Grüße ✓' })
  })

  it('JSON-looking but invalid is text', () => {
    expect(decodeBytes(utf8('{"a":'))).toEqual({ kind: 'text', value: '{"a":', text: '{"a":' })
    expect(decodeBytes(utf8('nothing'))).toEqual({ kind: 'text', value: 'nothing', text: 'nothing' })
    expect(decodeBytes(utf8('123abc'))).toEqual({ kind: 'text', value: '123abc', text: '123abc' })
    expect(decodeBytes(utf8('-'))).toEqual({ kind: 'text', value: '-', text: '-' })
    expect(decodeBytes(utf8('{"a":1} {"b":2}'))).toEqual({ kind: 'text', value: '{"a":1} {"b":2}', text: '{"a":1} {"b":2}' })
  })

  it('JSON-looking, invalid, with a control character is binary', () => {
    const bytes = utf8('{"a":"\u0001"')
    expect(decodeBytes(bytes)).toEqual({ kind: 'binary', value: bytes })
  })
})

describe('decodeRecord', () => {
  it('adds keyDecoded and valueDecoded and keeps the raw record', () => {
    const raw: RawRecord = { topic: 't', partition: 3, offset: '42', timestamp: 1_700_000_000_000, key: utf8('order-1'), value: null, headers: [{ key: 'h', value: null }] }
    const d = decodeRecord(raw)
    expect(d).toEqual({ ...raw, keyDecoded: { kind: 'text', value: 'order-1', text: 'order-1' }, valueDecoded: { kind: 'null', value: null } })
    expect(d.key).toBe(raw.key)
    expect(d.headers).toBe(raw.headers)
  })
})

describe('headerText', () => {
  it('null stays null', () => {
    expect(headerText(null)).toEqual({ value: null, encoding: 'null' })
  })

  it('printable UTF-8 is text', () => {
    expect(headerText(utf8('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'))).toEqual({ value: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', encoding: 'text' })
    expect(headerText(Buffer.alloc(0))).toEqual({ value: '', encoding: 'text' })
  })

  it('binary (a Spring int32 partition) is base64', () => {
    expect(headerText(Buffer.from([0, 0, 0, 3]))).toEqual({ value: 'AAAAAw==', encoding: 'base64' })
  })

  it('invalid UTF-8 is base64', () => {
    expect(headerText(Buffer.from([0xff, 0xfe]))).toEqual({ value: '//4=', encoding: 'base64' })
  })

  it('a multi-line stack trace stays text', () => {
    expect(headerText(utf8('java.lang.IllegalStateException: boom\n\tat x.Y.z(Y.java:1)'))).toEqual({ value: 'java.lang.IllegalStateException: boom\n\tat x.Y.z(Y.java:1)', encoding: 'text' })
  })
})
