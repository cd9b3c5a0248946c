/**
 * `evt produce`: write records with an idempotent producer and report where each landed.
 */
import { randomBytes } from 'node:crypto'
import { RecordEncoder, type SchemaSelector } from '../codec/registry.ts'
import { notFoundError, usageError } from '../errors.ts'
import { assertWritableTopic } from '../kafka/internal-topics.ts'
import { partitionForKey, toPositive } from '../kafka/partitioner.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { Compression, OrderedHeader } from '../kafka/types.ts'

export type { Compression } from '../kafka/types.ts'

/** One record to write. `value: null` is a tombstone. */
export interface ProduceRecord {
  key: Buffer | null
  value: Buffer | null
  headers: OrderedHeader[]
  /** Explicit partition; otherwise by key (murmur2, as Java and kcat's default) or round-robin. */
  partition?: number
  /** Epoch ms; otherwise the producer's clock. */
  timestamp?: number
}

/** Where a record landed (the `--json` contract of produce: one line per record). */
export interface ProducedAt {
  topic: string
  partition: number
  offset: number
}

/** Options of {@link produceRecords}. */
export interface ProduceOptions {
  topic: string
  compression?: Compression
  /** Records per request (default 500). */
  batchSize?: number
  /**
   * Send what is buffered once no record arrived for this long (default 50 ms), so records
   * that trickle in (`tail -f … | evt produce`) go out promptly instead of waiting for a full batch.
   */
  lingerMs?: number
  /** …or once the oldest buffered record is this old, even if records keep arriving (default 200 ms). */
  maxDelayMs?: number
  /**
   * Encode keys / values (given as JSON) with registry schemas: Avro, Protobuf (its first
   * message) or JSON Schema, Confluent-framed.
   */
  schemas?: { key?: SchemaSelector; value?: SchemaSelector }
}

const TICK = Symbol('tick')

/**
 * Writes records in order (per partition), in batches, and yields where each landed, in input
 * order. Offsets are exact: each batch goes to one request per partition and the broker returns
 * its base offset. A batch is sent when `batchSize` records are buffered, when no record arrived
 * for `lingerMs`, when the oldest buffered one is `maxDelayMs` old, or when the input ends.
 *
 * When `records` throws (a bad input line) or a record does not match its schema, every record
 * before it is sent (and yielded) first, then the error is thrown: the caller can tell how many
 * were written before the bad one.
 * @throws EvtError refused (6) for one of Kafka's internal topics, not-found (unknown topic or schema, exit 4), usage (partition out of range, input
 * that does not match the schema), connect (3: cluster or schema registry).
 */
export async function* produceRecords(session: KafkaSession, records: AsyncIterable<ProduceRecord> | Iterable<ProduceRecord>, options: ProduceOptions): AsyncGenerator<ProducedAt> {
  const { connection } = session
  assertWritableTopic(options.topic, 'produce')
  const encoder = await RecordEncoder.open(connection.registry, options.schemas ?? {}, { timeoutMs: connection.timeoutMs })
  const admin = await session.admin()
  const topics = await admin.listTopics()
  if (!topics.includes(options.topic)) throw notFoundError(`topic "${options.topic}" does not exist`, 'create it first, or list topics with: evt topics')
  const partitionCount = (await admin.topicMetadata([options.topic]))[0].partitions.length
  const producer = await session.writer()
  // keyless records: round-robin from a random start, as Kafka's legacy default partitioner (and kafkajs's)
  let counter = randomBytes(4).readUInt32BE(0)
  const partitionOf = (r: ProduceRecord) => (r.key !== null && r.key !== undefined ? partitionForKey(r.key, partitionCount) : toPositive(++counter) % partitionCount)
  const batchSize = options.batchSize ?? 500
  const lingerMs = options.lingerMs ?? 50
  const maxDelayMs = options.maxDelayMs ?? 200
  let timer: NodeJS.Timeout | undefined
  let pending: Promise<IteratorResult<ProduceRecord>> | undefined
  const input = Symbol.asyncIterator in records ? records[Symbol.asyncIterator]() : (async function* () { yield* records })()
  try {
    let batch: ProduceRecord[] = []
    let firstAt = 0
    let lastAt = 0
    let tick: Promise<typeof TICK> | undefined
    const dueAt = () => Math.min(lastAt + lingerMs, firstAt + maxDelayMs)
    const flush = async (): Promise<ProducedAt[]> => {
      clearTimeout(timer)
      tick = undefined
      const sending = batch
      batch = []
      const assigned = sending.map((r) => {
        if (r.partition !== undefined) {
          if (r.partition < 0 || r.partition >= partitionCount) throw usageError(`partition ${r.partition} does not exist in "${options.topic}"`, `its partitions are 0..${partitionCount - 1}`)
          return r.partition
        }
        return partitionOf(r)
      })
      const result = await producer.send(options.topic, sending.map((r, i) => ({ key: r.key, value: r.value, headers: r.headers, partition: assigned[i], timestamp: r.timestamp })), { compression: options.compression ?? 'none' })
      const base = new Map(result.map((m) => [m.partition, m.baseOffset]))
      const seen = new Map<number, number>()
      return assigned.map((partition) => {
        const n = seen.get(partition) ?? 0
        seen.set(partition, n + 1)
        return { topic: options.topic, partition, offset: base.get(partition)! + n }
      })
    }
    const encode = encoder.has('key') || encoder.has('value') ? (record: ProduceRecord, n: number) => ({ ...record, key: encoder.encode('key', record.key, n), value: encoder.encode('value', record.value, n) }) : (record: ProduceRecord) => record
    let n = 0
    // one read ahead: the next record is awaited while a batch is being sent, and raced against
    // the batch's deadline while records are buffered
    for (;;) {
      if (!pending) {
        pending = input.next()
        pending.catch(() => {}) // handled below; may reject while a batch is in flight
      }
      let next: IteratorResult<ProduceRecord> | typeof TICK
      try {
        if (batch.length && !tick) {
          tick = new Promise((resolve) => {
            timer = setTimeout(() => resolve(TICK), Math.max(0, dueAt() - Date.now()))
          })
        }
        next = tick ? await Promise.race([pending, tick]) : await pending
      } catch (err) {
        // the input failed (a bad line): what came before it is written first
        if (batch.length) yield* await flush()
        throw err
      }
      if (next === TICK) {
        tick = undefined
        if (Date.now() >= dueAt()) yield* await flush()
        continue
      }
      pending = undefined
      if (next.done) break
      let record: ProduceRecord
      try {
        record = encode(next.value, ++n)
      } catch (err) {
        if (batch.length) yield* await flush()
        throw err
      }
      lastAt = Date.now()
      if (!batch.length) firstAt = lastAt
      batch.push(record)
      if (batch.length >= batchSize) yield* await flush()
    }
    if (batch.length) yield* await flush()
  } finally {
    clearTimeout(timer)
    // an input with a read in flight cannot be returned (that would wait for the read)
    if (!pending) await input.return?.().catch(() => {})
  }
}
