import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import { parseHeaderFlag, parseJsonLine, rawMembers } from '../../src/codec/input.ts'
import { EvtError } from '../../src/errors.ts'
import { jsonLine } from '../../src/output/records.ts'
import type { RawRecord, RecordHeader } from '../../src/record.ts'

const utf8 = (s: string) => Buffer.from(s, 'utf8')

function errorOf(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    return err as EvtError
  }
  throw new Error('expected an EvtError, nothing was thrown')
}

describe('rawMembers', () => {
  it('gives the raw text of each member, in order', () => {
    const m = rawMembers('{"a": [1, 2], "b":{"c":true} , "d" : 12 ,"e":null,"f":"x"}')
    expect([...m.entries()]).toEqual([
      ['a', '[1, 2]'],
      ['b', '{"c":true}'],
      ['d', '12'],
      ['e', 'null'],
      ['f', '"x"'],
    ])
  })

  it('strings with brackets, commas, braces and escaped quotes inside nested values', () => {
    const line = '{"a":[1,"x]\\"y,}",{"b":"}{"}],"c":"q\\\\","d":"\\"","n":{"deep":[[{"e":"]"}]]}}'
    const m = rawMembers(line)
    expect(m.get('a')).toBe('[1,"x]\\"y,}",{"b":"}{"}]')
    expect(m.get('c')).toBe('"q\\\\"')
    expect(m.get('d')).toBe('"\\""')
    expect(m.get('n')).toBe('{"deep":[[{"e":"]"}]]}')
    expect(JSON.parse(m.get('a')!)).toEqual([1, 'x]"y,}', { b: '}{' }])
  })

  it('member names with escapes are decoded', () => {
    expect([...rawMembers('{"a\\"b":1,"\\u0063":2}').keys()]).toEqual(['a"b', 'c'])
  })

  it('numbers, literals and trailing whitespace after the object', () => {
    expect([...rawMembers('{"a":-1.5e3 , "b":true,"c":false,"d":0}  \r').entries()]).toEqual([
      ['a', '-1.5e3'],
      ['b', 'true'],
      ['c', 'false'],
      ['d', '0'],
    ])
  })

  it('an empty object', () => {
    expect(rawMembers(' { } ').size).toBe(0)
  })

  it('big integers keep their digits', () => {
    expect(rawMembers('{"v":12345678901234567890}').get('v')).toBe('12345678901234567890')
  })

  it.each([
    ['[1]', 'not a JSON object'],
    ['', 'not a JSON object'],
    ['{a:1}', 'expected a member name at 1'],
    ['{"a" 1}', "expected ':' at 5"],
    ['{"a":1 "b":2}', "expected ',' or '}' at 7"],
    ['{"a": abc}', 'expected a JSON value at 6'],
    ['{"a":}', 'expected a JSON value at 5'],
    ['{"a":01}', 'expected a JSON value at 5'],
    ['{"a":1}{"b":2}', 'unexpected text after the object at 7'],
    ['{"a":1} x', 'unexpected text after the object at 8'],
    ['{"a":"x', 'unterminated string'],
    ['{"a":[1,2', 'unterminated object or array'],
  ])('%j → throws %j', (line, message) => {
    expect(() => rawMembers(line)).toThrow(message)
  })
})

describe('parseJsonLine round trip (jsonLine → parseJsonLine)', () => {
  const base = { topic: 'orders', partition: 3, offset: '42', timestamp: 1_700_000_000_000 }

  const cases: Array<[string, Buffer | null, Buffer | null, RecordHeader[]]> = [
    ['binary key and value', Buffer.from([0xff, 0x00, 0xc3, 0x28]), Buffer.from([0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x7b]), []],
    ['null key', null, utf8('plain text'), []],
    ['tombstone', utf8('order-1'), null, []],
    ['empty value (not a tombstone)', utf8('order-1'), Buffer.alloc(0), []],
    ['empty key', Buffer.alloc(0), utf8('v'), []],
    ['JSON with spaces', utf8('{ "id" : "a b" }'), utf8('{"a": [1, 2],  "b" : {"c": "d, e"}}'), []],
    ['JSON with big ints', utf8('12345678901234567890'), utf8('{"id":12345678901234567890,"neg":-98765432109876543210.5e3}'), []],
    ['JSON with a newline and surrounding spaces (goes as text)', null, utf8('  {\n  "a": 1\n}\n'), []],
    ['JSON string and scalars', utf8('"quoted"'), utf8('true'), []],
    ['text with quotes, backslashes, unicode, tab, CRLF', utf8('k\\"\''), utf8('say "hi"\\ ✓ Grüße\tx\r\ny'), []],
    [
      'duplicate, null, empty and binary headers in order',
      utf8('k'),
      utf8('{"a":1}'),
      [
        { key: 'traceparent', value: utf8('00-a-b-01') },
        { key: 'traceparent', value: utf8('00-c-d-01') },
        { key: 'nothing', value: null },
        { key: 'empty', value: Buffer.alloc(0) },
        { key: 'kafka_dlt-original-offset', value: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x2a]) },
        { key: 'json-ish', value: utf8('{"x": 1}') },
        { key: 'nothing', value: null },
      ],
    ],
  ]

  it.each(cases)('%s', (_, key, value, headers) => {
    const raw: RawRecord = { ...base, key, value, headers }
    const line = jsonLine(decodeRecord(raw))
    const back = parseJsonLine(line.replace(/\n$/, ''), 1)
    // byte-identical
    if (key === null) expect(back.key).toBeNull()
    else expect(back.key?.toString('hex')).toBe(key.toString('hex'))
    if (value === null) expect(back.value).toBeNull()
    else expect(back.value?.toString('hex')).toBe(value.toString('hex'))
    expect(back.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')])).toEqual(headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]))
    expect(back.partition).toBe(3)
    expect(back.timestamp).toBe(1_700_000_000_000)
  })

  it('the line with its trailing newline parses the same', () => {
    const line = jsonLine(decodeRecord({ ...base, key: null, value: utf8('{"a":1}'), headers: [] }))
    expect(parseJsonLine(line, 1).value?.toString('utf8')).toBe('{"a":1}')
  })
})

