/**
 * `evt tail`: stream records of some topics, decoded and filtered, without a consumer group.
 */
import { RegistryDecoder } from '../codec/registry.ts'
import { usageError, notFoundError } from '../errors.ts'
import type { RecordFilter } from '../filter.ts'
import { LoopTurns } from '../util/event-loop.ts'
import type { Isolation, KafkaReader, PartitionPlan } from '../kafka/reader.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { PositionRange } from '../kafka/positions.ts'
import type { DecodedRecord } from '../record.ts'

/** What to tail. */
export interface TailOptions {
  /** Topic names, or regular expressions when `regex`. */
  topics: string[]
  regex?: boolean
  range: PositionRange
  partitions?: number[]
  /** Stop after this many records (after filtering). */
  maxMessages?: number
  filter?: RecordFilter
  isolation?: Isolation
  signal?: AbortSignal
  /** Warnings (a partition problem; the schema registry unreachable: once, not per record). */
  onWarning?: (message: string) => void
  /** Fail (exit 3) when the schema registry cannot be reached, instead of showing records raw. */
  strict?: boolean
  /** Called once with the plan, before the first record (for progress or a live view). */
  onPlan?: (plans: PartitionPlan[]) => void
}

/** Counters of a tail, filled in as it runs. */
export interface TailStats {
  /** Records read from Kafka. */
  scanned: number
  /** Records that passed the filters and were handed out. */
  matched: number
  /** Bytes of record batches read. */
  bytes: number
}

/**
 * Resolves topic names, or patterns with `regex`, against the cluster.
 * @throws EvtError usage (bad regex) / not-found (no topic matches).
 */
export async function resolveTopics(reader: KafkaReader, topics: string[], regex: boolean): Promise<string[]> {
  if (!regex) return [...new Set(topics)]
  const all = await reader.topicNames()
  const patterns = topics.map((t) => {
    try {
      return new RegExp(t)
    } catch (err) {
      throw usageError(`-r: "${t}" is not a regular expression: ${(err as Error).message}`, 'e.g. -r "^orders\\..*"')
    }
  })
  const matched = all.filter((name) => !name.startsWith('__') && patterns.some((p) => p.test(name)))
  if (matched.length === 0) throw notFoundError(`no topic matches ${topics.map((t) => `/${t}/`).join(', ')}`, 'list topics with: evt topics')
  return matched
}

/**
 * Records handed out at a time, at most. A partition fetch holds thousands; smaller arrays keep what
 * is alive at once (records, rendered lines, the joined output) small, so the garbage collector
 * frees it young instead of letting the heap grow.
 */
const YIELD_RECORDS = 256

/**
 * Streams decoded records in arrays (at most 256, from one partition fetch), filtered, until the range ends,
 * `maxMessages` is reached, or `signal` aborts. `stats` is updated as it goes.
 * @throws EvtError connect (3), not-found (4), usage (2).
 */
export async function* tailRecords(session: KafkaSession, options: TailOptions, stats: TailStats = { scanned: 0, matched: 0, bytes: 0 }): AsyncGenerator<DecodedRecord[]> {
  const { connection } = session
  const reader = await session.reader(options.isolation ?? 'read_committed')
  const decoder = new RegistryDecoder(connection.registry, { onWarning: options.onWarning, strict: options.strict, timeoutMs: Math.min(connection.timeoutMs, 5000) })
  const topics = await resolveTopics(reader, options.topics, Boolean(options.regex))
  const plans = await reader.plan(topics, options.range, options.partitions)
  options.onPlan?.(plans)
  const limit = options.maxMessages ?? Infinity
  if (limit <= 0) return
  const turns = new LoopTurns()
  for await (const chunk of reader.read(plans, { signal: options.signal, onWarning: options.onWarning })) {
    stats.scanned += chunk.records.length
    stats.bytes += chunk.bytes
    let out: DecodedRecord[] = []
    await decoder.prepare(chunk.records)
    for (const raw of chunk.records) {
      if (turns.due()) {
        await turns.yield() // Ctrl-C is observed while a long chunk is decoded and filtered
        if (options.signal?.aborted) break
      }
      const record = decoder.decodeRecord(raw)
      if (options.filter) {
        let passed: boolean
        try {
          passed = options.filter(record)
        } catch (err) {
          if (out.length) yield out // the records before the one the filter failed on are not lost
          throw err
        }
        if (!passed) continue
      }
      out.push(record)
      if (stats.matched + out.length >= limit) break
      if (out.length === YIELD_RECORDS) {
        stats.matched += out.length
        yield out
        out = []
      }
    }
    stats.matched += out.length
    if (out.length) yield out
    if (stats.matched >= limit) return
  }
}
