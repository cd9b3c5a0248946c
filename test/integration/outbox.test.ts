/**
 * `evt outbox check` against a real PostgreSQL outbox table and a real relay: Kafka Connect running
 * Debezium's PostgreSQL connector with the outbox event router (the local cluster's --outbox).
 * Each test writes rows of its own aggregate type, so it reads only its own topic
 * (outbox.event.<type>) and its own rows.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM script without type declarations
import { POSTGRES_URL, stopRelay, up } from '../../scripts/cluster.mjs'
import { eventually, ROOT, runEvt, writeWithEvt } from '../support/kafka.ts'

const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(readFileSync(join(ROOT, 'docs', 'schemas', 'outbox-check.schema.json'), 'utf8')) as object)
let db: pg.Client
const started = Date.now()

interface CheckDoc {
  rows: number
  records: number
  published: number
  pending: number
  unpublished: Array<{ id: string; aggregateId: string }>
  duplicates: Array<{ id: string; copies: Array<{ offset: number }> }>
  unknownOrigin: Array<{ eventId?: string; offset: number }>
  reordered: unknown[]
  lag: Record<string, { count: number }>
}

/** Inserts `n` rows of aggregate type `type` (aggregates a-0, a-1, …), one transaction each; returns their ids in write order. */
async function insertRows(type: string, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const id = randomUUID()
    await db.query('INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ($1, $2, $3, $4, $5)', [id, type, `a-${i % 3}`, 'OrderPlaced', JSON.stringify({ n: i, correlation_id: `req-${type}` })])
    ids.push(id)
  }
  return ids
}

/** Runs `evt outbox check --json` over this file's window for one aggregate type; the document, validated against its schema. */
async function check(type: string, extra: string[] = [], code = 0): Promise<CheckDoc> {
  const r = await runEvt(['outbox', 'check', '--db', POSTGRES_URL, '--aggregate-type', type, '--topic-prefix', `outbox.event.${type}`, '--since', String(started - 1000), '--json', ...extra])
  expect(r.code, r.stderr).toBe(code)
  const doc = JSON.parse(r.stdout.split('\n')[0]!) as CheckDoc
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true)
  return doc
}

/** Waits until the check sees `n` records for the type. */
async function published(type: string, n: number): Promise<void> {
  const ok = await eventually(async () => (await check(type)).records >= n, 60_000)
  expect(ok, `the relay did not publish ${n} records of ${type} within 60 s`).toBe(true)
}

beforeAll(async () => {
  await up({ saslSsl: true, outbox: true, log: () => {} })
  db = new pg.Client({ connectionString: POSTGRES_URL })
  await db.connect()
}, 300_000)

afterAll(async () => {
  await db?.end()
  // leave the relay running for the next test file or run
  await up({ saslSsl: true, outbox: true, log: () => {} })
}, 300_000)

describe('evt outbox check with a real relay', () => {
  it('every row published once is matched: no finding, lag for each row, exit 0 with every --fail-on', async () => {
    const type = `ok${Date.now()}`
    const ids = await insertRows(type, 6)
    await published(type, 6)
    const doc = await check(type, ['--fail-on', 'unpublished,duplicate,unknown,reordered'])
    expect(doc).toMatchObject({ rows: 6, records: 6, published: 6, pending: 0, unpublished: [], duplicates: [], unknownOrigin: [], reordered: [] })
    expect(doc.lag[type]!.count).toBe(6)
    expect(ids).toHaveLength(6)
  })

  it('a stopped relay leaves rows unpublished after the grace period (exit 5 with --fail-on); restarted, it clears them', async () => {
    const type = `stop${Date.now()}`
    expect(await stopRelay({ signal: 'SIGTERM' })).toBe(true)
    const ids = await insertRows(type, 4)
    await new Promise((r) => setTimeout(r, 1500))
    const stopped = await check(type, ['--grace', '1s', '--fail-on', 'unpublished'], 5)
    expect(stopped.unpublished.map((u) => u.id)).toEqual(ids)
    expect(stopped).toMatchObject({ rows: 4, records: 0, published: 0 })
    const pendingOnly = await check(type, ['--grace', '1h', '--fail-on', 'unpublished'])
    expect(pendingOnly).toMatchObject({ pending: 4, unpublished: [] })

    await up({ saslSsl: true, outbox: true, log: () => {} })
    await published(type, 4)
    const cleared = await check(type, ['--grace', '1s', '--fail-on', 'unpublished,duplicate'])
    expect(cleared).toMatchObject({ rows: 4, records: 4, published: 4, unpublished: [], duplicates: [] })
  }, 300_000)

  it('a relay killed before it recorded its position publishes rows again: each is a duplicate with both copies', async () => {
    const type = `dup${Date.now()}`
    const ids = await insertRows(type, 3)
    await published(type, 3)
    // SIGKILL: the worker records its position every 60 s or on a clean stop, so it has not yet
    expect(await stopRelay({ signal: 'SIGKILL' })).toBe(true)
    await up({ saslSsl: true, outbox: true, log: () => {} })
    await published(type, 6)
    const doc = await check(type, ['--fail-on', 'duplicate'], 5)
    expect(doc.duplicates.map((d) => d.id).sort()).toEqual([...ids].sort())
    for (const d of doc.duplicates) expect(d.copies).toHaveLength(2)
    expect(doc).toMatchObject({ rows: 3, records: 6, published: 3, unpublished: [], unknownOrigin: [] })
  }, 300_000)

  it('a record whose id the table does not have, and one with no id, are of unknown origin', async () => {
    const type = `planted${Date.now()}`
    const ids = await insertRows(type, 2)
    await published(type, 2)
    const planted = randomUUID()
    await writeWithEvt(`outbox.event.${type}`, [
      { key: Buffer.from('a-9'), value: Buffer.from('{"n":99}'), headers: [{ key: 'id', value: Buffer.from(planted) }], partition: 0 },
      { key: Buffer.from('a-9'), value: Buffer.from('{"n":100}'), headers: [], partition: 0 },
    ])
    const doc = await check(type, ['--fail-on', 'unknown'], 5)
    expect(doc.unknownOrigin.map((u) => u.eventId ?? null)).toEqual([planted, null])
    expect(doc.unknownOrigin.map((u) => u.offset)).toEqual([2, 3])
    expect(doc).toMatchObject({ rows: 2, records: 4, published: 2, duplicates: [] })
    expect(ids).toHaveLength(2)
  }, 120_000)
})
