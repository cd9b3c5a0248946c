/**
 * State of the `evt tail` live view: a pure reducer over discriminated-union actions, tested
 * without rendering. The runner (src/ui/tail-live.tsx) feeds it batches of records and a tick
 * every second; the keyboard reaches it as `key` actions, mapped by {@link actionForKey}.
 *
 * - The last `capacity` records are kept (a bounded ring, replaced not grown), so memory stays
 *   flat however long the tail runs.
 * - Paused: records are still counted (totals, rates, "new while paused"), the list is frozen.
 * - The view's own CEL filter applies to the shown list; a compile error is kept and shown.
 */
import { compileCel, type RecordFilter } from '../../filter.ts'
import type { DecodedRecord } from '../../record.ts'
import type { TailStats } from '../../services/tail.ts'
import { valueLines } from '../format.ts'

/** Records kept by default. */
export const DEFAULT_CAPACITY = 500
/** Ticks averaged for a rate (one tick ≈ one second). */
export const RATE_WINDOW = 5
/** Rates kept per partition for its sparkline. */
export const HISTORY_LENGTH = 20

/** Arrivals and rates of one partition. */
export interface PartitionRate {
  topic: string
  partition: number
  /** Records received in all. */
  total: number
  /** Records received since the last tick. */
  sinceTick: number
  /** The last ticks, oldest first: records and seconds of each. */
  window: Array<{ count: number; seconds: number }>
  /** Records per second over `window`. */
  rate: number
  /** The last rates, oldest first, for a sparkline. */
  history: number[]
}

/** The view's own filter, applied to the shown list. */
export interface ViewFilter {
  expression: string
  predicate: RecordFilter
}

/** The open filter prompt. */
export interface FilterPrompt {
  draft: string
  /** Why the last apply failed (the CEL compiler's message, with the position). */
  error?: string
}

/** The open detail pane. */
export interface DetailPane {
  record: DecodedRecord
  /** First value line shown. */
  scroll: number
  /** Lines of the pretty-printed value (the bound of `scroll`). */
  lines: number
}

/** Why the view ends. */
export type ExitReason = 'quit' | 'interrupt'

export interface TailViewState {
  topics: string[]
  capacity: number
  /** The last `capacity` records received, oldest first. */
  ring: DecodedRecord[]
  /** The ring as it was when paused; undefined while running. */
  frozen?: DecodedRecord[]
  /** What the list shows: the ring (or `frozen`) through the view filter, oldest first, at most `capacity`. */
  shown: DecodedRecord[]
  /** Records received by the view in all, including those never kept. */
  received: number
  paused: boolean
  /** Records received since the pause. */
  newWhilePaused: number
  /** Per partition, ordered by topic then partition. */
  partitions: PartitionRate[]
  /** All partitions' records per second. */
  totalRate: number
  /** The tail's counters (read, matched, bytes), as last reported. */
  stats: TailStats
  filter?: ViewFilter
  prompt?: FilterPrompt
  /** Index into `shown`; undefined = none (the list follows the newest records). */
  selected?: number
  detail?: DetailPane
  /** The source ended (range done, -n reached, or aborted). */
  ended: boolean
  /** Set when the user asked to leave; the runner acts on it. */
  exit?: ExitReason
}

/** The keys the view reacts to; ink's `Key` fits. */
export interface KeyInfo {
  upArrow?: boolean
  downArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  return?: boolean
  escape?: boolean
  ctrl?: boolean
  meta?: boolean
  backspace?: boolean
  delete?: boolean
  tab?: boolean
}

/** How many records of one partition arrived but were left out of a batch (memory bound). */
export interface PartitionCount {
  topic: string
  partition: number
  count: number
}

export type TailAction =
  | { type: 'records'; records: DecodedRecord[]; overflow?: PartitionCount[]; stats?: TailStats }
  | { type: 'tick'; seconds: number; stats?: TailStats }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'toggle-pause' }
  | { type: 'filter-open' }
  | { type: 'filter-edit'; draft: string }
  | { type: 'filter-apply' }
  | { type: 'filter-cancel' }
  | { type: 'select-up'; by?: number }
  | { type: 'select-down'; by?: number }
  | { type: 'select-none' }
  | { type: 'detail-open' }
  | { type: 'detail-close' }
  | { type: 'detail-scroll'; by: number }
  | { type: 'end' }
  | { type: 'exit'; reason: ExitReason }
  | { type: 'key'; input: string; key: KeyInfo }

