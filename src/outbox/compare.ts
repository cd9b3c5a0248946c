/**
 * Compares a transactional outbox table with what reached Kafka (`evt outbox check`): pure logic
 * over rows read from the database and records read from the outbox topics.
 *
 * The layout follows Debezium's outbox event router (io.debezium.transforms.outbox.EventRouter):
 * one row per event with `id` (the event id, sent as the record's `id` header), `aggregatetype`
 * (routes the record to `outbox.event.<aggregatetype>`), `aggregateid` (the record key, so one
 * aggregate's events stay in one partition, in order), `type` and `payload`, plus a timestamp
 * column the service fills when it writes the row.
 */

/** One outbox row, in the order the service wrote them (timestamp, then the table's own order). */
export interface OutboxRow {
  /** The event id (Debezium: column `id`, header `id` on Kafka). */
  id: string
  aggregateType: string
  aggregateId: string
  /** The event type (column `type`). */
  type?: string
  /** When the row was written, epoch ms (the timestamp column). */
  writtenAt: number
}

/** One record found on an outbox topic. */
export interface PublishedRecord {
  /** The event id the record carries (header `id`, or the envelope's event id); undefined: none. */
  eventId?: string
  topic: string
  partition: number
  offset: number
  /** Broker timestamp (append or create time, as the topic says), epoch ms; -1: none. */
  timestamp: number
}

/** Where a record is: topic, partition and offset. */
export interface RecordPosition {
  topic: string
  partition: number
  offset: number
  /** epoch ms */
  timestamp: number
}

/** A row that did not reach Kafka within the grace period. */
export interface UnpublishedRow {
  id: string
  aggregateType: string
  aggregateId: string
  type?: string
  /** epoch ms */
  writtenAt: number
  /** How long ago it was written, ms. */
  ageMs: number
}

/** A row (or at least an event id) published more than once. */
export interface DuplicatePublication {
  id: string
  /** Undefined when the table does not have the row (deleted, or never there). */
  aggregateType?: string
  aggregateId?: string
  /** Every copy, in log order. */
  copies: RecordPosition[]
}

/** A record whose event id is not in the table, or that carries none. */
export interface UnknownOrigin extends RecordPosition {
  /** undefined: the record carries no event id at all. */
  eventId?: string
}

/** Two rows of one aggregate that reached Kafka in the opposite order to how they were written. */
export interface Reordering {
  aggregateType: string
  aggregateId: string
  /** The row written first, and where it landed. */
  earlier: { id: string; writtenAt: number; at: RecordPosition }
  /** The row written after it, which landed before it. */
  later: { id: string; writtenAt: number; at: RecordPosition }
}

/** Relay lag (row written → record timestamp), ms, over the rows that were published. */
export interface LagStats {
  count: number
  p50: number
  p95: number
  max: number
}

/** The whole comparison. Lists are sorted (rows by write time; records by topic, partition, offset). */
export interface OutboxComparison {
  /** Rows in the window. */
  rows: number
  /** Records read from the outbox topics. */
  records: number
  /** Rows with at least one record. */
  published: number
  /** Rows younger than the grace period and not on Kafka yet: not a finding. */
  pending: number
  unpublished: UnpublishedRow[]
  duplicates: DuplicatePublication[]
  unknownOrigin: UnknownOrigin[]
  reordered: Reordering[]
  /** Per aggregate type, and `*` for all rows. */
  lag: Record<string, LagStats>
}

/** How to compare. */
export interface CompareOptions {
  /** "Now" for ages, epoch ms. */
  now: number
  /** A row younger than this is pending, not unpublished, ms. */
  graceMs: number
  /**
   * Only records at or after this time (epoch ms) can be of unknown origin: older ones belong to
   * rows outside the window. Usually the window's start.
   */
  unknownAfter: number
  /** Event ids the table holds outside the window (rows written before it): not of unknown origin. */
  knownIds?: ReadonlySet<string>
  /** False when the table keeps no rows (deleted once written): no record can be called of unknown origin. */
  rowsKept?: boolean
}

/**
 * Compares rows and records: unpublished rows (older than the grace period, no record), duplicate
 * publications (one event id on more than one record), records of unknown origin (an event id the
 * table lacks, or none), reorderings within an aggregate, and relay lag per aggregate type.
 *
 * Rows must be given in write order; records in any order.
 */
