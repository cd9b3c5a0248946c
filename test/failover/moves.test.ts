/**
 * Exactly-once moves (replay into a topic, dlq requeue) and connecting, on a 3-broker cluster
 * while brokers die or freeze. Each move must finish by itself (exit 0, no --resume), within a
 * bound after the fault, with every record exactly once at the destination.
 */
import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
// @ts-expect-error plain ESM script without type declarations
import { signalBroker, stopBroker, up } from '../../scripts/cluster.mjs'
import { ROOT } from '../support/kafka.ts'

const BROKERS = ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094']
const CLUSTER = { brokers: 3, registry: false }
const kafka = new kafkajs.Kafka({ brokers: BROKERS, clientId: 'evt-failover-test', logLevel: kafkajs.logLevel.NOTHING })
/** A move must end by itself this long after the fault, ms. */
const AFTER_FAULT_MS = 60_000

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** When the process ended, epoch ms. */
  endedAt: number
}

/**
 * Runs bin/run.js with the 3 brokers. `onStderr` sees stderr as it arrives. The process is killed
 * after `limitMs` (a hang): the test then fails on its exit code, with stderr in the message.
 */
function evt(args: string[], options: { limitMs?: number; onStderr?: (text: string) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      options.onStderr?.(stderr)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 150_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, endedAt: Date.now() })
    })
  })
}

/** Resolves once `evt`'s stderr matches `pattern` (checked by the caller's onStderr), at most `ms`. */
function waitFor(pattern: RegExp, ms = 60_000): { onStderr: (text: string) => void; seen: Promise<void> } {
  let done: () => void = () => {}
  const seen = new Promise<void>((resolve, reject) => {
    done = resolve
    setTimeout(() => reject(new Error(`evt did not print ${pattern} within ${ms} ms`)), ms).unref()
  })
  return { onStderr: (text) => pattern.test(text) && done(), seen }
}

/** Creates RF-3 topics with 3 partitions and waits until every partition has a leader. */
async function createTopics(...topics: string[]): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 3 })), waitForLeaders: true }).catch((err: { type?: string }) => {
      if (err.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err // new-topic metadata still propagating: wait below
    })
    for (let i = 0; ; i++) {
      const meta = await admin.fetchTopicMetadata({ topics }).catch(() => undefined)
      if (meta?.topics.every((t) => t.partitions.length === 3 && t.partitions.every((p) => p.leader >= 0))) return
      if (i > 150) throw new Error('topics have no leaders after 15 s')
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await admin.disconnect()
  }
}

/** The node id leading `topic`/`partition`. */
async function leaderOf(topic: string, partition: number): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    return meta.topics[0].partitions.find((p) => p.partitionId === partition)!.leader
  } finally {
    await admin.disconnect()
  }
}

/** Writes messages with an idempotent producer, 500 per request. */
async function write(topic: string, messages: Array<{ key: string; value: string; partition?: number; headers?: Record<string, Buffer> }>): Promise<void> {
  const producer = kafka.producer({ idempotent: true })
  await producer.connect()
  try {
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) })
  } finally {
    await producer.disconnect()
  }
}

/** Every value of `topic` (read_committed, from the start to the end), read by evt once the cluster is whole. */
async function values(topic: string): Promise<string[]> {
  const result = await evt(['tail', topic, '-o', 'start', '-e', '--template', '%v\\n'], { limitMs: 60_000 })
  expect(result.code, result.stderr).toBe(0)
  return result.stdout.split('\n').filter(Boolean).sort()
}

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i))

