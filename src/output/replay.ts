/**
 * Plain renderers for `evt replay`: the plan, progress lines and the summary.
 */
import type { CopyProgress, CopySummary, ReplayPlan } from '../services/replay.ts'
import { formatBytes } from './records.ts'
import { renderTable } from './table.ts'

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/**
 * A count of records for a plan: exact (`26`), or, where only offsets are known, their number as an
 * upper bound (`≤ 38 offsets`): transaction markers and compacted-away offsets are not records.
 */
export function recordCount(records: number | null, offsets: number): string {
  return records === null ? `≤ ${offsets} offsets` : String(records)
}

/** The plan: per partition range, count, time span, bytes; then what will change. */
export function renderReplayPlan(plan: ReplayPlan): string {
  const exact = plan.partitions.every((p) => p.records !== null)
  const records = exact ? plan.partitions.reduce((s, p) => s + p.records!, 0) : null
  const offsets = plan.partitions.reduce((s, p) => s + p.offsets, 0)
  const total = exact ? `${records} records` : `at most ${offsets} records (${offsets} offsets: large ranges are not counted record by record, and transaction markers and compacted-away offsets are not records)`
  const bytes = plan.partitions.reduce((s, p) => s + p.approxBytes, 0)
  const head = plan.mode === 'group'
    ? `replay plan: ${plan.source} → consumer group "${plan.target}" (${plan.groupExists ? 'existing group: committed offsets move' : 'new group: created with these offsets'})`
    : `replay plan: ${plan.source} → topic "${plan.target}" (${plan.targetPartitions} partitions, partitioning: ${plan.partitioning})`
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
  return `replay ${s.id} ${s.interrupted ? 'interrupted' : 'done'}: ${s.copied} records copied, ${s.filtered} filtered out, in ${secs.toFixed(1)} s (${Math.round((s.copied + s.filtered) / Math.max(secs, 0.001))} records/s); ${s.done}/${s.total} source offsets covered`
}