export function initialTailState(options: { topics?: string[]; capacity?: number } = {}): TailViewState {
  return {
    topics: options.topics ?? [],
    capacity: Math.max(1, options.capacity ?? DEFAULT_CAPACITY),
    ring: [],
    shown: [],
    received: 0,
    paused: false,
    newWhilePaused: 0,
    partitions: [],
    totalRate: 0,
    stats: { scanned: 0, matched: 0, bytes: 0 },
    ended: false,
  }
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

function countArrivals(partitions: PartitionRate[], records: DecodedRecord[], overflow: PartitionCount[] = []): PartitionRate[] {
  const counts = new Map<string, PartitionCount>()
  const add = (topic: string, partition: number, n: number) => {
    const k = partitionKey(topic, partition)
    const c = counts.get(k)
    if (c) c.count += n
    else counts.set(k, { topic, partition, count: n })
  }
  for (const r of records) add(r.topic, r.partition, 1)
  for (const o of overflow) add(o.topic, o.partition, o.count)
  if (counts.size === 0) return partitions
  const next = partitions.map((p) => {
    const c = counts.get(partitionKey(p.topic, p.partition))
    if (!c) return p
    counts.delete(partitionKey(p.topic, p.partition))
    return { ...p, total: p.total + c.count, sinceTick: p.sinceTick + c.count }
  })
  if (counts.size === 0) return next
  for (const c of counts.values()) next.push({ topic: c.topic, partition: c.partition, total: c.count, sinceTick: c.count, window: [], rate: 0, history: [] })
  return next.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
}

function tickPartition(p: PartitionRate, seconds: number): PartitionRate {
  const window = [...p.window, { count: p.sinceTick, seconds }].slice(-RATE_WINDOW)
  let count = 0
  let secs = 0
  for (const w of window) {
    count += w.count
    secs += w.seconds
  }
  const rate = secs > 0 ? count / secs : 0
  return { ...p, sinceTick: 0, window, rate, history: [...p.history, rate].slice(-HISTORY_LENGTH) }
}

const applyFilter = (records: DecodedRecord[], filter: ViewFilter | undefined) => (filter ? records.filter(filter.predicate) : records)

/** The index in `next` of the record selected in `prev`, or undefined when it is gone. */
function reselect(prev: DecodedRecord[], selected: number | undefined, next: DecodedRecord[]): number | undefined {
  if (selected === undefined) return undefined
  const record = prev[selected]
  const i = record ? next.indexOf(record) : -1
  return i === -1 ? undefined : i
}

/** Replaces the shown list, keeping the selected record selected when it is still there. */
function withShown(state: TailViewState, shown: DecodedRecord[]): TailViewState {
  return { ...state, shown, selected: reselect(state.shown, state.selected, shown) }
}

function onRecords(state: TailViewState, action: Extract<TailAction, { type: 'records' }>): TailViewState {
  const { records } = action
  const overflowCount = (action.overflow ?? []).reduce((n, o) => n + o.count, 0)
  const arrived = records.length + overflowCount
  const ring = records.length >= state.capacity ? records.slice(-state.capacity) : [...state.ring, ...records].slice(-state.capacity)
  const next: TailViewState = {
    ...state,
    ring,
    received: state.received + arrived,
    partitions: countArrivals(state.partitions, records, action.overflow),
    stats: action.stats ? { ...action.stats } : state.stats,
  }
  if (state.paused) return { ...next, newWhilePaused: state.newWhilePaused + arrived }
  const added = applyFilter(records, state.filter)
  if (added.length === 0) return next
  const joined = state.shown.length + added.length
  const shown = joined <= state.capacity ? [...state.shown, ...added] : [...state.shown, ...added].slice(-state.capacity)
  const dropped = joined - shown.length
  let selected = state.selected
  if (selected !== undefined) selected = selected - dropped < 0 ? undefined : selected - dropped
  return { ...next, shown, selected }
}

function select(state: TailViewState, delta: number): TailViewState {
  const n = state.shown.length
  if (n === 0) return { ...state, selected: undefined }
  // from no selection, ↑ picks the newest record; ↓ stays at the newest
  const from = state.selected ?? n
  const selected = Math.min(n - 1, Math.max(0, from + delta))
  return { ...state, selected }
}

/**
 * The action a key press stands for in this state, or undefined when the key means nothing
 * here. Ctrl-C and `q` ask to leave (`exit`); in the filter prompt, keys edit the expression.
 */
export function actionForKey(state: TailViewState, input: string, key: KeyInfo): TailAction | undefined {
  if (key.ctrl && input === 'c') return { type: 'exit', reason: 'interrupt' }
  if (state.prompt) {
    if (key.escape) return { type: 'filter-cancel' }
    if (key.return) return { type: 'filter-apply' }
    if (key.backspace || key.delete) return { type: 'filter-edit', draft: state.prompt.draft.slice(0, -1) }
    if (key.ctrl && input === 'u') return { type: 'filter-edit', draft: '' }
    if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || !input) return undefined
    return { type: 'filter-edit', draft: state.prompt.draft + input }
  }
  // no other Ctrl/Meta combinations (a NUL byte, say, reads as Ctrl-space)
  if (key.ctrl || key.meta) return undefined
  if (input === 'q') return { type: 'exit', reason: 'quit' }
  if (state.detail) {
    if (key.escape || key.return) return { type: 'detail-close' }
    if (key.upArrow) return { type: 'detail-scroll', by: -1 }
    if (key.downArrow) return { type: 'detail-scroll', by: 1 }
    if (key.pageUp) return { type: 'detail-scroll', by: -10 }
    if (key.pageDown) return { type: 'detail-scroll', by: 10 }
    return undefined
  }
  if (input === ' ') return { type: 'toggle-pause' }
  if (input === '/') return { type: 'filter-open' }
  if (key.upArrow) return { type: 'select-up' }
  if (key.downArrow) return { type: 'select-down' }
  if (key.pageUp) return { type: 'select-up', by: 10 }
  if (key.pageDown) return { type: 'select-down', by: 10 }
  if (key.return) return { type: 'detail-open' }
  if (key.escape) return { type: 'select-none' }
  return undefined
}

