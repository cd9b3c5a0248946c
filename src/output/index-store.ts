/**
 * Renderers of `evt index run`, `evt index status` and `evt index drop`: plain lines and tables,
 * and their --json values (schemas: docs/schemas/index-run.schema.json, index-status.schema.json).
 */
import type { IndexProgress, IndexRunResult } from '../services/index-run.ts'
import type { IndexStatus } from '../services/index-status.ts'
import { formatBytes } from './records.ts'
import { plural } from './plural.ts'
import { renderTable } from './table.ts'

/** One progress line of a worker (stderr). */
export function renderIndexProgress(p: IndexProgress): string {
  const withEnd = p.partitions.filter((x) => x.end !== undefined)
  const atEnd = withEnd.filter((x) => x.next >= x.end!).length
  const ends = withEnd.length ? `; ${atEnd}/${withEnd.length} partitions at their end offset` : ''
  return `${p.group}: ${plural(p.records, 'record')} read, ${plural(p.rows, 'pointer row')} stored on ${plural(p.partitions.length, 'partition')} in ${(p.elapsedMs / 1000).toFixed(1)} s${ends}`
}

/** The last line of a worker. */
export function renderIndexDone(r: IndexRunResult): string {
  const why = r.stopped === 'caught-up' ? 'caught up with the end offsets taken at start' : 'stopped'
  return `${renderIndexProgress(r)}\n${why}; index in ${r.store}`
}

/** A progress value as one --json status line. */
export function indexProgressJson(p: IndexProgress, type: 'progress' | 'done', stopped?: IndexRunResult['stopped']): string {
  return JSON.stringify({ type, group: p.group, store: p.store, topics: p.topics, records: p.records, rows: p.rows, caughtUp: p.caughtUp, elapsedMs: p.elapsedMs, ...(stopped ? { stopped } : {}), partitions: p.partitions.map((x) => ({ topic: x.topic, partition: x.partition, next: x.next, end: x.end ?? null })) })
}

/** `evt index status` as a table and a summary line. */
export function renderIndexStatus(s: IndexStatus): string {
  const head = `index ${s.name} in ${s.store}: ${plural(s.rows, 'pointer row')}, ${formatBytes(s.sizeBytes)}${s.rows ? ` (${Math.round(s.sizeBytes / s.rows)} bytes per row)` : ''}; group ${s.group}: ${s.groupState}, ${plural(s.members, 'worker')}`
  if (s.partitions.length === 0) return `${head}\nnothing indexed yet (start a worker: evt index run --store ${s.storeArg})`
  const rows = s.partitions.map((p) => [p.topic, p.partition, p.from, p.indexedOffset, p.endOffset ?? '?', p.lag ?? '?', p.rows])
  return `${head}\n${renderTable(['TOPIC', 'PARTITION', 'FROM', 'INDEXED', 'END', 'LAG', 'ROWS'], rows, { alignRight: [1, 2, 3, 4, 5, 6] })}`
}
