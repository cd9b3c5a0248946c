import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseStoreSpec } from '../../src/index-store/open.ts'
import { indexLookup } from '../../src/services/trace.ts'
import { SqliteIndexStore } from '../../src/index-store/sqlite.ts'
import type { PointerRow } from '../../src/index-store/types.ts'

const dirs: string[] = []
function tempStore(): SqliteIndexStore {
  const dir = mkdtempSync(join(tmpdir(), 'evt-index-'))
  dirs.push(dir)
  return new SqliteIndexStore(join(dir, 'sub', 'i.sqlite'))
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function row(partition: number, offset: number, correlationId: string | null, extra: Partial<PointerRow> = {}): PointerRow {
  return { topic: 'orders', partition, offset, timestamp: 1_000 + offset, correlationId, traceId: null, eventId: `e-${partition}-${offset}`, causationId: null, eventType: 'OrderPlaced', aggregateId: null, ...extra }
}

describe('local (SQLite) index store', () => {
  it('stores rows once per topic, partition and offset, and looks them up by each id', async () => {
    const store = tempStore()
    const batch = { rows: [row(0, 3, 'req-1'), row(1, 7, 'req-1', { causationId: 'e-0-3' }), row(1, 8, 'req-2', { traceId: 'tr-9' })], reach: [{ topic: 'orders', partition: 0, from: 0, next: 4 }, { topic: 'orders', partition: 1, from: 5, next: 9 }] }
    await store.write(batch)
    await store.write(batch) // a batch stored again after a crash changes nothing
    expect((await store.lookup('correlation', 'req-1')).map((r) => `${r.partition}@${r.offset}`)).toEqual(['0@3', '1@7'])
    expect((await store.lookup('correlation', 'tr-9')).map((r) => r.offset)).toEqual([8])
    expect((await store.lookup('event', 'e-1-8')).map((r) => r.correlationId)).toEqual(['req-2'])
    expect((await store.lookup('causation', 'e-0-3')).map((r) => r.offset)).toEqual([7])
    expect(await store.lookup('correlation', 'nope')).toEqual([])
    expect(await store.status()).toEqual([
      { topic: 'orders', partition: 0, from: 0, next: 4, rows: 1 },
      { topic: 'orders', partition: 1, from: 5, next: 9, rows: 2 },
    ])
    expect(await store.sizeBytes()).toBeGreaterThan(0)
    await store.close()
  })

  it('never moves the reach back, and keeps the first start of a partition', async () => {
    const store = tempStore()
    await store.write({ rows: [], reach: [{ topic: 'a', partition: 0, from: 2, next: 10 }] })
    await store.write({ rows: [], reach: [{ topic: 'a', partition: 0, from: 6, next: 8 }] })
    expect(await store.reach(['a'])).toEqual([{ topic: 'a', partition: 0, from: 2, next: 10 }])
    expect(await store.reach(['b'])).toEqual([])
    // a batch from 10 on extends it; one that starts past its end (offsets moved forward) starts it again
    await store.write({ rows: [], reach: [{ topic: 'a', partition: 0, from: 10, next: 12 }] })
    expect(await store.reach(['a'])).toEqual([{ topic: 'a', partition: 0, from: 2, next: 12 }])
    await store.write({ rows: [], reach: [{ topic: 'a', partition: 0, from: 50, next: 60 }] })
    expect(await store.reach(['a'])).toEqual([{ topic: 'a', partition: 0, from: 50, next: 60 }])
    await store.close()
  })

  it('deletes rows older than a time, and drops everything', async () => {
    const store = tempStore()
    await store.write({ rows: [row(0, 1, 'x'), row(0, 50, 'x')], reach: [{ topic: 'orders', partition: 0, from: 0, next: 51 }] })
    expect(await store.deleteOlderThan(1_010)).toBe(1)
    expect((await store.lookup('correlation', 'x')).map((r) => r.offset)).toEqual([50])
    await store.drop()
    expect(await store.status()).toEqual([])
    await store.close()
  })

  it('keeps ids of any bytes (unicode, quotes) as they are', async () => {
    const store = tempStore()
    const id = "req-'\"; DROP TABLE pointers;--ü\u0000"
    await store.write({ rows: [row(0, 1, id)], reach: [] })
    expect((await store.lookup('correlation', id)).map((r) => r.correlationId)).toEqual([id])
    await store.close()
  })
})

describe('a local index that does not exist', () => {
  it('reads as empty and is not created when asked not to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evt-index-'))
    dirs.push(dir)
    const store = new SqliteIndexStore(join(dir, 'no', 'such.sqlite'), { create: false })
    expect(await store.status()).toEqual([])
    expect(await store.lookup('correlation', 'x')).toEqual([])
    await store.close()
    expect(existsSync(join(dir, 'no'))).toBe(false)
  })
})

describe('index store values', () => {
  it('reads local and postgres URLs, and refuses anything else', () => {
    expect(parseStoreSpec('local', 'orders', { XDG_STATE_HOME: '/s' })).toEqual({ kind: 'local', path: '/s/evt/index/orders.sqlite', name: 'orders' })
    expect(parseStoreSpec('local:audit', 'orders', { XDG_STATE_HOME: '/s' })).toEqual({ kind: 'local', path: '/s/evt/index/audit.sqlite', name: 'audit' }) // the store's own name, not --name: its group is _evt-index-audit
    expect(parseStoreSpec('postgres://evt@127.0.0.1:5432/evt')).toEqual({ kind: 'postgres', url: 'postgres://evt@127.0.0.1:5432/evt', name: 'default' })
    expect(parseStoreSpec('postgres://evt@db:5432/evt#audit')).toEqual({ kind: 'postgres', url: 'postgres://evt@db:5432/evt', name: 'audit' })
    expect(() => parseStoreSpec('mysql://x')).toThrow(/unknown index store/)
    expect(() => parseStoreSpec('local', '../etc')).toThrow(/not an index name/)
  })
})

describe('splitting a trace between the index and the scan', () => {
  it('fetches pointers up to the reach, scans past it, and scans in full what the index does not cover from the window start', async () => {
    const store = tempStore()
    const rows = [row(0, 3, 'req'), row(0, 5, 'req'), row(0, 500, 'req'), row(1, 9, 'req'), row(2, 4, 'req')]
    await store.write({ rows, reach: [{ topic: 'orders', partition: 0, from: 0, next: 600 }, { topic: 'orders', partition: 1, from: 0, next: 10 }, { topic: 'orders', partition: 2, from: 3, next: 10 }] })
    const plan = (partition: number, start: number, end: number) => ({ topic: 'orders', partition, start, end, low: 0, high: end })
    const { toScan, pointers, use } = await indexLookup(store, 'req', [plan(0, 4, 700), plan(1, 0, 10), plan(2, 0, 20), plan(3, 0, 5), plan(4, 7, 7)])
    // partition 0: 5 and 500 are far apart (two ranges), 3 is before the window; scanned from the reach 600 on
    expect(pointers.map((p) => [p.plan.partition, p.plan.start, p.plan.end, [...p.offsets]])).toEqual([[0, 5, 6, [5]], [0, 500, 501, [500]], [1, 9, 10, [9]]])
    expect(toScan.map((p) => [p.partition, p.start, p.end])).toEqual([[0, 600, 700], [2, 0, 20], [3, 0, 5]])
    expect(use).toMatchObject({ pointers: 3, indexedPartitions: 2, fallback: [{ topic: 'orders', partition: 2, reason: 'indexed-from-later' }, { topic: 'orders', partition: 3, reason: 'not-indexed' }] })
    await store.close()
  })
})
