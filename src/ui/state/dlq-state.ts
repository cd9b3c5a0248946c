/**
 * State of the `evt dlq inspect` browser: a pure reducer over discriminated-union actions,
 * tested without rendering. The runner (src/ui/dlq/dlq-browser.tsx) feeds it batches of DLQ
 * records, the results of the requeue it runs, and the keyboard as `key` actions (mapped by
 * {@link actionForKey}).
 *
 * - Records: the first `capacity` received are kept (append-only, so indices stay valid); the
 *   rest are only counted, per group of every grouping, so the group counts stay true.
 * - Groups of the current grouping (`g` cycles exception / reason / original topic / stage),
 *   sorted by count; the selection follows its group and record as groups re-sort.
 * - Marks are record ids (`partition@offset`); `r` asks for a plan of the marked records
 *   (confirm phase `planning`), the runner answers `plan-ready`, `y` starts the requeue (phase
 *   `running`), the runner reports `requeue-progress` and `requeue-done`. Answers carry the
 *   `seq` of their request; stale ones are ignored. After a requeue the runner hands over the
 *   DLQ's requeue ledger, read again (`ledger`), and the records it lists show as requeued.
 */
import { DLQ_GROUP_BY, groupKey, type DlqGroupBy } from '../../dlq/group.ts'
import type { MoveProgress, MoveSummary } from '../../replay/move.ts'
import type { RequeueLedger } from '../../dlq/ledger.ts'
import { requeuedInfo, type DlqRecord } from '../../services/dlq-inspect.ts'
import type { RequeuePlan } from '../../services/dlq-requeue.ts'
import { dlqDetailLines, planTotal, recordId } from '../dlq/format.ts'
import { sortMarked, type MarkedRecord } from '../dlq/marked.ts'

export type { MarkedRecord } from '../dlq/marked.ts'

/** Records kept by default. */
export const DEFAULT_CAPACITY = 5000
/** Rows moved by page up / page down. */
export const PAGE = 10

export type Pane = 'groups' | 'records'

/** Why the view ends. */
export type ExitReason = 'quit' | 'interrupt'

/** A record's group under every grouping. */
export type GroupKeys = Record<DlqGroupBy, string | null>

/** Records received but not kept (beyond `capacity`), counted by their group keys. */
export interface OverflowCount {
  keys: GroupKeys
  count: number
}

/** One group of the current grouping. */
export interface DlqGroupEntry {
  /** null: the records do not say. */
  key: string | null
  /** Records received in this group, kept or not. */
  count: number
  /** Indices into `records` of the kept records of the group, in arrival order. */
  records: number[]
}

/** The open detail pane (of the selected record). */
export interface DetailState {
  /** First line shown. */
  scroll: number
  /** Lines of the pane (the bound of `scroll`). */
  lines: number
}

/** The requeue confirmation: waiting for the plan, showing it, or why planning failed. */
export type ConfirmState =
  | { seq: number; marked: MarkedRecord[]; phase: 'planning' }
  | { seq: number; marked: MarkedRecord[]; phase: 'ready'; plan: RequeuePlan }
  | { seq: number; marked: MarkedRecord[]; phase: 'failed'; error: string }

/** The requeue after `y`: running (with its last progress), done, or failed. */
export type RequeueState =
  | { seq: number; marked: MarkedRecord[]; phase: 'running'; plan: RequeuePlan; progress?: MoveProgress }
  | { seq: number; marked: MarkedRecord[]; phase: 'done'; summary: MoveSummary }
  | { seq: number; marked: MarkedRecord[]; phase: 'failed'; error: string }

