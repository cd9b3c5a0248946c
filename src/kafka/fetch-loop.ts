/**
 * The pure parts of the partition reader's fetch loop: what one partition's fetch result means
 * (records, an offset reset, a retry, a failure), the records it yields, and where the partition
 * continues. No I/O: the reader (reader.ts) sends the requests and calls these.
 */
import type { RawRecord } from '../record.ts'
import type { FetchPartition, RecordBatch } from './fetch-decoder.ts'
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
  /**
   * Only with {@link ReadOptions.offsetsOnly}: the offsets of the records in range (no record objects are
   * built; `records` is empty).
   */
  offsets?: number[]
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
 * The batches of one partition's fetch result that hold records a reader of `isolation` sees, from
 * `from` on: batches ending before `from`, control batches (transaction markers) and, under
 * read_committed, batches of aborted transactions (the response's aborted-transaction list, closed by
 * the producer's abort marker) are left out. `onBatch` sees every batch that reaches `from` (for
 * sizes and where the partition continues).
 */
function* visibleBatches(part: FetchPartition, from: number, isolation: Isolation, onBatch?: (batch: RecordBatch) => void): Generator<RecordBatch> {
  const committedOnly = isolation === 'read_committed'
  const aborted = committedOnly ? [...part.abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset) : []
  const abortedProducers = new Set<bigint>()
  for (const batch of part.batches) {
    if (batch.lastOffset < from) continue
    onBatch?.(batch)
    if (committedOnly && batch.isTransactional) {
      while (aborted.length && aborted[0].firstOffset <= batch.lastOffset) abortedProducers.add(aborted.shift()!.producerId)
      if (batch.isControl) {
        if (batch.controlType === 'abort') abortedProducers.delete(batch.producerId)
        continue
      }
      if (abortedProducers.has(batch.producerId)) continue
    }
    if (batch.isControl) continue
    yield batch
  }
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
  const seen = (batch: RecordBatch) => {
    next = Math.max(next, batch.lastOffset + 1)
    bytes += batch.sizeBytes
  }
  for (const batch of visibleBatches(part, from, isolation, seen)) {
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

/**
 * The offsets of the records in `[from, end)` of one partition's fetch result that a reader of
 * `isolation` sees (what {@link collect} would return, as offsets only), ascending, appended to `out`.
 * A batch without gaps (record count = offset span: not compacted) gives its offsets by arithmetic,
 * without building record objects; a compacted one is walked. Used to count records (positions
 * `-N`, `+N`, `FROM:+N` and plan counts) where offsets are not records.
 */
export function recordOffsets(part: FetchPartition, from: number, end: number | undefined, isolation: Isolation, out: number[] = []): number[] {
  for (const batch of visibleBatches(part, from, isolation)) {
    const count = batch.unmatched?.count ?? batch.deferred?.count ?? batch.records.length
    const stop = end === undefined ? batch.lastOffset + 1 : Math.min(end, batch.lastOffset + 1)
    if (count === batch.lastOffset - batch.baseOffset + 1) {
      for (let o = Math.max(from, batch.baseOffset); o < stop; o++) out.push(o)
      continue
    }
    const records = batch.unmatched ? batch.unmatched.records() : batch.deferred ? batch.deferred.records() : batch.records
    for (const r of records) {
      if (r.offset < from) continue
      if (r.offset >= stop) break
      out.push(r.offset)
    }
  }
  return out
}
