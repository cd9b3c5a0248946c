import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import { isStrictBase64, parseHeaderFlag, parseJsonLine, rawMembers, splitLines, untilAborted } from '../../src/codec/input.ts'
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

describe('isStrictBase64: as Node and evt tail -f json write it', () => {
  it.each(['', 'eA==', 'eHk=', 'eHl6', '//4=', 'AAECAwQFBgc=', Buffer.from([0xfb, 0xff]).toString('base64')])('%j is valid', (s) => {
    expect(isStrictBase64(s)).toBe(true)
  })

  it.each([
    ['x', 'length not a multiple of 4'],
    ['!!!', 'not the alphabet'],
    ['!!!!', 'not the alphabet'],
    ['eA', 'unpadded'],
    ['eA=', 'short padding'],
    ['eA===', 'too much padding'],
    ['====', 'only padding'],
    ['e===', 'three padding characters'],
    ['eA==eA==', 'padding in the middle'],
    ['eB==', 'stray bits in the last group'],
    ['eHl6 ', 'trailing space'],
    ['eH\nl6', 'newline inside'],
    ['-_8=', 'url-safe alphabet'],
  ])('%j is rejected (%s)', (s) => {
    expect(isStrictBase64(s)).toBe(false)
  })
})

describe('parseJsonLine: strict checks', () => {
  it.each([
    ['{"value":"x","valueEncoding":"base64"}', 'value is not valid base64 (standard alphabet, padded with =)'],
    ['{"value":"!!!","valueEncoding":"base64"}', 'value is not valid base64 (standard alphabet, padded with =)'],
    ['{"value":"-_8=","valueEncoding":"base64"}', 'value is not valid base64 (standard alphabet, padded with =)'],
    ['{"key":"eA","keyEncoding":"base64"}', 'key is not valid base64 (standard alphabet, padded with =)'],
    ['{"value":12,"valueEncoding":"base64"}', 'value: base64 encoding needs a JSON string'],
    ['{"headers":[{"key":"h","value":"x","encoding":"base64"}]}', 'header "h" is not valid base64 (standard alphabet, padded with =)'],
    ['{"headers":[{"key":"h","value":"!!!","encoding":"base64"}]}', 'header "h" is not valid base64 (standard alphabet, padded with =)'],
    ['{"headers":[{"key":"h","value":7,"encoding":"base64"}]}', 'header "h": base64 encoding needs a JSON string'],
    ['{"headers":[{"key":"h","value":"x","encoding":"hex"}]}', 'header "h": encoding "hex" cannot be written back (use text, base64 or null)'],
    ['{"headers":[{"key":"h","value":"x","encoding":"json"}]}', 'header "h": encoding "json" cannot be written back (use text, base64 or null)'],
    ['{"headers":[{"key":"h","value":{"a":1}}]}', 'header "h": the value must be a string, number, boolean or null'],
    ['{"value":{"a":1},"valueEncoding":"text"}', 'valueEncoding "text" needs a JSON string as the value (use valueEncoding "json" for other JSON)'],
    ['{"value":12,"valueEncoding":"text"}', 'valueEncoding "text" needs a JSON string as the value (use valueEncoding "json" for other JSON)'],
    ['{"key":[1],"keyEncoding":"text"}', 'keyEncoding "text" needs a JSON string as the key (use keyEncoding "json" for other JSON)'],
  ])('%j → usage error naming the line', (line, reason) => {
    const err = errorOf(() => parseJsonLine(line, 5))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`--input json: line 5: ${reason}`)
  })

  it('valid base64 keys, values and headers decode to their bytes; null header values stay null', () => {
    const r = parseJsonLine('{"key":"//4=","keyEncoding":"base64","value":"","valueEncoding":"base64","headers":[{"key":"a","value":"AAE=","encoding":"base64"},{"key":"b","value":null,"encoding":"base64"},{"key":"c","value":null,"encoding":"null"},{"key":"d","value":"t","encoding":"text"}]}', 1)
    expect(r.key).toEqual(Buffer.from([0xff, 0xfe]))
    expect(r.value).toEqual(Buffer.alloc(0))
    expect(r.headers).toEqual([
      { key: 'a', value: Buffer.from([0, 1]) },
      { key: 'b', value: null },
      { key: 'c', value: null },
      { key: 'd', value: Buffer.from('t') },
    ])
  })

  it.each(['"abc"', '1.5', '-1', '1e3', '"1700000000000"', 'true', '99999999999999999999'])('timestamp %s with keepTimestamps → usage error naming the line', (ts) => {
    const err = errorOf(() => parseJsonLine(`{"value":"x","timestamp":${ts}}`, 8, { keepTimestamps: true }))
    expect(err.kind).toBe('usage')
    expect(err.message).toBe(`--input json: line 8: "timestamp" ${ts} is not an integer epoch-ms ≥ 0 (needed with --keep-timestamps)`)
  })

  it('timestamps: integers ≥ 0 are kept; without keepTimestamps a bad one is ignored (not written)', () => {
    expect(parseJsonLine('{"timestamp":0}', 1, { keepTimestamps: true }).timestamp).toBe(0)
    expect(parseJsonLine('{"timestamp":1700000000123}', 1, { keepTimestamps: true }).timestamp).toBe(1_700_000_000_123)
    expect(parseJsonLine('{"timestamp":null}', 1, { keepTimestamps: true }).timestamp).toBeUndefined()
    expect(parseJsonLine('{}', 1, { keepTimestamps: true }).timestamp).toBeUndefined()
    expect(() => parseJsonLine('{"timestamp":"abc"}', 1)).not.toThrow()
  })
})

