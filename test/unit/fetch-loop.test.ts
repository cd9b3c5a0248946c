/**
 * The pure parts of the partition reader's fetch loop, on fetch responses built by the
 * independent record-batch builder (test/support/record-batch-builder.ts) and decoded by evt's
 * decoder, the way the reader gets them from the transport.
 */
import { describe, expect, it } from 'vitest'
import { decodeFetchResponse, type FetchPartition } from '../../src/kafka/fetch-decoder.ts'
import { collect, nextOffset, OFFSET_OUT_OF_RANGE, partitionOutcome, recordOffsets, resetOffset } from '../../src/kafka/fetch-loop.ts'
import { controlRecord, encodeBatch, encodeFetchResponse, type TestBatch } from '../support/record-batch-builder.ts'

const T0 = 1_700_000_000_000

/** One partition's fetch result from these batches (decoded as the reader decodes: records deferred). */
function fetched(batches: TestBatch[], options: { abortedTransactions?: Array<{ producerId: bigint; firstOffset: number }>; highWatermark?: number; needles?: Buffer[] } = {}): FetchPartition {
  const records = Buffer.concat(batches.map(encodeBatch))
  const body = encodeFetchResponse({ topics: [{ topic: 'orders', partitions: [{ partition: 2, highWatermark: options.highWatermark ?? 1000, lastStableOffset: options.highWatermark ?? 1000, abortedTransactions: options.abortedTransactions ?? [], records }] }] }, 11)
  return decodeFetchResponse(body, 11, { deferRecords: true, needles: options.needles }).partitions[0]
}

/** A batch of `n` records from `baseOffset` with values `v<offset>`. */
function batch(baseOffset: number, n: number, extra: Partial<TestBatch> = {}): TestBatch {
  return { baseOffset, baseTimestamp: T0, records: Array.from({ length: n }, (_, i) => ({ offsetDelta: i, timestampDelta: i, key: `k${baseOffset + i}`, value: `v${baseOffset + i}` })), ...extra }
}

const values = (chunk: { records: Array<{ value: Buffer | null }> }) => chunk.records.map((r) => r.value?.toString() ?? null)
const offsets = (chunk: { records: Array<{ offset: string }> }) => chunk.records.map((r) => Number(r.offset))

describe('collect', () => {
  it('returns the records from `from` on, with their partition, and continues after the last batch', () => {
    const part = fetched([batch(0, 3), batch(3, 3)])
    const chunk = collect(part, 1, undefined, 'read_uncommitted')
    expect(values(chunk)).toEqual(['v1', 'v2', 'v3', 'v4', 'v5'])
    expect(chunk.records[0]).toMatchObject({ topic: 'orders', partition: 2, offset: '1', timestamp: T0 + 1 })
    expect(chunk.nextOffset).toBe(6)
    expect(chunk.highWatermark).toBe(1000)
    expect(chunk.bytes).toBeGreaterThan(0)
  })

  it('stops at `end` (exclusive) and continues at `end`', () => {
    const chunk = collect(fetched([batch(10, 5), batch(15, 5)]), 10, 13, 'read_uncommitted')
    expect(offsets(chunk)).toEqual([10, 11, 12])
    expect(chunk.nextOffset).toBe(13)
  })

  it('an end below `from` yields nothing and does not move back', () => {
    const chunk = collect(fetched([batch(10, 5)]), 12, 11, 'read_uncommitted')
    expect(chunk.records).toEqual([])
    expect(chunk.nextOffset).toBe(12)
  })

  it('steps over compacted gaps: offsets missing inside and between batches', () => {
    // batch 0: offsets 0, 2, 4 (lastOffsetDelta 5: 5 was compacted away too); batch 2: 9, 10
    const compacted: TestBatch = { baseOffset: 0, baseTimestamp: T0, lastOffsetDelta: 5, records: [0, 2, 4].map((d) => ({ offsetDelta: d, value: `v${d}` })) }
    const part = fetched([compacted, { baseOffset: 9, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'v9' }, { offsetDelta: 1, value: 'v10' }] }])
    const chunk = collect(part, 0, undefined, 'read_uncommitted')
    expect(offsets(chunk)).toEqual([0, 2, 4, 9, 10])
    expect(chunk.nextOffset).toBe(11)
    // a batch whose surviving records all lie before `from` still moves the position past it
    const after = collect(fetched([compacted]), 5, undefined, 'read_uncommitted')
    expect(after.records).toEqual([])
    expect(after.nextOffset).toBe(6)
  })

  describe('transactions', () => {
    const committedProducer = 7n
    const abortedProducer = 9n
    // 0-1: committed txn records, 2-3: aborted txn records, 4: commit marker (7), 5: abort marker (9), 6: plain record
    const batches: TestBatch[] = [
      batch(0, 2, { transactional: true, producerId: committedProducer, producerEpoch: 0 }),
      batch(2, 2, { transactional: true, producerId: abortedProducer, producerEpoch: 0 }),
      { baseOffset: 4, baseTimestamp: T0, transactional: true, control: true, producerId: committedProducer, producerEpoch: 0, records: [controlRecord('commit')] },
      { baseOffset: 5, baseTimestamp: T0, transactional: true, control: true, producerId: abortedProducer, producerEpoch: 0, records: [controlRecord('abort')] },
      batch(6, 1),
    ]
    const part = () => fetched(batches, { abortedTransactions: [{ producerId: abortedProducer, firstOffset: 2 }] })

    it('read_committed hides the aborted producer\'s records, keeps the committed one\'s, skips markers', () => {
      const chunk = collect(part(), 0, undefined, 'read_committed')
      expect(values(chunk)).toEqual(['v0', 'v1', 'v6'])
      expect(chunk.nextOffset).toBe(7)
    })

    it('read_uncommitted shows every data record but never the markers', () => {
      expect(values(collect(part(), 0, undefined, 'read_uncommitted'))).toEqual(['v0', 'v1', 'v2', 'v3', 'v6'])
    })

    it('after the abort marker the same producer\'s later transactions are visible again', () => {
      const later = [...batches, batch(7, 1, { transactional: true, producerId: abortedProducer, producerEpoch: 0 }), { baseOffset: 8, baseTimestamp: T0, transactional: true, control: true, producerId: abortedProducer, producerEpoch: 0, records: [controlRecord('commit')] }]
      const chunk = collect(fetched(later, { abortedTransactions: [{ producerId: abortedProducer, firstOffset: 2 }] }), 0, undefined, 'read_committed')
      expect(values(chunk)).toEqual(['v0', 'v1', 'v6', 'v7'])
      expect(chunk.nextOffset).toBe(9)
    })
  })

  it('with needles, batches without them are counted as skipped, not decoded', () => {
    const part = fetched([batch(0, 3), { baseOffset: 3, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'has-needle' }, { offsetDelta: 1, value: 'other' }] }], { needles: [Buffer.from('needle')] })
    const chunk = collect(part, 1, undefined, 'read_uncommitted')
    expect(values(chunk)).toEqual(['has-needle', 'other'])
    expect(chunk.skipped).toBe(2) // offsets 1 and 2 of the first batch (0 lies before `from`)
  })
})

