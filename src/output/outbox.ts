/**
 * `evt outbox check` output: a summary, a table per kind of finding (20 rows each; --json has all)
 * and the relay lag per aggregate type. The JSON contract: docs/schemas/outbox-check.schema.json.
 */
import ms from 'ms'
import type { OutboxCheckResult } from '../services/outbox-check.ts'
import type { OutboxTailEvent } from '../services/outbox-tail.ts'
import type { RecordPosition } from '../outbox/compare.ts'
import { recordTimeText } from '../time.ts'
import { plural } from './plural.ts'
import { renderTable } from './table.ts'

const SHOWN = 20

const at = (p: RecordPosition) => `${p.topic}/${p.partition}@${p.offset}`
const duration = (value: number) => (value < 1000 ? `${Math.round(value)}ms` : ms(Math.round(value)))

function capped<T>(items: T[], render: (items: T[]) => string): string {
  const more = items.length - SHOWN
  return render(items.slice(0, SHOWN)) + (more > 0 ? `\n… and ${more} more (--json lists all)` : '')
}

/** The plain report (no trailing newline). */
export function renderOutboxCheck(r: OutboxCheckResult): string {
  const out: string[] = []
  out.push(`outbox "${r.table}" from ${recordTimeText(r.window.since, 0, 19)}Z to ${recordTimeText(r.window.until, 0, 19)}Z: ${plural(r.rows, 'row')}, ${plural(r.records, 'record')} on ${r.topics.length ? r.topics.join(', ') : 'no topic'}`)
  out.push(`  published ${r.published} · pending ${r.pending} (younger than ${duration(r.graceMs)}) · unpublished ${r.unpublished.length} · duplicate ${r.duplicates.length} · unknown origin ${r.unknownOrigin.length} · reordered ${r.reordered.length}`)
  if (r.unpublished.length) {
    out.push('', `UNPUBLISHED: written, not on Kafka after ${duration(r.graceMs)}`)
    out.push(capped(r.unpublished, (rows) => renderTable(['ID', 'AGGREGATE', 'TYPE', 'WRITTEN', 'AGE'], rows.map((u) => [u.id, `${u.aggregateType}/${u.aggregateId}`, u.type ?? '', recordTimeText(u.writtenAt), duration(u.ageMs)]))))
  }
  if (r.duplicates.length) {
    out.push('', 'DUPLICATE PUBLICATION: one row, more than one record')
    out.push(capped(r.duplicates, (rows) => renderTable(['ID', 'AGGREGATE', 'COPIES'], rows.map((d) => [d.id, d.aggregateId === undefined ? '(no row)' : `${d.aggregateType}/${d.aggregateId}`, d.copies.map(at).join(', ')]))))
  }
  if (r.unknownOrigin.length) {
    out.push('', 'UNKNOWN ORIGIN: records whose event id the table does not have')
    out.push(capped(r.unknownOrigin, (rows) => renderTable(['RECORD', 'EVENT ID', 'TIMESTAMP'], rows.map((u) => [at(u), u.eventId ?? '(none)', recordTimeText(u.timestamp)]))))
  }
  if (r.reordered.length) {
    out.push('', 'REORDERED: rows of one aggregate on Kafka in another order than written')
    out.push(capped(r.reordered, (rows) => renderTable(['AGGREGATE', 'WRITTEN FIRST', 'LANDED FIRST'], rows.map((x) => [`${x.aggregateType}/${x.aggregateId}`, `${x.earlier.id} (${at(x.earlier.at)})`, `${x.later.id} (${at(x.later.at)})`]))))
  }
  const lag = Object.entries(r.lag)
  if (lag.length) {
    out.push('', 'RELAY LAG: row written → record on Kafka')
    out.push(renderTable(['AGGREGATE TYPE', 'ROWS', 'P50', 'P95', 'MAX'], lag.map(([k, s]) => [k === '*' ? '(all)' : k, s.count, duration(s.p50), duration(s.p95), duration(s.max)]), { alignRight: [1, 2, 3, 4] }))
  }
  return out.join('\n')
}

/** One `evt outbox tail` event as a plain line (no trailing newline). */
export function renderOutboxTailEvent(e: OutboxTailEvent): string {
  if (e.kind === 'unknown') return `${recordTimeText(e.at.timestamp)}  UNKNOWN     ${at(e.at)}  ${e.eventId === undefined ? 'carries no event id' : `event id ${e.eventId} is not in the table`}`
  const row = `${e.row.aggregateType}/${e.row.aggregateId}  ${e.row.type ?? ''}  ${e.row.id}`
  if (e.kind === 'written') return `${recordTimeText(e.row.writtenAt)}  written     ${row}`
  if (e.kind === 'late') return `${recordTimeText(e.row.writtenAt)}  LATE        ${row}  not on Kafka after ${duration(e.ageMs)}`
  return `${recordTimeText(e.row.writtenAt)}  ${e.wasLate ? 'PUBLISHED*' : 'published '}  ${row}  → ${at(e.at)}  +${duration(e.lagMs)}`
}

/** One `evt outbox tail --json` line (docs/schemas/outbox-tail.schema.json). */
export function outboxTailJson(e: OutboxTailEvent): string {
  if (e.kind === 'unknown') return JSON.stringify({ kind: e.kind, at: e.at, eventId: e.eventId ?? null })
  const row = { id: e.row.id, aggregateType: e.row.aggregateType, aggregateId: e.row.aggregateId, type: e.row.type ?? null, writtenAt: e.row.writtenAt }
  if (e.kind === 'written') return JSON.stringify({ kind: e.kind, row })
  if (e.kind === 'late') return JSON.stringify({ kind: e.kind, row, ageMs: e.ageMs })
  return JSON.stringify({ kind: e.kind, row, at: e.at, lagMs: e.lagMs, wasLate: e.wasLate })
}
