/**
 * The trace index against the real broker: workers (src/services/index-run.ts) store pointer rows
 * in a real store, and `trace` through the index finds exactly what the scan finds — on the demo
 * shop's data and on a generated set, records written after the index run included. Two workers
 * in one group split a topic's partitions. The scan is the oracle.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runShop, type ShopResult } from '../../src/demo/shop.ts'
import { PostgresIndexStore } from '../../src/index-store/postgres.ts'
import { SqliteIndexStore } from '../../src/index-store/sqlite.ts'
import type { IndexStore } from '../../src/index-store/types.ts'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { runIndex, type IndexProgress } from '../../src/services/index-run.ts'
import { trace, type TraceResult } from '../../src/services/trace.ts'
import { BROKERS, createTopic, eventually, testSession, uniqueTopic, withTestAdmin, writeWithEvt } from '../support/kafka.ts'
import { testPostgres } from '../support/postgres.ts'

const REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7'
const dir = mkdtempSync(join(tmpdir(), 'evt-trace-index-'))
const stores: IndexStore[] = []
function localStore(name: string): IndexStore {
  const store = new SqliteIndexStore(join(dir, `${name}.sqlite`))
  stores.push(store)
  return store
}
async function postgresStore(name: string): Promise<IndexStore> {
  const store = await PostgresIndexStore.open(await testPostgres(), uniqueTopic(name))
  stores.push(store)
  return store
}
/** Topics this file creates (the demo's included), deleted when it ends. */
const created: string[] = []
async function topicFor(prefix: string, partitions: number): Promise<string> {
  const topic = await createTopic(uniqueTopic(prefix), partitions)
  created.push(topic)
  return topic
}
afterAll(async () => {
  await withTestAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics())
    const mine = created.filter((t) => existing.has(t))
    if (mine.length) await admin.deleteTopics({ topics: mine })
  })
  for (const s of stores) if (s instanceof PostgresIndexStore) await s.drop().catch(() => {})
  await Promise.all(stores.map((s) => s.close()))
  rmSync(dir, { recursive: true, force: true })
})

const ids = (r: TraceResult) => r.records.map((x) => `${x.topic}/${x.partition}@${x.offset}`).sort()

/** A seed-envelope record of request `req`. */
function event(req: string, n: number, partition: number, causation: string | null = null): ProduceRecord {
  const value = { event_id: `${req}-e${n}`, event_type: `Step${n}`, aggregate_id: `agg-${req}`, metadata: { correlation_id: req, causation_id: causation } }
  return { key: Buffer.from(`agg-${req}`), value: Buffer.from(JSON.stringify(value)), partition, headers: [] }
}

/** Trace by scan and through the index, same window; both results. */
async function both(id: string, topics: string[], store: IndexStore): Promise<{ scan: TraceResult; indexed: TraceResult }> {
  const since = Date.now() - 3_600_000
  const scan = await trace(testSession({ registry: { url: REGISTRY } }), { id, topics, since, consumption: false })
  const indexed = await trace(testSession({ registry: { url: REGISTRY } }), { id, topics, since, consumption: false, index: store })
  return { scan, indexed }
}

const STORES: Array<{ title: string; open: (name: string) => Promise<IndexStore> }> = [
  { title: 'local (SQLite)', open: async (name) => localStore(name) },
  { title: 'PostgreSQL', open: postgresStore },
]

