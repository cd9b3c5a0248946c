/**
 * `evt outbox check` against a real PostgreSQL outbox table and a real relay: Kafka Connect running
 * Debezium's PostgreSQL connector with the outbox event router (the local cluster's --outbox, which
 * the test setup starts). Each test writes rows of its own aggregate type, so it reads only its own
 * topic (outbox.event.<type>) and its own rows. The relay stopped and killed: test/failover/outbox-relay.test.ts.
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runShop } from '../../src/demo/shop.ts'
import { BROKERS, eventually, jsonLines, runEvt, startEvt, uniqueTopic, writeWithEvt } from '../support/kafka.ts'
import { insertOutboxRows, outboxCheckArgs, outboxCheckDoc, outboxDb, POSTGRES_URL, type OutboxCheckDoc } from '../support/outbox.ts'

let db: pg.Client
const started = Date.now() - 1000

async function check(type: string, extra: string[] = [], code = 0): Promise<OutboxCheckDoc> {
  return outboxCheckDoc(await runEvt(outboxCheckArgs(type, started, extra)), code)
}

/** Waits (at most 60 s) until the check sees `n` records for the type. */
async function published(type: string, n: number): Promise<void> {
  const ok = await eventually(async () => (await check(type)).records >= n, 60_000)
  expect(ok, `the relay did not publish ${n} records of ${type} within 60 s`).toBe(true)
}

beforeAll(async () => {
  db = await outboxDb()
})

afterAll(async () => {
  await db?.end()
})

