/**
 * `evt topics`: topics with partitions, replication and retained offsets (an upper bound on record counts).
 */
import { EvtError } from '../errors.ts'
import { isRequeueLedgerTopic } from '../kafka/internal-topics.ts'
import type { KafkaSession } from '../kafka/session.ts'
import { mapWithConcurrency } from '../util/concurrency.ts'

/** One topic as `evt topics` reports it (the `--json` contract: an array of these). */
export interface TopicSummary {
  name: string
  partitions: number
  /** Replicas of the first partition (topics normally have one replication factor). */
  replicationFactor: number
  /** Kafka's own (name starts with `__`: __consumer_offsets, __transaction_state, …) or evt's requeue ledger of a DLQ (`<dlq>.evt-requeued`). */
  internal: boolean
  /**
   * Sum over partitions of high watermark − low watermark: the offsets the topic retains, an upper bound on
   * its records (transaction markers, aborted records and compacted-away records are offsets, not records).
   * Counting records exactly would read the whole topic.
   */
  offsets: number
  /** The same number as `offsets`, under its former name (kept for scripts that read it). */
  approxRecords: number
}

/** Kafka's own topics (`__*`) and evt's requeue ledgers (`<dlq>.evt-requeued`): hidden unless `--all`. */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('__') || isRequeueLedgerTopic(name)
}

/**
 * Lists topics, sorted by name; internal ones only when `all`. A topic deleted while it is listed is left out.
 * @throws EvtError connect/auth (3) when the cluster cannot be reached.
 */
export async function listTopics(session: KafkaSession, options: { all?: boolean } = {}): Promise<TopicSummary[]> {
  const admin = await session.admin()
  const topics = await admin.topicMetadata()
  const wanted = topics.filter((t) => options.all || !isInternalTopic(t.name)).sort((a, b) => a.name.localeCompare(b.name))
  const listed = await mapWithConcurrency(wanted, 8, async (t): Promise<TopicSummary | null> => {
    let offsets: Array<{ low: number; high: number }>
    try {
      offsets = await admin.watermarks(t.name)
    } catch (err) {
      // deleted between the metadata and this request: no longer a topic to list
      if (err instanceof EvtError && err.kind === 'not-found') return null
      throw err
    }
    const total = offsets.reduce((sum, o) => sum + (o.high - o.low), 0)
    return {
      name: t.name,
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      internal: isInternalTopic(t.name),
      offsets: total,
      approxRecords: total,
    }
  })
  return listed.filter((t): t is TopicSummary => t !== null)
}
