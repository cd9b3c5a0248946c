import { render } from 'ink-testing-library'
import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { TraceResult } from '../../src/services/trace.ts'
import { buildGraph, type TraceRecord } from '../../src/trace/graph.ts'
import { initialTraceFollowState, traceFollowReducer } from '../../src/ui/state/trace-follow-state.ts'
import { TraceFollowView } from '../../src/ui/trace-follow.tsx'

function result(types: string[]): TraceResult {
  const records: TraceRecord[] = types.map((t, i) => ({ topic: 'orders.events', partition: 0, offset: String(i), timestamp: 1000 + i, key: 'o1', headers: [], meta: { conventions: ['seed'], eventId: `e${i}`, causationId: i ? `e${i - 1}` : undefined, eventType: t, correlationId: 'req_1', source: 'order-service' }, preview: '' }))
  return { id: 'req_1', window: { since: 0, until: null }, topics: ['orders.events'], scanned: 10, bytes: 100, records, graph: buildGraph(records), consumption: new Map(), live: true }
}

describe('trace --follow view', () => {
  it('counts records that arrive after the initial scan, and ends', () => {
    let s = traceFollowReducer(initialTraceFollowState, { type: 'update', result: result(['OrderPlaced']) })
    expect([s.initial, s.arrived, s.ended]).toEqual([1, 0, false])
    s = traceFollowReducer(s, { type: 'update', result: result(['OrderPlaced', 'PaymentCaptured', 'OrderConfirmed']) })
    expect(s.arrived).toBe(2)
    s = traceFollowReducer(s, { type: 'end' })
    expect(s.ended).toBe(true)
  })

  it('renders the tree and the status line', () => {
    const state = traceFollowReducer(traceFollowReducer(initialTraceFollowState, { type: 'update', result: result(['OrderPlaced']) }), { type: 'update', result: result(['OrderPlaced', 'PaymentCaptured']) })
    const { lastFrame } = render(<TraceFollowView state={state} />)
    const frame = stripVTControlCharacters(lastFrame() ?? '')
    expect(frame).toContain('trace req_1')
    expect(frame).toContain('OrderPlaced  order-service  orders.events/0@0')
    expect(frame).toContain('└─ PaymentCaptured')
    expect(frame).toContain('following new records of this request… 1 new · q to stop')
  })
})