export interface DlqBrowserState {
  topic: string
  capacity: number
  /** The first `capacity` records received, in arrival order. */
  records: DlqRecord[]
  /** Records received in all (kept or only counted). */
  received: number
  /** Records read from the DLQ (before the filters). */
  scanned: number
  /** Records received per group key, for every grouping. */
  counts: Record<DlqGroupBy, ReadonlyMap<string | null, number>>
  groupBy: DlqGroupBy
  /** Groups of `groupBy`, by count (desc), then key; `(none)` last among equals. */
  groups: DlqGroupEntry[]
  /** The focused pane. */
  pane: Pane
  /** Index into `groups`. */
  group: number
  /** Index into the selected group's `records`. */
  record: number
  /** Ids (`partition@offset`) of the marked records. */
  marks: ReadonlySet<string>
  detail?: DetailState
  /** Whole stack traces in the detail pane (else folded). */
  stackExpanded: boolean
  confirm?: ConfirmState
  requeue?: RequeueState
  /** The last request number handed out (plan and run answers carry theirs). */
  seq: number
  /** A one-off hint for the status line, cleared by the next key. */
  notice?: string
  /** The source ended: every record of the range was read. */
  ended: boolean
  /** Set when the user asked to leave; the runner acts on it. */
  exit?: ExitReason
}

/** The keys the browser reacts to; ink's `Key` fits. */
export interface KeyInfo {
  upArrow?: boolean
  downArrow?: boolean
  leftArrow?: boolean
  rightArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  ctrl?: boolean
  meta?: boolean
  shift?: boolean
  tab?: boolean
}

export type DlqAction =
  | { type: 'records'; records: DlqRecord[]; overflow?: OverflowCount[]; scanned?: number }
  | { type: 'stats'; scanned: number }
  | { type: 'end' }
  | { type: 'pane'; pane: Pane }
  | { type: 'pane-toggle' }
  | { type: 'select'; by: number }
  | { type: 'select-edge'; edge: 'first' | 'last' }
  | { type: 'group-by'; groupBy?: DlqGroupBy }
  | { type: 'detail-open' }
  | { type: 'detail-close' }
  | { type: 'detail-scroll'; by: number }
  | { type: 'toggle-stack' }
  | { type: 'mark-toggle' }
  | { type: 'mark-group' }
  | { type: 'requeue-ask' }
  | { type: 'plan-ready'; seq: number; plan: RequeuePlan }
  | { type: 'plan-failed'; seq: number; error: string }
  | { type: 'confirm-yes' }
  | { type: 'confirm-no' }
  | { type: 'requeue-progress'; seq: number; progress: MoveProgress }
  | { type: 'requeue-done'; seq: number; summary: MoveSummary }
  | { type: 'requeue-failed'; seq: number; error: string }
  /** The DLQ's requeue ledger, read again (after a requeue): marks the records it lists as requeued. */
  | { type: 'ledger'; ledger: RequeueLedger }
  | { type: 'exit'; reason: ExitReason }
  | { type: 'key'; input: string; key: KeyInfo }

const emptyCounts = (): Record<DlqGroupBy, ReadonlyMap<string | null, number>> => ({ exception: new Map(), reason: new Map(), 'original-topic': new Map(), stage: new Map() })

export function initialDlqState(options: { topic?: string; capacity?: number; groupBy?: DlqGroupBy; stackExpanded?: boolean } = {}): DlqBrowserState {
  return {
    topic: options.topic ?? '',
    capacity: Math.max(1, options.capacity ?? DEFAULT_CAPACITY),
    records: [],
    received: 0,
    scanned: 0,
    counts: emptyCounts(),
    groupBy: options.groupBy ?? 'reason',
    groups: [],
    pane: 'groups',
    group: 0,
    record: 0,
    marks: new Set(),
    stackExpanded: options.stackExpanded ?? false,
    seq: 0,
    ended: false,
  }
}

/** A record's group under every grouping. */
export function groupKeys(item: DlqRecord): GroupKeys {
  return { exception: groupKey(item.failure, 'exception'), reason: groupKey(item.failure, 'reason'), 'original-topic': groupKey(item.failure, 'original-topic'), stage: groupKey(item.failure, 'stage') }
}

const byCountThenKey = (a: DlqGroupEntry, b: DlqGroupEntry) => b.count - a.count || String(a.key ?? '\uffff').localeCompare(String(b.key ?? '\uffff'))

/** The groups of `by` over the kept records, counted with `counts`. */
export function buildGroups(records: readonly DlqRecord[], counts: ReadonlyMap<string | null, number>, by: DlqGroupBy): DlqGroupEntry[] {
  const lists = new Map<string | null, number[]>()
  records.forEach((item, i) => {
    const key = groupKey(item.failure, by)
    const list = lists.get(key)
    if (list) list.push(i)
    else lists.set(key, [i])
  })
  return [...counts].map(([key, count]) => ({ key, count, records: lists.get(key) ?? [] })).sort(byCountThenKey)
}

