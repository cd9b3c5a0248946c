/**
 * Runs the `evt dlq inspect` browser: renders {@link DlqView} with Ink, pumps the DLQ records
 * into the reducer in batches (about 10 per second), and carries out what the state asks for:
 * a requeue plan when the confirmation opens, the requeue after `y`. The requeue itself is the
 * caller's (`planRequeue` / `onRequeue`, wired to the services by the command): no service call
 * here or in the components. Ends when the user presses q / Ctrl-C.
 *
 * Only for a terminal (the command decides: stdout and stdin TTYs, CI unset, no --json /
 * --group-by / --no-ui).
 */
import { render, useInput, useWindowSize } from 'ink'
import { useEffect, useReducer } from 'react'
import type { DlqGroupBy } from '../../dlq/group.ts'
import type { RequeueLedger } from '../../dlq/ledger.ts'
import type { MoveProgress, MoveSummary } from '../../replay/move.ts'
import type { DlqInspectStats, DlqRecord } from '../../services/dlq-inspect.ts'
import type { RequeuePlan } from '../../services/dlq-requeue.ts'
import { DEFAULT_CAPACITY, dlqReducer, groupKeys, initialDlqState, type DlqAction, type DlqBrowserState, type ExitReason, type MarkedRecord, type OverflowCount } from '../state/dlq-state.ts'
import { DlqView } from './DlqView.tsx'

/** Milliseconds between batches handed to the reducer (≈ 10 fps). */
const FLUSH_MS = 100
/** Milliseconds between two progress updates of a running requeue. */
const PROGRESS_MS = 200

export interface DlqBrowserOptions {
  topic: string
  /** The inspection's counters, updated by the source as it runs. */
  stats: DlqInspectStats
  /** Stops the source; called when the user quits (`q`: 'quit') or presses Ctrl-C ('interrupt'). */
  abort: (reason: ExitReason) => void
  /** Records kept in the view (default 5000); the rest are only counted. */
  capacity?: number
  /** The first grouping (default reason). */
  groupBy?: DlqGroupBy
  /** Whole stack traces in the detail pane from the start. */
  stackExpanded?: boolean
  /** Plans a requeue of exactly these records (sorted by partition and offset); writes nothing. */
  planRequeue: (marked: MarkedRecord[]) => Promise<RequeuePlan>
  /** Runs the requeue planned by `planRequeue` for the same records. */
  onRequeue: (marked: MarkedRecord[], plan: RequeuePlan, options: { signal: AbortSignal; onProgress: (progress: MoveProgress) => void }) => Promise<MoveSummary>
  /** Reads the DLQ's requeue ledger again (after a requeue), so the view shows what is requeued now. */
  readLedger?: () => Promise<RequeueLedger>
}

/**
 * Records received between two flushes: those that still fit the view's capacity are handed
 * over whole, the rest only as counts by group keys, so a fast source cannot grow memory.
 */
class PendingRecords {
  private records: DlqRecord[] = []
  private overflow = new Map<string, OverflowCount>()
  private handed = 0
  private readonly capacity: number

  constructor(capacity: number) {
    this.capacity = capacity
  }

  add(chunk: DlqRecord[]): void {
    for (const item of chunk) {
      if (this.handed + this.records.length < this.capacity) {
        this.records.push(item)
        continue
      }
      const keys = groupKeys(item)
      const k = JSON.stringify(keys)
      const c = this.overflow.get(k)
      if (c) c.count++
      else this.overflow.set(k, { keys, count: 1 })
    }
  }

  take(stats: DlqInspectStats): DlqAction | undefined {
    if (this.records.length === 0 && this.overflow.size === 0) return undefined
    const action: DlqAction = { type: 'records', records: this.records, overflow: [...this.overflow.values()], scanned: stats.scanned }
    this.handed += this.records.length
    this.records = []
    this.overflow = new Map()
    return action
  }
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]

interface BrowserAppProps {
  init: Parameters<typeof initialDlqState>[0]
  /** Hands the reducer's dispatch to the runner; returns the disconnect. */
  connect: (dispatch: (action: DlqAction) => void) => () => void
  /** Sees every state: starts what it asks for (plan, requeue) and leaves on `exit`. */
  onState: (state: DlqBrowserState) => void
}