export function compareOutbox(rows: readonly OutboxRow[], records: readonly PublishedRecord[], options: CompareOptions): OutboxComparison {
  const copiesById = new Map<string, RecordPosition[]>()
  const unknownOrigin: UnknownOrigin[] = []
  const rowById = new Map<string, OutboxRow>()
  for (const row of rows) rowById.set(row.id, row)

  const sorted = [...records].sort(byPosition)
  for (const r of sorted) {
    const at: RecordPosition = { topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp }
    const inWindow = options.rowsKept !== false && (r.timestamp < 0 || r.timestamp >= options.unknownAfter)
    if (r.eventId === undefined) {
      if (inWindow) unknownOrigin.push({ ...at })
      continue
    }
    const copies = copiesById.get(r.eventId)
    if (copies) copies.push(at)
    else copiesById.set(r.eventId, [at])
    if (inWindow && !rowById.has(r.eventId) && !options.knownIds?.has(r.eventId) && copiesById.get(r.eventId)!.length === 1) {
      unknownOrigin.push({ ...at, eventId: r.eventId })
    }
  }

  const unpublished: UnpublishedRow[] = []
  let published = 0
  let pending = 0
  const lags = new Map<string, number[]>()
  for (const row of rows) {
    const copies = copiesById.get(row.id)
    if (!copies) {
      const ageMs = options.now - row.writtenAt
      if (ageMs > options.graceMs) unpublished.push({ id: row.id, aggregateType: row.aggregateType, aggregateId: row.aggregateId, type: row.type, writtenAt: row.writtenAt, ageMs })
      else pending++
      continue
    }
    published++
    if (copies[0].timestamp >= 0) {
      const lag = Math.max(0, copies[0].timestamp - row.writtenAt)
      for (const key of [row.aggregateType, '*']) {
        const list = lags.get(key)
        if (list) list.push(lag)
        else lags.set(key, [lag])
      }
    }
  }

  const duplicates: DuplicatePublication[] = []
  for (const [id, copies] of copiesById) {
    if (copies.length < 2) continue
    const row = rowById.get(id)
    duplicates.push({ id, aggregateType: row?.aggregateType, aggregateId: row?.aggregateId, copies })
  }
  duplicates.sort((a, b) => byPosition(a.copies[0], b.copies[0]))

  const lag: Record<string, LagStats> = {}
  for (const [key, values] of [...lags].sort(([a], [b]) => (a === '*' ? 1 : b === '*' ? -1 : a.localeCompare(b)))) lag[key] = lagStats(values)

  return {
    rows: rows.length,
    records: records.length,
    published,
    pending,
    unpublished,
    duplicates,
    unknownOrigin,
    reordered: reorderings(rows, copiesById),
    lag,
  }
}

/**
 * Per aggregate, walks its published rows in write order and reports each row that landed before
 * a row written earlier (first copies compared; the same partition by offset, otherwise by
 * timestamp). One finding per out-of-order row, paired with the earliest-written row it overtook.
 */
function reorderings(rows: readonly OutboxRow[], copiesById: Map<string, RecordPosition[]>): Reordering[] {
  const byAggregate = new Map<string, Array<{ row: OutboxRow; at: RecordPosition }>>()
  for (const row of rows) {
    const at = copiesById.get(row.id)?.[0]
    if (!at) continue
    const key = `${row.aggregateType}\u0000${row.aggregateId}`
    const list = byAggregate.get(key)
    if (list) list.push({ row, at })
    else byAggregate.set(key, [{ row, at }])
  }
  const out: Reordering[] = []
  for (const list of byAggregate.values()) {
    for (let i = 1; i < list.length; i++) {
      const later = list[i]
      const overtaken = list.slice(0, i).find((earlier) => landedBefore(later.at, earlier.at))
      if (!overtaken) continue
      out.push({
        aggregateType: later.row.aggregateType,
        aggregateId: later.row.aggregateId,
        earlier: { id: overtaken.row.id, writtenAt: overtaken.row.writtenAt, at: overtaken.at },
        later: { id: later.row.id, writtenAt: later.row.writtenAt, at: later.at },
      })
    }
  }
  return out
}

function landedBefore(a: RecordPosition, b: RecordPosition): boolean {
  if (a.topic === b.topic && a.partition === b.partition) return a.offset < b.offset
  return a.timestamp >= 0 && b.timestamp >= 0 && a.timestamp < b.timestamp
}

function byPosition(a: RecordPosition, b: RecordPosition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.offset - b.offset
}

/** p50 / p95 / max of a list of ms values, nearest-rank percentiles. */
export function lagStats(values: readonly number[]): LagStats {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
  return { count: sorted.length, p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1] }
}
