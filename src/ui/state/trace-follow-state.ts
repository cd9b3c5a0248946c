/**
 * State of the `trace --follow` live view: the latest trace result, how many records arrived
 * since the view started, and whether it ended. A pure reducer, tested without rendering.
 */
import type { TraceResult } from '../../services/trace.ts'

export interface TraceFollowState {
  result: TraceResult | null
  /** Records found when the view started (after the initial scan). */
  initial: number
  /** Records that arrived while following. */
  arrived: number
  ended: boolean
}

export type TraceFollowAction = { type: 'update'; result: TraceResult } | { type: 'end' }

export const initialTraceFollowState: TraceFollowState = { result: null, initial: 0, arrived: 0, ended: false }

export function traceFollowReducer(state: TraceFollowState, action: TraceFollowAction): TraceFollowState {
  switch (action.type) {
    case 'update': {
      const count = action.result.records.length
      if (state.result === null) return { ...state, result: action.result, initial: count, arrived: 0 }
      return { ...state, result: action.result, arrived: Math.max(0, count - state.initial) }
    }
    case 'end':
      return { ...state, ended: true }
  }
}