export function tailReducer(state: TailViewState, action: TailAction): TailViewState {
  switch (action.type) {
    case 'records':
      return onRecords(state, action)
    case 'tick': {
      const seconds = action.seconds > 0 ? action.seconds : 1
      const partitions = state.partitions.map((p) => tickPartition(p, seconds))
      return { ...state, partitions, totalRate: partitions.reduce((sum, p) => sum + p.rate, 0), stats: action.stats ? { ...action.stats } : state.stats }
    }
    case 'pause':
      if (state.paused) return state
      return { ...state, paused: true, frozen: state.ring, newWhilePaused: 0 }
    case 'resume':
      if (!state.paused) return state
      return withShown({ ...state, paused: false, frozen: undefined, newWhilePaused: 0 }, applyFilter(state.ring, state.filter))
    case 'toggle-pause':
      return tailReducer(state, { type: state.paused ? 'resume' : 'pause' })
    case 'filter-open':
      return { ...state, prompt: { draft: state.filter?.expression ?? '' } }
    case 'filter-edit':
      if (!state.prompt) return state
      return { ...state, prompt: { draft: action.draft } }
    case 'filter-cancel':
      return { ...state, prompt: undefined }
    case 'filter-apply': {
      if (!state.prompt) return state
      const expression = state.prompt.draft.trim()
      let filter: ViewFilter | undefined
      if (expression) {
        try {
          filter = { expression, predicate: compileCel(expression, 'filter') }
        } catch (err) {
          return { ...state, prompt: { draft: state.prompt.draft, error: (err as Error).message } }
        }
      }
      const base = state.frozen ?? state.ring
      return withShown({ ...state, filter, prompt: undefined }, applyFilter(base, filter))
    }
    case 'select-up':
      return select(state, -(action.by ?? 1))
    case 'select-down':
      return select(state, action.by ?? 1)
    case 'select-none':
      return { ...state, selected: undefined }
    case 'detail-open': {
      if (state.shown.length === 0) return state
      const selected = state.selected ?? state.shown.length - 1
      const record = state.shown[selected]
      return { ...state, selected, detail: { record, scroll: 0, lines: valueLines(record).length } }
    }
    case 'detail-close':
      return { ...state, detail: undefined }
    case 'detail-scroll': {
      if (!state.detail) return state
      const scroll = Math.min(Math.max(0, state.detail.lines - 1), Math.max(0, state.detail.scroll + action.by))
      return { ...state, detail: { ...state.detail, scroll } }
    }
    case 'end':
      return { ...state, ended: true }
    case 'exit':
      return { ...state, exit: state.exit ?? action.reason }
    case 'key': {
      // typed ahead or pasted into the prompt with Enter in the same chunk: edit, then apply
      const newline = state.prompt && !action.key.return ? action.input.search(/[\r\n]/) : -1
      if (state.prompt && newline !== -1) {
        const applied = tailReducer(tailReducer(state, { type: 'filter-edit', draft: state.prompt.draft + action.input.slice(0, newline) }), { type: 'filter-apply' })
        const rest = action.input.slice(newline + 1).replace(/^\n/, '')
        return rest ? tailReducer(applied, { type: 'key', input: rest, key: {} }) : applied
      }
      const next = actionForKey(state, action.input, action.key)
      return next ? tailReducer(state, next) : state
    }
  }
}
