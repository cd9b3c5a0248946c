/**
 * Write guards against the real broker: dead-letter headers cannot send records to internal topics
 * or to topics outside the DLQ's naming convention without --allow-target; replay, produce and
 * requeue --to never write to `__*` topics; a broker refusal that a retry cannot fix ends a move at once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { BROKERS, createTopic, readWithEvt, runEvt, uniqueTopic, writeWithEvt } from '../support/kafka.ts'

const h = (key: string, value: string) => ({ key, value: Buffer.from(value) })

/** A dead-letter record (Spring's headers) pointing at `original`. */
function dead(original: string, n: number): ProduceRecord {
  return { key: Buffer.from(`k${n}`), value: Buffer.from(`v${n}`), partition: 0, headers: [h('kafka_dlt-original-topic', original), h('kafka_dlt-exception-fqcn', 'java.lang.IllegalStateException'), h('kafka_dlt-exception-message', 'boom')] }
}

const write = writeWithEvt
const readAll = readWithEvt

describe('write guards', () => {
  it('dlq requeue: internal topics from headers are skipped, a target outside the naming convention needs --allow-target, the rest goes', async () => {
    const p = uniqueTopic('wg')
    const orders = await createTopic(`${p}.orders`, 1)
    const payments = await createTopic(`${p}.payments`, 1)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    await write(dlt, [dead(orders, 0), dead('__consumer_offsets', 1), dead('_schemas', 2), dead('connect-configs', 3), dead('__transaction_state', 4), dead(payments, 5)])

    const dry = await runEvt(['dlq', 'requeue', dlt, '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    const { plan } = JSON.parse(dry.stdout) as { plan: { targets: Array<{ topic: string; records: number }>; skipped: Record<string, number>; refusedTargets: string[]; unexpectedTargets: string[] } }
    expect(plan.skipped).toEqual({ 'internal-topic': 4 })
    expect(plan.refusedTargets).toEqual(['__consumer_offsets', '__transaction_state', '_schemas', 'connect-configs'])
    expect(plan.targets.map((t) => t.topic).sort()).toEqual([orders, payments].sort())
    expect(plan.unexpectedTargets).toEqual([payments])

    // no terminal, no --allow-target: refused with the plan printed and the flag named; nothing written
    const refused = await runEvt(['dlq', 'requeue', dlt, '--yes'])
    expect(refused.code).toBe(6)
    expect(refused.stdout).toContain('needs --allow-target')
    expect(refused.stdout).toContain('internal-topic')
    expect(refused.stderr).toContain(`--allow-target ${payments}`)
    expect(await readAll(orders)).toEqual([])
    expect(await readAll(payments)).toEqual([])

    // allowed: the valid records go at once, the internal ones are reported (exit 6 after the rest)
    const started = Date.now()
    const run = await runEvt(['dlq', 'requeue', dlt, '--yes', '--json', '--allow-target', payments])
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(run.code).toBe(6)
    expect(run.stderr).toContain('4 name internal or protected topics in their dead-letter headers (write guard)')
    const summary = JSON.parse(run.stdout.trim().split('\n').find((l) => l.includes('"summary"'))!).summary as { moved: number; skipped: Record<string, number> }
    expect(summary.moved).toBe(2)
    expect(summary.skipped).toEqual({ 'internal-topic': 4 })
    expect((await readAll(orders)).map((r) => r.value?.toString())).toEqual(['v0'])
    expect((await readAll(payments)).map((r) => r.value?.toString())).toEqual(['v5'])
  })

  it('a profile\'s protectedTopics are not written because a header points there; --to may name them', async () => {
    const p = uniqueTopic('wg-prot')
    const audit = await createTopic(`${p}.audit`, 1)
    const dlt = await createTopic(`${p}.audit-dlt`, 1)
    await write(dlt, [dead(audit, 0)])
    const dir = mkdtempSync(join(tmpdir(), 'evt-prot-'))
    const path = join(dir, 'config.yaml')
    writeFileSync(path, `profiles:\n  guarded:\n    brokers: [${BROKERS.join(',')}]\n    protectedTopics: ["${p}.audit*", other.ledger]\n`, { mode: 0o600 })
    const env = { EVT_CONFIG: path, EVT_BROKERS: undefined, EVT_PROFILE: 'guarded' }

    const dry = await runEvt(['dlq', 'requeue', dlt, '--dry-run', '--json'], { env })
    expect(dry.code).toBe(0)
    const { plan } = JSON.parse(dry.stdout) as { plan: { skipped: Record<string, number>; refusedTargets: string[] } }
    expect(plan.skipped).toEqual({ 'internal-topic': 1 })
    expect(plan.refusedTargets).toEqual([audit])
    const run = await runEvt(['dlq', 'requeue', dlt, '--yes'], { env })
    expect(run.code).toBe(6)
    expect(run.stderr.split('\n')[0]).toBe('evt: 1 records were not requeued: 1 name internal or protected topics in their dead-letter headers (write guard)')
    expect(run.stdout).toContain(`dead-letter headers name internal or protected topics, never requeued there: ${audit}`)
    expect(await readAll(audit)).toEqual([])

    // named explicitly with --to: written
    const explicit = await runEvt(['dlq', 'requeue', dlt, '--to', audit, '--yes'], { env })
    expect(explicit.code).toBe(0)
    expect((await readAll(audit)).map((r) => r.value?.toString())).toEqual(['v0'])
  })

  it('dlq requeue --to: a platform topic named explicitly is allowed in the plan, a __* topic never', async () => {
    const p = uniqueTopic('wg-to')
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    await write(dlt, [dead(`${p}.orders`, 0)])
    const internal = await runEvt(['dlq', 'requeue', dlt, '--to', '__consumer_offsets', '--yes'])
    expect(internal.code).toBe(6)
    expect(internal.stderr).toContain('__consumer_offsets')
    expect(internal.stderr).toContain('internal')
    const platform = await runEvt(['dlq', 'requeue', dlt, '--to', `${p}-status`, '--dry-run', '--json'])
    expect(platform.code).toBe(0)
    expect(JSON.parse(platform.stdout).plan.skipped).toEqual({ 'target-missing': 1 })
  })

  it('replay --to-topic __consumer_offsets and produce __consumer_offsets are refused at once (exit 6)', async () => {
    const src = await createTopic(uniqueTopic('wg-src'), 1)
    await write(src, [{ key: null, value: Buffer.from('x'), headers: [] }])
    const started = Date.now()
    const replay = await runEvt(['replay', src, '--from', 'start', '--to-topic', '__consumer_offsets', '--yes'])
    expect(replay.code).toBe(6)
    expect(replay.stderr).toContain('internal topics')
    const produce = await runEvt(['produce', '__consumer_offsets', 'x'])
    expect(produce.code).toBe(6)
    expect(produce.stderr).toContain('internal topics')
    expect(Date.now() - started).toBeLessThan(20_000)
  })

  it('a broker refusal that a retry cannot fix (record too large) ends a replay at once with its message', async () => {
    const src = await createTopic(uniqueTopic('wg-big'), 1)
    const dst = await createTopic(uniqueTopic('wg-small'), 1, [{ name: 'max.message.bytes', value: '1024' }])
    await write(src, [{ key: null, value: Buffer.alloc(8000, 0x61), headers: [] }])
    const started = Date.now()
    const result = await runEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--yes'], { timeoutMs: 90_000 })
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('max.message.bytes')
    expect(result.stderr).not.toContain('retrying (2)')
  }, 100_000)

  it('produce: a write the broker refuses after some records says how many were written and from which line on they were not', async () => {
    const topic = await createTopic(uniqueTopic('wg-lines'), 1, [{ name: 'max.message.bytes', value: '20000' }])
    const lines = [...Array.from({ length: 600 }, (_, i) => `line ${i + 1}`), 'x'.repeat(50_000), 'after']
    const result = await runEvt(['produce', topic, '--lines'], { input: `${lines.join('\n')}\n` })
    expect(result.code).toBe(2)
    const m = /(\d+) records? written before it; line (\d+) and after were not written/.exec(result.stderr)
    expect(m, result.stderr).not.toBeNull()
    const [written, line] = [Number(m![1]), Number(m![2])]
    expect(written).toBeGreaterThan(0)
    expect(written).toBeLessThan(601)
    expect(line).toBe(written + 1) // no blank lines: record n is line n
    expect(result.stderr).toContain(`tail -n +${line}`)
    expect(await readAll(topic)).toHaveLength(written)
  })
})
