/**
 * The requeue ledger against the real broker: a record requeued by one selection (the browser's
 * marked set, through the same services) is skipped by every other selection and reported with
 * when and where to; --again sends it again; dlq inspect shows it; the ledger topic is never a DLQ,
 * a target or a listed topic; and after kill -9 a rerun with a different selection sends exactly
 * the rest, because the ledger entries commit in the same transactions as the records.
 */
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { readLedger, requeueLedgerTopic } from '../../src/dlq/ledger.ts'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { planRequeue, runRequeue, type RequeuePlan } from '../../src/services/dlq-requeue.ts'
import { markedRequeue } from '../../src/ui/dlq/marked.ts'
import { BROKERS, createTopic, jsonLines, kafka, readWithEvt, ROOT, runEvt, testSession, uniqueTopic, writeWithEvt } from '../support/kafka.ts'

const h = (key: string, value: string) => ({ key, value: Buffer.from(value) })

/** A dead-letter record in Spring Cloud Stream's style: original topic and exception as text headers. */
function dead(original: string, i: number): ProduceRecord {
  return { key: Buffer.from(`key-${i}`), value: Buffer.from(`{"n":${i}}`), partition: 0, headers: [h('x-original-topic', original), h('x-exception-fqcn', 'java.net.SocketTimeoutException'), h('x-exception-message', `timeout ${i}`)] }
}

const from = (records: Array<{ headers: Array<{ key: string; value: Buffer | null }> }>) => records.map((r) => r.headers.find((x) => x.key === 'evt-requeued-from')!.value!.toString())
const count = (r: { headers: Array<{ key: string; value: Buffer | null }> }) => r.headers.find((x) => x.key === 'evt-requeue-count')!.value!.toString()

interface Planned { plan: RequeuePlan }

