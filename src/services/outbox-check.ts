/**
 * `evt outbox check`: compares a transactional outbox table with the records on its topics, for a
 * window. Reads both sides, writes to neither: the database session is read-only and Kafka is read
 * by partition assignment, without a consumer group.
 */
import { createExtractor } from '../envelope/index.ts'
import { notFoundError, usageError } from '../errors.ts'
import type { KafkaSession } from '../kafka/session.ts'
import { parsePositionRange } from '../kafka/positions.ts'
import { compareOutbox, type OutboxComparison, type OutboxRow, type PublishedRecord } from '../outbox/compare.ts'
import { OutboxDb } from '../outbox/postgres.ts'
import { relayTopics, type OutboxTarget } from '../outbox/target.ts'
import { tailRecords } from './tail.ts'

/** What to compare. */
export interface OutboxCheckOptions extends OutboxTarget {
  /** Window start, epoch ms: rows written from then on, records appended from then on. */
  sinceMs: number
  /** A row younger than this is pending, not unpublished, ms. */
  graceMs: number
  signal?: AbortSignal
  onWarning?: (message: string) => void
}

/** The comparison and what it covered. */
export interface OutboxCheckResult extends OutboxComparison {
  /** epoch ms: window start, and when the table was read ("now" for ages). */
  window: { since: number; until: number }
  table: string
  topics: string[]
  graceMs: number
  /** False when the table holds no rows at all while its topics have records (rows deleted once written). */
  rowsKept: boolean
}

/**
 * Reads the table's rows since the window start, then the outbox topics from the window start to
 * their end offsets, and compares them ({@link compareOutbox}). Ids the window's rows lack are
 * looked up in the whole table, so a row written just before the window is not "unknown".
 * @throws EvtError for the database (see OutboxDb.open) and Kafka (connect 3, not-found 4).
 */
export async function checkOutbox(session: KafkaSession, options: OutboxCheckOptions): Promise<OutboxCheckResult> {
  const db = await OutboxDb.open(options.table)
  try {
    const until = Date.now()
    const rows = await db.rowsSince(options.sinceMs, options.aggregateTypes)
    if (options.aggregateTypes?.length) await warnUnmatchedTypes(db, options, rows)

    const reader = await session.reader('read_committed')
    let topics: string[]
    if (options.topics?.length) topics = options.topics
    else {
      topics = relayTopics(await reader.topicNames(), options.topicPrefix)
      if (topics.length === 0 && rows.length === 0) {
        throw notFoundError(`no topic starts with "${options.topicPrefix}" and the table has no rows since the window start`, 'name the relay\'s topics with --topic-prefix or --topic, or widen the window with --since')
      }
      if (topics.length === 0) options.onWarning?.(`no topic starts with "${options.topicPrefix}": has the relay ever published? (name the topics with --topic-prefix or --topic)`)
    }

    const records: PublishedRecord[] = []
    if (topics.length) {
      const extract = createExtractor(session.connection.envelope)
      const range = parsePositionRange(`@${options.sinceMs}:end`)
      for await (const chunk of tailRecords(session, { topics, range, signal: options.signal, onWarning: options.onWarning })) {
        for (const r of chunk) {
          records.push({ eventId: extract(r).eventId, topic: r.topic, partition: r.partition, offset: Number(r.offset), timestamp: r.timestamp })
        }
      }
    }

    const rowIds = new Set(rows.map((r) => r.id))
    const missing = [...new Set(records.map((r) => r.eventId).filter((id): id is string => id !== undefined && !rowIds.has(id)))]
    const knownIds = await db.existingIds(missing)
    const rowsKept = !(rows.length === 0 && records.length > 0 && (await db.rowCount()) === 0)
    if (!rowsKept) options.onWarning?.(`table "${options.table.table}" holds no rows while its topics have ${records.length} record(s): rows are deleted once written, so unpublished rows and records of unknown origin cannot be told (duplicates, order and lag still are)`)

    const comparison = compareOutbox(rows, records, { now: until, graceMs: options.graceMs, unknownAfter: options.sinceMs, knownIds, rowsKept })
    return { window: { since: options.sinceMs, until }, table: options.table.table, topics, graceMs: options.graceMs, rowsKept, ...comparison }
  } finally {
    await db.close()
  }
}

/** How many aggregate types a warning about an unmatched `--aggregate-type` lists at most. */
export const TYPES_SHOWN = 20

/**
 * Warns once for each requested aggregate type that no row of the window has (a typo, another
 * case, a type not written lately), listing the types the window's rows do have.
 */
async function warnUnmatchedTypes(db: OutboxDb, options: OutboxCheckOptions, rows: readonly OutboxRow[]): Promise<void> {
  const matched = new Set(rows.map((r) => r.aggregateType))
  const unmatched = [...new Set(options.aggregateTypes)].filter((t) => !matched.has(t))
  if (unmatched.length === 0 || !options.onWarning) return
  const seen = await db.aggregateTypesSince(options.sinceMs)
  const shown = seen.slice(0, TYPES_SHOWN).map((s) => JSON.stringify(s.type)).join(', ')
  const list = seen.length === 0 ? 'none (the table has no row in the window)' : `${shown}${seen.length > TYPES_SHOWN ? ` (and ${seen.length - TYPES_SHOWN} more)` : ''}`
  for (const type of unmatched) options.onWarning(`no outbox row has aggregate type ${JSON.stringify(type)} in the window; types seen: ${list}`)
}

/** Finding kinds `--fail-on` can name. */
export const OUTBOX_FINDINGS = ['unpublished', 'duplicate', 'unknown', 'reordered'] as const
export type OutboxFinding = (typeof OUTBOX_FINDINGS)[number]

/** How many findings of each kind a result has. */
export function findingCounts(result: OutboxComparison): Record<OutboxFinding, number> {
  return { unpublished: result.unpublished.length, duplicate: result.duplicates.length, unknown: result.unknownOrigin.length, reordered: result.reordered.length }
}

/**
 * `--fail-on` as typed: comma-separated finding kinds.
 * @throws EvtError usage (2) naming an unknown kind.
 */
export function parseFailOn(text: string | undefined): OutboxFinding[] {
  if (!text) return []
  const kinds = text.split(',').map((s) => s.trim()).filter(Boolean)
  for (const k of kinds) if (!(OUTBOX_FINDINGS as readonly string[]).includes(k)) throw usageError(`--fail-on: "${k}" is not a finding`, `use some of: ${OUTBOX_FINDINGS.join(', ')}`)
  return kinds as OutboxFinding[]
}
