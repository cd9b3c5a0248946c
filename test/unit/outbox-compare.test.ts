import { describe, expect, it } from 'vitest'
import { compareOutbox, lagStats, type OutboxRow, type PublishedRecord } from '../../src/outbox/compare.ts'

const T = 1_700_000_000_000
const row = (id: string, aggregateId: string, writtenAt: number, aggregateType = 'order'): OutboxRow => ({ id, aggregateType, aggregateId, type: 'OrderPlaced', writtenAt })
const rec = (eventId: string | undefined, offset: number, timestamp: number, partition = 0, topic = 'outbox.event.order'): PublishedRecord => ({ eventId, topic, partition, offset, timestamp })
const options = { now: T + 120_000, graceMs: 30_000, unknownAfter: T }

describe('compareOutbox', () => {
  it('every row published once, in order: no finding, lag per aggregate type and overall', () => {
    const rows = [row('a', 'o1', T), row('b', 'o1', T + 10), row('c', 'p1', T + 20, 'payment')]
    const records = [rec('a', 0, T + 5), rec('b', 1, T + 40), rec('c', 0, T + 21, 0, 'outbox.event.payment')]
    const c = compareOutbox(rows, records, options)
    expect(c).toMatchObject({ rows: 3, records: 3, published: 3, pending: 0, unpublished: [], duplicates: [], unknownOrigin: [], reordered: [] })
    expect(c.lag).toEqual({
      order: { count: 2, p50: 5, p95: 30, max: 30 },
      payment: { count: 1, p50: 1, p95: 1, max: 1 },
      '*': { count: 3, p50: 5, p95: 30, max: 30 },
    })
    expect(Object.keys(c.lag)).toEqual(['order', 'payment', '*'])
  })

  it('a row not on Kafka is unpublished after the grace period, pending before it', () => {
    const rows = [row('old', 'o1', T), row('young', 'o2', options.now - 10_000)]
    const c = compareOutbox(rows, [], options)
    expect(c.unpublished).toEqual([{ id: 'old', aggregateType: 'order', aggregateId: 'o1', type: 'OrderPlaced', writtenAt: T, ageMs: 120_000 }])
    expect(c.pending).toBe(1)
    expect(c.published).toBe(0)
  })

  it('one row on two records is a duplicate publication with both positions; lag counts the first copy', () => {
    const c = compareOutbox([row('a', 'o1', T)], [rec('a', 7, T + 900), rec('a', 3, T + 100)], options)
    expect(c.duplicates).toEqual([{ id: 'a', aggregateType: 'order', aggregateId: 'o1', copies: [
      { topic: 'outbox.event.order', partition: 0, offset: 3, timestamp: T + 100 },
      { topic: 'outbox.event.order', partition: 0, offset: 7, timestamp: T + 900 },
    ] }])
    expect(c.lag['*']).toEqual({ count: 1, p50: 100, p95: 100, max: 100 })
    expect(c.unknownOrigin).toEqual([])
  })

  it('a record whose id the table lacks, or with no id, is of unknown origin; older records are out of the window', () => {
    const c = compareOutbox([row('a', 'o1', T)], [rec('a', 0, T), rec('planted', 1, T + 5), rec(undefined, 2, T + 6), rec('before-window', 0, T - 1, 1)], options)
    expect(c.unknownOrigin).toEqual([
      { topic: 'outbox.event.order', partition: 0, offset: 1, timestamp: T + 5, eventId: 'planted' },
      { topic: 'outbox.event.order', partition: 0, offset: 2, timestamp: T + 6 },
    ])
  })

  it('rows of one aggregate landing in the opposite order are reordered; other aggregates are not', () => {
    const rows = [row('a1', 'o1', T), row('a2', 'o1', T + 1), row('a3', 'o1', T + 2), row('b1', 'o2', T), row('b2', 'o2', T + 1)]
    const records = [rec('a2', 0, T + 3), rec('a1', 1, T + 4), rec('a3', 2, T + 5), rec('b2', 0, T + 3, 1), rec('b1', 1, T + 2, 1)]
    const c = compareOutbox(rows, records, options)
    expect(c.reordered).toHaveLength(2)
    expect(c.reordered[0]).toMatchObject({ aggregateId: 'o1', earlier: { id: 'a1', at: { offset: 1 } }, later: { id: 'a2', at: { offset: 0 } } })
    expect(c.reordered[1]).toMatchObject({ aggregateId: 'o2', earlier: { id: 'b1', at: { partition: 1, offset: 1 } }, later: { id: 'b2', at: { partition: 1, offset: 0 } } })
  })

  it('rows in order on one partition are not reordered even when timestamps tie or go back', () => {
    const rows = [row('a1', 'o1', T), row('a2', 'o1', T + 1)]
    const c = compareOutbox(rows, [rec('a1', 0, T + 9), rec('a2', 1, T + 2)], options)
    expect(c.reordered).toEqual([])
  })
})

describe('lagStats', () => {
  it('nearest-rank percentiles', () => {
    expect(lagStats([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ count: 10, p50: 5, p95: 10, max: 10 })
    expect(lagStats([42])).toEqual({ count: 1, p50: 42, p95: 42, max: 42 })
  })
})

describe('compareOutbox: rows outside the window, tables that delete their rows', () => {
  it('an id the table holds outside the window is not of unknown origin', () => {
    const c = compareOutbox([], [rec('older-row', 0, T + 5)], { ...options, knownIds: new Set(['older-row']) })
    expect(c.unknownOrigin).toEqual([])
  })

  it('with rowsKept false nothing is of unknown origin, duplicates still show', () => {
    const c = compareOutbox([], [rec('x', 0, T + 5), rec('x', 1, T + 6), rec(undefined, 2, T + 7)], { ...options, rowsKept: false })
    expect(c.unknownOrigin).toEqual([])
    expect(c.duplicates.map((d) => d.id)).toEqual(['x'])
  })
})
