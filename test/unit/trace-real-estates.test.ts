import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import { createTypeFallback, valuePreview } from '../../src/envelope/index.ts'
import type { RawRecord } from '../../src/record.ts'
import { orderViolation } from '../../src/trace/expect.ts'
import { buildGraph, causalOrder, type TraceRecord } from '../../src/trace/graph.ts'
import { formatAge, markStalls } from '../../src/trace/stall.ts'

const raw = (value: string | null, headers: Array<[string, string]> = []): RawRecord => ({ topic: 't', partition: 0, offset: '0', timestamp: 0, key: null, value: value === null ? null : Buffer.from(value), headers: headers.map(([key, v]) => ({ key, value: Buffer.from(v) })) })

describe('event type fallback', () => {
  const typeOf = createTypeFallback()
  it('takes headers first, in the documented order, then value fields', () => {
    expect(typeOf(decodeRecord(raw('{"type":"B"}', [['type', 'A'], ['__TypeId__', 'com.x.Spring']])))).toEqual({ type: 'com.x.Spring', from: 'header __TypeId__' })
    expect(typeOf(decodeRecord(raw('{"type":"B"}', [['Content-Type', 'application/json; type="OrderPlaced"; charset=utf-8']])))).toEqual({ type: 'OrderPlaced', from: 'header content-type' })
    expect(typeOf(decodeRecord(raw('{"type":"B"}', [['content-type', 'application/json']])))).toEqual({ type: 'B', from: 'value.type' })
    expect(typeOf(decodeRecord(raw('{"@type":"C","name":"D"}')))).toEqual({ type: 'C', from: 'value.@type' })
    expect(typeOf(decodeRecord(raw('{"name":{"first":"x"},"type":"multi\\nline"}')))).toBeUndefined()
    expect(typeOf(decodeRecord(raw('not json')))).toBeUndefined()
  })
  it('follows the profile lists instead of the defaults', () => {
    const custom = createTypeFallback({ typeHeaders: ['x-kind'], typePaths: ['meta.kind'] })
    expect(custom(decodeRecord(raw('{"type":"B","meta":{"kind":"K"}}', [['__TypeId__', 'S']])))).toEqual({ type: 'K', from: 'value.meta.kind' })
    expect(custom(decodeRecord(raw('{}', [['X-Kind', 'H']])))).toEqual({ type: 'H', from: 'header x-kind' })
  })
  it('previews a value on one line, at most 60 characters', () => {
    expect(valuePreview(decodeRecord(raw('{\n  "a": 1,\n  "b": "' + 'x'.repeat(80) + '"\n}')))).toBe(`{ "a": 1, "b": "${'x'.repeat(43)}…`)
    expect(valuePreview(decodeRecord(raw(null)))).toBe('(tombstone)')
  })
})

function rec(offset: number, timestamp: number, extra: Partial<TraceRecord['meta']> = {}, live = false): TraceRecord {
  return { topic: 't', partition: 0, offset: String(offset), timestamp, key: null, headers: [], meta: { conventions: [], ...extra }, preview: '', live }
}

describe('causal order and --expect-order', () => {
  const records = [rec(0, 1000, { spanId: 'a', eventType: 'A' }), rec(1, 750, { spanId: 'b', parentSpanId: 'a', eventType: 'B' }), rec(2, 1040, { spanId: 'c', parentSpanId: 'a', eventType: 'C' })]
  it('never puts a child above its parent', () => {
    expect(causalOrder(buildGraph(records)).map((x) => [x.node.id, x.at, x.skewMs])).toEqual([
      ['t/0@0', 1000, 0],
      ['t/0@1', 1000, 250],
      ['t/0@2', 1040, 0],
    ])
  })
  it('is decided when a listed type came later, or is missing before a type of the initial scan; not for a live record', () => {
    expect(orderViolation(records, ['A', 'B', 'C'])).toBeUndefined()
    expect(orderViolation(records, ['C', 'B'])).toMatchObject({ late: 'C', before: 'B', seen: [{ type: 'B' }, { type: 'C' }] })
    expect(orderViolation(records, ['X', 'A'])).toMatchObject({ late: 'X', before: 'A', seen: [{ type: 'A' }] })
    expect(orderViolation([rec(0, 1, { eventType: 'A' }, true)], ['X', 'A'])).toBeUndefined()
  })
})

describe('stalled requests', () => {
  it('formats ages', () => {
    expect([formatAge(999), formatAge(61_000), formatAge(3_600_000), formatAge(90_061_000)]).toEqual(['0 s', '1 min 1 s', '1 h', '1 d 1 h'])
  })
  it('flags a pending group past the threshold, and a consumed last record with nothing after it', () => {
    const records = [rec(0, 0, { eventId: 'e1', eventType: 'A' }), rec(1, 1000, { eventId: 'e2', causationId: 'e1', eventType: 'B' })]
    const pending = new Map([['t/0@0', [{ group: 'g', status: 'consumed' as const, lag: 0 }]], ['t/0@1', [{ group: 'g', status: 'consumed' as const, lag: 0 }, { group: 'h', status: 'pending' as const, lag: 3 }]]])
    const g1 = buildGraph(records)
    expect(markStalls(g1, pending, 1000 + 301_000, 300_000).map((a) => a.message)).toEqual(['B (t/0@1) not consumed by h (lag 3) for 5 min 1 s'])
    const consumed = new Map([['t/0@1', [{ group: 'g', status: 'consumed' as const, lag: 0 }]]])
    const g2 = buildGraph(records)
    expect(markStalls(g2, consumed, 1000 + 299_000, 300_000)).toEqual([])
    expect(markStalls(g2, consumed, 1000 + 301_000, 300_000).map((a) => a.message)).toEqual(['request stalled after B (t/0@1): consumed by g, and nothing followed for 5 min 1 s'])
    expect(g2.nodes.get('t/0@1')!.anomalies).toEqual(['stalled'])
    // a last record no group reads ends the flow
    expect(markStalls(buildGraph(records), new Map(), 10_000_000, 300_000)).toEqual([])
  })
})
