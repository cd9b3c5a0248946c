/**
 * The requeue ledger's record format, the write guard of ledger topics, and the provenance
 * headers trace reads (pure parts; the broker tests are in test/integration/dlq-ledger.test.ts
 * and trace-copies.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { addLedgerEntry, ledgerRecord, parseLedgerRecord, requeuedEntry, type LedgerEntry, type RequeueLedger } from '../../src/dlq/ledger.ts'
import { assertWritableTopic, internalTopicKind, isRequeueLedgerTopic, requeueLedgerTopic, writeRefusal } from '../../src/kafka/internal-topics.ts'
import { parseProvenance } from '../../src/replay/provenance.ts'
import { isInternalTopic } from '../../src/services/topics.ts'

const entry: LedgerEntry = { dlq: 'payments.events-dlt', partition: 0, offset: 3, dlqTimestamp: 1_700_000_000_000, requeuedAt: 1_764_338_400_000, topic: 'payments.events', toPartition: 1, requeueCount: 1, progressGroup: 'evt-dlq-requeue-payments.events-dlt-8e938397' }
const h = (key: string, value: string) => ({ key, value: Buffer.from(value) })

describe('requeue ledger records', () => {
  it('round-trips, keyed like evt-requeued-from, timestamped when requeued', () => {
    const r = ledgerRecord(entry)
    expect(r.key!.toString()).toBe('payments.events-dlt/0/3')
    expect(r.partition).toBe(0)
    expect(r.timestamp).toBe(entry.requeuedAt)
    expect(parseLedgerRecord(r)).toEqual(entry)
  })

  it('ignores tombstones and records not in the format', () => {
    expect(parseLedgerRecord({ value: null })).toBeUndefined()
    expect(parseLedgerRecord({ value: Buffer.from('not json') })).toBeUndefined()
    expect(parseLedgerRecord({ value: Buffer.from(JSON.stringify({ ...entry, v: 2 })) })).toBeUndefined()
    expect(parseLedgerRecord({ value: Buffer.from(JSON.stringify({ ...entry, v: 1, offset: '3' })) })).toBeUndefined()
  })

  it('finds a record only when its timestamp matches (a re-created DLQ reuses offsets); the newest entry wins', () => {
    const ledger: RequeueLedger = { topic: requeueLedgerTopic('payments.events-dlt'), exists: true, entries: new Map(), malformed: 0 }
    addLedgerEntry(ledger, entry)
    expect(requeuedEntry(ledger, { partition: 0, offset: '3', timestamp: entry.dlqTimestamp })).toEqual(entry)
    expect(requeuedEntry(ledger, { partition: 0, offset: '3', timestamp: entry.dlqTimestamp + 1 })).toBeUndefined()
    expect(requeuedEntry(ledger, { partition: 1, offset: '3', timestamp: entry.dlqTimestamp })).toBeUndefined()
    addLedgerEntry(ledger, { ...entry, requeuedAt: entry.requeuedAt + 5, requeueCount: 2 })
    expect(requeuedEntry(ledger, { partition: 0, offset: '3', timestamp: entry.dlqTimestamp })!.requeueCount).toBe(2)
  })
})

describe('ledger topics are guarded', () => {
  it('are named <dlq>.evt-requeued, never written by produce/replay/requeue, hidden by evt topics', () => {
    expect(requeueLedgerTopic('dlq.orders')).toBe('dlq.orders.evt-requeued')
    expect(isRequeueLedgerTopic('dlq.orders.evt-requeued')).toBe(true)
    expect(isRequeueLedgerTopic('.evt-requeued')).toBe(false)
    expect(isRequeueLedgerTopic('orders.evt-requeued-v2')).toBe(false)
    expect(internalTopicKind('dlq.orders.evt-requeued')).toBe('evt-ledger')
    expect(writeRefusal('dlq.orders.evt-requeued', true)).toBe(`"dlq.orders.evt-requeued" is evt's requeue ledger of "dlq.orders": only dlq requeue writes it, with the records it requeues`)
    expect(writeRefusal('dlq.orders.evt-requeued', false)).toBeDefined()
    expect(() => assertWritableTopic('dlq.orders.evt-requeued', '--to')).toThrow(expect.objectContaining({ exitCode: 6, hint: 'choose an ordinary topic; to requeue a record again, use dlq requeue --again' }))
    expect(isInternalTopic('dlq.orders.evt-requeued')).toBe(true)
    expect(isInternalTopic('dlq.orders')).toBe(false)
  })
})

describe('provenance headers', () => {
  it('a requeued record: its source and count', () => {
    expect(parseProvenance([h('traceparent', 'x'), h('evt-requeue-count', '2'), h('evt-requeued-from', 'payments.events-dlt/0/3')])).toEqual({ kind: 'requeue', topic: 'payments.events-dlt', partition: 0, offset: '3', requeueCount: 2 })
  })

  it('a replayed copy: its source (the last, for a copy of a copy) and replay id', () => {
    expect(parseProvenance([h('evt-replay-source', 'orders.events/0/12'), h('evt-replay-id', 'rp-1'), h('evt-replay-source', 'orders.copy/2/7'), h('evt-replay-id', 'rp-2')])).toEqual({ kind: 'replay', topic: 'orders.copy', partition: 2, offset: '7', replayId: 'rp-2' })
  })

  it('the newer provenance wins; malformed or absent headers give none', () => {
    expect(parseProvenance([h('evt-requeued-from', 'a-dlt/0/1'), h('evt-replay-source', 'a/1/9')])).toMatchObject({ kind: 'replay', topic: 'a', offset: '9' })
    expect(parseProvenance([h('evt-replay-source', 'a/1/9'), h('evt-requeued-from', 'a-dlt/0/1')])).toMatchObject({ kind: 'requeue', topic: 'a-dlt', offset: '1' })
    expect(parseProvenance([h('evt-requeued-from', 'no-slashes')])).toBeUndefined()
    expect(parseProvenance([{ key: 'evt-replay-source', value: null }])).toBeUndefined()
    expect(parseProvenance([h('x-original-topic', 'orders')])).toBeUndefined()
  })
})
