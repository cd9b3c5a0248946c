/**
 * The pure parts of the partition reader's fetch loop: what one partition's fetch result means
 * (records, an offset reset, a retry, a failure), the records it yields, and where the partition
 * continues. No I/O: the reader (reader.ts) sends the requests and calls these.
 */
import type { RawRecord } from '../record.ts'
import type { FetchPartition } from './fetch-decoder.ts'
import type { Isolation } from './types.ts'

/** Records of one partition from one fetch, in offset order. */
export interface ReadChunk {
  topic: string
  partition: number
  records: RawRecord[]
  /** The offset the next fetch of this partition starts at. */
  nextOffset: number
  /** High watermark reported with this fetch. */
  highWatermark: number
  /** Bytes of record batches in this chunk (compressed size on the wire). */
  bytes: number
  /**
   * Records in range that are not in `records` because none of the read's needles occurs in their
   * batch (0 without needles). `records.length + skipped` is what was read.
   */
  skipped: number
}

/** Kafka's OFFSET_OUT_OF_RANGE error code. */
export const OFFSET_OUT_OF_RANGE = 1

/** Partition errors that a metadata refresh and another fetch cure: unknown topic/partition, leader not available, not leader, fenced/unknown leader epoch, offset not available, unknown topic id, … */
export const RETRIABLE_PARTITION_ERRORS: ReadonlySet<number> = new Set([3, 5, 6, 74, 75, 76, 78, 100])

/** What to do with one partition of a fetch response. */
export type PartitionOutcome = 'records' | 'reset' | 'retry' | 'fail'

/** Classifies a partition's error code: 0 → records, out of range → reset, retriable → retry (after a metadata refresh), anything else → fail. */
export function partitionOutcome(errorCode: number): PartitionOutcome {
  if (errorCode === OFFSET_OUT_OF_RANGE) return 'reset'
  if (RETRIABLE_PARTITION_ERRORS.has(errorCode)) return 'retry'
  return errorCode === 0 ? 'records' : 'fail'
}

/**
 * Where a partition continues after its offset fell out of the retained range `[low, high)`:
 * at the low watermark when it is before the log start (retention deleted it), else at the high
 * watermark (it is past the end, e.g. after the log was truncated).
 */
export function resetOffset(next: number, bounds: { low: number; high: number }): number {
  return next < bounds.low ? bounds.low : bounds.high
}

/**
 * Where a partition continues after this fetch result: past the last whole batch that reaches
 * `from`, but not beyond `end` (what {@link collect} computes, from batch headers only).
 */
export function nextOffset(part: FetchPartition, from: number, end: number | undefined): number {
  let next = from
  for (const batch of part.batches) if (batch.lastOffset >= from) next = Math.max(next, batch.lastOffset + 1)
  return end === undefined ? next : Math.min(next, Math.max(end, from))
}

/**
 * Turns one partition's fetch result into records: skips what lies before `from` (a batch
 * may start earlier), control batches, and (read_committed) aborted transactions; stops at
 * `end` (exclusive; undefined = no end). The next offset follows the last whole batch, so
 * compacted gaps and transaction markers are stepped over.
 */
export function collect(part: FetchPartition, from: number, end: number | undefined, isolation: Isolation): ReadChunk {
  const records: RawRecord[] = []
  let next = from
  let bytes = 0
  let skipped = 0
  const committedOnly = isolation === 'read_committed'
  const aborted = committedOnly ? [...part.abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset) : []
  const abortedProducers = new Set<bigint>()
  for (const batch of part.batches) {
    if (batch.lastOffset < from) continue
    next = Math.max(next, batch.lastOffset + 1)
    bytes += batch.sizeBytes
    if (committedOnly && batch.isTransactional) {
      while (aborted.length && aborted[0].firstOffset <= batch.lastOffset) abortedProducers.add(aborted.shift()!.producerId)
      if (batch.isControl) {
        if (batch.controlType === 'abort') abortedProducers.delete(batch.producerId)
        continue
      }
      if (abortedProducers.has(batch.producerId)) continue
    }
    if (batch.isControl) continue
    if (batch.unmatched) {
      if (batch.baseOffset >= from && (end === undefined || batch.lastOffset < end)) skipped += batch.unmatched.count
      else for (const r of batch.unmatched.records()) if (r.offset >= from && (end === undefined || r.offset < end)) skipped++
      continue
    }
    for (const r of batch.deferred ? batch.deferred.records() : batch.records) {
      if (r.offset < from) continue
      if (end !== undefined && r.offset >= end) break
      records.push({ topic: part.topic, partition: part.partition, offset: String(r.offset), timestamp: r.timestamp, timestampType: batch.timestampType, key: r.key, value: r.value, headers: r.headers })
    }
  }
  if (end !== undefined) next = Math.min(next, Math.max(end, from))
  return { topic: part.topic, partition: part.partition, records, nextOffset: next, highWatermark: part.highWatermark, bytes, skipped }
}
