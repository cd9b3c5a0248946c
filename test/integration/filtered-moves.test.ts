/**
 * Filtered moves on a healthy cluster: `replay --to-topic --filter` and `dlq requeue --filter` of a few
 * thousand records, where whole slices are filtered out (their transactions carry only the progress
 * offsets, right after the previous commit). No transaction may fail and be retried, and the target holds
 * the exact filtered set once.
 */
import { describe, expect, it } from 'vitest'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { createTopic, readWithEvt, runEvt, uniqueTopic, writeWithEvt } from '../support/kafka.ts'

const PARTITIONS = 3
const PER_PARTITION = 1500

/** Records `n` = 0..4499 round-robin over 3 partitions, ~600 bytes each; `keep` only on partition 0 with n % 4 == 0. */
function records(extraHeaders: (n: number) => ProduceRecord['headers'] = () => []): ProduceRecord[] {
  return Array.from({ length: PARTITIONS * PER_PARTITION }, (_, n) => {
    const partition = n % PARTITIONS
    const kind = partition === 0 && n % 4 === 0 ? 'keep' : 'drop'
    return { key: Buffer.from(`k${n}`), value: Buffer.from(JSON.stringify({ n, kind, pad: 'x'.repeat(560) })), headers: extraHeaders(n), partition }
  })
}

const expectedKept = (): number[] => records().map((r) => JSON.parse(r.value!.toString()) as { n: number; kind: string }).filter((v) => v.kind === 'keep').map((v) => v.n)
const values = async (topic: string): Promise<number[]> => (await readWithEvt(topic)).map((r) => (JSON.parse(r.value!.toString()) as { n: number }).n).sort((a, b) => a - b)

describe('filtered moves', () => {
  it('replay --filter copies the exact filtered set once, with no failed transaction', async () => {
    const src = await createTopic(uniqueTopic('fm-src'), PARTITIONS)
    const dst = await createTopic(uniqueTopic('fm-dst'), PARTITIONS)
    await writeWithEvt(src, records())
    const result = await runEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--filter', 'value.kind == "keep"', '--yes', '--json'], { timeoutMs: 60_000 })
    expect(result.code).toBe(0)
    expect(result.stderr).not.toContain('transaction failed')
    expect(result.stderr).not.toContain('retrying')
    const { summary } = JSON.parse(result.stdout.trim().split('\n').pop()!) as { summary: { copied: number; filtered: number } }
    const kept = expectedKept()
    expect(kept).toHaveLength(375)
    expect(summary).toMatchObject({ copied: kept.length, filtered: PARTITIONS * PER_PARTITION - kept.length })
    expect(await values(dst)).toEqual(kept)
  }, 90_000)

  it('dlq requeue --filter sends the exact filtered set once, with no failed transaction', async () => {
    const p = uniqueTopic('fm-rq')
    const orders = await createTopic(`${p}.orders`, PARTITIONS)
    const dlt = await createTopic(`${p}.orders-dlt`, PARTITIONS)
    const h = (key: string, value: string) => ({ key, value: Buffer.from(value) })
    await writeWithEvt(dlt, records((n) => [h('kafka_dlt-original-topic', orders), h('kafka_dlt-exception-fqcn', 'java.lang.IllegalStateException'), h('kafka_dlt-exception-message', `failed ${n}`)]))
    const result = await runEvt(['dlq', 'requeue', dlt, '--filter', 'value.kind == "keep"', '--yes'], { timeoutMs: 60_000 })
    expect(result.code).toBe(0)
    expect(result.stderr).not.toContain('transaction failed')
    expect(result.stderr).not.toContain('retrying')
    expect(await values(orders)).toEqual(expectedKept())
  }, 90_000)
})
