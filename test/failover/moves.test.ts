/**
 * Exactly-once moves (replay into a topic, dlq requeue) and connecting, on the 3-broker cluster
 * while brokers die or freeze. Each move must finish by itself (exit 0, no --resume) within a bound
 * after the fault, and the destination must hold exactly what the source holds — read independently
 * by kcat — once each: no loss, no duplicate (every source offset copied once).
 */
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM script without type declarations
import { signalBroker } from '../../scripts/cluster.mjs'
import { int32BE } from '../support/fixtures/dlq-headers.ts'
import { int64BE } from '../support/fixtures/envelope-record.ts'
import { clusterUp, connectedTo, createRf3Topic, describeExit, idempotentProducer, kcatRead, killBroker, multisetDiff, partitionLeader, runEvt, sleep, startEvt, uniqueName, waitUntil, type EvtProcess } from './support.ts'

/** A move must end by itself this long after the fault, ms. */
const AFTER_FAULT_MS = 60_000

/** Writes `messages` with the suite's idempotent kafkajs producer, 500 per request. */
async function write(topic: string, messages: Array<{ key: string; value: string; partition?: number; headers?: Record<string, Buffer> }>): Promise<void> {
  const producer = await idempotentProducer()
  try {
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) })
  } finally {
    await producer.disconnect()
  }
}

/** Waits (at most 60 s) until the move has committed its first slice (its progress line), or fails with its stderr. */
async function underWay(p: EvtProcess, progress: RegExp): Promise<void> {
  await waitUntil('the move to commit its first slice', () => progress.test(p.stderr()), { timeoutMs: 60_000, stopIf: () => (p.exited() ? describeExit(p) : undefined) })
}

/**
 * The destination holds exactly the source's records (values as multisets, both read by kcat,
 * read_committed), and no source offset was copied twice (the provenance header).
 */
async function expectExactCopy(source: string, destination: string, provenanceHeader: string, run: string): Promise<void> {
  const expected = await kcatRead(source)
  const actual = await kcatRead(destination)
  expect(multisetDiff(actual, expected), run).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })
  const provenance = (await kcatRead(destination, '%h\\n')).map((h) => new RegExp(`${provenanceHeader}=([^,]+)`).exec(h)?.[1])
  expect(provenance.every(Boolean), run).toBe(true)
  expect(new Set(provenance).size, run).toBe(expected.length)
}

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i))

describe('moves while brokers fail', () => {
  afterAll(async () => {
    for (const node of [1, 2, 3]) signalBroker(node, 'SIGCONT')
    await clusterUp() // restart a killed node
  })

  it('replay --to-topic finishes by itself when a source partition leader dies, each record once', async () => {
    const [src, dst] = [uniqueName('fo-replay-src'), uniqueName('fo-replay-dst')]
    await createRf3Topic(src, 3)
    await createRf3Topic(dst, 3)
    await write(src, range(3000, (i) => ({ key: `k${i}`, value: `v${i}` })))

    const replay = startEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--rate', '600', '--yes', '--progress'], { killAfterMs: 170_000 })
    await underWay(replay, /replay: \d+%/)
    const killedAt = Date.now()
    await killBroker(await partitionLeader(src, 0))

    const result = await replay.done
    expect(result.code, describeExit(result)).toBe(0)
    expect(Date.now() - killedAt, describeExit(result)).toBeLessThan(AFTER_FAULT_MS)
    await expectExactCopy(src, dst, 'evt-replay-source', describeExit(result))
    await clusterUp()
  })

  it('replay --to-topic without --rate (transactions of many records, all partitions) finishes by itself when a target partition leader dies mid-copy, each record once', async () => {
    const [src, dst] = [uniqueName('fo-bigtxn-src'), uniqueName('fo-bigtxn-dst')]
    await createRf3Topic(src, 3)
    await createRf3Topic(dst, 3)
    const n = 100_000
    await write(src, range(n, (i) => ({ key: `k${i}`, value: `b${i}`, partition: i % 3 })))

    const replay = startEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--yes', '--progress'], { killAfterMs: 170_000 })
    await underWay(replay, /replay: \d+%/)
    const leader = await partitionLeader(dst, 0)
    const killedAt = Date.now()
    await killBroker(leader)
    // the kill landed while the copy ran (a transaction committed, not all of them): in or between large transactions
    expect(replay.exited(), describeExit(replay)).toBeUndefined()

    const result = await replay.done
    expect(result.code, describeExit(result)).toBe(0)
    expect(Date.now() - killedAt, describeExit(result)).toBeLessThan(AFTER_FAULT_MS)
    await expectExactCopy(src, dst, 'evt-replay-source', describeExit(result))
    await clusterUp()
  })

  it('dlq requeue finishes by itself when the target partition leader dies, each record once', async () => {
    const orders = uniqueName('fo-rq-orders')
    const dlt = `${orders}-dlt`
    await createRf3Topic(orders, 3)
    await createRf3Topic(dlt, 3)
    // as Spring's DeadLetterPublishingRecoverer writes them (kafka_dlt-* headers)
    await write(dlt, range(2000, (i) => `dead-${i}`).map((value, i) => ({
      key: `k${i}`,
      value,
      partition: i % 3,
      headers: {
        'kafka_dlt-original-topic': Buffer.from(orders),
        'kafka_dlt-original-partition': int32BE(i % 3),
        'kafka_dlt-original-offset': int64BE(i),
        'kafka_dlt-exception-fqcn': Buffer.from('org.springframework.kafka.listener.ListenerExecutionFailedException'),
        'kafka_dlt-exception-message': Buffer.from('Read timed out'),
      },
    })))

    const requeue = startEvt(['dlq', 'requeue', dlt, '--rate', '400', '--yes', '--progress'], { killAfterMs: 170_000 })
    await underWay(requeue, /requeue: \d+\/\d+ DLQ offsets/)
    const killedAt = Date.now()
    await killBroker(await partitionLeader(orders, 0))

    const result = await requeue.done
    expect(result.code, describeExit(result)).toBe(0)
    expect(Date.now() - killedAt, describeExit(result)).toBeLessThan(AFTER_FAULT_MS)
    await expectExactCopy(dlt, orders, 'evt-requeued-from', describeExit(result))
    await clusterUp()
  })

  it('replay --to-topic completes exactly once when a source leader is frozen for 20 s', async () => {
    const [src, dst] = [uniqueName('fo-freeze-src'), uniqueName('fo-freeze-dst')]
    await createRf3Topic(src, 3)
    await createRf3Topic(dst, 3)
    await write(src, range(3000, (i) => ({ key: `k${i}`, value: `f${i}` })))

    const replay = startEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--rate', '600', '--yes', '--progress'], { killAfterMs: 170_000 })
    await underWay(replay, /replay: \d+%/)
    const frozen = await partitionLeader(src, 0)
    const frozenAt = Date.now()
    expect(signalBroker(frozen, 'SIGSTOP')).toBe(true)
    await sleep(20_000)
    expect(signalBroker(frozen, 'SIGCONT')).toBe(true)

    const result = await replay.done
    expect(result.code, describeExit(result)).toBe(0)
    expect(Date.now() - frozenAt, describeExit(result)).toBeLessThan(20_000 + AFTER_FAULT_MS)
    await expectExactCopy(src, dst, 'evt-replay-source', describeExit(result))
  })
})