function BrowserApp({ init, connect, onState }: BrowserAppProps) {
  const [state, dispatch] = useReducer(dlqReducer, init, initialDlqState)
  const { rows, columns } = useWindowSize()
  useEffect(() => connect(dispatch), [connect])
  // keys go through the reducer, which reads the state current at that key (not this render's)
  useInput((input, key) => dispatch({ type: 'key', input, key }))
  useEffect(() => onState(state), [state, onState])
  return <DlqView state={state} height={Math.max(10, (rows || 24) - 1)} width={Math.max(40, columns || 100)} />
}

/**
 * Shows the browser until the user leaves. On q / Ctrl-C it calls `options.abort()`, stops a
 * running requeue (its open transaction is aborted; running the same selection again resumes)
 * and waits for the source and any plan to wind down. A source error is rethrown after the view
 * is gone, for the command's one error path.
 */
export async function runDlqBrowser(source: AsyncIterable<DlqRecord[]>, options: DlqBrowserOptions): Promise<void> {
  const capacity = options.capacity ?? DEFAULT_CAPACITY
  const pending = new PendingRecords(capacity)
  let dispatch: ((action: DlqAction) => void) | undefined
  const send = (action: DlqAction) => dispatch?.(action)
  const flush = () => {
    const action = pending.take(options.stats)
    if (action) send(action)
    else send({ type: 'stats', scanned: options.stats.scanned })
  }
  const connect = (d: (action: DlqAction) => void) => {
    dispatch = d
    return () => {
      if (dispatch === d) dispatch = undefined
    }
  }

  let finish!: (how: { reason: ExitReason | 'error'; error?: unknown }) => void
  const finished = new Promise<{ reason: ExitReason | 'error'; error?: unknown }>((resolve) => {
    finish = resolve
  })

  // what the state asks for, started once per request number
  const started = new Set<string>()
  const inflight = new Set<Promise<unknown>>()
  const requeueControl = new AbortController()
  const track = (p: Promise<unknown>) => {
    inflight.add(p)
    void p.finally(() => inflight.delete(p))
  }
  const onState = (state: DlqBrowserState) => {
    if (state.exit) finish({ reason: state.exit })
    const c = state.confirm
    if (c?.phase === 'planning' && !started.has(`plan:${c.seq}`)) {
      started.add(`plan:${c.seq}`)
      track(options.planRequeue(c.marked).then(
        (plan) => send({ type: 'plan-ready', seq: c.seq, plan }),
        (error: unknown) => send({ type: 'plan-failed', seq: c.seq, error: errorText(error) }),
      ))
    }
    const q = state.requeue
    if (q?.phase === 'running' && !started.has(`run:${q.seq}`)) {
      started.add(`run:${q.seq}`)
      let last = 0
      const onProgress = (progress: MoveProgress) => {
        const now = Date.now()
        if (now - last < PROGRESS_MS) return
        last = now
        send({ type: 'requeue-progress', seq: q.seq, progress: { ...progress, skipped: { ...progress.skipped }, byTarget: { ...progress.byTarget } } })
      }
      track(options.onRequeue(q.marked, q.plan, { signal: requeueControl.signal, onProgress }).then(
        (summary) => {
          send({ type: 'requeue-done', seq: q.seq, summary })
          // the ledger is an annotation: when it cannot be read now, the records just show as before
          if (options.readLedger) track(options.readLedger().then((ledger) => send({ type: 'ledger', ledger }), () => {}))
        },
        (error: unknown) => send({ type: 'requeue-failed', seq: q.seq, error: errorText(error) }),
      ))
    }
  }

  const init = { topic: options.topic, capacity, groupBy: options.groupBy, stackExpanded: options.stackExpanded }
  const instance = render(<BrowserApp init={init} connect={connect} onState={onState} />, { exitOnCtrlC: false, maxFps: 10, patchConsole: true })
  const flushTimer = setInterval(flush, FLUSH_MS)

  const pump = (async () => {
    try {
      for await (const chunk of source) pending.add(chunk)
      flush()
      send({ type: 'end' })
    } catch (error) {
      finish({ reason: 'error', error })
    }
  })()

  const how = await finished
  clearInterval(flushTimer)
  if (how.reason !== 'error') options.abort(how.reason)
  requeueControl.abort()
  if (how.error) instance.clear()
  instance.unmount()
  await instance.waitUntilExit().catch(() => {})
  // let the source close its connection, and a running plan or requeue end (an aborted requeue aborts its transaction)
  await pump
  await Promise.allSettled([...inflight])
  if (how.error) throw how.error
}
