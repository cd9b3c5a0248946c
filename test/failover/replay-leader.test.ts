/**
 * On a 3-broker cluster, killing the leader of a source partition in the middle of a replay copy
 * still ends with every record in the target exactly once.
 */
import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
// @ts-expect-error plain ESM script without type declarations
import { stopBroker, up } from '../../scripts/cluster.mjs'
import { ROOT } from '../support/kafka.ts'

const BROKERS = ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094']
const kafka = new kafkajs.Kafka({ brokers: BROKERS, clientId: 'evt-failover-test', logLevel: kafkajs.logLevel.NOTHING })

function evt(args: string[], timeoutMs = 150_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

async function sources(topic: string): Promise<string[]> {
  const result = await evt(['tail', topic, '-o', 'start', '-e', '--template', '%h\\n'])
  expect(result.code).toBe(0)
  return result.stdout.split('\n').filter(Boolean).map((line) => /evt-replay-source=([^,]+)/.exec(line)![1])
}

describe('replay while a partition leader dies', () => {
  afterAll(async () => {
    await up({ brokers: 3, registry: false }) // restart the killed node
  })

  it('copies every record exactly once', async () => {
    const suffix = Date.now().toString(36)
    const src = `failover-src-${suffix}`
    const dst = `failover-dst-${suffix}`
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: src, numPartitions: 3, replicationFactor: 3 }, { topic: dst, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true }).catch((err: { type?: string }) => {
      if (err.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err // new-topic metadata still propagating: wait below
    })
    for (let i = 0; ; i++) {
      const meta = await admin.fetchTopicMetadata({ topics: [src, dst] }).catch(() => undefined)
      if (meta?.topics.every((t) => t.partitions.length === 3 && t.partitions.every((p) => p.leader >= 0))) break
      if (i > 150) throw new Error('topics have no leaders after 15 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    const producer = kafka.producer({ idempotent: true })
    await producer.connect()
    for (let batch = 0; batch < 6; batch++) {
      await producer.send({ topic: src, acks: -1, messages: Array.from({ length: 500 }, (_, i) => ({ key: `k${batch * 500 + i}`, value: `v${batch * 500 + i}` })) })
    }
    await producer.disconnect()

    const replay = evt(['replay', src, '--from', 'start', '--to-topic', dst, '--rate', '600', '--yes'])
    await new Promise((r) => setTimeout(r, 2000))
    const meta = await admin.fetchTopicMetadata({ topics: [src] })
    const leader = meta.topics[0].partitions.find((p) => p.partitionId === 0)!.leader
    await admin.disconnect()
    expect(await stopBroker(leader)).toBe(true)

    const result = await replay
    let all: string[]
    if (result.code === 0) all = await sources(dst)
    else {
      // The run may give up while the cluster elects new leaders: resuming must still end exactly once.
      const id = /replay id (\S+)/.exec(result.stderr)![1]
      const resumed = await evt(['replay', '--resume', id, '--yes'])
      expect(resumed.code).toBe(0)
      all = await sources(dst)
    }
    expect(all.length).toBe(3000)
    expect(new Set(all).size).toBe(3000)
  })
})
