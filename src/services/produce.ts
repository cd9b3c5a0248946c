/**
 * `evt produce`: write records with an idempotent producer and report where each landed.
 */
import kafkajs from 'kafkajs'
import type { Connection } from '../config/connection.ts'
import { registerKafkajsCodecs } from '../codec/compression.ts'
import { RecordEncoder, type SchemaSelector } from '../codec/registry.ts'
import { notFoundError, usageError } from '../errors.ts'
import { connectProducer, createKafka, withAdmin } from '../kafka/client.ts'
import { installOrderedHeaderEncoding, type OrderedHeader } from '../kafka/record-encoding.ts'

const { CompressionTypes, Partitioners } = kafkajs

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

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** Options of {@link produceRecords}. */
export interface ProduceOptions {
  topic: string
  compression?: Compression
  /** Records per request (default 500). */
  batchSize?: number
  /**
   * Encode keys / values (given as JSON) with registry schemas: Avro, Protobuf (its first
   * message) or JSON Schema, Confluent-framed.
   */
  schemas?: { key?: SchemaSelector; value?: SchemaSelector }
}

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }

/**
 * Writes records in order (per partition), in batches, and yields where each landed, in input
 * order. Offsets are exact: each batch goes to one request per partition and the broker returns
 * its base offset.
 * @throws EvtError not-found (unknown topic or schema, exit 4), usage (partition out of range, input
 * that does not match the schema), connect (3: cluster or schema registry).
 */
export async function* produceRecords(connection: Connection, records: AsyncIterable<ProduceRecord> | Iterable<ProduceRecord>, options: ProduceOptions): AsyncGenerator<ProducedAt> {
  const encoder = await RecordEncoder.open(connection.registry, options.schemas ?? {}, { timeoutMs: connection.timeoutMs })
  const partitionCount = await withAdmin(connection, async (admin) => {
    const topics = await admin.listTopics()
    if (!topics.includes(options.topic)) throw notFoundError(`topic "${options.topic}" does not exist`, 'create it first, or list topics with: evt topics')
    const meta = await admin.fetchTopicMetadata({ topics: [options.topic] })
    return meta.topics[0].partitions.length
  })
  installOrderedHeaderEncoding()
  registerKafkajsCodecs(kafkajs)
  const kafka = createKafka(connection)
  const producer = await connectProducer(connection, kafka, { createPartitioner: Partitioners.DefaultPartitioner })
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = Array.from({ length: partitionCount }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }))
  const batchSize = options.batchSize ?? 500
  try {
    let batch: ProduceRecord[] = []
    const flush = async (): Promise<ProducedAt[]> => {
      const assigned = batch.map((r) => {
        if (r.partition !== undefined) {
          if (r.partition < 0 || r.partition >= partitionCount) throw usageError(`partition ${r.partition} does not exist in "${options.topic}"`, `its partitions are 0..${partitionCount - 1}`)
          return r.partition
        }
        return partitioner({ topic: options.topic, partitionMetadata, message: { key: r.key, value: r.value } })
      })
      const result = await producer.send({
        topic: options.topic,
        acks: -1,
        compression: COMPRESSION[options.compression ?? 'none'],
        messages: batch.map((r, i) => ({ key: r.key, value: r.value, headers: r.headers as unknown as Record<string, Buffer>, partition: assigned[i], timestamp: r.timestamp === undefined ? undefined : String(r.timestamp) })),
      })
      const base = new Map(result.map((m) => [m.partition, Number(m.baseOffset)]))
      const seen = new Map<number, number>()
      const out = assigned.map((partition) => {
        const n = seen.get(partition) ?? 0
        seen.set(partition, n + 1)
        return { topic: options.topic, partition, offset: base.get(partition)! + n }
      })
      batch = []
      return out
    }
    let n = 0
    for await (const record of records) {
      n++
      batch.push(encoder.has('key') || encoder.has('value') ? { ...record, key: encoder.encode('key', record.key, n), value: encoder.encode('value', record.value, n) } : record)
      if (batch.length >= batchSize) yield* await flush()
    }
    if (batch.length) yield* await flush()
  } finally {
    await producer.disconnect().catch(() => {})
  }
}
