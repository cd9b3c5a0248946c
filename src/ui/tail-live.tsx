/**
 * Runs the `evt tail` live view: {@link TailView} on the shared live-view runner (src/ui/live-view.tsx),
 * which pumps the record source into the reducer in batches (about 10 per second, never one render
 * per record); the rates tick every second; it ends when the source ends or the user presses q / Ctrl-C.
 *
 * Only for a terminal (the command decides: stdout and stdin TTYs, CI unset, no --no-ui/-f/--template).
 */
import type { DecodedRecord } from '../record.ts'
import type { TailStats } from '../services/tail.ts'
import { DEFAULT_CAPACITY, initialTailState, tailReducer, type ExitReason, type PartitionCount, type TailAction, type TailViewState } from './state/tail-state.ts'
import { TailView } from './TailView.tsx'
import { runLiveView, type LiveRunOptions } from './live-view.tsx'

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
  /** Mounts the view (default: Ink on the terminal); see src/ui/live-view.tsx. */
  mount?: LiveRunOptions<DecodedRecord[], TailViewState, TailAction>['mount']
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

/**
 * Shows the live view until `source` ends or the user leaves. On q / Ctrl-C it calls
 * `options.abort()` and waits for the source to wind down. A source error is rethrown after the
 * view is gone, for the command's one error path.
 */
export async function runTailLiveView(source: AsyncIterable<DecodedRecord[]>, options: TailLiveOptions): Promise<void> {
  const capacity = options.capacity ?? DEFAULT_CAPACITY
  const pending = new PendingRecords(capacity)
  let lastTick = performance.now()
  await runLiveView(source, {
    reducer: tailReducer,
    initial: () => initialTailState({ topics: options.topics, capacity }),
    view: (state, height) => <TailView state={state} height={height} />,
    add: (chunk) => pending.add(chunk),
    take: () => pending.take(options.stats),
    abort: options.abort,
    mount: options.mount,
    tick: {
      everyMs: TICK_MS,
      run: (dispatch) => {
        const now = performance.now()
        dispatch({ type: 'tick', seconds: (now - lastTick) / 1000, stats: { ...options.stats } })
        lastTick = now
      },
    },
  })
}
