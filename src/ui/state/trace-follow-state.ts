/**
 * State of the `trace --follow` live view: the latest trace result, how many records arrived
 * since the view started, whether it ended, and where the view is scrolled. A pure reducer,
 * tested without rendering.
 *
 * Scrolling: `tail` (the default) keeps the last lines in view as new records arrive; moving up
 * (↑, PgUp, Home) pins the view at `top` (first visible line, 0-based) until the user comes back
 * to the bottom (↓/PgDn to the end, or End), which follows the tail again.
 */
import type { TraceResult } from '../../services/trace.ts'

export interface TraceFollowState {
  result: TraceResult | null
  /** Records found when the view started (after the initial scan). */
  initial: number
  /** Records that arrived while following. */
  arrived: number
  ended: boolean
  /** First visible line while not following the tail. */
  top: number
  /** Follow the tail: show the last lines, also after new records arrive. */
  tail: boolean
}

/** A scroll step: lines (negative = up), a page up/down, the first line, the end (follow the tail). */
export type ScrollStep = { lines: number } | 'page-up' | 'page-down' | 'home' | 'end'

export type TraceFollowAction =
  | { type: 'update'; result: TraceResult }
  | { type: 'end' }
  /** `total`: lines of content; `height`: lines the content area shows. */
  | { type: 'scroll'; step: ScrollStep; total: number; height: number }

export const initialTraceFollowState: TraceFollowState = { result: null, initial: 0, arrived: 0, ended: false, top: 0, tail: true }

/** The first visible line for `total` lines of content in a `height`-line area. */
export function visibleTop(state: Pick<TraceFollowState, 'top' | 'tail'>, total: number, height: number): number {
  const max = Math.max(0, total - Math.max(1, height))
  return state.tail ? max : Math.min(Math.max(0, state.top), max)
}

export function traceFollowReducer(state: TraceFollowState, action: TraceFollowAction): TraceFollowState {
  switch (action.type) {
    case 'update': {
      const count = action.result.records.length
      if (state.result === null) return { ...state, result: action.result, initial: count, arrived: 0 }
      return { ...state, result: action.result, arrived: Math.max(0, count - state.initial) }
    }
    case 'end':
      return { ...state, ended: true }
    case 'scroll': {
      const height = Math.max(1, action.height)
      const max = Math.max(0, action.total - height)
      const from = visibleTop(state, action.total, height)
      const step = action.step
      if (step === 'end') return { ...state, top: max, tail: true }
      if (step === 'home') return { ...state, top: 0, tail: max === 0 }
      const by = step === 'page-up' ? -(height - 1 || 1) : step === 'page-down' ? height - 1 || 1 : step.lines
      const top = Math.min(max, Math.max(0, from + by))
      return { ...state, top, tail: top >= max }
    }
  }
}
