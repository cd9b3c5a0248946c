/**
 * The `evt dlq inspect` browser: a thin rendering of {@link DlqBrowserState}. Groups on the
 * left, the records of the selected group on the right, or the detail pane of one record; the
 * requeue confirmation and a status line below. Everything it shows comes from the reducer or
 * from the pure helpers of ./format.ts; it fits in `height` rows, every line truncated to the
 * width, so Ink can redraw it in place.
 */
import { Box, Text } from 'ink'
import type { ReactNode } from 'react'
import { formatBytes } from '../../output/records.ts'
import { escapeControl } from '../../util/terminal-text.ts'
import { keyPreview } from '../format.ts'
import { selectedGroup, selectedRecord, type DlqBrowserState, type DlqGroupEntry } from '../state/dlq-state.ts'
import { dlqDetailLines, GROUP_BY_LABEL, groupLabel, planLines, planTotal, progressText, recordId, recordTime, summaryText, type DetailLine } from './format.ts'
import { recordTimeText } from '../../time.ts'

export const KEY_HELP = '←→/tab pane · ↑↓ select · enter detail · space mark · a mark group · g group by · r requeue · q quit'
export const DETAIL_HELP = '↑↓ scroll · s stack · space mark · r requeue · esc back · q quit'
export const CONFIRM_HELP = 'y requeue · n cancel'

export interface DlqViewProps {
  state: DlqBrowserState
  /** Rows the view may use (the terminal height less one). */
  height?: number
  /** Columns of the terminal. */
  width?: number
}

export function DlqView({ state, height = 24, width = 100 }: DlqViewProps) {
  const confirm = confirmLines(state)
  const status2 = requeueStatus(state)
  const live = !state.exit
  const fixed = 1 + 1 + (status2 ? 1 : 0) + (confirm.length ? confirm.length + 2 : 0) + (live ? 1 : 0)
  const bodyRows = Math.max(4, height - fixed)
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text bold>evt dlq inspect</Text> {state.topic} <Text dimColor>· grouped by {GROUP_BY_LABEL[state.groupBy]} (g)</Text>
      </Text>
      {state.detail ? <DetailView state={state} rows={bodyRows} /> : <Panes state={state} rows={bodyRows} width={width} />}
      {confirm.length ? (
        <Box flexDirection="column" borderStyle="round" borderColor={state.confirm?.phase === 'failed' ? 'red' : 'yellow'} paddingX={1}>
          {confirm.map((line, i) => (
            <Text key={i} wrap="truncate-end" bold={i === 0}>
              {line}
            </Text>
          ))}
        </Box>
      ) : null}
      <StatusLine state={state} />
      {status2 ? (
        <Text wrap="truncate-end" color={status2.color}>
          {status2.text}
        </Text>
      ) : null}
      {live ? (
        <Text dimColor wrap="truncate-end">
          {state.confirm ? confirmHelp(state) : state.detail ? DETAIL_HELP : KEY_HELP}
        </Text>
      ) : null}
    </Box>
  )
}

function confirmHelp(state: DlqBrowserState): string {
  const c = state.confirm
  if (c?.phase === 'planning') return 'n cancel'
  return c?.phase === 'ready' && planTotal(c.plan) > 0 ? CONFIRM_HELP : 'n close'
}

/** The confirmation box's lines: planning, the plan, or why planning failed. */
function confirmLines(state: DlqBrowserState): string[] {
  const c = state.confirm
  if (!c) return []
  const n = c.marked.length
  if (c.phase === 'planning') return [`Requeue ${n} marked record${n === 1 ? '' : 's'}?`, '  planning: reading the DLQ…']
  if (c.phase === 'failed') return ['Could not plan the requeue:', `  ${c.error}`]
  return planLines(c.plan, n)
}

function requeueStatus(state: DlqBrowserState): { text: string; color?: string } | undefined {
  const q = state.requeue
  if (state.notice) return { text: state.notice, color: 'yellow' }
  if (!q) return undefined
  if (q.phase === 'running') return { text: progressText(q.progress, q.marked.length), color: 'cyan' }
  if (q.phase === 'failed') return { text: `requeue failed: ${q.error}`, color: 'red' }
  return { text: summaryText(q.summary), color: q.summary.interrupted ? 'yellow' : 'green' }
}

