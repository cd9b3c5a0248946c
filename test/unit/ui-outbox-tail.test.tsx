import { render } from 'ink-testing-library'
import { describe, expect, it } from 'vitest'
import type { OutboxRow } from '../../src/outbox/compare.ts'
import { initialOutboxTailState, lagSummary, outboxTailReducer } from '../../src/ui/state/outbox-tail-state.ts'
import { OutboxTailView } from '../../src/ui/outbox-tail-live.tsx'

const T = Date.UTC(2026, 10, 30, 14, 0, 0)
const row = (id: string, aggregateId: string, writtenAt: number): OutboxRow => ({ id, aggregateType: 'customer', aggregateId, type: 'LoyaltyPointsEarned', writtenAt })
const at = (offset: number, timestamp: number) => ({ topic: 'outbox.event.customer', partition: 0, offset, timestamp })

describe('outbox tail live view state', () => {
  it('a row waits, goes late, then lands; counters and lag follow; unknown records are listed', () => {
    let s = initialOutboxTailState({ title: 'outbox → outbox.event.*' })
    s = outboxTailReducer(s, { type: 'events', events: [{ kind: 'written', row: row('a', 'c1', T) }, { kind: 'written', row: row('b', 'c2', T + 10) }] })
    expect(s.rows.map((r) => r.status)).toEqual(['waiting', 'waiting'])
    s = outboxTailReducer(s, { type: 'events', events: [{ kind: 'late', row: row('a', 'c1', T), ageMs: 31_000 }, { kind: 'published', row: row('b', 'c2', T + 10), at: at(0, T + 250), lagMs: 240, wasLate: false }] })
    expect(s.rows.map((r) => [r.row.id, r.status])).toEqual([['a', 'late'], ['b', 'published']])
    expect(s).toMatchObject({ published: 1, late: 1, unknown: 0 })
    s = outboxTailReducer(s, { type: 'events', events: [{ kind: 'published', row: row('a', 'c1', T), at: at(1, T + 40_000), lagMs: 40_000, wasLate: true }, { kind: 'unknown', at: at(2, T + 41_000) }] })
    expect(s).toMatchObject({ published: 2, late: 0, unknown: 1 })
    expect(s.rows[0]).toMatchObject({ status: 'published', wasLate: true, at: { offset: 1 } })
    expect(lagSummary(s)).toEqual({ p50: 240, max: 40_000 })
  })

  it('keeps the newest rows only, and q / Ctrl-C set the exit', () => {
    let s = initialOutboxTailState({ title: 't', capacity: 3 })
    s = outboxTailReducer(s, { type: 'events', events: ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ kind: 'written' as const, row: row(id, 'c', T + i) })) })
    expect(s.rows.map((r) => r.row.id)).toEqual(['c', 'd', 'e'])
    expect(outboxTailReducer(s, { type: 'key', input: 'q', key: {} }).exit).toBe('quit')
    expect(outboxTailReducer(s, { type: 'key', input: 'c', key: { ctrl: true } }).exit).toBe('interrupt')
    expect(outboxTailReducer(s, { type: 'key', input: 'x', key: {} }).exit).toBeUndefined()
  })
})

describe('outbox tail live view', () => {
  it('shows the counters, each row with its status or where it landed, and unknown records', () => {
    let s = initialOutboxTailState({ title: 'outbox → outbox.event.*' })
    s = outboxTailReducer(s, { type: 'events', events: [
      { kind: 'written', row: row('w', 'c3', T + 20) },
      { kind: 'late', row: row('l', 'c4', T + 30), ageMs: 31_000 },
      { kind: 'published', row: row('p', 'c5', T + 40), at: at(7, T + 1240), lagMs: 1200, wasLate: false },
      { kind: 'unknown', at: at(8, T + 2000), eventId: 'planted-1' },
    ] })
    const { lastFrame } = render(<OutboxTailView state={s} height={20} />)
    const frame = lastFrame()!
    expect(frame).toContain('evt outbox tail outbox → outbox.event.*')
    expect(frame).toContain('published 1 · waiting 1 · late 1 · unknown 1 · relay lag p50 1.2s max 1.2s')
    expect(frame).toMatch(/14:00:00\.020 {2}customer\/c3 {2}LoyaltyPointsEarned {2}waiting/)
    expect(frame).toMatch(/customer\/c4 {2}LoyaltyPointsEarned {2}LATE not on Kafka yet/)
    expect(frame).toMatch(/customer\/c5 {2}LoyaltyPointsEarned {2}→ outbox\.event\.customer\/0@7 \+1\.2s/)
    expect(frame).toContain('outbox.event.customer/0@8  event id planted-1')
    expect(frame).toContain('q quit')
  })
})