/** The selected group, if any. */
export function selectedGroup(state: DlqBrowserState): DlqGroupEntry | undefined {
  return state.groups[state.group]
}

/** Index into `records` of the selected record, if any. */
export function selectedIndex(state: DlqBrowserState): number | undefined {
  return selectedGroup(state)?.records[state.record]
}

/** The selected record, if any. */
export function selectedRecord(state: DlqBrowserState): DlqRecord | undefined {
  const i = selectedIndex(state)
  return i === undefined ? undefined : state.records[i]
}

/** The marked records, sorted by partition and offset (kept records only can be marked). */
export function markedRecords(state: DlqBrowserState): MarkedRecord[] {
  const out: MarkedRecord[] = []
  for (const item of state.records) if (state.marks.has(recordId(item.record))) out.push({ partition: item.record.partition, offset: item.record.offset })
  return sortMarked(out)
}

/** Replaces the groups, keeping the selected group (and record) selected where they still are. */
function withGroups(state: DlqBrowserState, groups: DlqGroupEntry[], followRecord: boolean): DlqBrowserState {
  const prevGroup = selectedGroup(state)
  const prevRecord = selectedIndex(state)
  let group = -1
  if (followRecord && prevRecord !== undefined) group = groups.findIndex((g) => g.records.includes(prevRecord))
  else if (prevGroup) group = groups.findIndex((g) => g.key === prevGroup.key)
  if (group === -1) group = 0
  const record = prevRecord === undefined ? -1 : (groups[group]?.records.indexOf(prevRecord) ?? -1)
  const next = { ...state, groups, group: Math.min(group, Math.max(0, groups.length - 1)), record: Math.max(0, record) }
  return withDetail(next)
}

/** Keeps the detail pane's line count (and scroll) in step with the selected record. */
function withDetail(state: DlqBrowserState, scroll?: number): DlqBrowserState {
  if (!state.detail) return state
  const item = selectedRecord(state)
  if (!item) return { ...state, detail: undefined }
  const lines = dlqDetailLines(item, state.stackExpanded).length
  const s = Math.min(Math.max(0, lines - 1), Math.max(0, scroll ?? state.detail.scroll))
  return { ...state, detail: { scroll: s, lines } }
}

function onRecords(state: DlqBrowserState, action: Extract<DlqAction, { type: 'records' }>): DlqBrowserState {
  const room = Math.max(0, state.capacity - state.records.length)
  const kept = action.records.slice(0, room)
  const overflow: OverflowCount[] = [...(action.overflow ?? [])]
  for (const item of action.records.slice(room)) overflow.push({ keys: groupKeys(item), count: 1 })
  const arrived = action.records.length + (action.overflow ?? []).reduce((n, o) => n + o.count, 0)
  if (arrived === 0) return action.scanned === undefined ? state : { ...state, scanned: action.scanned }
  const counts = { ...state.counts }
  for (const by of DLQ_GROUP_BY) {
    const map = new Map(counts[by])
    for (const item of kept) {
      const key = groupKey(item.failure, by)
      map.set(key, (map.get(key) ?? 0) + 1)
    }
    for (const o of overflow) map.set(o.keys[by], (map.get(o.keys[by]) ?? 0) + o.count)
    counts[by] = map
  }
  const records = kept.length ? [...state.records, ...kept] : state.records
  const next: DlqBrowserState = { ...state, records, counts, received: state.received + arrived, scanned: action.scanned ?? state.scanned }
  return withGroups(next, buildGroups(records, counts[state.groupBy], state.groupBy), false)
}

function select(state: DlqBrowserState, by: number): DlqBrowserState {
  if (state.pane === 'groups') {
    if (state.groups.length === 0) return state
    const group = Math.min(state.groups.length - 1, Math.max(0, state.group + by))
    return group === state.group ? state : { ...state, group, record: 0 }
  }
  const n = selectedGroup(state)?.records.length ?? 0
  if (n === 0) return state
  return { ...state, record: Math.min(n - 1, Math.max(0, state.record + by)) }
}