describe('nextOffset', () => {
  it('agrees with collect, from batch headers only', () => {
    const part = fetched([batch(0, 3), batch(3, 4)])
    for (const [from, end] of [[0, undefined], [2, undefined], [0, 5], [4, 100], [7, undefined]] as const) {
      expect(nextOffset(part, from, end)).toBe(collect(part, from, end, 'read_uncommitted').nextOffset)
    }
    expect(nextOffset(part, 0, undefined)).toBe(7)
    expect(nextOffset(part, 0, 5)).toBe(5)
  })

  it('stays at `from` when nothing was returned', () => {
    expect(nextOffset(fetched([]), 42, undefined)).toBe(42)
  })
})

describe('partition errors and offset resets', () => {
  it('classifies error codes', () => {
    expect(partitionOutcome(0)).toBe('records')
    expect(partitionOutcome(OFFSET_OUT_OF_RANGE)).toBe('reset')
    for (const code of [3, 5, 6, 74, 75, 76, 78, 100]) expect(partitionOutcome(code)).toBe('retry')
    expect(partitionOutcome(29)).toBe('fail') // TOPIC_AUTHORIZATION_FAILED
  })

  it('resets to the log start when behind it, to the end when past it', () => {
    expect(resetOffset(5, { low: 100, high: 200 })).toBe(100)
    expect(resetOffset(500, { low: 100, high: 200 })).toBe(200)
  })
})

describe('recordOffsets', () => {
  const compacted: TestBatch = { baseOffset: 0, baseTimestamp: T0, lastOffsetDelta: 5, records: [0, 2, 4].map((d) => ({ offsetDelta: d, value: `v${d}` })) }

  it('gives the offsets collect would give, for whole batches, compacted ones and ranges cut by from/end', () => {
    const part = () => fetched([compacted, batch(6, 4), { baseOffset: 12, baseTimestamp: T0, records: [{ offsetDelta: 0, value: 'v12' }] }])
    expect(recordOffsets(part(), 0, undefined, 'read_uncommitted')).toEqual([0, 2, 4, 6, 7, 8, 9, 12])
    expect(recordOffsets(part(), 1, 9, 'read_uncommitted')).toEqual([2, 4, 6, 7, 8])
    for (const [from, end] of [[0, undefined], [3, 8], [7, 13], [5, 6]] as const) expect(recordOffsets(part(), from, end, 'read_uncommitted')).toEqual(offsets(collect(part(), from, end, 'read_uncommitted')))
  })

  it('leaves out transaction markers, and aborted records under read_committed only', () => {
    const batches: TestBatch[] = [
      batch(0, 2, { transactional: true, producerId: 7n, producerEpoch: 0 }),
      batch(2, 2, { transactional: true, producerId: 9n, producerEpoch: 0 }),
      { baseOffset: 4, baseTimestamp: T0, transactional: true, control: true, producerId: 7n, producerEpoch: 0, records: [controlRecord('commit')] },
      { baseOffset: 5, baseTimestamp: T0, transactional: true, control: true, producerId: 9n, producerEpoch: 0, records: [controlRecord('abort')] },
    ]
    const part = () => fetched(batches, { abortedTransactions: [{ producerId: 9n, firstOffset: 2 }] })
    expect(recordOffsets(part(), 0, undefined, 'read_committed')).toEqual([0, 1])
    expect(recordOffsets(part(), 0, undefined, 'read_uncommitted')).toEqual([0, 1, 2, 3])
  })

  it('counts batches that a search would skip (needles) too', () => {
    expect(recordOffsets(fetched([batch(0, 3)], { needles: [Buffer.from('absent')] }), 1, undefined, 'read_uncommitted')).toEqual([1, 2])
  })
})