/**
 * What starting `evt topics` costs on this machine right now, before any connection (Node, oclif,
 * the command's imports; a flag it rejects at once), ms: the bound for connecting is on top of it.
 * Measured around the timed run (the slower of one run before and one after), as start-up varies
 * with the machine's load.
 */
async function startupMs(): Promise<number> {
  const r = await runEvt(['topics', '--timeout', 'soon'], { killAfterMs: 30_000 })
  expect(r.code).toBe(2)
  return r.ms
}

describe('connecting to a broker that does not answer', () => {
  afterAll(() => {
    signalBroker(3, 'SIGCONT')
  })

  it('a frozen broker: exit 3 within --timeout plus 1 s, naming the broker', async () => {
    const startup = await startupMs()
    expect(signalBroker(3, 'SIGSTOP')).toBe(true)
    const result = await runEvt(['topics', '-b', '127.0.0.1:9094', '--timeout', '3s'], { killAfterMs: 30_000 })
    signalBroker(3, 'SIGCONT')
    const slowest = Math.max(startup, await startupMs())
    expect(result.code, describeExit(result)).toBe(3)
    expect(result.stderr).toContain('127.0.0.1:9094')
    expect(result.stderr).toContain('did not answer within 3000 ms')
    expect(result.ms).toBeGreaterThanOrEqual(3000)
    expect(result.ms).toBeLessThan(3000 + 1000 + slowest)
  })

  it.each([
    ['tail', ['tail', 'orders.events', '-o', 'start', '-e']],
    ['topics', ['topics']],
  ])('Ctrl-C and SIGTERM end %s at once while it waits for a frozen broker (130 / 143)', async (_name, args) => {
    expect(signalBroker(3, 'SIGSTOP')).toBe(true)
    try {
      for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
        const p = startEvt([...args, '-b', '127.0.0.1:9094', '--timeout', '60s'], { killAfterMs: 90_000 })
        // probing the frozen broker: the kernel accepted the connection, nothing answers
        await waitUntil('evt to connect to the frozen broker', () => connectedTo(p.child.pid!, 9094), { timeoutMs: 30_000, stopIf: () => (p.exited() ? describeExit(p) : undefined) })
        await sleep(300)
        const signalled = Date.now()
        p.child.kill(signal)
        const result = await p.done
        expect(result.code, describeExit(result)).toBe(code)
        expect(Date.now() - signalled, describeExit(result)).toBeLessThan(2000)
        expect(result.stderr.trim()).toBe('evt: interrupted while connecting to 127.0.0.1:9094')
        expect(result.stderr).not.toMatch(/\n\s+at /)
      }
    } finally {
      signalBroker(3, 'SIGCONT')
    }
  })

  it('a refused connection: exit 3 within 1 s, saying "connection refused"', async () => {
    const startup = await startupMs()
    const result = await runEvt(['topics', '-b', '127.0.0.1:9', '--timeout', '10s'], { killAfterMs: 30_000 })
    const slowest = Math.max(startup, await startupMs())
    expect(result.code, describeExit(result)).toBe(3)
    expect(result.stderr).toMatch(/^evt: cannot connect to Kafka at 127\.0\.0\.1:9: connection refused$/m)
    expect(result.ms).toBeLessThan(1000 + slowest)
  })
})
