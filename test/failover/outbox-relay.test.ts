/**
 * The outbox relay (Kafka Connect + Debezium's outbox event router, the local cluster's --outbox)
 * stopped and killed under `evt outbox check`: rows written while it is down are unpublished after
 * the grace period and cleared once it is back; a relay killed before it recorded its position
 * publishes rows again, and each is reported as a duplicate with both copies.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM script without type declarations
import { stopRelay } from '../../scripts/cluster.mjs'
import { insertOutboxRows, outboxCheckArgs, outboxCheckDoc, outboxDb, type OutboxCheckDoc } from '../support/outbox.ts'
import { clusterUp, runEvt, waitUntil } from './support.ts'

let db: pg.Client
const started = Date.now() - 1000

async function check(type: string, extra: string[] = [], code = 0): Promise<OutboxCheckDoc> {
  return outboxCheckDoc(await runEvt(outboxCheckArgs(type, started, extra)), code)
}

async function published(type: string, n: number): Promise<void> {
  await waitUntil(`${n} records of ${type} on Kafka`, async () => (await check(type)).records >= n, { timeoutMs: 90_000, everyMs: 1000 })
}

beforeAll(async () => {
  db = await outboxDb()
})

afterAll(async () => {
  await db?.end()
  await clusterUp()
})

describe('the outbox relay stopped and killed', () => {
  it('a stopped relay leaves rows unpublished after the grace period (exit 5 with --fail-on); restarted, it clears them', async () => {
    const type = `stop${Date.now()}`
    expect(await stopRelay({ signal: 'SIGTERM' })).toBe(true)
    const ids = await insertOutboxRows(db, type, 4)
    await new Promise((r) => setTimeout(r, 1500))
    const stopped = await check(type, ['--grace', '1s', '--fail-on', 'unpublished'], 5)
    expect(stopped.unpublished.map((u) => u.id)).toEqual(ids)
    expect(stopped).toMatchObject({ rows: 4, records: 0, published: 0 })
    const young = await check(type, ['--grace', '1h', '--fail-on', 'unpublished'])
    expect(young).toMatchObject({ pending: 4, unpublished: [] })

    await clusterUp()
    await published(type, 4)
    const cleared = await check(type, ['--grace', '1s', '--fail-on', 'unpublished,duplicate'])
    expect(cleared).toMatchObject({ rows: 4, records: 4, published: 4, unpublished: [], duplicates: [] })
  })

  it('a relay killed before it recorded its position publishes rows again: each is a duplicate with both copies', async () => {
    const type = `dup${Date.now()}`
    const ids = await insertOutboxRows(db, type, 3)
    await published(type, 3)
    // the worker records its position every 60 s or when it stops cleanly: SIGKILL comes before either
    expect(await stopRelay({ signal: 'SIGKILL' })).toBe(true)
    await clusterUp()
    await published(type, 6)
    const doc = await check(type, ['--fail-on', 'duplicate'], 5)
    expect(doc.duplicates.map((d) => d.id).sort()).toEqual([...ids].sort())
    for (const d of doc.duplicates) expect(d.copies).toHaveLength(2)
    expect(doc).toMatchObject({ rows: 3, records: 6, published: 3, unpublished: [], unknownOrigin: [] })
  })
})
