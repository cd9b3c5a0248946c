import { stripVTControlCharacters } from 'node:util'
import { render } from 'ink-testing-library'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanup } from 'ink-testing-library'
import { decodeRecord } from '../../src/codec/decode.ts'
import type { DecodedRecord, RecordHeader } from '../../src/record.ts'
import { initialTailState, tailReducer, type TailAction, type TailViewState } from '../../src/ui/state/tail-state.ts'
import { KEY_HELP, TailView } from '../../src/ui/TailView.tsx'

function rec(partition: number, offset: number, value: string | null, headers: RecordHeader[] = [], key: string | null = `order-${offset}`): DecodedRecord {
  return decodeRecord({
    topic: 'orders.events',
    partition,
    offset: String(offset),
    timestamp: Date.UTC(2026, 10, 29, 14, 0, 0, offset),
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    headers,
  })
}

const placed = rec(0, 41, '{"event_type":"OrderPlaced","order_id":"o-41"}', [
  { key: 'ce_source', value: Buffer.from('/orders') },
  { key: 'trace', value: null },
  { key: 'bin', value: Buffer.from([0x00, 0x01, 0xff]) },
])
const shipped = rec(1, 7, '{"type":"OrderShipped"}')

const state = (...actions: TailAction[]) => actions.reduce(tailReducer, initialTailState({ topics: ['orders.events'] }))

function frame(s: TailViewState, height = 24): string {
  const { lastFrame } = render(<TailView state={s} height={height} />)
  return stripVTControlCharacters(lastFrame() ?? '')
}

afterEach(() => cleanup())

describe('TailView', () => {
  it('shows a record line: position, time, key, event type and a value preview; and the key help', () => {
    const text = frame(state({ type: 'records', records: [placed, shipped] }))
    expect(text).toContain('evt tail orders.events')
    expect(text).toContain('orders.events/0@41 14:00:00.041 order-41 OrderPlaced {"event_type":"OrderPlaced","order_id":"o-41"}')
    expect(text).toContain('orders.events/1@7 14:00:00.007 order-7 OrderShipped {"type":"OrderShipped"}')
    expect(text).toContain('2 records · 0 read')
    expect(text).toContain(KEY_HELP)
    expect(text).toContain('space pause · / filter · ↑↓ select · enter detail · q quit')
  })

  it('shows a rate line per partition with records/s and a sparkline', () => {
    const s = state(
      { type: 'records', records: [placed, rec(0, 42, '{}'), shipped] },
      { type: 'tick', seconds: 1 },
      { type: 'records', records: [rec(0, 43, '{}'), rec(0, 44, '{}'), rec(0, 45, '{}'), rec(0, 46, '{}')] },
      { type: 'tick', seconds: 1 },
    )
    const text = frame(s)
    expect(text).toMatch(/orders\.events\/0 +3\.0\/s ▆█ 6 in all/)
    expect(text).toMatch(/orders\.events\/1 +0\.5\/s █▅ 1 in all/)
    expect(text).toContain('3.5/s')
  })

  it('the detail pane lists every header (null and base64 shown) and the value pretty-printed', () => {
    const s = state({ type: 'records', records: [placed, shipped] }, { type: 'select-up' }, { type: 'select-up' }, { type: 'detail-open' })
    const text = frame(s)
    expect(text).toContain('orders.events/0@41 2026-11-29T14:00:00.041Z key order-41')
    expect(text).toContain('headers (3):')
    expect(text).toContain('  ce_source: /orders')
    expect(text).toContain('  trace: (null)')
    expect(text).toContain('  bin: base64:AAH/')
    expect(text).toContain('value (json):')
    expect(text).toContain('    "order_id": "o-41"')
    expect(text).toContain('↑↓ scroll · esc back · q quit')
    expect(text).not.toContain('OrderShipped')
  })

  it('a long value in the detail pane is cut to the height, with a scroll hint', () => {
    const big = rec(0, 1, JSON.stringify(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`field${i}`, i]))))
    const s = state({ type: 'records', records: [big] }, { type: 'detail-open' }, { type: 'detail-scroll', by: 5 })
    const text = frame(s, 20)
    expect(text.split('\n').length).toBeLessThanOrEqual(20)
    expect(text).toContain('5 lines above')
    expect(text).toContain('"field4": 4')
    expect(text).not.toContain('"field3": 3')
    expect(text).toMatch(/… \d+ more lines \(↑↓ scroll\)/)
  })

  it('shows the paused marker with the records that arrived since', () => {
    const s = state({ type: 'records', records: [placed] }, { type: 'pause' }, { type: 'records', records: [shipped, rec(0, 42, '{}')] })
    const text = frame(s)
    expect(text).toContain('PAUSED +2 new')
    expect(text).toContain('3 records')
    expect(text).not.toContain('orders.events/1@7')
  })

  it('shows a filter compile error under the prompt', () => {
    const s = state({ type: 'records', records: [placed] }, { type: 'filter-open' }, { type: 'filter-edit', draft: 'value.event_type ==' }, { type: 'filter-apply' })
    const text = frame(s)
    expect(text).toContain('filter (CEL): value.event_type ==')
    expect(text).toMatch(/filter does not compile: .+/)
    // the compiler's pointer at the position, on its own lines
    expect(text).toMatch(/\| value\.event_type ==\n +\^/)
    expect(text).toContain('enter apply · esc cancel')
  })

  it('shows the view filter in the status line, and says when nothing matches', () => {
    const s = state({ type: 'records', records: [placed] }, { type: 'filter-open' }, { type: 'filter-edit', draft: 'partition == 9' }, { type: 'filter-apply' })
    const text = frame(s)
    expect(text).toContain('no record matches the view filter')
    expect(text).toContain('view filter: partition == 9 (0 shown)')
  })

  it('a null key, a tombstone and a selected line', () => {
    const s = state({ type: 'records', records: [rec(2, 3, null, [], null)] }, { type: 'select-up' })
    expect(frame(s)).toContain('›orders.events/2@3 14:00:00.003 (no key) (tombstone)')
  })

  it('fits the list into the height, showing the newest records', () => {
    const many = Array.from({ length: 50 }, (_, i) => rec(0, i, `{"n":${i}}`))
    const text = frame(state({ type: 'records', records: many }), 15)
    expect(text.split('\n').length).toBeLessThanOrEqual(15)
    expect(text).toContain('orders.events/0@49')
    expect(text).not.toContain('orders.events/0@30 ')
  })

  it('once ended, drops the key help', () => {
    const text = frame(state({ type: 'records', records: [placed] }, { type: 'end' }))
    expect(text).toContain('· ended')
    expect(text).not.toContain(KEY_HELP)
  })
})