/** Rows of `total` to show so that `selected` is visible (centred when it can be). */
function windowStart(total: number, selected: number, rows: number): number {
  return Math.min(Math.max(0, selected - Math.floor(rows / 2)), Math.max(0, total - rows))
}

function Panes({ state, rows, width }: { state: DlqBrowserState; rows: number; width: number }) {
  const left = Math.max(20, Math.min(48, Math.floor(width * 0.4)))
  return (
    <Box flexDirection="row" height={rows}>
      <Box flexDirection="column" width={left} marginRight={1}>
        <GroupList state={state} rows={rows} />
      </Box>
      <Box flexDirection="column" flexGrow={1}>
        <RecordList state={state} rows={rows} />
      </Box>
    </Box>
  )
}

function PaneTitle({ focused, children }: { focused: boolean; children: ReactNode }) {
  return (
    <Text wrap="truncate-end" bold={focused} color={focused ? 'cyan' : undefined} dimColor={!focused}>
      {children}
    </Text>
  )
}

function GroupList({ state, rows }: { state: DlqBrowserState; rows: number }) {
  const focused = state.pane === 'groups'
  const { groups } = state
  const listRows = rows - 1
  const start = windowStart(groups.length, state.group, listRows)
  const countWidth = Math.max(1, ...groups.map((g) => String(g.count).length))
  return (
    <>
      <PaneTitle focused={focused}>
        {`${GROUP_BY_LABEL[state.groupBy].toUpperCase()} (${groups.length})`}
      </PaneTitle>
      {groups.length === 0 ? <Text dimColor>{state.ended ? 'no records' : 'reading…'}</Text> : null}
      {groups.slice(start, start + listRows).map((g, i) => (
        <GroupLine key={`${g.key ?? '\u0000'}`} group={g} selected={start + i === state.group} focused={focused} countWidth={countWidth} marked={markedIn(state, g)} />
      ))}
    </>
  )
}

function markedIn(state: DlqBrowserState, group: DlqGroupEntry): number {
  if (state.marks.size === 0) return 0
  let n = 0
  for (const i of group.records) if (state.marks.has(recordId(state.records[i].record))) n++
  return n
}

function GroupLine({ group, selected, focused, countWidth, marked }: { group: DlqGroupEntry; selected: boolean; focused: boolean; countWidth: number; marked: number }) {
  return (
    <Text wrap="truncate-end" inverse={selected && focused} bold={selected && !focused}>
      {selected ? '›' : ' '}
      <Text color="yellow">{String(group.count).padStart(countWidth)}</Text> {marked ? <Text color="green">{`✓${marked} `}</Text> : null}
      {group.key === null ? <Text dimColor>{groupLabel(group.key)}</Text> : groupLabel(group.key)}
    </Text>
  )
}

function RecordList({ state, rows }: { state: DlqBrowserState; rows: number }) {
  const focused = state.pane === 'records'
  const group = selectedGroup(state)
  const listRows = rows - 1
  if (!group) {
    return (
      <>
        <PaneTitle focused={focused}>RECORDS</PaneTitle>
        <Text dimColor>{state.ended ? 'the DLQ range has no records' : 'waiting for records…'}</Text>
      </>
    )
  }
  const start = windowStart(group.records.length, state.record, listRows)
  const kept = group.records.length < group.count ? ` (${group.records.length} loaded)` : ''
  return (
    <>
      <PaneTitle focused={focused}>
        {`RECORDS ${group.count}${kept} · ${groupLabel(group.key)}`}
      </PaneTitle>
      {group.records.slice(start, start + listRows).map((index, i) => {
        const item = state.records[index]
        const id = recordId(item.record)
        const selected = start + i === state.record
        return (
          <Text key={id} wrap="truncate-end" inverse={selected && focused} bold={selected && !focused}>
            {selected ? '›' : ' '}
            {state.marks.has(id) ? <Text color="green">[x]</Text> : <Text dimColor>[ ]</Text>} <Text color="cyan">{id}</Text>{item.requeued ? <Text color="green"> ↻</Text> : null} <Text dimColor>{recordTime(item.record.timestamp)}</Text> <Text color="magenta">{item.failure.originalTopic === undefined ? '-' : escapeControl(item.failure.originalTopic)}</Text> <Text color="green">{keyPreview(item.record)}</Text>
          </Text>
        )
      })}
    </>
  )
}

