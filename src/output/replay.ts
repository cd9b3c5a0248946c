/**
 * Plain renderers for `evt replay`: the plan, progress lines and the summary; `replay status` and `replay clean`.
 */
import type { CleanEntry, CleanResult, ReplayCleanPlan, ReplayRunStatus, ReplayStatusList } from '../services/replay-state.ts'
import type { CopyProgress, CopySummary, ReplayPlan } from '../services/replay.ts'
import { formatBytes } from './records.ts'
import { renderTable } from './table.ts'
import { NO_TIMESTAMP, recordTimeText } from '../time.ts'
import { plural } from './plural.ts'

function when(ms: number | null): string {
  const text = ms === null ? '-' : recordTimeText(ms)
  return text === '-' || text === NO_TIMESTAMP ? text : text.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/**
 * A count of records for a plan: exact (`26`), or, where only offsets are known, their number as an
 * upper bound (`≤ 38 offsets`): transaction markers and compacted-away offsets are not records.
 */
export function recordCount(records: number | null, offsets: number): string {
  return records === null ? `≤ ${offsets} offsets` : String(records)
}

/** After replay --group: where the group now starts, per partition. */
export function renderGroupReplayDone(plan: ReplayPlan): string {
  return `group "${plan.target}" now starts at ${plan.partitions.map((p) => `${p.partition}:${p.start}`).join(', ')} on ${plan.source}`
}

/** The plan: per partition range, count, time span, bytes; then what will change. */
export function renderReplayPlan(plan: ReplayPlan): string {
  const exact = plan.partitions.every((p) => p.records !== null)
  const records = exact ? plan.partitions.reduce((s, p) => s + p.records!, 0) : null
  const offsets = plan.partitions.reduce((s, p) => s + p.offsets, 0)
  const total = exact ? plural(records ?? 0, 'record') : `at most ${offsets} records (${offsets} offsets: large ranges are not counted record by record, and transaction markers and compacted-away offsets are not records)`
  const bytes = plan.partitions.reduce((s, p) => s + p.approxBytes, 0)
  const head = plan.mode === 'group'
    ? `replay plan: ${plan.source} → consumer group "${plan.target}" (${plan.groupExists ? 'existing group: committed offsets move' : 'new group: created with these offsets'})`
    : `replay plan: ${plan.source} → topic "${plan.target}" (${plural(plan.targetPartitions ?? 0, 'partition')}, partitioning: ${plan.partitioning})`
  const rows = plan.partitions.map((p) => {
    const base = [p.partition, `${p.start}..${p.end}`, recordCount(p.records, p.offsets), when(p.firstTimestamp), when(p.lastTimestamp), `≈${formatBytes(p.approxBytes)}`]
    return plan.mode === 'group' ? [...base, `${p.currentOffset ?? '(none)'} → ${p.start}`] : base
  })
  const cols = ['PARTITION', 'OFFSETS [start..end)', 'RECORDS', 'FIRST', 'LAST', 'BYTES']
  const table = renderTable(plan.mode === 'group' ? [...cols, 'COMMITTED OLD → NEW'] : cols, rows, { alignRight: [0, 2] })
  const change = plan.mode === 'group'
    ? `will set the committed offsets of group "${plan.target}" on ${plan.source}; the service using it re-consumes ${total} from there`
    : `will copy ${total} (≈${formatBytes(bytes)}) into "${plan.target}", keys, values and headers unchanged, with evt-replay-source and evt-replay-id headers; exactly once (transactional)`
  return `${head}\n${table}\n${change}`
}

/** One progress line (stderr): done/total, rate, ETA. */
export function renderCopyProgress(p: CopyProgress): string {
  const secs = Math.max(0.001, (Date.now() - p.startedAt) / 1000)
  const rate = (p.copied + p.filtered) / secs
  const left = p.total - p.done
  const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : '?'
  const pct = p.total ? Math.floor((p.done / p.total) * 100) : 100
  return `replay: ${pct}% ${p.done}/${p.total} offsets, ${p.copied} copied, ${p.filtered} filtered out, ${Math.round(rate)} records/s, ETA ${eta}`
}

/** The final summary. */
export function renderCopySummary(s: CopySummary): string {
  const secs = s.elapsedMs / 1000
  return `replay ${s.id} ${s.interrupted ? 'interrupted' : 'done'}: ${plural(s.copied, 'record')} copied, ${s.filtered} filtered out, in ${secs.toFixed(1)} s (${Math.round((s.copied + s.filtered) / Math.max(secs, 0.001))} records/s); ${s.done}/${s.total} source offsets covered`
}

const figure = (n: number | null) => (n === null ? '?' : String(n))

/** `replay status`: one row per run, then the state files that could not be read and untracked groups. */
export function renderReplayStatusList(list: ReplayStatusList): string {
  const parts: string[] = []
  if (list.runs.length === 0) parts.push('no replays on this machine')
  else {
    parts.push(renderTable(['ID', 'STATE', 'SOURCE → TARGET', 'OFFSETS', 'DONE', 'REMAINING', 'COPIED', 'FILTERED', 'CREATED'], list.runs.map((r) => [r.id, r.state, `${r.source} → ${r.target}`, r.offsets, figure(r.done), figure(r.remaining), figure(r.copied), figure(r.filtered), r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')]), { alignRight: [3, 4, 5, 6, 7] }))
  }
  for (const u of list.unreadable) parts.push(`unreadable state file ${u.path}: ${u.error}`)
  if (list.untracked.length) parts.push('', 'replay progress groups without a state file on this machine (started elsewhere, or the file was removed; evt replay clean <id> removes one):', ...list.untracked.map((u) => `  ${u.group}`))
  const finished = list.runs.filter((r) => r.state === 'finished').length
  if (finished) parts.push('', `${finished} finished: evt replay clean removes their progress groups and state files`)
  return parts.join('\n')
}

/** `replay status <id>`: the run, then per partition. */
export function renderReplayStatus(r: ReplayRunStatus): string {
  const head = [
    `replay ${r.id}: ${r.state}${r.pid ? ` (pid ${r.pid})` : ''}`,
    `  ${r.source} → ${r.target}, created ${r.createdAt}${r.filter ? `, filter ${r.filter}` : ''}`,
    `  ${r.offsets} source offsets planned, ${figure(r.done)} done, ${figure(r.remaining)} remaining; ${figure(r.copied)} records copied, ${figure(r.filtered)} filtered out`,
    `  progress group ${r.progressGroup}${r.groupMembers ? ` (${r.groupMembers} active members)` : ''}; state file ${r.stateFile}`,
  ]
  const table = renderTable(['PARTITION', 'OFFSETS [start..end)', 'COMMITTED', 'DONE', 'REMAINING', 'COPIED', 'FILTERED'], r.partitions.map((p) => [p.partition, `${p.start}..${p.end}`, p.committed ?? '-', figure(p.done), figure(p.remaining), figure(p.copied), figure(p.filtered)]), { alignRight: [0, 2, 3, 4, 5, 6] })
  const next = r.state === 'interrupted' ? `resume with: evt replay --resume ${r.id}` : r.state === 'finished' ? `clean up with: evt replay clean ${r.id}` : r.state === 'other-cluster' ? `started on ${r.brokers.join(',')}: connect to that cluster (-b or --profile) to see its progress` : null
  return [...head, table, ...(next ? [next] : [])].join('\n')
}

function cleanRow(e: CleanEntry): string[] {
  return [e.id, e.state, e.source && e.target ? `${e.source} → ${e.target}` : '-', e.group ?? '-', e.stateFile ?? '-']
}

/** The clean-up plan: what is removed, what is kept and why. */
export function renderReplayCleanPlan(plan: ReplayCleanPlan): string {
  const parts: string[] = []
  const cols = ['ID', 'STATE', 'SOURCE → TARGET', 'PROGRESS GROUP', 'STATE FILE']
  if (plan.remove.length) {
    const groups = plan.remove.filter((e) => e.group).length
    const files = plan.remove.filter((e) => e.stateFile).length
    parts.push(`replay clean plan: remove ${groups} progress group${groups === 1 ? '' : 's'} and ${files} state file${files === 1 ? '' : 's'}`, renderTable(cols, plan.remove.map(cleanRow)))
    const interrupted = plan.remove.filter((e) => e.state === 'interrupted').length
    if (interrupted) parts.push(`${interrupted} of them interrupted: once removed, ${interrupted === 1 ? 'it' : 'they'} can no longer be resumed`)
  } else parts.push('replay clean: nothing to remove')
  if (plan.kept.length) parts.push('kept:', ...plan.kept.map((e) => `  ${e.id}: ${e.reason}`))
  if (plan.absent.length) parts.push(`already clean (no state file here, no progress group): ${plan.absent.join(', ')}`)
  if (plan.notSelected) parts.push(`${plan.notSelected} interrupted replay${plan.notSelected === 1 ? '' : 's'} not selected (resume ${plan.notSelected === 1 ? 'it' : 'them'}, or name ${plan.notSelected === 1 ? 'it' : 'them'} or pass --all to remove)`)
  return parts.join('\n')
}

/** What the clean-up did. */
export function renderReplayCleanResults(results: CleanResult[]): string {
  return results.map((r) => (r.outcome === 'kept' ? `kept ${r.id}: ${r.reason}` : `removed ${r.id}${r.group ? ` (group ${r.group}${r.outcome === 'gone' ? ', already gone' : ''})` : ''}`)).join('\n')
}
