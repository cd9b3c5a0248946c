/**
 * The trace index: one pointer row per record that carries an id (correlation or trace id,
 * event id, causation id), so that `evt trace` can look records up instead of scanning. Rows
 * point into Kafka (topic, partition, offset); the records themselves are read from Kafka.
 *
 * A store holds the rows and, per partition, how far the index reaches: `[from, next)` is the
 * range of offsets whose records have all been looked at (rows written for those with ids).
 * Rows and the reach of one batch are stored in one transaction, so the reach never claims a
 * record whose row is missing. Rows are unique on (topic, partition, offset): storing a batch
 * again (a worker killed after storing and before committing its group offsets) changes nothing.
 *
 * Units: offsets are JS numbers, timestamps epoch ms, sizes bytes.
 */

/** One pointer row: where a record is and the ids it carries (fields from src/envelope's EventMeta). */
export interface PointerRow {
  topic: string
  partition: number
  offset: number
  /** Record timestamp, epoch ms. */
  timestamp: number
  /** The record's correlation id, else its W3C/B3 trace id. */
  correlationId: string | null
  /** The trace id when it differs from the correlation id (a record found under both). */
  traceId: string | null
  eventId: string | null
  /** Causation id, else the parent span. */
  causationId: string | null
  eventType: string | null
  aggregateId: string | null
}

/** The reach of the index on one partition: offsets `[from, next)` are indexed. */
export interface PartitionReach {
  topic: string
  partition: number
  /** The first offset indexed (where the index started on this partition). */
  from: number
  /** The next offset to index. */
  next: number
}

/** One partition's entry in {@link IndexStore.status}. */
export interface PartitionIndexStatus extends PartitionReach {
  /** Pointer rows stored for this partition. */
  rows: number
}

/** Which id a lookup matches. `correlation` also matches the trace id column. */
export type LookupField = 'correlation' | 'event' | 'causation'

/** One batch to store: rows and the reach it extends (`[from, next)` of each partition it covers). */
export interface IndexBatch {
  rows: PointerRow[]
  /**
   * Per partition: offsets `[from, next)` have been looked at. A partition new to the store starts its reach at
   * `from`; a batch that starts at or before the stored reach's end extends it to `next` (never back); a batch that
   * starts after it (a gap: the group's offsets were moved forward) starts the reach again at `from`.
   */
  reach: PartitionReach[]
}

/**
 * A pointer store (SQLite file or PostgreSQL database). Methods throw EvtError (exit 3, named
 * store) when the store cannot be opened or reached; not-found (4) when a PostgreSQL URL names a
 * database that does not exist.
 */
export interface IndexStore {
  /** What the store is, for messages (`local (…/default.sqlite)`, `postgres://host:5432/db`, password never shown). */
  readonly description: string
  /**
   * False when the store was opened for reading (`create: false`) and holds no index of that name: nothing was
   * created, and every read answers empty.
   */
  readonly exists: boolean
  /** Stores rows and the reach they cover in one transaction; rows already stored (same topic, partition, offset) are left as they are. */
  write(batch: IndexBatch): Promise<void>
  /** Rows whose id (of the given field) is `id`, ordered by topic, partition, offset. Only `correlation` is indexed: `event` and `causation` read the whole table. */
  lookup(field: LookupField, id: string): Promise<PointerRow[]>
  /** The reach of every indexed partition (of the given topics, or all). */
  reach(topics?: string[]): Promise<PartitionReach[]>
  /** Reach and row counts per partition. */
  status(): Promise<PartitionIndexStatus[]>
  /** Bytes the store occupies (file size, or the tables' size in PostgreSQL). */
  sizeBytes(): Promise<number>
  /** Deletes rows of records older than `timestamp` (epoch ms); returns how many went. */
  deleteOlderThan(timestamp: number): Promise<number>
  /** Deletes every row and reach entry (a local file stays, empty; a PostgreSQL index's schema is dropped). */
  drop(): Promise<void>
  /** Closes the connection or file. Never throws. */
  close(): Promise<void>
}

/**
 * A pointer row as both stores' SQL returns it (`pointers` columns; PostgreSQL returns bigint
 * columns as strings, SQLite as numbers).
 */
export interface PointerRowData {
  topic: string
  partition: number
  offset: number | string
  ts: number | string
  correlation_id: string | null
  trace_id: string | null
  event_id: string | null
  causation_id: string | null
  event_type: string | null
  aggregate_id: string | null
}

/** The {@link PointerRow} of a row of the `pointers` table (numbers parsed). */
export function pointerRowFrom(r: PointerRowData): PointerRow {
  return {
    topic: r.topic,
    partition: Number(r.partition),
    offset: Number(r.offset),
    timestamp: Number(r.ts),
    correlationId: r.correlation_id,
    traceId: r.trace_id,
    eventId: r.event_id,
    causationId: r.causation_id,
    eventType: r.event_type,
    aggregateId: r.aggregate_id,
  }
}
