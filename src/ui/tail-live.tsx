/**
 * Runs the `evt tail` live view: renders {@link TailView} with Ink, pumps the record source into
 * the reducer in batches (about 10 per second, never one render per record), ticks the rates every
 * second, and ends when the source ends or the user presses q / Ctrl-C.
 *
 * Only for a terminal (the command decides: stdout and stdin TTYs, CI unset, no --no-ui/-f/--template).
 */
import { render, useInput, useWindowSize } from 'ink'
import { useEffect, useReducer } from 'react'
import type { DecodedRecord } from '../record.ts'
import type { TailStats } from '../services/tail.ts'
import { DEFAULT_CAPACITY, initialTailState, tailReducer, type ExitReason, type PartitionCount, type TailAction } from './state/tail-state.ts'
import { TailView } from './TailView.tsx'

/** Milliseconds between batches handed to the reducer (≈ 10 fps). */
const FLUSH_MS = 100
/** Milliseconds between rate ticks. */
const TICK_MS = 1000

export interface TailLiveOptions {
  topics: string[]
  /** The tail's counters, updated by the source as it runs. */
  stats: TailStats
  /**
   * Stops the source; called when the user quits (`q`, reason 'quit') or presses Ctrl-C
   * ('interrupt'). The source should then end soon.
   */
  abort: (reason?: ExitReason) => void
  /** Records kept in the view (default 500). */
  capacity?: number
}

/**
 * Records received between two flushes: the newest `capacity` are kept, the older ones only
 * counted per partition, so a fast source cannot grow memory between renders.
 */
class PendingRecords {
  private records: DecodedRecord[] = []
  private overflow = new Map<string, PartitionCount>()
  private readonly capacity: number

  constructor(capacity: number) {
    this.capacity = capacity
  }

  add(chunk: DecodedRecord[]): void {
    for (const r of chunk) this.records.push(r)
    if (this.records.length > 2 * this.capacity) {
      const old = this.records.splice(0, this.records.length - this.capacity)
      for (const r of old) {
        const k = `${r.topic}\u0000${r.partition}`
        const c = this.overflow.get(k)
        if (c) c.count++
        else this.overflow.set(k, { topic: r.topic, partition: r.partition, count: 1 })
      }
    }
  }

  take(stats: TailStats): TailAction | undefined {
    if (this.records.length === 0 && this.overflow.size === 0) return undefined
    const action: TailAction = { type: 'records', records: this.records, overflow: [...this.overflow.values()], stats: { ...stats } }
    this.records = []
    this.overflow = new Map()
    return action
  }
}

interface LiveAppProps {
  topics: string[]
  capacity: number
  /** Hands the reducer's dispatch to the runner; returns the disconnect. */
  connect: (dispatch: (action: TailAction) => void) => () => void
  onExit: (reason: ExitReason) => void
  /** Called once the ended state is on screen. */
  onEnded: () => void
}

function LiveApp({ topics, capacity, connect, onExit, onEnded }: LiveAppProps) {
  const [state, dispatch] = useReducer(tailReducer, { topics, capacity }, initialTailState)
  const { rows } = useWindowSize()
  useEffect(() => connect(dispatch), [connect])
  // keys go through the reducer, which reads the state current at that key (not this render's)
  useInput((input, key) => dispatch({ type: 'key', input, key }))
  useEffect(() => {
    if (state.exit) onExit(state.exit)
  }, [state.exit, onExit])
  useEffect(() => {
    if (state.ended) onEnded()
  }, [state.ended, onEnded])
  return <TailView state={state} height={Math.max(8, (rows || 24) - 1)} />
}

/**
 * Shows the live view until `source` ends or the user leaves. On q / Ctrl-C it calls
 * `options.abort()` and waits for the source to wind down. A source error is rethrown after the
 * view is gone, for the command's one error path.
 */
export async function runTailLiveView(source: AsyncIterable<DecodedRecord[]>, options: TailLiveOptions): Promise<void> {
  const capacity = options.capacity ?? DEFAULT_CAPACITY
  const pending = new PendingRecords(capacity)
  let dispatch: ((action: TailAction) => void) | undefined
  const flush = () => {
    if (!dispatch) return
    const action = pending.take(options.stats)
    if (action) dispatch(action)
  }
  const connect = (d: (action: TailAction) => void) => {
    dispatch = d
    return () => {
      if (dispatch === d) dispatch = undefined
    }
  }

  let finish!: (how: { reason: ExitReason | 'end'; error?: unknown }) => void
  const finished = new Promise<{ reason: ExitReason | 'end'; error?: unknown }>((resolve) => {
    finish = resolve
  })
  const onExit = (reason: ExitReason) => finish({ reason })
  let onEnded = () => {}

  const instance = render(<LiveApp topics={options.topics} capacity={capacity} connect={connect} onExit={onExit} onEnded={() => onEnded()} />, { exitOnCtrlC: false, maxFps: 10, patchConsole: true })
  const flushTimer = setInterval(flush, FLUSH_MS)
  let lastTick = performance.now()
  const tickTimer = setInterval(() => {
    flush()
    const now = performance.now()
    dispatch?.({ type: 'tick', seconds: (now - lastTick) / 1000, stats: { ...options.stats } })
    lastTick = now
  }, TICK_MS)

  const pump = (async () => {
    try {
      for await (const chunk of source) pending.add(chunk)
      finish({ reason: 'end' })
    } catch (error) {
      finish({ reason: 'end', error })
    }
  })()

  const how = await finished
  clearInterval(flushTimer)
  clearInterval(tickTimer)
  if (how.reason !== 'end') options.abort(how.reason)
  flush()
  if (how.reason === 'end' && !how.error && dispatch) {
    // updates from outside React are committed asynchronously: let the final frame show first
    const shown = new Promise<void>((resolve) => {
      onEnded = resolve
    })
    dispatch({ type: 'end' })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([shown, new Promise((resolve) => (timer = setTimeout(resolve, 500)))])
    clearTimeout(timer)
  }
  if (how.error) instance.clear()
  instance.unmount()
  await instance.waitUntilExit().catch(() => {})
  // let the source close its connection (it sees the abort within one fetch wait)
  await pump
  if (how.error) throw how.error
}
