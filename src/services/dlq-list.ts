/**
 * `evt dlq list`: dead-letter topics, found by name and by content, with what is in them.
 *
 * 1. By name: topics matching the DLQ name patterns (src/dlq/detect.ts, plus the caller's);
 *    never evt's requeue ledgers (`<dlq>.evt-requeued`), by name or by content.
 * 2. By content: of the other non-internal topics, the last `sampleSize` records each are read;
 *    a topic whose sampled records carry dead-letter headers at least half of the time is a DLQ.
 * 3. For each DLQ: record count (high − low watermark), the oldest and newest record time, and,
 *    from a bounded scan of its last `scanLimit` records, the top exception classes, the
 *    original topics and the frameworks.
 * Reads without a consumer group (KafkaReader), bounded by the end offsets taken at start.
 */
import { usageError } from '../errors.ts'
import { DEFAULT_DLQ_TOPIC_PATTERNS, hasDlqHeaders, isDlqTopic } from '../dlq/detect.ts'
import { parseFailure, type DlqFramework } from '../dlq/failure.ts'
import { headRecords, lastRecords } from '../dlq/scan.ts'
import { isRequeueLedgerTopic } from '../kafka/internal-topics.ts'
import type { Isolation, KafkaReader, PartitionPlan } from '../kafka/reader.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { PositionRange } from '../kafka/positions.ts'
import type { RawRecord } from '../record.ts'
import { selectTopics } from './trace.ts'

/** What to look at. */
export interface DlqListOptions {
  /** Topic names or globs to consider; default: every topic not starting with `__`. */
  topics?: string[]
  /** Extra DLQ name patterns (added to the defaults). */
  patterns?: RegExp[]
  /** Records sampled from the end of each other topic to detect DLQs by content (default 100). */
  sampleSize?: number
  /** Records scanned from the end of each DLQ for error classes and origins (default 10 000). */
  scanLimit?: number
  /** How many exception classes / original topics to keep per DLQ (default 5). */
  top?: number
  /** Epoch ms the ages are measured from (default now). */
  now?: number
  isolation?: Isolation
  signal?: AbortSignal
  onWarning?: (message: string) => void
}

/** One DLQ (the `dlq list --json` contract: `topics[]`). */
export interface DlqTopicSummary {
  topic: string
  partitions: number
  /** `name`: the name matches a DLQ pattern; `content`: its records carry dead-letter headers. */
  detectedBy: 'name' | 'content'
  /** Sum over partitions of high − low watermark (approximate: transaction markers count). */
  records: number
  /** Epoch ms of the oldest / newest record seen (first records of each partition, and the scan); null when empty. */
  oldestTimestamp: number | null
  newestTimestamp: number | null
  /** `now − timestamp`, ms; null when empty. */
  oldestAgeMs: number | null
  newestAgeMs: number | null
  /** Records read by the bounded scan (the last ≤ scanLimit of the topic), and whether that was all of them. */
  scanned: number
  complete: boolean
  /** Within the scan: records with dead-letter headers. */
  withFailureHeaders: number
  /** Within the scan, most frequent first; `exception: null` = records without an exception class. */
  topErrors: Array<{ exception: string | null; count: number }>
  /** Within the scan: where the records came from (records that name their original topic). */
  originalTopics: Array<{ topic: string; count: number }>
  frameworks: Array<{ framework: DlqFramework; count: number }>
}

/** What `dlq list` found (the `--json` contract). */
export interface DlqListResult {
  dlqs: DlqTopicSummary[]
  /** Topics looked at (by name), and of those, sampled by content. */
  topicsConsidered: number
  topicsSampled: number
  sampleSize: number
  scanLimit: number
}

const TO_END: PositionRange = { from: { kind: 'start' }, to: { kind: 'end' } }

interface Tally {
  scanned: number
  withHeaders: number
  oldest: number | null
  newest: number | null
  errors: Map<string | null, number>
  origins: Map<string, number>
  frameworks: Map<DlqFramework, number>
}

function top<K>(counts: Map<K, number>, n: number): Array<[K, number]> {
  return [...counts].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).slice(0, n)
}

function bump<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

async function each(reader: KafkaReader, plans: PartitionPlan[], options: DlqListOptions, fn: (record: RawRecord) => void): Promise<void> {
  if (!plans.some((p) => p.end === undefined || p.start < p.end)) return
  for await (const chunk of reader.read(plans, { signal: options.signal, onWarning: options.onWarning })) for (const r of chunk.records) fn(r)
}

