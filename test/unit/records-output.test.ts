import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import { EvtError } from '../../src/errors.ts'
import { compileTemplate, formatBytes, jsonLine, prettyRecord, rawRecord, TEMPLATE_TOKENS } from '../../src/output/records.ts'
import type { DecodedRecord, RecordHeader } from '../../src/record.ts'

const utf8 = (s: string) => Buffer.from(s, 'utf8')

function record(key: Buffer | null, value: Buffer | null, headers: RecordHeader[] = []): DecodedRecord {
  return decodeRecord({ topic: 'orders', partition: 3, offset: '42', timestamp: 1_700_000_000_000, key, value, headers })
}

const PREFIX = '{"topic":"orders","partition":3,"offset":42,"timestamp":1700000000000,'

describe('jsonLine', () => {
  it('a tombstone with no key: "value":null, never ""', () => {
    expect(jsonLine(record(null, null))).toBe(`${PREFIX}"key":null,"keyEncoding":"null","value":null,"valueEncoding":"null","headers":[]}\n`)
  })

  it('an empty value is "" with encoding text (not a tombstone)', () => {
    expect(jsonLine(record(utf8('k'), Buffer.alloc(0)))).toBe(`${PREFIX}"key":"k","keyEncoding":"text","value":"","valueEncoding":"text","headers":[]}\n`)
  })

  it('binary → base64', () => {
    expect(jsonLine(record(Buffer.from([0xff, 0x00]), Buffer.from([0x00, 0x00, 0x00, 0x01, 0x7b])))).toBe(`${PREFIX}"key":"/wA=","keyEncoding":"base64","value":"AAAAAXs=","valueEncoding":"base64","headers":[]}\n`)
  })

  it('JSON is embedded verbatim: spacing kept, a big integer unchanged', () => {
    const value = '{"id": 12345678901234567890, "amount":1.10, "s":"a\\u00e9"}'
    const line = jsonLine(record(utf8('12345678901234567890'), utf8(value)))
    expect(line).toBe(`${PREFIX}"key":12345678901234567890,"keyEncoding":"json","value":${value},"valueEncoding":"json","headers":[]}\n`)
    expect(line).toContain('12345678901234567890, "amount":1.10')
  })

  it('a JSON string value is embedded as JSON', () => {
    expect(jsonLine(record(null, utf8('"hi"')))).toBe(`${PREFIX}"key":null,"keyEncoding":"null","value":"hi","valueEncoding":"json","headers":[]}\n`)
  })

  it('JSON containing a newline → encoding text, so the line stays one line', () => {
    const line = jsonLine(record(null, utf8('{"a":\n1}')))
    expect(line).toBe(`${PREFIX}"key":null,"keyEncoding":"null","value":"{\\"a\\":\\n1}","valueEncoding":"text","headers":[]}\n`)
    expect(line.indexOf('\n')).toBe(line.length - 1)
  })

  it('JSON with a CR → text', () => {
    expect(jsonLine(record(null, utf8('{"a":\r1}')))).toBe(`${PREFIX}"key":null,"keyEncoding":"null","value":"{\\"a\\":\\r1}","valueEncoding":"text","headers":[]}\n`)
  })

  it('JSON with surrounding whitespace → encoding text, whitespace kept', () => {
    expect(jsonLine(record(null, utf8(' {"a":1} ')))).toBe(`${PREFIX}"key":null,"keyEncoding":"null","value":" {\\"a\\":1} ","valueEncoding":"text","headers":[]}\n`)
    expect(jsonLine(record(null, utf8('{"a":1}\n')))).toBe(`${PREFIX}"key":null,"keyEncoding":"null","value":"{\\"a\\":1}\\n","valueEncoding":"text","headers":[]}\n`)
  })

  it('plain text with quotes and a tab is a JSON string', () => {
    expect(jsonLine(record(utf8('order-1'), utf8('say "hi"\there')))).toBe(`${PREFIX}"key":"order-1","keyEncoding":"text","value":"say \\"hi\\"\\there","valueEncoding":"text","headers":[]}\n`)
  })

  it('headers: order, duplicates, null values and binary kept', () => {
    const headers = [
      { key: 'traceparent', value: utf8('00-a-b-01') },
      { key: 'kafka_dlt-original-partition', value: Buffer.from([0, 0, 0, 3]) },
      { key: 'traceparent', value: utf8('00-c-d-01') },
      { key: '__connect.errors.exception.message', value: null },
      { key: 'empty', value: Buffer.alloc(0) },
    ]
    expect(jsonLine(record(null, utf8('x'), headers))).toBe(
      `${PREFIX}"key":null,"keyEncoding":"null","value":"x","valueEncoding":"text","headers":[` +
        '{"key":"traceparent","value":"00-a-b-01","encoding":"text"},' +
        '{"key":"kafka_dlt-original-partition","value":"AAAAAw==","encoding":"base64"},' +
        '{"key":"traceparent","value":"00-c-d-01","encoding":"text"},' +
        '{"key":"__connect.errors.exception.message","value":null,"encoding":"null"},' +
        '{"key":"empty","value":"","encoding":"text"}' +
        ']}\n',
    )
  })

  it('every line parses as JSON', () => {
    const line = jsonLine(record(Buffer.from([1, 2]), utf8('{"a":[1,2]}'), [{ key: 'h', value: null }]))
    expect(JSON.parse(line)).toEqual({ topic: 'orders', partition: 3, offset: 42, timestamp: 1_700_000_000_000, key: 'AQI=', keyEncoding: 'base64', value: { a: [1, 2] }, valueEncoding: 'json', headers: [{ key: 'h', value: null, encoding: 'null' }] })
  })
})

