/**
 * evt's {@link GroupConsumer} on a kafkajs consumer: read_committed, no auto-commit, offsets
 * committed by this module after the caller's handler has finished with a batch.
 *
 * kafkajs hands headers out as an object (a key seen twice becomes an array): they come back as
 * evt's ordered list, keys in first-seen order, duplicates after each other. Batches that hold only
 * transaction markers or aborted records are never given to kafkajs's `eachBatch`; kafkajs reports
 * them through its batch events, and they reach the handler as empty batches, so that the
 * committed offset moves past the markers too.
 */
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs'
import type { Connection } from '../../config/connection.ts'
import { bounded, connectWithin } from '../deadline.ts'
import type { ConsumedBatch, ConsumedRecord, GroupConsumer, OrderedHeader } from '../types.ts'

/** kafkajs's header object as evt's ordered list. */
function orderedHeaders(headers: IHeaders | undefined): OrderedHeader[] {
  const out: OrderedHeader[] = []
  for (const [key, value] of Object.entries(headers ?? {})) {
    const values = Array.isArray(value) ? value : [value]
    for (const v of values) out.push({ key, value: v === undefined || v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v)) })
  }
  return out
}

function record(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  return { topic, partition, offset: m.offset, timestamp: Number(m.timestamp), key: m.key ?? null, value: m.value ?? null, headers: orderedHeaders(m.headers) }
}

/**
 * Connects a consumer in `groupId` and subscribes it to `topics` (from the earliest offset where
 * the group has none), within `connection.timeoutMs`.
 * @throws EvtError connect/auth (exit 3).
 */
export async function connectGroupConsumer(connection: Connection, kafka: Kafka, groupId: string, topics: string[]): Promise<GroupConsumer> {
  const consumer: Consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, sessionTimeout: 30_000, heartbeatInterval: 3000, maxBytesPerPartition: 1024 * 1024 })
  await connectWithin(connection, 'connect', () => consumer.connect(), () => consumer.disconnect())
  let stopping: Promise<void> | undefined
  let stopRequested: () => void = () => {}
  const requested = new Promise<void>((resolve) => (stopRequested = resolve))
  let stopFlag = false
  const stop = async () => {
    stopFlag = true
    stopRequested()
    stopping ??= bounded(consumer.disconnect().catch(() => {}), 10_000)
    await stopping
  }
  return {
    async run(handle: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
      if (stopping) return
      await consumer.subscribe({ topics, fromBeginning: true })
      // one chain per partition: a batch is handled (and committed) after the one before it
      const chains = new Map<string, Promise<void>>()
      let failure: { error: unknown } | undefined
      let fail: (error: unknown) => void = () => {}
      const failed = new Promise<void>((_, reject) => (fail = reject))
      failed.catch(() => {})
      const enqueue = (batch: ConsumedBatch): Promise<void> => {
        const key = `${batch.topic}/${batch.partition}`
        const next = (chains.get(key) ?? Promise.resolve()).then(async () => {
          if (failure || stopFlag) return
          await handle(batch)
          // stopping: the stored batch stays uncommitted and is read again (its rows are not stored twice)
          if (stopFlag) return
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(batch.nextOffset) }])
        })
        const settled = next.catch((error: unknown) => {
          if (!failure && !stopFlag) {
            failure = { error }
            fail(error)
          }
        })
        chains.set(key, settled)
        return next
      }
      // where the previous batch of each partition ended (this member's position)
      const positions = new Map<string, number>()
      // batches of markers or aborted records only: kafkajs skips eachBatch for them and reports them here
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const p = event.payload as { topic: string; partition: number; batchSize: number; firstOffset: string | null; lastOffset: string }
        if (p.batchSize !== 0) return
        const nextOffset = Number(p.lastOffset) + 1
        const key = `${p.topic}/${p.partition}`
        const fetchedOffset = positions.get(key) ?? Number(p.firstOffset ?? nextOffset)
        positions.set(key, nextOffset)
        void enqueue({ topic: p.topic, partition: p.partition, fetchedOffset, nextOffset, records: [] }).catch(() => {})
      })
      const stopped = Promise.race([requested, new Promise<void>((resolve) => consumer.on(consumer.events.STOP, () => resolve()))])
      // a crash kafkajs does not restart from ends the run
      consumer.on(consumer.events.CRASH, (event) => {
        const p = event.payload as { error: Error; restart: boolean }
        if (!p.restart && !failure) {
          failure = { error: p.error }
          fail(p.error)
        }
      })
      if (stopping) return
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: 4,
        eachBatch: async ({ batch, isRunning, isStale }) => {
          if (!isRunning() || isStale() || failure) return
          const b = batch as typeof batch & { fetchedOffset: string }
          const nextOffset = Number(batch.lastOffset()) + 1
          positions.set(`${batch.topic}/${batch.partition}`, nextOffset)
          await enqueue({
            topic: batch.topic,
            partition: batch.partition,
            fetchedOffset: Number(b.fetchedOffset),
            nextOffset,
            records: batch.messages.map((m) => record(batch.topic, batch.partition, m)),
          })
        },
      })
      try {
        await Promise.race([failed, stopped])
      } finally {
        await stop()
        await Promise.all(chains.values())
      }
      if (failure) throw failure.error
    },
    stop,
  }
}
