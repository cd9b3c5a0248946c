import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import { EvtError } from '../../src/errors.ts'
import { celContext, combineFilters, compileCel, headerMatch, keyGlob, type RecordFilter } from '../../src/filter.ts'
import type { DecodedRecord, RecordHeader } from '../../src/record.ts'

const utf8 = (s: string) => Buffer.from(s, 'utf8')

function record(key: Buffer | null, value: Buffer | null, headers: RecordHeader[] = [], partition = 2, offset = '42'): DecodedRecord {
  return decodeRecord({ topic: 'orders', partition, offset, timestamp: 1_700_000_000_000, key, value, headers })
}

const order = record(utf8('order-17'), utf8('{"event_type":"OrderPlaced","amount":12.5,"count":3,"customer":{"tier":"gold"},"tags":["a","b"]}'), [
  { key: 'ce_source', value: utf8('/orders/eu') },
  { key: 'retry', value: utf8('1') },
  { key: 'retry', value: utf8('2') },
  { key: 'bin', value: Buffer.from([0, 0, 0, 3]) },
  { key: 'nil', value: null },
])

function errorOf(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    return err as EvtError
  }
  throw new Error('expected an EvtError, nothing was thrown')
}

describe('celContext', () => {
  it('exposes the documented variables; last duplicate header wins; binary as base64', () => {
    expect(celContext(order)).toEqual({
      topic: 'orders',
      partition: 2,
      offset: 42,
      timestamp: 1_700_000_000_000,
      key: 'order-17',
      value: { event_type: 'OrderPlaced', amount: 12.5, count: 3, customer: { tier: 'gold' }, tags: ['a', 'b'] },
      headers: { ce_source: '/orders/eu', retry: '2', bin: 'AAAAAw==', nil: null },
    })
  })

  it('null key and tombstone are null; binary value is base64', () => {
    expect(celContext(record(null, null))).toMatchObject({ key: null, value: null })
    expect(celContext(record(null, Buffer.from([0xff, 0x01]))).value).toBe('/wE=')
  })
})

describe('compileCel', () => {
  it.each<[string, boolean]>([
    ['value.event_type == "OrderPlaced"', true],
    ['value.event_type == "OrderShipped"', false],
    ['value.amount > 12.0', true],
    ['value.count == 3', true],
    ['value.count > 3', false],
    ['value.customer.tier == "gold"', true],
    ['"b" in value.tags', true],
    ['headers["ce_source"].startsWith("/orders")', true],
    ['headers["ce_source"].startsWith("/payments")', false],
    ['headers["retry"] == "2"', true],
    ['headers["retry"] == "1"', false],
    ['"nil" in headers', true],
    ['key == "order-17"', true],
    ['key.startsWith("order-")', true],
    ['key == "order-18"', false],
    ['partition == 2', true],
    ['partition == 3', false],
    ['offset == 42', true],
    ['offset >= 43', false],
    ['topic == "orders" && partition == 2 && offset > 40', true],
    ['timestamp >= 1700000000000', true],
  ])('%s → %s', (expression, expected) => {
    expect(compileCel(expression)(order)).toBe(expected)
  })

  it('a missing field or header is false, not a throw', () => {
    expect(compileCel('value.no_such_field == "x"')(order)).toBe(false)
    expect(compileCel('value.customer.no.deeper == 1')(order)).toBe(false)
    expect(compileCel('headers["absent"] == "x"')(order)).toBe(false)
    // and the negation of a missing field is also false (the record does not match)
    expect(compileCel('value.no_such_field != "x"')(order)).toBe(false)
  })

  it('a field access on a non-JSON value is false', () => {
    expect(compileCel('value.event_type == "OrderPlaced"')(record(null, utf8('plain text')))).toBe(false)
    expect(compileCel('value.event_type == "OrderPlaced"')(record(null, null))).toBe(false)
  })

  it('text values and null keys', () => {
    expect(compileCel('value == "plain text"')(record(null, utf8('plain text')))).toBe(true)
    expect(compileCel('key == null')(record(null, utf8('x')))).toBe(true)
    expect(compileCel('value == null')(record(utf8('k'), null))).toBe(true)
  })

  it('a non-boolean result is false', () => {
    expect(compileCel('value.count')(order)).toBe(false)
    expect(compileCel('"yes"')(order)).toBe(false)
  })

  it('evaluates each record on its own', () => {
    const f = compileCel('partition == 1')
    expect(f(record(null, null, [], 1))).toBe(true)
    expect(f(record(null, null, [], 0))).toBe(false)
  })

  it.each(['value.event_type ==', 'value.(x)', 'partition == 2 &&', '1 +'])('syntax error in %j → usage error with a caret under the position', (expression) => {
    const err = errorOf(() => compileCel(expression, '--where'))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message.startsWith('--where does not compile: ')).toBe(true)
    expect(err.message).toContain(expression)
    expect(err.message).toMatch(/\n\s*\^/)
    expect(err.hint).toContain('CEL syntax')
  })

  it('the caret points at the problem column', () => {
    const err = errorOf(() => compileCel('value.(x)'))
    const lines = err.message.split('\n')
    const sourceLine = lines.find((l) => l.includes('value.(x)'))!
    const caretLine = lines[lines.indexOf(sourceLine) + 1]
    expect(caretLine.indexOf('^') - sourceLine.indexOf('value.(x)')).toBe('value.'.length)
  })
})