describe('compileTemplate', () => {
  const r = record(utf8('order-1'), utf8('{"a": 1}'), [
    { key: 'h1', value: utf8('v1') },
    { key: 'h2', value: null },
    { key: 'bin', value: Buffer.from([0, 1]) },
  ])

  it('renders every token', () => {
    const render = compileTemplate('%t|%p|%o|%k|%K|%v|%s|%S|%h|%T|%D|%%')
    expect(render(r)).toBe('orders|3|42|order-1|7|{"a": 1}|{"a": 1}|8|h1=v1,h2=,bin=AAE=|1700000000000|2023-11-14T22:13:20.000Z|%')
  })

  it('null key and value: empty text, length -1', () => {
    expect(compileTemplate('[%k][%K][%v][%S][%h]')(record(null, null))).toBe('[][-1][][-1][]')
  })

  it('binary key and value are base64', () => {
    expect(compileTemplate('%k %v')(record(Buffer.from([0xff]), Buffer.from([0, 0, 0, 1])))).toBe('/w== AAAAAQ==')
  })

  it('escapes \\n \\t \\r \\\\; other backslashes stay literal', () => {
    expect(compileTemplate('%o\\t%k\\n')(r)).toBe('42\torder-1\n')
    expect(compileTemplate('a\\rb\\\\c\\xd\\')(r)).toBe('a\rb\\c\\xd\\')
  })

  it('plain literal text passes through', () => {
    expect(compileTemplate('no tokens here')(r)).toBe('no tokens here')
    expect(compileTemplate('')(r)).toBe('')
  })

  it('renders each record independently', () => {
    const render = compileTemplate('%p:%o\n')
    expect(render(r)).toBe('3:42\n')
    expect(render({ ...r, partition: 0, offset: '7' })).toBe('0:7\n')
  })

  it.each([
    ['%x', '"%x"'],
    ['value=%q', '"%q"'],
    ['trailing %', '"%"'],
  ])('unknown token in %j → usage error listing the tokens', (template, shown) => {
    let err: unknown
    try {
      compileTemplate(template)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(EvtError)
    const e = err as EvtError
    expect(e.kind).toBe('usage')
    expect(e.exitCode).toBe(2)
    expect(e.message).toContain(`template: unknown token ${shown}`)
    expect(e.hint).toBe(`tokens: ${TEMPLATE_TOKENS}`)
  })
})

describe('prettyRecord', () => {
  it('a 5 MB value is truncated with a marker giving the full size, and the block stays short', () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'a')
    const out = stripVTControlCharacters(prettyRecord(record(utf8('k'), big)))
    expect(out).toContain(' … truncated: 5.0 MB in all; -f json prints it whole ')
    expect(out.startsWith('orders/3@42  2023-11-14T22:13:20.000Z  key k  (5.0 MB)\n')).toBe(true)
    expect(out.length).toBeLessThan(8192 + 300)
    expect(out.length).toBeGreaterThan(8192)
  })

  it('a 5 MB JSON value is truncated too', () => {
    const big = utf8(JSON.stringify({ items: Array.from({ length: 220_000 }, (_, i) => `item-${i}-xxxxxxxxxx`) }))
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024)
    const out = stripVTControlCharacters(prettyRecord(record(null, big)))
    expect(out).toContain(`truncated: ${formatBytes(big.length)} in all`)
    expect(out.length).toBeLessThan(8192 * 2)
  })

  it('maxValueChars sets the cut', () => {
    const out = stripVTControlCharacters(prettyRecord(record(null, utf8('abcdefghij')), { maxValueChars: 4 }))
    expect(out).toBe('orders/3@42  2023-11-14T22:13:20.000Z  key (no key)  (10 B)\n  abcd\n   … truncated: 10 B in all; -f json prints it whole \n\n')
  })

  it('a small value is not truncated; JSON is pretty-printed; headers listed in order', () => {
    const out = stripVTControlCharacters(
      prettyRecord(
        record(utf8('order-1'), utf8('{"a":1}'), [
          { key: 'h', value: utf8('v') },
          { key: 'h', value: null },
          { key: 'b', value: Buffer.from([0, 0, 0, 3]) },
        ]),
      ),
    )
    expect(out).toBe('orders/3@42  2023-11-14T22:13:20.000Z  key order-1  (7 B)\n  h: v\n  h: (null)\n  b: base64:AAAAAw==\n  {\n    "a": 1\n  }\n\n')
  })

  it('a tombstone says so', () => {
    expect(stripVTControlCharacters(prettyRecord(record(utf8('k'), null)))).toBe('orders/3@42  2023-11-14T22:13:20.000Z  key k  (0 B)\n  (null: tombstone)\n\n')
  })
})

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [4300, '4.2 KB'],
    [5 * 1024 * 1024, '5.0 MB'],
  ])('%i → %s', (n, s) => {
    expect(formatBytes(n)).toBe(s)
  })
})