describe('parseJsonLine: lines written by hand', () => {
  it('encodings may be omitted: a JSON string is text, anything else JSON (raw text kept)', () => {
    const r = parseJsonLine('{"key":"k1","value":{"n": 12345678901234567890}}', 1)
    expect(r.key?.toString('utf8')).toBe('k1')
    expect(r.value?.toString('utf8')).toBe('{"n": 12345678901234567890}')
    expect(r.headers).toEqual([])
    expect(r.partition).toBeUndefined()
    expect(r.timestamp).toBeUndefined()
  })

  it('missing key and value are null', () => {
    const r = parseJsonLine('{}', 1)
    expect(r.key).toBeNull()
    expect(r.value).toBeNull()
  })

  it('encoding null wins over a value', () => {
    expect(parseJsonLine('{"value":"x","valueEncoding":"null"}', 1).value).toBeNull()
  })

  it('headers without encoding are text; numbers become their text', () => {
    const r = parseJsonLine('{"headers":[{"key":"a","value":"1"},{"key":"b","value":2},{"key":"c","value":null}]}', 1)
    expect(r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('utf8')])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', null],
    ])
  })

  it.each([
    ['not json', 'not a JSON object'],
    ['[1,2]', 'not a JSON object'],
    ['{"key":"k",', 'expected a member name at 11'],
    ['{"partition":1 "value":"x"}', "expected ',' or '}' at 15"],
    ['{"headers":5}', '"headers" must be an array of {key, value, encoding}'],
    ['{"headers":[{"value":"x"}]}', 'each header needs a string "key"'],
    ['{"value":"x","valueEncoding":"avro"}', 'valueEncoding "avro" cannot be written back (use json, text, base64 or null)'],
    ['{"key":"x","keyEncoding":"hex"}', 'keyEncoding "hex" cannot be written back (use json, text, base64 or null)'],
  ])('%j → usage error with the line number', (line, reason) => {
    const err = errorOf(() => parseJsonLine(line, 17))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`--input json: line 17: ${reason}`)
    expect(err.hint).toBe('each line must be a JSON object as written by: evt tail -f json')
  })
})

describe('parseJsonLine: invalid JSON inside a json-encoded member', () => {
  it.each(['{"value":{bad}}', '{"key":[1,],"keyEncoding":"json"}'])('%j → usage error with the line number (not garbage bytes)', (line) => {
    const err = errorOf(() => parseJsonLine(line, 9))
    expect(err.kind).toBe('usage')
    expect(err.message.startsWith('--input json: line 9: ')).toBe(true)
    expect(err.message).toMatch(/JSON/)
  })
})

describe('parseHeaderFlag', () => {
  it('splits at the first =', () => {
    const h = parseHeaderFlag('content-type=application/json; a=b')
    expect(h.key).toBe('content-type')
    expect(h.value?.toString('utf8')).toBe('application/json; a=b')
  })

  it('an empty value is an empty buffer, not null', () => {
    const h = parseHeaderFlag('x=')
    expect(h.key).toBe('x')
    expect(h.value).toEqual(Buffer.alloc(0))
  })

  it('UTF-8 bytes', () => {
    expect(parseHeaderFlag('n=✓').value).toEqual(Buffer.from([0xe2, 0x9c, 0x93]))
  })

  it.each(['novalue', '=v', ''])('%j without a name → usage error', (spec) => {
    const err = errorOf(() => parseHeaderFlag(spec))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`-H "${spec}" is not name=value`)
    expect(err.hint).toBe('e.g. -H content-type=application/json (repeatable)')
  })
})
