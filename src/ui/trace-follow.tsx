/**
 * The `trace --follow` live view (terminal only): the causal tree, redrawn as new records of the
 * request arrive, with a status line; q or Ctrl-C stops following.
 */
import { Box, render, Text, useInput } from 'ink'
import { useEffect, useReducer } from 'react'
import { renderTree } from '../output/trace.ts'
import type { TraceResult } from '../services/trace.ts'
import { initialTraceFollowState, traceFollowReducer, type TraceFollowState } from './state/trace-follow-state.ts'

/** The view: the tree as trace renders it, then a status line. */
export function TraceFollowView({ state }: { state: TraceFollowState }) {
  const status = state.ended ? 'stopped following' : `following new records of this request… ${state.arrived} new · q to stop`
  return (
    <Box flexDirection="column">
      <Text>{state.result ? renderTree(state.result) : 'searching…'}</Text>
      <Text dimColor>{status}</Text>
    </Box>
  )
}

/** Subscribes the view to trace updates. */
export interface TraceFollowHandle {
  update(result: TraceResult): void
  /** Ends the view and waits until its last frame is drawn. */
  end(): Promise<void>
}

/**
 * Mounts the view. `stop` is called when the user presses q or Ctrl-C.
 */
export function startTraceFollowView(stop: (reason: 'quit' | 'interrupt') => void): TraceFollowHandle {
  let dispatch: ((action: Parameters<typeof traceFollowReducer>[1]) => void) | undefined
  const queued: Array<Parameters<typeof traceFollowReducer>[1]> = []
  function App() {
    const [state, send] = useReducer(traceFollowReducer, initialTraceFollowState)
    useEffect(() => {
      dispatch = send
      for (const a of queued.splice(0)) send(a)
    }, [])
    useInput((input, key) => {
      if (input === 'q') stop('quit')
      else if (key.ctrl && input === 'c') stop('interrupt')
    })
    return <TraceFollowView state={state} />
  }
  const app = render(<App />, { exitOnCtrlC: false })
  const send = (a: Parameters<typeof traceFollowReducer>[1]) => (dispatch ? dispatch(a) : queued.push(a))
  return {
    update: (result) => send({ type: 'update', result }),
    end: async () => {
      send({ type: 'end' })
      await new Promise((r) => setTimeout(r, 100))
      app.unmount()
      await app.waitUntilExit().catch(() => {})
    },
  }
}