describe('dlq requeue ledger', () => {
  it('a record requeued from the browser is skipped by any other selection, shown by inspect, and sent again only with --again', async () => {
    const p = uniqueTopic('ledger')
    const orders = await createTopic(`${p}.orders`, 2)
    // dlq.<topic>: its ledger dlq.<topic>.evt-requeued looks like a DLQ by name, and must not be taken for one
    const dlt = await createTopic(`dlq.${p}.orders`, 1)
    await writeWithEvt(dlt, [0, 1, 2, 3].map((i) => dead(orders, i)))

    // the browser's requeue of the marked record 0@1: the same services, with the marked selection
    const session = testSession()
    const before = Date.now()
    const marked = markedRequeue(dlt, [{ partition: 0, offset: '1' }])
    const browserPlan = await planRequeue(session, marked.request, marked.filterText)
    expect(browserPlan.ledger).toEqual({ topic: `${dlt}.evt-requeued`, exists: false, entries: 0 })
    const browserRun = await runRequeue(session, { ...marked.request, allowTargets: browserPlan.unexpectedTargets }, browserPlan)
    expect(browserRun.moved).toBe(1)
    const after = Date.now()
    expect(from(await readWithEvt(orders))).toEqual([`${dlt}/0/1`])

    // the whole DLQ, another selection: 0@1 is skipped and reported with when and where to
    const dry = await runEvt(['dlq', 'requeue', dlt, '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    const { plan } = JSON.parse(dry.stdout) as Planned
    expect(plan.skipped).toEqual({ 'already-requeued': 1 })
    expect(plan.targets).toEqual([{ topic: orders, records: 3 }])
    expect(plan.ledger).toEqual({ topic: requeueLedgerTopic(dlt), exists: true, entries: 1 })
    expect(plan.alreadyRequeuedCount).toBe(1)
    expect(plan.alreadyRequeued).toHaveLength(1)
    const [entry] = plan.alreadyRequeued
    expect({ ...entry, requeuedAt: 0 }).toEqual({ partition: 0, offset: 1, requeuedAt: 0, topic: orders, toPartition: (await readWithEvt(orders))[0].partition })
    expect(entry.requeuedAt).toBeGreaterThanOrEqual(before - 1000)
    expect(entry.requeuedAt).toBeLessThanOrEqual(after + 1000)
    const text = await runEvt(['dlq', 'requeue', dlt, '--dry-run'])
    expect(text.stdout).toContain('skipped: 1 already-requeued')
    expect(text.stdout).toMatch(new RegExp(`0@1 requeued \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC → ${orders.replace(/\./g, '\\.')}/${entry.toPartition}`))

    const run = await runEvt(['dlq', 'requeue', dlt, '--yes', '--json'])
    expect(run.code).toBe(0)
    const summary = JSON.parse(run.stdout.trim().split('\n').find((l) => l.includes('"summary"'))!).summary as { moved: number; skipped: Record<string, number> }
    expect(summary.moved).toBe(3)
    expect(summary.skipped).toEqual({ 'already-requeued': 1 })
    expect(from(await readWithEvt(orders)).sort()).toEqual([0, 1, 2, 3].map((i) => `${dlt}/0/${i}`))

    // yet another selection (a filter) over records all requeued: nothing to send, exit 0
    const none = await runEvt(['dlq', 'requeue', dlt, '--filter', 'failure.exception.endsWith("TimeoutException")', '--yes', '--json'])
    expect(none.code).toBe(0)
    expect(JSON.parse(none.stdout.split('\n')[0]).plan.skipped).toEqual({ 'already-requeued': 4 })
    expect(await readWithEvt(orders)).toHaveLength(4)

    // dlq inspect shows each record's requeue
    const inspected = jsonLines((await runEvt(['dlq', 'inspect', dlt, '--json'])).stdout) as Array<{ offset: number; requeued: { at: number; topic: string; partition: number; count: number } | null }>
    expect(inspected.map((r) => [r.offset, r.requeued?.topic, r.requeued?.count])).toEqual([0, 1, 2, 3].map((i) => [i, orders, 1]))
    expect(inspected[1].requeued!.at).toBe(entry.requeuedAt)
    const copies = await readWithEvt(orders)
    for (const r of inspected) expect(copies.find((c) => from([c])[0] === `${dlt}/0/${r.offset}`)!.partition).toBe(r.requeued!.partition)
    const plain = await runEvt(['dlq', 'inspect', dlt, '--no-ui'])
    expect(plain.stdout.match(/↻ requeued /g)).toHaveLength(4)

    // --again sends 0@2 once more, counted as its second requeue
    const again = await runEvt(['dlq', 'requeue', dlt, '--filter', 'offset == 2', '--again', '--yes', '--json'])
    expect(again.code).toBe(0)
    const againPlan = JSON.parse(again.stdout.split('\n')[0]).plan as RequeuePlan
    expect(againPlan.again).toBe(true)
    expect(againPlan.alreadyRequeuedCount).toBe(1)
    expect(againPlan.targets).toEqual([{ topic: orders, records: 1 }])
    const afterAgain = await readWithEvt(orders)
    expect(afterAgain).toHaveLength(5)
    expect(afterAgain.filter((r) => from([r])[0] === `${dlt}/0/2`).map(count).sort()).toEqual(['1', '2'])
    const againText = await runEvt(['dlq', 'requeue', dlt, '--filter', 'offset == 3', '--again', '--dry-run'])
    expect(againText.stdout).toContain('--again: 1 record the ledger lists as requeued already is sent again:')
    const ledger = await readLedger(testSession(), dlt)
    expect([...ledger.entries.keys()].sort()).toEqual(['0/0', '0/1', '0/2', '0/3'])
    expect(ledger.entries.get('0/2')!.requeueCount).toBe(2)

    // the ledger is not a DLQ, not a target, not a listed topic
    const ledgerTopic = requeueLedgerTopic(dlt)
    const list = JSON.parse((await runEvt(['dlq', 'list', '-t', `*${p}*`, '--json'])).stdout) as { dlqs: Array<{ topic: string }> }
    expect(list.dlqs.map((d) => d.topic)).toEqual([dlt])
    const fromLedger = await runEvt(['dlq', 'requeue', ledgerTopic, '--yes'])
    expect(fromLedger.code).toBe(6)
    expect(fromLedger.stderr).toContain(`evt: "${ledgerTopic}" is evt's requeue ledger of "${dlt}", not a dead-letter topic`)
    expect(fromLedger.stderr).toContain(`hint: requeue from the DLQ itself: evt dlq requeue ${dlt}`)
    const toLedger = await runEvt(['dlq', 'requeue', dlt, '--to', ledgerTopic, '--again', '--yes'])
    expect(toLedger.code).toBe(6)
    expect(toLedger.stderr).toContain(`--to ${ledgerTopic}: "${ledgerTopic}" is evt's requeue ledger`)
    const produce = await runEvt(['produce', ledgerTopic, 'x'])
    expect(produce.code).toBe(6)
    expect((await readLedger(testSession(), dlt)).entries.size).toBe(4)
    const topics = JSON.parse((await runEvt(['topics', '--json'])).stdout) as Array<{ name: string }>
    expect(topics.map((t) => t.name).filter((n) => n.includes(p)).sort()).toEqual([dlt, orders].sort())
    const all = JSON.parse((await runEvt(['topics', '--all', '--json'])).stdout) as Array<{ name: string; internal: boolean }>
    expect(all.filter((t) => t.name.includes(p)).map((t) => [t.name, t.internal]).sort()).toEqual([[dlt, false], [ledgerTopic, true], [orders, false]].sort())
  }, 240_000)

  it('waits for a transaction left open on the ledger (a crashed requeue of another selection) before reading it', async () => {
    const p = uniqueTopic('ledger-open')
    const orders = await createTopic(`${p}.orders`, 1)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    await writeWithEvt(dlt, [0, 1].map((i) => dead(orders, i)))
    expect((await runEvt(['dlq', 'requeue', dlt, '--filter', 'offset == 0', '--yes'])).code).toBe(0)
    // a producer that dies inside a transaction on the ledger: read_committed readers stop before it until the broker aborts it
    const producer = kafka().producer({ transactionalId: `${p}-crashed`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 10_000 })
    await producer.connect()
    const txn = await producer.transaction()
    await txn.send({ topic: requeueLedgerTopic(dlt), messages: [{ key: `${dlt}/0/1`, value: 'not committed' }] })
    await producer.disconnect()
    const run = await runEvt(['dlq', 'requeue', dlt, '--yes', '--json'], { timeoutMs: 120_000 })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`waiting for an open transaction on ${requeueLedgerTopic(dlt)} to end`)
    const summary = JSON.parse(run.stdout.trim().split('\n').find((l) => l.includes('"summary"'))!).summary as { moved: number; skipped: Record<string, number> }
    expect(summary).toMatchObject({ moved: 1, skipped: { 'already-requeued': 1 } })
    expect(from(await readWithEvt(orders)).sort()).toEqual([`${dlt}/0/0`, `${dlt}/0/1`])
    const ledger = await readLedger(testSession(), dlt)
    expect([...ledger.entries.keys()].sort()).toEqual(['0/0', '0/1'])
    expect(ledger.malformed).toBe(0)
  }, 180_000)

  it('after kill -9 halfway, a rerun with another selection requeues exactly the rest (the ledger commits with the records)', async () => {
    const p = uniqueTopic('ledger-kill')
    const orders = await createTopic(`${p}.orders`, 2)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    await writeWithEvt(dlt, Array.from({ length: 600 }, (_, i) => dead(orders, i)))
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'dlq', 'requeue', dlt, '--rate', '150', '--yes'], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    for (let i = 0; (await readWithEvt(orders)).length === 0; i++) {
      if (i > 300) throw new Error('nothing was requeued within 30 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGKILL')
    await new Promise((r) => child.on('close', r))
    const partial = from(await readWithEvt(orders))
    expect(partial.length).toBeGreaterThan(0)
    expect(partial.length).toBeLessThan(600)
    // the ledger lists exactly the committed copies
    const ledger = await readLedger(testSession(), dlt)
    expect([...ledger.entries.values()].map((e) => `${dlt}/${e.partition}/${e.offset}`).sort()).toEqual([...partial].sort())

    // a different selection (its own progress group, starting at the beginning): only the ledger keeps it from sending those again
    const rest = await runEvt(['dlq', 'requeue', dlt, '--filter', 'failure.exception == "java.net.SocketTimeoutException"', '--yes', '--json'], { timeoutMs: 150_000 })
    expect(rest.code).toBe(0)
    const restPlan = JSON.parse(rest.stdout.split('\n')[0]).plan as RequeuePlan
    expect(restPlan.skipped).toEqual({ 'already-requeued': partial.length })
    expect(restPlan.partitions).toEqual([{ partition: 0, start: 0, end: 600 }])
    // kill -9 may have left a transaction open; another selection has another transactional id and does not fence it:
    // the run waits until the broker aborts it (60 s transaction timeout) before it reads the ledger
    let all = from(await readWithEvt(orders))
    for (const deadline = Date.now() + 120_000; all.length < 600 && Date.now() < deadline; all = from(await readWithEvt(orders))) await new Promise((r) => setTimeout(r, 1000))
    expect(all).toHaveLength(600)
    expect(new Set(all)).toEqual(new Set(Array.from({ length: 600 }, (_, i) => `${dlt}/0/${i}`)))
    expect((await readLedger(testSession(), dlt)).entries.size).toBe(600)
  }, 240_000)
})
