import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import type { DecodedRecord } from '../../src/record.ts'
import { eventType, keyPreview, sparkline, valueLines, valuePreview } from '../../src/ui/format.ts'
import { actionForKey, HISTORY_LENGTH, initialTailState, tailReducer, type TailAction, type TailViewState } from '../../src/ui/state/tail-state.ts'

function rec(partition: number, offset: number, value: unknown = { event_type: 'OrderPlaced', n: offset }, topic = 'orders'): DecodedRecord {
  return decodeRecord({
    topic,
    partition,
    offset: String(offset),
    timestamp: 1_700_000_000_000 + offset,
    key: Buffer.from(`k-${offset}`),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: [],
  })
}

const range = (from: number, to: number, partition = 0) => Array.from({ length: to - from }, (_, i) => rec(partition, from + i))
const run = (state: TailViewState, ...actions: TailAction[]) => actions.reduce(tailReducer, state)

describe('tail view state: records', () => {
  it('keeps only the last `capacity` records, however many arrive', () => {
    // Given a view keeping 5 records
    let state = initialTailState({ capacity: 5 })
    // When 3, then 4, then 12 records arrive
    state = run(state, { type: 'records', records: range(0, 3) }, { type: 'records', records: range(3, 7) }, { type: 'records', records: range(7, 19) })
    // Then the ring and the list hold the newest 5, and all 19 are counted
    expect(state.ring.map((r) => r.offset)).toEqual(['14', '15', '16', '17', '18'])
    expect(state.shown.map((r) => r.offset)).toEqual(['14', '15', '16', '17', '18'])
    expect(state.received).toBe(19)
    expect(state.partitions[0].total).toBe(19)
  })

  it('counts records left out of a batch (overflow) without keeping them', () => {
    const state = tailReducer(initialTailState({ capacity: 5 }), { type: 'records', records: range(0, 2), overflow: [{ topic: 'orders', partition: 0, count: 100 }, { topic: 'orders', partition: 3, count: 7 }] })
    expect(state.ring).toHaveLength(2)
    expect(state.received).toBe(109)
    expect(state.partitions.map((p) => [p.partition, p.total])).toEqual([[0, 102], [3, 7]])
  })

  it('keeps the tail counters given with a batch', () => {
    const state = tailReducer(initialTailState(), { type: 'records', records: range(0, 1), stats: { scanned: 10, matched: 1, bytes: 2048 } })
    expect(state.stats).toEqual({ scanned: 10, matched: 1, bytes: 2048 })
  })
})

describe('tail view state: rates', () => {
  it('records per second per partition over the last ticks, with a history for the sparkline', () => {
    let state = initialTailState()
    // 10 records on partition 0 and 2 on partition 1 in the first second
    state = run(state, { type: 'records', records: [...range(0, 10, 0), ...range(0, 2, 1)] }, { type: 'tick', seconds: 1 })
    expect(state.partitions.map((p) => [p.partition, p.rate])).toEqual([[0, 10], [1, 2]])
    expect(state.totalRate).toBe(12)
    // then 20 on partition 0 in a 2-second tick: (10 + 20) / 3 s
    state = run(state, { type: 'records', records: range(10, 30, 0) }, { type: 'tick', seconds: 2 })
    expect(state.partitions[0].rate).toBe(10)
    expect(state.partitions[1].rate).toBeCloseTo(2 / 3)
    expect(state.partitions[0].history).toEqual([10, 10])
    expect(state.partitions[0].sinceTick).toBe(0)
  })

  it('a quiet partition decays to 0 once its burst leaves the window; history stays bounded', () => {
    let state = run(initialTailState(), { type: 'records', records: range(0, 50) })
    for (let i = 0; i < HISTORY_LENGTH + 5; i++) state = tailReducer(state, { type: 'tick', seconds: 1 })
    expect(state.partitions[0].rate).toBe(0)
    expect(state.partitions[0].window).toHaveLength(5)
    expect(state.partitions[0].history).toHaveLength(HISTORY_LENGTH)
  })

  it('partitions are listed by topic, then partition', () => {
    const state = tailReducer(initialTailState(), { type: 'records', records: [rec(2, 0, 1, 'b'), rec(10, 0, 1, 'a'), rec(2, 0, 1, 'a')] })
    expect(state.partitions.map((p) => `${p.topic}/${p.partition}`)).toEqual(['a/2', 'a/10', 'b/2'])
  })
})