describe('rawRecord', () => {
  it('value bytes plus a newline; a tombstone is an empty line', () => {
    expect(rawRecord(record(null, Buffer.from([1, 2])))).toEqual(Buffer.from([1, 2, 0x0a]))
    expect(rawRecord(record(null, null))).toEqual(Buffer.from('\n'))
  })
})

describe('indentJsonText', () => {
  it('indents like JSON.stringify(…, 2) for ordinary JSON', async () => {
    const { indentJsonText } = await import('../../src/output/records.ts')
    const value = { a: [1, { b: 'x, y: {z}' }, []], c: {}, d: 'quote \" and \\\\ backslash', e: null, f: true }
    expect(indentJsonText(JSON.stringify(value))).toBe(JSON.stringify(value, null, 2))
  })
  it('keeps numbers, duplicate keys and order exactly as written', async () => {
    const { indentJsonText } = await import('../../src/output/records.ts')
    expect(indentJsonText('{"n":123456789012345678901234567890,"x":1e400,"z":-0,"k":1,"k":2}')).toBe('{\n  "n": 123456789012345678901234567890,\n  "x": 1e400,\n  "z": -0,\n  "k": 1,\n  "k": 2\n}')
    expect(indentJsonText(' [ 1 ,\n 2 ] ')).toBe('[\n  1,\n  2\n]')
  })
})

describe('a record without a timestamp (-1)', () => {
  const untimed = decodeRecord({ topic: 'orders', partition: 3, offset: '42', timestamp: -1, key: utf8('k'), value: utf8('v'), headers: [] })

  it('pretty output and %D say "no timestamp"; JSON and %T keep -1', () => {
    expect(stripVTControlCharacters(prettyRecord(untimed)).split('\n')[0]).toBe('orders/3@42  no timestamp  key k  (1 B)')
    expect(compileTemplate('%T|%D')(untimed)).toBe('-1|no timestamp')
    expect(jsonLine(untimed)).toBe('{"topic":"orders","partition":3,"offset":42,"timestamp":-1,"key":"k","keyEncoding":"text","value":"v","valueEncoding":"text","headers":[]}\n')
  })
})

describe('plural', () => {
  it('is singular for exactly one', async () => {
    const { plural } = await import('../../src/output/plural.ts')
    expect([plural(0, 'record'), plural(1, 'record'), plural(2, 'partition'), plural(1, 'DLQ offset')]).toEqual(['0 records', '1 record', '2 partitions', '1 DLQ offset'])
  })
})