/**
 * Finds the DLQ topics and summarises them, sorted by name.
 * @throws EvtError connect (3), not-found (4: a named topic does not exist).
 */
export async function listDlqTopics(session: KafkaSession, options: DlqListOptions = {}): Promise<DlqListResult> {
  const patterns = [...DEFAULT_DLQ_TOPIC_PATTERNS, ...(options.patterns ?? [])]
  const sampleSize = options.sampleSize ?? 100
  const scanLimit = options.scanLimit ?? 10_000
  const now = options.now ?? Date.now()
  const reader = await session.reader(options.isolation ?? 'read_committed')
  // evt's requeue ledgers (<dlq>.evt-requeued) are never DLQs, whatever their names look like
  const candidates = selectTopics(await reader.topicNames(), options.topics).filter((t) => !isRequeueLedgerTopic(t))
  const byName = candidates.filter((t) => isDlqTopic(t, patterns))
  const others = candidates.filter((t) => !isDlqTopic(t, patterns))

  const sample = new Map<string, { seen: number; dlq: number }>()
  const samplePlans = others.length && sampleSize > 0 ? lastRecords(await reader.plan(others, TO_END), sampleSize) : []
  await each(reader, samplePlans, options, (r) => {
    const s = sample.get(r.topic) ?? { seen: 0, dlq: 0 }
    s.seen++
    if (hasDlqHeaders(r.headers)) s.dlq++
    sample.set(r.topic, s)
  })
  const byContent = others.filter((t) => {
    const s = sample.get(t)
    return s !== undefined && s.dlq > 0 && s.dlq * 2 >= s.seen
  })

  const dlqs = [...byName, ...byContent].sort()
  const summaries: DlqTopicSummary[] = []
  if (dlqs.length) {
    const plans = await reader.plan(dlqs, TO_END)
    const scan = lastRecords(plans, scanLimit)
    const tallies = new Map<string, Tally>(dlqs.map((t) => [t, { scanned: 0, withHeaders: 0, oldest: null, newest: null, errors: new Map(), origins: new Map(), frameworks: new Map() }]))
    const seenAt = (t: Tally, ts: number) => {
      t.oldest = t.oldest === null ? ts : Math.min(t.oldest, ts)
      t.newest = t.newest === null ? ts : Math.max(t.newest, ts)
    }
    await each(reader, headRecords(plans, scan), options, (r) => seenAt(tallies.get(r.topic)!, r.timestamp))
    await each(reader, scan, options, (r) => {
      const t = tallies.get(r.topic)!
      t.scanned++
      seenAt(t, r.timestamp)
      const f = parseFailure(r.headers)
      if (f.framework !== 'unknown') t.withHeaders++
      bump(t.frameworks, f.framework)
      bump(t.errors, f.exception ?? null)
      if (f.originalTopic !== undefined) bump(t.origins, f.originalTopic)
    })
    const n = options.top ?? 5
    for (const topic of dlqs) {
      const t = tallies.get(topic)!
      const ps = plans.filter((p) => p.topic === topic)
      const records = ps.reduce((sum, p) => sum + (p.high - p.low), 0)
      summaries.push({
        topic,
        partitions: ps.length,
        detectedBy: byName.includes(topic) ? 'name' : 'content',
        records,
        oldestTimestamp: t.oldest,
        newestTimestamp: t.newest,
        oldestAgeMs: t.oldest === null ? null : Math.max(0, now - t.oldest),
        newestAgeMs: t.newest === null ? null : Math.max(0, now - t.newest),
        scanned: t.scanned,
        complete: scan.filter((p) => p.topic === topic).every((p) => p.start <= p.low),
        withFailureHeaders: t.withHeaders,
        topErrors: top(t.errors, n).map(([exception, count]) => ({ exception, count })),
        originalTopics: top(t.origins, n).map(([topic, count]) => ({ topic, count })),
        frameworks: top(t.frameworks, 8).map(([framework, count]) => ({ framework, count })),
      })
    }
  }
  return { dlqs: summaries, topicsConsidered: candidates.length, topicsSampled: others.length, sampleSize, scanLimit }
}

/**
 * The extra DLQ name patterns of `dlq list --pattern` as regular expressions.
 * @throws EvtError usage (exit 2) naming the first that does not compile.
 */
export function parseDlqPatterns(patterns: string[]): RegExp[] {
  return patterns.map((p) => {
    try {
      return new RegExp(p)
    } catch (err) {
      throw usageError(`--pattern: "${p}" is not a regular expression: ${(err as Error).message}`, 'e.g. --pattern "-failed$"')
    }
  })
}