describe.each(STORES)('trace through the index: a generated set, store $title', ({ open }) => {
  let topic: string
  let other: string
  const requests = Array.from({ length: 20 }, (_, i) => `req_gen_${Date.now().toString(36)}_${i}`)
  let store: IndexStore

  beforeAll(async () => {
    topic = await topicFor('tix-gen', 4)
    other = await topicFor('tix-gen-other', 2)
    store = await open('generated')
    const records: ProduceRecord[] = []
    requests.forEach((req, i) => {
      for (let n = 0; n < 1 + (i % 5); n++) records.push(event(req, n, (i + n) % 4, n ? `${req}-e${n - 1}` : null))
      // noise: records with no id at all, and binary values
      records.push({ key: null, value: Buffer.from(`plain ${i}`), partition: i % 4, headers: [] })
      records.push({ key: null, value: Buffer.from([0xff, 0x00, i]), partition: (i + 1) % 4, headers: [{ key: 'bin', value: null }] })
    })
    await writeWithEvt(topic, records)
    await writeWithEvt(other, [event(requests[0]!, 9, 1)])
  }, 180_000)

  it('indexes every record with an id once, and finds exactly what the scan finds, records written after the index run included', async () => {
    const done = await runIndex(testSession({ registry: { url: REGISTRY } }), { name: uniqueTopic('gen'), topics: [topic], store, exit: true })
    expect(done.stopped).toBe('caught-up')
    const expectedRows = requests.reduce((n, _, i) => n + 1 + (i % 5), 0)
    expect(done.rows).toBe(expectedRows)
    expect((await store.status()).reduce((n, p) => n + p.rows, 0)).toBe(expectedRows)

    const before = ids((await both(requests[3]!, [topic], store)).indexed)
    // written after the run: only the scan past the index's reach can find these
    await writeWithEvt(topic, [event(requests[3]!, 7, 2), event(requests[4]!, 8, 0)])
    for (const req of requests) {
      const { scan, indexed } = await both(req, [topic, other], store)
      expect(ids(indexed), req).toEqual(ids(scan))
      expect(ids(scan).length).toBeGreaterThan(0)
      expect(indexed.index!.indexedPartitions).toBe(4)
      // the other topic was not indexed: its partition with records is scanned in full, and said so (the empty one has nothing to scan)
      expect(indexed.index!.fallback).toEqual([{ topic: other, partition: 1, reason: 'not-indexed' }])
    }
    const late = await both(requests[3]!, [topic], store)
    expect(late.indexed.index!.scannedAfterIndex).toBe(2)
    expect(late.indexed.index!.fetched).toBe(1 + (3 % 5))
    expect(ids(late.indexed).filter((x) => !before.includes(x))).toHaveLength(1)
    expect(late.indexed.scanned).toBeLessThan(late.scan.scanned)
  })
})

describe('trace through the index: the demo shop', () => {
  const prefix = `${uniqueTopic('tix')}.`
  let shop: ShopResult
  let store: IndexStore

  beforeAll(async () => {
    shop = await runShop({ brokers: BROKERS, topicPrefix: prefix, orders: 6, registry: REGISTRY, durationMs: 15_000 })
    created.push(...Object.values(shop.topics))
    expect(shop.errors).toEqual([])
    store = localStore('demo')
  }, 120_000)

  it('returns the same records as the scan for every request of the run', async () => {
    const topics = Object.values(shop.topics)
    const done = await runIndex(testSession({ registry: { url: REGISTRY } }), { name: uniqueTopic('demo'), topics, store, exit: true })
    expect(done.stopped).toBe('caught-up')
    expect(done.rows).toBeGreaterThan(0)
    for (const req of shop.requests.map((r) => r.correlationId)) {
      const { scan, indexed } = await both(req, topics, store)
      expect(ids(scan).length, req).toBeGreaterThan(0)
      expect(ids(indexed), req).toEqual(ids(scan))
      expect(indexed.index!.fallback).toEqual([])
      expect(indexed.index!.fetched).toBe(ids(indexed).length)
    }
  })
})

describe('index workers in one group', () => {
  it('split a 6-partition topic and together index all of it', async () => {
    const topic = await topicFor('tix-scale', 6)
    const store = localStore('scale')
    const name = uniqueTopic('scale')
    const controller = new AbortController()
    const last: Array<IndexProgress | undefined> = [undefined, undefined]
    const workers = [0, 1].map((w) => runIndex(testSession(), { name, topics: [topic], store, signal: controller.signal, progressEveryMs: 0, onProgress: (p) => (last[w] = p) }))
    // both members joined and each was given partitions
    const joined = await eventually(async () => withTestAdmin(async (admin) => {
      const { groups } = await admin.describeGroups([`_evt-index-${name}`])
      return groups[0]?.state === 'Stable' && groups[0].members.length === 2
    }), 60_000)
    expect(joined).toBe(true)
    const req = `req_scale_${Date.now().toString(36)}`
    await writeWithEvt(topic, Array.from({ length: 60 }, (_, n) => event(req, n, n % 6)))
    const all = await eventually(async () => (await store.lookup('correlation', req)).length === 60, 60_000)
    controller.abort()
    await Promise.all(workers)
    expect(all).toBe(true)
    const mine = last.map((p) => new Set((p?.partitions ?? []).map((x) => x.partition)))
    expect(mine[0]!.size, 'first worker got partitions').toBeGreaterThan(0)
    expect(mine[1]!.size, 'second worker got partitions').toBeGreaterThan(0)
    expect([...mine[0]!].filter((p) => mine[1]!.has(p))).toEqual([])
    expect([...mine[0]!, ...mine[1]!].sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect(last[0]!.rows + last[1]!.rows).toBe(60)
  }, 120_000)
})