describe('evt outbox check with a real relay', () => {
  it('every row published once is matched: no finding, lag for each row, exit 0 with every --fail-on', async () => {
    const type = `ok${Date.now()}`
    await insertOutboxRows(db, type, 6)
    await published(type, 6)
    const doc = await check(type, ['--fail-on', 'unpublished,duplicate,unknown,reordered'])
    expect(doc).toMatchObject({ rows: 6, records: 6, published: 6, pending: 0, unpublished: [], duplicates: [], unknownOrigin: [], reordered: [] })
    expect(doc.lag[type]!.count).toBe(6)
  }, 120_000)

  it('a record whose id the table does not have, and one with no id, are of unknown origin (exit 5 with --fail-on unknown)', async () => {
    const type = `planted${Date.now()}`
    await insertOutboxRows(db, type, 2)
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
  }, 120_000)

  it('the plain report names the table, the topic and the lag; a bad --fail-on is a usage error', async () => {
    const type = `plain${Date.now()}`
    await insertOutboxRows(db, type, 1)
    await published(type, 1)
    const args = outboxCheckArgs(type, started).filter((a) => a !== '--json')
    const r = await runEvt(args)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`outbox "outbox" from `)
    expect(r.stdout).toContain(`1 row, 1 record on outbox.event.${type}`)
    expect(r.stdout).toMatch(/published 1 · pending 0 \(younger than 30s\) · unpublished 0 · duplicate 0 · unknown origin 0 · reordered 0/)
    expect(r.stdout).toMatch(new RegExp(`RELAY LAG[\\s\\S]*${type}\\s+1\\s`))
    const bad = await runEvt([...args, '--fail-on', 'late'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual(['evt: --fail-on: "late" is not a finding', '  hint: use some of: unpublished, duplicate, unknown, reordered'])
  }, 120_000)

  it('the demo shop\'s loyalty service publishes through the outbox; a paused relay shows as unpublished rows, then as lag; trace follows the request through it', async () => {
    const prefix = `${uniqueTopic('obx')}.`
    let whilePaused: OutboxCheckDoc | undefined
    const type = `${prefix}customer`
    const shop = await runShop({
      brokers: BROKERS,
      topicPrefix: prefix,
      orders: 6,
      durationMs: 40_000,
      outbox: { db: POSTGRES_URL, pauseRelayMs: 6000, whilePaused: async () => { whilePaused = await check(type, ['--grace', '1ms']) } },
    })
    expect(shop.errors).toEqual([])
    expect(shop.completed).toBe(true)
    // one row per request that reaches OrderConfirmed and is not on hold: healthy, duplicated, disguised command
    const rows = shop.requests.filter((r) => r.scenario !== 'failed' && r.scenario !== 'stalled').length
    expect(shop.topics.outbox).toBe(`outbox.event.${type}`)
    expect(shop.produced[shop.topics.outbox!]).toBe(rows)
    expect(whilePaused).toMatchObject({ rows, records: 0, published: 0 })
    expect(whilePaused!.unpublished).toHaveLength(rows)

    const after = await check(type, ['--fail-on', 'unpublished,duplicate,unknown,reordered'])
    expect(after).toMatchObject({ rows, records: rows, published: rows, unpublished: [], duplicates: [], unknownOrigin: [] })
    expect((after.lag[type] as { count: number; max: number }).max).toBeGreaterThanOrEqual(3000)

    // the relay's record: header id = the row id = the envelope's event id; trace places it under OrderConfirmed
    const healthy = shop.healthy[0]!
    const records = jsonLines((await runEvt(['tail', shop.topics.outbox!, '-o', 'start', '-e', '-f', 'json'])).stdout) as Array<{ headers: Array<{ key: string; value: string }>; value: { event_id: string; event_type: string; metadata: { correlation_id: string } } }>
    expect(records).toHaveLength(rows)
    for (const r of records) expect(r.headers.find((h) => h.key === 'id')?.value).toBe(r.value.event_id)
    const traced = JSON.parse((await runEvt(['trace', healthy, '--since', '10m', '-f', 'json', '-t', `${prefix}*`, '-t', shop.topics.outbox!])).stdout) as { records: Array<{ topic: string; eventType?: string; causationId?: string }> }
    const loyalty = traced.records.filter((r) => r.topic === shop.topics.outbox)
    expect(loyalty.map((r) => r.eventType)).toEqual(['LoyaltyPointsEarned'])
  }, 180_000)

  it('an --aggregate-type that matches no row of the window is warned about, with the types seen; the exit code stays 0', async () => {
    const type = `seen${Date.now()}`
    const since = Date.now() - 1000
    await insertOutboxRows(db, type, 1)
    await published(type, 1)
    const args = ['outbox', 'check', '--db', POSTGRES_URL, '--aggregate-type', type, '--aggregate-type', `${type}x`, '--topic-prefix', `outbox.event.${type}`, '--since', String(since), '--fail-on', 'unpublished']
    const r = await runEvt(args)
    expect(r.code, r.stderr).toBe(0)
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('evt: warning: no outbox row'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(new RegExp(`^evt: warning: no outbox row has aggregate type "${type}x" in the window; types seen: (.*, )?"${type}"(, |$)`))
    // with --json too (the warning is on stderr, the document on stdout), and not for a type that matched
    const json = await runEvt([...args, '--json'])
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ rows: 1, published: 1 })
    expect(json.stderr).toContain(`evt: warning: no outbox row has aggregate type "${type}x" in the window`)
    expect(json.stderr).not.toContain(`aggregate type "${type}" in`)
    // a window in the future: no row at all
    const empty = await runEvt(['outbox', 'check', '--db', POSTGRES_URL, '--aggregate-type', `${type}x`, '--topic-prefix', `outbox.event.${type}`, '--since', String(Date.now() + 3_600_000)])
    expect(empty.code, empty.stderr).toBe(0)
    expect(empty.stderr).toContain(`evt: warning: no outbox row has aggregate type "${type}x" in the window; types seen: none (the table has no row in the window)\n`)
  }, 120_000)

  it('PostgreSQL failures have the documented exit codes: a missing database, table or column 4, no server or a refused login 3', async () => {
    const url = new URL(POSTGRES_URL)
    const at = (change: (u: URL) => void) => {
      const u = new URL(url)
      change(u)
      return u.toString()
    }
    const cases: Array<{ args: string[]; code: number; error: string }> = [
      { args: ['--db', at((u) => { u.pathname = '/nosuchdb' })], code: 4, error: `evt: PostgreSQL at ${url.hostname}:${url.port}: database "nosuchdb" does not exist` },
      { args: ['--db', POSTGRES_URL, '--table', 'nosuch'], code: 4, error: `evt: table "nosuch" does not exist in database "${url.pathname.slice(1)}"` },
      { args: ['--db', POSTGRES_URL, '--timestamp-column', 'nosuch'], code: 4, error: 'evt: table "outbox" has no column "nosuch" (the timestamp column)' },
      { args: ['--db', at((u) => { u.port = '1' })], code: 3, error: `evt: cannot connect to PostgreSQL at ${url.hostname}:1: connect ECONNREFUSED ${url.hostname}:1` },
      { args: ['--db', at((u) => { u.username = 'nosuchuser' })], code: 3, error: `evt: PostgreSQL at ${url.hostname}:${url.port} refused the login: role "nosuchuser" does not exist` },
    ]
    for (const c of cases) {
      const r = await runEvt(['outbox', 'check', ...c.args])
      expect(r.code, `${c.args.join(' ')}: ${r.stderr}`).toBe(c.code)
      expect(r.stderr.split('\n')[0]).toBe(c.error)
      expect(r.stderr.split('\n')[1]).toMatch(/^ {2}hint: \S/)
    }
  }, 120_000)

  it('outbox tail: each row once it landed, with where and how long; an unknown record; -n stops it', async () => {
    const type = `tail${Date.now()}`
    await insertOutboxRows(db, type, 1) // creates the topic: tail follows topics that exist when it starts
    await published(type, 1)
    const since = Date.now()
    const tail = startEvt(['outbox', 'tail', '--db', POSTGRES_URL, '--aggregate-type', type, '--topic-prefix', `outbox.event.${type}`, '--since', String(since), '--json', '-n', '3', '--poll', '100ms'])
    await new Promise((r) => setTimeout(r, 1500))
    await writeWithEvt(`outbox.event.${type}`, [{ key: Buffer.from('a-9'), value: Buffer.from('{}'), headers: [], partition: 0 }])
    const ids = await insertOutboxRows(db, type, 3)
    expect(await tail.exit, tail.stderr()).toBe(0)
    const events = jsonLines(tail.stdout()) as Array<{ kind: string; row?: { id: string }; at: { topic: string; offset: number }; eventId?: string | null; lagMs?: number }>
    expect(events[0]).toMatchObject({ kind: 'unknown', at: { offset: 1 }, eventId: null })
    const landed = events.filter((e) => e.kind === 'published')
    expect(landed.map((e) => e.row!.id)).toEqual(ids)
    expect(landed.map((e) => e.at.offset)).toEqual([2, 3, 4])
    for (const e of landed) expect(e.lagMs).toBeGreaterThanOrEqual(0)
    for (const e of landed) expect(e.at.topic).toBe(`outbox.event.${type}`)
    expect(events.filter((e) => e.kind === 'late')).toEqual([])
  }, 120_000)

  it('outbox tail --since: rows published long ago are found in the backlog, not reported late', async () => {
    const type = `backlog${Date.now()}`
    const since = Date.now() - 1000
    const ids = await insertOutboxRows(db, type, 3)
    await published(type, 3)
    await new Promise((r) => setTimeout(r, 2500)) // every row is now older than the grace period below
    const r = await runEvt(['outbox', 'tail', '--db', POSTGRES_URL, '--aggregate-type', type, '--topic-prefix', `outbox.event.${type}`, '--since', String(since), '--grace', '2s', '--json', '-n', '3'])
    expect(r.code, r.stderr).toBe(0)
    const events = jsonLines(r.stdout) as Array<{ kind: string; row?: { id: string } }>
    expect(events.map((e) => e.kind)).toEqual(['published', 'published', 'published'])
    expect(events.map((e) => e.row!.id)).toEqual(ids)
  }, 120_000)
})
