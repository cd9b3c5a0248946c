/**
 * The PostgreSQL index store against a real PostgreSQL server (the cluster script's, started for
 * this file): the same contract as the local store (test/unit/index-store-sqlite.test.ts), plus
 * day partitions dropped whole by retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresIndexStore, postgresSchema } from '../../src/index-store/postgres.ts'
import type { PointerRow } from '../../src/index-store/types.ts'
import { uniqueTopic } from '../support/kafka.ts'
import { testPostgres } from '../support/postgres.ts'

let url: string
const stores: PostgresIndexStore[] = []
beforeAll(async () => {
  url = await testPostgres()
}, 180_000)
afterAll(async () => {
  for (const s of stores) await s.drop().catch(() => {})
  await Promise.all(stores.map((s) => s.close()))
})
async function store(): Promise<PostgresIndexStore> {
  const s = await PostgresIndexStore.open(url, uniqueTopic('pg'))
  stores.push(s)
  return s
}

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 20)
function row(partition: number, offset: number, correlationId: string | null, extra: Partial<PointerRow> = {}): PointerRow {
  return { topic: 'orders', partition, offset, timestamp: T0 + offset * 60_000, correlationId, traceId: null, eventId: `e-${partition}-${offset}`, causationId: null, eventType: 'OrderPlaced', aggregateId: null, ...extra }
}

describe('PostgreSQL index store', () => {
  it('a database that does not exist is not found (exit 4), an unreachable server is exit 3', async () => {
    const missing = new URL(url)
    missing.pathname = '/evt_no_such_db'
    await expect(PostgresIndexStore.open(missing.toString(), 'x')).rejects.toMatchObject({ kind: 'not-found', exitCode: 4, message: expect.stringContaining('"evt_no_such_db" does not exist') })
    const down = new URL(url)
    down.port = '1'
    await expect(PostgresIndexStore.open(down.toString(), 'x')).rejects.toMatchObject({ kind: 'connect', exitCode: 3 })
  })

  it('opened for reading, an index that does not exist reads as empty and is not created', async () => {
    const name = uniqueTopic('pg-none')
    const schemaExists = async (s: PostgresIndexStore) => (await (s as unknown as { pool: { query(q: string, p: unknown[]): Promise<{ rowCount: number }> } }).pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [postgresSchema(name)])).rowCount === 1
    const reader = await PostgresIndexStore.open(url, name, { create: false })
    stores.push(reader)
    expect([reader.exists, await reader.lookup('correlation', 'req-1'), await reader.reach(), await reader.status(), await schemaExists(reader)]).toEqual([false, [], [], [], false])
    const writer = await PostgresIndexStore.open(url, name)
    stores.push(writer)
    expect([writer.exists, await schemaExists(writer)]).toEqual([true, true])
    expect((await PostgresIndexStore.open(url, name, { create: false }).then((s) => (stores.push(s), s))).exists).toBe(true)
    await writer.drop()
    expect([writer.exists, await schemaExists(writer)]).toEqual([false, false])
  })

  it('stores rows once per topic, partition and offset, and looks them up by each id', async () => {
    const s = await store()
    const batch = { rows: [row(0, 3, 'req-1'), row(1, 7, 'req-1', { causationId: 'e-0-3' }), row(1, 8, 'req-2', { traceId: 'tr-9' })], reach: [{ topic: 'orders', partition: 0, from: 0, next: 4 }, { topic: 'orders', partition: 1, from: 5, next: 9 }] }
    await s.write(batch)
    await s.write(batch)
    expect((await s.lookup('correlation', 'req-1')).map((r) => `${r.partition}@${r.offset}`)).toEqual(['0@3', '1@7'])
    expect((await s.lookup('correlation', 'tr-9')).map((r) => r.offset)).toEqual([8])
    expect((await s.lookup('event', 'e-1-8'))[0]).toEqual(row(1, 8, 'req-2', { traceId: 'tr-9' }))
    expect((await s.lookup('causation', 'e-0-3')).map((r) => r.offset)).toEqual([7])
    expect(await s.status()).toEqual([
      { topic: 'orders', partition: 0, from: 0, next: 4, rows: 1 },
      { topic: 'orders', partition: 1, from: 5, next: 9, rows: 2 },
    ])
    expect(await s.sizeBytes()).toBeGreaterThan(0)
  })

  it('takes batches of several partitions at once, never moves the reach back, starts it again after a gap', async () => {
    const s = await store()
    await Promise.all([0, 1, 2, 3, 4, 5].map((p) => s.write({ rows: Array.from({ length: 500 }, (_, i) => row(p, i, `req-${i % 7}`)), reach: [{ topic: 'orders', partition: p, from: 0, next: 500 }] })))
    await s.write({ rows: [], reach: [{ topic: 'orders', partition: 0, from: 9, next: 3 }] })
    expect((await s.reach(['orders']))[0]).toEqual({ topic: 'orders', partition: 0, from: 0, next: 500 })
    await s.write({ rows: [], reach: [{ topic: 'orders', partition: 0, from: 500, next: 510 }] })
    expect((await s.reach(['orders']))[0]).toEqual({ topic: 'orders', partition: 0, from: 0, next: 510 })
    await s.write({ rows: [], reach: [{ topic: 'orders', partition: 0, from: 900, next: 910 }] })
    expect((await s.reach(['orders']))[0]).toEqual({ topic: 'orders', partition: 0, from: 900, next: 910 })
    expect((await s.status()).map((p) => p.rows)).toEqual([500, 500, 500, 500, 500, 500])
    expect((await s.lookup('correlation', 'req-3')).length).toBe(6 * Math.ceil((500 - 3) / 7))
  })

  it('drops whole day partitions past retention and the older rows of the cutoff day', async () => {
    const s = await store()
    // offsets 0..2879: two days of one row a minute
    await s.write({ rows: Array.from({ length: 2880 }, (_, i) => row(0, i, 'x')), reach: [] })
    expect(await s.deleteOlderThan(T0 + DAY + 60 * 60_000)).toBe(1440 + 60)
    expect((await s.lookup('correlation', 'x')).map((r) => r.offset)[0]).toBe(1500)
    await s.drop()
    expect(await s.status()).toEqual([])
  })

  it('keeps ids of any text as they are, and names schemas within PostgreSQL limits', async () => {
    const s = await store()
    const id = "req-'\"; DROP TABLE pointers;--ü"
    await s.write({ rows: [row(0, 1, id)], reach: [] })
    expect((await s.lookup('correlation', id)).map((r) => r.correlationId)).toEqual([id])
    expect(postgresSchema('default')).toBe('evt_index_default')
    expect(postgresSchema('a'.repeat(100)).length).toBeLessThanOrEqual(63)
    expect(postgresSchema('Orders.v2')).not.toBe(postgresSchema('orders_v2'))
  })

  it('says which server it cannot reach, without the password', async () => {
    await expect(PostgresIndexStore.open('postgres://evt:s3cret@127.0.0.1:1/evt', 'x')).rejects.toThrow(/cannot open the index store postgres:\/\/evt:\*\*\*@127\.0\.0\.1:1\/evt/)
  })
})
