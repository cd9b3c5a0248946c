/**
 * The records marked in the DLQ browser as a requeue selection: a {@link RequeueRequest} whose
 * filter accepts exactly those records (by partition and offset), over the whole DLQ (start:end),
 * and a stable text naming the set, so the requeue's progress group (and transactional id) is
 * specific to that selection: requeueing the same marks again sends nothing.
 */
import type { RequeueRequest } from '../../services/dlq-requeue.ts'
import { recordId } from './format.ts'

/** A marked DLQ record. */
export interface MarkedRecord {
  partition: number
  /** Offset as a decimal string. */
  offset: string
}

/** Ordered by partition, then offset (numerically); duplicates dropped. */
export function sortMarked(marked: readonly MarkedRecord[]): MarkedRecord[] {
  const byId = new Map(marked.map((m) => [recordId(m), m]))
  return [...byId.values()].sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0))
}

/** `marked:0@3,0@12,2@5`: the set, sorted. */
export function markedFilterText(marked: readonly MarkedRecord[]): string {
  return `marked:${sortMarked(marked).map(recordId).join(',')}`
}

/** The request and the filter text for `planRequeue(connection, request, filterText)`. */
export function markedRequeue(dlqTopic: string, marked: readonly MarkedRecord[]): { request: RequeueRequest; filterText: string } {
  const sorted = sortMarked(marked)
  const ids = new Set(sorted.map(recordId))
  const partitions = [...new Set(sorted.map((m) => m.partition))]
  return {
    request: {
      dlqTopic,
      range: { from: { kind: 'start' }, to: { kind: 'end' } },
      // only the partitions that hold marked records are read
      partitions,
      filter: (record) => ids.has(recordId(record)),
    },
    filterText: markedFilterText(sorted),
  }
}