describe('keyGlob', () => {
  it.each<[string, Buffer | null, boolean]>([
    ['order-*', utf8('order-17'), true],
    ['order-*', utf8('invoice-17'), false],
    ['order-1?', utf8('order-17'), true],
    ['order-1?', utf8('order-170'), false],
    ['order-[0-9]*', utf8('order-9x'), true],
    ['{order,invoice}-*', utf8('invoice-1'), true],
    ['*', utf8('.hidden'), true],
    ['*', null, false],
    ['42', utf8('42'), true],
    ['*:7}', utf8('{"id":7}'), true],
    ['/wE=', Buffer.from([0xff, 0x01]), true],
    // '/' is an ordinary character in a key, not a path separator
    ['*', Buffer.from([0xff, 0x01]), true],
    ['*', utf8('tenant/42/order/7'), true],
    ['tenant/*', utf8('tenant/42/order/7'), true],
    ['*/order/7', utf8('tenant/42/order/7'), true],
    ['tenant/?2', utf8('tenant/42'), true],
    ['tenant/*', utf8('tenants/42'), false],
  ])('%j against %s → %s', (glob, key, expected) => {
    expect(keyGlob(glob)(record(key, null))).toBe(expected)
  })
})

describe('headerMatch', () => {
  it('name=value: some header of that name has that value (duplicates searched)', () => {
    expect(headerMatch('retry=1')(order)).toBe(true)
    expect(headerMatch('retry=2')(order)).toBe(true)
    expect(headerMatch('retry=3')(order)).toBe(false)
    expect(headerMatch('ce_source=/orders/eu')(order)).toBe(true)
    expect(headerMatch('ce_source=/orders')(order)).toBe(false)
  })

  it('the value may contain =', () => {
    const r = record(null, null, [{ key: 'q', value: utf8('a=b') }])
    expect(headerMatch('q=a=b')(r)).toBe(true)
    expect(headerMatch('q=a')(r)).toBe(false)
  })

  it('name alone: presence, including a null-valued header', () => {
    expect(headerMatch('nil')(order)).toBe(true)
    expect(headerMatch('bin')(order)).toBe(true)
    expect(headerMatch('absent')(order)).toBe(false)
  })

  it('a null-valued header does not match name= (empty value)', () => {
    expect(headerMatch('nil=')(order)).toBe(false)
    expect(headerMatch('e=')(record(null, null, [{ key: 'e', value: Buffer.alloc(0) }]))).toBe(true)
  })

  it('names are case-sensitive', () => {
    expect(headerMatch('CE_SOURCE')(order)).toBe(false)
  })

  it.each(['', '=x'])('%j has no name → usage error', (spec) => {
    const err = errorOf(() => headerMatch(spec))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`--header "${spec}" has no header name`)
  })
})

describe('combineFilters', () => {
  const yes: RecordFilter = () => true
  const no: RecordFilter = () => false

  it('no filters → undefined', () => {
    expect(combineFilters([])).toBeUndefined()
  })

  it('one filter is returned as is', () => {
    expect(combineFilters([no])).toBe(no)
  })

  it('all must pass', () => {
    expect(combineFilters([yes, yes])!(order)).toBe(true)
    expect(combineFilters([yes, no])!(order)).toBe(false)
    expect(combineFilters([no, yes])!(order)).toBe(false)
  })

  it('combines real filters', () => {
    const f = combineFilters([keyGlob('order-*'), headerMatch('retry=2'), compileCel('value.count == 3')])!
    expect(f(order)).toBe(true)
    expect(f({ ...order, key: utf8('x'), keyDecoded: { kind: 'text', value: 'x', text: 'x' } as DecodedRecord['keyDecoded'] })).toBe(false)
  })
})