describe('moves while brokers fail', () => {
  afterAll(async () => {
    signalBroker(1, 'SIGCONT')
    signalBroker(2, 'SIGCONT')
    signalBroker(3, 'SIGCONT')
    await up(CLUSTER) // restart a killed node
  })

  it('replay --to-topic finishes by itself when a source partition leader dies, each record once', async () => {
    const suffix = Date.now().toString(36)
    const [src, dst] = [`fo-replay-src-${suffix}`, `fo-replay-dst-${suffix}`]
    await createTopics(src, dst)
    const sent = range(3000, (i) => `v${i}`)
    await write(src, sent.map((value, i) => ({ key: `k${i}`, value })))

    const started = waitFor(/replay: \d+%/)
    const replay = evt(['replay', src, '--from', 'start', '--to-topic', dst, '--rate', '600', '--yes'], { onStderr: started.onStderr })
    await started.seen // the copy is under way
    const killedAt = Date.now()
    expect(await stopBroker(await leaderOf(src, 0))).toBe(true)

    const result = await replay
    expect(result.code, result.stderr).toBe(0)
    expect(result.endedAt - killedAt, result.stderr).toBeLessThan(AFTER_FAULT_MS)
    expect(await values(dst)).toEqual([...sent].sort())
    await up(CLUSTER)
  })

  it('dlq requeue finishes by itself when the target partition leader dies, each record once', async () => {
    const suffix = Date.now().toString(36)
    const [orders, dlt] = [`fo-rq-orders-${suffix}`, `fo-rq-orders-${suffix}-dlt`]
    await createTopics(orders, dlt)
    const int32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
    const int64 = (n: number) => {
      const b = Buffer.alloc(8)
      b.writeBigInt64BE(BigInt(n))
      return b
    }
    const dead = range(2000, (i) => `dead-${i}`)
    // as Spring's DeadLetterPublishingRecoverer writes them (kafka_dlt-* headers)
    await write(dlt, dead.map((value, i) => ({
      key: `k${i}`,
      value,
      partition: i % 3,
      headers: {
        'kafka_dlt-original-topic': Buffer.from(orders),
        'kafka_dlt-original-partition': int32(i % 3),
        'kafka_dlt-original-offset': int64(i),
        'kafka_dlt-exception-fqcn': Buffer.from('org.springframework.kafka.listener.ListenerExecutionFailedException'),
        'kafka_dlt-exception-message': Buffer.from('Read timed out'),
      },
    })))

    const started = waitFor(/requeue: \d+\/\d+ DLQ offsets/)
    const requeue = evt(['dlq', 'requeue', dlt, '--rate', '400', '--yes'], { onStderr: started.onStderr })
    await started.seen
    const killedAt = Date.now()
    expect(await stopBroker(await leaderOf(orders, 0))).toBe(true)

    const result = await requeue
    expect(result.code, result.stderr).toBe(0)
    expect(result.endedAt - killedAt, result.stderr).toBeLessThan(AFTER_FAULT_MS)
    expect(await values(orders)).toEqual([...dead].sort())
    await up(CLUSTER)
  })

  it('replay --to-topic completes exactly once when a source leader is frozen for 20 s', async () => {
    const suffix = Date.now().toString(36)
    const [src, dst] = [`fo-freeze-src-${suffix}`, `fo-freeze-dst-${suffix}`]
    await createTopics(src, dst)
    const sent = range(3000, (i) => `f${i}`)
    await write(src, sent.map((value, i) => ({ key: `k${i}`, value })))

    const started = waitFor(/replay: \d+%/)
    const replay = evt(['replay', src, '--from', 'start', '--to-topic', dst, '--rate', '600', '--yes'], { onStderr: started.onStderr })
    await started.seen
    const frozen = await leaderOf(src, 0)
    const frozenAt = Date.now()
    expect(signalBroker(frozen, 'SIGSTOP')).toBe(true)
    await new Promise((r) => setTimeout(r, 20_000))
    expect(signalBroker(frozen, 'SIGCONT')).toBe(true)

    const result = await replay
    expect(result.code, result.stderr).toBe(0)
    expect(result.endedAt - frozenAt, result.stderr).toBeLessThan(20_000 + AFTER_FAULT_MS)
    expect(await values(dst)).toEqual([...sent].sort())
  })
})

describe('connecting to a broker that does not answer', () => {
  afterAll(() => {
    signalBroker(3, 'SIGCONT')
  })

  it('a frozen broker: exit 3 within --timeout plus 1 s, naming the broker', async () => {
    const startup = await startupMs()
    expect(signalBroker(3, 'SIGSTOP')).toBe(true)
    const started = Date.now()
    const result = await evt(['topics', '-b', '127.0.0.1:9094', '--timeout', '3s'], { limitMs: 30_000 })
    const elapsed = Date.now() - started
    signalBroker(3, 'SIGCONT')
    expect(result.code, result.stderr).toBe(3)
    expect(result.stderr).toContain('127.0.0.1:9094')
    expect(result.stderr).toContain('did not answer within 3000 ms')
    expect(elapsed).toBeGreaterThanOrEqual(3000)
    expect(elapsed).toBeLessThan(3000 + 1000 + startup)
  })

  it('a refused connection: exit 3 within 1 s, saying "connection refused"', async () => {
    const startup = await startupMs()
    const started = Date.now()
    const result = await evt(['topics', '-b', '127.0.0.1:9', '--timeout', '10s'], { limitMs: 30_000 })
    const elapsed = Date.now() - started
    expect(result.code, result.stderr).toBe(3)
    expect(result.stderr).toMatch(/^evt: cannot connect to Kafka at 127\.0\.0\.1:9: connection refused$/m)
    expect(elapsed).toBeLessThan(1000 + startup)
  })
})

/**
 * What starting `evt topics` costs on this machine right now, before any connection (Node, oclif,
 * the command's imports; a flag it rejects at once), ms: the bound for connecting is on top of it.
 */
async function startupMs(): Promise<number> {
  const t = Date.now()
  const r = await evt(['topics', '--timeout', 'soon'], { limitMs: 30_000 })
  expect(r.code).toBe(2)
  return Date.now() - t
}