function DetailView({ state, rows }: { state: DlqBrowserState; rows: number }) {
  const item = selectedRecord(state)
  if (!item || !state.detail) return null
  const { record } = item
  const lines = dlqDetailLines(item, state.stackExpanded)
  const bodyRows = Math.max(2, rows - 1)
  const scroll = Math.min(state.detail.scroll, Math.max(0, lines.length - bodyRows))
  const fits = lines.length <= bodyRows
  const visible = fits ? lines : lines.slice(scroll, scroll + bodyRows - 1)
  const below = lines.length - scroll - visible.length
  const id = recordId(record)
  return (
    <Box flexDirection="column" height={rows}>
      <Text wrap="truncate-end">
        {state.marks.has(id) ? <Text color="green">[x] </Text> : null}
        <Text color="cyan" bold>
          {`${record.topic}/${id}`}
        </Text>{' '}
        <Text dimColor>{recordTimeText(record.timestamp)}</Text> <Text color="green">key</Text> {keyPreview(record, 120)} <Text dimColor>({formatBytes(record.value?.length ?? 0)})</Text>
        {scroll > 0 ? <Text dimColor>{` · ${scroll} lines above`}</Text> : null}
      </Text>
      {visible.map((line, i) => (
        <DetailRow key={scroll + i} line={line} />
      ))}
      {!fits && below > 0 ? <Text dimColor>{`  … ${below} more lines (↑↓ scroll)`}</Text> : null}
    </Box>
  )
}

function DetailRow({ line }: { line: DetailLine }) {
  switch (line.kind) {
    case 'section':
      return (
        <Text dimColor wrap="truncate-end">
          {line.text}
        </Text>
      )
    case 'field':
      return (
        <Text wrap="truncate-end">
          {'  '}
          <Text dimColor>{(line.label ?? '').padEnd(9)}</Text> {line.label === 'exception' ? <Text color="red">{line.text}</Text> : line.text}
        </Text>
      )
    case 'stack':
      return (
        <Text dimColor wrap="truncate-end">
          {'    '}
          {line.text}
        </Text>
      )
    case 'more':
      return (
        <Text color="yellow" wrap="truncate-end">
          {'    '}
          {line.text}
        </Text>
      )
    case 'warning':
    case 'error':
      return (
        <Text color={line.kind === 'error' ? 'red' : 'yellow'} wrap="truncate-end">
          {'  '}
          {line.text}
        </Text>
      )
    case 'header':
      return (
        <Text wrap="truncate-end">
          {'  '}
          <Text color="magenta">{line.label}</Text>:{' '}
          {line.isNull ? <Text dimColor>(null)</Text> : line.base64 ? (
            <>
              <Text color="yellow">base64:</Text>
              {line.text}
            </>
          ) : (
            line.text
          )}
        </Text>
      )
    default:
      return (
        <Text wrap="truncate-end">
          {'  '}
          {line.text}
        </Text>
      )
  }
}

function StatusLine({ state }: { state: DlqBrowserState }) {
  const over = state.received > state.records.length
  return (
    <Text wrap="truncate-end">
      <Text bold>{state.received}</Text> record{state.received === 1 ? '' : 's'} · {state.scanned} read · {state.groups.length} group{state.groups.length === 1 ? '' : 's'} · <Text color={state.marks.size ? 'green' : undefined}>{state.marks.size} marked</Text>
      {over ? <Text color="yellow">{` · showing the first ${state.records.length} of ${state.received} (limit ${state.capacity}; narrow with -o or --filter)`}</Text> : null}
      {state.exit === 'interrupt' ? ' · interrupted' : state.ended ? ' · all read' : ' · reading…'}
    </Text>
  )
}