describe('tail view state: pause', () => {
  it('while paused, records are counted and rated but the list is frozen; resume shows the newest', () => {
    let state = run(initialTailState({ capacity: 10 }), { type: 'records', records: range(0, 3) }, { type: 'pause' })
    state = run(state, { type: 'records', records: range(3, 8) }, { type: 'records', records: range(8, 9) }, { type: 'tick', seconds: 1 })
    expect(state.paused).toBe(true)
    expect(state.shown.map((r) => r.offset)).toEqual(['0', '1', '2'])
    expect(state.newWhilePaused).toBe(6)
    expect(state.received).toBe(9)
    expect(state.partitions[0].rate).toBe(9)
    state = tailReducer(state, { type: 'toggle-pause' })
    expect(state.paused).toBe(false)
    expect(state.newWhilePaused).toBe(0)
    expect(state.shown).toHaveLength(9)
  })

  it('keeps the selected record selected across resume', () => {
    let state = run(initialTailState({ capacity: 10 }), { type: 'records', records: range(0, 5) }, { type: 'pause' }, { type: 'select-up' }, { type: 'select-up' })
    expect(state.shown[state.selected!].offset).toBe('3')
    state = run(state, { type: 'records', records: range(5, 12) }, { type: 'resume' })
    expect(state.shown[state.selected!].offset).toBe('3')
  })
})

describe('tail view state: filter', () => {
  const mixed = [rec(0, 0, { event_type: 'OrderPlaced' }), rec(0, 1, { event_type: 'OrderShipped' }), rec(0, 2, { event_type: 'OrderPlaced' })]

  it('applies a CEL filter to the shown list and to later records', () => {
    let state = run(initialTailState(), { type: 'records', records: mixed }, { type: 'filter-open' }, { type: 'filter-edit', draft: 'value.event_type == "OrderPlaced"' }, { type: 'filter-apply' })
    expect(state.prompt).toBeUndefined()
    expect(state.filter?.expression).toBe('value.event_type == "OrderPlaced"')
    expect(state.shown.map((r) => r.offset)).toEqual(['0', '2'])
    state = tailReducer(state, { type: 'records', records: [rec(0, 3, { event_type: 'OrderShipped' }), rec(0, 4, { event_type: 'OrderPlaced' })] })
    expect(state.shown.map((r) => r.offset)).toEqual(['0', '2', '4'])
    expect(state.received).toBe(5)
    // an empty expression clears the filter
    state = run(state, { type: 'filter-open' }, { type: 'filter-edit', draft: '  ' }, { type: 'filter-apply' })
    expect(state.filter).toBeUndefined()
    expect(state.shown).toHaveLength(5)
  })

  it('a compile error is kept in state (prompt stays open), not thrown; the old filter stays', () => {
    let state = run(initialTailState(), { type: 'records', records: mixed }, { type: 'filter-open' }, { type: 'filter-edit', draft: 'partition == 0' }, { type: 'filter-apply' })
    state = run(state, { type: 'filter-open' }, { type: 'filter-edit', draft: 'value.event_type == ' })
    expect(() => tailReducer(state, { type: 'filter-apply' })).not.toThrow()
    state = tailReducer(state, { type: 'filter-apply' })
    expect(state.prompt?.error).toMatch(/^filter does not compile: /)
    expect(state.prompt?.draft).toBe('value.event_type == ')
    expect(state.filter?.expression).toBe('partition == 0')
    // editing clears the error; cancel closes the prompt
    expect(tailReducer(state, { type: 'filter-edit', draft: 'x' }).prompt?.error).toBeUndefined()
    expect(tailReducer(state, { type: 'filter-cancel' }).prompt).toBeUndefined()
  })

  it('filtering while paused filters the frozen list', () => {
    let state = run(initialTailState(), { type: 'records', records: mixed }, { type: 'pause' }, { type: 'records', records: [rec(0, 3, { event_type: 'OrderPlaced' })] })
    state = run(state, { type: 'filter-open' }, { type: 'filter-edit', draft: 'value.event_type == "OrderPlaced"' }, { type: 'filter-apply' })
    expect(state.shown.map((r) => r.offset)).toEqual(['0', '2'])
  })
})

describe('tail view state: selection and detail', () => {
  it('selection stays within the list', () => {
    let state = initialTailState()
    expect(tailReducer(state, { type: 'select-up' }).selected).toBeUndefined()
    state = tailReducer(state, { type: 'records', records: range(0, 3) })
    state = tailReducer(state, { type: 'select-up' })
    expect(state.selected).toBe(2)
    state = run(state, { type: 'select-up' }, { type: 'select-up' }, { type: 'select-up' }, { type: 'select-up', by: 10 })
    expect(state.selected).toBe(0)
    state = run(state, { type: 'select-down', by: 10 }, { type: 'select-down' })
    expect(state.selected).toBe(2)
    expect(tailReducer(state, { type: 'select-none' }).selected).toBeUndefined()
  })

  it('the selection follows its record as old records leave the ring, and is dropped with it', () => {
    let state = run(initialTailState({ capacity: 4 }), { type: 'records', records: range(0, 4) }, { type: 'select-up' }, { type: 'select-up' })
    expect(state.shown[state.selected!].offset).toBe('2')
    state = tailReducer(state, { type: 'records', records: range(4, 6) })
    expect(state.shown[state.selected!].offset).toBe('2')
    state = tailReducer(state, { type: 'records', records: range(6, 8) })
    expect(state.selected).toBeUndefined()
  })

  it('detail opens on the selected record (else the newest), scrolls within its value, closes', () => {
    let state = tailReducer(initialTailState(), { type: 'detail-open' })
    expect(state.detail).toBeUndefined()
    state = run(state, { type: 'records', records: [rec(0, 0, { a: 1, b: [1, 2] }), rec(0, 1)] }, { type: 'select-up' }, { type: 'select-up' }, { type: 'detail-open' })
    expect(state.detail?.record.offset).toBe('0')
    expect(state.detail?.lines).toBe(valueLines(state.detail!.record).length)
    state = run(state, { type: 'detail-scroll', by: 100 })
    expect(state.detail?.scroll).toBe(state.detail!.lines - 1)
    state = run(state, { type: 'detail-scroll', by: -100 })
    expect(state.detail?.scroll).toBe(0)
    // new records do not move the open detail
    state = tailReducer(state, { type: 'records', records: range(2, 5) })
    expect(state.detail?.record.offset).toBe('0')
    expect(tailReducer(state, { type: 'detail-close' }).detail).toBeUndefined()
  })
})

