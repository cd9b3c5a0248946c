/**
 * The `trace --follow` live view (terminal only): the causal tree, redrawn as new records of the
 * request arrive, with a status line. It fits the terminal: each line is cut to the terminal's
 * width (…) instead of wrapping, and a tree taller than the terminal scrolls: ↑/↓ a line,
 * PgUp/PgDn a page, Home the top, End the bottom (where it follows new records again); q or
 * Ctrl-C stops following.
 */
import { Box, render, Text, useInput, useStdout } from 'ink'
import { useEffect, useReducer, useState } from 'react'
import { renderTree } from '../output/trace.ts'
import type { TraceResult } from '../services/trace.ts'
import { initialTraceFollowState, traceFollowReducer, visibleTop, type ScrollStep, type TraceFollowState } from './state/trace-follow-state.ts'

/** The lines the view scrolls over. */
export function traceFollowLines(state: TraceFollowState): string[] {
  return state.result ? renderTree(state.result).split('\n') : ['searching…']
}

/**
 * The view: the visible part of the tree, each line cut to `columns`, then a status line.
 * `rows` is the terminal's height (the tree gets `rows - 1` lines).
 */
export function TraceFollowView({ state, rows = 24, columns = 100 }: { state: TraceFollowState; rows?: number; columns?: number }) {
  const lines = traceFollowLines(state)
  const height = Math.max(1, rows - 1)
  const top = visibleTop(state, lines.length, height)
  const shown = lines.slice(top, top + height)
  const where = lines.length > height ? ` · lines ${top + 1}–${top + shown.length} of ${lines.length}${state.tail ? '' : ' · End to follow'} · ↑↓ PgUp PgDn Home End` : ''
  const status = state.ended ? `stopped following${where}` : `following new records of this request… ${state.arrived} new · q to stop${where}`
  return (
    <Box flexDirection="column" width={columns}>
      {shown.map((line, i) => (
        <Text key={top + i} wrap="truncate-end">
          {line === '' ? ' ' : line}
        </Text>
      ))}
      <Text dimColor wrap="truncate-end">
        {status}
      </Text>
    </Box>
  )
}

/** Subscribes the view to trace updates. */
export interface TraceFollowHandle {
  update(result: TraceResult): void
  /** Ends the view and waits until its last frame is drawn. */
  end(): Promise<void>
}

/** The key → scroll step mapping of the view (undefined: not a scroll key). */
export function scrollStep(input: string, key: { upArrow?: boolean; downArrow?: boolean; pageUp?: boolean; pageDown?: boolean; home?: boolean; end?: boolean }): ScrollStep | undefined {
  if (key.upArrow || input === 'k') return { lines: -1 }
  if (key.downArrow || input === 'j') return { lines: 1 }
  if (key.pageUp) return 'page-up'
  if (key.pageDown || input === ' ') return 'page-down'
  if (key.home || input === 'g') return 'home'
  if (key.end || input === 'G') return 'end'
  return undefined
}

/** The interactive view: keys scroll it, the terminal's size is followed. */
export function TraceFollowApp({ onReady, stop }: { onReady: (send: (a: Parameters<typeof traceFollowReducer>[1]) => void) => void; stop: (reason: 'quit' | 'interrupt') => void }) {
  const [state, send] = useReducer(traceFollowReducer, initialTraceFollowState)
  const stdout = useStdout().stdout as NodeJS.WriteStream
  const [size, setSize] = useState({ rows: stdout.rows || 24, columns: stdout.columns || 100 })
  useEffect(() => {
    onReady(send)
    const resize = () => setSize({ rows: stdout.rows || 24, columns: stdout.columns || 100 })
    stdout.on('resize', resize)
    return () => {
      stdout.off('resize', resize)
    }
  }, [])
  useInput((input, key) => {
    if (input === 'q') return stop('quit')
    if (key.ctrl && input === 'c') return stop('interrupt')
    const step = scrollStep(input, key)
    if (step) send({ type: 'scroll', step, total: traceFollowLines(state).length, height: Math.max(1, size.rows - 1) })
  })
  return <TraceFollowView state={state} rows={size.rows} columns={size.columns} />
}

/**
 * Mounts the view. `stop` is called when the user presses q or Ctrl-C.
 */
export function startTraceFollowView(stop: (reason: 'quit' | 'interrupt') => void): TraceFollowHandle {
  let dispatch: ((action: Parameters<typeof traceFollowReducer>[1]) => void) | undefined
  const queued: Array<Parameters<typeof traceFollowReducer>[1]> = []
  const onReady = (send: NonNullable<typeof dispatch>) => {
    dispatch = send
    for (const a of queued.splice(0)) send(a)
  }
  const app = render(<TraceFollowApp onReady={onReady} stop={stop} />, { exitOnCtrlC: false })
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
