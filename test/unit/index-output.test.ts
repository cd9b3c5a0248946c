import { describe, expect, it } from 'vitest'
import { indexProgressJson, renderIndexProgress, renderIndexStatus } from '../../src/output/index-store.ts'
import { indexSummary } from '../../src/output/trace.ts'
import { pointerRow } from '../../src/trace/pointers.ts'

describe('trace index output', () => {
  it('says what came from the index, what was scanned past it, and where it fell back', () => {
    const line = indexSummary({ store: 'local (/s/default.sqlite)', pointers: 9, fetched: 9, indexedPartitions: 22, scannedAfterIndex: 3, lookupMs: 41, fallback: [{ topic: 'audit', partition: 0, reason: 'not-indexed' }, { topic: 'audit', partition: 1, reason: 'indexed-from-later' }] })
    expect(line).toBe('index local (/s/default.sqlite): 9 of 9 pointed records fetched in 41 ms on 22 partitions, then 3 records scanned past its reach; scanned in full (not indexed from the window start): audit/0, audit/1')
  })

  it('renders progress, its JSON line and the status table', () => {
    const p = { group: '_evt-index-default', store: 'local (x)', topics: ['a'], records: 10, rows: 7, partitions: [{ topic: 'a', partition: 0, next: 10, end: 10 }, { topic: 'a', partition: 1, next: 3, end: 5 }], caughtUp: false, elapsedMs: 1500 }
    expect(renderIndexProgress(p)).toBe('_evt-index-default: 10 records read, 7 pointer rows stored on 2 partitions in 1.5 s; 1/2 partitions at their end offset')
    expect(JSON.parse(indexProgressJson(p, 'done', 'caught-up'))).toMatchObject({ type: 'done', stopped: 'caught-up', partitions: [{ topic: 'a', partition: 0, next: 10, end: 10 }, { topic: 'a', partition: 1, next: 3, end: 5 }] })
    const table = renderIndexStatus({ name: 'default', group: '_evt-index-default', storeArg: 'local', store: 'local (x)', groupState: 'Empty', members: 0, rows: 7, sizeBytes: 7000, partitions: [{ topic: 'a', partition: 0, from: 0, indexedOffset: 10, endOffset: 12, lag: 2, rows: 7 }, { topic: 'gone', partition: 0, from: 0, indexedOffset: 4, endOffset: null, lag: null, rows: 0 }] })
    expect(table.split('\n')[0]).toBe('index default in local (x): 7 pointer rows, 6.8 KB (1000 bytes per row); group _evt-index-default: Empty, 0 workers')
    expect(table).toMatch(/^a\s+0\s+0\s+10\s+12\s+2\s+7$/m)
    expect(table).toMatch(/^gone\s+0\s+0\s+4\s+\?\s+\?\s+0$/m)
  })

  it('builds a pointer row only for records with an id, trace id as correlation when there is none', () => {
    const raw = { topic: 't', partition: 1, offset: '42', timestamp: 5, key: null, value: null, headers: [] }
    expect(pointerRow(raw, { conventions: [] })).toBeNull()
    expect(pointerRow(raw, { conventions: [], traceId: 'tr', parentSpanId: 'ps' })).toMatchObject({ offset: 42, correlationId: 'tr', traceId: null, causationId: 'ps' })
    expect(pointerRow(raw, { conventions: [], correlationId: 'c', traceId: 'tr', eventId: 'e' })).toMatchObject({ correlationId: 'c', traceId: 'tr', eventId: 'e' })
    expect(pointerRow(raw, { conventions: [], correlationId: 'x'.repeat(600) })).toBeNull()
  })
})
