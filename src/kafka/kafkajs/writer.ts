/**
 * evt's {@link KafkaWriter} and {@link TransactionalWriter} on kafkajs producers. Headers go to
 * kafkajs as evt's ordered arrays: the record encoder installed by the factory (record-encoding.ts)
 * writes them as they are. Errors of send/commit/abort are kafkajs's own (mapKafkaError
 * understands them); connecting throws EvtErrors.
 */
import kafkajs from 'kafkajs'
import type { Kafka, Message, Producer, Transaction } from 'kafkajs'
import type { Connection } from '../../config/connection.ts'
import { connectWithin, operationDeadlineMs, watchdog } from '../deadline.ts'
import { CONCURRENT_TRANSACTIONS } from './errors.ts'
import type { Compression, KafkaWriter, OutgoingRecord, PartitionBaseOffset, TransactionalWriter } from '../types.ts'

const { CompressionTypes, Partitioners } = kafkajs

const COMPRESSION: Record<Compression, number> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }

/** evt's records as kafkajs messages (headers as ordered arrays, for the patched encoder). */
function messages(records: OutgoingRecord[]): Message[] {
  return records.map((r) => ({ key: r.key, value: r.value, headers: r.headers as unknown as Record<string, Buffer>, partition: r.partition, timestamp: r.timestamp === undefined ? undefined : String(r.timestamp) }))
}

/**
 * Connects an idempotent producer within `connection.timeoutMs`.
 * @throws EvtError connect/auth (exit 3).
 */
export async function connectWriter(connection: Connection, kafka: Kafka): Promise<KafkaWriter> {
  // every record carries its partition (evt's partitioner.ts); kafkajs's partitioner is named only to keep it quiet
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  await connectWithin(connection, 'connect', () => producer.connect(), () => producer.disconnect())
  const deadlineMs = operationDeadlineMs(connection)
  return {
    async send(topic: string, records: OutgoingRecord[], options: { compression?: Compression } = {}): Promise<PartitionBaseOffset[]> {
      const result = await watchdog(`send to ${topic}`, deadlineMs, producer.send({ topic, acks: -1, compression: COMPRESSION[options.compression ?? 'none'], messages: messages(records) }))
      return result.map((m) => ({ partition: m.partition, baseOffset: Number(m.baseOffset) }))
    },
    async close(): Promise<void> {
      await producer.disconnect().catch(() => {})
    },
  }
}

/** Waits between AddOffsetsToTxn attempts while the coordinator completes the previous transaction, ms: 20, doubling, at most 320 (the Java client retries these after 20 ms). */
const CONCURRENT_BACKOFF = { minMs: 20, maxMs: 320 }

/**
 * Runs `fn` (a transaction's AddOffsetsToTxn + TxnOffsetCommit) again while the coordinator answers
 * CONCURRENT_TRANSACTIONS: the previous transaction's EndTxn has been answered but its markers are still being
 * written, so the next transaction's first coordinator request must wait for that to finish. kafkajs retries this
 * for AddPartitionsToTxn (inside a send) but not for AddOffsetsToTxn. Stops retrying after `withinMs` (then the
 * error is thrown: the caller's transaction retry takes over).
 * Source: the Java client's TransactionManager (AddOffsetsToTxnHandler re-enqueues on CONCURRENT_TRANSACTIONS).
 */
async function afterPreviousTransaction(fn: () => Promise<void>, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs
  for (let delay = CONCURRENT_BACKOFF.minMs; ; delay = Math.min(CONCURRENT_BACKOFF.maxMs, delay * 2)) {
    try {
      return await fn()
    } catch (err) {
      if ((err as { type?: string }).type !== CONCURRENT_TRANSACTIONS || Date.now() + delay > until) throw err
    }
    await new Promise((r) => setTimeout(r, delay))
  }
}

/**
 * Connects a transactional producer within `connection.timeoutMs`; connecting fences an earlier
 * producer with this transactional id. Transactions time out on the broker after 60 s.
 * @throws EvtError connect/auth (exit 3).
 */
export async function connectTransactionalWriter(connection: Connection, kafka: Kafka, transactionalId: string): Promise<TransactionalWriter> {
  const producer: Producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, transactionTimeout: 60_000 })
  await connectWithin(connection, 'connect', () => producer.connect(), () => producer.disconnect())
  const deadlineMs = operationDeadlineMs(connection)
  let txn: Transaction | undefined
  const open = (): Transaction => {
    if (!txn) throw new Error('no open transaction: call begin() first')
    return txn
  }
  return {
    async begin(): Promise<void> {
      txn = undefined
      txn = await watchdog('begin a transaction', deadlineMs, producer.transaction())
    },
    async send(topic: string, records: OutgoingRecord[]): Promise<void> {
      await watchdog(`send to ${topic} in a transaction`, deadlineMs, open().send({ topic, acks: -1, messages: messages(records) }))
    },
    async sendBatch(batches: Array<{ topic: string; records: OutgoingRecord[] }>): Promise<void> {
      const names = [...new Set(batches.map((b) => b.topic))].join(', ')
      await watchdog(`send to ${names} in a transaction`, deadlineMs, open().sendBatch({ acks: -1, topicMessages: batches.map((b) => ({ topic: b.topic, messages: messages(b.records) })) }))
    },
    async sendOffsets({ group, topic, partitions }): Promise<void> {
      // kafkajs passes each partition's metadata through to TxnOffsetCommit (its type omits the field)
      const list = partitions.map(({ partition, offset, metadata }) => ({ partition, offset: String(offset), ...(metadata === undefined ? {} : { metadata }) }))
      const t = open()
      await watchdog('send offsets to the transaction', deadlineMs, afterPreviousTransaction(() => t.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: list }] }), deadlineMs - 1000))
    },
    async commit(): Promise<void> {
      await watchdog('commit the transaction', deadlineMs, open().commit())
    },
    async abort(): Promise<void> {
      await watchdog('abort the transaction', deadlineMs, open().abort())
    },
    async close(): Promise<void> {
      await producer.disconnect().catch(() => {})
    },
  }
}
