/**
 * An index worker killed with SIGKILL in the middle of a run, then started again: every record
 * with an id is in the store exactly once (rows are unique on topic, partition, offset, and the
 * group offsets are committed only after a batch's rows are stored), and the index reaches the end.
 * bin/run.js as a subprocess on the real broker; the store is read back through its own interface.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openIndexStore, parseStoreSpec } from '../../src/index-store/open.ts'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { BROKERS, createTopic, ROOT, runEvt, uniqueTopic, withTestAdmin, writeWithEvt } from '../support/kafka.ts'
import { testPostgres } from '../support/postgres.ts'

const state = mkdtempSync(join(tmpdir(), 'evt-index-kill-'))
const created: string[] = []
afterAll(async () => {
  rmSync(state, { recursive: true, force: true })
  await withTestAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics())
    const mine = created.filter((t) => existing.has(t))
    if (mine.length) await admin.deleteTopics({ topics: mine })
  })
})

/** The stores the kill test runs against: `local`, and the test PostgreSQL (started for it). */
const STORES: Array<{ title: string; store: () => Promise<string> }> = [
  { title: 'local (SQLite)', store: async () => 'local' },
  { title: 'PostgreSQL', store: testPostgres },
]

describe.each(STORES)('an index worker killed with SIGKILL, store $title', ({ store: storeUrl }) => {
  it('loses nothing and stores nothing twice when it runs again', async () => {
    const storeArg = await storeUrl()
    const topic = await createTopic(uniqueTopic('tix-kill'), 3)
    created.push(topic)
    const name = uniqueTopic('kill')
    const perPartition = 6000
    const req = (i: number) => `req_kill_${i % 997}`
    for (let chunk = 0; chunk < 3; chunk++) {
      const records: ProduceRecord[] = []
      for (let i = chunk * perPartition; i < (chunk + 1) * perPartition; i++) {
        const value = { event_id: `ev-${i}`, event_type: 'Step', metadata: { correlation_id: req(i) }, pad: 'x'.repeat(200) }
        records.push({ key: null, value: Buffer.from(JSON.stringify(value)), partition: i % 3, headers: [] })
      }
      await writeWithEvt(topic, records)
    }
    const env = { ...process.env, NO_COLOR: '1', EVT_BROKERS: BROKERS.join(','), XDG_STATE_HOME: state }
    const args = [`${ROOT}/bin/run.js`, 'index', 'run', topic, '--name', name, '--store', storeArg, '--json']
    // first run: killed as soon as it reports its first stored batch
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let killedAt = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8')
      if (!killedAt && out.includes('"type":"progress"')) {
        killedAt = out.split('\n')[0]!
        child.kill('SIGKILL')
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_, sig) => resolve(sig)))
    clearTimeout(timer)
    expect(signal).toBe('SIGKILL')
    const first = JSON.parse(killedAt) as { rows: number }
    expect(first.rows).toBeGreaterThan(0)
    expect(first.rows).toBeLessThan(3 * perPartition)

    // second run: to the end
    const again = await runEvt(['index', 'run', topic, '--name', name, '--store', storeArg, '--exit'], { env: { XDG_STATE_HOME: state }, timeoutMs: 120_000 })
    expect(again.code, again.stderr).toBe(0)

    const store = await openIndexStore(parseStoreSpec(storeArg, name, { ...process.env, XDG_STATE_HOME: state }))
    try {
      const status = (await store.status()).filter((p) => p.topic === topic)
      // the run after the kill stored some batches again: the store still holds each row once
      expect(status.map((p) => [p.partition, p.from, p.next, p.rows])).toEqual([0, 1, 2].map((p) => [p, 0, perPartition, perPartition]))
      // every record once: each request's rows are exactly its records, by offset
      for (const i of [0, 1, 500, 996]) {
        const rows = await store.lookup('correlation', req(i))
        const expected: string[] = []
        for (let n = 0; n < 3 * perPartition; n++) if (req(n) === req(i)) expected.push(`${n % 3}@${Math.floor(n / 3)}`)
        expect(rows.filter((r) => r.topic === topic).map((r) => `${r.partition}@${r.offset}`).sort()).toEqual(expected.sort())
      }
      await store.drop()
    } finally {
      await store.close()
    }
  }, 240_000)
})