describe('tail view state: keys', () => {
  const withRecords = tailReducer(initialTailState(), { type: 'records', records: range(0, 3) })

  it('maps the list keys', () => {
    expect(actionForKey(withRecords, ' ', {})).toEqual({ type: 'toggle-pause' })
    expect(actionForKey(withRecords, '/', {})).toEqual({ type: 'filter-open' })
    expect(actionForKey(withRecords, '', { upArrow: true })).toEqual({ type: 'select-up' })
    expect(actionForKey(withRecords, '', { downArrow: true })).toEqual({ type: 'select-down' })
    expect(actionForKey(withRecords, '', { return: true })).toEqual({ type: 'detail-open' })
    expect(actionForKey(withRecords, 'q', {})).toEqual({ type: 'exit', reason: 'quit' })
    expect(actionForKey(withRecords, 'c', { ctrl: true })).toEqual({ type: 'exit', reason: 'interrupt' })
    expect(actionForKey(withRecords, ' ', { ctrl: true })).toBeUndefined()
  })

  it('in the prompt, keys edit the expression; q is a letter, Ctrl-C still leaves', () => {
    let state = tailReducer(withRecords, { type: 'key', input: '/', key: {} })
    for (const ch of 'q == 1') state = tailReducer(state, { type: 'key', input: ch, key: {} })
    expect(state.prompt?.draft).toBe('q == 1')
    expect(state.exit).toBeUndefined()
    state = tailReducer(state, { type: 'key', input: '', key: { backspace: true } })
    expect(state.prompt?.draft).toBe('q == ')
    expect(tailReducer(state, { type: 'key', input: 'c', key: { ctrl: true } }).exit).toBe('interrupt')
    expect(tailReducer(state, { type: 'key', input: '', key: { escape: true } }).prompt).toBeUndefined()
  })

  it('text typed ahead with Enter in one chunk edits, then applies', () => {
    let state = tailReducer(withRecords, { type: 'key', input: '/', key: {} })
    state = tailReducer(state, { type: 'key', input: 'partition == 1\r', key: {} })
    expect(state.prompt).toBeUndefined()
    expect(state.filter?.expression).toBe('partition == 1')
    state = run(state, { type: 'key', input: '/', key: {} }, { type: 'key', input: '', key: { ctrl: true } }, { type: 'key', input: 'u', key: { ctrl: true } }, { type: 'key', input: 'offset ==\r', key: {} })
    expect(state.prompt?.draft).toBe('offset ==')
    expect(state.prompt?.error).toContain('does not compile')
  })

  it('the first exit reason wins', () => {
    const state = run(withRecords, { type: 'key', input: 'q', key: {} }, { type: 'key', input: 'c', key: { ctrl: true } })
    expect(state.exit).toBe('quit')
  })
})

describe('tail view format helpers', () => {
  it('previews keys, event types and values on one line', () => {
    const r = rec(0, 7, '{\n  "type": "Shipped",\n  "id": 1\n}')
    expect(keyPreview(r)).toBe('k-7')
    expect(eventType(r)).toBe('Shipped')
    expect(valuePreview(r)).toBe('{ "type": "Shipped", "id": 1 }')
    expect(eventType(rec(0, 1, { event_type: 'A', type: 'B' }))).toBe('A')
    expect(eventType(rec(0, 1, 'plain text'))).toBeUndefined()
    expect(valuePreview(rec(0, 1, null))).toBe('(tombstone)')
    expect(keyPreview(decodeRecord({ topic: 't', partition: 0, offset: '0', timestamp: 0, key: null, value: null, headers: [] }))).toBe('(no key)')
  })

  it('sparkline scales to the maximum; zero is the lowest bar', () => {
    expect(sparkline([0, 1, 2, 4])).toBe('▁▄▅█')
    expect(sparkline([0, 0])).toBe('▁▁')
    expect(sparkline([])).toBe('')
  })
})
