import { render } from 'ink-testing-library'
import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { TraceResult } from '../../src/services/trace.ts'
import { buildGraph, type TraceRecord } from '../../src/trace/graph.ts'
import { initialTraceFollowState, traceFollowReducer } from '../../src/ui/state/trace-follow-state.ts'
import { TraceFollowApp, TraceFollowView } from '../../src/ui/trace-follow.tsx'

function result(types: string[], flat = false): TraceResult {
  const records: TraceRecord[] = types.map((t, i) => ({ topic: 'orders.events', partition: 0, offset: String(i), timestamp: 1000 + i, key: 'o1', headers: [], meta: { conventions: ['seed'], eventId: `e${i}`, causationId: i ? `e${flat ? 0 : i - 1}` : undefined, eventType: t, correlationId: 'req_1', source: 'order-service' }, preview: '' }))
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

  // a chain of n records: the tree has 2 header lines, a blank line and one line per record
  const chain = (n: number) => result(Array.from({ length: n }, (_, i) => `Step${String(i).padStart(2, '0')}Happened`))
  const frameOf = (f: string | undefined) => stripVTControlCharacters(f ?? '').split('\n')

  it('shows the last lines of a tall tree (follow-tail), and scrolls with ↑/↓, PgUp/PgDn, Home/End', () => {
    let s = traceFollowReducer(initialTraceFollowState, { type: 'update', result: chain(20) })
    const total = 23 // 2 header lines, a blank line, 20 records
    const view = (st: typeof s) => frameOf(render(<TraceFollowView state={st} rows={8} columns={120} />).lastFrame())
    let f = view(s)
    expect(f).toHaveLength(8)
    expect(f[0]).toContain('Step13Happened') // lines 17–23: the last 7 of 23
    expect(f[6]).toContain('Step19Happened')
    expect(f[7]).toContain('lines 17–23 of 23')
    s = traceFollowReducer(s, { type: 'scroll', step: { lines: -1 }, total, height: 7 })
    f = view(s)
    expect([s.tail, s.top]).toEqual([false, 15])
    expect(f[0]).toContain('Step12Happened')
    expect(f[7]).toContain('lines 16–22 of 23 · End to follow')
    // new records while scrolled up: the view stays where the user put it
    s = traceFollowReducer(s, { type: 'update', result: chain(22) })
    expect(view(s)[0]).toContain('Step12Happened')
    s = traceFollowReducer(s, { type: 'scroll', step: 'page-up', total: 25, height: 7 })
    expect(s.top).toBe(9)
    s = traceFollowReducer(s, { type: 'scroll', step: 'home', total: 25, height: 7 })
    f = view(s)
    expect(f[0]).toContain('trace req_1')
    expect(f[7]).toContain('lines 1–7 of 25')
    s = traceFollowReducer(s, { type: 'scroll', step: { lines: -3 }, total: 25, height: 7 })
    expect(s.top).toBe(0)
    s = traceFollowReducer(s, { type: 'scroll', step: 'page-down', total: 25, height: 7 })
    expect([s.top, s.tail]).toEqual([6, false])
    // ↓ to the bottom follows the tail again: the next record shows up
    for (let i = 0; i < 20; i++) s = traceFollowReducer(s, { type: 'scroll', step: { lines: 1 }, total: 25, height: 7 })
    expect([s.top, s.tail]).toEqual([18, true])
    s = traceFollowReducer(s, { type: 'update', result: chain(23) })
    expect(view(s)[6]).toContain('Step22Happened')
    s = traceFollowReducer(s, { type: 'scroll', step: 'home', total: 26, height: 7 })
    s = traceFollowReducer(s, { type: 'scroll', step: 'end', total: 26, height: 7 })
    expect(view(s)[6]).toContain('Step22Happened')
  })

  it('cuts lines to the terminal width instead of wrapping them', () => {
    const s = traceFollowReducer(initialTraceFollowState, { type: 'update', result: chain(3) })
    const f = frameOf(render(<TraceFollowView state={s} rows={20} columns={90} />).lastFrame())
    // 2 header lines, a blank line, 3 records, the status line: nothing wrapped onto extra lines
    expect(f).toHaveLength(7)
    for (const line of f) expect(line.length).toBeLessThanOrEqual(90)
    expect(f[0]).toBe('trace req_1')
    expect(f[1]).toMatch(/^searched 1 topic \(orders\.events\) from .*…$/)
    expect(f[1]).toHaveLength(90)
    expect(f[4]).toMatch(/^└─ Step01Happened  order-service  orders\.events\/0@1/)
    expect(f[5]).toMatch(/^   └─ Step02Happened  order-service  orders\.events\/0@2/)
  })

  it('scrolls with the keys', async () => {
    let send: ((a: Parameters<typeof traceFollowReducer>[1]) => void) | undefined
    const app = render(<TraceFollowApp onReady={(s) => (send = s)} stop={() => {}} />)
    await new Promise((r) => setTimeout(r, 20))
    send!({ type: 'update', result: result(Array.from({ length: 40 }, (_, i) => `Step${String(i).padStart(2, '0')}Happened`), true) })
    await new Promise((r) => setTimeout(r, 20))
    const tick = () => new Promise((r) => setTimeout(r, 20))
    // ink-testing-library's terminal: 100 columns; rows unknown → 24 (23 lines of tree)
    expect(frameOf(app.lastFrame()).at(-1)).toContain('lines 21–43 of 43')
    app.stdin.write('\u001b[A') // ↑
    await tick()
    expect(frameOf(app.lastFrame()).at(-1)).toContain('lines 20–42 of 43 · End to follow')
    app.stdin.write('\u001b[5~') // PgUp
    await tick()
    expect(frameOf(app.lastFrame()).at(-1)).toContain('lines 1–23 of 43')
    expect(frameOf(app.lastFrame())[0]).toBe('trace req_1')
    app.stdin.write('\u001b[B') // ↓
    await tick()
    expect(frameOf(app.lastFrame()).at(-1)).toContain('lines 2–24 of 43')
    app.stdin.write('\u001b[F') // End: follow the tail again
    await tick()
    const last = frameOf(app.lastFrame())
    expect(last.at(-1)).toContain('lines 21–43 of 43 · ↑↓')
    expect(last.at(-2)).toContain('Step39Happened')
    app.unmount()
  })
})
