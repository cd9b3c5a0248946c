/**
 * State of the `evt outbox tail` live view, as a pure reducer: the newest rows with where each
 * stands (waiting for the relay, late, on Kafka), counters, and the relay lag of what landed.
 */
import type { OutboxRow, RecordPosition } from '../../outbox/compare.ts'
import type { OutboxTailEvent } from '../../services/outbox-tail.ts'

/** One row on screen. */
export interface OutboxViewRow {
  row: OutboxRow
  status: 'waiting' | 'late' | 'published'
  at?: RecordPosition
  lagMs?: number
  /** It was reported late before it landed. */
  wasLate?: boolean
}

export interface OutboxTailState {
  title: string
  /** Newest last, at most `capacity`. */
  rows: OutboxViewRow[]
  capacity: number
  published: number
  /** Rows reported late and not on Kafka yet. */
  late: number
  unknown: number
  /** The latest records of unknown origin (newest last, at most 5). */
  unknownAt: Array<{ at: RecordPosition; eventId?: string }>
  /** Lags of the last 1000 rows that landed, ms. */
  lags: number[]
  ended: boolean
  exit?: 'quit' | 'interrupt'
}

export type OutboxTailAction =
  | { type: 'events'; events: OutboxTailEvent[] }
  | { type: 'key'; input: string; key: { ctrl?: boolean } }
  | { type: 'end' }

/** A fresh state: nothing seen yet. */
export function initialOutboxTailState(init: { title: string; capacity?: number }): OutboxTailState {
  return { title: init.title, rows: [], capacity: init.capacity ?? 200, published: 0, late: 0, unknown: 0, unknownAt: [], lags: [], ended: false }
}

/** Applies one action; returns a new state (the input is not changed). */
export function outboxTailReducer(state: OutboxTailState, action: OutboxTailAction): OutboxTailState {
  switch (action.type) {
    case 'key':
      if (action.input === 'q') return { ...state, exit: 'quit' }
      if (action.key.ctrl && action.input === 'c') return { ...state, exit: 'interrupt' }
      return state
    case 'end':
      return { ...state, ended: true }
    case 'events': {
      const rows = [...state.rows]
      let { published, late, unknown } = state
      const unknownAt = [...state.unknownAt]
      const lags = [...state.lags]
      const index = new Map(rows.map((r, i) => [r.row.id, i]))
      for (const e of action.events) {
        if (e.kind === 'unknown') {
          unknown++
          unknownAt.push({ at: e.at, eventId: e.eventId })
          if (unknownAt.length > 5) unknownAt.shift()
          continue
        }
        const i = index.get(e.row.id)
        if (e.kind === 'written') {
          if (i === undefined) {
            index.set(e.row.id, rows.length)
            rows.push({ row: e.row, status: 'waiting' })
          }
          continue
        }
        if (e.kind === 'late') {
          late++
          const next: OutboxViewRow = { row: e.row, status: 'late' }
          if (i === undefined) {
            index.set(e.row.id, rows.length)
            rows.push(next)
          } else rows[i] = next
          continue
        }
        published++
        if (e.wasLate) late = Math.max(0, late - 1)
        lags.push(e.lagMs)
        if (lags.length > 1000) lags.shift()
        const next: OutboxViewRow = { row: e.row, status: 'published', at: e.at, lagMs: e.lagMs, wasLate: e.wasLate }
        if (i === undefined) {
          index.set(e.row.id, rows.length)
          rows.push(next)
        } else rows[i] = next
      }
      const kept = rows.length > state.capacity ? rows.slice(rows.length - state.capacity) : rows
      return { ...state, rows: kept, published, late, unknown, unknownAt, lags }
    }
  }
}

/** p50 and max of the lags seen, ms; undefined before the first row landed. */
export function lagSummary(state: OutboxTailState): { p50: number; max: number } | undefined {
  if (state.lags.length === 0) return undefined
  const sorted = [...state.lags].sort((a, b) => a - b)
  return { p50: sorted[Math.ceil(sorted.length / 2) - 1]!, max: sorted[sorted.length - 1]! }
}
