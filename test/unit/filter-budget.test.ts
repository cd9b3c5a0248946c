import { describe, expect, it } from 'vitest'
import { EvtError } from '../../src/errors.ts'
import { compileCel, FILTER_RECORD_BUDGET_MS } from '../../src/filter.ts'
import type { DecodedRecord } from '../../src/record.ts'

function record(value: unknown, offset = 7n): DecodedRecord {
  const bytes = Buffer.from(JSON.stringify(value))
  return {
    topic: 'orders.events',
    partition: 2,
    offset,
    timestamp: 1_700_000_000_000,
    key: null,
    value: bytes,
    headers: [],
    keyDecoded: { kind: 'null' },
    valueDecoded: { kind: 'json', value, text: bytes.toString() },
  } as unknown as DecodedRecord
}

describe('filter evaluation budget', () => {
  it('stops a filter whose nested macros run over the budget on one record, naming the record', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => i)
    const filter = compileCel('value.items.all(a, value.items.exists(b, b == a))')
    const started = performance.now()
    let error: unknown
    try {
      filter(record({ items }))
    } catch (err) {
      error = err
    }
    const took = performance.now() - started
    expect(error).toBeInstanceOf(EvtError)
    expect((error as EvtError).exitCode).toBe(2)
    expect((error as EvtError).message).toContain('--filter took more than 1 s on one record on orders.events/2@7')
    // the check runs each time an inner macro starts: the overrun is one inner pass, not minutes
    expect(took).toBeGreaterThanOrEqual(FILTER_RECORD_BUDGET_MS)
    expect(took).toBeLessThan(FILTER_RECORD_BUDGET_MS + 2000)
  })

  it('gives each record its own budget and leaves cheap macros alone', () => {
    const filter = compileCel('value.items.exists(a, a == 3) && value.items.map(x, x * 2.0).filter(y, y > 2.0).size() == 2')
    for (let i = 0; i < 1000; i++) expect(filter(record({ items: [1, 2, 3] }, BigInt(i)))).toBe(true)
    expect(filter(record({ items: [1, 2] }))).toBe(false)
  })

  it('checks macros inside macros over maps too', () => {
    const keys = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))
    const filter = compileCel('value.m.all(a, value.m.exists(b, b == a))')
    expect(() => filter(record({ m: keys }))).toThrow(/took more than 1 s/)
  })
})