function toggleMark(state: DlqBrowserState): DlqBrowserState {
  const item = selectedRecord(state)
  if (!item) return state
  const id = recordId(item.record)
  const marks = new Set(state.marks)
  if (marks.has(id)) marks.delete(id)
  else marks.add(id)
  return { ...state, marks }
}

function markGroup(state: DlqBrowserState): DlqBrowserState {
  const group = selectedGroup(state)
  if (!group || group.records.length === 0) return state
  const ids = group.records.map((i) => recordId(state.records[i].record))
  const all = ids.every((id) => state.marks.has(id))
  const marks = new Set(state.marks)
  for (const id of ids) {
    if (all) marks.delete(id)
    else marks.add(id)
  }
  const notKept = group.count - group.records.length
  const notice = !all && notKept > 0 ? `marked the ${ids.length} loaded records of the group (${notKept} more were not loaded)` : undefined
  return { ...state, marks, notice }
}

function askRequeue(state: DlqBrowserState): DlqBrowserState {
  if (state.requeue?.phase === 'running') return { ...state, notice: 'a requeue is running' }
  const marked = markedRecords(state)
  if (marked.length === 0) return { ...state, notice: 'nothing marked: space marks a record, a marks the group' }
  const seq = state.seq + 1
  return { ...state, seq, confirm: { seq, marked, phase: 'planning' } }
}

function confirmYes(state: DlqBrowserState): DlqBrowserState {
  const c = state.confirm
  if (c?.phase !== 'ready') return state
  if (planTotal(c.plan) === 0) return { ...state, confirm: undefined, notice: 'nothing to requeue' }
  return { ...state, confirm: undefined, requeue: { seq: c.seq, marked: c.marked, phase: 'running', plan: c.plan } }
}

/**
 * The action a key press stands for in this state, or undefined when the key means nothing
 * here. Ctrl-C and `q` ask to leave; while the confirmation is open only y / n / esc count.
 */
export function actionForKey(state: DlqBrowserState, input: string, key: KeyInfo): DlqAction | undefined {
  if (key.ctrl && input === 'c') return { type: 'exit', reason: 'interrupt' }
  // no other Ctrl/Meta combinations (a NUL byte, say, reads as Ctrl-space)
  if (key.ctrl || key.meta) return undefined
  if (input === 'q') return { type: 'exit', reason: 'quit' }
  if (state.confirm) {
    if (input === 'y' || input === 'Y') return state.confirm.phase === 'ready' ? { type: 'confirm-yes' } : undefined
    if (input === 'n' || input === 'N' || key.escape) return { type: 'confirm-no' }
    return undefined
  }
  if (key.upArrow) return state.detail ? { type: 'detail-scroll', by: -1 } : { type: 'select', by: -1 }
  if (key.downArrow) return state.detail ? { type: 'detail-scroll', by: 1 } : { type: 'select', by: 1 }
  if (key.pageUp) return state.detail ? { type: 'detail-scroll', by: -PAGE } : { type: 'select', by: -PAGE }
  if (key.pageDown) return state.detail ? { type: 'detail-scroll', by: PAGE } : { type: 'select', by: PAGE }
  if (input === ' ') return { type: 'mark-toggle' }
  if (input === 'r') return { type: 'requeue-ask' }
  if (state.detail) {
    if (key.escape || key.return || key.leftArrow) return { type: 'detail-close' }
    if (input === 's') return { type: 'toggle-stack' }
    if (key.home) return { type: 'detail-scroll', by: -state.detail.lines }
    if (key.end) return { type: 'detail-scroll', by: state.detail.lines }
    return undefined
  }
  if (key.tab) return { type: 'pane-toggle' }
  if (key.leftArrow) return { type: 'pane', pane: 'groups' }
  if (key.rightArrow) return { type: 'pane', pane: 'records' }
  if (key.home) return { type: 'select-edge', edge: 'first' }
  if (key.end) return { type: 'select-edge', edge: 'last' }
  if (key.return) return state.pane === 'groups' ? { type: 'pane', pane: 'records' } : { type: 'detail-open' }
  if (input === 'a') return { type: 'mark-group' }
  if (input === 'g') return { type: 'group-by' }
  if (input === 's') return { type: 'toggle-stack' }
  return undefined
}

