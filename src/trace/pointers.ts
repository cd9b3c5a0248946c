/**
 * What the trace index keeps of a record: its pointer row, built from the same EventMeta that
 * `evt trace` extracts (src/envelope), so a lookup finds what the scan would find by id.
 */
import type { EventMeta } from '../envelope/index.ts'
import type { PointerRow } from '../index-store/types.ts'
import type { RawRecord } from '../record.ts'

/** Ids longer than this are not indexed (no real correlation id is), characters. */
export const MAX_INDEXED_ID = 512

function id(value: string | undefined): string | null {
  return value === undefined || value === '' || value.length > MAX_INDEXED_ID ? null : value
}

/**
 * The pointer row of a record, or null when it carries none of the ids a trace looks for
 * (correlation id, trace id, event id, causation id / parent span).
 */
export function pointerRow(raw: RawRecord, meta: EventMeta): PointerRow | null {
  const correlationId = id(meta.correlationId) ?? id(meta.traceId)
  const traceId = id(meta.traceId)
  const row: PointerRow = {
    topic: raw.topic,
    partition: raw.partition,
    offset: Number(raw.offset),
    timestamp: raw.timestamp,
    correlationId,
    traceId: traceId === correlationId ? null : traceId,
    eventId: id(meta.eventId),
    causationId: id(meta.causationId) ?? id(meta.parentSpanId),
    eventType: id(meta.eventType),
    aggregateId: id(meta.aggregateId),
  }
  return row.correlationId || row.eventId || row.causationId ? row : null
}
