import { describe, expect, it } from 'vitest'
import { searchNeedles } from '../../src/envelope/index.ts'
import { uuidBytes } from '../support/fixtures/envelope-record.ts'
import { springCorrelationHeader } from '../support/fixtures/plain-headers.ts'
import { TRACE_ID } from '../support/fixtures/trace-context.ts'

const hex = (bs: Buffer[]) => bs.map((b) => b.toString('hex'))

describe('searchNeedles', () => {
  it('a plain id: its UTF-8 bytes only', () => {
    expect(searchNeedles('req_7f3c9a')).toEqual([Buffer.from('req_7f3c9a')])
    expect(searchNeedles('Bestellung-ä')).toEqual([Buffer.from('Bestellung-ä', 'utf8')])
  })

  it('a UUID: its text and the 16 raw bytes Spring writes in kafka_correlationId', () => {
    const uuid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301'
    const needles = searchNeedles(uuid)
    expect(needles).toEqual([Buffer.from(uuid), uuidBytes(uuid)])
    const [, raw] = springCorrelationHeader(uuid)
    expect((raw as Buffer).indexOf(needles[1])).toBe(0)
  })

  it('an uppercase UUID also matches its lowercase text', () => {
    const upper = '3F2504E0-4F89-11D3-9A0C-0305E82C3301'
    expect(hex(searchNeedles(upper))).toEqual(hex([Buffer.from(upper), Buffer.from(upper.toLowerCase()), uuidBytes(upper.toLowerCase())]))
  })

  it('a 32-hex trace id: as given and lowercase (traceparent is lowercase)', () => {
    expect(searchNeedles(TRACE_ID)).toEqual([Buffer.from(TRACE_ID)])
    expect(searchNeedles(TRACE_ID.toUpperCase())).toEqual([Buffer.from(TRACE_ID.toUpperCase()), Buffer.from(TRACE_ID)])
    const traceparent = Buffer.from(`00-${TRACE_ID}-00f067aa0ba902b7-01`)
    expect(searchNeedles(TRACE_ID.toUpperCase()).some((n) => traceparent.includes(n))).toBe(true)
  })

  it('surrounding spaces are trimmed; an empty id has no needles (it would match everything)', () => {
    expect(searchNeedles('  req_1 ')).toEqual([Buffer.from('req_1')])
    expect(searchNeedles('')).toEqual([])
    expect(searchNeedles('   ')).toEqual([])
  })

  it('finds the id inside a Debezium double-encoded value', () => {
    const value = Buffer.from(JSON.stringify(JSON.stringify({ metadata: { correlation_id: 'req_7f3c9a' } })))
    expect(value.includes(searchNeedles('req_7f3c9a')[0])).toBe(true)
  })
})