export function dlqReducer(state: DlqBrowserState, action: DlqAction): DlqBrowserState {
  switch (action.type) {
    case 'records':
      return onRecords(state, action)
    case 'stats':
      return action.scanned === state.scanned ? state : { ...state, scanned: action.scanned }
    case 'end':
      return { ...state, ended: true }
    case 'pane':
      return state.pane === action.pane ? state : { ...state, pane: action.pane }
    case 'pane-toggle':
      return { ...state, pane: state.pane === 'groups' ? 'records' : 'groups' }
    case 'select':
      return select(state, action.by)
    case 'select-edge':
      return select(state, action.edge === 'first' ? -Infinity : Infinity)
    case 'group-by': {
      const groupBy = action.groupBy ?? DLQ_GROUP_BY[(DLQ_GROUP_BY.indexOf(state.groupBy) + 1) % DLQ_GROUP_BY.length]
      if (groupBy === state.groupBy) return state
      return withGroups({ ...state, groupBy }, buildGroups(state.records, state.counts[groupBy], groupBy), true)
    }
    case 'detail-open': {
      const item = selectedRecord(state)
      if (!item) return state
      return { ...state, pane: 'records', detail: { scroll: 0, lines: dlqDetailLines(item, state.stackExpanded).length } }
    }
    case 'detail-close':
      return state.detail ? { ...state, detail: undefined } : state
    case 'detail-scroll':
      return state.detail ? withDetail(state, state.detail.scroll + action.by) : state
    case 'toggle-stack':
      return withDetail({ ...state, stackExpanded: !state.stackExpanded })
    case 'mark-toggle':
      return toggleMark(state)
    case 'mark-group':
      return markGroup(state)
    case 'requeue-ask':
      return askRequeue(state)
    case 'plan-ready': {
      const c = state.confirm
      if (c?.phase !== 'planning' || c.seq !== action.seq) return state
      return { ...state, confirm: { seq: c.seq, marked: c.marked, phase: 'ready', plan: action.plan } }
    }
    case 'plan-failed': {
      const c = state.confirm
      if (c?.phase !== 'planning' || c.seq !== action.seq) return state
      return { ...state, confirm: { seq: c.seq, marked: c.marked, phase: 'failed', error: action.error } }
    }
    case 'confirm-yes':
      return confirmYes(state)
    case 'confirm-no':
      if (!state.confirm) return state
      return { ...state, confirm: undefined, notice: state.confirm.phase === 'failed' ? undefined : 'requeue cancelled: nothing was written' }
    case 'requeue-progress': {
      const q = state.requeue
      if (q?.phase !== 'running' || q.seq !== action.seq) return state
      return { ...state, requeue: { ...q, progress: action.progress } }
    }
    case 'requeue-done': {
      const q = state.requeue
      if (q?.phase !== 'running' || q.seq !== action.seq) return state
      let marks = state.marks
      if (!action.summary.interrupted) {
        const sent = new Set(q.marked.map(recordId))
        marks = new Set([...state.marks].filter((id) => !sent.has(id)))
      }
      return { ...state, marks, requeue: { seq: q.seq, marked: q.marked, phase: 'done', summary: action.summary } }
    }
    case 'requeue-failed': {
      const q = state.requeue
      if (q?.phase !== 'running' || q.seq !== action.seq) return state
      return { ...state, requeue: { seq: q.seq, marked: q.marked, phase: 'failed', error: action.error } }
    }
    case 'ledger': {
      let changed = false
      const records = state.records.map((item) => {
        const requeued = requeuedInfo(action.ledger, item.record)
        if (!requeued || (item.requeued && item.requeued.at === requeued.at)) return item
        changed = true
        return { ...item, requeued }
      })
      return changed ? { ...state, records } : state
    }
    case 'exit':
      return { ...state, exit: state.exit ?? action.reason }
    case 'key': {
      const next = actionForKey(state, action.input, action.key)
      const base = state.notice === undefined ? state : { ...state, notice: undefined }
      return next ? dlqReducer(base, next) : base
    }
  }
}