/** A source whose chunks the test pushes one by one; `end()` ends it. */
function controlled(): { source: AsyncIterable<Buffer | string>; push: (c: Buffer | string) => void; end: () => void; reads: () => number } {
  const queue: Array<Buffer | string | null> = []
  let wake: (() => void) | undefined
  let reads = 0
  return {
    source: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          reads++
          while (!queue.length) await new Promise<void>((resolve) => (wake = resolve))
          const c = queue.shift()!
          if (c === null) return
          yield c
        }
      },
    },
    push: (c) => {
      queue.push(c)
      wake?.()
    },
    end: () => {
      queue.push(null)
      wake?.()
    },
    reads: () => reads,
  }
}

async function* chunksOf(...chunks: Array<Buffer | string>): AsyncGenerator<Buffer | string> {
  yield* chunks
}

async function linesOf(chunks: Array<Buffer | string>, stripCr = true): Promise<string[]> {
  const out: string[] = []
  for await (const line of splitLines(chunksOf(...chunks), { stripCr })) out.push(line.toString('utf8'))
  return out
}

describe('splitLines', () => {
  it('splits on \\n only: a lone \\r, U+2028, U+2029 and U+0085 stay inside the line', async () => {
    expect(await linesOf(['a\rb\nc\u2028d\ne\u2029f\ng\u0085h\n'])).toEqual(['a\rb', 'c\u2028d', 'e\u2029f', 'g\u0085h'])
  })

  it('strips one \\r before \\n (CRLF), only with stripCr', async () => {
    expect(await linesOf(['a\r\nb\r\r\nc\r'])).toEqual(['a', 'b\r', 'c'])
    expect(await linesOf(['a\r\nb'], false)).toEqual(['a\r', 'b'])
  })

  it('lines across chunk boundaries, CRLF and multi-byte characters cut between chunks', async () => {
    const bytes = Buffer.from('one\r\ntw\u2028o\nthree\r\n', 'utf8')
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(await linesOf([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['one', 'tw\u2028o', 'three'])
    }
    expect(await linesOf([...bytes].map((b) => Buffer.from([b])))).toEqual(['one', 'tw\u2028o', 'three'])
  })

  it('bytes as they are (no UTF-8 decoding)', async () => {
    const out: Buffer[] = []
    for await (const line of splitLines(chunksOf(Buffer.from([0xff, 0xfe, 0x0a, 0xc3, 0x0d, 0x0a])), { stripCr: true })) out.push(line)
    expect(out).toEqual([Buffer.from([0xff, 0xfe]), Buffer.from([0xc3])])
  })

  it('empty input: no lines; empty lines are lines; a last line without \\n counts', async () => {
    expect(await linesOf([])).toEqual([])
    expect(await linesOf([''])).toEqual([])
    expect(await linesOf(['\n\n'])).toEqual(['', ''])
    expect(await linesOf(['a\nb'])).toEqual(['a', 'b'])
    expect(await linesOf(['a\n'])).toEqual(['a'])
  })

  it('a long line over many chunks is one line', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const chunks = Array.from({ length: 48 }, () => chunk) // 3 MB
    const out: Buffer[] = []
    for await (const line of splitLines(chunksOf(...chunks, '\nshort\n'), { stripCr: true })) out.push(line)
    expect(out.map((l) => l.length)).toEqual([48 * 64 * 1024, 5])
    expect(out[0].every((b) => b === 0x78)).toBe(true)
  })

  it('streams: a line is given as soon as its \\n arrives, before the input ends', async () => {
    const src = controlled()
    const it = splitLines(src.source, { stripCr: true })[Symbol.asyncIterator]()
    src.push('first\nsec')
    expect((await it.next()).value?.toString()).toBe('first')
    const second = it.next()
    src.push('ond\r\n')
    expect((await second).value?.toString()).toBe('second')
    src.end()
    expect((await it.next()).done).toBe(true)
  })

  it('an abort ends it while a read waits, without the unfinished line', async () => {
    const src = controlled()
    const controller = new AbortController()
    const it = splitLines(src.source, { stripCr: true, signal: controller.signal })[Symbol.asyncIterator]()
    src.push('done\nunfinish')
    expect((await it.next()).value?.toString()).toBe('done')
    const next = it.next()
    controller.abort()
    expect(await next).toEqual({ done: true, value: undefined })
  })
})

describe('untilAborted', () => {
  it('passes chunks through and ends at the abort, even with a read pending', async () => {
    const src = controlled()
    const controller = new AbortController()
    const it = untilAborted(src.source, controller.signal)[Symbol.asyncIterator]()
    src.push('a')
    expect((await it.next()).value).toBe('a')
    const pending = it.next()
    setTimeout(() => controller.abort(), 10)
    expect((await pending).done).toBe(true)
  })

  it('an already aborted signal reads nothing', async () => {
    const src = controlled()
    src.push('a')
    const out: unknown[] = []
    for await (const c of untilAborted(src.source, AbortSignal.abort())) out.push(c)
    expect(out).toEqual([])
    expect(src.reads()).toBe(0)
  })
})
